/* test_sampler_views.c - tp_dist.views changes only what is computed, never
 * the result: with views off (the lazy front of the chain, where temperature
 * is folded into the keys and a greedy or small top-k cut scans the raw
 * floats, and p is cleared only where the previous call set it) the kept
 * set, cut_by, every probability, the entropy (when TP_VIEW_ENTROPY asks for
 * it; NaN otherwise) and the drawn tokens must be bit for bit those of views
 * on.
 *
 * The dists are reused across thousands of calls, as generate and decode
 * reuse theirs, so stale entries of p or of the scratch arrays would show.
 */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tempest/rng.h"
#include "tempest/sampler.h"

#define N_OF(a) ((int)(sizeof a / sizeof a[0]))

static const double TS[] = {0.0, 0.01, 0.5, 0.8, 1.0, 1.5, 50.0, 1e-300};
static const double PS[] = {0.0, 0.3, 0.9, 0.95, 1.0};
static const double MIN_PS[] = {0.0, 0.05, 0.3, 1.0};

/* Integer logits tie constantly (at the top-k boundary, the maximum, the
 * top-p crossing); real ones rarely; some vectors are flat or peaked, and
 * some hold -0.0 next to 0.0 or huge values. */
static void random_logits(tp_rng *g, float *z, int n)
{
    int kind = (int)(tp_rng_next(g) % 6);
    for (int i = 0; i < n; i++) {
        double u = tp_rng_uniform(g);
        switch (kind) {
        case 0: z[i] = (float)floor(u * 4) - 1; break;
        case 1: z[i] = (float)floor(u * 41) - 20; break;
        case 2: z[i] = (float)(10 * u - 5); break;
        case 3: z[i] = 1.0f; break;
        case 4: z[i] = u < 0.5 ? -0.0f : 0.0f; break;
        default: z[i] = (float)(u < 0.01 ? 3e38 * u : floor(u * 3)); break;
        }
    }
    if (kind == 3 || kind == 4)
        z[tp_rng_next(g) % (uint64_t)n] = 2.0f;
}

static int random_k(tp_rng *g, int n)
{
    const int ks[] = {0, 1, 2, 3, 40, 64, 65, 128, 129, n - 1, n, n + 5, -3};
    return ks[tp_rng_next(g) % N_OF(ks)];
}

static void random_order(tp_rng *g, tp_sampler_config *c)
{
    static const char *const ORDERS[] = {
        "temp-first", "trunc-first", "top_k,temperature,top_p,min_p",
        "min_p,top_k,temperature,top_p", "top_p,temperature,top_k,min_p",
        "temperature,top_k,top_p,min_p,repeat_penalty",
    };
    tp_error err;
    cr_assert_eq(tp_sampler_parse_order(c, ORDERS[tp_rng_next(g) % N_OF(ORDERS)], &err),
                 TP_OK);
}

static tp_sampler_config random_config(tp_rng *g, int n)
{
    tp_sampler_config c;
    tp_sampler_defaults(&c);
    c.temperature = TS[tp_rng_next(g) % N_OF(TS)];
    c.top_k = random_k(g, n);
    c.top_p = PS[tp_rng_next(g) % N_OF(PS)];
    c.min_p = MIN_PS[tp_rng_next(g) % N_OF(MIN_PS)];
    c.repeat_penalty = tp_rng_uniform(g) < 0.25 ? 1.3 : 1.0;
    random_order(g, &c);
    return c;
}

static void expect_same(const tp_dist *a, const tp_dist *b, const char *what)
{
    cr_assert_eq(b->n_kept, a->n_kept, "%s: n_kept %d, want %d", what, b->n_kept, a->n_kept);
    for (int i = 0; i < a->n; i++) {
        cr_assert_eq(b->kept[i], a->kept[i], "%s: kept[%d]", what, i);
        cr_assert_eq(b->cut_by[i], a->cut_by[i], "%s: cut_by[%d] = %d, want %d", what, i,
                     b->cut_by[i], a->cut_by[i]);
        cr_assert(b->p[i] == a->p[i] || (isnan(b->p[i]) && isnan(a->p[i])),
                  "%s: p[%d] = %.17g, want %.17g", what, i, b->p[i], a->p[i]);
    }
    if (!(b->views & TP_VIEW_ENTROPY)) { /* not asked for: not computed */
        cr_assert(isnan(b->entropy_bits), "%s: entropy %.17g without its view", what,
                  b->entropy_bits);
        return;
    }
    cr_assert(b->entropy_bits == a->entropy_bits ||
              (isnan(b->entropy_bits) && isnan(a->entropy_bits)),
              "%s: entropy %.17g, want %.17g", what, b->entropy_bits, a->entropy_bits);
}

/* calls random (config, logits) pairs through one dist per views setting;
 * each also draws 3 tokens from an rng per dist, seeded alike. */
static void compare_views(int n, int calls, uint64_t seed)
{
    tp_rng g, r_all, r_none, r_base, r_bare;
    tp_rng_seed(&g, seed);
    tp_rng_seed(&r_all, seed + 1);
    tp_rng_seed(&r_none, seed + 1);
    tp_rng_seed(&r_base, seed + 1);
    tp_rng_seed(&r_bare, seed + 1);
    tp_dist all, none, base, bare;
    cr_assert_eq(tp_dist_init(&all, n, NULL), TP_OK);
    cr_assert_eq(tp_dist_init(&none, n, NULL), TP_OK);
    cr_assert_eq(tp_dist_init(&base, n, NULL), TP_OK);
    cr_assert_eq(tp_dist_init(&bare, n, NULL), TP_OK);
    none.views = TP_VIEW_ENTROPY;
    base.views = TP_VIEW_BASE | TP_VIEW_ENTROPY;
    bare.views = 0; /* as a generator that only draws */
    float *z = calloc((size_t)n, sizeof *z);
    int ctx[40];
    cr_assert(z);
    char what[200];
    for (int c = 0; c < calls; c++) {
        tp_sampler_config cfg = random_config(&g, n);
        random_logits(&g, z, n);
        for (int j = 0; j < N_OF(ctx); j++)
            ctx[j] = (int)(tp_rng_next(&g) % (uint64_t)n);
        int n_ctx = tp_rng_uniform(&g) < 0.5 ? N_OF(ctx) : 0;
        char order[96];
        tp_sampler_order_label(&cfg, order, sizeof order);
        snprintf(what, sizeof what, "n=%d call %d: T=%g k=%d p=%g min_p=%g rep=%g ctx=%d %s", n,
                 c, cfg.temperature, cfg.top_k, cfg.top_p, cfg.min_p, cfg.repeat_penalty, n_ctx,
                 order);
        tp_sampler_apply(&cfg, z, ctx, n_ctx, &all);
        tp_sampler_apply(&cfg, z, ctx, n_ctx, &none);
        tp_sampler_apply(&cfg, z, ctx, n_ctx, &base);
        tp_sampler_apply(&cfg, z, ctx, n_ctx, &bare);
        expect_same(&all, &none, what);
        expect_same(&all, &base, what);
        expect_same(&all, &bare, what);
        for (int i = 0; i < n; i++)
            cr_assert(base.p_base[i] == all.p_base[i], "%s: p_base[%d]", what, i);
        for (int d = 0; d < 3; d++) {
            int t = tp_sampler_draw(&all, &r_all);
            cr_assert_eq(tp_sampler_draw(&none, &r_none), t, "%s: draw %d", what, d);
            cr_assert_eq(tp_sampler_draw(&base, &r_base), t, "%s: draw %d", what, d);
            cr_assert_eq(tp_sampler_draw(&bare, &r_bare), t, "%s: draw %d", what, d);
        }
    }
    free(z);
    tp_dist_free(&all);
    tp_dist_free(&none);
    tp_dist_free(&base);
    tp_dist_free(&bare);
}

Test(sampler_views, off_matches_on_v65) { compare_views(65, 6000, 11); }
Test(sampler_views, off_matches_on_v256) { compare_views(256, 2000, 22); }
Test(sampler_views, off_matches_on_v32000, .timeout = 120) { compare_views(32000, 400, 33); }

/* One dist whose views flip between calls: clearing p must cope with the
 * previous call having run either way. */
Test(sampler_views, toggling_views_on_one_dist)
{
    const int n = 300;
    tp_rng g;
    tp_rng_seed(&g, 44);
    tp_dist ref, flip;
    cr_assert_eq(tp_dist_init(&ref, n, NULL), TP_OK);
    cr_assert_eq(tp_dist_init(&flip, n, NULL), TP_OK);
    float z[300];
    char what[64];
    for (int c = 0; c < 3000; c++) {
        tp_sampler_config cfg = random_config(&g, n);
        random_logits(&g, z, n);
        flip.views = (unsigned)(tp_rng_next(&g) % 8);
        snprintf(what, sizeof what, "call %d views %u", c, flip.views);
        tp_sampler_apply(&cfg, z, NULL, 0, &ref);
        tp_sampler_apply(&cfg, z, NULL, 0, &flip);
        expect_same(&ref, &flip, what);
    }
    tp_dist_free(&ref);
    tp_dist_free(&flip);
}

/* The benchmark's chain on Gaussian logits, as a trained model gives them:
 * the common case of the lazy top-k must agree too, at every size. */
Test(sampler_views, benchmark_chain_gaussian)
{
    const int ns[] = {2, 17, 41, 65, 256, 4096, 32000};
    tp_rng g;
    tp_rng_seed(&g, 55);
    for (int a = 0; a < N_OF(ns); a++) {
        int n = ns[a];
        tp_dist on, off;
        cr_assert_eq(tp_dist_init(&on, n, NULL), TP_OK);
        cr_assert_eq(tp_dist_init(&off, n, NULL), TP_OK);
        off.views = 0;
        float *z = calloc((size_t)n, sizeof *z);
        cr_assert(z);
        tp_sampler_config cfg;
        tp_sampler_defaults(&cfg);
        cfg.top_k = 40;
        cfg.top_p = 0.95;
        cfg.min_p = 0.05;
        for (int c = 0; c < 50; c++) {
            for (int i = 0; i < n; i++) {
                double u1 = tp_rng_uniform(&g), u2 = tp_rng_uniform(&g);
                z[i] = (float)(2.5 * sqrt(-2.0 * log(u1 + 1e-300)) *
                               cos(6.283185307179586 * u2));
            }
            char what[48];
            snprintf(what, sizeof what, "n=%d vector %d", n, c);
            tp_sampler_apply(&cfg, z, NULL, 0, &on);
            tp_sampler_apply(&cfg, z, NULL, 0, &off);
            expect_same(&on, &off, what);
        }
        free(z);
        tp_dist_free(&on);
        tp_dist_free(&off);
    }
}
