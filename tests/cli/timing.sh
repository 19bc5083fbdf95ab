#!/bin/sh
# timing.sh - `generate --timing`: one line on stderr after the text, with the
# load time, the tokens generated and their rate; the text itself unchanged.
. "$(dirname "$0")/../lib.sh"

M="$TMP/model.safetensors"
$PY "$ROOT/tests/tools/make_model.py" --out "$M" --hidden 23 --layers 2 --seed 9 \
    >/dev/null 2>&1 || fail "timing-make-model" "make_model.py failed"

NUM='[0-9]+(\.[0-9]+)?'

# timing_line NAME TOKENS SHAPE ARGS...: with --timing, stdout is what it is
# without, and stderr is exactly one line naming TOKENS (and SHAPE, as in
# " (3 x 40)", for a batch) with a positive rate.
timing_line() {
    name=$1 tokens=$2 shape=$3
    shift 3
    "$TEMPEST" generate --model "$M" "$@" >"$TMP/plain" 2>"$TMP/plain.err"
    "$TEMPEST" generate --model "$M" "$@" --timing >"$TMP/timed" 2>"$TMP/timed.err"
    st=$?
    want="^tempest generate: model loaded in $NUM ms; $tokens tokens$shape in $NUM s: [0-9]+ tokens/s\$"
    line=$(cat "$TMP/timed.err")
    rate=$(sed -n 's/.*: \([0-9]*\) tokens\/s$/\1/p' "$TMP/timed.err")
    if [ $st = 0 ] && cmp -s "$TMP/plain" "$TMP/timed" && [ -s "$TMP/timed" ] &&
        [ ! -s "$TMP/plain.err" ] && [ "$(wc -l <"$TMP/timed.err")" = 1 ] &&
        printf '%s\n' "$line" | grep -Eq "$want" && { [ "$tokens" = 0 ] || [ "$rate" -gt 0 ]; }
    then
        pass "$name"
    else
        fail "$name" "exit $st; stderr: $(head -c 300 "$TMP/timed.err")"
    fi
}

if [ -f "$M" ]; then
    timing_line "timing-one-sequence" 50 "" --length 50 --prompt "ab"
    timing_line "timing-batch" 120 " \\(3 x 40\\)" --length 40 --batch 3
    timing_line "timing-beam" 30 "" --length 30 --beam 2
    timing_line "timing-no-tokens" 0 "" --length 0 --prompt "ab"
fi

# A failed run reports its error and no timing line.
expect_error "timing-not-after-an-error" 1 "^tempest generate: cannot open model" -- \
    "$TEMPEST" generate --model "$TMP/missing.safetensors" --timing

# Nor after the text could not be written (stdout is a full device).
if [ -f "$M" ] && [ -w /dev/full ]; then
    for mode in "" "--batch 2"; do
        "$TEMPEST" generate --model "$M" --length 20 $mode --timing >/dev/full 2>"$TMP/full.err"
        st=$?
        name="timing-not-after-a-write-error${mode:+-batch}"
        if [ $st = 1 ] && [ "$(wc -l <"$TMP/full.err")" = 1 ] &&
            grep -q "cannot write the output" "$TMP/full.err"; then
            pass "$name"
        else
            fail "$name" "exit $st; stderr: $(head -c 300 "$TMP/full.err")"
        fi
    done
fi
