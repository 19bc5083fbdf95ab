/* test_sampler.c - the sampling chain against DESIGN.md's worked examples and
 * the rules in sampler.h. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "tempest/rng.h"
#include "tempest/sampler.h"

static const float Z[5] = {2, 1, 0, -1, -2};

static tp_sampler_config cfg_of(double T, int k, double p, double min_p)
{
    tp_sampler_config c;
    tp_sampler_defaults(&c);
    c.temperature = T;
    c.top_k = k;
    c.top_p = p;
    c.min_p = min_p;
    return c;
}

static tp_sampler_config trunc_first(tp_sampler_config c)
{
    tp_error err;
    cr_assert_eq(tp_sampler_parse_order(&c, "top_k,top_p,min_p,temperature", &err), TP_OK);
    return c;
}

/* Apply cfg to logits and check the kept set and its probabilities: want[i]
 * is the expected p of id i, 0 meaning cut. */
static void expect_dist(const tp_sampler_config *cfg, const float *z, int n,
                        const double *want, const char *what)
{
    tp_dist d;
    cr_assert_eq(tp_dist_init(&d, n, NULL), TP_OK);
    tp_sampler_apply(cfg, z, NULL, 0, &d);
    int kept = 0;
    double sum = 0.0;
    for (int i = 0; i < n; i++) {
        if (want[i] > 0.0) {
            kept++;
            cr_assert(d.kept[i], "%s: id %d should be kept", what, i);
            cr_assert_float_eq(d.p[i], want[i], 1e-4, "%s: p[%d] = %.6f, want %.4f", what, i,
                               d.p[i], want[i]);
        } else {
            cr_assert(!d.kept[i], "%s: id %d should be cut", what, i);
            cr_assert_eq(d.p[i], 0.0, "%s: cut id %d has p %g", what, i, d.p[i]);
            cr_assert_neq(d.cut_by[i], -1, "%s: cut id %d has no cut_by", what, i);
        }
        sum += d.p[i];
    }
    cr_assert_eq(d.n_kept, kept, "%s: n_kept %d, want %d", what, d.n_kept, kept);
    cr_assert_float_eq(sum, 1.0, 1e-12, "%s: p sums to %.15f", what, sum);
    tp_dist_free(&d);
}

/* The rows of the table whose order does not matter hold in both orders. */
static void expect_both_orders(tp_sampler_config c, const double *want, const char *what)
{
    expect_dist(&c, Z, 5, want, what);
    tp_sampler_config t = trunc_first(c);
    expect_dist(&t, Z, 5, want, what);
    tp_error err;
    cr_assert_eq(tp_sampler_parse_order(&t, "trunc-first", &err), TP_OK);
    expect_dist(&t, Z, 5, want, what);
}

Test(sampler_table, t1)
{
    double w[5] = {.6364, .2341, .0861, .0317, .0117};
    expect_both_orders(cfg_of(1, 0, 1, 0), w, "T=1");
}

Test(sampler_table, t05)
{
    double w[5] = {.8647, .1170, .0158, .0021, .0003};
    expect_both_orders(cfg_of(0.5, 0, 1, 0), w, "T=0.5");
}

Test(sampler_table, t2)
{
    double w[5] = {.4287, .2600, .1577, .0956, .0580};
    expect_both_orders(cfg_of(2, 0, 1, 0), w, "T=2");
}

Test(sampler_table, t0_greedy)
{
    double w[5] = {1, 0, 0, 0, 0};
    expect_both_orders(cfg_of(0, 0, 1, 0), w, "T=0");
}

Test(sampler_table, t1_top_k2)
{
    double w[5] = {.7311, .2689, 0, 0, 0};
    expect_both_orders(cfg_of(1, 2, 1, 0), w, "T=1 top-k 2");
}

Test(sampler_table, t1_top_p09)
{
    double w[5] = {.6652, .2447, .0900, 0, 0};
    expect_both_orders(cfg_of(1, 0, 0.9, 0), w, "T=1 top-p 0.9");
}

Test(sampler_table, t1_min_p02)
{
    double w[5] = {.7311, .2689, 0, 0, 0};
    expect_both_orders(cfg_of(1, 0, 1, 0.2), w, "T=1 min-p 0.2");
}

Test(sampler_table, t3_top_p05_temperature_first)
{
    double w[5] = {.5826, .4174, 0, 0, 0};
    tp_sampler_config c = cfg_of(3, 0, 0.5, 0);
    expect_dist(&c, Z, 5, w, "T=3 top-p 0.5 temp-first");
    tp_error err;
    cr_assert_eq(tp_sampler_parse_order(&c, "temp-first", &err), TP_OK);
    expect_dist(&c, Z, 5, w, "T=3 top-p 0.5 temp-first (named)");
}

Test(sampler_table, t3_top_p05_truncation_first)
{
    double w[5] = {1, 0, 0, 0, 0};
    tp_sampler_config c = trunc_first(cfg_of(3, 0, 0.5, 0));
    expect_dist(&c, Z, 5, w, "T=3 top-p 0.5 trunc-first");
}

Test(sampler_table, t15_min_p02_temperature_first)
{
    double w[5] = {.5627, .2889, .1483, 0, 0};
    tp_sampler_config c = cfg_of(1.5, 0, 1, 0.2);
    expect_dist(&c, Z, 5, w, "T=1.5 min-p 0.2 temp-first");
}

Test(sampler_table, t15_min_p02_truncation_first)
{
    double w[5] = {.6608, .3392, 0, 0, 0};
    tp_sampler_config c = trunc_first(cfg_of(1.5, 0, 1, 0.2));
    expect_dist(&c, Z, 5, w, "T=1.5 min-p 0.2 trunc-first");
}

/* ---- ties --------------------------------------------------------------- */

static const float TIES[6] = {1, 3, 3, 3, 0, 3};

Test(sampler_ties, top_k_keeps_lower_ids)
{
    double w[6] = {0, .5, .5, 0, 0, 0};
    tp_sampler_config c = cfg_of(1, 2, 1, 0);
    expect_dist(&c, TIES, 6, w, "ties top-k 2");
    c = trunc_first(c);
    expect_dist(&c, TIES, 6, w, "ties top-k 2 trunc-first");
}

Test(sampler_ties, greedy_keeps_lowest_id)
{
    double w[6] = {0, 1, 0, 0, 0, 0};
    tp_sampler_config c = cfg_of(0, 0, 1, 0);
    expect_dist(&c, TIES, 6, w, "ties T=0");
    c = trunc_first(c);
    expect_dist(&c, TIES, 6, w, "ties T=0 trunc-first");
}

Test(sampler_ties, top_p_equal_logits)
{
    const float four[4] = {0.7f, 0.7f, 0.7f, 0.7f};
    double w[4] = {.5, .5, 0, 0};
    tp_sampler_config c = cfg_of(1, 0, 0.5, 0);
    expect_dist(&c, four, 4, w, "four equal top-p 0.5");
    c = trunc_first(c);
    expect_dist(&c, four, 4, w, "four equal top-p 0.5 trunc-first");
}

Test(sampler_ties, min_p_keeps_all_tied_maxima)
{
    double w[6] = {0, .25, .25, .25, 0, .25};
    tp_sampler_config c = cfg_of(1, 0, 1, 0.5);
    expect_dist(&c, TIES, 6, w, "ties min-p 0.5");
}

/* ---- switches that turn a stage off ------------------------------------ */

Test(sampler_off, top_k_zero_negative_or_at_least_v)
{
    double w[5] = {.6364, .2341, .0861, .0317, .0117};
    int ks[] = {0, -1, -100, 5, 6, 1000000};
    for (size_t i = 0; i < sizeof ks / sizeof ks[0]; i++) {
        char what[64];
        snprintf(what, sizeof what, "top-k %d", ks[i]);
        expect_both_orders(cfg_of(1, ks[i], 1, 0), w, what);
    }
    double w4[5] = {.6439, .2369, .0871, .0321, 0};
    expect_both_orders(cfg_of(1, 4, 1, 0), w4, "top-k 4 cuts one");
}

Test(sampler_off, top_p_one_or_more)
{
    double w[5] = {.6364, .2341, .0861, .0317, .0117};
    expect_both_orders(cfg_of(1, 0, 1.0, 0), w, "top-p 1");
    expect_both_orders(cfg_of(1, 0, 1.5, 0), w, "top-p 1.5 (apply does not validate)");
}

Test(sampler_off, top_p_crossing_token_kept)
{
    /* .6364 + .2341 = .8705: 0.87 is reached by two tokens, 0.871 needs three. */
    double w2[5] = {.7311, .2689, 0, 0, 0};
    expect_both_orders(cfg_of(1, 0, 0.87, 0), w2, "top-p 0.87");
    double w3[5] = {.6652, .2447, .0900, 0, 0};
    expect_both_orders(cfg_of(1, 0, 0.871, 0), w3, "top-p 0.871");
    /* p = 0: the most likely token alone. */
    double w1[5] = {1, 0, 0, 0, 0};
    expect_both_orders(cfg_of(1, 0, 0.0, 0), w1, "top-p 0");
    expect_both_orders(cfg_of(1, 0, 0.6364, 0), w1, "top-p 0.6364");
}

Test(sampler_off, min_p_zero)
{
    double w[5] = {.6364, .2341, .0861, .0317, .0117};
    expect_both_orders(cfg_of(1, 0, 1, 0.0), w, "min-p 0");
    /* min-p 1 keeps just the maximum. */
    double w1[5] = {1, 0, 0, 0, 0};
    expect_both_orders(cfg_of(1, 0, 1, 1.0), w1, "min-p 1");
}

/* ---- cut_by, stage snapshots, entropy ---------------------------------- */

Test(sampler_stages, cut_by_names_the_stage)
{
    tp_dist d;
    tp_dist_init(&d, 5, NULL);
    /* top-k 4 removes id 4; after it p = .6439 .2369 .0871 .0321, and
     * min-p 0.2 (threshold .1288) removes 2 and 3; top-p .99 removes none. */
    tp_sampler_config c = cfg_of(1, 4, 0.999, 0.2);
    tp_sampler_apply(&c, Z, NULL, 0, &d);
    cr_assert_eq(d.cut_by[0], -1);
    cr_assert_eq(d.cut_by[1], -1);
    cr_assert_eq(d.cut_by[2], TP_STAGE_MIN_P);
    cr_assert_eq(d.cut_by[3], TP_STAGE_MIN_P);
    cr_assert_eq(d.cut_by[4], TP_STAGE_TOP_K);
    cr_assert_eq(d.n_kept, 2);

    c = cfg_of(1, 0, 0.9, 0);
    tp_sampler_apply(&c, Z, NULL, 0, &d);
    for (int i = 0; i < 3; i++)
        cr_assert_eq(d.cut_by[i], -1);
    cr_assert_eq(d.cut_by[3], TP_STAGE_TOP_P);
    cr_assert_eq(d.cut_by[4], TP_STAGE_TOP_P);

    c = cfg_of(0, 2, 0.5, 0.5);
    tp_sampler_apply(&c, Z, NULL, 0, &d);
    cr_assert_eq(d.cut_by[0], -1);
    for (int i = 1; i < 5; i++)
        cr_assert_eq(d.cut_by[i], TP_STAGE_TEMPERATURE, "id %d cut by %d", i, d.cut_by[i]);
    tp_dist_free(&d);
}

Test(sampler_stages, stage_snapshots)
{
    tp_dist d;
    tp_dist_init(&d, 5, NULL);
    tp_sampler_config c = cfg_of(2, 2, 1, 0);
    tp_sampler_apply(&c, Z, NULL, 0, &d);
    cr_assert_eq(d.n_stages, 5);
    const tp_stage want_order[5] = {TP_STAGE_REPEAT, TP_STAGE_TEMPERATURE, TP_STAGE_TOP_K,
                                    TP_STAGE_TOP_P, TP_STAGE_MIN_P};
    for (int s = 0; s < 5; s++)
        cr_assert_eq(d.stages[s], want_order[s], "stage %d is %d", s, d.stages[s]);
    const double t1[5] = {.6364, .2341, .0861, .0317, .0117};
    const double t2[5] = {.4287, .2600, .1577, .0956, .0580};
    const double k2[5] = {.6225, .3775, 0, 0, 0};
    for (int i = 0; i < 5; i++) {
        cr_assert_float_eq(d.stage_p[0 * 5 + i], t1[i], 1e-4, "after repeat, id %d", i);
        cr_assert_float_eq(d.stage_p[1 * 5 + i], t2[i], 1e-4, "after temperature, id %d", i);
        cr_assert_float_eq(d.stage_p[2 * 5 + i], k2[i], 1e-4, "after top-k, id %d", i);
        cr_assert_float_eq(d.stage_p[3 * 5 + i], k2[i], 1e-4, "after top-p, id %d", i);
        cr_assert_float_eq(d.stage_p[4 * 5 + i], k2[i], 1e-4, "after min-p, id %d", i);
        cr_assert_float_eq(d.p[i], k2[i], 1e-4);
        cr_assert_float_eq(d.p_base[i], t1[i], 1e-4, "p_base is plain softmax, id %d", i);
        cr_assert_eq(d.logits[i], Z[i], "raw logits kept");
    }

    /* Truncation first: the snapshots follow the configured order. */
    c = trunc_first(c);
    tp_sampler_apply(&c, Z, NULL, 0, &d);
    const tp_stage tf[5] = {TP_STAGE_REPEAT, TP_STAGE_TOP_K, TP_STAGE_TOP_P, TP_STAGE_MIN_P,
                            TP_STAGE_TEMPERATURE};
    for (int s = 0; s < 5; s++)
        cr_assert_eq(d.stages[s], tf[s]);
    const double k2t1[5] = {.7311, .2689, 0, 0, 0};
    for (int i = 0; i < 5; i++) {
        cr_assert_float_eq(d.stage_p[1 * 5 + i], k2t1[i], 1e-4, "after top-k, id %d", i);
        cr_assert_float_eq(d.stage_p[4 * 5 + i], k2[i], 1e-4, "after temperature, id %d", i);
    }
    tp_dist_free(&d);
}

Test(sampler_stages, entropy_bits)
{
    tp_dist d;
    tp_dist_init(&d, 5, NULL);
    tp_sampler_config c = cfg_of(1, 0, 1, 0);
    tp_sampler_apply(&c, Z, NULL, 0, &d);
    double h = 0.0;
    for (int i = 0; i < 5; i++)
        h -= d.p[i] * log2(d.p[i]);
    cr_assert_float_eq(d.entropy_bits, h, 1e-12);
    cr_assert_float_eq(d.entropy_bits, 1.44266, 1e-4, "entropy %g", d.entropy_bits);

    const float four[4] = {3, 3, 3, 3};
    tp_dist d4;
    tp_dist_init(&d4, 4, NULL);
    tp_sampler_apply(&c, four, NULL, 0, &d4);
    cr_assert_float_eq(d4.entropy_bits, 2.0, 1e-12);
    c.top_k = 2;
    tp_sampler_apply(&c, four, NULL, 0, &d4);
    cr_assert_float_eq(d4.entropy_bits, 1.0, 1e-12);
    c.temperature = 0;
    tp_sampler_apply(&c, four, NULL, 0, &d4);
    cr_assert_eq(d4.entropy_bits, 0.0);
    tp_dist_free(&d4);
    tp_dist_free(&d);
}

/* ---- repetition penalty ------------------------------------------------- */

Test(sampler_repeat, ctrl_style_last_n_once_each)
{
    tp_dist d;
    tp_dist_init(&d, 5, NULL);
    tp_sampler_config c = cfg_of(1, 0, 1, 0);
    c.repeat_penalty = 2.0;
    c.repeat_last_n = 3;
    /* The last three context tokens are 0, 3, 0: z0 = 2 / 2 = 1 (once, not
     * twice), z3 = -1 * 2 = -2; id 1 is outside the window, id 2 unseen. */
    const int ctx[] = {1, 0, 3, 0};
    tp_sampler_apply(&c, Z, ctx, 4, &d);
    const double zz[5] = {1, 1, 0, -2, -2};
    double sum = 0, want[5];
    for (int i = 0; i < 5; i++)
        sum += exp(zz[i]);
    for (int i = 0; i < 5; i++) {
        want[i] = exp(zz[i]) / sum;
        cr_assert_float_eq(d.p[i], want[i], 1e-9, "p[%d] = %g, want %g", i, d.p[i], want[i]);
        cr_assert_float_eq(d.stage_p[i], want[i], 1e-9, "repeat snapshot id %d", i);
    }
    cr_assert_float_eq(d.p_base[0], .6364, 1e-4, "p_base ignores the penalty");
    cr_assert_eq(d.logits[0], 2.0f, "raw logits ignore the penalty");

    /* A wider window reaches id 1 too: z1 = 1 / 2. */
    c.repeat_last_n = 4;
    tp_sampler_apply(&c, Z, ctx, 4, &d);
    const double zw[5] = {1, 0.5, 0, -2, -2};
    sum = 0;
    for (int i = 0; i < 5; i++)
        sum += exp(zw[i]);
    for (int i = 0; i < 5; i++)
        cr_assert_float_eq(d.p[i], exp(zw[i]) / sum, 1e-9, "window 4, id %d", i);

    /* Penalty 1 or window 0 is off. */
    const double plain[5] = {.6364, .2341, .0861, .0317, .0117};
    c.repeat_last_n = 0;
    tp_sampler_apply(&c, Z, ctx, 4, &d);
    for (int i = 0; i < 5; i++)
        cr_assert_float_eq(d.p[i], plain[i], 1e-4);
    c.repeat_last_n = 64;
    c.repeat_penalty = 1.0;
    tp_sampler_apply(&c, Z, ctx, 4, &d);
    for (int i = 0; i < 5; i++)
        cr_assert_float_eq(d.p[i], plain[i], 1e-4);
    tp_dist_free(&d);
}

Test(sampler_repeat, penalty_below_one_and_ignores_bad_ids)
{
    tp_dist d;
    tp_dist_init(&d, 5, NULL);
    tp_sampler_config c = cfg_of(1, 0, 1, 0);
    c.repeat_penalty = 0.5; /* a "reward": z / 0.5 for positive, z * 0.5 for negative */
    const int ctx[] = {-1, 7, 1, 4};
    tp_sampler_apply(&c, Z, ctx, 4, &d);
    const double zz[5] = {2, 2, 0, -1, -1};
    double sum = 0;
    for (int i = 0; i < 5; i++)
        sum += exp(zz[i]);
    for (int i = 0; i < 5; i++)
        cr_assert_float_eq(d.p[i], exp(zz[i]) / sum, 1e-9, "id %d", i);
    tp_dist_free(&d);
}

Test(sampler_repeat, placed_after_temperature)
{
    /* repeat_penalty after temperature sees z / T: at T = 2 id 0 has 1, so
     * R = 2 makes it 0.5. */
    tp_dist d;
    tp_dist_init(&d, 5, NULL);
    tp_sampler_config c = cfg_of(2, 0, 1, 0);
    tp_error err;
    cr_assert_eq(tp_sampler_parse_order(&c, "temperature,repeat_penalty,top_k,top_p,min_p",
                                        &err), TP_OK);
    c.repeat_penalty = 2.0;
    const int ctx[] = {0};
    tp_sampler_apply(&c, Z, ctx, 1, &d);
    const double zz[5] = {0.5, 0.5, 0, -0.5, -1};
    double sum = 0;
    for (int i = 0; i < 5; i++)
        sum += exp(zz[i]);
    for (int i = 0; i < 5; i++)
        cr_assert_float_eq(d.p[i], exp(zz[i]) / sum, 1e-9, "id %d", i);
    tp_dist_free(&d);
}

/* ---- robustness ---------------------------------------------------------- */

static void check_sane(const tp_dist *d, const char *what)
{
    double sum = 0.0;
    cr_assert_geq(d->n_kept, 1, "%s: nothing kept", what);
    int kept = 0;
    for (int i = 0; i < d->n; i++) {
        cr_assert(isfinite(d->p[i]) && d->p[i] >= 0.0 && d->p[i] <= 1.0,
                  "%s: p[%d] = %g", what, i, d->p[i]);
        cr_assert(isfinite(d->p_base[i]), "%s: p_base[%d] = %g", what, i, d->p_base[i]);
        for (int s = 0; s < d->n_stages; s++)
            cr_assert(isfinite(d->stage_p[(size_t)s * d->n + i]), "%s: stage %d", what, s);
        sum += d->p[i];
        kept += d->kept[i] != 0;
    }
    cr_assert_eq(kept, d->n_kept, "%s", what);
    cr_assert_float_eq(sum, 1.0, 1e-9, "%s: sum %.12f", what, sum);
    cr_assert(isfinite(d->entropy_bits) && d->entropy_bits >= 0.0, "%s: entropy %g", what,
              d->entropy_bits);
}

Test(sampler_robust, no_nan_for_any_temperature)
{
    const float huge[6] = {1e30f, -1e30f, 0, 1e30f, -3e38f, 3e38f};
    const float small[5] = {1e-30f, -1e-30f, 0, 5, -5};
    const float *vecs[] = {Z, huge, small};
    const int ns[] = {5, 6, 5};
    const double Ts[] = {0.001, 0.01, 0.1, 0.5, 1, 2, 10, 50, 100};
    tp_dist d;
    for (int v = 0; v < 3; v++) {
        tp_dist_init(&d, ns[v], NULL);
        for (size_t t = 0; t < sizeof Ts / sizeof Ts[0]; t++)
            for (int order = 0; order < 2; order++)
                for (int trunc = 0; trunc < 4; trunc++) {
                    tp_sampler_config c = cfg_of(Ts[t], trunc == 1 ? 2 : 0,
                                                 trunc == 2 ? 0.9 : 1, trunc == 3 ? 0.1 : 0);
                    if (order)
                        c = trunc_first(c);
                    tp_sampler_apply(&c, vecs[v], NULL, 0, &d);
                    char what[96];
                    snprintf(what, sizeof what, "vec %d T=%g order %d trunc %d", v, Ts[t],
                             order, trunc);
                    check_sane(&d, what);
                }
        tp_dist_free(&d);
    }
    /* T = 0.001 on Z is (numerically) greedy; T = 100 is nearly flat. */
    tp_dist_init(&d, 5, NULL);
    tp_sampler_config c = cfg_of(0.001, 0, 1, 0);
    tp_sampler_apply(&c, Z, NULL, 0, &d);
    cr_assert_float_eq(d.p[0], 1.0, 1e-12);
    c.temperature = 100;
    tp_sampler_apply(&c, Z, NULL, 0, &d);
    for (int i = 0; i < 5; i++)
        cr_assert_float_eq(d.p[i], 0.2, 0.005);
    tp_dist_free(&d);
}

Test(sampler_robust, huge_logits_exact_values)
{
    const float huge[4] = {1e30f, -1e30f, 0, 1e30f};
    tp_dist d;
    tp_dist_init(&d, 4, NULL);
    tp_sampler_config c = cfg_of(1, 0, 1, 0);
    tp_sampler_apply(&c, huge, NULL, 0, &d);
    const double w[4] = {.5, 0, 0, .5};
    for (int i = 0; i < 4; i++) {
        cr_assert_float_eq(d.p[i], w[i], 1e-12);
        cr_assert_float_eq(d.p_base[i], w[i], 1e-12);
    }
    const float low[3] = {-1e30f, -1e30f, -1e30f};
    tp_dist d3;
    tp_dist_init(&d3, 3, NULL);
    tp_sampler_apply(&c, low, NULL, 0, &d3);
    for (int i = 0; i < 3; i++)
        cr_assert_float_eq(d3.p[i], 1.0 / 3, 1e-12);
    tp_dist_free(&d3);
    tp_dist_free(&d);
}

Test(sampler_robust, one_token_always_survives)
{
    tp_rng rng;
    tp_rng_seed(&rng, 99);
    tp_dist d;
    tp_dist_init(&d, 17, NULL);
    float z[17];
    for (int trial = 0; trial < 2000; trial++) {
        for (int i = 0; i < 17; i++)
            z[i] = (float)((tp_rng_uniform(&rng) - 0.5) * (trial % 3 == 0 ? 1e4 : 10));
        tp_sampler_config c = cfg_of(tp_rng_uniform(&rng) < 0.2 ? 0 : 0.001 + 5 * tp_rng_uniform(&rng),
                                     (int)(tp_rng_uniform(&rng) * 20),
                                     tp_rng_uniform(&rng) * 1.1, tp_rng_uniform(&rng));
        if (trial & 1)
            c = trunc_first(c);
        tp_sampler_apply(&c, z, NULL, 0, &d);
        char what[32];
        snprintf(what, sizeof what, "trial %d", trial);
        check_sane(&d, what);
    }
    /* Everything at its most severe still leaves one. */
    tp_sampler_config c = cfg_of(0, 1, 0, 1);
    tp_sampler_apply(&c, z, NULL, 0, &d);
    cr_assert_eq(d.n_kept, 1);
    tp_dist_free(&d);
}

/* ---- validation --------------------------------------------------------- */

static void expect_invalid(tp_sampler_config c, const char *needle1, const char *needle2)
{
    tp_error err = {0};
    cr_assert_eq(tp_sampler_validate(&c, &err), TP_ERR_USAGE, "accepted; wanted '%s'",
                 needle1);
    cr_assert_eq(err.code, TP_ERR_USAGE);
    cr_assert(strstr(err.msg, needle1), "message '%s' lacks '%s'", err.msg, needle1);
    cr_assert(strstr(err.msg, needle2), "message '%s' lacks '%s'", err.msg, needle2);
}

Test(sampler_validate, rejects_bad_values_naming_them)
{
    tp_sampler_config c = cfg_of(-1, 0, 1, 0);
    expect_invalid(c, "temperature", "-1");
    c = cfg_of(NAN, 0, 1, 0);
    expect_invalid(c, "temperature", "nan");
    c = cfg_of(101, 0, 1, 0);
    expect_invalid(c, "temperature", "101");
    c = cfg_of(1, -3, 1, 0);
    expect_invalid(c, "top-k", "-3");
    c = cfg_of(1, 0, 1.5, 0);
    expect_invalid(c, "top-p", "1.5");
    c = cfg_of(1, 0, NAN, 0);
    expect_invalid(c, "top-p", "nan");
    c = cfg_of(1, 0, 1, -0.1);
    expect_invalid(c, "min-p", "-0.1");
    c = cfg_of(1, 0, 1, 2);
    expect_invalid(c, "min-p", "2");
    c = cfg_of(1, 0, 1, 0);
    c.repeat_penalty = 0;
    expect_invalid(c, "penalty", "0");
    c = cfg_of(1, 0, 1, 0);
    c.repeat_last_n = -4;
    expect_invalid(c, "repeat-last-n", "-4");
}

Test(sampler_validate, accepts_the_edges)
{
    const tp_sampler_config ok[] = {cfg_of(0, 0, 1, 0), cfg_of(100, 0, 1, 0),
                                    cfg_of(0.001, 1000, 0, 1), cfg_of(1, 0, 1, 0)};
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
        tp_error err = {0};
        cr_assert_eq(tp_sampler_validate(&ok[i], &err), TP_OK, "case %zu: %s", i, err.msg);
    }
    tp_sampler_config d;
    tp_sampler_defaults(&d);
    cr_assert_eq(tp_sampler_validate(&d, NULL), TP_OK);
    cr_assert_float_eq(d.temperature, 0.8, 1e-12);
    cr_assert_eq(d.top_k, 0);
    cr_assert_eq(d.top_p, 1.0);
    cr_assert_eq(d.min_p, 0.0);
    cr_assert_eq(d.repeat_penalty, 1.0);
    cr_assert_eq(d.repeat_last_n, 64);
    cr_assert(tp_sampler_is_temperature_first(&d));
}

/* ---- order parsing ------------------------------------------------------- */

static const char *const TRUNC_NAMES[4] = {"temperature", "top_k", "top_p", "min_p"};
static const tp_stage TRUNC_STAGES[4] = {TP_STAGE_TEMPERATURE, TP_STAGE_TOP_K, TP_STAGE_TOP_P,
                                         TP_STAGE_MIN_P};

Test(sampler_order, every_permutation)
{
    int perm[4], count = 0;
    for (perm[0] = 0; perm[0] < 4; perm[0]++)
        for (perm[1] = 0; perm[1] < 4; perm[1]++)
            for (perm[2] = 0; perm[2] < 4; perm[2]++)
                for (perm[3] = 0; perm[3] < 4; perm[3]++) {
                    int used = (1 << perm[0]) | (1 << perm[1]) | (1 << perm[2]) | (1 << perm[3]);
                    if (used != 15)
                        continue;
                    char text[80];
                    snprintf(text, sizeof text, "%s,%s,%s,%s", TRUNC_NAMES[perm[0]],
                             TRUNC_NAMES[perm[1]], TRUNC_NAMES[perm[2]], TRUNC_NAMES[perm[3]]);
                    tp_sampler_config c;
                    tp_sampler_defaults(&c);
                    tp_error err = {0};
                    cr_assert_eq(tp_sampler_parse_order(&c, text, &err), TP_OK, "%s: %s",
                                 text, err.msg);
                    cr_assert_eq(c.n_order, 5, "%s", text);
                    cr_assert_eq(c.order[0], TP_STAGE_REPEAT, "%s: penalty runs first", text);
                    for (int i = 0; i < 4; i++)
                        cr_assert_eq(c.order[i + 1], TRUNC_STAGES[perm[i]], "%s: slot %d",
                                     text, i + 1);
                    cr_assert_eq(tp_sampler_is_temperature_first(&c), perm[0] == 0, "%s", text);
                    count++;
                }
    cr_assert_eq(count, 24);
}

Test(sampler_order, named_orders_and_spellings)
{
    tp_sampler_config c;
    tp_sampler_defaults(&c);
    tp_error err;
    char label[128];
    tp_sampler_order_label(&c, label, sizeof label);
    cr_assert_str_eq(label, "temp-first");

    cr_assert_eq(tp_sampler_parse_order(&c, "trunc-first", &err), TP_OK);
    tp_sampler_order_label(&c, label, sizeof label);
    cr_assert_str_eq(label, "trunc-first");
    cr_assert(!tp_sampler_is_temperature_first(&c));
    const tp_stage tf[5] = {TP_STAGE_REPEAT, TP_STAGE_TOP_K, TP_STAGE_TOP_P, TP_STAGE_MIN_P,
                            TP_STAGE_TEMPERATURE};
    cr_assert_eq(memcmp(c.order, tf, sizeof tf), 0);

    cr_assert_eq(tp_sampler_parse_order(&c, "temp-first", &err), TP_OK);
    tp_sampler_order_label(&c, label, sizeof label);
    cr_assert_str_eq(label, "temp-first");

    /* Dashes and underscores, case and spaces. */
    cr_assert_eq(tp_sampler_parse_order(&c, "top-k, TOP-P ,min-p,temperature", &err), TP_OK,
                 "%s", err.msg);
    tp_sampler_order_label(&c, label, sizeof label);
    cr_assert_str_eq(label, "trunc-first");

    cr_assert_eq(tp_sampler_parse_order(&c, "top_p,temperature,min_p,top_k", &err), TP_OK);
    tp_sampler_order_label(&c, label, sizeof label);
    cr_assert_str_eq(label, "repeat_penalty,top_p,temperature,min_p,top_k");

    /* The penalty may be placed explicitly. */
    cr_assert_eq(tp_sampler_parse_order(&c, "temperature,top_k,repeat-penalty,top_p,min_p",
                                        &err), TP_OK, "%s", err.msg);
    const tp_stage rp[5] = {TP_STAGE_TEMPERATURE, TP_STAGE_TOP_K, TP_STAGE_REPEAT,
                            TP_STAGE_TOP_P, TP_STAGE_MIN_P};
    cr_assert_eq(c.n_order, 5);
    cr_assert_eq(memcmp(c.order, rp, sizeof rp), 0);
    cr_assert_str_eq(tp_stage_name(TP_STAGE_MIN_P), "min_p");
}

static void expect_bad_order(const char *text, const char *needle)
{
    tp_sampler_config c, before;
    tp_sampler_defaults(&c);
    before = c;
    tp_error err = {0};
    cr_assert_eq(tp_sampler_parse_order(&c, text, &err), TP_ERR_USAGE, "'%s' accepted", text);
    cr_assert(strstr(err.msg, needle), "'%s': message '%s' lacks '%s'", text, err.msg, needle);
    cr_assert_eq(memcmp(&c, &before, sizeof c), 0, "'%s' changed the config", text);
}

Test(sampler_order, rejects_unknown_duplicate_missing)
{
    expect_bad_order("temperature,top_k,top_q,min_p", "top_q");
    expect_bad_order("temperature,top_k,top_p,min_p,typical", "typical");
    expect_bad_order("temperature,top_k,top_p,min_p,temperature", "twice");
    expect_bad_order("top_k,top_k,top_p,min_p,temperature", "top_k");
    expect_bad_order("temperature,top_k,top_p", "missing min_p");
    expect_bad_order("top_k,top_p,min_p", "missing temperature");
    expect_bad_order("", "unknown");
    expect_bad_order("temperature,,top_k,top_p,min_p", "unknown");
    expect_bad_order("temp-first,trunc-first", "unknown");
}

/* ---- drawing ------------------------------------------------------------- */

Test(sampler_draw, deterministic_for_a_seed)
{
    tp_dist d;
    tp_dist_init(&d, 5, NULL);
    tp_sampler_config c = cfg_of(2, 0, 1, 0);
    tp_sampler_apply(&c, Z, NULL, 0, &d);
    tp_rng a, b, other;
    tp_rng_seed(&a, 42);
    tp_rng_seed(&b, 42);
    tp_rng_seed(&other, 43);
    int differ = 0;
    for (int i = 0; i < 200; i++) {
        int x = tp_sampler_draw(&d, &a), y = tp_sampler_draw(&d, &b);
        cr_assert_eq(x, y, "draw %d: %d vs %d", i, x, y);
        differ += tp_sampler_draw(&d, &other) != x;
    }
    cr_assert_gt(differ, 20, "seed 43 matches seed 42 too often (%d of 200 differ)", differ);
    tp_dist_free(&d);
}

Test(sampler_draw, one_uniform_then_cumulative_in_id_order)
{
    tp_dist d;
    tp_dist_init(&d, 5, NULL);
    tp_sampler_config c = cfg_of(1, 0, 0.9, 0);
    tp_sampler_apply(&c, Z, NULL, 0, &d);
    tp_rng rng, copy;
    tp_rng_seed(&rng, 7);
    for (int i = 0; i < 500; i++) {
        copy = rng;
        double u = tp_rng_uniform(&copy);
        int want = -1;
        double acc = 0;
        for (int id = 0; id < 5 && want < 0; id++) {
            if (!d.kept[id])
                continue;
            acc += d.p[id];
            if (u < acc)
                want = id;
        }
        cr_assert_eq(tp_sampler_draw(&d, &rng), want, "u = %g", u);
        cr_assert_eq(memcmp(&rng, &copy, sizeof rng), 0, "a draw uses exactly one number");
    }
    tp_dist_free(&d);
}

Test(sampler_draw, frequencies_match_p)
{
    tp_dist d;
    tp_dist_init(&d, 5, NULL);
    tp_sampler_config c = cfg_of(1.5, 4, 1, 0);
    tp_sampler_apply(&c, Z, NULL, 0, &d);
    tp_rng rng;
    tp_rng_seed(&rng, 2024);
    const int N = 200000;
    long count[5] = {0};
    for (int i = 0; i < N; i++)
        count[tp_sampler_draw(&d, &rng)]++;
    cr_assert_eq(count[4], 0, "a cut token was drawn");
    double chi2 = 0.0;
    for (int i = 0; i < 4; i++) {
        double e = N * d.p[i];
        chi2 += (count[i] - e) * (count[i] - e) / e;
    }
    /* 3 degrees of freedom: P(chi2 > 25) is about 1.6e-5. */
    cr_assert_lt(chi2, 25.0, "chi-square %g: counts %ld %ld %ld %ld", chi2, count[0], count[1],
                 count[2], count[3]);
    tp_dist_free(&d);
}

Test(sampler_draw, greedy_returns_argmax)
{
    tp_dist d;
    tp_dist_init(&d, 6, NULL);
    tp_sampler_config c = cfg_of(0, 0, 1, 0);
    tp_sampler_apply(&c, TIES, NULL, 0, &d);
    tp_rng rng;
    tp_rng_seed(&rng, 5);
    for (int i = 0; i < 1000; i++)
        cr_assert_eq(tp_sampler_draw(&d, &rng), 1);
    const float z[5] = {-3, 0.5f, 7, 6.9f, -1};
    tp_dist d5;
    tp_dist_init(&d5, 5, NULL);
    tp_sampler_apply(&c, z, NULL, 0, &d5);
    for (int i = 0; i < 1000; i++)
        cr_assert_eq(tp_sampler_draw(&d5, &rng), 2);
    tp_dist_free(&d5);
    tp_dist_free(&d);
}

Test(sampler_draw, order_and_rank)
{
    tp_dist d;
    tp_dist_init(&d, 6, NULL);
    tp_sampler_config c = cfg_of(1, 2, 1, 0);
    tp_sampler_apply(&c, TIES, NULL, 0, &d);
    int order[6];
    tp_dist_order(&d, 0, order);
    const int by_base[6] = {1, 2, 3, 5, 0, 4};
    for (int i = 0; i < 6; i++)
        cr_assert_eq(order[i], by_base[i], "by p_base, position %d", i);
    tp_dist_order(&d, 1, order);
    const int by_final[6] = {1, 2, 0, 3, 4, 5};
    for (int i = 0; i < 6; i++)
        cr_assert_eq(order[i], by_final[i], "by p, position %d", i);
    cr_assert_eq(tp_dist_rank(&d, 1), 0);
    cr_assert_eq(tp_dist_rank(&d, 5), 3);
    cr_assert_eq(tp_dist_rank(&d, 4), 5);
    tp_dist_free(&d);
}
