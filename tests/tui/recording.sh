#!/bin/sh
# recording.sh - recordings, replay, --present and --script in a real
# terminal (tmux): record from the playground and replay what was recorded,
# the present layout, a demo script's captions, setting changes and quit.
. "$(dirname "$0")/../lib.sh"
[ -n "${TEMPEST_TEST_MODEL:-}" ] && MODEL=$TEMPEST_TEST_MODEL
SOCK=tempest-rec-$$
. "$(dirname "$0")/../tmux_lib.sh"
trap 'kill_all_servers; rm -rf "$TMP"' EXIT
CHECKS="record-flag record-lines record-events record-restart replay-same-text replay-finished
export-same-screen
record-command record-off record-model-change present-layout script-caption script-settings script-quit script-error"
skip_unless_ready "$CHECKS"

# run COLS ROWS ARGS...: tempest ARGS in a fresh tmux session (no --model
# added, so ARGS may start with a command); exit status and stderr to files.
run() {
    cols=$1 rows=$2
    shift 2
    args=""
    for a in "$@"; do args="$args '$a'"; done
    t kill-server 2>/dev/null
    PLAYS=$((PLAYS + 1))
    EXIT=$TMP/exit.$PLAYS # this play's own: see tmux_lib.sh
    t new-session -d -s main -x "$cols" -y "$rows" \
        "env LANG=C.UTF-8 LC_ALL=C.UTF-8 XDG_STATE_HOME='$TMP/state' '$TEMPEST' $args 2>'$TMP/err'; echo \$? > '$EXIT.tmp'; mv '$EXIT.tmp' '$EXIT'; sleep 30"
}
text_pane() { screen | sed -n '2,20p' | cut -c1-50; }

# ---- record, then replay what was recorded ----
REC="$TMP/session.jsonl"
run 100 30 --model "$MODEL" --prompt ROMEO: --seed 5 --speed 200 --record "$REC"
wait_for 'recording to' 5 && pass record-flag || fail record-flag "$(screen | tail -2)"
wait_for 'step=[4-9][0-9] ' 5
keys T
wait_for '^T=0\.85 ' 3
keys ':topk 5' Enter
wait_for 'top-k=5 ' 3
keys r
wait_for 'restarted' 3
wait_for 'step=[3-9][0-9] ' 5
keys ' '
wait_for 'paused' 3
sleep 0.2
before=$(text_pane)
steps=$(status_line | sed -n 's/.*step=\([0-9]*\).*/\1/p')
keys q
[ "$(wait_exit)" = 0 ] || fail record-flag "exit $(cat "$EXIT" 2>/dev/null): $(cat "$TMP/err")"
if $PY - "$REC" >"$TMP/py" 2>&1 <<'PYEOF'
import json, sys
lines = [json.loads(l) for l in open(sys.argv[1], encoding="utf-8")]
h = lines[0]
assert h["tempest_recording"] == 1 and h["prompt"] == "ROMEO:" and h["seed"] == "5", h
assert h["vocab"] == 65 and len(h["model"]["fingerprint"]) == 16, h
steps = [l for l in lines[1:] if "step" in l]
assert len(steps) > 60, len(steps)
for s in steps:
    assert 0 <= s["token"] < 65 and s["top"] and abs(sum(p for _, p in s["top"]) - 1) < 1.01
PYEOF
then pass record-lines; else fail record-lines "$(tail -2 "$TMP/py")"; fi
if grep -q '"events":\["key T"\]' "$REC" && grep -q '"cmd topk 5"' "$REC" &&
    grep -q '"temperature":0.85,"top_k":5' "$REC"; then
    pass record-events
else
    fail record-events "$(grep -o '"events":[^]]*]' "$REC" | head -3)"
fi
if grep -q '^{"restart":{"prompt":"ROMEO:","seed":"5"}}$' "$REC" &&
    [ "$(tail -1 "$REC" | sed -n 's/^{"step":\([0-9]*\),.*/\1/p')" = $((steps - 1)) ]; then
    pass record-restart
else
    fail record-restart "steps on screen $steps; $(grep -c restart "$REC") restarts; last $(tail -1 "$REC" | cut -c1-40)"
fi

run 100 30 replay "$REC" --speed max
if wait_for 'finished: [0-9]+ steps, every one as recorded' 10; then
    pass replay-finished
else
    fail replay-finished "$(screen | tail -2 | head -1) $(cat "$TMP/err")"
fi
after=$(text_pane)
if [ "$before" = "$after" ] && status_line | grep -q "T=0.85  top-k=5 .*step=$steps "; then
    pass replay-same-text
else
    fail replay-same-text "$(printf 'recorded:\n%s\nreplayed:\n%s\n%s' "$before" "$after" "$(status_line)" | head -12 | tr '\n' '|')"
fi
keys q
wait_exit >/dev/null

# The exported asciicast, played into a terminal of its size, ends on the
# same text as the live session and its replay.
"$TEMPEST" export "$REC" --asciicast "$TMP/session.cast" --cols 100 --rows 30 2>"$TMP/err"
cat >"$TMP/play.py" <<'PYEOF'
import json, sys
lines = open(sys.argv[1], encoding="utf-8").read().splitlines()
sys.stdout.write("".join(json.loads(l)[2] for l in lines[1:]))
sys.stdout.flush()
PYEOF
t kill-server 2>/dev/null
PLAYS=$((PLAYS + 1))
t new-session -d -s main -x 100 -y 30 "env LANG=C.UTF-8 $PY '$TMP/play.py' '$TMP/session.cast'; sleep 30"
if wait_for 'finished: [0-9]+ steps, every one as recorded' 5 && [ "$(text_pane)" = "$before" ]; then
    pass export-same-screen
else
    fail export-same-screen "$(printf 'recorded:\n%s\nexported:\n%s' "$before" "$(text_pane)" | head -12 | tr '\n' '|')"
fi

# ---- :record FILE and :record off in the middle of a session ----
run 100 30 --model "$MODEL" --prompt ROMEO: --speed 100
wait_for 'step=[3-9][0-9] ' 5
keys ":record $TMP/mid.jsonl" Enter
wait_for 'recording to .*mid.jsonl' 3 && pass record-command || fail record-command "$(screen | tail -2)"
wait_for 'step=1[0-9][0-9] ' 5
keys ':record off' Enter
if wait_for 'recording to .*mid.jsonl stopped' 3 && n=$(wc -l <"$TMP/mid.jsonl") && sleep 0.3 &&
    [ "$(wc -l <"$TMP/mid.jsonl")" = "$n" ] && [ "$n" -gt 5 ] &&
    head -1 "$TMP/mid.jsonl" | grep -q '"prompt":"ROMEO:\\n.\{20,\}'; then
    pass record-off
else
    fail record-off "$(screen | tail -2 | head -1); $(head -c 300 "$TMP/mid.jsonl")"
fi
# a recording cannot replay across another model: it stops
keys ":record $TMP/model.jsonl" Enter
wait_for 'recording to .*model.jsonl' 3
keys ":model $MODEL" Enter
if wait_for 'recording stopped: the model changed' 5; then
    pass record-model-change
else
    fail record-model-change "$(screen | tail -2 | head -1)"
fi
keys q
wait_exit >/dev/null

# ---- --present: projector theme, no metrics line, the histogram over half ----
run 100 30 --model "$MODEL" --present
wait_for '^T=0\.80 ' 5
col=$(screen | sed -n 3p | awk -v s='│' '{ print index($0, s) }')
if title_line | grep -q 'theme=projector' && ! screen | grep -q 'text so far:' &&
    [ -n "$col" ] && [ "$col" -gt 0 ] && [ "$col" -lt 50 ]; then
    pass present-layout
else
    fail present-layout "divider at $col; $(title_line)"
fi
keys q
wait_exit >/dev/null

# ---- --script ----
cat >"$TMP/demo.txt" <<'DEMO'
# a short demo
caption "Low temperature"
temp 0.2
wait 20 tokens
at 1s temp 1.5
caption "High temperature:\nanything goes"
topk 40
pause 1s
wait 300ms
quit
DEMO
run 100 30 --model "$MODEL" --script "$TMP/demo.txt" --speed 100
wait_for 'Low temperature' 3 && wait_for '^T=0\.20 ' 2 && pass script-caption ||
    fail script-caption "$(screen | head -3)"
if wait_for '^T=1\.50  top-k=40 ' 3 && wait_for 'anything goes' 2; then
    pass script-settings
else
    fail script-settings "$(status_line)"
fi
st=$(wait_exit)
[ "$st" = 0 ] && pass script-quit || fail script-quit "exit '$st': $(cat "$TMP/err")"

printf 'temp 0.5\nwait 2h\n' >"$TMP/bad.txt"
run 100 30 --model "$MODEL" --script "$TMP/bad.txt"
st=$(wait_exit)
if [ "$st" = 2 ] && grep -q "bad.txt line 2: .*unit must be s, ms or tokens" "$TMP/err"; then
    pass script-error
else
    fail script-error "exit '$st': $(cat "$TMP/err")"
fi
