/* tui_panes.h - drawing the panes (each in its own file). */
#ifndef TEMPEST_TUI_PANES_H
#define TEMPEST_TUI_PANES_H

#include "tempest/tui_app.h"

void tp_textpane_draw(tp_app *a, tp_rect r);
void tp_histogram_draw(tp_app *a, tp_rect r);
void tp_statusbar_draw(tp_app *a, tp_rect r);
void tp_message_draw(tp_app *a, tp_rect r);
void tp_titlebar_draw(tp_app *a, tp_rect r);
/* distinct-2, repetition and mean entropy of the text generated so far. */
void tp_metricsline_draw(tp_app *a, tp_rect r);
void tp_help_draw(tp_app *a, int lines, int cols);

/* Text helpers shared by the panes: put s at (y, x) clipped to w columns;
 * return the columns used. */
int tp_put_clipped(int y, int x, const char *s, int w, int attr);
int tp_text_width(const char *s);

#endif
