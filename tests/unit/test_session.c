/* test_session.c - a generation over a tiny in-memory model. */
#include <criterion/criterion.h>
#include <math.h>
#include <string.h>

#include "helpers.h"
#include "tempest/session.h"

static th_lstm M;
static tp_model *MODEL;

static void setup(void)
{
    tp_error err = {0};
    MODEL = th_small_model(&M, 21, &err);
    cr_assert_not_null(MODEL, "%s", err.msg);
}

static void teardown(void)
{
    tp_model_free(MODEL);
    th_lstm_free(&M);
}

static tp_sampler_config temp(double T)
{
    tp_sampler_config c;
    tp_sampler_defaults(&c);
    c.temperature = T;
    return c;
}

static tp_session *new_session(const char *prompt, tp_sampler_config cfg, uint64_t seed)
{
    tp_session *s = NULL;
    tp_error err = {0};
    cr_assert_eq(tp_session_new(&s, MODEL, prompt, &cfg, seed, &err), TP_OK, "%s", err.msg);
    return s;
}

static void generate(tp_session *s, int n, int *out)
{
    for (int i = 0; i < n; i++) {
        out[i] = tp_session_step(s, NULL);
        cr_assert(out[i] >= 0 && out[i] < MODEL->n_vocab, "token %d", out[i]);
    }
}

TestSuite(session, .init = setup, .fini = teardown);

Test(session, same_seed_same_tokens_other_seed_differs)
{
    tp_session *a = new_session("abc", temp(1.0), 7), *b = new_session("abc", temp(1.0), 7);
    tp_session *c = new_session("abc", temp(1.0), 8);
    int ta[200], tb[200], tc[200];
    generate(a, 200, ta);
    generate(b, 200, tb);
    generate(c, 200, tc);
    cr_assert_eq(memcmp(ta, tb, sizeof ta), 0, "same seed, different tokens");
    cr_assert_neq(memcmp(ta, tc, sizeof ta), 0, "seeds 7 and 8 gave the same 200 tokens");
    int distinct = 0, seen[12] = {0};
    for (int i = 0; i < 200; i++)
        distinct += !seen[ta[i]]++;
    cr_assert_geq(distinct, 4, "the tiny model is too peaked for this test (%d)", distinct);
    cr_assert_eq(a->n_steps, 200);
    cr_assert_eq(a->n_tokens, 203);
    cr_assert_eq(a->n_prompt, 3);
    cr_assert_eq(memcmp(a->tokens + 3, ta, sizeof ta), 0);
    tp_session_free(a);
    tp_session_free(b);
    tp_session_free(c);
}

Test(session, prompt_is_fed_to_the_model)
{
    tp_session *s = new_session("ab c", temp(1.0), 1);
    cr_assert_eq(s->n_prompt, 4);
    const int want[4] = {1, 2, 3, 4};
    cr_assert_eq(memcmp(s->tokens, want, sizeof want), 0);
    cr_assert_str_eq(s->prompt, "ab c");
    /* The model reads its start token (newline, id 0) first, then the prompt. */
    th_ref ref;
    memset(&ref, 0, sizeof ref);
    double logits[12];
    th_ref_step(&M, &ref, 0, logits);
    for (int i = 0; i < 4; i++)
        th_ref_step(&M, &ref, want[i], logits);
    for (int v = 0; v < 12; v++) {
        cr_assert_float_eq(s->logits[v], logits[v], 1e-5, "logit %d", v);
        cr_assert_float_eq(s->dist.logits[v], logits[v], 1e-5, "dist logit %d", v);
    }
    tp_session_free(s);
}

Test(session, empty_prompt_starts_from_newline)
{
    tp_session *s = new_session("", temp(1.0), 3);
    cr_assert_eq(s->n_prompt, 0);
    cr_assert_eq(s->n_tokens, 0);
    th_ref ref;
    memset(&ref, 0, sizeof ref);
    double logits[12];
    th_ref_step(&M, &ref, 0 /* "\n" */, logits);
    for (int v = 0; v < 12; v++)
        cr_assert_float_eq(s->logits[v], logits[v], 1e-5, "logit %d", v);
    int t[20];
    generate(s, 20, t);
    cr_assert_eq(s->n_tokens, 20);
    tp_session_free(s);
    /* NULL prompt is the empty prompt. */
    s = new_session(NULL, temp(1.0), 3);
    cr_assert_eq(s->n_prompt, 0);
    cr_assert_float_eq(s->logits[0], logits[0], 1e-5);
    tp_session_free(s);
}

Test(session, unknown_prompt_character_is_an_error)
{
    tp_session *s = (tp_session *)1;
    tp_sampler_config c = temp(1.0);
    tp_error err = {0};
    cr_assert_eq(tp_session_new(&s, MODEL, "abZ", &c, 1, &err), TP_ERR_USAGE);
    cr_assert_null(s);
    cr_assert(strstr(err.msg, "'Z' (U+005A)"), "%s", err.msg);

    /* A bad setting is refused too. */
    c.temperature = -1;
    cr_assert_eq(tp_session_new(&s, MODEL, "ab", &c, 1, &err), TP_ERR_USAGE);
    cr_assert(strstr(err.msg, "temperature"), "%s", err.msg);

    /* Restart with a bad prompt leaves the session as it was. */
    s = new_session("ab", temp(1.0), 1);
    float before[12];
    memcpy(before, s->logits, sizeof before);
    cr_assert_eq(tp_session_restart(s, "a\xe2\x82\xac", 2, &err), TP_ERR_USAGE);
    cr_assert(strstr(err.msg, "U+20AC"), "%s", err.msg);
    cr_assert_str_eq(s->prompt, "ab");
    cr_assert_eq(s->n_tokens, 2);
    cr_assert_eq(s->seed, 1);
    cr_assert_eq(memcmp(before, s->logits, sizeof before), 0);
    tp_session_free(s);
}

Test(session, set_config_changes_the_distribution_at_once)
{
    tp_session *s = new_session("abc", temp(1.0), 5);
    cr_assert_eq(s->dist.n_kept, 12);
    tp_sampler_config g = temp(0);
    tp_error err = {0};
    cr_assert_eq(tp_session_set_config(s, &g, &err), TP_OK, "%s", err.msg);
    cr_assert_eq(s->dist.n_kept, 1, "T = 0 must keep one token");
    int argmax = 0;
    for (int v = 1; v < 12; v++)
        if (s->logits[v] > s->logits[argmax])
            argmax = v;
    cr_assert(s->dist.kept[argmax]);
    cr_assert_eq(s->dist.p[argmax], 1.0);
    cr_assert_eq(tp_session_step(s, NULL), argmax, "greedy step takes the argmax");
    cr_assert_eq(s->steps[0].n_kept, 1);
    cr_assert_eq(tp_session_step_config(s, 0)->temperature, 0.0);

    tp_sampler_config k = temp(1.0);
    k.top_k = 3;
    cr_assert_eq(tp_session_set_config(s, &k, &err), TP_OK);
    cr_assert_eq(s->dist.n_kept, 3);

    /* A bad value changes nothing. */
    tp_sampler_config bad = temp(1.0);
    bad.top_p = 1.5;
    cr_assert_eq(tp_session_set_config(s, &bad, &err), TP_ERR_USAGE);
    cr_assert(strstr(err.msg, "1.5"), "%s", err.msg);
    cr_assert_eq(s->cfg.top_k, 3);
    cr_assert_eq(s->dist.n_kept, 3);
    tp_session_free(s);
}

Test(session, restart_with_same_seed_reproduces)
{
    tp_session *s = new_session("ba", temp(1.2), 11);
    int first[100], second[100], third[100];
    generate(s, 100, first);
    cr_assert_eq(tp_session_restart(s, NULL, 11, NULL), TP_OK);
    cr_assert_eq(s->n_steps, 0);
    cr_assert_eq(s->n_tokens, 2);
    cr_assert_str_eq(s->prompt, "ba");
    generate(s, 100, second);
    cr_assert_eq(memcmp(first, second, sizeof first), 0);
    cr_assert_eq(tp_session_restart(s, NULL, 12, NULL), TP_OK);
    generate(s, 100, third);
    cr_assert_neq(memcmp(first, third, sizeof first), 0, "seed 12 repeated seed 11");
    float logits_ba[12];
    cr_assert_eq(tp_session_restart(s, NULL, 11, NULL), TP_OK);
    memcpy(logits_ba, s->logits, sizeof logits_ba);
    cr_assert_eq(tp_session_restart(s, "a", 11, NULL), TP_OK);
    cr_assert_str_eq(s->prompt, "a");
    cr_assert_eq(s->n_prompt, 1);
    cr_assert_eq(s->tokens[0], 1);
    cr_assert_neq(memcmp(logits_ba, s->logits, sizeof logits_ba), 0, "the prompt changed nothing");
    tp_session_free(s);
}

Test(session, steps_record_what_was_drawn)
{
    tp_session *s = new_session("a", temp(0.9), 2);
    for (int i = 0; i < 30; i++) {
        /* The dist is recomputed by the step: keep what it held. */
        double pb[12], pp[12], h = s->dist.entropy_bits;
        memcpy(pb, s->dist.p_base, sizeof pb);
        memcpy(pp, s->dist.p, sizeof pp);
        int n_kept = s->dist.n_kept;
        int tok = tp_session_step(s, NULL);
        const tp_step *st = &s->steps[i];
        cr_assert_eq(st->token, tok);
        cr_assert_float_eq(st->p, pp[tok], 1e-6);
        cr_assert_float_eq(st->p_base, pb[tok], 1e-6);
        cr_assert_float_eq(st->entropy_bits, h, 1e-5);
        cr_assert_eq(st->n_kept, n_kept);
        int rank = 0;
        for (int v = 0; v < 12; v++)
            rank += pb[v] > pb[tok] || (pb[v] == pb[tok] && v < tok);
        cr_assert_eq(st->rank, rank);
        cr_assert_float_eq(tp_session_config_of(s, st)->temperature, 0.9, 1e-12);
    }
    tp_session_free(s);
}

Test(session, push_forces_a_token)
{
    tp_session *s = new_session("a", temp(1.0), 2);
    tp_error err = {0};
    cr_assert_eq(tp_session_push(s, 5, &err), TP_OK);
    cr_assert_eq(s->tokens[1], 5);
    cr_assert_eq(s->n_steps, 1);
    th_ref ref;
    memset(&ref, 0, sizeof ref);
    double logits[12];
    th_ref_step(&M, &ref, 0, logits);
    th_ref_step(&M, &ref, 1, logits);
    th_ref_step(&M, &ref, 5, logits);
    for (int v = 0; v < 12; v++)
        cr_assert_float_eq(s->logits[v], logits[v], 1e-5);
    cr_assert_eq(tp_session_push(s, 12, &err), TP_ERR_USAGE);
    cr_assert(strstr(err.msg, "12"), "%s", err.msg);
    cr_assert_eq(tp_session_push(s, -1, &err), TP_ERR_USAGE);
    cr_assert_eq(s->n_steps, 1);
    tp_session_free(s);
}

Test(session, repetition_penalty_sees_the_history)
{
    tp_sampler_config c = temp(1.0);
    c.repeat_penalty = 4.0;
    c.repeat_last_n = 3;
    tp_session *s = new_session("abcab", c, 2);
    tp_dist d;
    tp_dist_init(&d, 12, NULL);
    tp_sampler_apply(&c, s->logits, s->tokens, s->n_tokens, &d);
    for (int v = 0; v < 12; v++)
        cr_assert_eq(s->dist.p[v], d.p[v], "id %d", v);
    /* And it matters: without the history the distribution differs. */
    tp_sampler_apply(&c, s->logits, NULL, 0, &d);
    int differ = 0;
    for (int v = 0; v < 12; v++)
        differ += fabs(s->dist.p[v] - d.p[v]) > 1e-6;
    cr_assert_geq(differ, 3);
    tp_dist_free(&d);
    tp_session_free(s);
}

Test(session, long_generation_grows)
{
    tp_session *s = new_session("a", temp(1.0), 9);
    for (int i = 0; i < 3000; i++)
        cr_assert_geq(tp_session_step(s, NULL), 0);
    cr_assert_eq(s->n_tokens, 3001);
    cr_assert_eq(s->n_steps, 3000);
    tp_session_free(s);
}

/* A step names its settings by index: the table grows by one entry per
 * change of settings, not per token, and each step reads back its own. */
Test(session, settings_are_stored_once_per_change)
{
    cr_assert_leq(sizeof(tp_step), 40, "a step is what a long run keeps per token");
    tp_session *s = new_session("a", temp(0.7), 3);
    int out[200];
    generate(s, 100, out);
    cr_assert_eq(s->n_configs, 1);
    tp_sampler_config hot = temp(1.5);
    cr_assert_eq(tp_session_set_config(s, &hot, NULL), TP_OK);
    generate(s, 50, out);
    tp_sampler_config back = temp(0.7);
    cr_assert_eq(tp_session_set_config(s, &back, NULL), TP_OK);
    generate(s, 50, out);
    cr_assert_eq(s->n_configs, 3);
    cr_assert_eq(tp_session_step_config(s, 99)->temperature, 0.7);
    cr_assert_eq(tp_session_step_config(s, 100)->temperature, 1.5);
    cr_assert_eq(tp_session_step_config(s, 149)->temperature, 1.5);
    cr_assert_eq(tp_session_step_config(s, 150)->temperature, 0.7);
    cr_assert(tp_sampler_config_equal(tp_session_step_config(s, 0), &back));
    cr_assert_not(tp_sampler_config_equal(tp_session_step_config(s, 120), &back));
    tp_session_free(s);
}
