/* helpers.h - shared by the unit tests: safetensors files built in memory,
 * tiny LSTM, GRU and RNN models with known weights and a plain reference
 * for each (PyTorch's equations, in double).
 *
 * Everything is static inline because each test file is its own
 * translation unit linked into one binary.
 */
#ifndef TEMPEST_TEST_HELPERS_H
#define TEMPEST_TEST_HELPERS_H

#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tempest/model.h"
#include "tempest/safetensors.h"

/* ---- a growable string -------------------------------------------------- */

typedef struct th_str {
    char *s;
    size_t n, cap;
} th_str;

static inline void th_str_add(th_str *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int need = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (b->n + (size_t)need + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 256;
        while (cap < b->n + (size_t)need + 1)
            cap *= 2;
        b->s = realloc(b->s, cap);
        b->cap = cap;
    }
    va_start(ap, fmt);
    vsnprintf(b->s + b->n, b->cap - b->n, fmt, ap);
    va_end(ap);
    b->n += (size_t)need;
}

/* Append s as a JSON string literal (quotes included). */
static inline void th_str_json(th_str *b, const char *s)
{
    th_str_add(b, "\"");
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (*p == '"' || *p == '\\')
            th_str_add(b, "\\%c", *p);
        else if (*p == '\n')
            th_str_add(b, "\\n");
        else if (*p == '\t')
            th_str_add(b, "\\t");
        else if (*p < 0x20)
            th_str_add(b, "\\u%04x", *p);
        else
            th_str_add(b, "%c", *p);
    }
    th_str_add(b, "\"");
}

/* ---- raw safetensors buffers -------------------------------------------- */

/* 8-byte little-endian header length, then header, then data. The header
 * length written is hlen_override when it is not UINT64_MAX. */
static inline uint8_t *th_st_raw(const char *header, size_t hlen, uint64_t hlen_override,
                                 const void *data, size_t dlen, size_t *size)
{
    uint64_t n = hlen_override != UINT64_MAX ? hlen_override : hlen;
    *size = 8 + hlen + dlen;
    uint8_t *buf = malloc(*size + 1);
    for (int i = 0; i < 8; i++)
        buf[i] = (uint8_t)(n >> (8 * i));
    memcpy(buf + 8, header, hlen);
    if (dlen)
        memcpy(buf + 8 + hlen, data, dlen);
    return buf;
}

/* The usual case: header text and data bytes. */
static inline uint8_t *th_st_make(const char *header, const void *data, size_t dlen,
                                  size_t *size)
{
    return th_st_raw(header, strlen(header), UINT64_MAX, data, dlen, size);
}

/* ---- F32 tensor files ---------------------------------------------------- */

#define TH_MAX_TENSORS 64

typedef struct th_tensor {
    char name[128];
    int ndim;
    int64_t shape[4];
    float *data;
    size_t count;
} th_tensor;

typedef struct th_file {
    th_tensor t[TH_MAX_TENSORS];
    int n;
    int has_meta;
    char *tokenizer;   /* NULL: not written */
    char *vocab;       /* the vocab metadata string (a JSON list as text); NULL: none */
    char *description; /* NULL: not written */
    char *nonlinearity; /* NULL: not written */
} th_file;

static inline void th_file_add(th_file *f, const char *name, int ndim, int64_t d0,
                               int64_t d1, const float *data)
{
    th_tensor *t = &f->t[f->n++];
    snprintf(t->name, sizeof t->name, "%s", name);
    t->ndim = ndim;
    t->shape[0] = d0;
    t->shape[1] = d1;
    t->count = (size_t)d0 * (size_t)(ndim == 2 ? d1 : 1);
    t->data = malloc((t->count ? t->count : 1) * sizeof(float));
    if (data)
        memcpy(t->data, data, t->count * sizeof(float));
    else
        for (size_t i = 0; i < t->count; i++)
            t->data[i] = 0.01f * (float)(i % 7);
}

static inline th_tensor *th_file_find(th_file *f, const char *name)
{
    for (int i = 0; i < f->n; i++)
        if (strcmp(f->t[i].name, name) == 0)
            return &f->t[i];
    return NULL;
}

/* Remove a tensor; returns 1 if it was there. */
static inline int th_file_remove(th_file *f, const char *name)
{
    for (int i = 0; i < f->n; i++)
        if (strcmp(f->t[i].name, name) == 0) {
            free(f->t[i].data);
            memmove(&f->t[i], &f->t[i + 1], (size_t)(f->n - i - 1) * sizeof f->t[0]);
            f->n--;
            return 1;
        }
    return 0;
}

static inline void th_file_rename(th_file *f, const char *from, const char *to)
{
    th_tensor *t = th_file_find(f, from);
    if (t)
        snprintf(t->name, sizeof t->name, "%s", to);
}

static inline void th_set(char **slot, const char *value)
{
    free(*slot);
    *slot = value ? strdup(value) : NULL;
}

static inline void th_file_free(th_file *f)
{
    for (int i = 0; i < f->n; i++)
        free(f->t[i].data);
    free(f->tokenizer);
    free(f->vocab);
    free(f->description);
    free(f->nonlinearity);
    memset(f, 0, sizeof *f);
}

/* Serialise as F32 safetensors; the caller frees the buffer. */
static inline uint8_t *th_file_bytes(const th_file *f, size_t *size)
{
    th_str h = {0};
    size_t off = 0;
    th_str_add(&h, "{");
    for (int i = 0; i < f->n; i++) {
        const th_tensor *t = &f->t[i];
        th_str_add(&h, "%s", i ? "," : "");
        th_str_json(&h, t->name);
        th_str_add(&h, ":{\"dtype\":\"F32\",\"shape\":[");
        for (int d = 0; d < t->ndim; d++)
            th_str_add(&h, "%s%lld", d ? "," : "", (long long)t->shape[d]);
        th_str_add(&h, "],\"data_offsets\":[%zu,%zu]}", off, off + 4 * t->count);
        off += 4 * t->count;
    }
    if (f->has_meta) {
        th_str_add(&h, "%s\"__metadata__\":{", f->n ? "," : "");
        int first = 1;
        const char *keys[4] = {"tokenizer", "vocab", "description", "nonlinearity"};
        const char *vals[4] = {f->tokenizer, f->vocab, f->description, f->nonlinearity};
        for (int k = 0; k < 4; k++) {
            if (!vals[k])
                continue;
            th_str_add(&h, "%s\"%s\":", first ? "" : ",", keys[k]);
            th_str_json(&h, vals[k]);
            first = 0;
        }
        th_str_add(&h, "}");
    }
    th_str_add(&h, "}");
    uint8_t *data = malloc(off ? off : 1);
    size_t pos = 0;
    for (int i = 0; i < f->n; i++) {
        memcpy(data + pos, f->t[i].data, 4 * f->t[i].count);
        pos += 4 * f->t[i].count;
    }
    uint8_t *buf = th_st_make(h.s, data, off, size);
    free(data);
    free(h.s);
    return buf;
}

/* ---- tiny LSTM models ---------------------------------------------------- */

/* The characters of the tiny models' vocabularies, in id order. */
#define TH_CHARS "\nab cdefghijklmnopqrstuvwxyz.,!?"

/* A tiny recurrent model; despite the name any cell kind (cell, from
 * th_cell_init; th_lstm_init makes an LSTM). */
typedef struct th_lstm {
    tp_cell cell;
    int V, E, H, L; /* E = 0: one-hot input */
    int biases;     /* bias_ih/bias_hh present */
    int head_bias;
    float *embed;   /* [V][E] */
    float *w_ih[TP_MAX_LAYERS], *w_hh[TP_MAX_LAYERS];
    float *b_ih[TP_MAX_LAYERS], *b_hh[TP_MAX_LAYERS];
    float *head_w, *head_b;
} th_lstm;

static inline float th_rand(uint64_t *x, float scale)
{
    *x = *x * 6364136223846793005ULL + 1442695040888963407ULL;
    double u = (double)(*x >> 11) * 0x1.0p-53;
    return (float)((2.0 * u - 1.0) * scale);
}

static inline float *th_rand_vec(size_t n, uint64_t *x, float scale)
{
    float *p = malloc((n ? n : 1) * sizeof *p);
    for (size_t i = 0; i < n; i++)
        p[i] = scale == 0.0f ? 0.0f : th_rand(x, scale);
    return p;
}

/* Rows of each recurrent weight: 4H, 3H or H. */
static inline int th_gate_rows(const th_lstm *m)
{
    return tp_cell_gates(m->cell) * m->H;
}

/* Random weights in [-scale, scale]; scale 0 gives all zeros. */
static inline void th_cell_init(th_lstm *m, tp_cell cell, int V, int E, int H, int L,
                                uint64_t seed, float scale)
{
    memset(m, 0, sizeof *m);
    m->cell = cell;
    m->V = V, m->E = E, m->H = H, m->L = L, m->biases = 1, m->head_bias = 1;
    uint64_t x = seed * 2654435761ULL + 12345;
    size_t G = (size_t)th_gate_rows(m);
    if (E)
        m->embed = th_rand_vec((size_t)V * E, &x, scale);
    for (int l = 0; l < L; l++) {
        int in = l ? H : (E ? E : V);
        m->w_ih[l] = th_rand_vec(G * in, &x, scale);
        m->w_hh[l] = th_rand_vec(G * H, &x, scale);
        m->b_ih[l] = th_rand_vec(G, &x, scale);
        m->b_hh[l] = th_rand_vec(G, &x, scale);
    }
    m->head_w = th_rand_vec((size_t)V * H, &x, scale * 2);
    m->head_b = th_rand_vec((size_t)V, &x, scale);
}

static inline void th_lstm_init(th_lstm *m, int V, int E, int H, int L, uint64_t seed,
                                float scale)
{
    th_cell_init(m, TP_CELL_LSTM, V, E, H, L, seed, scale);
}

static inline void th_lstm_free(th_lstm *m)
{
    free(m->embed);
    for (int l = 0; l < m->L; l++) {
        free(m->w_ih[l]);
        free(m->w_hh[l]);
        free(m->b_ih[l]);
        free(m->b_hh[l]);
    }
    free(m->head_w);
    free(m->head_b);
    memset(m, 0, sizeof *m);
}

/* The JSON text of the first V characters of TH_CHARS as a list. */
static inline char *th_vocab_json(int V)
{
    th_str b = {0};
    th_str_add(&b, "[");
    for (int i = 0; i < V; i++) {
        char tok[2] = {TH_CHARS[i], 0};
        th_str_add(&b, "%s", i ? "," : "");
        th_str_json(&b, tok);
    }
    th_str_add(&b, "]");
    return b.s;
}

/* Names: prefix + embed/rnn/head module names, PyTorch parameter names. */
typedef struct th_names {
    const char *prefix, *embed, *rnn, *head;
} th_names;

static inline void th_lstm_file(const th_lstm *m, th_names nm, th_file *f)
{
    memset(f, 0, sizeof *f);
    const char *pre = nm.prefix ? nm.prefix : "";
    const char *emb = nm.embed ? nm.embed : "embed";
    static const char *const modules[TP_CELL_N] = {"lstm", "gru", "rnn", "rnn"};
    const char *rnn = nm.rnn ? nm.rnn : modules[m->cell];
    const char *head = nm.head ? nm.head : "head";
    int64_t G = th_gate_rows(m);
    char name[128];
    if (m->E) {
        snprintf(name, sizeof name, "%s%s.weight", pre, emb);
        th_file_add(f, name, 2, m->V, m->E, m->embed);
    }
    for (int l = 0; l < m->L; l++) {
        int in = l ? m->H : (m->E ? m->E : m->V);
        snprintf(name, sizeof name, "%s%s.weight_ih_l%d", pre, rnn, l);
        th_file_add(f, name, 2, G, in, m->w_ih[l]);
        snprintf(name, sizeof name, "%s%s.weight_hh_l%d", pre, rnn, l);
        th_file_add(f, name, 2, G, m->H, m->w_hh[l]);
        if (m->biases) {
            snprintf(name, sizeof name, "%s%s.bias_ih_l%d", pre, rnn, l);
            th_file_add(f, name, 1, G, 0, m->b_ih[l]);
            snprintf(name, sizeof name, "%s%s.bias_hh_l%d", pre, rnn, l);
            th_file_add(f, name, 1, G, 0, m->b_hh[l]);
        }
    }
    snprintf(name, sizeof name, "%s%s.weight", pre, head);
    th_file_add(f, name, 2, m->V, m->H, m->head_w);
    if (m->head_bias) {
        snprintf(name, sizeof name, "%s%s.bias", pre, head);
        th_file_add(f, name, 1, m->V, 0, m->head_b);
    }
    f->has_meta = 1;
    f->tokenizer = strdup("char");
    f->vocab = th_vocab_json(m->V);
    f->description = strdup("a tiny test model");
    if (m->cell == TP_CELL_RNN_RELU)
        f->nonlinearity = strdup("relu");
}

/* Build a tp_model from a th_file; returns the status and fills err. */
static inline tp_status th_file_model(const th_file *f, tp_model **out, tp_error *err)
{
    size_t size;
    uint8_t *buf = th_file_bytes(f, &size);
    tp_safetensors st;
    tp_status rc = tp_st_parse(&st, buf, size, err);
    if (rc == TP_OK) {
        rc = tp_model_from_safetensors(out, &st, err);
        tp_st_close(&st);
    } else {
        *out = NULL;
    }
    free(buf);
    return rc;
}

/* The tp_model of a th_lstm (default names); NULL on failure. */
static inline tp_model *th_lstm_model(const th_lstm *m, th_names nm, tp_error *err)
{
    th_file f;
    th_lstm_file(m, nm, &f);
    tp_model *model = NULL;
    th_file_model(&f, &model, err);
    th_file_free(&f);
    return model;
}

/* A small random model (V 12, E 5, H 8, 2 layers) for suites that only
 * need some model; m keeps the weights. Asserts nothing: NULL on failure. */
static inline tp_model *th_small_model(th_lstm *m, uint64_t seed, tp_error *err)
{
    th_lstm_init(m, 12, 5, 8, 2, seed, 0.8f);
    return th_lstm_model(m, (th_names){0}, err);
}

/* ---- the reference cells (torch.nn's equations, in double) ---------------- */

typedef struct th_ref {
    double h[TP_MAX_LAYERS][64], c[TP_MAX_LAYERS][64];
} th_ref;

static inline double th_sigmoid(double x)
{
    return 1.0 / (1.0 + exp(-x));
}

/* a = W_ih x + b_ih and b = W_hh h + b_hh for every gate row of layer l. */
static inline void th_ref_gates(const th_lstm *m, int l, const double *x, int in,
                                const double *h, double *a, double *b)
{
    int G = th_gate_rows(m), H = m->H;
    for (int row = 0; row < G; row++) {
        double sa = m->biases ? (double)m->b_ih[l][row] : 0.0;
        double sb = m->biases ? (double)m->b_hh[l][row] : 0.0;
        for (int k = 0; k < in; k++)
            sa += (double)m->w_ih[l][(size_t)row * in + k] * x[k];
        for (int k = 0; k < H; k++)
            sb += (double)m->w_hh[l][(size_t)row * H + k] * h[k];
        a[row] = sa;
        b[row] = sb;
    }
}

/* GRU: r = s(a_r + b_r), z = s(a_z + b_z), n = tanh(a_n + r b_n),
 * h' = (1 - z) n + z h. RNN: h' = tanh(a + b) or relu(a + b). */
static inline void th_ref_other_cell(const th_lstm *m, const double *a, const double *b,
                                     double *h)
{
    int H = m->H;
    for (int j = 0; j < H; j++) {
        if (m->cell == TP_CELL_GRU) {
            double r = th_sigmoid(a[j] + b[j]), z = th_sigmoid(a[H + j] + b[H + j]);
            double n = tanh(a[2 * H + j] + r * b[2 * H + j]);
            h[j] = (1.0 - z) * n + z * h[j];
        } else {
            double s = a[j] + b[j];
            h[j] = m->cell == TP_CELL_RNN_TANH ? tanh(s) : (s > 0.0 ? s : 0.0);
        }
    }
}

/* One step. LSTM: i = s(W_ii x + b_ii + W_hi h + b_hi), f likewise,
 * g = tanh(.), o = s(.); c' = f c + i g; h' = o tanh(c'). Other cells: see
 * th_ref_other_cell. Then logits = W_head h + b_head. */
static inline void th_ref_step(const th_lstm *m, th_ref *r, int token, double *logits)
{
    int H = m->H;
    double x[256];
    int in;
    if (m->E) {
        in = m->E;
        for (int j = 0; j < in; j++)
            x[j] = m->embed[(size_t)token * m->E + j];
    } else {
        in = m->V;
        for (int j = 0; j < in; j++)
            x[j] = j == token;
    }
    for (int l = 0; l < m->L; l++) {
        if (m->cell != TP_CELL_LSTM) {
            double a[192], b[192];
            th_ref_gates(m, l, x, in, r->h[l], a, b);
            th_ref_other_cell(m, a, b, r->h[l]);
            in = H;
            for (int j = 0; j < H; j++)
                x[j] = r->h[l][j];
            continue;
        }
        double gates[4][64];
        for (int g = 0; g < 4; g++)
            for (int j = 0; j < H; j++) {
                int row = g * H + j;
                double a = 0.0;
                for (int k = 0; k < in; k++)
                    a += (double)m->w_ih[l][(size_t)row * in + k] * x[k];
                for (int k = 0; k < H; k++)
                    a += (double)m->w_hh[l][(size_t)row * H + k] * r->h[l][k];
                if (m->biases)
                    a += (double)m->b_ih[l][row] + (double)m->b_hh[l][row];
                gates[g][j] = a;
            }
        for (int j = 0; j < H; j++) {
            double i = th_sigmoid(gates[0][j]), f = th_sigmoid(gates[1][j]);
            double g = tanh(gates[2][j]), o = th_sigmoid(gates[3][j]);
            r->c[l][j] = f * r->c[l][j] + i * g;
            r->h[l][j] = o * tanh(r->c[l][j]);
        }
        in = H;
        for (int j = 0; j < H; j++)
            x[j] = r->h[l][j];
    }
    for (int v = 0; v < m->V; v++) {
        double a = m->head_bias ? (double)m->head_b[v] : 0.0;
        for (int k = 0; k < H; k++)
            a += (double)m->head_w[(size_t)v * H + k] * r->h[m->L - 1][k];
        logits[v] = a;
    }
}

#endif
