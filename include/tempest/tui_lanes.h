/* tui_lanes.h - lanes and the butterfly view in the playground.
 *
 * While lanes run, a->session is the selected lane, so every settings key
 * and command acts on it; the lanes step together (pause, n, speed) and
 * restart together (r, R, e, :seed, :prompt) so they keep sharing their
 * random numbers. `:lanes off` goes back to one text: the selected lane's.
 */
#ifndef TEMPEST_TUI_LANES_H
#define TEMPEST_TUI_LANES_H

#include "tempest/lanes.h"

struct tp_app;

/* Start lanes from the current prompt, seed and settings (req->n == 0:
 * stop). Lanes already running are replaced. */
void tp_lanes_start(struct tp_app *a, const tp_lane_request *req);
/* Back to one text, the selected lane's (nothing when no lanes run). */
void tp_lanes_stop(struct tp_app *a);
/* Hooks for tp_app_step and tp_app_restart while lanes run. */
int tp_lanes_step(struct tp_app *a);
int tp_lanes_restart(struct tp_app *a, const char *prompt, uint64_t seed);
/* Make lane i (0-based) the one keys act on. */
void tp_lanes_select(struct tp_app *a, int i);
/* Draw the lanes in the body of the screen (between title and metrics). */
void tp_lanes_draw(struct tp_app *a);
/* --lanes SPECS and --butterfly T [EPS] (eps: the operand after T, or NULL). */
tp_status tp_lanes_option(const char *flag, const char *arg, const char *eps,
                          tp_lane_request *out, tp_error *err);

#endif
