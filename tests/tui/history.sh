#!/bin/sh
# history.sh - the playground's history window: past $TEMPEST_HISTORY
# generated steps the older half is forgotten, the run's step count goes on,
# time travel reaches back to the first step kept and shows its past exactly,
# and a bad TEMPEST_HISTORY is refused by name.
. "$(dirname "$0")/../lib.sh"
[ -n "${TEMPEST_TEST_MODEL:-}" ] && MODEL=$TEMPEST_TEST_MODEL
SOCK=tempest-history-$$
. "$(dirname "$0")/../tmux_lib.sh"
trap 'kill_all_servers; rm -rf "$TMP"' EXIT
CHECKS="history-run-goes-on history-metrics-window history-travel-to-first-kept
history-travel-shows-the-past history-bad-value"
skip_unless_ready "$CHECKS"

run_step() { status_line | sed -n 's/.*step=\([0-9]*\).*/\1/p'; }

play 120 36 TEMPEST_HISTORY=2048 -- --speed max
wait_for 'step=[0-9]+' 5
waits=0 # (wait_for keeps its own count in n)
while [ "$(run_step)" -lt 6000 ] 2>/dev/null && [ "$waits" -lt 300 ]; do
    sleep 0.2
    waits=$((waits + 1))
done
keys Space
wait_for '⏸|paused' 3
s=$(run_step)
if [ -n "$s" ] && [ "$s" -ge 6000 ]; then
    pass history-run-goes-on
else
    fail history-run-goes-on "step '$s' after $waits waits: $(status_line)"
fi
# at most 2048 steps kept, so the metrics line says how many it measures
if screen | grep -Eq '^last [0-9]+ tokens: distinct-2='; then
    pass history-metrics-window
else
    fail history-metrics-window "$(screen | tail -3)"
fi
keys Tab
sleep 0.3
keys Home
if wait_for 'step [0-9]+ of [0-9]+:' 3; then
    first=$(screen | sed -n 's/.*step \([0-9]*\) of \([0-9]*\):.*/\1/p' | head -1)
    total=$(screen | sed -n 's/.*step \([0-9]*\) of \([0-9]*\):.*/\2/p' | head -1)
    kept=$((total - first))
    if [ "$first" -gt 0 ] && [ "$kept" -le 2048 ] && [ "$total" -eq "$s" ]; then
        pass history-travel-to-first-kept
    else
        fail history-travel-to-first-kept "first kept $first of $total (paused at $s)"
    fi
else
    fail history-travel-to-first-kept "no cursor message: $(screen | tail -3)"
fi
# the histogram at the first kept step is the distribution it was drawn
# from, rebuilt from the window's origin state: its drawn row (▶) carries
# the probability the step recorded (without the rewind, the histogram
# stays on the live distribution and no row matches)
p_msg=$(screen | sed -n "s/.*step [0-9]* of [0-9]*: '.*' p=\([0-9.]*\)%.*/\1/p" | head -1)
if [ -n "$p_msg" ] && screen | grep '│▶' | grep -q " $p_msg%"; then
    pass history-travel-shows-the-past
else
    fail history-travel-shows-the-past "p '$p_msg' at $first: $(screen | tail -4)"
fi
keys Escape q

play 100 30 TEMPEST_HISTORY=12 --
code=$(wait_exit)
if [ -n "$code" ] && [ "$code" != 0 ] &&
    screen | grep -q "TEMPEST_HISTORY 12 is out of range (2048 to 10000000)"; then
    pass history-bad-value
else
    fail history-bad-value "exit '$code': $(screen | head -3)"
fi
