#!/bin/sh
# recording.sh - tempest export (asciicast v2) and the errors of replay and
# export, on recordings written by tests/tools/make_recording.py.
. "$(dirname "$0")/../lib.sh"
CHECKS="export-asciicast export-final-screen export-asciinema-plays export-stdout export-truncated export-wrong-model
export-errors replay-errors"
if [ ! -r "$MODEL" ]; then
    for c in $CHECKS; do skip "$c" "needs the bundled model $MODEL"; done
    exit 0
fi
MK="$ROOT/tests/tools/make_recording.py"
REC="$TMP/r.jsonl"
$PY "$MK" --model "$MODEL" --out "$REC" --steps 30 || { fail make-recording "python"; exit 0; }
$PY "$ROOT/tests/tools/make_model.py" --out "$TMP/tiny.safetensors" --seed 3 --hidden 8 \
    --vocab 'ROME: \n' >/dev/null 2>&1 || { fail make-tiny-model "python"; exit 0; }

# castcheck FILE COLS ROWS FRAMES: a valid asciicast v2 file: header, then
# [time, "o", text] events with times from 0, never going back.
castcheck() {
    $PY - "$@" <<'PYEOF'
import json, sys
path, cols, rows, frames = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
lines = open(path, encoding="utf-8").read().splitlines()
h = json.loads(lines[0])
assert h["version"] == 2 and h["width"] == cols and h["height"] == rows, h
assert isinstance(h["timestamp"], int)
events = [json.loads(l) for l in lines[1:]]
assert len(events) == frames, (len(events), frames)
t = 0
for e in events:
    assert len(e) == 3 and e[1] == "o" and isinstance(e[2], str), e
    assert isinstance(e[0], (int, float)) and e[0] >= t, e
    t = e[0]
assert events[0][0] == 0 and abs(events[-1][0] - (frames - 1) / 20) < 1e-6, events[-1][0]
PYEOF
}

"$TEMPEST" export "$REC" --asciicast "$TMP/o.cast" --cols 90 --rows 24 >"$TMP/out" 2>"$TMP/err"
st=$?
if [ $st = 0 ] && [ ! -s "$TMP/err" ] && castcheck "$TMP/o.cast" 90 24 32 >"$TMP/py" 2>&1; then
    pass export-asciicast
else
    fail export-asciicast "exit $st; $(cat "$TMP/err" "$TMP/py" | tail -3 | tr '\n' ' ')"
fi

# The frames hold the first screen (the prompt) and the closing message
# (curses sends only what changed, so other text may arrive in pieces).
$PY - "$TMP/o.cast" >"$TMP/screen" <<'PYEOF'
import json, sys
lines = open(sys.argv[1], encoding="utf-8").read().splitlines()
print("".join(json.loads(l)[2] for l in lines[1:]))
PYEOF
if grep -q 'finished: 30 steps, every one as recorded' "$TMP/screen" &&
    grep -q 'ROMEO:' "$TMP/screen" && grep -q 'replay 0/30' "$TMP/screen"; then
    pass export-final-screen
else
    fail export-final-screen "$(grep -o 'replay [a-z]*[^"]\{0,60\}' "$TMP/screen" | tail -2)"
fi

# asciinema itself (Debian package asciinema) reads the file back: the
# stream it replays holds the recording's text and the closing message.
# `asciinema cat` insists on a terminal, so script(1) lends it one.
if ! command -v asciinema >/dev/null 2>&1 || ! command -v script >/dev/null 2>&1; then
    skip export-asciinema-plays "needs asciinema (Debian package asciinema) and script"
elif script -qec "asciinema cat '$TMP/o.cast'" /dev/null </dev/null >"$TMP/played" 2>"$TMP/err" &&
    grep -q 'ROMEO:' "$TMP/played" && grep -q 'every one as recorded' "$TMP/played"; then
    pass export-asciinema-plays
else
    fail export-asciinema-plays "$(tail -2 "$TMP/err" "$TMP/played" | tr '\n' ' ')"
fi

"$TEMPEST" export "$REC" --asciicast - --cols 40 --rows 12 >"$TMP/stdout.cast" 2>"$TMP/err"
if castcheck "$TMP/stdout.cast" 40 12 32 >"$TMP/py" 2>&1; then
    pass export-stdout
else
    fail export-stdout "$(cat "$TMP/err" "$TMP/py" | tail -2 | tr '\n' ' ')"
fi

# a crash mid-write: the last line cut in half
head -c $(( $(wc -c <"$REC") - 40 )) "$REC" >"$TMP/cut.jsonl"
"$TEMPEST" export "$TMP/cut.jsonl" --asciicast "$TMP/cut.cast" 2>"$TMP/err"
st=$?
if [ $st = 0 ] && grep -q 'warning: .*line 31: cut short.* 29 whole steps' "$TMP/err" &&
    castcheck "$TMP/cut.cast" 100 30 31 >"$TMP/py" 2>&1; then
    pass export-truncated
else
    fail export-truncated "exit $st; $(cat "$TMP/err" "$TMP/py" | tail -3 | tr '\n' ' ')"
fi

$PY "$MK" --model "$MODEL" --out "$TMP/claim.jsonl" --steps 5 --claim-top
"$TEMPEST" export "$TMP/claim.jsonl" --asciicast "$TMP/claim.cast" 2>"$TMP/err"
st=$?
if [ $st = 0 ] && grep -q 'warning: 5 steps differ from the recording' "$TMP/err"; then
    pass export-wrong-model
else
    fail export-wrong-model "exit $st; $(cat "$TMP/err")"
fi

# errors: one line each, usage 2, runtime 1
ok=1
sed '3s/"token": [0-9]*/"token": 999/' "$REC" >"$TMP/bad-token.jsonl"
echo "not json" >"$TMP/text.txt"
sed 's#"path": "[^"]*"#"path": "/nonexistent/model.safetensors"#' "$REC" >"$TMP/gone.jsonl"
run_err() { # want pattern args...
    want=$1 pat=$2
    shift 2
    "$TEMPEST" "$@" >"$TMP/out" 2>"$TMP/err" </dev/null
    got=$?
    if [ "$got" != "$want" ] || [ "$(wc -l <"$TMP/err")" != 1 ] || ! grep -Eq -- "$pat" "$TMP/err"; then
        echo "tempest $*: exit $got (want $want): $(cat "$TMP/err")"
        return 1
    fi
}
{
    run_err 1 "cannot open '$TMP/none.jsonl'" export "$TMP/none.jsonl" --asciicast "$TMP/x.cast" &&
    run_err 1 "bad-token.jsonl line 3: \"token\" must be a number from 0 to 64" \
        export "$TMP/bad-token.jsonl" --asciicast "$TMP/x.cast" &&
    run_err 1 "text.txt: empty file|text.txt line 1: not a JSON object|line 1" \
        export "$TMP/text.txt" --asciicast "$TMP/x.cast" &&
    run_err 2 "asciicast OUT.cast is required" export "$REC" &&
    run_err 2 "give one recording" export --asciicast "$TMP/x.cast" &&
    run_err 2 "cols.*(40 to 500|out of range)" export "$REC" --asciicast "$TMP/x.cast" --cols 5 &&
    run_err 2 "rows" export "$REC" --asciicast "$TMP/x.cast" --rows 9999 &&
    run_err 1 "cannot write '/nonexistent/dir/x.cast'" export "$REC" --asciicast /nonexistent/dir/x.cast &&
    run_err 2 "recorded model '/nonexistent/model.safetensors' is not readable; give --model" \
        export "$TMP/gone.jsonl" --asciicast "$TMP/x.cast"
} >"$TMP/why" 2>&1 || ok=0
# another model: a warning naming it, then the vocabulary mismatch refused
"$TEMPEST" export "$REC" --model "$TMP/tiny.safetensors" --asciicast "$TMP/x.cast" 2>"$TMP/err"
st=$?
if [ $st != 1 ] || ! grep -q 'warning: .*tiny.safetensors is not the model recorded' "$TMP/err" ||
    ! grep -q 'recording is for a vocabulary of 65 tokens, but .*tiny.safetensors has 7' "$TMP/err"; then
    echo "other model: exit $st: $(cat "$TMP/err")" >>"$TMP/why"
    ok=0
fi
[ $ok = 1 ] && pass export-errors || fail export-errors "$(cat "$TMP/why")"
ok=1
{
    run_err 2 "which recording" replay &&
    run_err 2 "speed" replay "$REC" --speed 0 &&
    run_err 1 "cannot open" replay "$TMP/none.jsonl" &&
    run_err 2 "full-screen terminal" replay "$REC"
} >"$TMP/why" 2>&1 || ok=0
[ $ok = 1 ] && pass replay-errors || fail replay-errors "$(cat "$TMP/why")"
