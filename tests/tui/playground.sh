#!/bin/sh
# playground.sh - the full-screen playground driven in a real terminal: tmux
# runs it on a private socket, sends keys, and every check reads the screen
# with capture-pane. Waits poll the screen with a timeout, never a fixed sleep.
. "$(dirname "$0")/../lib.sh"
[ -n "${TEMPEST_TEST_MODEL:-}" ] && MODEL=$TEMPEST_TEST_MODEL
SOCK=tempest-test-$$
. "$(dirname "$0")/../tmux_lib.sh"
trap 'kill_all_servers; rm -rf "$TMP"' EXIT
CHECKS="starts status-format histogram-rows temp-keys change-named greedy-one-bar
greedy-back topk-3-rows topp-rule minp-keys order-key pause pause-step-one help-overlay
cmdline-temp cmdline-error cmdline-complete cmdline-resize edit-prompt restart-same-seed resize-small
too-small resize-back quit-exit-0 ctrl-c-quits sigterm-restores dumb-terminal not-a-tty
bad-theme theme-mono"

if ! command -v tmux >/dev/null 2>&1; then
    for c in $CHECKS; do skip "$c" "tmux is not installed"; done
    exit 0
fi
if [ ! -r "$MODEL" ]; then
    for c in $CHECKS; do skip "$c" "no model at $MODEL"; done
    exit 0
fi


# start COLS ROWS ARGS...: the playground in a fresh session; its exit status
# and the terminal modes after it go to files.
start() {
    cols=$1 rows=$2
    shift 2
    rm -f "$TMP/stty" "$TMP/err"
    EXIT=$TMP/exit.$((PLAYS + 1)) # this play's own: see tmux_lib.sh
    {
        echo "cd '$ROOT'"
        printf 'echo $$ > "%s/pid"\n' "$TMP"
        printf 'env LANG=C.UTF-8 LC_ALL=C.UTF-8 XDG_STATE_HOME="%s/state" "%s" --model "%s"' \
            "$TMP" "$TEMPEST" "$MODEL"
        for a in "$@"; do printf " '%s'" "$a"; done
        printf ' 2>"%s/err"\n' "$TMP"
        printf 'echo $? > "%s.tmp"; stty -a > "%s/stty" 2>&1; mv "%s.tmp" "%s"\n' \
            "$EXIT" "$TMP" "$EXIT" "$EXIT"
        echo "sleep 30"
    } >"$TMP/run.sh"
    t kill-server 2>/dev/null
    PLAYS=$((PLAYS + 1)) # a server of its own: see tmux_lib.sh
    t new-session -d -s main -x "$cols" -y "$rows" "exec sh '$TMP/run.sh'"
}

# exited_within [S]: 0 once the playground has ended, within S seconds (5).
exited_within() {
    n=$(( ${1:-5} * 20 ))
    while [ "$n" -gt 0 ]; do
        [ -s "$EXIT" ] && return 0
        sleep 0.05
        n=$((n - 1))
    done
    return 1
}

# expect NAME ERE [SECONDS]: PASS when the screen comes to match.
expect() {
    if wait_for "$2" "${3:-5}"; then pass "$1"; else
        fail "$1" "screen never matched /$2/: $(screen | tail -3 | tr -s ' ' | tr '\n' '|')"
    fi
}

hist() { screen | sed -n 's/^.*│//p'; }            # the histogram column
step_now() { status_line | sed -n 's/.*step=\([0-9]*\).*/\1/p'; }
text_line() { screen | sed -n 's/ *│ entropy.*$//p'; } # the text beside the header
kept_rows() { hist | grep '%' | grep -v 'others' | grep -vc '×'; }

start 100 30 --prompt "ROMEO:" --seed 1 --temperature 0.8
expect starts 'step=[0-9]+' 10
if status_line | grep -Eq '^T=0\.80  top-k=off  top-p=off  min-p=off  order=temp-first  seed=1  step=[0-9]+  [0-9]+ tok/s  ▶'; then
    pass status-format
else
    fail status-format "status: $(status_line)"
fi
rows=$(hist | grep -Ec '[0-9]+\.[0-9]%')
if [ "$rows" -ge 10 ] && hist | grep -Eq 'entropy [0-9.]+ bits  kept [0-9]+ of [0-9]+' &&
    hist | grep -q 'others ('; then
    pass histogram-rows
else
    fail histogram-rows "$rows rows; $(hist | head -2 | tr '\n' '|')"
fi

keys T T T t
expect temp-keys '^T=0\.90 '
expect change-named 'last change: T 0\.95→0\.90 at step [0-9]+'

keys 0
if wait_for '^T=0\.00 ' && [ "$(hist | grep -c '100\.0%')" = 1 ] &&
    [ "$(kept_rows)" = 1 ]; then pass greedy-one-bar; else
    fail greedy-one-bar "$(status_line) / $(hist | grep -c '100\.0%') bars at 100%"
fi
keys 0
expect greedy-back '^T=0\.90 '

keys K K K
if wait_for 'top-k=3 ' && sleep 0.2 && [ "$(kept_rows)" = 3 ] && hist | grep -q '×k'; then
    pass topk-3-rows
else
    fail topk-3-rows "$(status_line | cut -c1-40); $(kept_rows) rows kept"
fi
keys k k k
wait_for 'top-k=off '

keys p p
expect topp-rule 'top-p 0\.90 ┄'
keys P P
wait_for 'top-p=off '

keys M M m
expect minp-keys 'min-p=0\.01 '
keys m
wait_for 'min-p=off '

keys o
if wait_for 'order=trunc-first ' && keys o && wait_for 'order=temp-first '; then
    pass order-key; else fail order-key "$(status_line)"; fi

keys Space
expect pause '⏸'
before=$(step_now)
keys n
if wait_for "step=$((before + 1)) " && sleep 0.3 && [ "$(step_now)" = $((before + 1)) ]; then
    pass pause-step-one
else
    fail pause-step-one "step $before -> $(step_now)"
fi

keys '?'
if wait_for 'tempest keys' && keys x && wait_gone 'tempest keys' && status_line | grep -q '⏸'; then
    pass help-overlay; else fail help-overlay "overlay did not open and close"; fi

keys : 'temp 1.3' Enter
expect cmdline-temp '^T=1\.30 '
keys : 'temp abc' Enter
if wait_for "not a number" && status_line | grep -q '^T=1\.30 '; then
    pass cmdline-error; else fail cmdline-error "$(screen | tail -2 | tr '\n' '|')"; fi
keys : 'te' Tab
if wait_for '^:temp' && keys '0.5' Enter && wait_for '^T=0\.50 '; then
    pass cmdline-complete; else fail cmdline-complete "$(screen | tail -2 | tr '\n' '|')"; fi

# a resize while the line is being edited keeps the line and its text
keys : 'temp 1'
wait_for '^:temp 1'
t resize-window -t main -x 60 -y 20
wait_for '^:temp 1' && t resize-window -t main -x 100 -y 30
if wait_for '^:temp 1' && keys '.1' Enter && wait_for '^T=1\.10 '; then
    pass cmdline-resize; else fail cmdline-resize "$(screen | tail -2 | tr '\n' '|')"; fi

keys e
if wait_for '^prompt> ROMEO:' && keys C-u 'JULIET:' Enter && wait_for 'prompt="JULIET:"' &&
    screen | sed -n 2p | grep -q '^JULIET:'; then
    pass edit-prompt
else
    fail edit-prompt "$(screen | head -2 | tr '\n' '|')"
fi

# same seed, same random numbers: three steps after r give the same text twice
keys r n n n
wait_for 'step=3 '
first=$(text_line)
keys r n n n
wait_for 'step=3 '
second=$(text_line)
if [ -n "$first" ] && [ "$first" = "$second" ]; then pass restart-same-seed; else
    fail restart-same-seed "'$first' vs '$second'"; fi

keys Space
t resize-window -t main -x 50 -y 14
if wait_for '^T=[0-9]' && wait_for '[0-9]\.[0-9]%' && ! screen | grep -q 'too small'; then
    pass resize-small; else fail resize-small "$(screen | tr '\n' '|' | cut -c1-300)"; fi
t resize-window -t main -x 30 -y 10
expect too-small 'terminal too small'
t resize-window -t main -x 100 -y 30
expect resize-back 'kept [0-9]+ of [0-9]+'

keys q
if exited_within && [ "$(cat "$EXIT")" = 0 ]; then pass quit-exit-0; else
    fail quit-exit-0 "exit status '$(cat "$EXIT" 2>/dev/null)'"; fi

start 80 24
wait_for 'step=' 10
keys C-c
if exited_within && [ "$(cat "$EXIT")" = 0 ]; then pass ctrl-c-quits; else
    fail ctrl-c-quits "exit status '$(cat "$EXIT" 2>/dev/null)'"; fi

start 80 24 --speed max
wait_for 'step=' 10
kill -TERM "$(pgrep -P "$(cat "$TMP/pid")" tempest || cat "$TMP/pid")" 2>/dev/null
if exited_within && [ "$(cat "$EXIT")" = 143 ] && grep -q ' icanon' "$TMP/stty" &&
    grep -q ' echo ' "$TMP/stty"; then
    pass sigterm-restores
else
    fail sigterm-restores "exit '$(cat "$EXIT" 2>/dev/null)'; $(grep -o -- '-\?icanon\|-\?echo ' "$TMP/stty" | tr '\n' ' ')"
fi

expect_error dumb-terminal 2 'tempest generate' -- env TERM=dumb "$TEMPEST" --model "$MODEL"
expect_error not-a-tty 2 'tempest generate' -- "$TEMPEST" --model "$MODEL"

printf '[roles]\nstatus = black on cyan\nbar = purple\n' >"$TMP/bad.ini"
start 80 24 --theme "$TMP/bad.ini"
if exited_within && [ "$(cat "$EXIT")" != 0 ] && grep -q 'bad.ini:3:.*purple' "$TMP/err"; then
    pass bad-theme; else fail bad-theme "exit $(cat "$EXIT" 2>/dev/null): $(cat "$TMP/err")"; fi

start 80 24 --theme mono
if wait_for 'theme=mono' 10 && keys q && exited_within && [ "$(cat "$EXIT")" = 0 ]; then
    pass theme-mono; else fail theme-mono "$(screen | head -1)"; fi
