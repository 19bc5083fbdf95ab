/* lanes.h - 2 to 4 generations side by side from the same prompt and the
 * same random numbers, one per setting, and where they part.
 *
 * Every lane is a tp_session seeded alike. A session draws exactly one
 * uniform number per token (rng.h), so at step k every lane draws with the
 * same u; lanes differ only because their settings shape the distribution
 * that u falls into. The lanes are stepped together through
 * tp_model_step_batch: one pass over the weights for all of them.
 *
 * The butterfly: two lanes at T and T + eps. While their texts agree their
 * contexts, logits and u agree, so the first step where the tokens differ
 * (the split) is where the small change in T moved a cumulative-probability
 * boundary across u. At the split (lane 0 at T drew a, lane 1 drew b):
 *   margin = min(u - lo, hi - u), where [lo, hi) is a's interval in lane
 *            0's cumulative distribution (kept tokens in id order, the order
 *            tp_sampler_draw walks): how far u was from landing elsewhere;
 *   gap    = |p0(a) - p0(b)|: how close the two candidates were at T.
 * The edge of a's interval nearest u is the boundary the change of T moved
 * across u (for a < b its upper edge, else its lower edge), so the margin
 * is at most how far that boundary moved: a small eps changes the text only
 * where u falls that close to a boundary.
 */
#ifndef TEMPEST_LANES_H
#define TEMPEST_LANES_H

#include <stddef.h>
#include <stdint.h>

#include "tempest/error.h"
#include "tempest/model.h"
#include "tempest/sampler.h"
#include "tempest/session.h"

#define TP_LANES_MIN 2
#define TP_LANES_MAX 4
#define TP_LANE_TEMP_MAX 5.0 /* the playground's range */

/* Which settings a lane overrides besides the temperature. */
#define TP_LANE_TOP_K 1u
#define TP_LANE_TOP_P 2u
#define TP_LANE_MIN_P 4u

typedef struct tp_lane_spec {
    double temperature;
    unsigned set; /* TP_LANE_* bits */
    int top_k;
    double top_p, min_p;
} tp_lane_spec;

typedef struct tp_lane_request {
    int n;
    tp_lane_spec lanes[TP_LANES_MAX];
    int butterfly; /* two lanes at T and T + eps: show the split */
} tp_lane_request;

/* "0.2,0.8/p0.9,1.2/k40/m0.05": 2 to 4 lanes, each a temperature (0 to 5)
 * then optional /kN (0 = off), /pX (0 < X <= 1), /mX (0 <= X <= 1). The
 * message names the lane and the bad part. */
tp_status tp_lanes_parse(const char *text, tp_lane_request *out, tp_error *err);
/* Two lanes, T and T + eps (T in 0..5, eps in (0, 1], T + eps <= 5). */
tp_status tp_lanes_butterfly(double temperature, double eps, tp_lane_request *out,
                             tp_error *err);
/* The arguments of `:lanes SPECS|off` or `:butterfly T [EPS]|off` (name is
 * "lanes" or "butterfly"; EPS defaults to 0.01); "off" gives n = 0. */
#define TP_BUTTERFLY_EPS 0.01
tp_status tp_lanes_parse_command(const char *name, const char *args, tp_lane_request *out,
                                 tp_error *err);
/* The same without the command's name in front of a message. */
tp_status tp_lanes_parse_args(int butterfly, const char *args, tp_lane_request *out,
                              tp_error *err);
/* base with the lane's settings on top. */
void tp_lane_spec_apply(const tp_lane_spec *spec, const tp_sampler_config *base,
                        tp_sampler_config *out);
/* "0.8/p0.9" */
void tp_lane_spec_format(const tp_lane_spec *spec, char *out, size_t cap);

/* The first step where two histories differ, comparing only the steps both
 * have; -1 when they agree so far. */
int tp_steps_divergence(const tp_step *a, int na, const tp_step *b, int nb);

/* What decided a split (see the top of this file); step -1: no split. */
typedef struct tp_split {
    int step;
    int token_a, token_b; /* drawn by lane 0 and lane 1 */
    double u;
    double lo, hi;        /* token_a's cumulative interval in lane 0 */
    double p0_a, p0_b;    /* lane 0's probabilities of the two tokens */
    double p1_a, p1_b;    /* lane 1's */
    double margin, gap;
} tp_split;

/* The split for distributions d0 and d1 and the shared u at step; returns
 * 1 (out filled) when they pick different tokens, else 0 (out->step = -1). */
int tp_split_measure(const tp_dist *d0, const tp_dist *d1, double u, int step,
                     tp_split *out);

typedef struct tp_lane_set {
    const tp_model *model;
    int n;
    tp_session *lanes[TP_LANES_MAX]; /* NULL once detached */
    int butterfly;
    tp_split split;                  /* of lanes 0 and 1, once found */
    /* divergence of each pair, cached: -1 = none among the first
     * checked[i][j] steps */
    int div[TP_LANES_MAX][TP_LANES_MAX];
    int checked[TP_LANES_MAX][TP_LANES_MAX];
    float *logits;                   /* [n][V] for the batched step */
} tp_lane_set;

/* Lanes from prompt and seed, each with base plus its spec. */
tp_status tp_lane_set_new(tp_lane_set **out, const tp_model *model, const char *prompt,
                          const tp_sampler_config *base, uint64_t seed,
                          const tp_lane_request *req, tp_error *err);
void tp_lane_set_free(tp_lane_set *s);
/* Every lane from prompt (NULL: the same) and seed again. */
tp_status tp_lane_set_restart(tp_lane_set *s, const char *prompt, uint64_t seed, tp_error *err);
/* One token in every lane, one batched model pass; the split is measured
 * when lanes 0 and 1 first part. */
tp_status tp_lane_set_step(tp_lane_set *s, tp_error *err);
/* The step where lanes i and j first differ, or -1. */
int tp_lane_set_pair_divergence(tp_lane_set *s, int i, int j);
/* The first step where any two lanes differ, or -1; the pair in *i, *j
 * (may be NULL). */
int tp_lane_set_divergence(tp_lane_set *s, int *i, int *j);
/* The first step where lane i differs from any other lane, or -1. */
int tp_lane_set_lane_divergence(tp_lane_set *s, int i);
/* Take lane i out of the set (the caller frees it). */
tp_session *tp_lane_set_detach(tp_lane_set *s, int i);

#endif
