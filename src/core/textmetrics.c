/* textmetrics.c - n-gram statistics over words and characters. */
#include "tempest/textmetrics.h"

#include <ctype.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "tempest/vocab.h"

/* A growable list of 64-bit item hashes (one per word or character). */
struct items {
    uint64_t *h;
    long n, cap;
};

/* An open-addressing multiset of 64-bit keys. Key 0 marks an empty slot, so
 * keys are forced odd-or-nonzero by mix(). */
struct counter {
    uint64_t *keys;
    uint32_t *counts;
    size_t mask, used;
};

struct tp_reference {
    struct counter words, grams4;
};

static uint64_t mix(uint64_t x)
{
    x ^= x >> 33;
    x *= 0xff51afd7ed558ccdULL;
    x ^= x >> 33;
    x *= 0xc4ceb9fe1a85ec53ULL;
    x ^= x >> 33;
    return x ? x : 1;
}

static int items_push(struct items *it, uint64_t h)
{
    if (it->n == it->cap) {
        long cap = it->cap ? it->cap * 2 : 1024;
        uint64_t *nh = realloc(it->h, (size_t)cap * sizeof *nh);
        if (!nh)
            return 0;
        it->h = nh;
        it->cap = cap;
    }
    it->h[it->n++] = h;
    return 1;
}

static int is_word_char(unsigned char c)
{
    return isalnum(c) || c == '\'' || c >= 0x80;
}

static int split_words(const char *text, struct items *out)
{
    const unsigned char *p = (const unsigned char *)text;
    while (*p) {
        if (!is_word_char(*p)) {
            p++;
            continue;
        }
        uint64_t h = 1469598103934665603ULL;
        while (*p && is_word_char(*p))
            h = (h ^ (uint64_t)tolower(*p++)) * 1099511628211ULL;
        if (!items_push(out, mix(h)))
            return 0;
    }
    return 1;
}

static int split_chars(const char *text, struct items *out)
{
    size_t len = strlen(text), pos = 0;
    while (pos < len) {
        unsigned cp;
        int n = tp_utf8_len((const unsigned char *)text + pos, len - pos, &cp);
        if (n == 0) {
            cp = 0x110000u + (unsigned char)text[pos]; /* distinct from any code point */
            n = 1;
        }
        if (!items_push(out, mix(cp)))
            return 0;
        pos += (size_t)n;
    }
    return 1;
}

static int counter_init(struct counter *c, size_t expected)
{
    size_t cap = 64;
    while (cap < expected * 2)
        cap *= 2;
    c->keys = calloc(cap, sizeof *c->keys);
    c->counts = calloc(cap, sizeof *c->counts);
    c->mask = cap - 1;
    c->used = 0;
    return c->keys && c->counts;
}

static void counter_free(struct counter *c)
{
    free(c->keys);
    free(c->counts);
    memset(c, 0, sizeof *c);
}

static size_t counter_slot(const struct counter *c, uint64_t key)
{
    size_t i = (size_t)key & c->mask;
    while (c->keys[i] && c->keys[i] != key)
        i = (i + 1) & c->mask;
    return i;
}

/* Sized up front by counter_init, so it never needs to grow. */
static void counter_add(struct counter *c, uint64_t key)
{
    size_t i = counter_slot(c, key);
    if (!c->keys[i]) {
        c->keys[i] = key;
        c->used++;
    }
    c->counts[i]++;
}

static uint32_t counter_get(const struct counter *c, uint64_t key)
{
    size_t i = counter_slot(c, key);
    return c->keys[i] ? c->counts[i] : 0;
}

static uint64_t gram_hash(const uint64_t *h, int n)
{
    uint64_t g = 0x9e3779b97f4a7c15ULL * (uint64_t)n;
    for (int i = 0; i < n; i++)
        g = mix(g * 31 + h[i]);
    return g;
}

/* Fill c with the n-grams of it; returns the number of n-grams. */
static long count_grams(const struct items *it, int n, struct counter *c)
{
    long total = it->n >= n ? it->n - n + 1 : 0;
    for (long i = 0; i < total; i++)
        counter_add(c, gram_hash(it->h + i, n));
    return total;
}

static int distinct(const struct items *it, int n, double *out)
{
    struct counter c;
    if (!counter_init(&c, (size_t)it->n + 1)) {
        counter_free(&c);
        return 0;
    }
    long total = count_grams(it, n, &c);
    *out = total ? (double)c.used / (double)total : 0.0;
    counter_free(&c);
    return 1;
}

static int repetition(const struct items *words, double *out)
{
    struct counter c;
    if (!counter_init(&c, (size_t)words->n + 1)) {
        counter_free(&c);
        return 0;
    }
    long total = count_grams(words, 4, &c), repeated = 0;
    for (long i = 0; i < total; i++)
        repeated += counter_get(&c, gram_hash(words->h + i, 4)) > 1;
    *out = total ? (double)repeated / (double)total : 0.0;
    counter_free(&c);
    return 1;
}

static void against_reference(const struct items *words, const tp_reference *ref,
                              tp_text_stats *out)
{
    long total = words->n >= 4 ? words->n - 3 : 0, novel = 0, valid = 0;
    for (long i = 0; i < total; i++)
        novel += counter_get(&ref->grams4, gram_hash(words->h + i, 4)) == 0;
    for (long i = 0; i < words->n; i++)
        valid += counter_get(&ref->words, gram_hash(words->h + i, 1)) > 0;
    out->novelty = total ? (double)novel / (double)total : 0.0;
    out->word_validity = words->n ? (double)valid / (double)words->n : 0.0;
}

tp_status tp_text_stats_compute(const char *text, const tp_reference *ref, tp_text_stats *out,
                                tp_error *err)
{
    struct items words = {0}, chars = {0};
    int ok = split_words(text, &words) && split_chars(text, &chars);
    memset(out, 0, sizeof *out);
    out->n_words = words.n;
    out->n_chars = chars.n;
    for (int n = 1; n <= 3 && ok; n++)
        ok = distinct(&words, n, &out->distinct_words[n - 1]) &&
             distinct(&chars, n, &out->distinct_chars[n - 1]);
    ok = ok && repetition(&words, &out->repetition);
    out->novelty = out->word_validity = NAN;
    if (ok && ref)
        against_reference(&words, ref, out);
    free(words.h);
    free(chars.h);
    return ok ? TP_OK : tp_fail(err, TP_ERR_NOMEM, "out of memory measuring a text");
}

tp_status tp_reference_build(tp_reference **out, const char *text, tp_error *err)
{
    *out = NULL;
    struct items words = {0};
    tp_reference *ref = calloc(1, sizeof *ref);
    int ok = ref && split_words(text, &words) &&
             counter_init(&ref->words, (size_t)words.n + 1) &&
             counter_init(&ref->grams4, (size_t)words.n + 1);
    if (ok) {
        count_grams(&words, 1, &ref->words);
        count_grams(&words, 4, &ref->grams4);
    }
    free(words.h);
    if (!ok) {
        tp_reference_free(ref);
        return tp_fail(err, TP_ERR_NOMEM, "out of memory indexing the reference text");
    }
    *out = ref;
    return TP_OK;
}

void tp_reference_free(tp_reference *ref)
{
    if (!ref)
        return;
    counter_free(&ref->words);
    counter_free(&ref->grams4);
    free(ref);
}
