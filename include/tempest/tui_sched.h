/* tui_sched.h - when the playground's loop generates, redraws and waits.
 *
 * Kept free of the terminal (and header-only, since the playground is not
 * part of the library the unit tests link) so the timing rules can be
 * tested: tests/unit/test_tui_sched.c. All times are in milliseconds on one
 * monotonic clock.
 */
#ifndef TEMPEST_TUI_SCHED_H
#define TEMPEST_TUI_SCHED_H

#define TP_FRAME_MS 16.0       /* token-driven redraws: about 60 a second at most */
#define TP_SLICE_MS 2.0        /* full speed: longest run of tokens between key checks */
#define TP_PAUSED_WAKE_MS 1000 /* paused: block, but notice a signal within a second */
#define TP_FRESH_MS 250        /* running: keep the tok/s reading and sweep progress fresh */

typedef struct tp_sched {
    double next_token; /* when the next token is due (paced speeds) */
    double last_draw;
} tp_sched;

/* What the loop knows when it decides how long to block for a key. */
typedef struct tp_sched_state {
    int paused, full_speed, dirty, sweep;
} tp_sched_state;

/* A redraw for new tokens waits out the frame interval, so full speed does
 * not spend its time repainting; a change a key made (urgent) is drawn at
 * once, since that is the latency a person feels. */
static inline int tp_sched_should_draw(const tp_sched *s, int dirty, int urgent, double now)
{
    return dirty && (urgent || now - s->last_draw >= TP_FRAME_MS);
}

/* Full speed generates until the slice is over (or a key is waiting), so a
 * key never waits behind more than about TP_SLICE_MS of tokens. */
static inline int tp_sched_slice_over(double slice_start, double now)
{
    return now - slice_start >= TP_SLICE_MS;
}

/* How long the key wait may block: until the next paced token, the next
 * allowed frame if something waits to be drawn, or a while when paused. */
static inline int tp_sched_wait_ms(const tp_sched *s, const tp_sched_state *st, double now)
{
    double until = TP_PAUSED_WAKE_MS;
    if (!st->paused)
        until = st->full_speed ? 0 : s->next_token - now;
    if (st->dirty) {
        double frame = s->last_draw + TP_FRAME_MS - now;
        if (frame < until)
            until = frame;
    }
    if ((!st->paused || st->sweep) && until > TP_FRESH_MS)
        until = TP_FRESH_MS;
    if (until <= 0)
        return 0;
    int ms = (int)until;
    return ms < until ? ms + 1 : ms; /* round up: waking early only spins */
}

/* The live text metrics measure at most the last TP_METRICS_WINDOW tokens:
 * the whole text of a long run would cost memory and time in proportion to
 * its length at every measurement, and the recent text is also what shows
 * the effect of the settings just changed. */
#define TP_METRICS_WINDOW 20000

/* Whether the live text metrics, measured at cached_steps, must be measured
 * again now that the text has steps tokens. Measuring walks the measured
 * text, so while generating it is redone only after the text grew by about
 * 1/64 of it: the work per token stays constant however long the demo runs,
 * and the line still moves several times a second. Paused, or after a
 * restart, it is always exact. */
static inline int tp_sched_metrics_stale(int cached_steps, int steps, int paused)
{
    if (steps == cached_steps)
        return 0;
    int measured = steps < TP_METRICS_WINDOW ? steps : TP_METRICS_WINDOW;
    return paused || steps < cached_steps || steps - cached_steps >= 1 + measured / 64;
}

#endif
