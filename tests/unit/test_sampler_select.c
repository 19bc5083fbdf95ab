/* test_sampler_select.c - the sampler's partial selection (heap and
 * quickselect for top-k, chunked selection for top-p, stages working on the
 * kept list only) against a plain full-sort implementation of the same
 * chain, on thousands of random logit vectors.
 *
 * The reference below is deliberately the obvious algorithm: every stage
 * walks the whole vocabulary and rankings sort all kept tokens. The two must
 * agree bit for bit (kept set, cut_by, every probability, every snapshot,
 * entropy), because they do the same arithmetic in the same order; only the
 * way the boundary is found differs. Logits are often integer-valued so that
 * ties at the top-k and top-p boundaries are common.
 */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tempest/rng.h"
#include "tempest/sampler.h"

/* ---- the full-sort reference -------------------------------------------- */

typedef struct ref_rank {
    double key;
    int id;
} ref_rank;

typedef struct ref_dist {
    int n, n_kept;
    double *z, *p, *p_base, *stage_p, entropy;
    unsigned char *kept;
    signed char *cut_by;
    ref_rank *ranked;
} ref_dist;

static void ref_init(ref_dist *r, int n)
{
    memset(r, 0, sizeof *r);
    r->n = n;
    r->z = calloc((size_t)n, sizeof *r->z);
    r->p = calloc((size_t)n, sizeof *r->p);
    r->p_base = calloc((size_t)n, sizeof *r->p_base);
    r->stage_p = calloc((size_t)n * TP_N_STAGES, sizeof *r->stage_p);
    r->kept = calloc((size_t)n, 1);
    r->cut_by = calloc((size_t)n, 1);
    r->ranked = calloc((size_t)n, sizeof *r->ranked);
    cr_assert(r->z && r->p && r->p_base && r->stage_p && r->kept && r->cut_by && r->ranked,
              "out of memory");
}

static void ref_free(ref_dist *r)
{
    free(r->z);
    free(r->p);
    free(r->p_base);
    free(r->stage_p);
    free(r->kept);
    free(r->cut_by);
    free(r->ranked);
}

static void ref_softmax(const ref_dist *r, double *out)
{
    double zmax = -INFINITY, sum = 0.0;
    for (int i = 0; i < r->n; i++)
        if (r->kept[i] && r->z[i] > zmax)
            zmax = r->z[i];
    for (int i = 0; i < r->n; i++) {
        out[i] = r->kept[i] ? exp(r->z[i] - zmax) : 0.0;
        sum += out[i];
    }
    for (int i = 0; i < r->n; i++)
        out[i] /= sum;
}

static void ref_cut(ref_dist *r, int id, tp_stage s)
{
    if (r->kept[id]) {
        r->kept[id] = 0;
        r->cut_by[id] = (signed char)s;
        r->n_kept--;
    }
}

static int ref_cmp(const void *a, const void *b)
{
    const ref_rank *x = a, *y = b;
    if (x->key != y->key)
        return x->key > y->key ? -1 : 1;
    return (x->id > y->id) - (x->id < y->id);
}

/* Every kept id sorted by key, descending, lower id first on ties. */
static int ref_sort_kept(ref_dist *r, const double *key)
{
    int m = 0;
    for (int i = 0; i < r->n; i++)
        if (r->kept[i])
            r->ranked[m++] = (ref_rank){key[i], i};
    qsort(r->ranked, (size_t)m, sizeof *r->ranked, ref_cmp);
    return m;
}

static void ref_repeat(const tp_sampler_config *c, const int *ctx, int n_ctx, ref_dist *r)
{
    if (c->repeat_penalty == 1.0 || c->repeat_last_n == 0)
        return;
    unsigned char *seen = calloc((size_t)r->n, 1);
    cr_assert(seen);
    for (int i = n_ctx > c->repeat_last_n ? n_ctx - c->repeat_last_n : 0; i < n_ctx; i++) {
        int t = ctx[i];
        if (seen[t]++)
            continue;
        r->z[t] = r->z[t] > 0 ? r->z[t] / c->repeat_penalty : r->z[t] * c->repeat_penalty;
    }
    free(seen);
}

static void ref_temperature(double T, ref_dist *r)
{
    if (T > 0.0) { /* sampler.h: z * (1 / T), within an ulp of z / T */
        for (int i = 0; i < r->n; i++)
            r->z[i] *= 1.0 / T;
        return;
    }
    int best = -1;
    for (int i = 0; i < r->n; i++)
        if (r->kept[i] && (best < 0 || r->z[i] > r->z[best]))
            best = i;
    for (int i = 0; i < r->n; i++)
        if (i != best)
            ref_cut(r, i, TP_STAGE_TEMPERATURE);
}

static void ref_top_k(int k, ref_dist *r)
{
    if (k <= 0 || k >= r->n_kept)
        return;
    int m = ref_sort_kept(r, r->z);
    for (int j = k; j < m; j++)
        ref_cut(r, r->ranked[j].id, TP_STAGE_TOP_K);
}

static void ref_top_p(double top_p, ref_dist *r)
{
    if (top_p >= 1.0)
        return;
    ref_softmax(r, r->p);
    int m = ref_sort_kept(r, r->p), j = 0;
    double mass = 0.0;
    while (j < m && mass < top_p - 1e-12)
        mass += r->ranked[j++].key;
    for (j = j ? j : 1; j < m; j++)
        ref_cut(r, r->ranked[j].id, TP_STAGE_TOP_P);
}

static void ref_min_p(double min_p, ref_dist *r)
{
    if (min_p <= 0.0)
        return;
    ref_softmax(r, r->p);
    double pmax = 0.0;
    for (int i = 0; i < r->n; i++)
        pmax = r->p[i] > pmax ? r->p[i] : pmax;
    for (int i = 0; i < r->n; i++)
        if (r->kept[i] && r->p[i] < min_p * pmax)
            ref_cut(r, i, TP_STAGE_MIN_P);
}

static void ref_apply(const tp_sampler_config *c, const float *logits, const int *ctx,
                      int n_ctx, ref_dist *r)
{
    for (int i = 0; i < r->n; i++) {
        r->z[i] = logits[i];
        r->kept[i] = 1;
        r->cut_by[i] = -1;
    }
    r->n_kept = r->n;
    ref_softmax(r, r->p_base);
    for (int s = 0; s < c->n_order; s++) {
        switch (c->order[s]) {
        case TP_STAGE_REPEAT: ref_repeat(c, ctx, n_ctx, r); break;
        case TP_STAGE_TEMPERATURE: ref_temperature(c->temperature, r); break;
        case TP_STAGE_TOP_K: ref_top_k(c->top_k, r); break;
        case TP_STAGE_TOP_P: ref_top_p(c->top_p, r); break;
        case TP_STAGE_MIN_P: ref_min_p(c->min_p, r); break;
        default: break;
        }
        ref_softmax(r, r->stage_p + (size_t)s * r->n);
    }
    ref_softmax(r, r->p);
    r->entropy = 0.0;
    for (int i = 0; i < r->n; i++)
        if (r->p[i] > 0.0)
            r->entropy -= r->p[i] * log2(r->p[i]);
    r->entropy = r->entropy > 0.0 ? r->entropy : 0.0;
}

/* ---- random inputs -------------------------------------------------------- */

enum { KIND_SMALL_INT, KIND_WIDE_INT, KIND_REAL, KIND_PEAKED, N_KINDS };

/* Integer-valued logits tie constantly; real ones almost never; a peaked
 * vector has a few large logits over a flat integer floor. */
static void random_logits(tp_rng *g, int kind, float *z, int n)
{
    for (int i = 0; i < n; i++) {
        double u = tp_rng_uniform(g);
        switch (kind) {
        case KIND_SMALL_INT: z[i] = (float)floor(u * 5) - 2; break;
        case KIND_WIDE_INT: z[i] = (float)floor(u * 41) - 20; break;
        case KIND_REAL: z[i] = (float)(8 * u - 4); break;
        default: z[i] = (float)floor(u * 3); break;
        }
    }
    if (kind == KIND_PEAKED)
        for (int j = 0; j < 4; j++)
            z[tp_rng_next(g) % (uint64_t)n] = (float)(6 + j);
}

static const int KS[] = {0, 1, 2, 3, 7, 40, 64, 65, 128, 129, 300, 2000, 31999, 32000};
static const double PS[] = {0.0, 0.05, 0.5, 0.9, 0.95, 0.999, 1.0};
static const double TS[] = {0.0, 0.5, 0.8, 1.0, 2.0};
static const double MIN_PS[] = {0.0, 0.05, 0.3};
#define N_OF(a) ((int)(sizeof a / sizeof a[0]))

static tp_sampler_config config_for(int k, double p, int trunc_first, tp_rng *g)
{
    tp_sampler_config c;
    tp_sampler_defaults(&c);
    c.top_k = k;
    c.top_p = p;
    c.temperature = TS[tp_rng_next(g) % N_OF(TS)];
    c.min_p = MIN_PS[tp_rng_next(g) % N_OF(MIN_PS)];
    c.repeat_penalty = tp_rng_uniform(g) < 0.3 ? 1.3 : 1.0;
    tp_error err;
    cr_assert_eq(tp_sampler_parse_order(&c, trunc_first ? "trunc-first" : "temp-first", &err),
                 TP_OK);
    return c;
}

/* ---- the comparison -------------------------------------------------------- */

static void expect_same(const tp_dist *d, const ref_dist *r, int views, const char *what)
{
    cr_assert_eq(d->n_kept, r->n_kept, "%s: n_kept %d, want %d", what, d->n_kept, r->n_kept);
    for (int i = 0; i < r->n; i++) {
        cr_assert_eq(d->kept[i], r->kept[i], "%s: kept[%d]", what, i);
        cr_assert_eq(d->cut_by[i], r->cut_by[i], "%s: cut_by[%d] = %d, want %d", what, i,
                     d->cut_by[i], r->cut_by[i]);
        cr_assert(d->p[i] == r->p[i], "%s: p[%d] = %.17g, want %.17g", what, i, d->p[i],
                  r->p[i]);
    }
    cr_assert(d->entropy_bits == r->entropy, "%s: entropy %.17g, want %.17g", what,
              d->entropy_bits, r->entropy);
    if (!views)
        return;
    for (int i = 0; i < r->n; i++)
        cr_assert(d->p_base[i] == r->p_base[i], "%s: p_base[%d]", what, i);
    for (size_t i = 0; i < (size_t)d->n_stages * (size_t)r->n; i++)
        cr_assert(d->stage_p[i] == r->stage_p[i], "%s: stage_p[%zu] = %.17g, want %.17g",
                  what, i, d->stage_p[i], r->stage_p[i]);
}

/* One dist with every view, one with none, each reused across calls (as
 * the hint and the cleared p carry over), and the reference. */
typedef struct trio {
    tp_dist full, bare;
    ref_dist r;
} trio;

static void trio_init(trio *t, int n)
{
    cr_assert_eq(tp_dist_init(&t->full, n, NULL), TP_OK);
    cr_assert_eq(tp_dist_init(&t->bare, n, NULL), TP_OK);
    t->bare.views = TP_VIEW_ENTROPY; /* entropy checked, views off */
    ref_init(&t->r, n);
}

static void trio_free(trio *t)
{
    ref_free(&t->r);
    tp_dist_free(&t->full);
    tp_dist_free(&t->bare);
}

/* Both dists must match the reference; views_too also compares the views
 * (not where a NaN logit makes every p_base NaN, equal to nothing). */
static void trio_check(trio *t, const tp_sampler_config *c, const float *z, const int *ctx,
                       int n_ctx, int views_too, const char *what)
{
    ref_apply(c, z, ctx, n_ctx, &t->r);
    tp_sampler_apply(c, z, ctx, n_ctx, &t->full);
    if (views_too)
        expect_same(&t->full, &t->r, 1, what);
    tp_sampler_apply(c, z, ctx, n_ctx, &t->bare);
    expect_same(&t->bare, &t->r, 0, what);
}

/* For every k and p, vectors_per_setting random vectors of size n: once
 * with every view, once with none; both must match the reference. */
static void compare_many(int n, int trunc_first, int vectors_per_setting, uint64_t seed)
{
    tp_rng g;
    tp_rng_seed(&g, seed);
    trio t;
    trio_init(&t, n);
    float *z = calloc((size_t)n, sizeof *z);
    int ctx[48];
    cr_assert(z);
    char what[160];
    for (int ki = 0; ki < N_OF(KS); ki++) {
        for (int pi = 0; pi < N_OF(PS); pi++) {
            for (int v = 0; v < vectors_per_setting; v++) {
                tp_sampler_config c = config_for(KS[ki], PS[pi], trunc_first, &g);
                int kind = (int)(tp_rng_next(&g) % N_KINDS);
                random_logits(&g, kind, z, n);
                for (int j = 0; j < N_OF(ctx); j++)
                    ctx[j] = (int)(tp_rng_next(&g) % (uint64_t)n);
                snprintf(what, sizeof what, "n=%d %s k=%d p=%g T=%g min_p=%g rep=%g kind=%d #%d",
                         n, trunc_first ? "trunc-first" : "temp-first", c.top_k, c.top_p,
                         c.temperature, c.min_p, c.repeat_penalty, kind, v);
                trio_check(&t, &c, z, ctx, N_OF(ctx), 1, what);
            }
        }
    }
    free(z);
    trio_free(&t);
}

/* 14 k x 7 p x 26 = 2548 vectors per order for V = 65. */
Test(sampler_select, v65_temperature_first) { compare_many(65, 0, 26, 101); }
Test(sampler_select, v65_truncation_first) { compare_many(65, 1, 26, 202); }

/* V = 256 and 1000 take the hinted top-k of a small vocabulary (the
 * threshold carried over from the previous call, in standard deviations)
 * for k up to V / 4, the heap above; the kinds change from call to call,
 * so the hint both hits and misses. */
Test(sampler_select, v256_temperature_first) { compare_many(256, 0, 12, 707); }
Test(sampler_select, v256_truncation_first) { compare_many(256, 1, 12, 808); }
Test(sampler_select, v1000_temperature_first) { compare_many(1000, 0, 6, 909); }

/* 14 k x 7 p x 4 = 392 vectors per test, 1568 for V = 32000 in all. */
Test(sampler_select, v32000_temperature_first_a, .timeout = 120) { compare_many(32000, 0, 4, 303); }
Test(sampler_select, v32000_temperature_first_b, .timeout = 120) { compare_many(32000, 0, 4, 404); }
Test(sampler_select, v32000_truncation_first_a, .timeout = 120) { compare_many(32000, 1, 4, 505); }
Test(sampler_select, v32000_truncation_first_b, .timeout = 120) { compare_many(32000, 1, 4, 606); }

/* The hint a small vocabulary's top-k carries from call to call: learned on
 * Gaussian logits, then a vector whose k-th best lies far below where the
 * hint looks (20 tokens far above a Gaussian floor: too few reach the
 * threshold, so it falls back), then NaN past the first k, huge logits, all
 * equal and a constant shift, each followed by Gaussian calls again. Every
 * call must match the reference, views on and off (off only with the NaN). */
static void fill_shape(tp_rng *g, int shape, float *z, int n)
{
    for (int i = 0; i < n; i++) {
        double u1 = tp_rng_uniform(g), u2 = tp_rng_uniform(g);
        z[i] = (float)(2.5 * sqrt(-2.0 * log(u1 + 1e-300)) * cos(6.283185307179586 * u2));
    }
    if (shape == 1)
        for (int i = 0; i < 20; i++)
            z[(i * 37) % n] = 30.0f + (float)i;
    if (shape == 2)
        z[n - 3] = NAN;
    if (shape == 3) {
        z[n / 2] = 3e38f; /* squares overflow a float: the spread is useless */
        z[n / 3] = -3e38f;
    }
    if (shape == 4)
        for (int i = 0; i < n; i++)
            z[i] = 0.5f;
    if (shape == 5)
        for (int i = 0; i < n; i++)
            z[i] += 1e4f;
}

Test(sampler_select, top_k_hint_hits_and_misses)
{
    const int n = 256, shapes[] = {0, 0, 0, 1, 0, 1, 1, 0, 2, 0, 3, 0, 4, 0, 5, 5, 0};
    tp_rng g;
    tp_rng_seed(&g, 31);
    trio t;
    trio_init(&t, n);
    float z[256];
    char what[96];
    const int ks[] = {40, 64, 1, 7};
    for (int ki = 0; ki < N_OF(ks); ki++) {
        for (int si = 0; si < N_OF(shapes); si++) {
            tp_sampler_config c;
            tp_sampler_defaults(&c);
            c.temperature = 0.8;
            c.top_k = ks[ki];
            c.top_p = 0.95;
            c.min_p = 0.05;
            fill_shape(&g, shapes[si], z, n);
            snprintf(what, sizeof what, "k=%d call %d shape %d", ks[ki], si, shapes[si]);
            trio_check(&t, &c, z, NULL, 0, shapes[si] != 2, what);
        }
    }
    trio_free(&t);
}

/* Adversarial shapes for quickselect: already sorted, reverse sorted, all
 * equal, and two values alternating, at sizes around the heap/select switch. */
Test(sampler_select, structured_vectors)
{
    const int ns[] = {2, 3, 64, 65, 129, 1000, 32000};
    for (int a = 0; a < N_OF(ns); a++) {
        int n = ns[a];
        tp_dist d;
        ref_dist r;
        cr_assert_eq(tp_dist_init(&d, n, NULL), TP_OK);
        ref_init(&r, n);
        float *z = calloc((size_t)n, sizeof *z);
        cr_assert(z);
        for (int shape = 0; shape < 4; shape++) {
            for (int i = 0; i < n; i++)
                z[i] = shape == 0 ? (float)i * 0.01f : shape == 1 ? -(float)i * 0.01f
                     : shape == 2 ? 1.0f : (float)(i % 2);
            const int ks[] = {0, 1, n / 2, n - 1, 200};
            const double ps[] = {0.3, 0.9, 1.0};
            for (int ki = 0; ki < N_OF(ks); ki++) {
                for (int pi = 0; pi < N_OF(ps); pi++) {
                    tp_sampler_config c;
                    tp_sampler_defaults(&c);
                    c.temperature = 1.0;
                    c.top_k = ks[ki];
                    c.top_p = ps[pi];
                    char what[96];
                    snprintf(what, sizeof what, "n=%d shape=%d k=%d p=%g", n, shape, ks[ki],
                             ps[pi]);
                    ref_apply(&c, z, NULL, 0, &r);
                    tp_sampler_apply(&c, z, NULL, 0, &d);
                    expect_same(&d, &r, 1, what);
                }
            }
        }
        free(z);
        ref_free(&r);
        tp_dist_free(&d);
    }
}
