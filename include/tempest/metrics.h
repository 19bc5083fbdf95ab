/* metrics.h - measurements over distributions and texts. */
#ifndef TEMPEST_METRICS_H
#define TEMPEST_METRICS_H

#include <stddef.h>

#include "tempest/error.h"
#include "tempest/model.h"

/* Entropy in bits of a probability vector (zeros ignored). */
double tp_entropy_bits(const double *p, int n);

/* log softmax(logits)[id], computed max-subtracted in double. */
double tp_log_prob(const float *logits, int n, int id);

typedef struct tp_eval_result {
    long tokens;    /* predictions scored: n - 1 */
    double nats;    /* total negative log-likelihood */
    double nats_per_token;
    double bits_per_token;
    double perplexity;
} tp_eval_result;

/* Called with the logits that predict ids[pos + 1]. */
typedef void (*tp_logits_fn)(void *ctx, long pos, const float *logits, int n);

/* Score ids from a zero state: token i + 1 is predicted from tokens 0..i.
 * Needs at least two tokens. on_logits may be NULL. */
tp_status tp_eval_ids(const tp_model *m, const int *ids, long n, tp_logits_fn on_logits,
                      void *ctx, tp_eval_result *out, tp_error *err);

#endif
