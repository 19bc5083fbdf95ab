#!/bin/sh
# explore.sh - time travel, branching and the exploring overlays, driven in
# tmux: every check reads the screen with capture-pane and waits by polling.
. "$(dirname "$0")/../lib.sh"
[ -n "${TEMPEST_TEST_MODEL:-}" ] && MODEL=$TEMPEST_TEST_MODEL
SOCK=tempest-explore-$$
. "$(dirname "$0")/../tmux_lib.sh"
trap 'kill_all_servers; rm -rf "$TMP"' EXIT
CHECKS="tt-exact tt-cursor tt-settings-of-then tt-esc-live branch-force branch-list
branch-switch math-overlay math-close stages-overlay stages-order dice-overlay samples-counts
samples-no-advance quiz-hides quiz-reveal quiz-end lstm-overlay lstm-gates help-new-keys
restart-one-branch model-load-live"

skip_unless_ready "$CHECKS"

expect() {
    if wait_for "$2" "${3:-5}"; then pass "$1"; else
        fail "$1" "screen never matched /$2/: $(screen | tail -3 | tr -s ' ' | tr '\n' '|')"
    fi
}
expect_gone() {
    if wait_gone "$2" "${3:-5}"; then pass "$1"; else
        fail "$1" "screen still matches /$2/: $(screen | tail -3 | tr -s ' ' | tr '\n' '|')"
    fi
}
hist() { screen | sed -n 's/^[^│]*│//p'; }
message_line() { screen | tail -2 | head -1; }
step_now() { status_line | sed -n 's/.*step=\([0-9]*\).*/\1/p'; }
# steps_to N: one n at a time, each waited for, until step=N (paused)
steps_to() {
    while [ "$(step_now)" -lt "$1" ]; do
        was=$(step_now)
        keys n
        i=0
        while [ "$(step_now)" = "$was" ] && [ $i -lt 100 ]; do sleep 0.02; i=$((i + 1)); done
    done
    wait_for "step=$1 " 3
}
# wait_status ERE: until the status bar matches (5 s)
wait_status() {
    i=0
    while [ $i -lt 100 ]; do
        status_line | grep -Eq -- "$1" && return 0
        sleep 0.05
        i=$((i + 1))
    done
    return 1
}

play 100 30 -- --prompt "ROMEO:" --seed 3 --temperature 0.8 --speed 1
wait_for 'step=[0-9]+' 10
keys ' '
wait_for '⏸' 3
steps_to 30

# The past distribution equals the one the token was drawn from: the
# histogram right after a step shows that distribution; Tab puts the cursor
# on that step and recomputes it from the history.
before=$(hist | grep '%' | head -12)
keys Tab
wait_for 'step=29/30' 3
after=$(hist | grep '%' | head -12)
if [ -n "$before" ] && [ "$before" = "$after" ]; then pass tt-exact; else
    fail tt-exact "live: $(echo "$before" | head -3 | tr '\n' '|') past: $(echo "$after" | head -3 | tr '\n' '|')"
fi
keys Left Left
expect tt-cursor 'step=27/30' 3

# Settings change at step 30; the past keeps the settings in force then.
keys Escape
wait_for 'step=30 ' 3
keys ":temp 1.7" Enter
wait_for '^T=1\.70' 3
steps_to 33
keys Tab
wait_for 'step=32/33' 3
s1=$(status_line)
keys Left Left Left Left
wait_for 'step=28/33' 3
s2=$(status_line)
if echo "$s1" | grep -q '^T=1\.70' && echo "$s2" | grep -q '^T=0\.80'; then
    pass tt-settings-of-then
else
    fail tt-settings-of-then "at 32: $s1 / at 28: $s2"
fi
keys Escape
if wait_for 'step=33 ' 3 && ! status_line | grep -q 'step=[0-9]*/'; then pass tt-esc-live; else
    fail tt-esc-live "$(status_line)"; fi

# Branching: text focus at step 20, histogram focus, the second candidate,
# Enter: a new branch from step 20, generation running again.
keys Tab
wait_for 'step=32/33' 3
keys Home
wait_for 'step=0/33' 3
i=0
while [ $i -lt 20 ]; do keys Right; i=$((i + 1)); done
wait_for 'step=20/33' 3
keys Tab
wait_for 'Enter forces' 3
keys Down
if wait_for "candidate 2: '.*' p=" 3; then
    second=$(message_line | sed -n "s/candidate 2: '\(.*\)' p=.*/\1/p")
    second=$(printf '%s' "$second" | sed 's/[][\\.*^$?+(){}|]/\\&/g') # as an ERE
else
    second="no candidate named"
fi
keys Enter
if wait_for "branch 2: forced '$second' at step 20" 3 && wait_status '▶'; then pass branch-force; else
    fail branch-force "$(message_line) / $(status_line)"; fi
keys ' '
wait_for '⏸' 3
keys b
if wait_for 'branches: 2' 3 && screen | grep -q 'from 1 at step 20'; then pass branch-list; else
    fail branch-list "$(screen | head -5 | tr '\n' '|')"; fi
keys 1
if wait_for 'branch 1: 33 steps' 3 && wait_for 'step=33 ' 3; then pass branch-switch; else
    fail branch-switch "$(message_line) / $(status_line)"; fi
wait_status '⏸' # still paused: the numbers below hold still

# Math: the formula and the numbers; the formula's p is the chain's p.
keys x
if wait_for 'math: ' 3 && screen | grep -q 'exp(z_i/T)' ; then
    shot=$(screen)
    p1=$(echo "$shot" | sed -n 's/.*p = [^=]*= \([0-9.]*\)%.*/\1/p' | head -1)
    p2=$(echo "$shot" | sed -n 's/.*the chain gives \([0-9.]*\)%.*/\1/p' | head -1)
    if [ -n "$p1" ] && [ "$p1" = "$p2" ]; then pass math-overlay; else
        fail math-overlay "formula $p1% vs chain $p2%"; fi
else
    fail math-overlay "$(screen | head -6 | tr '\n' '|')"
fi
keys x
expect_gone math-close 'math: ' 3

# Stages: the chain in its order; trunc-first puts temperature last.
keys ":topk 3" Enter
wait_for 'top-k=3' 3
keys s
if wait_for 'stages at' 3 && screen | grep -Eq 'kept +65 +65 +65 +3 +3 +3'; then
    pass stages-overlay
else
    fail stages-overlay "$(screen | grep -E 'token|kept' | head -2 | tr '\n' '|')"
fi
keys ":order trunc-first" Enter
if wait_for 'token +T=1 +repeat +top-k +top-p +min-p +temp' 3 &&
    screen | grep -Eq 'kept +65 +65 +3 +3 +3 +3'; then
    pass stages-order
else
    fail stages-order "$(screen | grep -E 'token|kept' | head -2 | tr '\n' '|')"
fi
keys s
keys ":order temp-first" Enter ":topk off" Enter
wait_for 'top-k=off' 3

# The dice: u and the segment it fell in.
keys n
wait_for 'step=34 ' 3
keys d
expect dice-overlay 'u = 0\.[0-9]{4} is in .* drawn' 3
keys d

# Samples: :dice 50 draws 50 without advancing.
st=$(step_now)
keys ":dice 50" Enter
if wait_for '50 samples from' 3; then
    total=$(screen | grep -E '%[ ]+[0-9]+ *$' | grep -v '│' | awk '{s += $NF} END {print s}')
    if [ "$total" = 50 ]; then pass samples-counts; else fail samples-counts "counts add up to $total"; fi
else
    fail samples-counts "$(screen | head -4 | tr '\n' '|')"
fi
if [ "$(step_now)" = "$st" ]; then pass samples-no-advance; else
    fail samples-no-advance "step $st became $(step_now)"; fi
keys Escape

# Quiz: the histogram hides, a typed guess reveals and is scored.
keys g
if wait_for 'QUIZ: what comes next' 3 && ! screen | grep -q 'entropy .* bits'; then
    pass quiz-hides
else
    fail quiz-hides "$(screen | head -3 | tr '\n' '|')"
fi
keys e
if wait_for "drawn '.*' \(p=[0-9.]+%\); guess 'e'" 3 && wait_for 'score [01]/1' 1 &&
    wait_for 'entropy .* bits' 1; then
    pass quiz-reveal
else
    fail quiz-reveal "$(message_line)"
fi
keys Escape
expect quiz-end 'quiz over: score [01]/1' 3

# Inside the LSTM: layers, h and c; gates after a step.
keys l
expect lstm-overlay 'inside the LSTM: 2 layers x 256 units' 3
keys n
if wait_for 'forget +0\.[0-9]{2}' 3 && screen | grep -Eq 'in +0\.[0-9]{2}'; then pass lstm-gates; else
    fail lstm-gates "$(screen | sed -n 2,9p | tr '\n' '|')"; fi
keys l

# A restart starts a new tree; loading a model while travelling goes live.
keys r
wait_for 'restarted' 3
keys b
if wait_for 'branches: 1 ' 3; then pass restart-one-branch; else
    fail restart-one-branch "$(screen | sed -n 2,4p | tr '\n' '|')"; fi
keys b
wait_status '⏸'
steps_to 3
keys Tab
wait_for 'step=2/3' 3
keys ":model $MODEL" Enter
if wait_for 'loaded ' 5 && wait_status 'step=[0-9]+ ' && ! status_line | grep -q 'step=[0-9]*/'; then
    keys ' '
    wait_status '⏸'
    keys Tab
    if wait_status 'step=[0-9]+/'; then pass model-load-live; else
        fail model-load-live "no travel after the load: $(status_line)"; fi
    keys Escape
else
    fail model-load-live "$(message_line) / $(status_line)"
fi

keys '?'
wait_for 'tempest keys' 3
page1=$(screen)
pages=$page1
# Turn pages while the overlay says there are more.
n=0
cur=$page1
while echo "$cur" | grep -q 'space: next page' && [ $n -lt 5 ]; do
    keys ' '
    sleep 0.4
    cur=$(screen)
    pages="$pages
$cur"
    n=$((n + 1))
done
if echo "$page1" | grep -q 'space: next page' && echo "$pages" | grep -q 'Tab' &&
    echo "$pages" | grep -q 'branches: list' && echo "$pages" | grep -q 'quiz: guess' &&
    echo "$pages" | grep -q ':dice'; then
    pass help-new-keys
else
    fail help-new-keys "pages $(echo "$pages" | grep -c 'tempest keys'); branches $(echo "$pages" | grep -c 'branches: list'); quiz $(echo "$pages" | grep -c 'quiz: guess'); dice $(echo "$pages" | grep -c ':dice'); tab $(echo "$page1" | grep -c Tab)"
fi
keys q q
