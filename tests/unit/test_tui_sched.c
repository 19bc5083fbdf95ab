/* test_tui_sched.c - the playground loop's timing rules, without a terminal:
 * keys are drawn at once, tokens at most about 60 times a second, and the
 * key wait never blocks generation at full speed. */
#include <criterion/criterion.h>

#include "tempest/tui_sched.h"

Test(tui_sched, key_change_is_drawn_at_once)
{
    tp_sched s = {.last_draw = 100.0};
    cr_assert(tp_sched_should_draw(&s, 1, 1, 100.5), "a key's change must not wait for a frame");
    cr_assert_not(tp_sched_should_draw(&s, 1, 0, 100.5), "tokens wait for the frame interval");
    cr_assert(tp_sched_should_draw(&s, 1, 0, 100.0 + TP_FRAME_MS));
    cr_assert_not(tp_sched_should_draw(&s, 0, 1, 200.0), "nothing changed: nothing to draw");
}

/* A token every 0.1 ms for a second (full speed), the loop asking after
 * every 2 ms slice: the token-driven redraws stay near 60 a second. */
Test(tui_sched, token_redraws_are_capped)
{
    tp_sched s = {.last_draw = -1000.0};
    int draws = 0;
    for (double now = 0; now < 1000.0; now += TP_SLICE_MS) {
        if (tp_sched_should_draw(&s, 1, 0, now)) {
            draws++;
            s.last_draw = now;
        }
    }
    cr_assert_leq(draws, 63, "%d token-driven redraws in one second", draws);
    cr_assert_geq(draws, 50, "%d redraws: the text must still move smoothly", draws);
}

Test(tui_sched, slice_is_short)
{
    cr_assert_not(tp_sched_slice_over(10.0, 11.9));
    cr_assert(tp_sched_slice_over(10.0, 12.0));
    cr_assert_leq(TP_SLICE_MS, 2.5, "a key waits behind at most one slice of tokens");
}

Test(tui_sched, wait_never_blocks_full_speed)
{
    tp_sched s = {.last_draw = 0.0};
    tp_sched_state st = {.full_speed = 1, .dirty = 1};
    cr_assert_eq(tp_sched_wait_ms(&s, &st, 5.0), 0);
    st.dirty = 0;
    cr_assert_eq(tp_sched_wait_ms(&s, &st, 5.0), 0);
}

Test(tui_sched, paced_waits_for_token_or_frame)
{
    tp_sched s = {.next_token = 50.0, .last_draw = 0.0};
    tp_sched_state st = {0};
    cr_assert_eq(tp_sched_wait_ms(&s, &st, 10.0), 40, "until the next token");
    st.dirty = 1;
    cr_assert_eq(tp_sched_wait_ms(&s, &st, 10.0), 6, "until the next frame (16 ms, rounded up)");
    s.next_token = 1e6;
    st.dirty = 0;
    cr_assert_eq(tp_sched_wait_ms(&s, &st, 10.0), TP_FRESH_MS, "the tok/s reading stays fresh");
}

Test(tui_sched, paused_sleeps)
{
    tp_sched s = {.last_draw = 0.0};
    tp_sched_state st = {.paused = 1};
    cr_assert_eq(tp_sched_wait_ms(&s, &st, 5000.0), TP_PAUSED_WAKE_MS);
    st.sweep = 1;
    cr_assert_eq(tp_sched_wait_ms(&s, &st, 5000.0), TP_FRESH_MS, "a sweep's progress shows");
    st.sweep = 0;
    st.dirty = 1;
    cr_assert_eq(tp_sched_wait_ms(&s, &st, 5000.0), 0, "a pending redraw is not put off");
}

Test(tui_sched, metrics_work_per_token_is_bounded)
{
    /* A 200,000-token run re-measures the text a few hundred times, not on
     * every token; each re-measure is O(text), so the total stays O(64 n). */
    int cached = 0, measures = 0;
    for (int steps = 1; steps <= 200000; steps++)
        if (tp_sched_metrics_stale(cached, steps, 0)) {
            cached = steps;
            measures++;
        }
    cr_assert(measures > 100 && measures < 1000, "%d re-measures", measures);
    cr_assert(200000 - cached <= 200000 / 64 + 1);
}

Test(tui_sched, metrics_exact_when_paused_or_restarted)
{
    cr_assert(tp_sched_metrics_stale(1000, 1001, 1));  /* paused: one step shows */
    cr_assert(!tp_sched_metrics_stale(1000, 1001, 0)); /* running: waits a little */
    cr_assert(tp_sched_metrics_stale(1000, 3, 0));     /* restart: text shrank */
    cr_assert(tp_sched_metrics_stale(0, 1, 0));        /* the first token shows */
    cr_assert(!tp_sched_metrics_stale(5, 5, 1));
}
