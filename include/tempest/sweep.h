/* sweep.h - a controlled temperature sweep: every strategy at every
 * temperature over several seeds, with the metrics of each sample.
 *
 * Cells are independent and seeded (seed0 + k for the k-th seed), so the
 * numbers do not depend on how many threads run them. The sweep runs on
 * `jobs` threads sharing the read-only model. A sampling strategy's cells
 * (no beam) are stepped together, up to TP_SWEEP_BATCH at a time, one pass
 * over the weights per step for all of them (tp_decode_batch: the same
 * numbers as one by one); a beam strategy's cells run one by one, each
 * stepping its beams together.
 */
#ifndef TEMPEST_SWEEP_H
#define TEMPEST_SWEEP_H

#include <stddef.h>
#include <stdint.h>

#include "tempest/decode.h"
#include "tempest/error.h"
#include "tempest/model.h"
#include "tempest/textmetrics.h"

#define TP_SWEEP_BATCH 64

typedef enum tp_metric {
    TP_M_ENTROPY,     /* mean entropy (bits) of the distributions drawn from */
    TP_M_SELF_PPL,    /* the sample scored by the model at T = 1 */
    TP_M_DISTINCT1_W, TP_M_DISTINCT2_W, TP_M_DISTINCT3_W,
    TP_M_DISTINCT1_C, TP_M_DISTINCT2_C, TP_M_DISTINCT3_C,
    TP_M_REPETITION,
    TP_M_NOVELTY,
    TP_M_VALIDITY,
    TP_N_METRICS
} tp_metric;

typedef struct tp_metric_info {
    const char *key;   /* CSV/JSON name */
    const char *label; /* short column heading */
} tp_metric_info;

const tp_metric_info *tp_metric_get(tp_metric m);

typedef struct tp_sweep_spec {
    const tp_model *model;
    const int *prompt;
    int n_prompt;
    const double *temperatures;
    int n_temperatures;
    const tp_strategy *strategies;
    int n_strategies;
    int n_seeds;
    uint64_t seed0;
    int length;
    int jobs;
    const tp_reference *reference; /* may be NULL */
    tp_sampler_config base;        /* order and repetition penalty */
    const volatile int *cancel;    /* when set and non-zero, stop early */
} tp_sweep_spec;

typedef struct tp_sweep_cell {
    int strategy, temperature; /* indices into the spec */
    uint64_t seed;
    double metric[TP_N_METRICS];
    char *text; /* the sample (set only when keep_text) */
} tp_sweep_cell;

/* Called after each cell, from the thread that ran it (serialised). */
typedef void (*tp_sweep_progress_fn)(void *ctx, int done, int total);

int tp_sweep_n_cells(const tp_sweep_spec *spec);

/* Fill cells[tp_sweep_n_cells(spec)], in order strategy, temperature, seed. */
tp_status tp_sweep_run(const tp_sweep_spec *spec, tp_sweep_cell *cells, int keep_text,
                       tp_sweep_progress_fn progress, void *ctx, tp_error *err);
void tp_sweep_cells_free(tp_sweep_cell *cells, int n);

/* Mean and sample standard deviation of each metric over the seeds of one
 * (strategy, temperature); NAN metrics stay NAN. */
void tp_sweep_summary(const tp_sweep_spec *spec, const tp_sweep_cell *cells, int strategy,
                      int temperature, double mean[TP_N_METRICS], double sd[TP_N_METRICS]);

/* A sweep as the playground's `:sweep [TEMPS] [STRATEGIES]` asks for it:
 * TEMPS comma-separated and increasing (default 0.2,0.5,0.8,1.1,1.4),
 * STRATEGIES ';'-separated as in `tempest sweep` (default sample;top_p=0.9). */
#define TP_SWEEP_REQ_TEMPS 16
#define TP_SWEEP_REQ_STRATEGIES 8

typedef struct tp_sweep_request {
    double temperatures[TP_SWEEP_REQ_TEMPS];
    int n_temperatures;
    tp_strategy strategies[TP_SWEEP_REQ_STRATEGIES];
    int n_strategies;
} tp_sweep_request;

tp_status tp_sweep_parse_request(const char *args, tp_sweep_request *out, tp_error *err);

/* "0.2,0.5,0.8": at most max increasing temperatures in [0, 100] from the
 * first len bytes of text. */
tp_status tp_parse_temperatures(const char *text, size_t len, double *out, int max, int *n,
                                tp_error *err);
/* "sample;top_p=0.9;beam=3": at most max strategies. */
tp_status tp_parse_strategies(const char *text, tp_strategy *out, int max, int *n,
                              tp_error *err);

#endif
