/* chart.h - line charts of a metric against temperature: in the terminal
 * (text) and as SVG or PNG files (cairo). One line per series. */
#ifndef TEMPEST_CHART_H
#define TEMPEST_CHART_H

#include <stdio.h>

#include "tempest/error.h"

typedef struct tp_series {
    const char *name;
    const double *y; /* one value per x; NAN leaves a gap */
} tp_series;

typedef struct tp_chart {
    const char *title;
    const char *x_label;
    const double *x;
    int n_x;
    const tp_series *series;
    int n_series;
} tp_chart;

/* Draw c in a plot area of width x height characters, with a legend. */
void tp_chart_print(FILE *out, const tp_chart *c, int width, int height);

/* A histogram as horizontal bars, one line per bin: the bin's lower edge
 * (x0 + i * bin_width), a bar scaled so the fullest bin is width marks,
 * and the count. */
void tp_chart_print_histogram(FILE *out, const char *title, double x0, double bin_width,
                              const int *counts, int n_bins, int width);

/* Write the charts as a grid of panels to path; the format follows the
 * extension (.svg or .png). */
tp_status tp_chart_write(const char *path, const tp_chart *charts, int n_charts, tp_error *err);

#endif
