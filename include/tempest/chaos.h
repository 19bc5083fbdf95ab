/* chaos.h - how soon do T and T + eps part? The step of first divergence
 * (lanes.h) over many seeds.
 *
 * For seed seed0 + k, lane A samples at T and lane B at T + eps from the
 * same prompt with the same random numbers. Until they part their texts
 * agree, so they share one model state: each step runs the chain twice on
 * the same logits and draws both tokens with the same u, and the first step
 * where the tokens differ is the seed's result. A seed whose lanes agree for
 * all `length` steps is censored. Seeds run 64 to a batch through
 * tp_model_step_batch, batches on `jobs` threads; every seed's result
 * depends only on the seed, so any jobs gives the same numbers.
 */
#ifndef TEMPEST_CHAOS_H
#define TEMPEST_CHAOS_H

#include <stdint.h>

#include "tempest/error.h"
#include "tempest/model.h"
#include "tempest/sampler.h"

#define TP_CHAOS_BATCH 64

typedef struct tp_chaos_spec {
    const tp_model *model;
    const int *prompt;
    int n_prompt;
    tp_sampler_config base; /* everything but the temperature */
    double temperature, epsilon;
    int n_seeds;
    uint64_t seed0;
    int length;
    int jobs;
} tp_chaos_spec;

/* steps[k] = the first step (0-based) where seed seed0 + k's lanes differ,
 * or -1 when they agree for all spec->length steps (censored). */
tp_status tp_chaos_run(const tp_chaos_spec *spec, int *steps, tp_error *err);

/* The distribution of the steps. A censored seed counts as `length` (it
 * split no sooner), so with censored seeds the numbers are lower bounds.
 * Quartiles interpolate linearly between order statistics: the q-quantile
 * of sorted x[0..n) is x[f] + (h - f) (x[f+1] - x[f]) with h = q (n - 1),
 * f = floor(h) (numpy's default). */
typedef struct tp_chaos_stats {
    int n, n_split, n_censored;
    double min, q1, median, q3, max, mean;
} tp_chaos_stats;

void tp_chaos_stats_compute(const int *steps, int n, int length, tp_chaos_stats *out);

/* Counts of the steps in n_bins equal bins over [0, length] (the last bin
 * closed); censored seeds are not counted. */
void tp_chaos_histogram(const int *steps, int n, int length, int n_bins, int *counts);

#endif
