#!/bin/sh
# measure.sh - the playground's numbers: the live line of text metrics and
# `:sweep`, which runs in the background and shows its charts in an overlay.
. "$(dirname "$0")/../lib.sh"
[ -n "${TEMPEST_TEST_MODEL:-}" ] && MODEL=$TEMPEST_TEST_MODEL
SOCK=tempest-measure-$$
. "$(dirname "$0")/../tmux_lib.sh"
trap 'kill_all_servers; rm -rf "$TMP"' EXIT
CHECKS="metrics-line metrics-line-updates sweep-progress sweep-chart sweep-overlay-closes
sweep-bad-args metrics-line-hidden-when-small metrics-line-window"
skip_unless_ready "$CHECKS"

metric() { screen | sed -n "s/.*$1=\([0-9.]*\).*/\1/p" | head -1; }

play 100 30 -- --prompt ROMEO: --speed 200
if wait_for "text so far: distinct-2=[0-9.]+  repetition=[0-9.]+  mean-entropy=[0-9.]+ bits" 5; then
    pass "metrics-line"
else
    fail "metrics-line" "no metrics line: $(screen | tail -3)"
fi
w1=$(screen | sed -n 's/.*words=\([0-9]*\).*/\1/p' | head -1)
sleep 1
w2=$(screen | sed -n 's/.*words=\([0-9]*\).*/\1/p' | head -1)
if [ -n "$w1" ] && [ -n "$w2" ] && [ "$w2" -gt "$w1" ]; then
    pass "metrics-line-updates"
else
    fail "metrics-line-updates" "word count did not grow: '$w1' then '$w2'"
fi

keys ":sweep 0.5,1.0,1.5 sample;greedy" Enter
if wait_for "sweep: [0-9]+/18 cells|sweep done: 18 cells" 5; then
    pass "sweep-progress"
else
    fail "sweep-progress" "no progress: $(screen | tail -2)"
fi
if wait_for "sweep done: 18 cells" 60 && wait_for "entropy_bits" 2 && screen | grep -q "o greedy" \
    && screen | grep -q "temperature"; then
    pass "sweep-chart"
else
    fail "sweep-chart" "no chart: $(screen | head -12)"
fi
keys x
if wait_for "entropy [0-9.]+ bits +kept" 3 && ! screen | grep -q "mean over 3 seeds"; then
    pass "sweep-overlay-closes"
else
    fail "sweep-overlay-closes" "the overlay stayed: $(screen | head -3)"
fi
keys ":sweep 0.5,abc" Enter
if wait_for "sweep: '0.5,abc' is not a list of temperatures" 3; then
    pass "sweep-bad-args"
else
    fail "sweep-bad-args" "$(screen | tail -2)"
fi
t resize-window -t main -x 60 -y 14 2>/dev/null
sleep 0.5
if wait_for "T=" 3 && ! screen | grep -q "text so far"; then
    pass "metrics-line-hidden-when-small"
else
    fail "metrics-line-hidden-when-small" "$(screen | tail -3)"
fi
keys q

# Past TP_METRICS_WINDOW tokens the line measures the recent text only.
play 100 30 -- --speed max
if wait_for "last 20000 tokens: distinct-2=[0-9.]+  repetition=[0-9.]+  mean-entropy=[0-9.]+ bits" 90
then
    pass "metrics-line-window"
else
    fail "metrics-line-window" "$(screen | tail -3)"
fi
keys q
