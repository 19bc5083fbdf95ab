/* layout.c - where the panes go: side by side from 60 columns, stacked
 * below that, and a "too small" screen under 40x12. */
#include "tempest/tui_layout.h"

static tp_rect rect(int y, int x, int h, int w)
{
    return (tp_rect){y, x, h < 0 ? 0 : h, w < 0 ? 0 : w};
}

void tp_layout_compute(tp_layout *l, int lines, int cols)
{
    *l = (tp_layout){0};
    if (lines < TP_MIN_LINES || cols < TP_MIN_COLS) {
        l->too_small = 1;
        return;
    }
    l->compact = cols < 80 || lines < 20;
    int has_title = lines >= 16;
    int top = has_title ? 1 : 0;
    l->title = rect(0, 0, top, cols);
    l->status = rect(lines - 1, 0, 1, cols);
    l->message = rect(lines - 2, 0, 1, cols);
    /* The live text metrics get a line when the screen can spare one. */
    int has_metrics = lines >= 18;
    l->metrics = rect(lines - 3, 0, has_metrics, cols);
    int body = lines - 2 - has_metrics - top;
    l->stacked = cols < 60;
    if (l->stacked) {
        int hist_h = body / 2 + 1;
        l->text = rect(top, 0, body - hist_h, cols);
        l->hist = rect(top + body - hist_h, 0, hist_h, cols);
        return;
    }
    /* the histogram wants about 40 columns; the text gets the rest */
    int hist_w = cols * 2 / 5;
    hist_w = hist_w < 34 ? 34 : hist_w > 52 ? 52 : hist_w;
    l->text = rect(top, 0, body, cols - hist_w - 1);
    l->hist = rect(top, cols - hist_w, body, hist_w);
}
