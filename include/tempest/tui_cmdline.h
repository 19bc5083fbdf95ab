/* tui_cmdline.h - GNU readline in the message line (callback interface).
 *
 * ncurses owns the terminal; readline gets one byte at a time from the main
 * loop and draws through our redisplay function, so a resize or a token
 * being written never disturbs the line being edited.
 */
#ifndef TEMPEST_TUI_CMDLINE_H
#define TEMPEST_TUI_CMDLINE_H

#include "tempest/tui_app.h"

void tp_cmdline_init(tp_app *a);
void tp_cmdline_shutdown(void);
/* Open the line for a command (":") or to edit the prompt. */
void tp_cmdline_open(tp_app *a, tp_cmdline_mode mode, const char *initial);
/* Feed one input byte; may run the accepted line. */
void tp_cmdline_feed(tp_app *a, int byte);
void tp_cmdline_cancel(tp_app *a);
void tp_cmdline_draw(tp_app *a, tp_rect r);
/* The history file under $XDG_STATE_HOME (malloc'd, or NULL). */
char *tp_history_path(void);

#endif
