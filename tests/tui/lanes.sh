#!/bin/sh
# lanes.sh - lanes and the butterfly view in the playground: drawn side by
# side, the first divergence marked, keys acting on the selected lane,
# stepping and restarting together, :lanes and :butterfly, resizes, bad
# values, and `:lanes off` back to one text.
. "$(dirname "$0")/../lib.sh"
[ -n "${TEMPEST_TEST_MODEL:-}" ] && MODEL=$TEMPEST_TEST_MODEL
SOCK=tempest-lanes-$$
. "$(dirname "$0")/../tmux_lib.sh"
trap 'kill_all_servers; rm -rf "$TMP"' EXIT
CHECKS="lanes-drawn lanes-divergence-marked lanes-select-and-keys lanes-no-such-lane
lanes-step-together lanes-restart-together lanes-command-error lanes-command lanes-help
lanes-resize lanes-off butterfly-split butterfly-command lanes-quit"
skip_unless_ready "$CHECKS"
# The lane headers: "▶1 T=0.20 ..." for the selected lane, " 2 T=..." else.
heads() { screen | grep -oE '(▶| |│)[1-4] T=[0-9.]+( [kpm]=[0-9.]+)*' | sed 's/^│/ /'; }
step_now() { status_line | sed -n 's/.*step=\([0-9]*\) .*/\1/p'; }
expect() { if wait_for "$2" "${3:-5}"; then pass "$1"; else fail "$1" "no /$2/: $(screen | tail -3 | tr '\n' '|')"; fi; }

play 120 32 -- --prompt ROMEO: --lanes 0.2,0.8/p0.9,1.5 --speed 50
wait_for '3 T=1\.50' 5
h=$(heads | tr '\n' '|')
if [ "$h" = "▶1 T=0.20| 2 T=0.80 p=0.90| 3 T=1.50|" ] \
    && [ "$(screen | grep -c '^ *entropy .*│ entropy .*│ entropy ')" = 1 ]; then
    pass lanes-drawn
else
    fail lanes-drawn "headers '$h'"
fi

# T=0.2 and T=1.5 part within a few tokens: the step is named and marked.
if wait_for 'first divergence at step [0-9]+ \(lanes [0-9] and [0-9]\)' 5 && wait_for '»' 2 \
    && screen | grep -q 'parts at [0-9]'; then
    pass lanes-divergence-marked
else
    fail lanes-divergence-marked "$(screen | sed -n 2,4p | tr '\n' '|')"
fi

keys Space
wait_for '⏸' 3
keys 2 T T
if wait_for '▶2 T=0\.90 p=0\.90' 3 && wait_for '^T=0\.90  top-k=off  top-p=0\.90' 3 \
    && [ "$(heads | tr '\n' '|')" = " 1 T=0.20|▶2 T=0.90 p=0.90| 3 T=1.50|" ]; then
    pass lanes-select-and-keys
else
    fail lanes-select-and-keys "$(heads | tr '\n' '|') / $(status_line | cut -c1-50)"
fi

keys 4
expect lanes-no-such-lane 'there is no lane 4 \(lanes 1 to 3\)'

# n steps every lane by one token.
before=$(step_now)
keys n
if wait_for "step=$((before + 1)) " 3 && sleep 0.2 && [ "$(step_now)" = $((before + 1)) ]; then
    pass lanes-step-together
else
    fail lanes-step-together "step $before -> $(step_now)"
fi

keys r
if wait_for 'restarted, seed 1 \(every lane\)' 3 && wait_for 'no divergence yet \(step 0\)' 3 \
    && [ "$(heads | tr '\n' '|')" = " 1 T=0.20|▶2 T=0.90 p=0.90| 3 T=1.50|" ]; then
    pass lanes-restart-together
else
    fail lanes-restart-together "$(screen | sed -n 2p)"
fi

keys : 'lanes 0.5' Enter
if wait_for 'lanes: give 2 to 4 lanes' 3 && [ "$(heads | wc -l)" = 3 ]; then
    pass lanes-command-error
else
    fail lanes-command-error "$(screen | tail -2 | tr '\n' '|')"
fi
keys : 'lanes 0.5,1.0/k5' Enter
# Lanes start from the selected lane's settings (p=0.9 here) and change only what they name.
if wait_for '2 T=1\.00 k=5' 3 && [ "$(heads | tr '\n' '|')" = "▶1 T=0.50 p=0.90| 2 T=1.00 k=5 p=0.90|" ]; then
    pass lanes-command
else
    fail lanes-command "$(heads | tr '\n' '|')"
fi

keys '?'
if wait_for 'tempest keys' 3 && screen | grep -q '1-4 .*select lane' && keys x \
    && wait_gone 'tempest keys' 3; then
    pass lanes-help
else
    fail lanes-help "no lane keys in the help overlay"
fi

# Narrow: stacked; tiny: the usual message; back: lanes again, still alive.
t resize-window -t main -x 50 -y 16
ok=0
wait_for '^▶1 T=0\.50' 3 && wait_for '^ 2 T=1\.00 k=5' 2 && ok=$((ok + 1))
t resize-window -t main -x 30 -y 10
wait_for 'terminal too small' 3 && ok=$((ok + 1))
t resize-window -t main -x 41 -y 12
wait_for '2 T=1\.00' 3 && ok=$((ok + 1))
t resize-window -t main -x 120 -y 32
wait_for '│ 2 T=1\.00 k=5' 3 && ok=$((ok + 1))
if [ $ok = 4 ] && [ ! -e "$EXIT" ]; then pass lanes-resize; else fail lanes-resize "$ok of 4 sizes drawn"; fi

keys 2
wait_for '▶2 T=1\.00' 3
keys : 'lanes off' Enter
if wait_for 'one text again' 3 && wait_gone 'T=0\.50' 3 && [ "$(heads | wc -l)" = 0 ] \
    && status_line | grep -q '^T=1\.00  top-k=5 ' && [ "$(screen | grep -c 'entropy .* kept')" = 1 ]; then
    pass lanes-off
else
    fail lanes-off "$(status_line | cut -c1-40); $(heads | wc -l) lane headers"
fi

keys : 'butterfly 1.0 0.05' Enter
if wait_for '▶1 T=1\.00' 3 && wait_for ' 2 T=1\.05' 2 && wait_for 'butterfly: T=1\.00 and T=1\.05' 3; then
    pass butterfly-command
else
    fail butterfly-command "$(screen | sed -n 2,3p | tr '\n' '|')"
fi

keys q
if wait_for '' 1 && sleep 0.5 && [ "$(cat "$EXIT" 2>/dev/null)" = 0 ]; then pass lanes-quit
else fail lanes-quit "exit status '$(cat "$EXIT" 2>/dev/null)'"; fi

play 100 30 -- --prompt ROMEO: --butterfly 0.8 0.01 --speed max
if wait_for 'split at step [0-9]+: T=0\.80 drew .* T=0\.81 drew ' 10 && wait_for 'margin=[0-9.e-]+%' 2 \
    && wait_for 'gap=[0-9.]+%' 2; then
    pass butterfly-split
else
    fail butterfly-split "$(screen | sed -n 2,3p | tr '\n' '|')"
fi
