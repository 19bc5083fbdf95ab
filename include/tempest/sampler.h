/* sampler.h - logits -> probabilities through an ordered chain of stages.
 *
 * Each stage maps (logits, kept set) to (logits, kept set):
 *   repeat_penalty  CTRL-style: a logit z of a token seen in the last N
 *                   context tokens becomes z / R if z > 0, else z * R
 *   temperature     z / T (as z * (1 / T), within an ulp); T = 0 keeps only
 *                   the argmax (lowest id on ties)
 *   top_k           keep the k highest logits (ties at the boundary keep
 *                   the lower id); k <= 0 or k >= V is off
 *   top_p           keep the smallest highest-probability prefix whose mass
 *                   reaches p, the crossing token included; p >= 1 is off
 *   min_p           keep p_i >= min_p * p_max; 0 is off
 * Probabilities at each stage are the softmax of the current logits over the
 * kept set, computed max-subtracted in double precision, so any T in
 * (0, 100] is finite. At least one token always survives. The distribution
 * after every stage is kept in the tp_dist so a front end can draw it.
 *
 * Cost: top-k and top-p select partially (a bounded heap or quickselect,
 * then sort only the prefix that survives), and every stage after the first
 * cut works on the kept tokens only. Without stage snapshots (tp_dist.views
 * lacks TP_VIEW_STAGES) the stages before the first cut are not applied to
 * a copy of the vocabulary: temperature is folded into the keys and a top-k
 * (k <= 128) or greedy cut scans the caller's float logits once, so a chain
 * that starts with them writes per-vocabulary arrays only as two byte
 * memsets. A small vocabulary's top-k starts from where the previous
 * call's k-th best lay (tp_dist.top_k_hint), which changes only the time.
 * p_base costs n exp() calls and each stage snapshot n doubles.
 */
#ifndef TEMPEST_SAMPLER_H
#define TEMPEST_SAMPLER_H

#include <stddef.h>

#include "tempest/error.h"
#include "tempest/rng.h"

typedef enum tp_stage {
    TP_STAGE_REPEAT,
    TP_STAGE_TEMPERATURE,
    TP_STAGE_TOP_K,
    TP_STAGE_TOP_P,
    TP_STAGE_MIN_P,
    TP_N_STAGES
} tp_stage;

#define TP_TEMPERATURE_MAX 100.0
#define TP_REPEAT_PENALTY_MAX 100.0

typedef struct tp_sampler_config {
    double temperature;    /* 0: greedy */
    int top_k;             /* <= 0: off */
    double top_p;          /* >= 1: off */
    double min_p;          /* 0: off */
    double repeat_penalty; /* 1: off */
    int repeat_last_n;     /* how many recent context tokens the penalty sees */
    int n_order;
    tp_stage order[TP_N_STAGES];
} tp_sampler_config;

/* T = 0.8, every truncation off, penalty off (1.0 over the last 64 tokens),
 * order repeat_penalty, temperature, top_k, top_p, min_p. */
void tp_sampler_defaults(tp_sampler_config *cfg);

/* Check every value is in range; the message names the setting and value. */
tp_status tp_sampler_validate(const tp_sampler_config *cfg, tp_error *err);

/* Every setting the same (field by field: the struct has padding). */
int tp_sampler_config_equal(const tp_sampler_config *a, const tp_sampler_config *b);

/* Parse "temperature,top_k,top_p,min_p" (any permutation; repeat_penalty may
 * be placed anywhere and otherwise runs first), or the names "temp-first" and
 * "trunc-first". Dashes and underscores are interchangeable. */
tp_status tp_sampler_parse_order(tp_sampler_config *cfg, const char *text, tp_error *err);

/* "temp-first", "trunc-first" or the comma-separated list. */
void tp_sampler_order_label(const tp_sampler_config *cfg, char *out, size_t cap);
const char *tp_stage_name(tp_stage s);
int tp_sampler_is_temperature_first(const tp_sampler_config *cfg);

/* Bits of tp_dist.views: which optional views tp_sampler_apply fills. */
#define TP_VIEW_BASE 1u   /* p_base (read by tp_dist_rank, tp_dist_order(d, 0, ..)) */
#define TP_VIEW_STAGES 2u /* stage_p */
#define TP_VIEW_ENTROPY 4u /* entropy_bits (NaN without it) */
#define TP_VIEW_ALL (TP_VIEW_BASE | TP_VIEW_STAGES | TP_VIEW_ENTROPY)

typedef struct tp_dist {
    int n;               /* vocabulary size */
    /* TP_VIEW_ALL after tp_dist_init, so the UI and session see everything;
     * a caller that only draws tokens may clear bits to skip that work (the
     * arrays are then left as they were; entropy_bits is NaN). p, kept,
     * cut_by and n_kept are always filled and do not depend on it. */
    unsigned views;
    float *logits;       /* raw logits (copied only when views != 0) */
    double *p_base;      /* plain softmax of the raw logits (T = 1, nothing cut) */
    double *p;           /* after the whole chain; 0 for cut tokens. With
                          * views == 0 a call clears only the ids the previous
                          * call set, so nothing else may write p (a dist
                          * filled by tp_dist_copy gets one call with views
                          * on first, which clears the whole row). */
    unsigned char *kept;
    signed char *cut_by; /* the tp_stage that removed a token, or -1 */
    int n_stages;
    tp_stage stages[TP_N_STAGES];
    double *stage_p;     /* [n_stages][n]: the distribution after each stage */
    int n_kept;
    double entropy_bits; /* of p (TP_VIEW_ENTROPY) */
    /* scratch */
    double *z;
    struct tp_ranked *ranked;
    unsigned char *seen;
    int *cand;           /* ids still kept, in id order (n_kept of them) */
    double *e;           /* exp(z - max z) of kept ids, while e_ok (every
                          * cut keeps the largest z, so it stays valid
                          * until z changes) */
    double *q;           /* a stage's probabilities (top-p, min-p) */
    int *live;           /* ids where p may be nonzero (n_live; n = all) */
    int n_live, e_ok;
    double top_k_hint;   /* where a small vocabulary's top-k starts looking
                          * (NaN: unknown), and how much that wanders: */
    double top_k_wander; /* speed hints only, they never change a result */
} tp_dist;

tp_status tp_dist_init(tp_dist *d, int n, tp_error *err);
void tp_dist_free(tp_dist *d);

/* Run the chain on logits[n]; context holds the most recent tokens (for the
 * repetition penalty), oldest first. */
void tp_sampler_apply(const tp_sampler_config *cfg, const float *logits,
                      const int *context, int n_context, tp_dist *d);

/* Draw a token: one uniform number u, then the first id (in id order) whose
 * cumulative kept probability exceeds u. */
int tp_sampler_draw(const tp_dist *d, tp_rng *rng);
/* The token tp_sampler_draw picks for the uniform number u, and (when lo
 * and hi are not NULL) its cumulative interval [lo, hi) in id order. */
int tp_sampler_pick(const tp_dist *d, double u, double *lo, double *hi);

/* Ids sorted by p_base (by_final = 0) or by p (by_final = 1), descending,
 * lower id first on ties. order must hold d->n ints. */
void tp_dist_order(const tp_dist *d, int by_final, int *order);

/* Rank (0 = most likely) of token id by p_base. */
int tp_dist_rank(const tp_dist *d, int id);

#endif
