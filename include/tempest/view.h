/* view.h - what the playground draws, computed without a terminal.
 *
 * The histogram view model picks the rows for a next-token distribution,
 * their labels, bar lengths in eighths of a cell, the T = 1 marker, cut
 * marks, the top-p rule and the "others" tail; small helpers turn numbers
 * into bars, sparklines and heat levels. The ncurses code only paints this.
 */
#ifndef TEMPEST_VIEW_H
#define TEMPEST_VIEW_H

#include <stddef.h>

#include "tempest/error.h"
#include "tempest/sampler.h"
#include "tempest/vocab.h"

#define TP_VIEW_LABEL_MAX 48

typedef struct tp_hist_row {
    int id;
    char label[TP_VIEW_LABEL_MAX]; /* escaped with tp_vocab_escape */
    double p;                      /* after the chain (0 when cut) */
    double p_base;                 /* at T = 1, nothing cut */
    int bar_eighths;               /* p as eighths of a cell, of bar_cells */
    int base_cell;                 /* the cell of the T = 1 marker; -1: too small */
    int cut_by;                    /* the tp_stage that cut it, or -1 */
    int drawn;                     /* the highlighted (just drawn) token */
} tp_hist_row;

typedef struct tp_hist_view {
    int n_rows;
    tp_hist_row *rows;   /* capacity: the vocabulary size */
    int rule_before;     /* top-p's rule sits above this row; -1: none shown */
    int others_count;    /* tokens not in the rows */
    double others_p;     /* their mass after the chain */
    double others_p_base;
    int others_cut;      /* how many of them are cut */
    double entropy_bits;
    int n_kept, n_vocab;
    int *order;          /* scratch */
} tp_hist_view;

tp_status tp_hist_view_init(tp_hist_view *v, int n_vocab, tp_error *err);
void tp_hist_view_free(tp_hist_view *v);

/* Fill v for d: at most max_rows token rows (the others row comes on top of
 * them), most likely first (by p, then p_base, then id), bars scaled so
 * 100% fills bar_cells cells. drawn_id (or -1) is highlighted. */
void tp_hist_view_build(tp_hist_view *v, const tp_dist *d, const tp_vocab *vocab,
                        int max_rows, int bar_cells, int drawn_id, int ascii);

/* "31.2%" */
void tp_format_percent(double p, char *out, size_t cap);
/* "entropy 3.21 bits  kept 12 of 65" (compact: "H 3.21b  12/65") */
void tp_hist_header(const tp_hist_view *v, int compact, char *out, size_t cap);
/* One-letter name of the stage that cut a token: T, k, p, m, r, or "". */
const char *tp_cut_mark(int cut_by);

/* A bar of eighths/8 cells padded with spaces to cells columns, from
 * "▏▎▍▌▋▊▉█", or '#' per (rounded) cell when ascii. */
void tp_bar_render(int eighths, int cells, int ascii, char *out, size_t cap);
/* One glyph per value, "▁▂▃▄▅▆▇█" scaled to 0..max (ascii: " .:-=+*#"),
 * the last n values of vals[0..count). */
void tp_sparkline(const float *vals, int count, int n, double max, int ascii, char *out,
                  size_t cap);

/* Heat level 0 (cold, unlikely) .. 4 (hot, likely) of a probability, and
 * the level of a rank: 4 top-1, 3 top-10, 2 top-100, 0 the rest. */
int tp_heat_level(double p);
int tp_rank_level(int rank);

/* Copy the numbers of src into dst (both initialised for the same n). */
void tp_dist_copy(tp_dist *dst, const tp_dist *src);

#endif
