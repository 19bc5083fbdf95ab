/* test_metrics.c - entropy, log-probabilities and scoring a text. */
#include <criterion/criterion.h>
#include <math.h>
#include <string.h>

#include "helpers.h"
#include "tempest/metrics.h"

Test(metrics, entropy_of_known_vectors)
{
    const double uniform4[4] = {.25, .25, .25, .25};
    cr_assert_float_eq(tp_entropy_bits(uniform4, 4), 2.0, 1e-12);
    const double one[3] = {0, 1, 0};
    cr_assert_eq(tp_entropy_bits(one, 3), 0.0);
    const double half[4] = {.5, .25, .25, 0};
    cr_assert_float_eq(tp_entropy_bits(half, 4), 1.5, 1e-12);
    const double coin[2] = {.9, .1};
    cr_assert_float_eq(tp_entropy_bits(coin, 2), 0.4689955935892812, 1e-12);
    double u256[256];
    for (int i = 0; i < 256; i++)
        u256[i] = 1.0 / 256;
    cr_assert_float_eq(tp_entropy_bits(u256, 256), 8.0, 1e-9);
    cr_assert_eq(tp_entropy_bits(u256, 0), 0.0);
}

Test(metrics, log_prob)
{
    const float two[2] = {0, 0};
    cr_assert_float_eq(tp_log_prob(two, 2, 0), -log(2.0), 1e-12);
    const float z[5] = {2, 1, 0, -1, -2};
    double sum = 0;
    for (int i = 0; i < 5; i++)
        sum += exp(z[i]);
    for (int i = 0; i < 5; i++)
        cr_assert_float_eq(tp_log_prob(z, 5, i), z[i] - log(sum), 1e-12, "id %d", i);
    cr_assert_float_eq(exp(tp_log_prob(z, 5, 0)), .6364, 1e-4);
    /* Max-subtracted: huge logits stay finite and exact. */
    const float huge[3] = {1e30f, 0, 1e30f};
    cr_assert_float_eq(tp_log_prob(huge, 3, 0), -log(2.0), 1e-12);
    double lp = tp_log_prob(huge, 3, 1);
    cr_assert(isfinite(lp) && lp < -1e29, "%g", lp);
    const float neg[2] = {-1e30f, -1e30f};
    cr_assert_float_eq(tp_log_prob(neg, 2, 1), -log(2.0), 1e-12);
    const float first_max[3] = {5, 1, 1};
    cr_assert_float_eq(tp_log_prob(first_max, 3, 0), -log(1 + 2 * exp(-4.0)), 1e-12);
}

/* All recurrent weights zero: h stays 0, so the logits are the head bias at
 * every position and the mean NLL is computable by hand. */
Test(metrics, eval_ids_hand_computed)
{
    th_lstm m;
    th_lstm_init(&m, 4, 3, 5, 1, 1, 0.0f);
    m.head_b[0] = 1, m.head_b[1] = 2, m.head_b[2] = 0, m.head_b[3] = -1;
    tp_error err = {0};
    tp_model *model = th_lstm_model(&m, (th_names){0}, &err);
    cr_assert_not_null(model, "%s", err.msg);
    const int ids[6] = {0, 1, 1, 3, 2, 0};
    tp_eval_result r;
    cr_assert_eq(tp_eval_ids(model, ids, 6, NULL, NULL, &r, &err), TP_OK, "%s", err.msg);
    /* logsumexp(1, 2, 0, -1) = 2.4401896985611953; targets 1, 1, 3, 2, 0. */
    double lse = log(exp(1.0) + exp(2.0) + exp(0.0) + exp(-1.0));
    double nats = (lse - 2) + (lse - 2) + (lse + 1) + (lse - 0) + (lse - 1);
    cr_assert_float_eq(lse, 2.4401896985611953, 1e-12);
    cr_assert_eq(r.tokens, 5);
    cr_assert_float_eq(r.nats, nats, 1e-9);
    cr_assert_float_eq(r.nats_per_token, nats / 5, 1e-9);
    cr_assert_float_eq(r.nats_per_token, 2.4401896985611953 - 0.8, 1e-9);
    cr_assert_float_eq(r.bits_per_token, r.nats_per_token / log(2.0), 1e-12);
    cr_assert_float_eq(r.perplexity, exp(r.nats_per_token), 1e-9);
    tp_model_free(model);
    th_lstm_free(&m);
}

struct seen {
    long calls, last_pos;
    double nll;
    const int *ids;
};

static void on_logits(void *ctx, long pos, const float *logits, int n)
{
    struct seen *s = ctx;
    cr_assert_eq(pos, s->calls, "positions in order");
    s->calls++;
    s->last_pos = pos;
    s->nll -= tp_log_prob(logits, n, s->ids[pos + 1]);
}

Test(metrics, eval_ids_matches_reference_lstm)
{
    th_lstm m;
    th_lstm_init(&m, 9, 4, 7, 2, 31, 0.7f);
    tp_model *model = th_lstm_model(&m, (th_names){0}, NULL);
    cr_assert_not_null(model);
    int ids[50];
    for (int i = 0; i < 50; i++)
        ids[i] = (i * i + 3 * i) % 9;
    th_ref ref;
    memset(&ref, 0, sizeof ref);
    double nll = 0.0, logits[9];
    for (int i = 0; i + 1 < 50; i++) {
        th_ref_step(&m, &ref, ids[i], logits);
        double mx = logits[0], sum = 0;
        for (int v = 1; v < 9; v++)
            mx = logits[v] > mx ? logits[v] : mx;
        for (int v = 0; v < 9; v++)
            sum += exp(logits[v] - mx);
        nll += mx + log(sum) - logits[ids[i + 1]];
    }
    tp_eval_result r;
    struct seen s = {.ids = ids};
    cr_assert_eq(tp_eval_ids(model, ids, 50, on_logits, &s, &r, NULL), TP_OK);
    cr_assert_eq(r.tokens, 49);
    cr_assert_float_eq(r.nats_per_token, nll / 49, 1e-5, "%g vs %g", r.nats_per_token, nll / 49);
    cr_assert_eq(s.calls, 49);
    cr_assert_eq(s.last_pos, 48);
    cr_assert_float_eq(s.nll, r.nats, 1e-9, "callback logits are the scored ones");
    cr_assert_float_eq(r.perplexity, exp(r.nats_per_token), 1e-9);
    cr_assert_float_eq(r.bits_per_token * log(2.0), r.nats_per_token, 1e-12);
    tp_model_free(model);
    th_lstm_free(&m);
}

Test(metrics, eval_needs_two_tokens)
{
    th_lstm m;
    th_lstm_init(&m, 4, 3, 5, 1, 1, 0.5f);
    tp_model *model = th_lstm_model(&m, (th_names){0}, NULL);
    const int ids[1] = {2};
    tp_eval_result r;
    tp_error err = {0};
    cr_assert_eq(tp_eval_ids(model, ids, 1, NULL, NULL, &r, &err), TP_ERR_USAGE);
    cr_assert(strstr(err.msg, "1 token"), "%s", err.msg);
    cr_assert_eq(tp_eval_ids(model, ids, 0, NULL, NULL, &r, &err), TP_ERR_USAGE);
    cr_assert(strstr(err.msg, "0 token"), "%s", err.msg);
    tp_model_free(model);
    th_lstm_free(&m);
}
