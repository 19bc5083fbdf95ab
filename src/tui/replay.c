/* replay.c - the playground driven by a recording: each step sets the
 * recorded settings, checks the model gives the recorded probabilities and
 * forces the recorded token, so the screens are the ones first drawn. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tempest/cli.h"
#include "tempest/tui_demo.h"

struct tp_replay {
    tp_recording rec;
    int next;          /* the entry to play next */
    int steps_done;
    int mismatches;
    int first_mismatch; /* step number, or -1 */
    double worst;
};

int tp_replay_attach(tp_app *a, tp_recording *rec)
{
    if (rec->n_vocab != a->model->n_vocab) {
        fprintf(stderr, "tempest: the recording is for a vocabulary of %d tokens, but %s has "
                "%d\n", rec->n_vocab, a->model_path, a->model->n_vocab);
        tp_recording_free(rec);
        return TP_EXIT_RUNTIME;
    }
    struct tp_replay *r = calloc(1, sizeof *r);
    if (!r) {
        tp_recording_free(rec);
        fputs("tempest: out of memory for the replay\n", stderr);
        return 1;
    }
    r->rec = *rec;
    memset(rec, 0, sizeof *rec);
    r->first_mismatch = -1;
    a->replay = r;
    return 0;
}

void tp_replay_progress(const tp_app *a, int *done, int *total)
{
    *done = a->replay ? a->replay->steps_done : 0;
    *total = a->replay ? a->replay->rec.n_steps : 0;
}

int tp_replay_mismatches(const tp_app *a)
{
    return a->replay ? a->replay->mismatches : 0;
}

static void finished(tp_app *a, struct tp_replay *r)
{
    a->paused = 1;
    if (r->mismatches)
        tp_app_message(a, 1, "replay finished: %d steps, %d differ from the recording "
                       "(first at step %d): a different model?", r->steps_done,
                       r->mismatches, r->first_mismatch);
    else
        tp_app_message(a, 0, "replay finished: %d steps, every one as recorded",
                       r->steps_done);
}

/* What was typed before this step, shown as it was live. */
static void show_events(tp_app *a, const char *events)
{
    const char *last = strrchr(events, '\n');
    tp_app_message(a, 0, "recorded: %s", last ? last + 1 : events);
}

static void check(tp_app *a, struct tp_replay *r, const tp_rec_entry *e)
{
    double off = tp_rec_mismatch(e, &a->session->dist);
    if (off <= TP_REC_TOLERANCE)
        return;
    if (r->first_mismatch < 0)
        r->first_mismatch = r->steps_done;
    r->mismatches++;
    if (off > r->worst)
        r->worst = off;
    tp_app_message(a, 1, "step %d: the model's probabilities differ from the recording by "
                   "%.4f - a different model?", r->steps_done, off);
}

static int same_config(const tp_sampler_config *x, const tp_sampler_config *y)
{
    return x->temperature == y->temperature && x->top_k == y->top_k && x->top_p == y->top_p &&
           x->min_p == y->min_p && x->repeat_penalty == y->repeat_penalty &&
           x->repeat_last_n == y->repeat_last_n && x->n_order == y->n_order &&
           memcmp(x->order, y->order, (size_t)x->n_order * sizeof x->order[0]) == 0;
}

int tp_replay_step(tp_app *a)
{
    struct tp_replay *r = a->replay;
    while (r->next < r->rec.n_entries && r->rec.entries[r->next].is_restart) {
        const tp_rec_entry *e = &r->rec.entries[r->next++];
        if (tp_app_restart(a, e->prompt, e->seed))
            return -1;
    }
    if (r->next >= r->rec.n_entries) {
        finished(a, r);
        return -1;
    }
    const tp_rec_entry *e = &r->rec.entries[r->next];
    if (!same_config(&e->cfg, &a->session->cfg) && tp_app_set_config(a, &e->cfg))
        return -1;
    if (e->events)
        show_events(a, e->events);
    check(a, r, e);
    tp_error err = {0};
    tp_dist_copy(&a->drawn_dist, &a->session->dist);
    if (tp_session_push(a->session, e->token, &err)) {
        tp_app_message(a, 1, "%s", err.msg);
        a->paused = 1;
        return -1;
    }
    r->next++;
    r->steps_done++;
    a->drawn_id = e->token;
    a->show_drawn = 1;
    a->dirty = 1;
    return 0;
}

void tp_replay_free(tp_app *a)
{
    if (!a->replay)
        return;
    tp_recording_free(&a->replay->rec);
    free(a->replay);
    a->replay = NULL;
}
