/* view.c - the histogram view model and drawing helpers (see view.h). */
#include "tempest/view.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

tp_status tp_hist_view_init(tp_hist_view *v, int n_vocab, tp_error *err)
{
    memset(v, 0, sizeof *v);
    if (n_vocab <= 0)
        return tp_fail(err, TP_ERR_USAGE, "a histogram needs a vocabulary (got %d tokens)",
                       n_vocab);
    v->rows = calloc((size_t)n_vocab, sizeof *v->rows);
    v->order = calloc((size_t)n_vocab, sizeof *v->order);
    if (!v->rows || !v->order) {
        tp_hist_view_free(v);
        return tp_fail(err, TP_ERR_NOMEM, "out of memory for a histogram of %d tokens",
                       n_vocab);
    }
    v->n_vocab = n_vocab;
    return TP_OK;
}

void tp_hist_view_free(tp_hist_view *v)
{
    free(v->rows);
    free(v->order);
    memset(v, 0, sizeof *v);
}

/* Insertion sort: the vocabulary is small (tens to hundreds) and it is
 * stable without a comparison context, which qsort would need a global for. */
static int ranks_before(const tp_dist *d, int a, int b)
{
    if (d->p[a] != d->p[b])
        return d->p[a] > d->p[b];
    if (d->p_base[a] != d->p_base[b])
        return d->p_base[a] > d->p_base[b];
    return a < b;
}

static void order_by_probability(const tp_dist *d, int *order)
{
    for (int i = 0; i < d->n; i++) {
        int id = i, j = i;
        while (j > 0 && ranks_before(d, id, order[j - 1])) {
            order[j] = order[j - 1];
            j--;
        }
        order[j] = id;
    }
}

static int eighths_of(double p, int cells)
{
    if (p <= 0.0 || cells <= 0)
        return 0;
    int e = (int)lround(p * cells * 8);
    return e < 1 ? 1 : e > cells * 8 ? cells * 8 : e; /* nonzero stays visible */
}

static void fill_row(tp_hist_row *r, const tp_dist *d, const tp_vocab *vocab, int id,
                     int bar_cells, int drawn_id, int ascii)
{
    r->id = id;
    tp_vocab_escape(tp_vocab_token(vocab, id), ascii, r->label, sizeof r->label);
    r->p = d->p[id];
    r->p_base = d->p_base[id];
    r->bar_eighths = eighths_of(r->p, bar_cells);
    /* below an eighth of a cell the marker would only clutter column 0 */
    int cell = (int)floor(r->p_base * bar_cells);
    r->base_cell = r->p_base * bar_cells * 8 < 1.0 ? -1
                 : cell >= bar_cells ? bar_cells - 1 : cell;
    r->cut_by = d->kept[id] ? -1 : d->cut_by[id];
    r->drawn = id == drawn_id;
}

void tp_hist_view_build(tp_hist_view *v, const tp_dist *d, const tp_vocab *vocab,
                        int max_rows, int bar_cells, int drawn_id, int ascii)
{
    int n = d->n < v->n_vocab ? d->n : v->n_vocab;
    int shown = max_rows < 0 ? 0 : max_rows > n ? n : max_rows;
    order_by_probability(d, v->order);
    v->n_rows = shown;
    v->rule_before = -1;
    for (int i = 0; i < shown; i++) {
        fill_row(&v->rows[i], d, vocab, v->order[i], bar_cells, drawn_id, ascii);
        if (v->rule_before < 0 && v->rows[i].cut_by == TP_STAGE_TOP_P)
            v->rule_before = i;
    }
    v->others_count = n - shown;
    v->others_p = v->others_p_base = 0.0;
    v->others_cut = 0;
    for (int i = shown; i < n; i++) {
        int id = v->order[i];
        v->others_p += d->p[id];
        v->others_p_base += d->p_base[id];
        v->others_cut += !d->kept[id];
    }
    v->entropy_bits = d->entropy_bits;
    v->n_kept = d->n_kept;
}

void tp_format_percent(double p, char *out, size_t cap)
{
    snprintf(out, cap, "%.1f%%", p * 100.0);
}

void tp_hist_header(const tp_hist_view *v, int compact, char *out, size_t cap)
{
    if (compact)
        snprintf(out, cap, "H %.2fb  %d/%d", v->entropy_bits, v->n_kept, v->n_vocab);
    else
        snprintf(out, cap, "entropy %.2f bits  kept %d of %d", v->entropy_bits, v->n_kept,
                 v->n_vocab);
}

const char *tp_cut_mark(int cut_by)
{
    switch (cut_by) {
    case TP_STAGE_TEMPERATURE: return "T";
    case TP_STAGE_TOP_K: return "k";
    case TP_STAGE_TOP_P: return "p";
    case TP_STAGE_MIN_P: return "m";
    case TP_STAGE_REPEAT: return "r";
    default: return "";
    }
}

static size_t put(char *out, size_t cap, size_t o, const char *s)
{
    size_t n = strlen(s);
    if (o + n + 1 > cap)
        return o;
    memcpy(out + o, s, n + 1);
    return o + n;
}

void tp_bar_render(int eighths, int cells, int ascii, char *out, size_t cap)
{
    static const char *const PARTIAL[8] = {"", "▏", "▎", "▍", "▌", "▋", "▊", "▉"};
    size_t o = 0;
    if (cap == 0)
        return;
    out[0] = '\0';
    if (eighths > cells * 8)
        eighths = cells * 8;
    int full = ascii ? (eighths + 4) / 8 : eighths / 8, used = full;
    for (int i = 0; i < full; i++)
        o = put(out, cap, o, ascii ? "#" : "█");
    if (!ascii && eighths % 8) {
        o = put(out, cap, o, PARTIAL[eighths % 8]);
        used++;
    }
    for (; used < cells; used++)
        o = put(out, cap, o, " ");
}

void tp_sparkline(const float *vals, int count, int n, double max, int ascii, char *out,
                  size_t cap)
{
    static const char *const BLOCKS[8] = {"▁", "▂", "▃", "▄", "▅", "▆", "▇", "█"};
    static const char ASCII[] = " .:-=+*#";
    size_t o = 0;
    if (cap == 0)
        return;
    out[0] = '\0';
    int start = count > n ? count - n : 0;
    for (int i = start; i < count; i++) {
        double f = max > 0 ? vals[i] / max : 0;
        int level = (int)floor(f * 8);
        level = level < 0 ? 0 : level > 7 ? 7 : level;
        char one[2] = {ASCII[level], '\0'};
        o = put(out, cap, o, ascii ? one : BLOCKS[level]);
    }
}

int tp_heat_level(double p)
{
    return p >= 0.5 ? 4 : p >= 0.2 ? 3 : p >= 0.05 ? 2 : p >= 0.01 ? 1 : 0;
}

int tp_rank_level(int rank)
{
    return rank == 0 ? 4 : rank < 10 ? 3 : rank < 100 ? 2 : 0;
}

void tp_dist_copy(tp_dist *dst, const tp_dist *src)
{
    size_t n = (size_t)(src->n < dst->n ? src->n : dst->n);
    memcpy(dst->logits, src->logits, n * sizeof *dst->logits);
    memcpy(dst->p_base, src->p_base, n * sizeof *dst->p_base);
    memcpy(dst->p, src->p, n * sizeof *dst->p);
    memcpy(dst->kept, src->kept, n);
    memcpy(dst->cut_by, src->cut_by, n);
    dst->n_kept = src->n_kept;
    dst->entropy_bits = src->entropy_bits;
}
