/* textmetrics.h - diversity, repetition and novelty of a generated text.
 *
 * Words are maximal runs of letters, digits, apostrophes and non-ASCII
 * characters, with ASCII letters lowercased; characters are Unicode code
 * points (a byte that is not valid UTF-8 counts as one character). N-grams
 * are compared by a 64-bit hash: with the few hundred thousand n-grams of a
 * corpus the chance of any collision is below one in ten million.
 */
#ifndef TEMPEST_TEXTMETRICS_H
#define TEMPEST_TEXTMETRICS_H

#include "tempest/error.h"

typedef struct tp_text_stats {
    long n_words, n_chars;
    double distinct_words[3]; /* distinct-1/2/3: unique n-grams / all n-grams */
    double distinct_chars[3]; /* the same over characters */
    double repetition;        /* share of word 4-gram occurrences whose 4-gram
                                 occurs more than once in the text */
    double novelty;           /* share of word 4-gram occurrences absent from the
                                 reference; NAN without a reference */
    double word_validity;     /* share of words found in the reference's
                                 vocabulary; NAN without a reference */
} tp_text_stats;

/* Each ratio is 0 when the text has no n-gram of that size. */

typedef struct tp_reference tp_reference;

/* Index a reference corpus: its word set and its word 4-gram set. */
tp_status tp_reference_build(tp_reference **out, const char *text, tp_error *err);
void tp_reference_free(tp_reference *ref);

/* ref may be NULL (novelty and word validity are then NAN). */
tp_status tp_text_stats_compute(const char *text, const tp_reference *ref, tp_text_stats *out,
                                tp_error *err);

#endif
