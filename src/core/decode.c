/* decode.c - sampling, greedy and beam decoding (see decode.h). */
#include "tempest/decode.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tempest/rng.h"

static tp_status parse_setting(const char *key, size_t klen, const char *val, tp_strategy *s,
                               tp_error *err)
{
    char *end;
    double v = val ? strtod(val, &end) : 0.0;
    int bad = !val || end == val || (*end && *end != '+') || !isfinite(v);
#define KEY(name) (klen == strlen(name) && strncmp(key, name, klen) == 0)
    if (KEY("top_k") && !bad && v >= 0 && v <= 1e9 && v == floor(v)) {
        s->has_top_k = 1, s->top_k = (int)v;
    } else if (KEY("top_p") && !bad && v >= 0 && v <= 1) {
        s->has_top_p = 1, s->top_p = v;
    } else if (KEY("min_p") && !bad && v >= 0 && v <= 1) {
        s->has_min_p = 1, s->min_p = v;
    } else if (KEY("beam") && !bad && v >= 1 && v <= TP_BEAM_MAX && v == floor(v)) {
        s->beam = (int)v;
    } else if (KEY("greedy") && !val) {
        s->greedy = 1;
    } else if (KEY("sample") && !val) {
        s->sampled_beam = 1; /* only matters together with beam= */
    } else {
        return tp_fail(err, TP_ERR_USAGE, "strategy '%.60s': '%.*s' is not one of sample, "
                       "greedy, top_k=K, top_p=P, min_p=M, beam=N (1 to %d)", s->name,
                       (int)(klen > 30 ? 30 : klen), key, TP_BEAM_MAX);
    }
#undef KEY
    return TP_OK;
}

tp_status tp_strategy_parse(const char *text, tp_strategy *out, tp_error *err)
{
    memset(out, 0, sizeof *out);
    if (strlen(text) >= sizeof out->name || !*text)
        return tp_fail(err, TP_ERR_USAGE, "strategy '%.60s' is empty or too long", text);
    strcpy(out->name, text);
    const char *p = text;
    while (*p) {
        size_t part = strcspn(p, "+");
        size_t klen = strcspn(p, "=+");
        const char *val = klen < part ? p + klen + 1 : NULL;
        tp_status rc = parse_setting(p, klen, val, out, err);
        if (rc)
            return rc;
        p += part;
        if (*p == '+')
            p++;
    }
    if (out->beam && (out->has_top_k || out->has_top_p || out->has_min_p))
        out->sampled_beam = 1;
    if (!out->beam)
        out->sampled_beam = 0;
    return TP_OK;
}

void tp_strategy_config(const tp_strategy *s, double temperature, const tp_sampler_config *base,
                        tp_sampler_config *out)
{
    *out = *base;
    out->temperature = s->greedy ? 0.0 : temperature;
    if (s->has_top_k)
        out->top_k = s->top_k;
    if (s->has_top_p)
        out->top_p = s->top_p;
    if (s->has_min_p)
        out->min_p = s->min_p;
}

/* One hypothesis of the beam (or the single sequence when sampling). */
struct beam {
    tp_state *state;
    float *logits;
    int *ctx; /* prompt then generated tokens */
    double logp, entropy, nll;
};

struct candidate {
    int parent, token;
    double logp, entropy, nll;
};

struct decoder {
    const tp_model *m;
    const tp_sampler_config *cfg;
    int n_prompt, length, width, sampled;
    struct beam *cur, *next;
    int n_cur;
    struct candidate *cands;
    tp_dist dist;
    tp_rng rng;
};

/* A generation's beams keep their logits in one block, beam i's at i * V,
 * so that a step of all the children writes them in one batched call;
 * b[0].logits is the block. */
static void free_beams(struct beam *b, int n)
{
    for (int i = 0; b && i < n; i++) {
        tp_state_free(b[i].state);
        free(b[i].ctx);
    }
    if (b)
        free(b[0].logits);
    free(b);
}

static struct beam *alloc_beams(const tp_model *m, int n, int ctx_len)
{
    struct beam *b = calloc((size_t)n, sizeof *b);
    float *logits = malloc((size_t)n * (size_t)m->n_vocab * sizeof *logits);
    if (!b || !logits) {
        free(b);
        free(logits);
        return NULL;
    }
    for (int i = 0; i < n; i++) {
        b[i].logits = logits + (size_t)i * (size_t)m->n_vocab;
        b[i].state = tp_state_new(m);
        b[i].ctx = malloc((size_t)(ctx_len ? ctx_len : 1) * sizeof *b[i].ctx);
        if (!b[i].state || !b[i].ctx) {
            free_beams(b, n);
            return NULL;
        }
    }
    return b;
}

static void decoder_free(struct decoder *d)
{
    free_beams(d->cur, d->width);
    free_beams(d->next, d->width);
    free(d->cands);
    tp_dist_free(&d->dist);
}

static int by_logp(const void *a, const void *b)
{
    const struct candidate *x = a, *y = b;
    if (x->logp != y->logp)
        return x->logp > y->logp ? -1 : 1;
    if (x->parent != y->parent)
        return x->parent - y->parent;
    return x->token - y->token;
}

/* Expansions of beam b: its most probable kept tokens, or draws from it. */
static int expand(struct decoder *d, int b, struct candidate *out, int *order)
{
    const struct beam *bm = &d->cur[b];
    int n = 0;
    if (d->sampled) {
        for (int k = 0; k < d->width; k++) {
            int tok = tp_sampler_draw(&d->dist, &d->rng), dup = 0;
            for (int j = 0; j < n; j++)
                dup |= out[j].token == tok;
            if (!dup)
                out[n++] = (struct candidate){b, tok, 0, 0, 0};
        }
    } else {
        tp_dist_order(&d->dist, 1, order);
        for (int k = 0; k < d->width && k < d->dist.n_kept; k++)
            out[n++] = (struct candidate){b, order[k], 0, 0, 0};
    }
    for (int j = 0; j < n; j++) {
        int t = out[j].token;
        out[j].logp = bm->logp + log(d->dist.p[t]);
        out[j].entropy = bm->entropy + d->dist.entropy_bits;
        out[j].nll = bm->nll - log(d->dist.p_base[t]);
    }
    return n;
}

/* Child c - d->cands of the next step: its parent's state, text and
 * scores, plus the candidate's token (which its step reads). */
static void advance(struct decoder *d, const struct candidate *c, int step)
{
    const struct beam *parent = &d->cur[c->parent];
    struct beam *child = &d->next[c - d->cands];
    int ctx_len = d->n_prompt + step;
    tp_state_copy(child->state, parent->state);
    memcpy(child->ctx, parent->ctx, (size_t)ctx_len * sizeof *child->ctx);
    child->ctx[ctx_len] = c->token;
    child->logp = c->logp;
    child->entropy = c->entropy;
    child->nll = c->nll;
}

static void decode_step(struct decoder *d, int step, int *order)
{
    int n = 0;
    for (int b = 0; b < d->n_cur; b++) {
        struct beam *bm = &d->cur[b];
        tp_sampler_apply(d->cfg, bm->logits, bm->ctx, d->n_prompt + step, &d->dist);
        n += expand(d, b, d->cands + n, order);
    }
    qsort(d->cands, (size_t)n, sizeof *d->cands, by_logp);
    d->n_cur = n < d->width ? n : d->width;
    tp_state *states[TP_BEAM_MAX];
    int tokens[TP_BEAM_MAX];
    for (int i = 0; i < d->n_cur; i++) {
        advance(d, &d->cands[i], step);
        states[i] = d->next[i].state;
        tokens[i] = d->cands[i].token;
    }
    /* The children step together: bit for bit what stepping each would give. */
    tp_model_step_batch(d->m, states, tokens, d->n_cur, d->next[0].logits);
    struct beam *t = d->cur;
    d->cur = d->next;
    d->next = t;
}

static tp_status decoder_init(struct decoder *d, const tp_model *m, const int *prompt,
                              int n_prompt, int length, tp_error *err)
{
    int ctx_len = n_prompt + length;
    d->cur = alloc_beams(m, d->width, ctx_len);
    d->next = alloc_beams(m, d->width, ctx_len);
    d->cands = malloc((size_t)d->width * (size_t)d->width * sizeof *d->cands);
    if (!d->cur || !d->next || !d->cands)
        return tp_fail(err, TP_ERR_NOMEM, "out of memory for %d beams", d->width);
    tp_status rc = tp_dist_init(&d->dist, m->n_vocab, err);
    if (rc)
        return rc;
    /* expand() reads p_base (the self-perplexity), never the snapshots. */
    d->dist.views = TP_VIEW_BASE | TP_VIEW_ENTROPY;
    tp_model_prime(m, d->cur[0].state, prompt, n_prompt, d->cur[0].logits);
    if (n_prompt > 0) /* prompt may be NULL when empty */
        memcpy(d->cur[0].ctx, prompt, (size_t)n_prompt * sizeof *prompt);
    d->n_cur = 1;
    return TP_OK;
}

/* out's tokens (allocated, room for length) and the per-token means of a
 * sequence's sums. */
static void set_result(tp_generation *out, const int *tokens, int length, double entropy,
                       double nll, double logp)
{
    if (length > 0)
        memcpy(out->tokens, tokens, (size_t)length * sizeof *out->tokens);
    out->n = length;
    double n = length ? length : 1;
    out->entropy_bits = entropy / n;
    out->self_nll = nll / n;
    out->score = logp / n;
}

tp_status tp_decode(const tp_model *m, const int *prompt, int n_prompt,
                    const tp_sampler_config *cfg, int beam, int sampled_beam, uint64_t seed,
                    int length, tp_generation *out, tp_error *err)
{
    memset(out, 0, sizeof *out);
    if (beam < 0 || beam > TP_BEAM_MAX || length < 0)
        return tp_fail(err, TP_ERR_USAGE, "beam %d or length %d out of range", beam, length);
    struct decoder d = {.m = m, .cfg = cfg, .n_prompt = n_prompt, .length = length};
    /* Plain sampling is a beam of one that expands by one draw. */
    d.width = beam > 0 ? beam : 1;
    d.sampled = beam == 0 || sampled_beam;
    tp_rng_seed(&d.rng, seed);
    int *order = malloc((size_t)m->n_vocab * sizeof *order);
    out->tokens = malloc((size_t)(length ? length : 1) * sizeof *out->tokens);
    tp_status rc = order && out->tokens ? decoder_init(&d, m, prompt, n_prompt, length, err)
                                        : tp_fail(err, TP_ERR_NOMEM, "out of memory");
    for (int step = 0; step < length && !rc; step++)
        decode_step(&d, step, order);
    if (!rc) {
        const struct beam *best = &d.cur[0]; /* beams stay sorted by log probability */
        set_result(out, best->ctx + n_prompt, length, best->entropy, best->nll, best->logp);
    } else {
        free(out->tokens);
        out->tokens = NULL;
    }
    free(order);
    decoder_free(&d);
    return rc;
}

/* ---- sampled sequences stepped together ----------------------------------- */

/* One sequence of tp_decode_batch: what tp_decode keeps for its beam of one,
 * with its own chain, random stream and distribution. */
struct sampled {
    const tp_sampler_config *cfg;
    tp_dist dist;
    tp_rng rng;
    int *ctx; /* prompt then generated tokens */
    int n_ctx;
    double logp, entropy, nll;
};

struct sampled_batch {
    struct sampled *seqs;
    tp_state **states;
    int *next;     /* the token each sequence reads at its next step */
    float *logits; /* n x V */
    int n;
};

static void sampled_batch_free(struct sampled_batch *b)
{
    for (int i = 0; b->seqs && i < b->n; i++) {
        tp_dist_free(&b->seqs[i].dist);
        free(b->seqs[i].ctx);
    }
    for (int i = 0; b->states && i < b->n; i++)
        tp_state_free(b->states[i]);
    free(b->seqs);
    free(b->states);
    free(b->next);
    free(b->logits);
}

/* Every sequence primed once (the first primed, its state and logits
 * copied: the same bits as priming each). */
static tp_status sampled_batch_init(struct sampled_batch *b, const tp_model *m,
                                    const int *prompt, int n_prompt,
                                    const tp_sampler_config *cfgs, const uint64_t *seeds,
                                    int length, tp_error *err)
{
    size_t V = (size_t)m->n_vocab, cap = (size_t)n_prompt + (size_t)length;
    b->seqs = calloc((size_t)b->n, sizeof *b->seqs);
    b->states = calloc((size_t)b->n, sizeof *b->states);
    b->next = calloc((size_t)b->n, sizeof *b->next);
    b->logits = malloc((size_t)b->n * V * sizeof *b->logits);
    if (!b->seqs || !b->states || !b->next || !b->logits)
        return tp_fail(err, TP_ERR_NOMEM, "out of memory for %d sequences", b->n);
    for (int i = 0; i < b->n; i++) {
        struct sampled *s = &b->seqs[i];
        b->states[i] = tp_state_new(m);
        s->ctx = malloc((cap ? cap : 1) * sizeof *s->ctx);
        if (!b->states[i] || !s->ctx)
            return tp_fail(err, TP_ERR_NOMEM, "out of memory for %d sequences", b->n);
        tp_status rc = tp_dist_init(&s->dist, (int)V, err);
        if (rc)
            return rc;
        s->dist.views = TP_VIEW_BASE | TP_VIEW_ENTROPY; /* as tp_decode's */
        s->cfg = &cfgs[i];
        tp_rng_seed(&s->rng, seeds[i]);
        if (n_prompt > 0)
            memcpy(s->ctx, prompt, (size_t)n_prompt * sizeof *prompt);
        s->n_ctx = n_prompt;
        if (i == 0) {
            tp_model_prime(m, b->states[0], prompt, n_prompt, b->logits);
        } else {
            tp_state_copy(b->states[i], b->states[0]);
            memcpy(b->logits + (size_t)i * V, b->logits, V * sizeof *b->logits);
        }
    }
    return TP_OK;
}

/* Sequence i's next token from its logits, scored as expand() scores a
 * draw: run as each sequence's step ends, on the core that stepped it. */
static void draw_sampled(void *ctx, int i, float *logits)
{
    struct sampled_batch *b = ctx;
    struct sampled *s = &b->seqs[i];
    tp_sampler_apply(s->cfg, logits, s->ctx, s->n_ctx, &s->dist);
    int t = tp_sampler_draw(&s->dist, &s->rng);
    s->logp = s->logp + log(s->dist.p[t]);
    s->entropy = s->entropy + s->dist.entropy_bits;
    s->nll = s->nll - log(s->dist.p_base[t]);
    s->ctx[s->n_ctx++] = t;
    b->next[i] = t;
}

static tp_status sampled_result(const struct sampled *s, int n_prompt, int length,
                                tp_generation *out, tp_error *err)
{
    out->tokens = malloc((size_t)(length ? length : 1) * sizeof *out->tokens);
    if (!out->tokens)
        return tp_fail(err, TP_ERR_NOMEM, "out of memory");
    set_result(out, s->ctx + n_prompt, length, s->entropy, s->nll, s->logp);
    return TP_OK;
}

tp_status tp_decode_batch(const tp_model *m, const int *prompt, int n_prompt,
                          const tp_sampler_config *cfgs, const uint64_t *seeds, int n,
                          int length, tp_generation *outs, tp_error *err)
{
    memset(outs, 0, (size_t)(n > 0 ? n : 0) * sizeof *outs);
    if (n < 1 || length < 0)
        return tp_fail(err, TP_ERR_USAGE, "%d sequences or length %d out of range", n, length);
    struct sampled_batch b = {.n = n};
    tp_status rc = sampled_batch_init(&b, m, prompt, n_prompt, cfgs, seeds, length, err);
    if (!rc && length > 0) {
        size_t V = (size_t)m->n_vocab;
        for (int i = 0; i < n; i++)
            draw_sampled(&b, i, b.logits + (size_t)i * V);
        tp_model_run_batch(m, b.states, b.next, n, b.logits, length - 1, draw_sampled, &b);
    }
    for (int i = 0; i < n && !rc; i++)
        rc = sampled_result(&b.seqs[i], n_prompt, length, &outs[i], err);
    if (rc) {
        for (int i = 0; i < n; i++) {
            free(outs[i].tokens);
            outs[i].tokens = NULL;
        }
    }
    sampled_batch_free(&b);
    return rc;
}
