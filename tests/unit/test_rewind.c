/* test_rewind.c - the past of a session: distributions at earlier steps
 * equal the live ones bit for bit, cuts and loads, the gate log. */
#include <criterion/criterion.h>
#include <string.h>

#include "helpers.h"
#include "tempest/rewind.h"
#include "tempest/session.h"
#include "tempest/view.h"

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

TestSuite(rewind, .init = setup, .fini = teardown);

static tp_session *new_session(const char *prompt, double T, uint64_t seed)
{
    tp_sampler_config cfg;
    tp_sampler_defaults(&cfg);
    cfg.temperature = T;
    tp_session *s = NULL;
    tp_error err = {0};
    cr_assert_eq(tp_session_new(&s, MODEL, prompt, &cfg, seed, &err), TP_OK, "%s", err.msg);
    return s;
}

static void set_temperature(tp_session *s, double T)
{
    tp_sampler_config cfg = s->cfg;
    cfg.temperature = T;
    cr_assert_eq(tp_session_set_config(s, &cfg, NULL), TP_OK);
}

static void assert_same_dist(const tp_dist *a, const tp_dist *b, int step)
{
    cr_assert_eq(a->n_kept, b->n_kept, "step %d: kept %d vs %d", step, a->n_kept, b->n_kept);
    for (int i = 0; i < a->n; i++) {
        cr_assert_eq(a->p[i], b->p[i], "step %d token %d: p %.17g vs %.17g", step, i, a->p[i],
                     b->p[i]);
        cr_assert_eq(a->p_base[i], b->p_base[i], "step %d token %d: p_base", step, i);
        cr_assert_eq(a->logits[i], b->logits[i], "step %d token %d: logit", step, i);
    }
}

/* Steps from..to of s, keeping in live[i] the distribution step i is drawn
 * from (live[] initialised once by the caller); r, when given, observes. */
static void generate_recording(tp_session *s, tp_dist *live, int from, int to, tp_rewind *r)
{
    for (int i = from; i < to; i++) {
        tp_dist_copy(&live[i], &s->dist);
        cr_assert_geq(tp_session_step(s, NULL), 0);
        if (r)
            cr_assert_eq(tp_rewind_observe(r, s, NULL), TP_OK);
    }
}

static void assert_past_is_live(tp_rewind *r, const tp_session *s, tp_dist *live, int from,
                                int to)
{
    tp_dist past;
    cr_assert_eq(tp_dist_init(&past, MODEL->n_vocab, NULL), TP_OK);
    for (int i = to - 1; i >= from; i--) { /* backwards: checkpoints built once */
        cr_assert_eq(tp_rewind_dist_at(r, s, i, &past, NULL), TP_OK);
        assert_same_dist(&live[i], &past, i);
    }
    tp_dist_free(&past);
}

static void init_dists(tp_dist *d, int n)
{
    for (int i = 0; i < n; i++)
        cr_assert_eq(tp_dist_init(&d[i], MODEL->n_vocab, NULL), TP_OK);
}

static void free_dists(tp_dist *d, int n)
{
    for (int i = 0; i < n; i++)
        tp_dist_free(&d[i]);
}

/* Every past distribution, with settings changing on the way and small
 * checkpoint intervals (so several are built and crossed), is the one the
 * token was really drawn from. */
Test(rewind, past_distribution_equals_the_live_one)
{
    tp_session *s = new_session("ab", 1.0, 5);
    enum { N = 40 };
    tp_dist live[N];
    init_dists(live, N);
    generate_recording(s, live, 0, 10, NULL);
    set_temperature(s, 0.5);
    generate_recording(s, live, 10, 25, NULL);
    tp_sampler_config cfg = s->cfg;
    cfg.top_k = 3;
    cr_assert_eq(tp_session_set_config(s, &cfg, NULL), TP_OK);
    generate_recording(s, live, 25, N, NULL);
    int every[] = {1, 3, 7, 64};
    for (size_t e = 0; e < sizeof every / sizeof every[0]; e++) {
        tp_rewind r;
        tp_rewind_init(&r, every[e], NULL);
        assert_past_is_live(&r, s, live, 0, N);
        tp_rewind_free(&r);
    }
    free_dists(live, N);
    tp_session_free(s);
}

/* Checkpoints copied from the live state while generating (observe) give
 * the same numbers as ones rebuilt by replaying, also across a cut. */
Test(rewind, observed_checkpoints_are_exact)
{
    tp_session *s = new_session("abc", 1.1, 8);
    tp_rewind r;
    tp_rewind_init(&r, 4, NULL);
    enum { N = 30 };
    tp_dist live[N];
    init_dists(live, N);
    generate_recording(s, live, 0, N, &r);
    cr_assert_geq(r.n_ckpt, (3 + N) / 4, "checkpoints were taken on the way");
    for (int k = 1; k < r.n_ckpt; k++)
        cr_assert_not_null(r.ckpt[k], "checkpoint %d was observed", k);
    assert_past_is_live(&r, s, live, 0, N);
    /* cut at 10, generate on: old checkpoints past the cut are not used */
    cr_assert_eq(tp_rewind_truncate(&r, s, 10, NULL), TP_OK);
    tp_session_push(s, (s->steps[9].token + 3) % MODEL->n_vocab, NULL);
    generate_recording(s, live, 11, N, &r);
    assert_past_is_live(&r, s, live, 11, N);
    free_dists(live, N);
    tp_rewind_free(&r);
    tp_session_free(s);
}

Test(rewind, steps_outside_the_history_are_refused)
{
    tp_session *s = new_session("a", 1.0, 1);
    tp_rewind r;
    tp_rewind_init(&r, 4, NULL);
    tp_dist d;
    tp_dist_init(&d, MODEL->n_vocab, NULL);
    tp_error err = {0};
    cr_assert_neq(tp_rewind_dist_at(&r, s, 0, &d, &err), TP_OK);
    cr_assert(strstr(err.msg, "step 0"), "%s", err.msg);
    tp_session_step(s, NULL);
    cr_assert_neq(tp_rewind_dist_at(&r, s, -1, &d, &err), TP_OK);
    cr_assert_eq(tp_rewind_dist_at(&r, s, 0, &d, &err), TP_OK, "%s", err.msg);
    cr_assert_neq(tp_rewind_truncate(&r, s, 2, &err), TP_OK);
    tp_dist_free(&d);
    tp_rewind_free(&r);
    tp_session_free(s);
}

/* Cutting after k steps leaves the state, logits and distribution of a
 * session that only ever took those k steps. */
Test(rewind, truncate_matches_a_shorter_run)
{
    tp_session *s = new_session("abc", 0.9, 3);
    tp_session *ref = new_session("abc", 0.9, 3);
    tp_rewind r;
    tp_rewind_init(&r, 5, NULL);
    for (int i = 0; i < 30; i++)
        tp_session_step(s, NULL);
    for (int i = 0; i < 12; i++)
        tp_session_step(ref, NULL);
    cr_assert_eq(tp_rewind_truncate(&r, s, 12, NULL), TP_OK);
    cr_assert_eq(s->n_steps, 12);
    cr_assert_eq(s->n_tokens, ref->n_tokens);
    cr_assert_eq(memcmp(s->tokens, ref->tokens, (size_t)s->n_tokens * sizeof(int)), 0);
    cr_assert_eq(memcmp(s->logits, ref->logits, (size_t)MODEL->n_vocab * sizeof(float)), 0);
    assert_same_dist(&ref->dist, &s->dist, 12);
    /* forcing a token after the cut is like pushing it on the short run */
    cr_assert_eq(tp_session_push(s, 4, NULL), TP_OK);
    cr_assert_eq(tp_session_push(ref, 4, NULL), TP_OK);
    cr_assert_eq(memcmp(s->logits, ref->logits, (size_t)MODEL->n_vocab * sizeof(float)), 0);
    cr_assert_eq(s->steps[12].u, -1.0, "a forced token has no draw");
    tp_rewind_free(&r);
    tp_session_free(s);
    tp_session_free(ref);
}

/* Loading a saved history (another branch) restores tokens, records and
 * the model state; checkpoints built on the old tokens are not reused. */
Test(rewind, load_restores_another_history)
{
    tp_session *s = new_session("ab", 1.0, 9);
    tp_rewind r;
    tp_rewind_init(&r, 4, NULL);
    for (int i = 0; i < 20; i++)
        tp_session_step(s, NULL);
    tp_step saved[20];
    memcpy(saved, s->steps, sizeof saved);
    tp_dist before;
    tp_dist_init(&before, MODEL->n_vocab, NULL);
    tp_dist_copy(&before, &s->dist);
    float logits[64];
    memcpy(logits, s->logits, (size_t)MODEL->n_vocab * sizeof(float));
    /* another history: cut at 6, force, go on */
    cr_assert_eq(tp_rewind_truncate(&r, s, 6, NULL), TP_OK);
    tp_session_push(s, (saved[6].token + 1) % MODEL->n_vocab, NULL);
    for (int i = 0; i < 15; i++)
        tp_session_step(s, NULL);
    tp_dist d;
    tp_dist_init(&d, MODEL->n_vocab, NULL);
    cr_assert_eq(tp_rewind_dist_at(&r, s, 18, &d, NULL), TP_OK);
    /* back to the first */
    cr_assert_eq(tp_rewind_load(&r, s, saved, 20, NULL), TP_OK);
    cr_assert_eq(s->n_steps, 20);
    for (int i = 0; i < 20; i++) {
        cr_assert_eq(s->steps[i].token, saved[i].token);
        cr_assert_eq(s->steps[i].u, saved[i].u);
    }
    cr_assert_eq(memcmp(s->logits, logits, (size_t)MODEL->n_vocab * sizeof(float)), 0);
    assert_same_dist(&before, &s->dist, 20);
    tp_dist_free(&d);
    tp_dist_free(&before);
    tp_rewind_free(&r);
    tp_session_free(s);
}

/* A long run keeps every checkpoint of its recent RECENT and one in SPARSE
 * before them; the thinned ones are rebuilt on the way back, exactly. */
Test(rewind, old_checkpoints_are_thinned_and_rebuilt_exactly)
{
    enum { EVERY = 2, N = EVERY * (TP_REWIND_RECENT + 3 * TP_REWIND_SPARSE + 5) };
    tp_session *s = new_session("a", 1.2, 21);
    tp_rewind r;
    tp_rewind_init(&r, EVERY, NULL);
    static tp_dist live[N];
    init_dists(live, N);
    generate_recording(s, live, 0, N, &r);
    int newest = s->n_tokens / EVERY, kept_old = 0;
    for (int k = 1; k <= newest - TP_REWIND_RECENT; k++) {
        cr_assert_eq(r.ckpt[k] != NULL, k % TP_REWIND_SPARSE == 0, "old checkpoint %d", k);
        kept_old += r.ckpt[k] != NULL;
    }
    cr_assert_geq(kept_old, 3, "some old checkpoints stay");
    for (int k = newest - TP_REWIND_RECENT + 1; k <= newest; k++)
        cr_assert_not_null(r.ckpt[k], "recent checkpoint %d", k);
    assert_past_is_live(&r, s, live, 0, N);
    free_dists(live, N);
    tp_rewind_free(&r);
    tp_session_free(s);
}

/* Steps name their settings by an index into their session's table: one
 * from elsewhere is refused rather than read out of bounds. */
Test(rewind, load_refuses_settings_of_another_session)
{
    tp_session *s = new_session("ab", 1.0, 9);
    tp_rewind r;
    tp_rewind_init(&r, 4, NULL);
    for (int i = 0; i < 5; i++)
        tp_session_step(s, NULL);
    tp_step saved[5];
    memcpy(saved, s->steps, sizeof saved);
    saved[3].cfg_id = s->n_configs;
    tp_error err = {0};
    cr_assert_eq(tp_rewind_load(&r, s, saved, 5, &err), TP_ERR_USAGE);
    cr_assert(strstr(err.msg, "step 3 has settings"), "%s", err.msg);
    cr_assert_eq(s->n_steps, 5, "the history is unchanged");
    tp_rewind_free(&r);
    tp_session_free(s);
}

/* A history window: forgetting the first tokens keeps every later step's
 * past exact (from the origin state), generation goes on as if nothing
 * had been forgotten, and it can be done again. */
Test(rewind, forgetting_the_start_keeps_the_rest_exact)
{
    enum { EVERY = 8, N = 300, MORE = 60 };
    tp_session *s = new_session("ab", 1.1, 31);
    tp_session *whole = new_session("ab", 1.1, 31);
    tp_rewind r;
    tp_rewind_init(&r, EVERY, NULL);
    static tp_dist live[N + MORE];
    init_dists(live, N + MORE);
    generate_recording(s, live, 0, N, &r);
    int n = 17 * EVERY; /* the prompt's 2 tokens and 134 steps */
    cr_assert_eq(tp_rewind_forget(&r, s, n, NULL), TP_OK);
    int gone = n - 2;
    cr_assert_eq(s->n_forgotten, gone);
    cr_assert_eq(s->n_steps, N - gone);
    cr_assert_eq(s->n_prompt, 0);
    assert_past_is_live(&r, s, live + gone, 0, s->n_steps); /* live[] counts run steps */
    /* on: the same tokens as a run that forgot nothing */
    generate_recording(s, live, N, N + MORE, &r);
    for (int i = 0; i < N + MORE; i++)
        cr_assert_geq(tp_session_step(whole, NULL), 0);
    for (int i = 0; i < s->n_steps; i++)
        cr_assert_eq(s->steps[i].token, whole->steps[gone + i].token, "step %d", gone + i);
    /* again, from the new origin */
    cr_assert_eq(tp_rewind_forget(&r, s, 10 * EVERY, NULL), TP_OK);
    gone += 10 * EVERY;
    cr_assert_eq(s->n_forgotten, gone);
    assert_past_is_live(&r, s, live + gone, 0, s->n_steps);
    /* a cut still works inside the window */
    cr_assert_eq(tp_rewind_truncate(&r, s, 5, NULL), TP_OK);
    cr_assert_eq(s->steps[4].token, whole->steps[gone + 4].token);
    free_dists(live, N + MORE);
    tp_rewind_free(&r);
    tp_session_free(s);
    tp_session_free(whole);
}

/* A session that forgot without its rewind is refused, not replayed from
 * the wrong start; a restart (nothing forgotten any more) starts afresh. */
Test(rewind, a_cut_history_needs_its_rewind)
{
    tp_session *s = new_session("a", 1.0, 5);
    tp_rewind r;
    tp_rewind_init(&r, 4, NULL);
    for (int i = 0; i < 40; i++)
        tp_session_step(s, NULL);
    cr_assert_eq(tp_rewind_forget(&r, s, 6, NULL), TP_ERR_USAGE, "not a multiple of 4");
    cr_assert_eq(tp_session_forget(s, 8, NULL), TP_OK);
    tp_dist d;
    tp_dist_init(&d, MODEL->n_vocab, NULL);
    tp_error err = {0};
    cr_assert_eq(tp_rewind_dist_at(&r, s, 3, &d, &err), TP_ERR_USAGE);
    cr_assert(strstr(err.msg, "without its rewind"), "%s", err.msg);
    cr_assert_eq(tp_session_restart(s, NULL, 5, NULL), TP_OK);
    cr_assert_eq(s->n_forgotten, 0);
    tp_session_step(s, NULL);
    cr_assert_eq(tp_rewind_dist_at(&r, s, 0, &d, NULL), TP_OK);
    tp_dist_free(&d);
    tp_rewind_free(&r);
    tp_session_free(s);
}

/* The draw's u is kept and redraws the same token from the same dist. */
Test(rewind, recorded_u_redraws_the_token)
{
    tp_session *s = new_session("a", 1.3, 11);
    tp_rewind r;
    tp_rewind_init(&r, 8, NULL);
    tp_dist d;
    tp_dist_init(&d, MODEL->n_vocab, NULL);
    for (int i = 0; i < 25; i++)
        tp_session_step(s, NULL);
    for (int i = 0; i < 25; i++) {
        cr_assert(s->steps[i].u >= 0.0 && s->steps[i].u < 1.0);
        tp_rewind_dist_at(&r, s, i, &d, NULL);
        cr_assert_eq(tp_sampler_pick(&d, s->steps[i].u, NULL, NULL), s->steps[i].token, "step %d", i);
    }
    tp_dist_free(&d);
    tp_rewind_free(&r);
    tp_session_free(s);
}

/* The gate log is off by default, and when on holds sigmoid values that
 * do not change the step's results. */
Test(rewind, gate_log_is_optional_and_changes_nothing)
{
    tp_state *a = tp_state_new(MODEL), *b = tp_state_new(MODEL);
    cr_assert_null(a->gate_log);
    cr_assert_eq(tp_state_log_gates(b, 1, NULL), TP_OK);
    cr_assert_not_null(b->gate_log);
    float la[64], lb[64];
    int toks[] = {1, 4, 2, 7};
    for (int i = 0; i < 4; i++) {
        tp_model_step(MODEL, a, toks[i], la);
        tp_model_step(MODEL, b, toks[i], lb);
    }
    cr_assert_eq(memcmp(la, lb, (size_t)MODEL->n_vocab * sizeof(float)), 0);
    int n = 3 * MODEL->n_layers * MODEL->n_hidden, nonzero = 0;
    for (int i = 0; i < n; i++) {
        cr_assert(b->gate_log[i] > 0.0f && b->gate_log[i] < 1.0f, "gate %d = %g", i,
                  b->gate_log[i]);
        nonzero += b->gate_log[i] != 0.5f;
    }
    cr_assert_gt(nonzero, 0);
    cr_assert_eq(tp_state_log_gates(b, 0, NULL), TP_OK);
    cr_assert_null(b->gate_log);
    tp_state_free(a);
    tp_state_free(b);
}
