/* rng.h - deterministic random numbers.
 *
 * xoshiro256** (Blackman and Vigna), its 256-bit state filled from the
 * 64-bit seed by splitmix64. The same seed gives the same sequence on every
 * platform, which is what makes "same seed, same text" hold: a generation
 * draws exactly one uniform number per sampled token.
 */
#ifndef TEMPEST_RNG_H
#define TEMPEST_RNG_H

#include <stdint.h>

typedef struct tp_rng {
    uint64_t s[4];
} tp_rng;

void tp_rng_seed(tp_rng *rng, uint64_t seed);
uint64_t tp_rng_next(tp_rng *rng);
/* Uniform in [0, 1) with 53 random bits. */
double tp_rng_uniform(tp_rng *rng);

#endif
