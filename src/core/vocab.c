/* vocab.c - char and word tokenizers over an open-addressing hash table. */
#include "tempest/vocab.h"

#include <cjson/cJSON.h>
#include <ctype.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

struct tp_vocab {
    tp_tokenizer kind;
    int n;
    char **tokens;
    size_t *lens;
    int *table; /* ids, -1 empty; size is a power of two >= 2n */
    size_t table_mask;
    int unk; /* id of "<unk>" or -1 */
};

static uint64_t hash_bytes(const char *s, size_t len)
{
    uint64_t h = 1469598103934665603ULL;
    for (size_t i = 0; i < len; i++)
        h = (h ^ (unsigned char)s[i]) * 1099511628211ULL;
    return h;
}

int tp_utf8_len(const unsigned char *s, size_t avail, unsigned *codepoint)
{
    if (avail == 0)
        return 0;
    unsigned c = s[0];
    int len;
    unsigned cp, min;
    if (c < 0x80) {
        *codepoint = c;
        return 1;
    } else if ((c & 0xe0) == 0xc0) {
        len = 2, cp = c & 0x1f, min = 0x80;
    } else if ((c & 0xf0) == 0xe0) {
        len = 3, cp = c & 0x0f, min = 0x800;
    } else if ((c & 0xf8) == 0xf0) {
        len = 4, cp = c & 0x07, min = 0x10000;
    } else {
        return 0;
    }
    if ((size_t)len > avail)
        return 0;
    for (int i = 1; i < len; i++) {
        if ((s[i] & 0xc0) != 0x80)
            return 0;
        cp = (cp << 6) | (s[i] & 0x3f);
    }
    if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
        return 0;
    *codepoint = cp;
    return len;
}

tp_status tp_tokenizer_parse(const char *name, tp_tokenizer *out, tp_error *err)
{
    if (strcmp(name, "char") == 0)
        *out = TP_TOK_CHAR;
    else if (strcmp(name, "word") == 0)
        *out = TP_TOK_WORD;
    else
        return tp_fail(err, TP_ERR_FORMAT, "unknown tokenizer '%.40s' (expected char or "
                       "word)", name);
    return TP_OK;
}

const char *tp_tokenizer_name(tp_tokenizer kind)
{
    return kind == TP_TOK_WORD ? "word" : "char";
}

static tp_status check_token(tp_tokenizer kind, const char *tok, int id, tp_error *err)
{
    size_t len = strlen(tok);
    if (len == 0 || len > TP_VOCAB_MAX_TOKEN)
        return tp_fail(err, TP_ERR_FORMAT, "vocab entry %d is empty or longer than %d "
                       "bytes", id, TP_VOCAB_MAX_TOKEN);
    unsigned cp;
    size_t pos = 0;
    int chars = 0;
    while (pos < len) {
        int n = tp_utf8_len((const unsigned char *)tok + pos, len - pos, &cp);
        if (!n)
            return tp_fail(err, TP_ERR_FORMAT, "vocab entry %d is not valid UTF-8", id);
        pos += (size_t)n;
        chars++;
    }
    if (kind == TP_TOK_CHAR && chars != 1)
        return tp_fail(err, TP_ERR_FORMAT, "vocab entry %d has %d characters; a char "
                       "vocabulary needs exactly one per entry", id, chars);
    return TP_OK;
}

static tp_status insert(tp_vocab *v, int id, tp_error *err)
{
    size_t slot = hash_bytes(v->tokens[id], v->lens[id]) & v->table_mask;
    while (v->table[slot] >= 0) {
        int other = v->table[slot];
        if (v->lens[other] == v->lens[id] &&
            memcmp(v->tokens[other], v->tokens[id], v->lens[id]) == 0) {
            char shown[64];
            tp_vocab_escape(v->tokens[id], 0, shown, sizeof shown);
            return tp_fail(err, TP_ERR_FORMAT, "vocab entries %d and %d are both '%s'",
                           other, id, shown);
        }
        slot = (slot + 1) & v->table_mask;
    }
    v->table[slot] = id;
    return TP_OK;
}

static tp_status fill(tp_vocab *v, const char *const *tokens, tp_error *err)
{
    for (int i = 0; i < v->n; i++) {
        tp_status rc = check_token(v->kind, tokens[i], i, err);
        if (rc)
            return rc;
        v->tokens[i] = strdup(tokens[i]);
        if (!v->tokens[i])
            return tp_fail(err, TP_ERR_NOMEM, "out of memory for the vocabulary");
        v->lens[i] = strlen(tokens[i]);
        if ((rc = insert(v, i, err)))
            return rc;
    }
    v->unk = tp_vocab_find(v, "<unk>", 5);
    return TP_OK;
}

tp_status tp_vocab_create(tp_vocab **out, tp_tokenizer kind, const char *const *tokens,
                          int n, tp_error *err)
{
    *out = NULL;
    if (n < 1 || n > TP_VOCAB_MAX_SIZE)
        return tp_fail(err, TP_ERR_FORMAT, "vocabulary of %d tokens (must be 1 to %d)", n,
                       TP_VOCAB_MAX_SIZE);
    size_t cap = 16;
    while (cap < 2 * (size_t)n)
        cap *= 2;
    tp_vocab *v = calloc(1, sizeof *v);
    if (!v)
        return tp_fail(err, TP_ERR_NOMEM, "out of memory for the vocabulary");
    v->kind = kind;
    v->n = n;
    v->tokens = calloc((size_t)n, sizeof *v->tokens);
    v->lens = calloc((size_t)n, sizeof *v->lens);
    v->table = malloc(cap * sizeof *v->table);
    v->table_mask = cap - 1;
    tp_status rc = TP_OK;
    if (!v->tokens || !v->lens || !v->table)
        rc = tp_fail(err, TP_ERR_NOMEM, "out of memory for the vocabulary");
    else {
        memset(v->table, 0xff, cap * sizeof *v->table);
        rc = fill(v, tokens, err);
    }
    if (rc) {
        tp_vocab_free(v);
        return rc;
    }
    *out = v;
    return TP_OK;
}

tp_status tp_vocab_from_json(tp_vocab **out, tp_tokenizer kind, const char *json,
                             size_t len, tp_error *err)
{
    *out = NULL;
    cJSON *root = cJSON_ParseWithLength(json, len);
    if (!cJSON_IsArray(root)) {
        cJSON_Delete(root);
        return tp_fail(err, TP_ERR_FORMAT, "vocab is not a JSON list of strings");
    }
    int n = cJSON_GetArraySize(root);
    const char **tokens = calloc((size_t)n + 1, sizeof *tokens);
    tp_status rc = tokens ? TP_OK : tp_fail(err, TP_ERR_NOMEM, "out of memory for vocab");
    int i = 0;
    for (const cJSON *it = root->child; it && !rc; it = it->next, i++) {
        if (!cJSON_IsString(it))
            rc = tp_fail(err, TP_ERR_FORMAT, "vocab entry %d is not a string", i);
        else
            tokens[i] = it->valuestring;
    }
    if (!rc)
        rc = tp_vocab_create(out, kind, tokens, n, err);
    free(tokens);
    cJSON_Delete(root);
    return rc;
}

void tp_vocab_free(tp_vocab *v)
{
    if (!v)
        return;
    if (v->tokens)
        for (int i = 0; i < v->n; i++)
            free(v->tokens[i]);
    free(v->tokens);
    free(v->lens);
    free(v->table);
    free(v);
}

int tp_vocab_size(const tp_vocab *v) { return v->n; }
tp_tokenizer tp_vocab_kind(const tp_vocab *v) { return v->kind; }

const char *tp_vocab_token(const tp_vocab *v, int id)
{
    return id >= 0 && id < v->n ? v->tokens[id] : "";
}

int tp_vocab_find(const tp_vocab *v, const char *tok, size_t len)
{
    size_t slot = hash_bytes(tok, len) & v->table_mask;
    while (v->table[slot] >= 0) {
        int id = v->table[slot];
        if (v->lens[id] == len && memcmp(v->tokens[id], tok, len) == 0)
            return id;
        slot = (slot + 1) & v->table_mask;
    }
    return -1;
}

/* A growable id list plus a note of the first few unknown pieces. */
struct encoder {
    int *ids;
    int n, cap;
    char unknown[200];
    int n_unknown;
};

static int push(struct encoder *e, int id)
{
    if (e->n == e->cap) {
        int cap = e->cap ? e->cap * 2 : 64;
        int *ids = realloc(e->ids, (size_t)cap * sizeof *ids);
        if (!ids)
            return 0;
        e->ids = ids;
        e->cap = cap;
    }
    e->ids[e->n++] = id;
    return 1;
}

static void note_unknown(struct encoder *e, const char *piece, size_t len, unsigned cp,
                         int is_char)
{
    if (e->n_unknown++ >= 4)
        return;
    char shown[80], tmp[TP_VOCAB_MAX_TOKEN + 1];
    len = len > TP_VOCAB_MAX_TOKEN ? TP_VOCAB_MAX_TOKEN : len;
    memcpy(tmp, piece, len);
    tmp[len] = '\0';
    tp_vocab_escape(tmp, 0, shown, 40);
    size_t used = strlen(e->unknown);
    if (is_char)
        snprintf(e->unknown + used, sizeof e->unknown - used, "%s'%s' (U+%04X)",
                 used ? ", " : "", shown, cp);
    else
        snprintf(e->unknown + used, sizeof e->unknown - used, "%s'%s'", used ? ", " : "",
                 shown);
}

static int encode_char(const tp_vocab *v, const char *text, struct encoder *e,
                       tp_error *err)
{
    size_t len = strlen(text), pos = 0;
    while (pos < len) {
        unsigned cp;
        int n = tp_utf8_len((const unsigned char *)text + pos, len - pos, &cp);
        if (!n)
            return tp_fail(err, TP_ERR_USAGE, "text is not valid UTF-8 at byte %zu", pos);
        int id = tp_vocab_find(v, text + pos, (size_t)n);
        if (id < 0)
            note_unknown(e, text + pos, (size_t)n, cp, 1);
        else if (!push(e, id))
            return tp_fail(err, TP_ERR_NOMEM, "out of memory encoding text");
        pos += (size_t)n;
    }
    return TP_OK;
}

static int is_word_byte(unsigned char c)
{
    return isalnum(c) || c == '\'' || c >= 0x80;
}

/* The next word-tokenizer piece at text[pos]: a newline, a run of word bytes
 * or one punctuation byte. Spaces and other blanks are skipped. */
size_t tp_word_piece(const char *text, size_t *pos)
{
    while (text[*pos] && text[*pos] != '\n' && isspace((unsigned char)text[*pos]))
        (*pos)++;
    size_t start = *pos;
    if (!text[start])
        return 0;
    if (!is_word_byte((unsigned char)text[start]))
        return 1;
    size_t end = start;
    while (text[end] && is_word_byte((unsigned char)text[end]))
        end++;
    return end - start;
}

static int encode_word(const tp_vocab *v, const char *text, struct encoder *e,
                       tp_error *err)
{
    size_t pos = 0, n;
    while ((n = tp_word_piece(text, &pos)) > 0) {
        int id = tp_vocab_find(v, text + pos, n);
        if (id < 0)
            id = v->unk;
        if (id < 0)
            note_unknown(e, text + pos, n, 0, 0);
        else if (!push(e, id))
            return tp_fail(err, TP_ERR_NOMEM, "out of memory encoding text");
        pos += n;
    }
    return TP_OK;
}

tp_status tp_vocab_encode(const tp_vocab *v, const char *text, int **ids, int *n,
                          tp_error *err)
{
    struct encoder e = {0};
    tp_status rc = v->kind == TP_TOK_CHAR ? encode_char(v, text, &e, err)
                                          : encode_word(v, text, &e, err);
    if (!rc && e.n_unknown)
        rc = tp_fail(err, TP_ERR_USAGE, "%d %s not in the model's vocabulary: %s%s",
                     e.n_unknown, v->kind == TP_TOK_CHAR ? "character(s)" : "word(s)",
                     e.unknown, e.n_unknown > 4 ? ", ..." : "");
    if (rc) {
        free(e.ids);
        *ids = NULL;
        *n = 0;
        return rc;
    }
    *ids = e.ids;
    *n = e.n;
    return TP_OK;
}

/* Contractions split off their word, as PTB/WikiText-style corpora (and the
 * word_language_model example's data) write them: "do n't", "it 's". They
 * join the word before; "'tis" and other apostrophe-first words do not. */
static int is_clitic(const char *tok)
{
    static const char *const clitics[] = {"'s", "'re", "'ve", "'ll", "'d", "'m", "'t", "n't"};
    for (size_t i = 0; i < sizeof clitics / sizeof clitics[0]; i++)
        if (strcasecmp(tok, clitics[i]) == 0)
            return 1;
    return 0;
}

static int is_one_of(const char *tok, const char *const *set, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(tok, set[i]) == 0)
            return 1;
    return 0;
}

/* Closing marks hug the word before them. A lone "'" is taken as closing
 * (after a word it usually is: a quotation's end, a plural possessive). */
static int no_space_before(const char *tok)
{
    static const char *const closers[] = {"\xe2\x80\x9d", "\xe2\x80\x99", "\xc2\xbb",
                                          "\xe2\x80\xa6"}; /* ” ’ » … */
    if (tok[0] && tok[1] == '\0' && strchr(",.;:!?')]}%\n-", tok[0]))
        return 1;
    return is_clitic(tok) || is_one_of(tok, closers, sizeof closers / sizeof closers[0]);
}

/* Opening marks hug the word after them; so does a newline (no space at the
 * start of a line) and a hyphen, which joins compounds ("to - morrow") and
 * dashes ("- -") as the text had them. */
static int no_space_after(const char *tok)
{
    /* newline, then “ ‘ « ¿ ¡ */
    static const char *const openers[] = {"\n", "\xe2\x80\x9c", "\xe2\x80\x98",
                                          "\xc2\xab", "\xc2\xbf", "\xc2\xa1"};
    if (tok[0] && tok[1] == '\0' && strchr("([{-$#", tok[0]))
        return 1;
    return is_one_of(tok, openers, sizeof openers / sizeof openers[0]);
}

const char *tp_vocab_separator(const tp_vocab *v, int prev, int id)
{
    if (v->kind == TP_TOK_CHAR || prev < 0)
        return "";
    const char *p = tp_vocab_token(v, prev), *t = tp_vocab_token(v, id);
    return no_space_after(p) || no_space_before(t) ? "" : " ";
}

size_t tp_vocab_escape(const char *tok, int ascii, char *out, size_t cap)
{
    if (cap == 0)
        return 0;
    size_t len = strlen(tok), pos = 0, w = 0;
    while (pos < len) {
        char buf[8];
        unsigned cp;
        int n = tp_utf8_len((const unsigned char *)tok + pos, len - pos, &cp);
        if (n == 0) {
            snprintf(buf, sizeof buf, "\\x%02X", (unsigned char)tok[pos]);
            n = 1;
        } else if (cp == ' ') {
            snprintf(buf, sizeof buf, "%s", ascii ? "_" : "\xe2\x90\xa3");
        } else if (cp == '\n') {
            snprintf(buf, sizeof buf, "%s", ascii ? "\\n" : "\xe2\x8f\x8e");
        } else if (cp == '\t') {
            snprintf(buf, sizeof buf, "%s", ascii ? "\\t" : "\xe2\x87\xa5");
        } else if (cp < 0x20 || cp == 0x7f || (cp >= 0x80 && cp < 0xa0)) {
            snprintf(buf, sizeof buf, "\\x%02X", cp);
        } else {
            memcpy(buf, tok + pos, (size_t)n);
            buf[n] = '\0';
        }
        size_t bl = strlen(buf);
        if (w + bl + 1 > cap)
            break;
        memcpy(out + w, buf, bl);
        w += bl;
        pos += (size_t)n;
    }
    out[w] = '\0';
    return w;
}

char *tp_vocab_join(const tp_vocab *v, int prev, const int *ids, int n)
{
    size_t len = 1;
    for (int i = 0; i < n; i++)
        len += v->lens[ids[i]] + 1; /* a separator is at most one space */
    char *out = malloc(len), *w = out;
    if (!out)
        return NULL;
    for (int i = 0; i < n; i++) {
        const char *sep = tp_vocab_separator(v, i ? ids[i - 1] : prev, ids[i]);
        size_t sl = strlen(sep);
        memcpy(w, sep, sl);
        memcpy(w + sl, v->tokens[ids[i]], v->lens[ids[i]]);
        w += sl + v->lens[ids[i]];
    }
    *w = '\0';
    return out;
}
