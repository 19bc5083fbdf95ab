/* tui_layout.h - where each pane goes for a terminal size. */
#ifndef TEMPEST_TUI_LAYOUT_H
#define TEMPEST_TUI_LAYOUT_H

#define TP_MIN_COLS 40
#define TP_MIN_LINES 12

typedef struct tp_rect {
    int y, x, h, w;
} tp_rect;

typedef struct tp_layout {
    int too_small;
    int stacked; /* narrow: the histogram sits below the text */
    int compact; /* small: shorter labels and headers */
    tp_rect title, text, hist, metrics, message, status; /* metrics may be empty */
} tp_layout;

void tp_layout_compute(tp_layout *l, int lines, int cols);

#endif
