/* script.h - demo scripts: a small line format that runs the playground
 * hands-free. One instruction per line; '#' starts a comment.
 *
 *   wait 5s | wait 500ms | wait 40 tokens   let it write for a while
 *   pause 3s                                 stop writing, hold the screen
 *   at 20s COMMAND | at 200 tokens COMMAND   wait until that long after the
 *                                            start (or that many tokens
 *                                            written), then run COMMAND
 *   caption "TEXT" | caption off             an on-screen caption
 *   restart [SEED]                           start the text again
 *   quit                                     leave the playground
 *   anything else                            a `:` command (temp 1.5, topk 40,
 *                                            topp 0.9, order trunc-first,
 *                                            prompt TEXT, speed 50, theme ...)
 * Parsing checks every line (commands against the default settings) and
 * errors name the line.
 */
#ifndef TEMPEST_SCRIPT_H
#define TEMPEST_SCRIPT_H

#include <stddef.h>

#include "tempest/error.h"

#define TP_SCRIPT_TEXT_MAX 512
#define TP_SCRIPT_MAX_SECONDS 86400.0
#define TP_SCRIPT_MAX_TOKENS 10000000L
#define TP_SCRIPT_MAX_LINES 100000

typedef enum tp_script_op {
    TP_SCRIPT_WAIT_MS,     /* amount: milliseconds from now, still writing */
    TP_SCRIPT_WAIT_TOKENS, /* amount: tokens from now */
    TP_SCRIPT_PAUSE_MS,    /* amount: milliseconds with writing stopped */
    TP_SCRIPT_UNTIL_MS,    /* amount: milliseconds after the start */
    TP_SCRIPT_UNTIL_TOKENS, /* amount: tokens written since the start */
    TP_SCRIPT_CAPTION,     /* text ("" clears it) */
    TP_SCRIPT_RESTART,     /* amount: the seed, or -1 for the same one */
    TP_SCRIPT_QUIT,
    TP_SCRIPT_COMMAND,     /* text: a `:` command line */
} tp_script_op;

typedef struct tp_script_step {
    tp_script_op op;
    int line;
    double amount;
    char text[TP_SCRIPT_TEXT_MAX];
} tp_script_step;

typedef struct tp_script {
    tp_script_step *steps;
    int n_steps, cap_steps;
} tp_script;

tp_status tp_script_parse(tp_script *s, const char *text, size_t len, const char *name,
                          tp_error *err);
void tp_script_free(tp_script *s);
const char *tp_script_op_name(tp_script_op op);

#endif
