/* statusbar.c - the title, the message line and the status bar: settings as
 * name=value so people and scripts find them, plus an entropy sparkline. */
#include <curses.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tempest/textmetrics.h"
#include "tempest/tui_cmdline.h"
#include "tempest/tui_explore.h"
#include "tempest/tui_sched.h"
#include "tempest/tui_panes.h"

#define SPARK_MAX 32

static void fill_line(tp_rect r, int attr)
{
    attron(attr);
    mvhline(r.y, r.x, ' ', r.w);
    attroff(attr);
}

static void format_rate(const tp_app *a, char *out, size_t cap)
{
    snprintf(out, cap, "%.0f tok/s", a->paused ? 0.0 : a->rate);
}

static void entropy_sparkline(const tp_app *a, int n, char *out, size_t cap)
{
    const tp_session *s = a->session;
    float vals[SPARK_MAX];
    int count = s->n_steps < n ? s->n_steps : n;
    for (int i = 0; i < count; i++)
        vals[i] = s->steps[s->n_steps - count + i].entropy_bits;
    tp_sparkline(vals, count, n, log2((double)a->model->n_vocab), a->ascii, out, cap);
}

void tp_statusbar_draw(tp_app *a, tp_rect r)
{
    char knobs[160], rate[32], line[512], spark[SPARK_MAX * 4 + 1], step[48];
    tp_knobs_format(tp_explore_status_cfg(a), knobs, sizeof knobs);
    format_rate(a, rate, sizeof rate);
    tp_explore_step_label(a, step, sizeof step);
    const char *state = a->paused ? (a->ascii ? "||" : "⏸") : (a->ascii ? ">" : "▶");
    snprintf(line, sizeof line, "%s  seed=%llu  %s  %s  %s", knobs,
             (unsigned long long)a->session->seed, step, rate, state);
    fill_line(r, a->attrs[TP_ROLE_STATUS]);
    int used = tp_put_clipped(r.y, r.x, line, r.w, a->attrs[TP_ROLE_STATUS]);
    int room = r.w - used - 2;
    if (room >= 8) {
        entropy_sparkline(a, room < SPARK_MAX ? room : SPARK_MAX, spark, sizeof spark);
        tp_put_clipped(r.y, r.x + used + 2, spark, room, a->attrs[TP_ROLE_SPARK]);
    }
}

void tp_message_draw(tp_app *a, tp_rect r)
{
    fill_line(r, a->attrs[TP_ROLE_NORMAL]);
    if (a->cmdline != TP_CMDLINE_CLOSED) {
        tp_cmdline_draw(a, r);
        return;
    }
    char line[512];
    if (a->message[0]) {
        tp_put_clipped(r.y, r.x, a->message, r.w,
                       a->attrs[a->message_is_error ? TP_ROLE_ERROR : TP_ROLE_MESSAGE]);
        return;
    }
    if (a->last_change[0])
        snprintf(line, sizeof line, "last change: %s   ? help  : command", a->last_change);
    else
        snprintf(line, sizeof line, "? help  : command  space pause  q quit");
    tp_put_clipped(r.y, r.x, line, r.w, a->attrs[TP_ROLE_MESSAGE]);
}

static const char *base_name(const char *path)
{
    const char *slash = strrchr(path, '/');
    return slash ? slash + 1 : path;
}

void tp_titlebar_draw(tp_app *a, tp_rect r)
{
    if (r.h <= 0)
        return;
    char prompt[96], line[512], speed[32];
    tp_escape_line(a->session->prompt, prompt, sizeof prompt);
    if (a->speed > 0)
        snprintf(speed, sizeof speed, "%.0f/s", a->speed);
    else
        snprintf(speed, sizeof speed, "full");
    snprintf(line, sizeof line, " tempest  model=%s  prompt=\"%s\"  speed=%s  theme=%s",
             base_name(a->model_path), prompt, speed, a->theme.name);
    fill_line(r, a->attrs[TP_ROLE_TITLE]);
    tp_put_clipped(r.y, r.x, line, r.w, a->attrs[TP_ROLE_TITLE]);
}

/* The text (its last TP_METRICS_WINDOW tokens) is re-measured whole, so
 * how often is the scheduler's call (tp_sched_metrics_stale): not on every
 * frame of a long run. */
static void update_metrics(tp_app *a)
{
    const tp_session *s = a->session;
    if (a->metrics_line[0] && !tp_sched_metrics_stale(a->metrics_steps, s->n_steps, a->paused))
        return;
    a->metrics_steps = s->n_steps;
    int first = s->n_steps > TP_METRICS_WINDOW ? s->n_steps - TP_METRICS_WINDOW : 0;
    int n = s->n_steps - first;
    double h = 0.0;
    for (int i = first; i < s->n_steps; i++)
        h += s->steps[i].entropy_bits;
    int at = s->n_prompt + first;
    char *text = tp_vocab_join(a->model->vocab, at ? s->tokens[at - 1] : -1, s->tokens + at, n);
    char what[48];
    if (first || s->n_forgotten)
        snprintf(what, sizeof what, "last %d tokens", n);
    else
        snprintf(what, sizeof what, "text so far");
    tp_text_stats ts;
    if (!text || tp_text_stats_compute(text, NULL, &ts, NULL)) {
        snprintf(a->metrics_line, sizeof a->metrics_line, "%s: out of memory", what);
    } else {
        snprintf(a->metrics_line, sizeof a->metrics_line,
                 "%s: distinct-2=%.2f  repetition=%.2f  mean-entropy=%.2f bits  words=%ld", what,
                 ts.distinct_words[1], ts.repetition, n ? h / n : 0.0, ts.n_words);
    }
    free(text);
}

void tp_metricsline_draw(tp_app *a, tp_rect r)
{
    if (r.h <= 0)
        return;
    update_metrics(a);
    fill_line(r, a->attrs[TP_ROLE_MESSAGE]);
    tp_put_clipped(r.y, r.x, a->metrics_line, r.w, a->attrs[TP_ROLE_MESSAGE]);
}
