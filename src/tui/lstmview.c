/* lstmview.c - inside the LSTM (`l`): per layer the hidden state h and the
 * cell state c as heat strips that change every step, and the input, forget
 * and output gates of the last step. The gate log is switched on in the
 * model state while this is open; it is off (and free) otherwise. */
#include <curses.h>
#include <math.h>
#include <stdio.h>

#include "tempest/tui_explore.h"
#include "tempest/tui_panes.h"

/* Mean of v[from .. to) (the units that share one cell). */
static double bucket_mean(const float *v, int from, int to)
{
    double sum = 0.0;
    for (int j = from; j < to; j++)
        sum += v[j];
    return to > from ? sum / (to - from) : 0.0;
}

static double mean_abs(const float *v, int n)
{
    double sum = 0.0;
    for (int j = 0; j < n; j++)
        sum += fabs(v[j]);
    return n ? sum / n : 0.0;
}

/* One strip: |value| as shade, sign as colour (signed) or value as shade
 * (gates, 0..1). c is squashed by tanh so big cells stay readable. */
static void strip(tp_app *a, int y, int x, int cells, const float *v, int n, int kind)
{
    static const char *const SHADE[] = {" ", "░", "▒", "▓", "█"};
    static const char *const ASCII[] = {" ", ".", ":", "+", "#"};
    for (int c = 0; c < cells; c++) {
        int from = (int)((long)c * n / cells), to = (int)((long)(c + 1) * n / cells);
        if (to <= from)
            to = from + 1;
        double m = bucket_mean(v, from, to < n ? to : n);
        if (kind == 'c')
            m = tanh(m);
        double mag = kind == 'g' ? m : fabs(m);
        int level = (int)(mag * 4.999);
        level = level < 0 ? 0 : level > 4 ? 4 : level;
        int role = kind == 'g' ? TP_ROLE_HEAT3 : m >= 0 ? TP_ROLE_HEAT4 : TP_ROLE_ERROR;
        tp_put_clipped(y, x + c, a->ascii ? ASCII[level] : SHADE[level], 1, a->attrs[role]);
    }
}

static int any_nonzero(const float *v, int n)
{
    for (int j = 0; j < n; j++)
        if (v[j] != 0.0f)
            return 1;
    return 0;
}

void tp_lstm_draw(tp_app *a, int y, int x, int h, int w)
{
    tp_state *s = a->session->state;
    int attr = a->attrs[TP_ROLE_HELP], row = 0;
    tp_error err = {0};
    char text[160];
    int logging = tp_state_log_gates(s, 1, &err) == TP_OK;
    int H = s->n_hidden, cells = w - 12;
    snprintf(text, sizeof text, "inside the LSTM: %d layers x %d units, step %ld   (l: close)",
             s->n_layers, H, TP_RUN_STEP(a->session, a->session->n_steps));
    tp_box_line(y + row++, x, w, text, attr | A_BOLD);
    int gates = logging && any_nonzero(s->gate_log, 3 * s->n_layers * H);
    for (int l = 0; l < s->n_layers && row < h; l++) {
        const float *hv = s->h + (size_t)l * H, *cv = s->c + (size_t)l * H;
        snprintf(text, sizeof text, "layer %d  mean|h|=%.2f  mean|c|=%.2f", l, mean_abs(hv, H),
                 mean_abs(cv, H));
        tp_box_line(y + row++, x, w, text, attr | A_BOLD);
        const struct { const char *name; const float *v; int kind; } rows[] = {
            {"h", hv, 's'}, {"c", cv, 'c'},
            {"in", gates ? s->gate_log + (size_t)l * 3 * H : NULL, 'g'},
            {"forget", gates ? s->gate_log + (size_t)l * 3 * H + H : NULL, 'g'},
            {"out", gates ? s->gate_log + (size_t)l * 3 * H + 2 * H : NULL, 'g'},
        };
        for (int k = 0; k < 5 && row < h; k++) {
            if (!rows[k].v) {
                if (k == 2)
                    tp_box_line(y + row++, x, w, "  gates: none recorded yet (after the next step; LSTM only)", attr);
                continue;
            }
            snprintf(text, sizeof text, "%-6s %4.2f", rows[k].name,
                     rows[k].kind == 'g' ? bucket_mean(rows[k].v, 0, H) : mean_abs(rows[k].v, H));
            tp_box_line(y + row, x, w, text, attr);
            if (cells > 4)
                strip(a, y + row, x + 13, cells - 2, rows[k].v, H, rows[k].kind);
            row++;
        }
    }
    if (row < h)
        tp_box_line(y + row++, x, w, "h, c: shade = size, colour = sign; gates: 0 to 1", attr);
}
