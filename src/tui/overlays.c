/* overlays.c - boxes that open up the numbers behind the histogram:
 *   x  the softmax of the selected candidate with the current numbers
 *   s  the sampler chain stage by stage (the effect of --order)
 *   d  the last draw: kept tokens as one cumulative bar, u as a marker
 *   D  N samples drawn without advancing, counts against the bars
 * They stay open while the text goes on, so turning a knob shows at once
 * what it does to the numbers. */
#include <curses.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tempest/rng.h"
#include "tempest/tui_explore.h"
#include "tempest/tui_panes.h"

#define BOX_MAX_W 64

void tp_box_line(int y, int x, int w, const char *text, int attr)
{
    attron(attr);
    mvhline(y, x, ' ', w);
    attroff(attr);
    tp_put_clipped(y, x + 1, text, w - 2, attr);
}

typedef struct obox {
    int y, x, h, w, row, attr;
} obox;

/* Over the histogram's side, above the metrics, message and status lines. */
static obox open_box(const tp_app *a, int lines, int cols, int want_w)
{
    obox b = {.y = 1, .h = lines - 4, .w = cols - 2 < want_w ? cols - 2 : want_w};
    b.x = cols - b.w - 1;
    b.attr = a->attrs[TP_ROLE_HELP];
    return b;
}

static void line(obox *b, int bold, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void line(obox *b, int bold, const char *fmt, ...)
{
    if (b->row >= b->h)
        return;
    char text[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(text, sizeof text, fmt, ap);
    va_end(ap);
    tp_box_line(b->y + b->row++, b->x, b->w, text, b->attr | (bold ? A_BOLD : 0));
}

static void fill_rest(obox *b)
{
    while (b->row < b->h && b->row < 2)
        line(b, 0, "%s", "");
}

/* The distribution the histogram is showing, with all its views (the
 * drawn copy lacks the stages, so it is recomputed from the history). */
static const tp_dist *shown_dist(tp_app *a, char *what, size_t cap,
                                 const tp_sampler_config **cfg)
{
    const tp_explore *e = a->explore;
    const tp_session *s = a->session;
    int step = -1;
    if (tp_explore_at_past_step(a))
        step = e->cursor;
    else if (e->cursor < 0 && a->show_drawn && s->n_steps > 0)
        step = s->n_steps - 1;
    *cfg = step < 0 ? &s->cfg : tp_session_step_config(s, step);
    if (step < 0) {
        snprintf(what, cap, "the next token (step %ld)", TP_RUN_STEP(s, s->n_steps));
        return &s->dist;
    }
    snprintf(what, cap, "step %ld", TP_RUN_STEP(s, step));
    return tp_explore_dist_at(a, step);
}

/* A token's label padded to width columns ("␣" is one column, three bytes). */
static void padded_label(const tp_app *a, int id, int width, char *out, size_t cap)
{
    tp_token_label(a, id, out, cap);
    size_t len = strlen(out);
    for (int w = tp_text_width(out); w < width && len + 1 < cap; w++)
        out[len++] = ' ';
    out[len] = '\0';
}

/* ---- x: the math of one candidate ---- */

static void draw_math(tp_app *a, obox *b)
{
    char what[64], tok[TP_VIEW_LABEL_MAX];
    const tp_sampler_config *cfg;
    const tp_dist *d = shown_dist(a, what, sizeof what, &cfg);
    int id = tp_explore_selected_id(a);
    if (!d || id < 0)
        return;
    tp_token_label(a, id, tok, sizeof tok);
    double T = cfg->temperature, z = d->logits[id];
    line(b, 1, "math: '%s' at %s   (Up/Down: candidate, x: close)", tok, what);
    line(b, 0, "p_i = exp(z_i/T) / Σ_j exp(z_j/T),  j over the %d kept", d->n_kept);
    if (T <= 0.0) {
        line(b, 0, "T = 0 is greedy: the largest z gets p = 1, the rest 0");
        line(b, 0, "z = %.4f   p = %.2f%%", z, 100.0 * d->p[id]);
        return;
    }
    /* exp(z/T) overflows a double past z/T = 709: then every term is
     * shifted by the largest z, which leaves the ratio as it is */
    double zmax = -INFINITY, sum = 0.0;
    for (int j = 0; j < d->n; j++)
        if (d->kept[j] && d->logits[j] > zmax)
            zmax = d->logits[j];
    double shift = zmax / T > 700.0 ? zmax : 0.0;
    for (int j = 0; j < d->n; j++)
        if (d->kept[j])
            sum += exp((d->logits[j] - shift) / T);
    double ez = d->kept[id] ? exp((z - shift) / T) : 0.0;
    line(b, 0, "z = %.4f   T = %.2f   z/T = %.4f", z, T, z / T);
    if (shift != 0.0)
        line(b, 0, "(terms shifted by z_max = %.4f so exp stays finite)", shift);
    line(b, 0, "exp(z/T) = %.6g%s", ez, d->kept[id] ? "" : "  (cut: not in the kept set)");
    line(b, 0, "Σ_j exp(z_j/T) = %.6g", sum);
    line(b, 1, "p = %.6g / %.6g = %.2f%%", ez, sum, 100.0 * ez / sum);
    line(b, 0, "the chain gives %.2f%%; at T=1, nothing cut: %.2f%%", 100.0 * d->p[id],
         100.0 * d->p_base[id]);
    if (cfg->repeat_penalty != 1.0)
        line(b, 0, "(repetition penalty %.2f: z above is before it)", cfg->repeat_penalty);
}

/* ---- s: the chain stage by stage ---- */

static const char *short_stage(tp_stage s)
{
    static const char *const NAMES[TP_N_STAGES] = {"repeat", "temp", "top-k", "top-p", "min-p"};
    return s >= 0 && s < TP_N_STAGES ? NAMES[s] : "?";
}

static void draw_stages(tp_app *a, obox *b)
{
    char what[64], row[512], tok[TP_VIEW_LABEL_MAX];
    const tp_sampler_config *cfg;
    const tp_dist *d = shown_dist(a, what, sizeof what, &cfg);
    if (!d)
        return;
    char order[96];
    tp_sampler_order_label(cfg, order, sizeof order);
    line(b, 1, "stages at %s, order %s   (s: close)", what, order);
    int o = snprintf(row, sizeof row, "%-6s %7s", "token", "T=1");
    for (int k = 0; k < d->n_stages && o < (int)sizeof row; k++)
        o += snprintf(row + o, sizeof row - (size_t)o, " %7s", short_stage(d->stages[k]));
    line(b, 1, "%s", row);
    o = snprintf(row, sizeof row, "%-6s %7d", "kept", d->n);
    for (int k = 0; k < d->n_stages && o < (int)sizeof row; k++) {
        int kept = 0;
        for (int j = 0; j < d->n; j++)
            kept += d->stage_p[(size_t)k * d->n + j] > 0.0;
        o += snprintf(row + o, sizeof row - (size_t)o, " %7d", kept);
    }
    line(b, 0, "%s", row);
    int sel = tp_explore_selected_id(a);
    for (int r = 0; r < d->n && b->row < b->h; r++) {
        int id = a->hist.order[r];
        padded_label(a, id, 5, tok, sizeof tok);
        o = snprintf(row, sizeof row, "%s%s %6.2f%%", id == sel ? ">" : " ", tok,
                     100.0 * d->p_base[id]);
        for (int k = 0; k < d->n_stages && o < (int)sizeof row; k++) {
            double p = d->stage_p[(size_t)k * d->n + id];
            if (p > 0.0)
                o += snprintf(row + o, sizeof row - (size_t)o, " %6.2f%%", 100.0 * p);
            else
                o += snprintf(row + o, sizeof row - (size_t)o, " %7s", "cut");
        }
        line(b, id == sel, "%s", row);
    }
}

/* ---- d: the draw ---- */

/* Which kept token (in id order, the order the draw walks) covers x. */
static int segment_at(const tp_dist *d, double x, double *lo, double *hi)
{
    double acc = 0.0;
    int last = -1;
    for (int i = 0; i < d->n; i++) {
        if (!d->kept[i])
            continue;
        *lo = acc;
        acc += d->p[i];
        *hi = acc;
        last = i;
        if (x < acc)
            return i;
    }
    return last;
}

static void draw_cumulative_bar(tp_app *a, obox *b, const tp_dist *d, double u)
{
    int cells = b->w - 4, y = b->y + b->row;
    if (b->row + 2 >= b->h || cells < 8)
        return;
    int marker = (int)(u * cells);
    tp_box_line(y, b->x, b->w, "", b->attr);
    tp_put_clipped(y, b->x + 2 + (marker < cells ? marker : cells - 1), a->ascii ? "v" : "▼", 1,
                   b->attr | A_BOLD);
    tp_box_line(y + 1, b->x, b->w, "", b->attr);
    int prev = -1, parity = 0;
    for (int c = 0; c < cells; c++) {
        double lo, hi;
        int id = segment_at(d, (c + 0.5) / cells, &lo, &hi);
        if (id != prev)
            parity = !parity;
        char tok[TP_VIEW_LABEL_MAX];
        tp_token_label(a, id, tok, sizeof tok);
        int attr = a->attrs[parity ? TP_ROLE_HEAT4 : TP_ROLE_HEAT2] | A_REVERSE;
        tp_put_clipped(y + 1, b->x + 2 + c, id != prev ? tok : " ", 1, attr);
        prev = id;
    }
    b->row += 2;
}

static void draw_dice(tp_app *a, obox *b)
{
    const tp_explore *e = a->explore;
    const tp_session *s = a->session;
    int step = tp_explore_at_past_step(a) ? e->cursor : s->n_steps - 1;
    if (step < 0) {
        line(b, 1, "the dice: nothing drawn yet   (d: close)");
        return;
    }
    const tp_step *st = &s->steps[step];
    const tp_dist *d = tp_explore_dist_at(a, step);
    if (!d)
        return;
    char tok[TP_VIEW_LABEL_MAX];
    tp_token_label(a, st->token, tok, sizeof tok);
    if (st->u < 0) {
        line(b, 1, "the dice at step %d   (d: close)", step);
        line(b, 0, "'%s' was forced there, not drawn", tok);
        return;
    }
    line(b, 1, "the dice at step %d: u = %.4f   (d: close)", step, st->u);
    line(b, 0, "kept tokens side by side in id order, each as wide as its p;");
    line(b, 0, "u, uniform in [0,1), lands in one of them:");
    draw_cumulative_bar(a, b, d, st->u);
    double lo = 0, hi = 0;
    int id = segment_at(d, st->u, &lo, &hi);
    tp_token_label(a, id, tok, sizeof tok);
    line(b, 1, "u = %.4f is in '%s' [%.4f, %.4f): '%s' drawn (p=%.1f%%)", st->u, tok, lo, hi,
         tok, 100.0 * d->p[id]);
}

/* ---- D: many draws without advancing ---- */

static int ensure_sample_arrays(tp_explore *e, int n)
{
    if (!e->counts)
        e->counts = calloc((size_t)n, sizeof *e->counts);
    if (!e->sample_p)
        e->sample_p = calloc((size_t)n, sizeof *e->sample_p);
    if (!e->sample_order)
        e->sample_order = calloc((size_t)n, sizeof *e->sample_order);
    return e->counts && e->sample_p && e->sample_order;
}

void tp_dice_forget(tp_explore *e)
{
    free(e->counts);
    free(e->sample_p);
    free(e->sample_order);
    e->counts = NULL;
    e->sample_p = NULL;
    e->sample_order = NULL;
    e->n_samples = 0;
}

void tp_dice_sample(tp_app *a, long n)
{
    tp_explore *e = a->explore;
    int V = a->model->n_vocab; /* the arrays are freed when the model changes */
    char what[64];
    const tp_sampler_config *cfg;
    const tp_dist *d = shown_dist(a, what, sizeof what, &cfg);
    if (!d || !ensure_sample_arrays(e, V)) {
        tp_app_message(a, 1, "out of memory for samples");
        return;
    }
    /* a stream of its own, so the text's random numbers do not move */
    tp_rng rng;
    tp_rng_seed(&rng, a->session->seed ^ (0x9e3779b97f4a7c15ULL * ++e->dice_draws));
    memset(e->counts, 0, (size_t)V * sizeof *e->counts);
    memcpy(e->sample_p, d->p, (size_t)V * sizeof *e->sample_p);
    tp_dist_order(d, 1, e->sample_order);
    for (long i = 0; i < n; i++)
        e->counts[tp_sampler_draw(d, &rng)]++;
    e->n_samples = n;
    snprintf(e->sample_what, sizeof e->sample_what, "%s", what);
    e->overlay = TP_OVERLAY_SAMPLES;
    a->paused = 1;
    tp_app_message(a, 0, "%ld samples from %s (D: again, Esc: close)", n, what);
}

static void draw_samples(tp_app *a, obox *b)
{
    const tp_explore *e = a->explore;
    int V = a->model->n_vocab;
    if (!e->n_samples || !e->counts)
        return;
    line(b, 1, "%ld samples from %s   (D: again)", e->n_samples, e->sample_what);
    line(b, 0, "bar: p   %s: share of the samples   count", a->ascii ? "*" : "◆");
    int bar = b->w - 26;
    if (bar < 4)
        bar = 4;
    int r = 0;
    for (; r < V && b->row < b->h - 1; r++) {
        int best = e->sample_order[r];
        if (e->sample_p[best] <= 0.0)
            break; /* the rest were cut: never drawn */
        char tok[TP_VIEW_LABEL_MAX], bars[512], text[640];
        padded_label(a, best, 5, tok, sizeof tok);
        tp_bar_render((int)lround(e->sample_p[best] * bar * 8), bar, a->ascii, bars, sizeof bars);
        snprintf(text, sizeof text, "%s %s %5.1f%% %6d", tok, bars, 100.0 * e->sample_p[best],
                 e->counts[best]);
        int y = b->y + b->row;
        line(b, 0, "%s", text);
        int cell = (int)((double)e->counts[best] / e->n_samples * bar);
        tp_put_clipped(y, b->x + 7 + (cell < bar ? cell : bar - 1), a->ascii ? "*" : "◆", 1,
                       a->attrs[TP_ROLE_DRAWN] | A_BOLD);
    }
    long rest = 0, rest_n = 0; /* the tail that did not fit, so the counts add up */
    double rest_p = 0.0;
    for (; r < V; r++) {
        rest += e->counts[e->sample_order[r]];
        rest_p += e->sample_p[e->sample_order[r]];
        rest_n += e->sample_p[e->sample_order[r]] > 0.0;
    }
    char label[64];
    snprintf(label, sizeof label, "others (%ld)", rest_n);
    if (rest_n > 0)
        line(b, 0, "%-*s %5.1f%% %6ld", bar + 6, label, 100.0 * rest_p, rest);
}

void tp_overlay_draw(tp_app *a, int lines, int cols)
{
    const tp_explore *e = a->explore;
    obox b = open_box(a, lines, cols, e->overlay == TP_OVERLAY_STAGES ? 58 : BOX_MAX_W);
    if (b.h < 3 || b.w < 20)
        return;
    switch (e->overlay) {
    case TP_OVERLAY_MATH: draw_math(a, &b); break;
    case TP_OVERLAY_STAGES: draw_stages(a, &b); break;
    case TP_OVERLAY_DICE: draw_dice(a, &b); break;
    case TP_OVERLAY_SAMPLES: draw_samples(a, &b); break;
    case TP_OVERLAY_LSTM: tp_lstm_draw(a, b.y, b.x, b.h, b.w); b.row = b.h; break;
    case TP_OVERLAY_BRANCHES: tp_branches_draw(a, b.y, b.x, b.h, b.w); b.row = b.h; break;
    default: break;
    }
    fill_rest(&b);
}
