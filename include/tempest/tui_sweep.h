/* tui_sweep.h - `:sweep` in the playground: a small sweep on a background
 * thread, its progress in the message line, its charts in an overlay. */
#ifndef TEMPEST_TUI_SWEEP_H
#define TEMPEST_TUI_SWEEP_H

#include "tempest/sweep.h"

struct tp_app;

/* Start the sweep a `:sweep` command asked for; refuses when one is running. */
void tp_sweep_start(struct tp_app *a, const tp_sweep_request *req);
/* Called by the main loop: note progress, collect a finished sweep. Returns
 * 1 while a sweep runs (the loop should wake up often to show progress). */
int tp_sweep_poll(struct tp_app *a);
/* The overlay with the charts, when there is one to show. */
int tp_sweep_showing(const struct tp_app *a);
void tp_sweep_draw(struct tp_app *a, int lines, int cols);
/* Close the overlay (any key). */
void tp_sweep_dismiss(struct tp_app *a);
/* Stop a running sweep and free everything (quit, model change). */
void tp_sweep_stop(struct tp_app *a);

#endif
