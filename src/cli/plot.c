/* plot.c - charts as SVG or PNG files, drawn with cairo. */
#include <cairo-svg.h>
#include <cairo.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "tempest/chart.h"

#define PANEL_W 420.0
#define PANEL_H 280.0
#define MARGIN_L 58.0
#define MARGIN_R 14.0
#define MARGIN_T 30.0
#define MARGIN_B 44.0
#define LEGEND_H 28.0

/* Colour-blind-safe palette (Okabe and Ito). */
static const double PALETTE[][3] = {
    {0.0, 0.447, 0.698}, {0.835, 0.369, 0.0}, {0.0, 0.620, 0.451}, {0.800, 0.475, 0.655},
    {0.902, 0.624, 0.0}, {0.337, 0.706, 0.914}, {0.941, 0.894, 0.259}, {0.0, 0.0, 0.0},
};
#define N_PALETTE (sizeof PALETTE / sizeof PALETTE[0])

struct frame {
    double x, y, w, h;     /* plot area */
    double x0, x1, y0, y1; /* data ranges */
};

static void data_range(const tp_chart *c, struct frame *f)
{
    f->x0 = c->x[0];
    f->x1 = c->x[c->n_x - 1];
    if (f->x1 - f->x0 < 1e-12)
        f->x0 -= 0.5, f->x1 += 0.5;
    f->y0 = INFINITY;
    f->y1 = -INFINITY;
    for (int s = 0; s < c->n_series; s++)
        for (int i = 0; i < c->n_x; i++)
            if (isfinite(c->series[s].y[i])) {
                f->y0 = fmin(f->y0, c->series[s].y[i]);
                f->y1 = fmax(f->y1, c->series[s].y[i]);
            }
    if (!isfinite(f->y0))
        f->y0 = 0, f->y1 = 1;
    double pad = f->y1 - f->y0 < 1e-9 ? 0.5 : (f->y1 - f->y0) * 0.08;
    /* Metrics here are rates and entropies: an axis of non-negative data
     * should not dip below zero just for the padding. */
    int non_negative = f->y0 >= 0.0;
    f->y0 -= pad;
    f->y1 += pad;
    if (non_negative && f->y0 < 0.0)
        f->y0 = 0.0;
}

static double px(const struct frame *f, double x)
{
    return f->x + (x - f->x0) / (f->x1 - f->x0) * f->w;
}

static double py(const struct frame *f, double y)
{
    return f->y + f->h - (y - f->y0) / (f->y1 - f->y0) * f->h;
}

static void text_at(cairo_t *cr, double x, double y, const char *s, double align)
{
    cairo_text_extents_t e;
    cairo_text_extents(cr, s, &e);
    cairo_move_to(cr, x - e.width * align, y);
    cairo_show_text(cr, s);
}

static void draw_axes(cairo_t *cr, const tp_chart *c, const struct frame *f)
{
    cairo_set_source_rgb(cr, 0.2, 0.2, 0.2);
    cairo_set_line_width(cr, 1.0);
    cairo_rectangle(cr, f->x, f->y, f->w, f->h);
    cairo_stroke(cr);
    cairo_set_font_size(cr, 10);
    char lab[32];
    for (int i = 0; i < c->n_x; i++) {
        snprintf(lab, sizeof lab, "%g", c->x[i]);
        text_at(cr, px(f, c->x[i]), f->y + f->h + 14, lab, 0.5);
    }
    for (int k = 0; k <= 4; k++) {
        double v = f->y0 + (f->y1 - f->y0) * k / 4;
        snprintf(lab, sizeof lab, "%.3g", v);
        text_at(cr, f->x - 6, py(f, v) + 3, lab, 1.0);
        cairo_set_source_rgba(cr, 0.2, 0.2, 0.2, 0.15);
        cairo_move_to(cr, f->x, py(f, v));
        cairo_line_to(cr, f->x + f->w, py(f, v));
        cairo_stroke(cr);
        cairo_set_source_rgb(cr, 0.2, 0.2, 0.2);
    }
    text_at(cr, f->x + f->w / 2, f->y + f->h + 32, c->x_label ? c->x_label : "", 0.5);
    cairo_set_font_size(cr, 13);
    text_at(cr, f->x + f->w / 2, f->y - 10, c->title, 0.5);
}

static void draw_series(cairo_t *cr, const tp_chart *c, const struct frame *f, int s)
{
    const double *rgb = PALETTE[s % N_PALETTE];
    const double *y = c->series[s].y;
    cairo_set_source_rgb(cr, rgb[0], rgb[1], rgb[2]);
    cairo_set_line_width(cr, 2.0);
    int pen = 0;
    for (int i = 0; i < c->n_x; i++) {
        if (!isfinite(y[i])) {
            pen = 0;
            continue;
        }
        if (pen)
            cairo_line_to(cr, px(f, c->x[i]), py(f, y[i]));
        else
            cairo_move_to(cr, px(f, c->x[i]), py(f, y[i]));
        pen = 1;
    }
    cairo_stroke(cr);
    for (int i = 0; i < c->n_x; i++)
        if (isfinite(y[i])) {
            cairo_arc(cr, px(f, c->x[i]), py(f, y[i]), 3.0, 0, 2 * M_PI);
            cairo_fill(cr);
        }
}

/* One legend for the whole figure, in a row along the top: every panel has
 * the same series, and a legend inside a panel would hide its lines. */
static void draw_legend(cairo_t *cr, const tp_chart *c)
{
    double x = 12;
    cairo_set_font_size(cr, 12);
    for (int s = 0; s < c->n_series; s++) {
        const double *rgb = PALETTE[s % N_PALETTE];
        cairo_set_source_rgb(cr, rgb[0], rgb[1], rgb[2]);
        cairo_rectangle(cr, x, LEGEND_H / 2 - 2, 16, 4);
        cairo_fill(cr);
        cairo_set_source_rgb(cr, 0.1, 0.1, 0.1);
        cairo_text_extents_t e;
        cairo_text_extents(cr, c->series[s].name, &e);
        cairo_move_to(cr, x + 22, LEGEND_H / 2 + 4);
        cairo_show_text(cr, c->series[s].name);
        x += 22 + e.x_advance + 18;
    }
}

static void draw_panel(cairo_t *cr, const tp_chart *c, double ox, double oy)
{
    struct frame f = {.x = ox + MARGIN_L, .y = oy + MARGIN_T, .w = PANEL_W - MARGIN_L - MARGIN_R,
                      .h = PANEL_H - MARGIN_T - MARGIN_B};
    if (c->n_x < 1)
        return;
    data_range(c, &f);
    draw_axes(cr, c, &f);
    for (int s = 0; s < c->n_series; s++)
        draw_series(cr, c, &f, s);
}

static int ends_with(const char *s, const char *suffix)
{
    size_t n = strlen(s), k = strlen(suffix);
    return n >= k && strcmp(s + n - k, suffix) == 0;
}

tp_status tp_chart_write(const char *path, const tp_chart *charts, int n_charts, tp_error *err)
{
    int svg = ends_with(path, ".svg"), png = ends_with(path, ".png");
    if (!svg && !png)
        return tp_fail(err, TP_ERR_USAGE, "plot file '%s' must end in .svg or .png", path);
    int cols = n_charts > 1 ? 2 : 1, rows = (n_charts + cols - 1) / cols;
    double w = PANEL_W * cols, h = PANEL_H * (rows ? rows : 1) + LEGEND_H;
    cairo_surface_t *surface = svg ? cairo_svg_surface_create(path, w, h)
                                   : cairo_image_surface_create(CAIRO_FORMAT_RGB24, (int)w, (int)h);
    cairo_t *cr = cairo_create(surface);
    cairo_set_source_rgb(cr, 1, 1, 1);
    cairo_paint(cr);
    cairo_select_font_face(cr, "sans-serif", CAIRO_FONT_SLANT_NORMAL, CAIRO_FONT_WEIGHT_NORMAL);
    if (n_charts > 0)
        draw_legend(cr, &charts[0]);
    for (int i = 0; i < n_charts; i++)
        draw_panel(cr, &charts[i], PANEL_W * (i % cols), LEGEND_H + PANEL_H * (i / cols));
    cairo_destroy(cr);
    cairo_status_t st = png ? cairo_surface_write_to_png(surface, path) : CAIRO_STATUS_SUCCESS;
    cairo_surface_finish(surface);
    if (st == CAIRO_STATUS_SUCCESS)
        st = cairo_surface_status(surface);
    cairo_surface_destroy(surface);
    if (st != CAIRO_STATUS_SUCCESS)
        return tp_fail(err, TP_ERR_IO, "cannot write plot '%s': %s", path,
                       cairo_status_to_string(st));
    return TP_OK;
}
