/* scriptrun.c - --script: runs a demo script (script.h) against the
 * playground's clock, one due instruction after another. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tempest/cli.h"
#include "tempest/tui_demo.h"
#include "tempest/tui_keys.h"

enum wait_kind { WAIT_NONE, WAIT_TIME, WAIT_TOKENS };

struct tp_script_run {
    tp_script script;
    int pc;
    int started, done;
    double start_ms, until_ms;
    long tokens, until_tokens;
    enum wait_kind waiting;
    int holding; /* a `pause` stopped the writing */
};

int tp_demo_load_script(tp_app *a, const char *path)
{
    tp_error err = {0};
    char *text = NULL;
    size_t len = 0;
    struct tp_script_run *r = calloc(1, sizeof *r);
    tp_status rc = r ? tp_read_file(path, &text, &len, &err)
                     : tp_fail(&err, TP_ERR_NOMEM, "out of memory");
    if (!rc)
        rc = tp_script_parse(&r->script, text, len, path, &err);
    free(text);
    if (rc) {
        free(r);
        return tp_cli_report(NULL, &err);
    }
    a->script = r;
    return 0;
}

void tp_script_run_free(tp_app *a)
{
    if (!a->script)
        return;
    tp_script_free(&a->script->script);
    free(a->script);
    a->script = NULL;
}

static void run_command(tp_app *a, const tp_script_step *st)
{
    tp_command cmd;
    tp_error err = {0};
    if (tp_command_parse(st->text, &a->session->cfg, &cmd, &err))
        tp_app_message(a, 1, "script line %d: %s", st->line, err.msg);
    else
        tp_app_run_command(a, &cmd);
}

/* Start one instruction; waits set r->waiting. */
static void start(tp_app *a, struct tp_script_run *r, const tp_script_step *st, double now)
{
    switch (st->op) {
    case TP_SCRIPT_WAIT_MS: r->until_ms = now + st->amount; r->waiting = WAIT_TIME; break;
    case TP_SCRIPT_UNTIL_MS: r->until_ms = r->start_ms + st->amount; r->waiting = WAIT_TIME; break;
    case TP_SCRIPT_PAUSE_MS:
        r->until_ms = now + st->amount;
        r->waiting = WAIT_TIME;
        r->holding = !a->paused;
        a->paused = 1;
        break;
    case TP_SCRIPT_WAIT_TOKENS:
        r->until_tokens = r->tokens + (long)st->amount;
        r->waiting = WAIT_TOKENS;
        break;
    case TP_SCRIPT_UNTIL_TOKENS: r->until_tokens = (long)st->amount; r->waiting = WAIT_TOKENS; break;
    case TP_SCRIPT_CAPTION:
        snprintf(a->caption, sizeof a->caption, "%s", st->text);
        a->dirty = 1;
        break;
    case TP_SCRIPT_RESTART:
        tp_app_restart(a, NULL, st->amount < 0 ? a->session->seed : (uint64_t)st->amount);
        break;
    case TP_SCRIPT_QUIT: a->quit = 1; break;
    case TP_SCRIPT_COMMAND: run_command(a, st); break;
    }
}

static int still_waiting(tp_app *a, struct tp_script_run *r, double now)
{
    if (r->waiting == WAIT_TIME && now < r->until_ms)
        return 1;
    if (r->waiting == WAIT_TOKENS && r->tokens < r->until_tokens)
        return 1;
    if (r->holding) {
        a->paused = 0;
        a->dirty = 1;
    }
    r->holding = 0;
    r->waiting = WAIT_NONE;
    return 0;
}

void tp_demo_tick(tp_app *a, double now)
{
    struct tp_script_run *r = a->script;
    if (!r || r->done)
        return;
    if (!r->started) {
        r->started = 1;
        r->start_ms = now;
    }
    r->tokens = TP_RUN_STEP(a->session, a->session->n_steps); /* tokens of the current text */
    /* a bounded burst: a script of commands alone cannot stall the loop */
    for (int n = 0; n < 64 && !a->quit; n++) {
        if (still_waiting(a, r, now))
            return;
        if (r->pc >= r->script.n_steps) {
            r->done = 1;
            tp_app_message(a, 0, "script finished");
            return;
        }
        start(a, r, &r->script.steps[r->pc++], now);
    }
}

int tp_demo_wait_cap(const tp_app *a, int wait_ms, double now)
{
    const struct tp_script_run *r = a->script;
    if (!r || r->done)
        return wait_ms;
    int cap = 50; /* token waits are checked as the text grows */
    if (r->waiting == WAIT_TIME) {
        double left = r->until_ms - now;
        cap = left < 0 ? 0 : left < 50 ? (int)left + 1 : 50;
    }
    return wait_ms < 0 || wait_ms > cap ? cap : wait_ms;
}
