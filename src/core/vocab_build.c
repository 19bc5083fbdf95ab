/* vocab_build.c - vocabularies built from a training text: the char-rnn
 * vocabulary sorted(set(text)), and a word vocabulary of the most frequent
 * pieces as the word tokenizer splits them (tp_word_piece). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "tempest/train.h"

#define N_CODEPOINTS 0x110000

tp_status tp_vocab_build_char(tp_vocab **out, const char *text, size_t len, tp_error *err)
{
    uint8_t *seen = calloc(N_CODEPOINTS / 8, 1);
    if (!seen)
        return tp_fail(err, TP_ERR_NOMEM, "out of memory building the vocabulary");
    int n = 0;
    for (size_t pos = 0; pos < len;) {
        unsigned cp;
        int k = tp_utf8_len((const unsigned char *)text + pos, len - pos, &cp);
        if (k == 0 || cp == 0) {
            free(seen);
            return tp_fail(err, TP_ERR_FORMAT, "the text is not valid UTF-8 at byte %zu", pos);
        }
        if (!(seen[cp / 8] & (1u << (cp % 8))))
            n++;
        seen[cp / 8] |= (uint8_t)(1u << (cp % 8));
        pos += (size_t)k;
    }
    char(*bytes)[5] = calloc(n ? (size_t)n : 1, sizeof *bytes);
    const char **tokens = calloc(n ? (size_t)n : 1, sizeof *tokens);
    tp_status rc = bytes && tokens ? TP_OK : tp_fail(err, TP_ERR_NOMEM, "out of memory");
    int i = 0;
    for (unsigned cp = 0; !rc && cp < N_CODEPOINTS; cp++) {
        if (!(seen[cp / 8] & (1u << (cp % 8))))
            continue;
        char *b = bytes[i];
        if (cp < 0x80) {
            b[0] = (char)cp;
        } else if (cp < 0x800) {
            b[0] = (char)(0xc0 | (cp >> 6));
            b[1] = (char)(0x80 | (cp & 0x3f));
        } else if (cp < 0x10000) {
            b[0] = (char)(0xe0 | (cp >> 12));
            b[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
            b[2] = (char)(0x80 | (cp & 0x3f));
        } else {
            b[0] = (char)(0xf0 | (cp >> 18));
            b[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
            b[2] = (char)(0x80 | ((cp >> 6) & 0x3f));
            b[3] = (char)(0x80 | (cp & 0x3f));
        }
        tokens[i] = bytes[i];
        i++;
    }
    if (!rc && n == 0)
        rc = tp_fail(err, TP_ERR_FORMAT, "the text is empty");
    if (!rc)
        rc = tp_vocab_create(out, TP_TOK_CHAR, tokens, n, err);
    free(seen);
    free(bytes);
    free(tokens);
    return rc;
}

/* ---- words ------------------------------------------------------------ */

typedef struct piece {
    const char *s;
    size_t len;
    long count;
} piece;

typedef struct piece_table {
    piece *slots;
    size_t cap, n;
} piece_table;

static uint64_t hash_piece(const char *s, size_t len)
{
    uint64_t h = 1469598103934665603ULL;
    for (size_t i = 0; i < len; i++)
        h = (h ^ (unsigned char)s[i]) * 1099511628211ULL;
    return h;
}

static piece *slot_of(piece *slots, size_t cap, const char *s, size_t len)
{
    size_t i = hash_piece(s, len) & (cap - 1);
    while (slots[i].s && !(slots[i].len == len && memcmp(slots[i].s, s, len) == 0))
        i = (i + 1) & (cap - 1);
    return &slots[i];
}

static int grow(piece_table *t)
{
    size_t cap = t->cap ? t->cap * 2 : 4096;
    piece *slots = calloc(cap, sizeof *slots);
    if (!slots)
        return 0;
    for (size_t i = 0; i < t->cap; i++)
        if (t->slots[i].s)
            *slot_of(slots, cap, t->slots[i].s, t->slots[i].len) = t->slots[i];
    free(t->slots);
    t->slots = slots;
    t->cap = cap;
    return 1;
}

static int count_piece(piece_table *t, const char *s, size_t len)
{
    if (2 * (t->n + 1) > t->cap && !grow(t))
        return 0;
    piece *p = slot_of(t->slots, t->cap, s, len);
    if (!p->s) {
        p->s = s;
        p->len = len;
        t->n++;
    }
    p->count++;
    return 1;
}

static int is_reserved(const piece *p)
{
    return (p->len == 1 && p->s[0] == '\n') || (p->len == 5 && memcmp(p->s, "<unk>", 5) == 0);
}

/* Most frequent first; ties in byte order, so the result is deterministic. */
static int by_count(const void *a, const void *b)
{
    const piece *x = a, *y = b;
    if (x->count != y->count)
        return x->count > y->count ? -1 : 1;
    size_t n = x->len < y->len ? x->len : y->len;
    int c = memcmp(x->s, y->s, n);
    return c ? c : (x->len > y->len) - (x->len < y->len);
}

static tp_status make_word_vocab(tp_vocab **out, piece *pieces, size_t n, int limit,
                                 tp_error *err)
{
    size_t keep = 2;
    for (size_t i = 0; i < n && keep < (size_t)limit; i++)
        if (!is_reserved(&pieces[i]) && pieces[i].len <= TP_VOCAB_MAX_TOKEN) {
            pieces[keep - 2] = pieces[i]; /* compacted in place: keep - 2 <= i */
            keep++;
        }
    char **tokens = calloc(keep, sizeof *tokens);
    if (!tokens)
        return tp_fail(err, TP_ERR_NOMEM, "out of memory building the vocabulary");
    tp_status rc = TP_OK;
    tokens[0] = strdup("\n");
    tokens[1] = strdup("<unk>");
    for (size_t i = 2; i < keep; i++) {
        tokens[i] = malloc(pieces[i - 2].len + 1);
        if (tokens[i]) {
            memcpy(tokens[i], pieces[i - 2].s, pieces[i - 2].len);
            tokens[i][pieces[i - 2].len] = '\0';
        }
    }
    for (size_t i = 0; i < keep && !rc; i++)
        if (!tokens[i])
            rc = tp_fail(err, TP_ERR_NOMEM, "out of memory building the vocabulary");
    if (!rc)
        rc = tp_vocab_create(out, TP_TOK_WORD, (const char *const *)tokens, (int)keep, err);
    for (size_t i = 0; i < keep; i++)
        free(tokens[i]);
    free(tokens);
    return rc;
}

tp_status tp_vocab_build_word(tp_vocab **out, const char *text, int limit, tp_error *err)
{
    if (limit < 3)
        return tp_fail(err, TP_ERR_USAGE, "--vocab-limit %d is below 3", limit);
    piece_table t = {0};
    size_t pos = 0, len;
    while ((len = tp_word_piece(text, &pos)) > 0) {
        if (!count_piece(&t, text + pos, len)) {
            free(t.slots);
            return tp_fail(err, TP_ERR_NOMEM, "out of memory counting words");
        }
        pos += len;
    }
    size_t n = 0;
    for (size_t i = 0; i < t.cap; i++)
        if (t.slots[i].s)
            t.slots[n++] = t.slots[i];
    qsort(t.slots, n, sizeof *t.slots, by_count);
    tp_status rc = make_word_vocab(out, t.slots, n, limit, err);
    free(t.slots);
    return rc;
}
