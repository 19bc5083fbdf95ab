/* chart.c - text line charts for the terminal. */
#include "tempest/chart.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static const char MARKERS[] = "*o+x#@%&";

static int range_of(const tp_chart *c, double *lo, double *hi)
{
    *lo = INFINITY;
    *hi = -INFINITY;
    for (int s = 0; s < c->n_series; s++)
        for (int i = 0; i < c->n_x; i++) {
            double y = c->series[s].y[i];
            if (isfinite(y)) {
                *lo = fmin(*lo, y);
                *hi = fmax(*hi, y);
            }
        }
    if (!isfinite(*lo))
        return 0;
    if (*hi - *lo < 1e-12) {
        *lo -= 0.5;
        *hi += 0.5;
    }
    return 1;
}

static int col_of(const tp_chart *c, double x, int width)
{
    double x0 = c->x[0], x1 = c->x[c->n_x - 1];
    if (x1 - x0 < 1e-12)
        return width / 2;
    return (int)lround((x - x0) / (x1 - x0) * (width - 1));
}

static int row_of(double y, double lo, double hi, int height)
{
    return (height - 1) - (int)lround((y - lo) / (hi - lo) * (height - 1));
}

/* Points, and dots along each segment between neighbouring points. */
static void plot_series(const tp_chart *c, int s, char *grid, int width, int height,
                        double lo, double hi)
{
    const double *y = c->series[s].y;
    for (int i = 0; i + 1 < c->n_x; i++) {
        if (!isfinite(y[i]) || !isfinite(y[i + 1]))
            continue;
        int c0 = col_of(c, c->x[i], width), c1 = col_of(c, c->x[i + 1], width);
        for (int col = c0 + 1; col < c1; col++) {
            double t = (double)(col - c0) / (c1 - c0);
            int r = row_of(y[i] + t * (y[i + 1] - y[i]), lo, hi, height);
            if (grid[r * width + col] == ' ')
                grid[r * width + col] = '.';
        }
    }
    for (int i = 0; i < c->n_x; i++)
        if (isfinite(y[i]))
            grid[row_of(y[i], lo, hi, height) * width + col_of(c, c->x[i], width)] =
                MARKERS[s % (sizeof MARKERS - 1)];
}

static void print_x_axis(FILE *out, const tp_chart *c, int width)
{
    char line[512];
    int w = width < (int)sizeof line - 16 ? width : (int)sizeof line - 16;
    memset(line, ' ', sizeof line);
    for (int i = 0; i < c->n_x; i++) {
        char lab[16];
        int n = snprintf(lab, sizeof lab, "%g", c->x[i]);
        int col = col_of(c, c->x[i], w) - n / 2;
        col = col < 0 ? 0 : col;
        if (col + n < (int)sizeof line - 1 && (col == 0 || line[col - 1] == ' '))
            memcpy(line + col, lab, (size_t)n);
    }
    int end = (int)sizeof line - 1;
    while (end > 0 && line[end - 1] == ' ')
        end--;
    line[end] = '\0';
    fprintf(out, "%10s %s\n%10s %s\n", "", line, "", c->x_label ? c->x_label : "");
}

void tp_chart_print(FILE *out, const tp_chart *c, int width, int height)
{
    double lo, hi;
    if (c->n_x < 1 || !range_of(c, &lo, &hi) || width < 8 || height < 3) {
        fprintf(out, "%s: no data\n", c->title);
        return;
    }
    char *grid = malloc((size_t)width * height);
    if (!grid)
        return;
    memset(grid, ' ', (size_t)width * height);
    for (int s = 0; s < c->n_series; s++)
        plot_series(c, s, grid, width, height, lo, hi);
    fprintf(out, "%s\n", c->title);
    for (int r = 0; r < height; r++) {
        double v = hi - (hi - lo) * r / (height - 1);
        if (r == 0 || r == height - 1 || r == height / 2)
            fprintf(out, "%9.3g |", v);
        else
            fprintf(out, "%9s |", "");
        fwrite(grid + (size_t)r * width, 1, (size_t)width, out);
        fputc('\n', out);
    }
    fprintf(out, "%10s+", "");
    for (int i = 0; i < width; i++)
        fputc('-', out);
    fputc('\n', out);
    print_x_axis(out, c, width);
    for (int s = 0; s < c->n_series; s++)
        fprintf(out, "%10s %c %s\n", "", MARKERS[s % (sizeof MARKERS - 1)], c->series[s].name);
    free(grid);
}

void tp_chart_print_histogram(FILE *out, const char *title, double x0, double bin_width,
                              const int *counts, int n_bins, int width)
{
    int most = 0;
    for (int i = 0; i < n_bins; i++)
        most = counts[i] > most ? counts[i] : most;
    fprintf(out, "%s\n", title);
    for (int i = 0; i < n_bins; i++) {
        /* bars scale to the fullest bin; any count at all shows one mark */
        int len = most ? (int)lround((double)counts[i] * width / most) : 0;
        if (counts[i] > 0 && len == 0)
            len = 1;
        fprintf(out, "%9.4g |", x0 + i * bin_width);
        for (int k = 0; k < len; k++)
            fputc('#', out);
        fprintf(out, " %d\n", counts[i]);
    }
}
