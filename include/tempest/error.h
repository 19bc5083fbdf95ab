/* error.h - how the core library reports failure.
 *
 * The core never prints and never exits: every fallible call takes a
 * tp_error, fills it with a code and a one-line message that names the
 * problem and the offending value, and returns the same code. Front ends
 * decide how to show it and which exit status it maps to.
 */
#ifndef TEMPEST_ERROR_H
#define TEMPEST_ERROR_H

typedef enum tp_status {
    TP_OK = 0,
    TP_ERR_USAGE,   /* a bad value supplied by the user (flag, command, setting) */
    TP_ERR_IO,      /* a file could not be opened, read or written */
    TP_ERR_FORMAT,  /* a file was read but its content is invalid */
    TP_ERR_NOMEM,   /* an allocation failed */
} tp_status;

#define TP_ERROR_MSG_MAX 512

typedef struct tp_error {
    tp_status code;
    char msg[TP_ERROR_MSG_MAX];
} tp_error;

/* Record a failure in err (which may be NULL) and return code. */
tp_status tp_fail(tp_error *err, tp_status code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Prefix an existing message, e.g. with the file name it concerns. */
void tp_error_prefix(tp_error *err, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

void tp_error_clear(tp_error *err);

#endif
