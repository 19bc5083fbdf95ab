/* vocab.h - tokenizers: text <-> token ids, and display escaping.
 *
 * A "char" vocabulary has one token per Unicode code point (UTF-8 encoded);
 * a "word" vocabulary has words, single punctuation marks and a newline token
 * "\n", with "<unk>" standing for words it does not know (when present).
 */
#ifndef TEMPEST_VOCAB_H
#define TEMPEST_VOCAB_H

#include <stddef.h>

#include "tempest/error.h"

typedef enum tp_tokenizer { TP_TOK_CHAR, TP_TOK_WORD } tp_tokenizer;

typedef struct tp_vocab tp_vocab;

/* Longest token accepted in a vocabulary, in bytes. */
#define TP_VOCAB_MAX_TOKEN 256
/* Largest vocabulary accepted. */
#define TP_VOCAB_MAX_SIZE (1 << 20)

/* Parse "char" or "word". */
tp_status tp_tokenizer_parse(const char *name, tp_tokenizer *out, tp_error *err);
const char *tp_tokenizer_name(tp_tokenizer kind);

/* Build from a JSON list of strings (len bytes, need not be NUL-terminated). */
tp_status tp_vocab_from_json(tp_vocab **out, tp_tokenizer kind, const char *json,
                             size_t len, tp_error *err);
/* Build from an array of NUL-terminated UTF-8 strings. */
tp_status tp_vocab_create(tp_vocab **out, tp_tokenizer kind, const char *const *tokens,
                          int n, tp_error *err);
void tp_vocab_free(tp_vocab *v);

int tp_vocab_size(const tp_vocab *v);
tp_tokenizer tp_vocab_kind(const tp_vocab *v);
const char *tp_vocab_token(const tp_vocab *v, int id);
/* Id of the token with these bytes, or -1. */
int tp_vocab_find(const tp_vocab *v, const char *tok, size_t len);

/* Split text into token ids (*ids is malloc'd; may be NULL when *n is 0).
 * Characters or words outside the vocabulary are an error naming them. */
tp_status tp_vocab_encode(const tp_vocab *v, const char *text, int **ids, int *n,
                          tp_error *err);

/* The word tokenizer's next piece in text at *pos: blanks before it are
 * skipped (*pos moves to its start); returns its length, 0 at the end. */
size_t tp_word_piece(const char *text, size_t *pos);

/* What to print between token prev (or -1 at the start) and token id when
 * turning ids back into text: "" for char models, a space or "" for words. */
const char *tp_vocab_separator(const tp_vocab *v, int prev, int id);

/* The text of ids[0..n) as it follows token prev (-1 at the start):
 * separators included. Returns a malloc'd string, or NULL when out of memory. */
char *tp_vocab_join(const tp_vocab *v, int prev, const int *ids, int n);

/* Write a visible form of tok into out (always NUL-terminated when cap > 0):
 * space as "␣", newline "⏎", tab "⇥", other control bytes and invalid UTF-8
 * as \xNN. With ascii set, the three symbols become "_", "\n" and "\t".
 * Returns the length written. */
size_t tp_vocab_escape(const char *tok, int ascii, char *out, size_t cap);

/* Length in bytes of the UTF-8 sequence starting at s, or 0 if invalid. */
int tp_utf8_len(const unsigned char *s, size_t avail, unsigned *codepoint);

#endif
