/* metrics.c - entropy, log-likelihood and perplexity. */
#include "tempest/metrics.h"

#include <math.h>
#include <stdlib.h>

double tp_entropy_bits(const double *p, int n)
{
    double h = 0.0;
    for (int i = 0; i < n; i++)
        if (p[i] > 0.0)
            h -= p[i] * log2(p[i]);
    return h > 0.0 ? h : 0.0;
}

double tp_log_prob(const float *logits, int n, int id)
{
    double zmax = logits[0], sum = 0.0;
    for (int i = 1; i < n; i++)
        if (logits[i] > zmax)
            zmax = logits[i];
    for (int i = 0; i < n; i++)
        sum += exp((double)logits[i] - zmax);
    return (double)logits[id] - zmax - log(sum);
}

tp_status tp_eval_ids(const tp_model *m, const int *ids, long n, tp_logits_fn on_logits,
                      void *ctx, tp_eval_result *out, tp_error *err)
{
    if (n < 2)
        return tp_fail(err, TP_ERR_USAGE, "the text has %ld token(s); scoring needs at "
                       "least 2", n);
    tp_state *s = tp_state_new(m);
    float *logits = malloc((size_t)m->n_vocab * sizeof *logits);
    if (!s || !logits) {
        tp_state_free(s);
        free(logits);
        return tp_fail(err, TP_ERR_NOMEM, "out of memory for scoring");
    }
    double nats = 0.0;
    for (long i = 0; i + 1 < n; i++) {
        tp_model_step(m, s, ids[i], logits);
        if (on_logits)
            on_logits(ctx, i, logits, m->n_vocab);
        nats -= tp_log_prob(logits, m->n_vocab, ids[i + 1]);
    }
    out->tokens = n - 1;
    out->nats = nats;
    out->nats_per_token = nats / (double)(n - 1);
    out->bits_per_token = out->nats_per_token / log(2.0);
    out->perplexity = exp(out->nats_per_token);
    tp_state_free(s);
    free(logits);
    return TP_OK;
}
