/* test_session_streaming.c - a streaming session draws the same tokens as a
 * recording one while its memory stays bounded (what the 2-million-token
 * soak relies on). */
#include <criterion/criterion.h>

#include "helpers.h"
#include "tempest/session.h"

static void same_tokens_bounded_memory(double penalty, int last_n)
{
    th_lstm M;
    tp_error err = {0};
    th_lstm_init(&M, 12, 5, 8, 2, 21, 0.8f);
    tp_model *m = th_lstm_model(&M, (th_names){0}, &err);
    cr_assert_not_null(m, "%s", err.msg);
    tp_sampler_config cfg;
    tp_sampler_defaults(&cfg);
    cfg.temperature = 1.2;
    cfg.repeat_penalty = penalty;
    cfg.repeat_last_n = last_n;
    tp_session *rec, *str;
    cr_assert_eq(tp_session_new(&rec, m, "ab", &cfg, 7, &err), TP_OK, "%s", err.msg);
    cr_assert_eq(tp_session_new(&str, m, "ab", &cfg, 7, &err), TP_OK, "%s", err.msg);
    tp_session_set_streaming(str, 1);
    for (int i = 0; i < 30000; i++) {
        int a = tp_session_step(rec, &err), b = tp_session_step(str, &err);
        cr_assert_eq(a, b, "token %d differs: %d vs %d", i, a, b);
    }
    cr_assert_eq(str->n_steps, 0, "a streaming session records no steps");
    cr_assert_leq(str->cap_tokens, 16384, "tokens kept: %d", str->cap_tokens);
    cr_assert_eq(rec->n_steps, 30000);
    tp_session_free(rec);
    tp_session_free(str);
    tp_model_free(m);
    th_lstm_free(&M);
}

Test(session_streaming, same_tokens_without_penalty)
{
    same_tokens_bounded_memory(1.0, 64);
}

Test(session_streaming, same_tokens_with_a_penalty_window_across_the_drop)
{
    same_tokens_bounded_memory(1.5, 5000);
}
