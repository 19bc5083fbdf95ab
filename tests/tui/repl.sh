#!/bin/sh
# repl.sh - `tempest repl`, the line-mode playground, fed through a pipe.
. "$(dirname "$0")/../lib.sh"
[ -n "${TEMPEST_TEST_MODEL:-}" ] && MODEL=$TEMPEST_TEST_MODEL
if [ ! -r "$MODEL" ]; then
    for c in repl-continues repl-show-table repl-bad-command repl-same-seed; do
        skip "$c" "no model at $MODEL"
    done
    exit 0
fi
export XDG_STATE_HOME="$TMP/state"
repl() { "$TEMPEST" repl --model "$MODEL" --length 30 "$@"; }

printf 'ROMEO:\n:quit\n' | repl >"$TMP/out" 2>"$TMP/err"
if [ "$?" = 0 ] && head -1 "$TMP/out" | grep -q '^ROMEO:' && [ "$(wc -c <"$TMP/out")" -gt 20 ]; then
    pass repl-continues; else fail repl-continues "$(head -c 200 "$TMP/out")"; fi

printf ':temp 0\n:show\n' | repl >"$TMP/out" 2>"$TMP/err"
if grep -q '^T=0\.00  top-k=off' "$TMP/out" && grep -q 'kept 1 of' "$TMP/out" &&
    grep -Eq '^1 +[^ ]+ +100\.0%' "$TMP/out" && grep -q '^others (' "$TMP/out"; then
    pass repl-show-table; else fail repl-show-table "$(cat "$TMP/out")"; fi

printf ':temp hot\n:show\n' | repl >"$TMP/out" 2>"$TMP/err"
if grep -q "temp: 'hot' is not a number" "$TMP/err" && grep -q '^T=0\.80 ' "$TMP/out"; then
    pass repl-bad-command; else fail repl-bad-command "$(cat "$TMP/err")"; fi

printf 'JULIET:\nJULIET:\n' | repl --seed 7 >"$TMP/out"
if [ "$(sed -n 1p "$TMP/out")" = "$(grep -m2 '^JULIET:' "$TMP/out" | tail -1)" ]; then
    pass repl-same-seed; else fail repl-same-seed "$(head -c 300 "$TMP/out")"; fi
