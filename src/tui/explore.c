/* explore.c - focus, time travel and branching in the playground.
 *
 * Tab cycles the focus live -> text -> histogram -> live. With the text
 * focused a cursor walks over the generated tokens and the histogram shows
 * the distribution each one was drawn from, recomputed exactly by the
 * rewind module under the settings of that step. With the histogram focused
 * a candidate is selected and Enter forces it: the text is cut after the
 * cursor's step, the candidate appended on a new branch, and generation
 * goes on. The branch tree keeps every history (see branchlist.c).
 */
#include <curses.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tempest/tui_explore.h"
#include "tempest/tui_panes.h"

#define KEY_ESC 27
#define CURSOR_JUMP 10 /* tokens per Up/Down in the text */

int tp_explore_open(tp_app *a)
{
    tp_error err = {0};
    tp_explore *e = calloc(1, sizeof *e);
    if (!e)
        return -1;
    a->explore = e;
    e->cursor = e->past_step = -1;
    a->explore->version = 1;
    if (tp_rewind_init(&e->rewind, 0, &err) || tp_branch_tree_init(&e->tree, &err) ||
        tp_dist_init(&e->past, a->model->n_vocab, &err)) {
        tp_explore_close(a);
        return -1;
    }
    return 0;
}

void tp_explore_close(tp_app *a)
{
    tp_explore *e = a->explore;
    if (!e)
        return;
    tp_rewind_free(&e->rewind);
    tp_branch_tree_free(&e->tree);
    tp_dist_free(&e->past);
    tp_dice_forget(e);
    free(e);
    a->explore = NULL;
}

static void go_live(tp_app *a)
{
    tp_explore *e = a->explore;
    if (e->focus != TP_FOCUS_LIVE)
        a->paused = e->was_paused;
    e->focus = TP_FOCUS_LIVE;
    e->cursor = -1;
    a->dirty = 1;
}

void tp_explore_reset(tp_app *a)
{
    tp_explore *e = a->explore;
    if (!e)
        return;
    go_live(a);
    tp_branch_tree_clear(&e->tree);
    tp_rewind_free(&e->rewind); /* the model may be another one at the same address */
    tp_rewind_init(&e->rewind, 0, NULL);
    e->version++;
    tp_dice_forget(e); /* a new model may have another vocabulary */
    /* a new model may have another vocabulary */
    if (e->past.n != a->model->n_vocab) {
        tp_error err = {0};
        tp_dist_free(&e->past);
        if (tp_dist_init(&e->past, a->model->n_vocab, &err))
            tp_app_message(a, 1, "%s", err.msg);
    }
}

void tp_token_label(const tp_app *a, int id, char *out, size_t cap)
{
    tp_vocab_escape(tp_vocab_token(a->model->vocab, id), a->ascii, out, cap);
}

/* Past history_max generated steps the older half is forgotten (through
 * the rewind, so that travelling back still starts from the exact state).
 * Only live and with one branch: the cursor and the branches hold step
 * numbers. Cut at a multiple of 512 tokens so the thinned-out checkpoints
 * stay on their grid. */
static void keep_window(tp_app *a)
{
    tp_explore *e = a->explore;
    tp_session *s = a->session;
    if (s->n_steps < a->history_max || e->cursor >= 0 || e->tree.n > 1 || a->lanes)
        return;
    int grid = TP_REWIND_EVERY * TP_REWIND_SPARSE;
    int n = (s->n_tokens - a->history_max / 2) / grid * grid;
    if (n < s->n_prompt || n <= 0)
        return;
    tp_error err = {0};
    if (tp_rewind_forget(&e->rewind, s, n, &err)) {
        tp_app_message(a, 1, "%s", err.msg);
        return;
    }
    e->version++;
    a->metrics_line[0] = '\0';
}

void tp_explore_after_step(tp_app *a)
{
    if (!a->explore)
        return;
    /* a failure here only makes travelling back slower */
    tp_rewind_observe(&a->explore->rewind, a->session, NULL);
    if (a->history_max > 0)
        keep_window(a);
}

/* ---- what the panes ask ---- */

const tp_dist *tp_explore_dist_at(tp_app *a, int step)
{
    tp_explore *e = a->explore;
    const tp_session *s = a->session;
    if (e->past_step == step && e->past_version == e->version && e->past_session == s)
        return &e->past;
    tp_error err = {0};
    if (e->past.n != a->model->n_vocab || tp_rewind_dist_at(&e->rewind, s, step, &e->past, &err)) {
        tp_app_message(a, 1, "%s", err.msg[0] ? err.msg : "cannot show that step");
        e->past_step = -1;
        return NULL;
    }
    e->past_step = step;
    e->past_version = e->version;
    e->past_session = s;
    return &e->past;
}

int tp_explore_at_past_step(const tp_app *a)
{
    const tp_explore *e = a->explore;
    return e && e->cursor >= 0 && e->cursor < a->session->n_steps;
}

const tp_dist *tp_explore_hist_source(tp_app *a, int *drawn_id, const tp_sampler_config **cfg)
{
    tp_explore *e = a->explore;
    *cfg = &a->session->cfg;
    if (e && e->cursor >= 0) {
        if (e->cursor >= a->session->n_steps) { /* the next token */
            *drawn_id = -1;
            return &a->session->dist;
        }
        const tp_dist *d = tp_explore_dist_at(a, e->cursor);
        if (d) {
            *drawn_id = a->session->steps[e->cursor].token;
            *cfg = tp_session_step_config(a->session, e->cursor);
            return d;
        }
    }
    *drawn_id = a->show_drawn ? a->drawn_id : -1;
    return a->show_drawn ? &a->drawn_dist : &a->session->dist;
}

static int selection_shown(const tp_app *a)
{
    const tp_explore *e = a->explore;
    return e && (e->focus == TP_FOCUS_HIST || e->overlay == TP_OVERLAY_MATH ||
                 e->overlay == TP_OVERLAY_STAGES);
}

int tp_explore_selected_id(const tp_app *a)
{
    const tp_explore *e = a->explore;
    if (!selection_shown(a) || a->hist.n_vocab <= 0)
        return -1;
    int rank = e->selected < a->hist.n_vocab ? e->selected : a->hist.n_vocab - 1;
    return a->hist.order[rank];
}

int tp_explore_cursor(const tp_app *a)
{
    return a->explore && a->explore->focus != TP_FOCUS_LIVE ? a->explore->cursor : -1;
}

const tp_sampler_config *tp_explore_status_cfg(const tp_app *a)
{
    if (tp_explore_at_past_step(a))
        return tp_session_step_config(a->session, a->explore->cursor);
    return &a->session->cfg;
}

void tp_explore_step_label(const tp_app *a, char *out, size_t cap)
{
    const tp_explore *e = a->explore;
    if (e && e->cursor >= 0)
        snprintf(out, cap, "step=%ld/%ld", TP_RUN_STEP(a->session, e->cursor),
                 TP_RUN_STEP(a->session, a->session->n_steps));
    else
        snprintf(out, cap, "step=%ld", TP_RUN_STEP(a->session, a->session->n_steps));
}

int tp_explore_hide_hist(const tp_app *a)
{
    return a->explore && a->explore->quiz == TP_QUIZ_ASK;
}

void tp_explore_draw(tp_app *a, int lines, int cols)
{
    if (!a->explore)
        return;
    if (a->explore->overlay != TP_OVERLAY_LSTM && a->session->state->gate_log)
        tp_state_log_gates(a->session->state, 0, NULL); /* off costs nothing */
    if (a->explore->quiz != TP_QUIZ_OFF)
        tp_quiz_draw(a, lines, cols);
    if (a->explore->overlay != TP_OVERLAY_NONE)
        tp_overlay_draw(a, lines, cols);
}

/* ---- time travel ---- */

static void describe_cursor(tp_app *a)
{
    const tp_explore *e = a->explore;
    const tp_session *s = a->session;
    if (e->cursor >= s->n_steps) {
        tp_app_message(a, 0, "step %ld: the next token (Tab: histogram, Esc: live)",
                       TP_RUN_STEP(s, e->cursor));
        return;
    }
    const tp_step *st = &s->steps[e->cursor];
    char tok[TP_VIEW_LABEL_MAX], knobs[160];
    tp_token_label(a, st->token, tok, sizeof tok);
    tp_knobs_format(tp_session_config_of(s, st), knobs, sizeof knobs);
    tp_app_message(a, 0, "step %ld of %ld: '%s' p=%.1f%% %s with %s", TP_RUN_STEP(s, e->cursor),
                   TP_RUN_STEP(s, s->n_steps), tok,
                   100.0 * st->p, st->u < 0 ? "forced" : "drawn", knobs);
}

static void move_cursor(tp_app *a, int delta)
{
    tp_explore *e = a->explore;
    int c = e->cursor + delta, last = a->session->n_steps; /* last: the next token */
    e->cursor = c < 0 ? 0 : c > last ? last : c;
    describe_cursor(a);
}

static void cycle_focus(tp_app *a)
{
    tp_explore *e = a->explore;
    if (e->focus == TP_FOCUS_LIVE) {
        if (a->session->n_steps == 0) {
            tp_app_message(a, 1, "nothing generated yet to travel over");
            return;
        }
        e->was_paused = a->paused;
        a->paused = 1; /* the past holds still while it is looked at */
        e->focus = TP_FOCUS_TEXT;
        e->cursor = a->session->n_steps - 1;
        describe_cursor(a);
    } else if (e->focus == TP_FOCUS_TEXT) {
        e->focus = TP_FOCUS_HIST;
        e->selected = 0;
        tp_app_message(a, 0, "step %d: Up/Down select a candidate, Enter forces it", e->cursor);
    } else {
        go_live(a);
        tp_app_message(a, 0, "live");
    }
}

static int text_key(tp_app *a, int ch)
{
    switch (ch) {
    case KEY_LEFT: move_cursor(a, -1); return 1;
    case KEY_RIGHT: move_cursor(a, +1); return 1;
    case KEY_UP: move_cursor(a, -CURSOR_JUMP); return 1;
    case KEY_DOWN: move_cursor(a, +CURSOR_JUMP); return 1;
    case KEY_HOME: move_cursor(a, -a->session->n_steps); return 1;
    case KEY_END: move_cursor(a, a->session->n_steps); return 1;
    default: return 0;
    }
}

/* ---- branching ---- */

/* Cut after the cursor's step and append id on a new branch (at the end
 * nothing is cut, so no branch is needed). */
static void force(tp_app *a, int id)
{
    tp_explore *e = a->explore;
    tp_session *s = a->session;
    tp_error err = {0};
    int at = e->cursor >= 0 ? e->cursor : s->n_steps;
    int fork = at < s->n_steps;
    if (fork && (tp_branch_save(&e->tree, s->steps, s->n_steps, &err) ||
                 tp_branch_fork(&e->tree, at, &err) < 0 ||
                 tp_rewind_truncate(&e->rewind, s, at, &err))) {
        tp_app_message(a, 1, "%s", err.msg);
        return;
    }
    tp_dist_copy(&a->drawn_dist, &s->dist);
    if (tp_session_push(s, id, &err)) {
        tp_app_message(a, 1, "%s", err.msg);
        return;
    }
    a->drawn_id = id;
    a->show_drawn = 1;
    tp_explore_after_step(a);
    e->selected = 0;
    e->version++;
    go_live(a);
    a->paused = 0; /* generation goes on from the forced token */
    char tok[TP_VIEW_LABEL_MAX];
    tp_token_label(a, id, tok, sizeof tok);
    if (fork)
        tp_app_message(a, 0, "branch %d: forced '%s' at step %d (b: branches)",
                       e->tree.current + 1, tok, at);
    else
        tp_app_message(a, 0, "forced '%s' at step %d", tok, at);
}

static void move_selection(tp_app *a, int delta)
{
    tp_explore *e = a->explore;
    int n = a->model->n_vocab, sel = e->selected + delta;
    e->selected = sel < 0 ? 0 : sel >= n ? n - 1 : sel;
    a->dirty = 1;
    /* named here too: below the rows that fit it is not on screen */
    int id = tp_explore_selected_id(a), drawn;
    const tp_sampler_config *cfg;
    const tp_dist *d = tp_explore_hist_source(a, &drawn, &cfg);
    if (id < 0)
        return;
    char tok[TP_VIEW_LABEL_MAX];
    tp_token_label(a, id, tok, sizeof tok);
    tp_app_message(a, 0, "candidate %d: '%s' p=%.2f%%%s (Enter forces it)", e->selected + 1, tok,
                   100.0 * d->p[id], d->kept[id] ? "" : ", cut");
}

static int hist_key(tp_app *a, int ch)
{
    switch (ch) {
    case KEY_UP: move_selection(a, -1); return 1;
    case KEY_DOWN: move_selection(a, +1); return 1;
    case KEY_PPAGE: move_selection(a, -10); return 1;
    case KEY_NPAGE: move_selection(a, +10); return 1;
    case '\n': case '\r': case KEY_ENTER: {
        int id = tp_explore_selected_id(a);
        if (id >= 0)
            force(a, id);
        return 1;
    }
    default: return 0;
    }
}

/* ---- dispatch ---- */

int tp_explore_key(tp_app *a, int ch)
{
    tp_explore *e = a->explore;
    if (!e)
        return 0;
    if (e->quiz != TP_QUIZ_OFF && tp_quiz_key(a, ch))
        return 1;
    if (e->overlay == TP_OVERLAY_BRANCHES && tp_branches_key(a, ch))
        return 1;
    if (ch == KEY_ESC) {
        if (e->overlay != TP_OVERLAY_NONE)
            e->overlay = TP_OVERLAY_NONE;
        else if (e->focus != TP_FOCUS_LIVE)
            go_live(a);
        else
            return 0;
        a->message[0] = '\0';
        a->dirty = 1;
        return 1;
    }
    if (e->focus == TP_FOCUS_TEXT)
        return text_key(a, ch);
    if (e->focus == TP_FOCUS_HIST || ((e->overlay == TP_OVERLAY_MATH ||
                                      e->overlay == TP_OVERLAY_STAGES) &&
                                     (ch == KEY_UP || ch == KEY_DOWN)))
        return hist_key(a, ch);
    return 0;
}

static void toggle_overlay(tp_app *a, tp_overlay o)
{
    tp_explore *e = a->explore;
    e->overlay = e->overlay == o ? TP_OVERLAY_NONE : o;
    a->dirty = 1;
}

void tp_explore_do(tp_app *a, tp_action act, long arg)
{
    if (!a->explore)
        return;
    switch (act) {
    case TP_ACT_FOCUS: cycle_focus(a); break;
    case TP_ACT_LIVE: go_live(a); break;
    case TP_ACT_MATH: toggle_overlay(a, TP_OVERLAY_MATH); break;
    case TP_ACT_STAGES: toggle_overlay(a, TP_OVERLAY_STAGES); break;
    case TP_ACT_DICE: toggle_overlay(a, TP_OVERLAY_DICE); break;
    case TP_ACT_LSTM: toggle_overlay(a, TP_OVERLAY_LSTM); break;
    case TP_ACT_BRANCHES:
        toggle_overlay(a, TP_OVERLAY_BRANCHES);
        a->explore->branch_pick = a->explore->tree.current;
        break;
    case TP_ACT_DICE_SAMPLE: tp_dice_sample(a, arg > 0 ? arg : TP_DICE_DEFAULT); break;
    case TP_ACT_QUIZ: tp_quiz_start(a); break;
    default: break;
    }
}
