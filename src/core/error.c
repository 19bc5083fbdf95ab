/* error.c - filling tp_error. */
#include "tempest/error.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

tp_status tp_fail(tp_error *err, tp_status code, const char *fmt, ...)
{
    if (err) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err->msg, sizeof err->msg, fmt, ap);
        va_end(ap);
        err->code = code;
    }
    return code;
}

void tp_error_prefix(tp_error *err, const char *fmt, ...)
{
    if (!err)
        return;
    char prefix[TP_ERROR_MSG_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(prefix, sizeof prefix, fmt, ap);
    va_end(ap);
    /* Room for both halves, then cut to fit: a long path must not lose
     * the message that explains it, so the cut falls at the end. */
    char joined[2 * TP_ERROR_MSG_MAX + 2];
    snprintf(joined, sizeof joined, "%s: %s", prefix, err->msg);
    memcpy(err->msg, joined, sizeof err->msg - 1);
    err->msg[sizeof err->msg - 1] = '\0';
}

void tp_error_clear(tp_error *err)
{
    if (err) {
        err->code = TP_OK;
        err->msg[0] = '\0';
    }
}
