/* sampler_bench.c - cost per call of the sampling chain (top-k 40, top-p 0.95,
 * min-p 0.05, T 0.8, temperature first) against a full-sort baseline, in the
 * same run, for several vocabulary sizes.
 *
 * Build and run from the repository root (bench/sampler_bench.sh does this):
 *
 *     make test-bins    # or any build that leaves build/libtempest.a
 *     cc -O2 -std=c17 -D_DEFAULT_SOURCE -Iinclude -o build/sampler_bench \
 *         bench/sampler_bench.c build/libtempest.a -lm
 *     build/sampler_bench [V ...]           # default: 65 256 32000
 *
 * Columns: the baseline (the obvious chain: every stage walks the whole
 * vocabulary, rankings qsort every kept token, a snapshot per stage), then
 * tempest's tp_sampler_apply with every view (what the playground uses) and
 * with none (p_base and the per-stage snapshots skipped, as a plain
 * generator may), and the baseline's time divided by each. Then a second
 * reference: the chain as llama.cpp computes it, re-implemented here in C
 * (a candidate array of the whole vocabulary, a heap partial sort of the
 * top k, then single-precision softmax and cumulative sums over the sorted
 * k: top-p, min-p against the first, temperature, a final softmax), and its
 * time divided by tempest's without views. llama.cpp itself is not built
 * here; this measures its algorithm on the same machine in the same run. Logits are
 * Gaussian with a spread like a trained model's; every call gets a fresh
 * vector from a pool so caches and branch predictors see varied input.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "tempest/rng.h"
#include "tempest/sampler.h"

#define POOL 16

/* ---- the full-sort baseline ----------------------------------------------- */

typedef struct base_rank {
    double key;
    int id;
} base_rank;

typedef struct base_dist {
    int n, n_kept;
    double *z, *p, *p_base, *stage_p, entropy;
    unsigned char *kept;
    base_rank *ranked;
} base_dist;

static void *xcalloc(size_t n, size_t size)
{
    void *p = calloc(n, size);
    if (!p) {
        fprintf(stderr, "sampler_bench: out of memory\n");
        exit(1);
    }
    return p;
}

static void base_init(base_dist *b, int n)
{
    b->n = n;
    b->z = xcalloc((size_t)n, sizeof *b->z);
    b->p = xcalloc((size_t)n, sizeof *b->p);
    b->p_base = xcalloc((size_t)n, sizeof *b->p_base);
    b->stage_p = xcalloc((size_t)n * TP_N_STAGES, sizeof *b->stage_p);
    b->kept = xcalloc((size_t)n, 1);
    b->ranked = xcalloc((size_t)n, sizeof *b->ranked);
}

static void base_free(base_dist *b)
{
    free(b->z);
    free(b->p);
    free(b->p_base);
    free(b->stage_p);
    free(b->kept);
    free(b->ranked);
}

static void base_softmax(const base_dist *b, double *out)
{
    double zmax = -INFINITY, sum = 0.0;
    for (int i = 0; i < b->n; i++)
        if (b->kept[i] && b->z[i] > zmax)
            zmax = b->z[i];
    for (int i = 0; i < b->n; i++) {
        out[i] = b->kept[i] ? exp(b->z[i] - zmax) : 0.0;
        sum += out[i];
    }
    for (int i = 0; i < b->n; i++)
        out[i] /= sum;
}

static int base_cmp(const void *a, const void *b)
{
    const base_rank *x = a, *y = b;
    if (x->key != y->key)
        return x->key > y->key ? -1 : 1;
    return (x->id > y->id) - (x->id < y->id);
}

static int base_sort(base_dist *b, const double *key)
{
    int m = 0;
    for (int i = 0; i < b->n; i++)
        if (b->kept[i])
            b->ranked[m++] = (base_rank){key[i], i};
    qsort(b->ranked, (size_t)m, sizeof *b->ranked, base_cmp);
    return m;
}

static void base_cut_from(base_dist *b, int from, int m)
{
    for (int j = from; j < m; j++)
        b->kept[b->ranked[j].id] = 0;
    b->n_kept = from < m ? from : m;
}

/* The chain with temperature first and no repetition penalty, as the
 * benchmark configures it. */
static void base_apply(const tp_sampler_config *c, const float *logits, base_dist *b)
{
    int n = b->n, s = 0;
    for (int i = 0; i < n; i++) {
        b->z[i] = logits[i];
        b->kept[i] = 1;
    }
    b->n_kept = n;
    base_softmax(b, b->p_base);
    base_softmax(b, b->stage_p + (size_t)s++ * n); /* repeat penalty: off */
    for (int i = 0; i < n; i++)
        b->z[i] /= c->temperature;
    base_softmax(b, b->stage_p + (size_t)s++ * n);
    if (c->top_k > 0 && c->top_k < b->n_kept)
        base_cut_from(b, c->top_k, base_sort(b, b->z));
    base_softmax(b, b->stage_p + (size_t)s++ * n);
    base_softmax(b, b->p);
    int m = base_sort(b, b->p), r = 0;
    double mass = 0.0;
    while (r < m && mass < c->top_p - 1e-12)
        mass += b->ranked[r++].key;
    base_cut_from(b, r ? r : 1, m);
    base_softmax(b, b->stage_p + (size_t)s++ * n);
    base_softmax(b, b->p);
    double pmax = 0.0;
    for (int i = 0; i < n; i++)
        pmax = b->p[i] > pmax ? b->p[i] : pmax;
    for (int i = 0; i < n; i++)
        if (b->kept[i] && b->p[i] < c->min_p * pmax)
            b->kept[i] = 0;
    base_softmax(b, b->stage_p + (size_t)s++ * n);
    base_softmax(b, b->p);
    b->entropy = 0.0;
    for (int i = 0; i < n; i++)
        if (b->p[i] > 0.0)
            b->entropy -= b->p[i] * log2(b->p[i]);
}

/* ---- the llama.cpp-style chain --------------------------------------------- */

typedef struct cand {
    int id;
    float logit, p;
} cand;

/* Heap order for the partial sort: the worst of the k best at the root. */
static int cand_worse(const cand *a, const cand *b)
{
    return a->logit < b->logit;
}

static void cand_sift(cand *h, int k, int i)
{
    for (;;) {
        int c = 2 * i + 1;
        if (c >= k)
            return;
        if (c + 1 < k && cand_worse(&h[c + 1], &h[c]))
            c++;
        if (!cand_worse(&h[c], &h[i]))
            return;
        cand t = h[i];
        h[i] = h[c];
        h[c] = t;
        i = c;
    }
}

/* a[0..k) becomes the k best of a[0..n), sorted best first. */
static void cand_partial_sort(cand *a, int n, int k)
{
    for (int i = k / 2 - 1; i >= 0; i--)
        cand_sift(a, k, i);
    for (int i = k; i < n; i++) {
        if (a[i].logit > a[0].logit) {
            a[0] = a[i];
            cand_sift(a, k, 0);
        }
    }
    for (int end = k - 1; end > 0; end--) { /* pop the worst to the back */
        cand t = a[0];
        a[0] = a[end];
        a[end] = t;
        cand_sift(a, end, 0);
    }
}

static void cand_softmax(cand *a, int m)
{
    float top = a[0].logit, sum = 0.0f;
    for (int i = 0; i < m; i++) {
        a[i].p = expf(a[i].logit - top);
        sum += a[i].p;
    }
    for (int i = 0; i < m; i++)
        a[i].p /= sum;
}

/* Top-k, top-p, min-p, temperature in llama.cpp's default order; returns
 * how many candidates survive. */
static int llama_style_apply(const tp_sampler_config *c, const float *logits, int n, cand *a)
{
    for (int i = 0; i < n; i++)
        a[i] = (cand){i, logits[i], 0.0f};
    int m = c->top_k > 0 && c->top_k < n ? c->top_k : n;
    cand_partial_sort(a, n, m);
    cand_softmax(a, m);
    float cum = 0.0f;
    int keep = m;
    for (int i = 0; i < m; i++) {
        cum += a[i].p;
        if (cum >= (float)c->top_p) {
            keep = i + 1;
            break;
        }
    }
    m = keep;
    float floor_p = (float)c->min_p * a[0].p;
    for (keep = 1; keep < m && a[keep].p >= floor_p; keep++)
        ;
    m = keep;
    for (int i = 0; i < m; i++)
        a[i].logit /= (float)c->temperature;
    cand_softmax(a, m);
    return m;
}

/* ---- timing ----------------------------------------------------------------- */

static double now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e6 + (double)ts.tv_nsec / 1e3;
}

/* Box-Muller normals with sd 2.5: a trained char model's logits spread
 * about this much; a few tokens carry most of the mass. */
static void fill_pool(float *pool, int n, tp_rng *g)
{
    for (int i = 0; i < POOL * n; i++) {
        double u1 = tp_rng_uniform(g), u2 = tp_rng_uniform(g);
        pool[i] = (float)(2.5 * sqrt(-2.0 * log(u1 + 1e-300)) * cos(6.283185307179586 * u2));
    }
}

typedef struct bench_case {
    const tp_sampler_config *cfg;
    const float *pool;
    int n;
    base_dist *base;
    tp_dist *dist;
    cand *cands;
} bench_case;

static double time_base(bench_case *b, int calls)
{
    double t0 = now_us();
    for (int i = 0; i < calls; i++)
        base_apply(b->cfg, b->pool + (size_t)(i % POOL) * b->n, b->base);
    return (now_us() - t0) / calls;
}

static double time_llama_style(bench_case *b, int calls)
{
    double t0 = now_us();
    int kept = 0;
    for (int i = 0; i < calls; i++)
        kept += llama_style_apply(b->cfg, b->pool + (size_t)(i % POOL) * b->n, b->n, b->cands);
    if (kept < calls) /* every call keeps at least one: also keeps the loop */
        fprintf(stderr, "sampler_bench: llama-style chain kept nothing\n");
    return (now_us() - t0) / calls;
}

static double time_tempest(bench_case *b, int calls, unsigned views)
{
    b->dist->views = views;
    double t0 = now_us();
    for (int i = 0; i < calls; i++)
        tp_sampler_apply(b->cfg, b->pool + (size_t)(i % POOL) * b->n, NULL, 0, b->dist);
    return (now_us() - t0) / calls;
}

/* Best of five rounds of about 0.1 s each: the machine is shared, and the
 * minimum is the least disturbed estimate of each. */
static void run(int n, const tp_sampler_config *cfg, tp_rng *g)
{
    base_dist base;
    tp_dist dist;
    base_init(&base, n);
    if (tp_dist_init(&dist, n, NULL) != TP_OK) {
        fprintf(stderr, "sampler_bench: out of memory\n");
        exit(1);
    }
    float *pool = xcalloc((size_t)POOL * n, sizeof *pool);
    cand *cands = xcalloc((size_t)n, sizeof *cands);
    fill_pool(pool, n, g);
    bench_case b = {cfg, pool, n, &base, &dist, cands};
    int calls = (int)(2e7 / (n * 20.0 + 2000.0)) + 4;
    double tb = 1e30, ta = 1e30, t0 = 1e30, tl = 1e30;
    for (int round = 0; round < 5; round++) {
        tb = fmin(tb, time_base(&b, calls));
        ta = fmin(ta, time_tempest(&b, calls * 4, TP_VIEW_ALL));
        t0 = fmin(t0, time_tempest(&b, calls * 4, 0));
        tl = fmin(tl, time_llama_style(&b, calls * 4));
    }
    printf("%7d %12.2f %12.2f %12.2f %8.1fx %8.1fx %6d %12.2f %8.2fx\n", n, tb, ta, t0, tb / ta,
           tb / t0, dist.n_kept, tl, tl / t0);
    free(cands);
    free(pool);
    base_free(&base);
    tp_dist_free(&dist);
}

int main(int argc, char **argv)
{
    tp_sampler_config cfg;
    tp_sampler_defaults(&cfg);
    cfg.temperature = 0.8;
    cfg.top_k = 40;
    cfg.top_p = 0.95;
    cfg.min_p = 0.05;
    tp_rng g;
    tp_rng_seed(&g, 7);
    printf("sampler chain: top-k 40, top-p 0.95, min-p 0.05, T 0.8 (temperature first); "
           "us per call, best of 5\n");
    printf("%7s %12s %12s %12s %9s %9s %6s %12s %9s\n", "V", "full-sort us", "tempest us",
           "no-views us", "ratio", "ratio", "kept", "llama-style", "ratio");
    printf("%7s %12s %12s %12s %9s %9s %6s %12s %9s\n", "", "(baseline)", "(all views)",
           "(p only)", "all views", "p only", "", "us", "p only");
    if (argc > 1) {
        for (int i = 1; i < argc; i++) {
            int n = atoi(argv[i]);
            if (n < 2 || n > 10000000) {
                fprintf(stderr, "sampler_bench: vocabulary size '%s' out of range\n", argv[i]);
                return 2;
            }
            run(n, &cfg, &g);
        }
        return 0;
    }
    const int sizes[] = {65, 256, 32000};
    for (int i = 0; i < 3; i++)
        run(sizes[i], &cfg, &g);
    return 0;
}
