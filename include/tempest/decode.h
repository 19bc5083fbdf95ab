/* decode.h - decoding strategies: sampling, greedy, beam and sampled beam.
 *
 * A strategy is written as in `tempest sweep --strategies`: "sample",
 * "greedy", "top_k=40", "top_p=0.9", "min_p=0.05", "beam=3", or settings
 * joined with '+' such as "top_p=0.95+beam=3".
 *
 * Beam search keeps the N sequences with the highest sum of log
 * probabilities under the sampling chain (the distribution after
 * temperature and truncation, so temperature and the truncations matter).
 * Deterministic beam search expands every beam by its N most probable kept
 * tokens; sampled beam (a beam together with any truncation, e.g.
 * top_p=0.95+beam=3) expands each beam by N draws from its filtered
 * distribution (duplicates merged). Scores are length-normalised, i.e. the
 * mean log probability per token; because every beam has the same length at
 * every step (there is no end token), normalising never changes which beams
 * survive, only the score reported.
 */
#ifndef TEMPEST_DECODE_H
#define TEMPEST_DECODE_H

#include <stdint.h>

#include "tempest/error.h"
#include "tempest/model.h"
#include "tempest/sampler.h"

#define TP_BEAM_MAX 64

typedef struct tp_strategy {
    char name[64];
    int greedy;
    int beam; /* 0: no beam */
    int sampled_beam; /* a beam that expands by sampling */
    int has_top_k, has_top_p, has_min_p;
    int top_k;
    double top_p, min_p;
} tp_strategy;

tp_status tp_strategy_parse(const char *text, tp_strategy *out, tp_error *err);

/* The sampler settings for a strategy at temperature T, starting from base
 * (which supplies the order and the repetition penalty). */
void tp_strategy_config(const tp_strategy *s, double temperature, const tp_sampler_config *base,
                        tp_sampler_config *out);

typedef struct tp_generation {
    int *tokens;          /* the generated tokens (not the prompt) */
    int n;
    double entropy_bits;  /* mean entropy of the distributions drawn from */
    double self_nll;      /* mean -ln p(token) under the model at T = 1 */
    double score;         /* mean log probability under the chain */
} tp_generation;

/* Generate length tokens after the prompt ids; beam 0 samples through the
 * chain (greedy when cfg's temperature is 0) (n_prompt may be 0: the model
 * then starts from its newline token). Free out->tokens with free(). */
tp_status tp_decode(const tp_model *m, const int *prompt, int n_prompt,
                    const tp_sampler_config *cfg, int beam, int sampled_beam, uint64_t seed,
                    int length,
                    tp_generation *out, tp_error *err);

/* n sampled sequences (beam 0) of the same prompt and length, each with
 * its own chain cfgs[i] and seed seeds[i], stepped together (see
 * tp_model_run_batch): outs[i] is bit for bit what tp_decode(m, prompt,
 * n_prompt, &cfgs[i], 0, 0, seeds[i], length, ...) gives. Free each
 * outs[i].tokens with free(); on an error none is left to free. */
tp_status tp_decode_batch(const tp_model *m, const int *prompt, int n_prompt,
                          const tp_sampler_config *cfgs, const uint64_t *seeds, int n,
                          int length, tp_generation *outs, tp_error *err);

#endif
