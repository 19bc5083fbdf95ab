/* test_textmetrics.c - distinct-n, repetition, novelty and word validity on
 * texts small enough to count by hand. */
#include <criterion/criterion.h>
#include <math.h>

#include "tempest/textmetrics.h"

static tp_text_stats stats(const char *text, const char *reference)
{
    tp_reference *ref = NULL;
    tp_text_stats s;
    if (reference)
        cr_assert_eq(tp_reference_build(&ref, reference, NULL), TP_OK);
    cr_assert_eq(tp_text_stats_compute(text, ref, &s, NULL), TP_OK);
    tp_reference_free(ref);
    return s;
}

Test(textmetrics, distinct_words_counted_by_hand)
{
    /* the cat the cat the cat: 6 words, 2 unique; 5 bigrams, 2 unique;
     * 4 trigrams, 2 unique. */
    tp_text_stats s = stats("the cat the cat the cat", NULL);
    cr_assert_eq(s.n_words, 6);
    cr_assert_float_eq(s.distinct_words[0], 2.0 / 6, 1e-12);
    cr_assert_float_eq(s.distinct_words[1], 2.0 / 5, 1e-12);
    cr_assert_float_eq(s.distinct_words[2], 2.0 / 4, 1e-12);
}

Test(textmetrics, distinct_chars_counted_by_hand)
{
    /* 23 characters: t h e space c a are the 6 unique ones. "ab ab": bigrams
     * ab, b_, _a, ab: 3 unique of 4. */
    tp_text_stats s = stats("the cat the cat the cat", NULL);
    cr_assert_eq(s.n_chars, 23);
    cr_assert_float_eq(s.distinct_chars[0], 6.0 / 23, 1e-12);
    s = stats("ab ab", NULL);
    cr_assert_float_eq(s.distinct_chars[1], 3.0 / 4, 1e-12);
}

Test(textmetrics, words_ignore_case_and_punctuation)
{
    tp_text_stats s = stats("The, THE; the!", NULL);
    cr_assert_eq(s.n_words, 3);
    cr_assert_float_eq(s.distinct_words[0], 1.0 / 3, 1e-12);
}

Test(textmetrics, multibyte_characters_count_once)
{
    tp_text_stats s = stats("\xc3\xa9\xc3\xa9", NULL); /* two e-acute */
    cr_assert_eq(s.n_chars, 2);
    cr_assert_float_eq(s.distinct_chars[0], 0.5, 1e-12);
}

Test(textmetrics, repetition_share_of_repeated_4grams)
{
    /* 4-grams: (the cat the cat) twice, (cat the cat the) once: 2 of 3
     * occurrences belong to a 4-gram seen more than once. */
    tp_text_stats s = stats("the cat the cat the cat", NULL);
    cr_assert_float_eq(s.repetition, 2.0 / 3, 1e-12);
    s = stats("one two three four five six", NULL);
    cr_assert_float_eq(s.repetition, 0.0, 1e-12);
}

Test(textmetrics, novelty_and_validity_against_a_reference)
{
    tp_text_stats s = stats("the cat sat on the hat", "The cat sat on the mat.");
    /* 4-grams: (the cat sat on) and (cat sat on the) are in the reference,
     * (sat on the hat) is not; every word but "hat" is known. */
    cr_assert_float_eq(s.novelty, 1.0 / 3, 1e-12);
    cr_assert_float_eq(s.word_validity, 5.0 / 6, 1e-12);
}

Test(textmetrics, no_reference_means_undefined)
{
    tp_text_stats s = stats("the cat sat on the hat", NULL);
    cr_assert(isnan(s.novelty));
    cr_assert(isnan(s.word_validity));
}

Test(textmetrics, empty_and_short_texts_are_zero)
{
    tp_text_stats s = stats("", NULL);
    cr_assert_eq(s.n_words, 0);
    cr_assert_eq(s.n_chars, 0);
    cr_assert_float_eq(s.distinct_words[0], 0.0, 1e-12);
    cr_assert_float_eq(s.repetition, 0.0, 1e-12);
    s = stats("hello", "hello world");
    cr_assert_float_eq(s.distinct_words[1], 0.0, 1e-12); /* no bigram */
    cr_assert_float_eq(s.word_validity, 1.0, 1e-12);
}
