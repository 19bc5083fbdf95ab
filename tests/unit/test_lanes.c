/* test_lanes.c - lane specs, lane sets, divergence, the butterfly margin and
 * the chaos statistics, on a tiny in-memory model. */
#include <criterion/criterion.h>
#include <math.h>
#include <string.h>

#include "helpers.h"
#include "tempest/chaos.h"
#include "tempest/knobs.h"
#include "tempest/lanes.h"

static th_lstm M;
static tp_model *MODEL;

static void setup(void)
{
    tp_error err = {0};
    MODEL = th_small_model(&M, 33, &err);
    cr_assert_not_null(MODEL, "%s", err.msg);
}

static void teardown(void)
{
    tp_model_free(MODEL);
    th_lstm_free(&M);
}

TestSuite(lanes, .init = setup, .fini = teardown);

/* ---- the spec parser ---- */

Test(lanes, parses_temperatures_and_settings)
{
    tp_lane_request r;
    tp_error err = {0};
    cr_assert_eq(tp_lanes_parse("0.2,0.8/p0.9,1.2/k40/m0.05", &r, &err), TP_OK, "%s", err.msg);
    cr_assert_eq(r.n, 3);
    cr_assert_float_eq(r.lanes[0].temperature, 0.2, 1e-12);
    cr_assert_eq(r.lanes[0].set, 0u);
    cr_assert_eq(r.lanes[1].set, TP_LANE_TOP_P);
    cr_assert_float_eq(r.lanes[1].top_p, 0.9, 1e-12);
    cr_assert_eq(r.lanes[2].set, TP_LANE_TOP_K | TP_LANE_MIN_P);
    cr_assert_eq(r.lanes[2].top_k, 40);
    cr_assert_float_eq(r.lanes[2].min_p, 0.05, 1e-12);
    char text[64];
    tp_lane_spec_format(&r.lanes[2], text, sizeof text);
    cr_assert_str_eq(text, "1.2/k40/m0.05");

    tp_sampler_config base, cfg;
    tp_sampler_defaults(&base);
    base.top_k = 7;
    tp_lane_spec_apply(&r.lanes[1], &base, &cfg);
    cr_assert_float_eq(cfg.temperature, 0.8, 1e-12);
    cr_assert_float_eq(cfg.top_p, 0.9, 1e-12);
    cr_assert_eq(cfg.top_k, 7, "a lane keeps the base settings it does not name");
}

static void expect_bad(const char *text, const char *needle)
{
    tp_lane_request r;
    tp_error err = {0};
    cr_assert_eq(tp_lanes_parse(text, &r, &err), TP_ERR_USAGE, "'%s' was accepted", text);
    cr_assert(strstr(err.msg, needle), "'%s': message '%s' lacks '%s'", text, err.msg, needle);
}

Test(lanes, bad_specs_name_the_bad_part)
{
    expect_bad("0.8", "2 to 4 lanes");
    expect_bad("", "2 to 4 lanes");
    expect_bad("0.1,0.2,0.3,0.4,0.5", "got 5");
    expect_bad("0.2,hot", "lane 2 'hot'");
    expect_bad("0.2,7", "lane 2 '7': the temperature 7 is out of range (0 to 5)");
    expect_bad("0.2,-1", "out of range");
    expect_bad("0.2,,0.5", "lane 2 is empty");
    expect_bad("0.2,0.8/q3", "lane 2 '0.8/q3': unknown setting 'q3' (use /kN, /pX or /mX)");
    expect_bad("0.2,0.8/p0", "top-p");
    expect_bad("0.2,0.8/p1.5", "top-p");
    expect_bad("0.2,0.8/k2.5", "top-k");
    expect_bad("0.2,0.8/m2", "min-p");
    expect_bad("0.2,0.8/p", "'p' needs a number after 'p'");
    expect_bad("0.2,0.8/kx", "'kx' needs a number");
    expect_bad("0.2,0.8/", "unknown setting");
}

Test(lanes, butterfly_request)
{
    tp_lane_request r;
    tp_error err = {0};
    cr_assert_eq(tp_lanes_butterfly(0.8, 0.01, &r, &err), TP_OK);
    cr_assert_eq(r.n, 2);
    cr_assert(r.butterfly);
    cr_assert_float_eq(r.lanes[1].temperature, 0.81, 1e-12);
    cr_assert_eq(tp_lanes_butterfly(0.8, 0, &r, &err), TP_ERR_USAGE);
    cr_assert(strstr(err.msg, "epsilon"));
    cr_assert_eq(tp_lanes_butterfly(4.99, 0.5, &r, &err), TP_ERR_USAGE);
    cr_assert_eq(tp_lanes_butterfly(-1, 0.1, &r, &err), TP_ERR_USAGE);
}

/* ---- divergence and the split ---- */

Test(lanes, divergence_of_histories)
{
    tp_step a[5] = {{.token = 1}, {.token = 2}, {.token = 3}, {.token = 4}, {.token = 5}};
    tp_step b[4] = {{.token = 1}, {.token = 2}, {.token = 9}, {.token = 4}};
    cr_assert_eq(tp_steps_divergence(a, 5, b, 4), 2);
    cr_assert_eq(tp_steps_divergence(a, 5, a, 5), -1);
    cr_assert_eq(tp_steps_divergence(a, 5, b, 2), -1, "only the common steps count");
    cr_assert_eq(tp_steps_divergence(a, 0, b, 4), -1);
}

static void hand_dist(tp_dist *d, const double *p, int n)
{
    cr_assert_eq(tp_dist_init(d, n, NULL), TP_OK);
    for (int i = 0; i < n; i++) {
        d->p[i] = p[i];
        d->kept[i] = p[i] > 0;
    }
}

Test(lanes, split_margin_and_gap)
{
    /* At T lane 0 has 0.40 0.35 0.25, at T + eps lane 1 has 0.38 0.36 0.26:
     * u = 0.39 lies in token 0's [0, 0.40) for lane 0 and in token 1's
     * [0.38, 0.74) for lane 1. The margin is min(0.39 - 0, 0.40 - 0.39). */
    const double p0[3] = {0.40, 0.35, 0.25}, p1[3] = {0.38, 0.36, 0.26};
    tp_dist d0, d1;
    hand_dist(&d0, p0, 3);
    hand_dist(&d1, p1, 3);
    tp_split s;
    cr_assert_eq(tp_split_measure(&d0, &d1, 0.39, 17, &s), 1);
    cr_assert_eq(s.step, 17);
    cr_assert_eq(s.token_a, 0);
    cr_assert_eq(s.token_b, 1);
    cr_assert_float_eq(s.lo, 0.0, 1e-15);
    cr_assert_float_eq(s.hi, 0.40, 1e-15);
    cr_assert_float_eq(s.margin, 0.01, 1e-12);
    cr_assert_float_eq(s.gap, 0.05, 1e-12);
    cr_assert_float_eq(s.p1_a, 0.38, 1e-15);
    cr_assert_float_eq(s.p1_b, 0.36, 1e-15);
    /* Far from any boundary both pick the same token: no split. */
    cr_assert_eq(tp_split_measure(&d0, &d1, 0.9, 3, &s), 0);
    cr_assert_eq(s.step, -1);
    /* u just above the lower edge of lane 0's token 1: margin u - lo. */
    const double q1[3] = {0.42, 0.33, 0.25};
    tp_dist d2;
    hand_dist(&d2, q1, 3);
    cr_assert_eq(tp_split_measure(&d0, &d2, 0.41, 0, &s), 1);
    cr_assert_eq(s.token_a, 1);
    cr_assert_eq(s.token_b, 0);
    cr_assert_float_eq(s.margin, 0.01, 1e-12);
    tp_dist_free(&d0);
    tp_dist_free(&d1);
    tp_dist_free(&d2);
}

Test(lanes, pick_matches_draw)
{
    const double p[4] = {0.1, 0.0, 0.6, 0.3};
    tp_dist d;
    hand_dist(&d, p, 4);
    tp_rng r1, r2;
    tp_rng_seed(&r1, 5);
    tp_rng_seed(&r2, 5);
    for (int i = 0; i < 1000; i++) {
        double lo, hi;
        int tok = tp_sampler_pick(&d, tp_rng_uniform(&r1), &lo, &hi);
        cr_assert_eq(tok, tp_sampler_draw(&d, &r2));
        cr_assert_float_eq(hi - lo, p[tok], 1e-12);
    }
    tp_dist_free(&d);
}

/* ---- lane sets ---- */

static tp_lane_set *new_set(const char *spec, uint64_t seed)
{
    tp_lane_request req;
    tp_error err = {0};
    cr_assert_eq(tp_lanes_parse(spec, &req, &err), TP_OK, "%s", err.msg);
    tp_sampler_config base;
    tp_sampler_defaults(&base);
    tp_lane_set *s = NULL;
    cr_assert_eq(tp_lane_set_new(&s, MODEL, "ab", &base, seed, &req, &err), TP_OK, "%s",
                 err.msg);
    return s;
}

static void step_n(tp_lane_set *s, int n)
{
    tp_error err = {0};
    for (int i = 0; i < n; i++)
        cr_assert_eq(tp_lane_set_step(s, &err), TP_OK, "%s", err.msg);
}

Test(lanes, same_settings_same_text_as_one_session)
{
    /* Batched lanes with equal settings write what one session writes: the
     * batched step is bit-identical and each draw uses one uniform. */
    tp_lane_set *s = new_set("0.9,0.9,0.9", 11);
    step_n(s, 150);
    tp_sampler_config cfg;
    tp_sampler_defaults(&cfg);
    cfg.temperature = 0.9;
    tp_session *one = NULL;
    cr_assert_eq(tp_session_new(&one, MODEL, "ab", &cfg, 11, NULL), TP_OK);
    for (int i = 0; i < 150; i++)
        tp_session_step(one, NULL);
    for (int l = 0; l < 3; l++)
        for (int i = 0; i < 150; i++)
            cr_assert_eq(s->lanes[l]->steps[i].token, one->steps[i].token, "lane %d step %d",
                         l, i);
    cr_assert_eq(tp_lane_set_divergence(s, NULL, NULL), -1);
    cr_assert_eq(s->split.step, -1);
    tp_session_free(one);
    tp_lane_set_free(s);
}

Test(lanes, lanes_diverge_and_the_split_is_recorded)
{
    int found = 0;
    for (uint64_t seed = 1; seed <= 20; seed++) {
        tp_lane_request req;
        cr_assert_eq(tp_lanes_butterfly(1.0, 0.05, &req, NULL), TP_OK);
        tp_sampler_config base;
        tp_sampler_defaults(&base);
        tp_lane_set *s = NULL;
        cr_assert_eq(tp_lane_set_new(&s, MODEL, "ab", &base, seed, &req, NULL), TP_OK);
        step_n(s, 200);
        tp_session *a = s->lanes[0], *b = s->lanes[1];
        int d = tp_steps_divergence(a->steps, a->n_steps, b->steps, b->n_steps);
        cr_assert_eq(tp_lane_set_divergence(s, NULL, NULL), d);
        cr_assert_eq(tp_lane_set_lane_divergence(s, 1), d);
        cr_assert_eq(s->split.step, d, "seed %llu", (unsigned long long)seed);
        if (d >= 0) {
            found++;
            cr_assert_eq(s->split.token_a, a->steps[d].token);
            cr_assert_eq(s->split.token_b, b->steps[d].token);
            cr_assert_float_eq(s->split.p0_a, a->steps[d].p, 1e-6);
            cr_assert_float_eq(s->split.p1_b, b->steps[d].p, 1e-6);
            cr_assert(s->split.margin >= 0 && s->split.margin <= s->split.p0_a + 1e-12);
            cr_assert(s->split.u >= s->split.lo && s->split.u < s->split.hi + 1e-12);
        }
        /* restart: same seed, same text, the split found again */
        int before = s->split.step;
        cr_assert_eq(tp_lane_set_restart(s, NULL, seed, NULL), TP_OK);
        cr_assert_eq(s->split.step, -1);
        step_n(s, 200);
        cr_assert_eq(s->split.step, before);
        tp_lane_set_free(s);
    }
    cr_assert(found > 0, "T 1.0 and 1.05 never split in 20 seeds x 200 steps");
}

Test(lanes, pair_divergence_orders_lanes)
{
    tp_lane_set *s = new_set("0,0,3", 4);
    step_n(s, 100);
    cr_assert_eq(tp_lane_set_pair_divergence(s, 0, 1), -1, "two greedy lanes agree");
    int d02 = tp_lane_set_pair_divergence(s, 0, 2);
    cr_assert(d02 >= 0, "greedy and T=3 never differed");
    cr_assert_eq(tp_lane_set_pair_divergence(s, 2, 0), d02);
    int i = -1, j = -1;
    cr_assert_eq(tp_lane_set_divergence(s, &i, &j), d02);
    cr_assert_eq(i, 0);
    cr_assert_eq(j, 2);
    tp_session *kept = tp_lane_set_detach(s, 1);
    cr_assert_not_null(kept);
    cr_assert_null(s->lanes[1]);
    step_n(s, 5); /* the others go on without it */
    cr_assert_eq(s->lanes[0]->n_steps, 105);
    tp_lane_set_free(s);
    tp_session_free(kept);
}

/* ---- chaos ---- */

Test(lanes, chaos_stats_on_fixed_steps)
{
    /* sorted, censored as 30: 0 3 5 7 12 20 30 30 */
    const int steps[8] = {5, -1, 0, 12, 7, 3, -1, 20};
    tp_chaos_stats s;
    tp_chaos_stats_compute(steps, 8, 30, &s);
    cr_assert_eq(s.n, 8);
    cr_assert_eq(s.n_split, 6);
    cr_assert_eq(s.n_censored, 2);
    cr_assert_float_eq(s.min, 0, 1e-12);
    cr_assert_float_eq(s.q1, 4.5, 1e-12);     /* h = 1.75: 3 + 0.75 * 2 */
    cr_assert_float_eq(s.median, 9.5, 1e-12); /* h = 3.5: 7 + 0.5 * 5 */
    cr_assert_float_eq(s.q3, 22.5, 1e-12);    /* h = 5.25: 20 + 0.25 * 10 */
    cr_assert_float_eq(s.max, 30, 1e-12);
    cr_assert_float_eq(s.mean, 107.0 / 8, 1e-12);
    int counts[3];
    tp_chaos_histogram(steps, 8, 30, 3, counts);
    cr_assert_eq(counts[0], 4);
    cr_assert_eq(counts[1], 1);
    cr_assert_eq(counts[2], 1);
    const int one[1] = {4};
    tp_chaos_stats_compute(one, 1, 10, &s);
    cr_assert_float_eq(s.q1, 4, 1e-12);
    cr_assert_float_eq(s.q3, 4, 1e-12);
}

static void chaos(int jobs, int n_seeds, int *steps)
{
    int prompt[2] = {1, 2}; /* "ab" */
    tp_chaos_spec spec = {.model = MODEL, .prompt = prompt, .n_prompt = 2, .temperature = 1.0,
                          .epsilon = 0.05, .n_seeds = n_seeds, .seed0 = 1, .length = 200,
                          .jobs = jobs};
    tp_sampler_defaults(&spec.base);
    tp_error err = {0};
    cr_assert_eq(tp_chaos_run(&spec, steps, &err), TP_OK, "%s", err.msg);
}

Test(lanes, chaos_agrees_with_lane_sets_for_any_jobs)
{
    /* 150 seeds: three batches, the last one partial. */
    enum { N = 150 };
    int one[N], three[N];
    chaos(1, N, one);
    chaos(3, N, three);
    cr_assert_eq(memcmp(one, three, sizeof one), 0, "--jobs changed the numbers");
    for (int k = 0; k < 20; k++) {
        tp_lane_request req;
        tp_lanes_butterfly(1.0, 0.05, &req, NULL);
        tp_sampler_config base;
        tp_sampler_defaults(&base);
        tp_lane_set *s = NULL;
        cr_assert_eq(tp_lane_set_new(&s, MODEL, "ab", &base, (uint64_t)k + 1, &req, NULL),
                     TP_OK);
        step_n(s, 200);
        cr_assert_eq(one[k], s->split.step, "seed %d: chaos %d, lanes %d", k + 1, one[k],
                     s->split.step);
        tp_lane_set_free(s);
    }
    tp_chaos_stats st;
    tp_chaos_stats_compute(one, N, 200, &st);
    cr_assert_eq(st.n_split + st.n_censored, N);
}

Test(lanes, chaos_refuses_bad_specs)
{
    int steps[1];
    tp_chaos_spec spec = {.model = MODEL, .temperature = 1.0, .epsilon = 0, .n_seeds = 1,
                          .length = 10};
    tp_sampler_defaults(&spec.base);
    tp_error err = {0};
    cr_assert_eq(tp_chaos_run(&spec, steps, &err), TP_ERR_USAGE);
    spec.epsilon = 0.1;
    spec.length = 0;
    cr_assert_eq(tp_chaos_run(&spec, steps, &err), TP_ERR_USAGE);
}

/* ---- :lanes and :butterfly ---- */

static tp_command parse_ok(const char *line)
{
    tp_sampler_config cfg;
    tp_sampler_defaults(&cfg);
    tp_command c;
    tp_error err = {0};
    cr_assert_eq(tp_command_parse(line, &cfg, &c, &err), TP_OK, "'%s': %s", line, err.msg);
    return c;
}

Test(lanes, lanes_and_butterfly_commands)
{
    tp_command c = parse_ok(":lanes 0.2,0.8/p0.9");
    cr_assert_eq(c.action, TP_ACT_LANES);
    cr_assert_eq(c.lanes.n, 2);
    cr_assert_not(c.lanes.butterfly);
    c = parse_ok("lanes off");
    cr_assert_eq(c.action, TP_ACT_LANES);
    cr_assert_eq(c.lanes.n, 0);
    c = parse_ok(":butterfly 0.8");
    cr_assert_eq(c.lanes.n, 2);
    cr_assert(c.lanes.butterfly);
    cr_assert_float_eq(c.lanes.lanes[1].temperature, 0.8 + TP_BUTTERFLY_EPS, 1e-12);
    c = parse_ok(":butterfly 1.2 0.05 ");
    cr_assert_float_eq(c.lanes.lanes[1].temperature, 1.25, 1e-12);

    tp_sampler_config cfg;
    tp_sampler_defaults(&cfg);
    tp_error err = {0};
    static const struct { const char *line, *msg; } BAD[] = {
        {":lanes", "lanes: needs a value"},
        {":lanes 0.2", "lanes: give 2 to 4 lanes"},
        {":lanes 0.2,0.8/z1", "lanes: lane 2 '0.8/z1': unknown setting 'z1'"},
        {":butterfly", "butterfly: needs a value"},
        {":butterfly hot", "butterfly: the temperature 'hot' is not a number"},
        {":butterfly 0.8 x", "butterfly: epsilon 'x' is not a number"},
        {":butterfly 0.8 0.01 7", "butterfly: epsilon '0.01 7' is not a number"},
        {":butterfly 0.8 0", "butterfly: epsilon 0 must be above 0"},
    };
    for (size_t i = 0; i < sizeof BAD / sizeof BAD[0]; i++) {
        cr_assert_eq(tp_command_parse(BAD[i].line, &cfg, &c, &err), TP_ERR_USAGE, "%s",
                     BAD[i].line);
        cr_assert_eq(c.action, TP_ACT_NONE);
        cr_assert(strstr(err.msg, BAD[i].msg), "'%s': '%s'", BAD[i].line, err.msg);
    }
}
