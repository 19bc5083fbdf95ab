/* logits.h - parse a list of raw logits, as `tempest probs --logits` reads it.
 *
 * The text is either a JSON array of numbers or numbers separated by
 * whitespace and/or commas. Every value must be finite and fit a float.
 */
#ifndef TEMPEST_LOGITS_H
#define TEMPEST_LOGITS_H
#include <stddef.h>
#include "tempest/error.h"

/* Most logits accepted. */
#define TP_LOGITS_MAX (1 << 20)

/* Parse the first len bytes of text (need not be NUL-terminated; a NUL byte
 * ends the whitespace-separated form). On success *out (malloc'd) holds
 * *n >= 1 values; on failure *out is NULL and *n is 0. */
tp_status tp_logits_parse(const char *text, size_t len, float **out, int *n, tp_error *err);

#endif
