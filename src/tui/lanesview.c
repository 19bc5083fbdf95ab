/* lanesview.c - lanes side by side (stacked when narrow), each with its
 * text and a compact histogram, the first divergence marked, and the
 * butterfly's split line.
 *
 * The panes draw a->session with a->drawn_dist, a->hist, a->show_drawn and
 * a->drawn_id. The selected lane's copies of those live in the app (so keys
 * and commands act on it); every other lane keeps its own in a lane_view and
 * is swapped into the app just while it is drawn or stepped. The slot of
 * the selected lane holds the app's single-text copies meanwhile. */
#include <curses.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tempest/tui_app.h"
#include "tempest/tui_lanes.h"
#include "tempest/tui_panes.h"

#define COLUMN_MIN 30 /* narrower than this, lanes are stacked */

typedef struct lane_view {
    tp_dist drawn_dist;
    tp_hist_view hist;
    int show_drawn, drawn_id;
} lane_view;

struct tp_lanes_ui {
    tp_lane_set *set;
    tp_session *single; /* the one text, parked while lanes run */
    lane_view views[TP_LANES_MAX];
    int selected;
};

#define SWAP(type, x, y) do { type tmp_ = (x); (x) = (y); (y) = tmp_; } while (0)

static void swap_view(tp_app *a, lane_view *v)
{
    SWAP(tp_dist, a->drawn_dist, v->drawn_dist);
    SWAP(tp_hist_view, a->hist, v->hist);
    SWAP(int, a->show_drawn, v->show_drawn);
    SWAP(int, a->drawn_id, v->drawn_id);
}

/* Lane i's session and views in the app (undo with the same call). */
static void enter_lane(tp_app *a, struct tp_lanes_ui *u, int i, tp_session **saved)
{
    if (i == u->selected)
        return;
    swap_view(a, &u->views[i]);
    *saved = a->session;
    a->session = u->set->lanes[i];
}

static void leave_lane(tp_app *a, struct tp_lanes_ui *u, int i, tp_session *saved)
{
    if (i == u->selected)
        return;
    swap_view(a, &u->views[i]);
    a->session = saved;
}

/* After the text the panes show changed hands: no stale change note or
 * metrics from the other text. */
static void switched(tp_app *a)
{
    a->last_change[0] = '\0';
    a->metrics_line[0] = '\0';
    a->dirty = 1;
}

static void ui_free(struct tp_lanes_ui *u)
{
    for (int i = 0; i < TP_LANES_MAX; i++) {
        tp_dist_free(&u->views[i].drawn_dist);
        tp_hist_view_free(&u->views[i].hist);
    }
    tp_lane_set_free(u->set);
    free(u);
}

void tp_lanes_stop(tp_app *a)
{
    struct tp_lanes_ui *u = a->lanes;
    if (!u)
        return;
    swap_view(a, &u->views[u->selected]); /* the app's own views back */
    a->session = tp_lane_set_detach(u->set, u->selected);
    tp_session_free(u->single);
    ui_free(u);
    a->lanes = NULL;
    a->show_drawn = 0;
    a->divergence_mark = 0;
    switched(a);
}

static struct tp_lanes_ui *ui_new(tp_app *a, const tp_lane_request *req, tp_error *err)
{
    struct tp_lanes_ui *u = calloc(1, sizeof *u);
    if (!u) {
        tp_fail(err, TP_ERR_NOMEM, "out of memory for lanes");
        return NULL;
    }
    const tp_session *s = a->session;
    tp_status rc = tp_lane_set_new(&u->set, a->model, s->prompt, &s->cfg, s->seed, req, err);
    for (int i = 0; i < req->n && !rc; i++) {
        rc = tp_dist_init(&u->views[i].drawn_dist, a->model->n_vocab, err);
        if (!rc)
            rc = tp_hist_view_init(&u->views[i].hist, a->model->n_vocab, err);
    }
    if (rc) {
        ui_free(u);
        return NULL;
    }
    return u;
}

void tp_lanes_start(tp_app *a, const tp_lane_request *req)
{
    tp_lanes_stop(a);
    if (req->n == 0) {
        tp_app_message(a, 0, "one text again (the selected lane's)");
        return;
    }
    tp_error err = {0};
    struct tp_lanes_ui *u = ui_new(a, req, &err);
    if (!u) {
        tp_app_message(a, 1, "%s", err.msg);
        return;
    }
    u->single = a->session;
    a->lanes = u;
    a->session = u->set->lanes[0];
    swap_view(a, &u->views[0]);
    switched(a);
    if (req->butterfly)
        tp_app_message(a, 0, "butterfly: T=%.2f and T=%.2f, the same random numbers",
                       req->lanes[0].temperature, req->lanes[1].temperature);
    else
        tp_app_message(a, 0, "%d lanes, the same random numbers; keys act on lane 1 "
                       "(1-%d select, :lanes off)", req->n, req->n);
}

void tp_lanes_select(tp_app *a, int i)
{
    struct tp_lanes_ui *u = a->lanes;
    if (!u) {
        tp_app_message(a, 1, "no lanes to select (try --lanes 0.2,0.8,1.5 or :lanes)");
        return;
    }
    if (i < 0 || i >= u->set->n) {
        tp_app_message(a, 1, "there is no lane %d (lanes 1 to %d)", i + 1, u->set->n);
        return;
    }
    swap_view(a, &u->views[u->selected]);
    u->selected = i;
    swap_view(a, &u->views[i]);
    a->session = u->set->lanes[i];
    switched(a);
    tp_app_message(a, 0, "lane %d selected: keys act on it", i + 1);
}

int tp_lanes_step(tp_app *a)
{
    struct tp_lanes_ui *u = a->lanes;
    tp_error err = {0};
    for (int i = 0; i < u->set->n; i++) {
        tp_dist *d = i == u->selected ? &a->drawn_dist : &u->views[i].drawn_dist;
        tp_dist_copy(d, &u->set->lanes[i]->dist);
    }
    if (tp_lane_set_step(u->set, &err)) {
        tp_app_message(a, 1, "%s", err.msg);
        a->paused = 1;
        return -1;
    }
    for (int i = 0; i < u->set->n; i++) {
        const tp_session *s = u->set->lanes[i];
        lane_view *v = &u->views[i];
        int *show = i == u->selected ? &a->show_drawn : &v->show_drawn;
        int *id = i == u->selected ? &a->drawn_id : &v->drawn_id;
        *show = 1;
        *id = s->steps[s->n_steps - 1].token;
    }
    a->dirty = 1;
    return 0;
}

int tp_lanes_restart(tp_app *a, const char *prompt, uint64_t seed)
{
    struct tp_lanes_ui *u = a->lanes;
    tp_error err = {0};
    if (tp_lane_set_restart(u->set, prompt, seed, &err)) {
        tp_app_message(a, 1, "%s", err.msg);
        return -1;
    }
    for (int i = 0; i < u->set->n; i++)
        u->views[i].show_drawn = 0;
    a->show_drawn = 0;
    a->last_change[0] = '\0';
    tp_app_message(a, 0, "restarted, seed %llu (every lane)", (unsigned long long)seed);
    return 0;
}

/* ---- drawing ---- */

typedef struct lane_box {
    tp_rect head, text, hist; /* hist may be empty */
} lane_box;

static tp_rect rect(int y, int x, int h, int w)
{
    return (tp_rect){y, x, h < 0 ? 0 : h, w < 0 ? 0 : w};
}

static int clampi(int v, int lo, int hi)
{
    return v < lo ? lo : v > hi ? hi : v;
}

/* Columns when each gets COLUMN_MIN cells and the height allows a
 * histogram under the text; else one band per lane. */
static int lay_out(tp_rect body, int n, lane_box *box)
{
    int columns = body.w >= n * COLUMN_MIN + (n - 1) && body.h >= 9;
    for (int i = 0; i < n; i++) {
        if (columns) {
            int cw = (body.w - (n - 1)) / n;
            int x = body.x + i * (cw + 1);
            int w = i == n - 1 ? body.x + body.w - x : cw;
            int rest = body.h - 1;
            int hist_h = clampi(rest / 3, 4, 10);
            box[i] = (lane_box){rect(body.y, x, 1, w), rect(body.y + 1, x, rest - hist_h, w),
                                rect(body.y + 1 + rest - hist_h, x, hist_h, w)};
        } else {
            int bh = body.h / n;
            int y = body.y + i * bh;
            int h = i == n - 1 ? body.y + body.h - y : bh;
            int rest = h - 1;
            int hist_w = clampi(body.w * 2 / 5, 22, 40);
            int has_hist = rest >= 3 && body.w >= 50;
            box[i] = (lane_box){rect(y, body.x, 1, body.w),
                                rect(y + 1, body.x, rest, has_hist ? body.w - hist_w - 1 : body.w),
                                rect(y + 1, body.x + body.w - hist_w, has_hist ? rest : 0, hist_w)};
        }
    }
    return columns;
}

/* "T=0.80 k=40 p=0.90 m=0.05" with only the settings in use. */
static void lane_settings(const tp_sampler_config *c, char *out, size_t cap)
{
    int n = snprintf(out, cap, "T=%.2f", c->temperature);
    if (c->top_k > 0 && n >= 0 && (size_t)n < cap)
        n += snprintf(out + n, cap - (size_t)n, " k=%d", c->top_k);
    if (c->top_p < 1.0 && n >= 0 && (size_t)n < cap)
        n += snprintf(out + n, cap - (size_t)n, " p=%.2f", c->top_p);
    if (c->min_p > 0.0 && n >= 0 && (size_t)n < cap)
        snprintf(out + n, cap - (size_t)n, " m=%.2f", c->min_p);
}

static void draw_head(tp_app *a, struct tp_lanes_ui *u, int i, tp_rect r)
{
    int sel = i == u->selected;
    char knobs[96], text[192];
    lane_settings(&u->set->lanes[i]->cfg, knobs, sizeof knobs);
    int d = tp_lane_set_lane_divergence(u->set, i);
    char parted[32] = "";
    if (d >= 0)
        snprintf(parted, sizeof parted, "  parts at %d", d);
    snprintf(text, sizeof text, "%s%d %s%s", sel ? (a->ascii ? ">" : "▶") : " ", i + 1, knobs,
             parted);
    int attr = sel ? (int)(a->attrs[TP_ROLE_TITLE] | A_BOLD) : a->attrs[TP_ROLE_HEADER];
    attron(attr);
    mvhline(r.y, r.x, ' ', r.w);
    attroff(attr);
    tp_put_clipped(r.y, r.x, text, r.w, attr);
}

static void draw_lane(tp_app *a, struct tp_lanes_ui *u, int i, const lane_box *b)
{
    tp_session *saved = NULL;
    enter_lane(a, u, i, &saved);
    draw_head(a, u, i, b->head);
    a->divergence_mark = 1 + tp_lane_set_lane_divergence(u->set, i);
    tp_textpane_draw(a, b->text);
    a->divergence_mark = 0;
    if (b->hist.h > 0)
        tp_histogram_draw(a, b->hist);
    leave_lane(a, u, i, saved);
}

static void token_label(const tp_app *a, int id, char *out, size_t cap)
{
    tp_vocab_escape(tp_vocab_token(a->model->vocab, id), a->ascii, out, cap);
}

/* The butterfly's line: where T and T + eps split and what decided it. */
static void split_text(tp_app *a, struct tp_lanes_ui *u, char *out, size_t cap)
{
    const tp_split *s = &u->set->split;
    const tp_session *l0 = u->set->lanes[0], *l1 = u->set->lanes[1];
    if (s->step < 0 || s->step >= l0->n_steps || s->step >= l1->n_steps) {
        snprintf(out, cap, "butterfly: T=%.2f and T=%.2f agree so far (step %d)",
                 l0->cfg.temperature, l1->cfg.temperature, l0->n_steps);
        return;
    }
    char ta[TP_VIEW_LABEL_MAX], tb[TP_VIEW_LABEL_MAX];
    token_label(a, s->token_a, ta, sizeof ta);
    token_label(a, s->token_b, tb, sizeof tb);
    double t0 = tp_session_step_config(l0, s->step)->temperature, t1 = tp_session_step_config(l1, s->step)->temperature;
    snprintf(out, cap, "split at step %d: T=%.2f drew %s (%.1f%%), T=%.2f drew %s (%.1f%%); "
             "u=%.4f margin=%.3g%% gap=%.1f%% (%s %.1f%% vs %s %.1f%% at T=%.2f)",
             s->step, t0, ta, 100 * s->p0_a, t1, tb, 100 * s->p1_b, s->u, 100 * s->margin,
             100 * s->gap, ta, 100 * s->p0_a, tb, 100 * s->p0_b, t0);
}

static void info_text(tp_app *a, struct tp_lanes_ui *u, char *out, size_t cap)
{
    if (u->set->butterfly) {
        split_text(a, u, out, cap);
        return;
    }
    int i = -1, j = -1;
    int d = tp_lane_set_divergence(u->set, &i, &j);
    if (d < 0)
        snprintf(out, cap, "%d lanes, the same random numbers: no divergence yet (step %d)",
                 u->set->n, u->set->lanes[0]->n_steps);
    else
        snprintf(out, cap, "%d lanes, the same random numbers: first divergence at step %d "
                 "(lanes %d and %d)", u->set->n, d, i + 1, j + 1);
}

/* The info text over as many lines as it needs (at most max). */
static int draw_info(tp_app *a, struct tp_lanes_ui *u, tp_rect body, int max)
{
    char text[512];
    info_text(a, u, text, sizeof text);
    int lines = 0, len = (int)strlen(text), at = 0;
    while (at < len && lines < max) {
        int used = 0;
        /* break at the last "; " that fits, so the second line starts clean */
        int cut = len - at;
        if (tp_text_width(text + at) > body.w) {
            const char *semi = NULL;
            for (const char *p = text + at; (p = strstr(p, "; ")) && p - (text + at) < body.w; p++)
                semi = p;
            cut = semi ? (int)(semi - (text + at)) + 2 : body.w;
        }
        char line[512];
        snprintf(line, sizeof line, "%.*s", cut, text + at);
        used = tp_put_clipped(body.y + lines, body.x, line, body.w, a->attrs[TP_ROLE_MARKER]);
        (void)used;
        at += cut;
        lines++;
    }
    return lines;
}

void tp_lanes_draw(tp_app *a)
{
    struct tp_lanes_ui *u = a->lanes;
    const tp_layout *l = &a->layout;
    int bottom = l->metrics.h > 0 ? l->metrics.y : l->message.y;
    tp_rect body = rect(l->text.y, 0, bottom - l->text.y, COLS);
    int info = draw_info(a, u, body, body.h >= 16 ? 2 : 1);
    body.y += info;
    body.h -= info;
    lane_box box[TP_LANES_MAX];
    int columns = lay_out(body, u->set->n, box);
    for (int i = 0; i < u->set->n; i++) {
        draw_lane(a, u, i, &box[i]);
        if (columns && i > 0) {
            attron(a->attrs[TP_ROLE_BORDER]);
            mvvline(body.y, box[i].head.x - 1, ACS_VLINE, body.h);
            attroff(a->attrs[TP_ROLE_BORDER]);
        }
    }
}

tp_status tp_lanes_option(const char *flag, const char *arg, const char *eps,
                          tp_lane_request *out, tp_error *err)
{
    int butterfly = strcmp(flag, "--butterfly") == 0;
    char args[256];
    if (snprintf(args, sizeof args, "%s%s%s", arg, eps ? " " : "", eps ? eps : "") >=
        (int)sizeof args)
        return tp_fail(err, TP_ERR_USAGE, "%s: the value is too long", flag);
    tp_status rc = tp_lanes_parse_args(butterfly, args, out, err);
    if (!rc && out->n == 0)
        rc = tp_fail(err, TP_ERR_USAGE, "needs a value, e.g. %s",
                     butterfly ? "0.8 0.01" : "0.2,0.8/p0.9,1.5");
    if (rc)
        tp_error_prefix(err, "%s", flag);
    return rc;
}
