/* test_fuzz_regressions.c - inputs from the fuzz targets (tests/fuzz/), as
 * unit tests: each buffer is built here, so the tests need no corpus files.
 *
 * The logits parser moved from src/cli/probs.c into the core for its fuzz
 * target (tp_logits_parse); these pin its contract: the input need not be
 * NUL-terminated, a NUL byte ends the plain form, nothing is returned on
 * failure, and the messages are the ones `tempest probs` has always shown.
 */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "tempest/logits.h"

/* A copy of text in a buffer of exactly len bytes (no terminating NUL), so
 * AddressSanitizer catches any read past the end. */
static char *exact(const char *text, size_t len)
{
    char *b = malloc(len ? len : 1);
    cr_assert(b);
    memcpy(b, text, len);
    return b;
}

static void logits_fail(const char *text, size_t len, const char *needle)
{
    char *b = exact(text, len);
    static float sentinel;
    float *v = &sentinel; /* must be reset to NULL */
    int n = -1;
    tp_error err = {0};
    cr_assert_eq(tp_logits_parse(b, len, &v, &n, &err), TP_ERR_FORMAT, "accepted '%.*s'",
                 (int)len, text);
    cr_assert_null(v);
    cr_assert_eq(n, 0);
    cr_assert(strstr(err.msg, needle), "message '%s' lacks '%s'", err.msg, needle);
    free(b);
}

Test(fuzz_regressions, logits_plain_without_terminator)
{
    /* the fuzz target hands over its bytes as they are: no NUL after them */
    char *b = exact("1.5 -2,3e1", 10);
    float *v = NULL;
    int n = 0;
    tp_error err = {0};
    cr_assert_eq(tp_logits_parse(b, 10, &v, &n, &err), TP_OK, "%s", err.msg);
    cr_assert_eq(n, 3);
    cr_assert_float_eq(v[0], 1.5f, 0);
    cr_assert_float_eq(v[1], -2.0f, 0);
    cr_assert_float_eq(v[2], 30.0f, 0);
    free(v);
    free(b);
}

Test(fuzz_regressions, logits_number_running_to_the_end)
{
    /* strtod must stop at the end of the buffer, not read on: "12" cut to "1" */
    char *b = exact("12", 1);
    float *v = NULL;
    int n = 0;
    tp_error err = {0};
    cr_assert_eq(tp_logits_parse(b, 1, &v, &n, &err), TP_OK, "%s", err.msg);
    cr_assert_eq(n, 1);
    cr_assert_float_eq(v[0], 1.0f, 0);
    free(v);
    free(b);
}

Test(fuzz_regressions, logits_json_without_terminator)
{
    char *b = exact("[1, 2.5]", 8);
    float *v = NULL;
    int n = 0;
    tp_error err = {0};
    cr_assert_eq(tp_logits_parse(b, 8, &v, &n, &err), TP_OK, "%s", err.msg);
    cr_assert_eq(n, 2);
    cr_assert_float_eq(v[1], 2.5f, 0);
    free(v);
    free(b);
}

Test(fuzz_regressions, logits_nul_byte_ends_plain_text)
{
    static const char text[] = {'1', ' ', '2', '\0', 'x', 'y'};
    char *b = exact(text, sizeof text);
    float *v = NULL;
    int n = 0;
    tp_error err = {0};
    cr_assert_eq(tp_logits_parse(b, sizeof text, &v, &n, &err), TP_OK, "%s", err.msg);
    cr_assert_eq(n, 2);
    free(v);
    free(b);
}

Test(fuzz_regressions, logits_refused_with_the_probs_messages)
{
    logits_fail("", 0, "no numbers in the logits file");
    logits_fail("  \n\t \n", 6, "no numbers in the logits file");
    logits_fail("[]", 2, "no numbers in the logits file");
    logits_fail("1.5 2 abc 3\n", 12, "logit 2 ('abc')");
    logits_fail("1 2 nan\n", 8, "logit 2 ('nan')");
    logits_fail("1 2 1e999\n", 10, "logit 2 ('1e999')");
    logits_fail("1 2 4e38", 8, "logit 2 ('4e38')");
    logits_fail("[1, \"x\", 3]\n", 12, "logit 1 is not a finite number");
    logits_fail("[1, 1e39]", 9, "logit 1 is not a finite number");
    logits_fail("[1, 2\n", 6, "not a JSON array");
    logits_fail("\0" "1 2", 4, "no numbers in the logits file");
}
