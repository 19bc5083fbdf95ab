/* histogram.c - the next-token histogram: paints the view model of
 * view.h; every number and decision comes from there. */
#include <curses.h>
#include <stdio.h>
#include <string.h>

#include "tempest/tui_explore.h"
#include "tempest/tui_panes.h"

typedef struct columns {
    int mark, label, bar, pct, cut; /* widths */
} columns;

static columns fit_columns(const tp_app *a, int w)
{
    columns c = {1, a->layout.compact ? 4 : 6, 0, 6, 2};
    if (tp_vocab_kind(a->model->vocab) == TP_TOK_WORD)
        c.label = w / 4;
    /* spaces: after label, after bar, after pct */
    c.bar = w - c.mark - c.label - c.pct - c.cut - 3;
    if (c.bar < 3)
        c.bar = 3;
    return c;
}

static void draw_base_marker(const tp_app *a, int y, int x, const tp_hist_row *r, int cells)
{
    if (r->p_base <= 0.0 || r->base_cell < 0 || r->base_cell >= cells)
        return;
    tp_put_clipped(y, x + r->base_cell, a->ascii ? "|" : "┊", 1, a->attrs[TP_ROLE_BASE_MARK]);
}

static void draw_row(const tp_app *a, int y, int x, const tp_hist_row *r, columns c)
{
    int cut = r->cut_by >= 0;
    int row_attr = cut ? a->attrs[TP_ROLE_CUT] : a->attrs[TP_ROLE_LABEL];
    if (r->id == tp_explore_selected_id(a))
        row_attr |= A_REVERSE; /* the candidate Enter would force */
    tp_put_clipped(y, x, r->drawn ? (a->ascii ? ">" : "▶") : " ", 1,
                   a->attrs[TP_ROLE_DRAWN]);
    char label[TP_VIEW_LABEL_MAX + 8];
    snprintf(label, sizeof label, "%s", r->label);
    int used = tp_put_clipped(y, x + c.mark, label, c.label,
                              r->drawn ? a->attrs[TP_ROLE_DRAWN] : row_attr);
    (void)used;
    char bar[512];
    tp_bar_render(r->bar_eighths, c.bar, a->ascii, bar, sizeof bar);
    int bx = x + c.mark + c.label + 1;
    tp_put_clipped(y, bx, bar, c.bar, cut ? row_attr : a->attrs[TP_ROLE_BAR]);
    draw_base_marker(a, y, bx, r, c.bar);
    char pct[16], field[16];
    tp_format_percent(r->p, pct, sizeof pct);
    snprintf(field, sizeof field, "%*s", c.pct, pct);
    int px = bx + c.bar + 1;
    tp_put_clipped(y, px, field, c.pct, row_attr);
    if (cut) {
        char mark[8];
        snprintf(mark, sizeof mark, "%s%s", a->ascii ? "x" : "×", tp_cut_mark(r->cut_by));
        tp_put_clipped(y, px + c.pct + 1, mark, c.cut, row_attr);
    }
}

static void draw_rule(const tp_app *a, int y, int x, int w, double top_p)
{
    char text[64], line[1024];
    snprintf(text, sizeof text, " top-p %.2f ", top_p);
    size_t o = 0;
    const char *dash = a->ascii ? "-" : "┄";
    for (int i = 0; i < w && o + 8 < sizeof line; i++) {
        if (i == 3) {
            o += (size_t)snprintf(line + o, sizeof line - o, "%s", text);
            i += (int)strlen(text) - 1;
            continue;
        }
        o += (size_t)snprintf(line + o, sizeof line - o, "%s", dash);
    }
    tp_put_clipped(y, x, line, w, a->attrs[TP_ROLE_RULE]);
}

static void draw_others(const tp_app *a, int y, int x, columns c)
{
    const tp_hist_view *v = &a->hist;
    if (v->others_count <= 0)
        return;
    char label[64], pct[16], text[128];
    snprintf(label, sizeof label, "others (%d", v->others_count);
    if (v->others_cut > 0)
        snprintf(label + strlen(label), sizeof label - strlen(label), ", %d cut",
                 v->others_cut);
    tp_format_percent(v->others_p, pct, sizeof pct);
    int left = c.mark + c.label + 1 + c.bar;
    snprintf(text, sizeof text, " %s)", label);
    tp_put_clipped(y, x, text, left, a->attrs[TP_ROLE_HEADER]);
    snprintf(text, sizeof text, "%*s", c.pct, pct);
    tp_put_clipped(y, x + left + 1, text, c.pct, a->attrs[TP_ROLE_LABEL]);
}

void tp_histogram_draw(tp_app *a, tp_rect r)
{
    if (r.h < 3 || r.w < 20)
        return;
    if (tp_explore_hide_hist(a))
        return; /* the quiz: guess first */
    int drawn;
    const tp_sampler_config *cfg;
    const tp_dist *d = tp_explore_hist_source(a, &drawn, &cfg);
    columns c = fit_columns(a, r.w);
    int rule = cfg->top_p < 1.0;
    int max_rows = r.h - 2 - rule; /* header, others, rule */
    tp_hist_view_build(&a->hist, d, a->model->vocab, max_rows, c.bar, drawn, a->ascii);
    char header[96];
    tp_hist_header(&a->hist, r.w < 36, header, sizeof header);
    tp_put_clipped(r.y, r.x + 1, header, r.w - 1, a->attrs[TP_ROLE_HEADER]);
    int y = r.y + 1;
    for (int i = 0; i < a->hist.n_rows; i++) {
        if (i == a->hist.rule_before)
            draw_rule(a, y++, r.x, r.w, cfg->top_p);
        draw_row(a, y++, r.x, &a->hist.rows[i], c);
    }
    draw_others(a, y, r.x, c);
}
