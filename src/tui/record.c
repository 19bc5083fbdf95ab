/* record.c - --record / :record: the playground's steps, keys and commands
 * go to a recording (recording.h) as they happen. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tempest/tui_demo.h"
#include "tempest/tui_keys.h"

/* The model is remembered: a recording cannot replay across `:model`. */
struct tp_app_recorder {
    tp_recorder *file;
    const tp_model *model;
};

/* 0, or -1 when the recording could not be put in place (message shown). */
static int stop(tp_app *a)
{
    if (!a->recorder)
        return 0;
    tp_error err = {0};
    int rc = tp_recorder_finish(a->recorder->file, &err) ? -1 : 0;
    free(a->recorder);
    a->recorder = NULL;
    if (rc)
        tp_app_message(a, 1, "recording: %s", err.msg);
    return rc;
}

void tp_record_free(tp_app *a)
{
    stop(a);
}

/* A write failed: say so once and stop, rather than fail on every step. */
static void failed(tp_app *a, const tp_error *err)
{
    char msg[sizeof err->msg];
    snprintf(msg, sizeof msg, "%s", err->msg);
    stop(a);
    tp_app_message(a, 1, "recording stopped: %s", msg);
}

/* The text so far becomes the recording's prompt, so a recording started
 * mid-way replays from where it began. */
static char *text_so_far(const tp_app *a)
{
    const tp_session *s = a->session;
    if (s->n_steps == 0)
        return strdup(s->prompt);
    return tp_vocab_join(a->model->vocab, -1, s->tokens, s->n_tokens);
}

int tp_app_record(tp_app *a, const char *path)
{
    if (strcmp(path, "off") == 0) {
        if (!a->recorder) {
            tp_app_message(a, 0, "not recording");
            return 0;
        }
        char *path = strdup(tp_recorder_path(a->recorder->file));
        int rc = stop(a);
        if (!rc)
            tp_app_message(a, 0, "recording to %s stopped", path ? path : "the file");
        free(path);
        return rc;
    }
    tp_error err = {0};
    char *prompt = text_so_far(a);
    tp_recorder *r = NULL;
    struct tp_app_recorder *ar = malloc(sizeof *ar);
    tp_rec_header h = {a->model_path, prompt, a->session->seed, a->model->n_vocab,
                       &a->session->cfg};
    if (!prompt || !ar)
        tp_fail(&err, TP_ERR_NOMEM, "out of memory");
    else
        tp_recorder_open(&r, path, &h, &err);
    free(prompt);
    if (!r) {
        free(ar);
        tp_app_message(a, 1, "%s", err.msg);
        return -1;
    }
    stop(a);
    *ar = (struct tp_app_recorder){r, a->model};
    a->recorder = ar;
    tp_app_message(a, 0, "recording to %s (:record off stops)", path);
    return 0;
}

void tp_demo_after_step(tp_app *a)
{
    if (!a->recorder)
        return;
    if (a->recorder->model != a->model) {
        stop(a);
        tp_app_message(a, 1, "recording stopped: the model changed (start a new one)");
        return;
    }
    const tp_session *s = a->session;
    const tp_step *st = &s->steps[s->n_steps - 1];
    tp_error err = {0};
    if (tp_recorder_step(a->recorder->file, (int)TP_RUN_STEP(s, s->n_steps - 1), st->token,
                         tp_vocab_token(a->model->vocab, st->token), tp_session_config_of(s, st), &a->drawn_dist,
                         &err))
        failed(a, &err);
}

static void note(tp_app *a, const char *kind, const char *what)
{
    if (!a->recorder)
        return;
    char event[1100];
    snprintf(event, sizeof event, "%s %.1000s", kind, what);
    tp_error err = {0};
    if (tp_recorder_event(a->recorder->file, event, &err))
        failed(a, &err);
}

void tp_demo_note_key(tp_app *a, int key)
{
    for (int i = 0; i < TP_KEYMAP_LEN; i++)
        if (TP_KEYMAP[i].key == key) {
            note(a, "key", TP_KEYMAP[i].label);
            return;
        }
}

void tp_demo_note_command(tp_app *a, const char *line)
{
    note(a, "cmd", line);
}

void tp_demo_note_restart(tp_app *a)
{
    tp_error err = {0};
    if (a->recorder &&
        tp_recorder_restart(a->recorder->file, a->session->prompt, a->session->seed, &err))
        failed(a, &err);
}
