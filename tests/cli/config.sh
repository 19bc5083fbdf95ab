#!/bin/sh
# config.sh - the config file: where it is found, what it sets, what beats
# it, and its errors (FILE:LINE: message, one line, exit 2 for a bad value).
. "$(dirname "$0")/../lib.sh"
CFG_DIR="$XDG_CONFIG_HOME/tempest"
mkdir -p "$CFG_DIR"
GEN="generate --length 60 --prompt ROMEO:"

"$TEMPEST" $GEN --temperature 0 >"$TMP/greedy.txt" 2>&1
"$TEMPEST" $GEN --temperature 1.3 --seed 9 >"$TMP/hot.txt" 2>&1
"$TEMPEST" $GEN >"$TMP/plain.txt" 2>&1

same() { cmp -s "$1" "$2"; }

printf '# defaults\ntemperature = 0\n' >"$CFG_DIR/config.ini"
"$TEMPEST" $GEN >"$TMP/out" 2>&1
check xdg-config-sets-default same "$TMP/out" "$TMP/greedy.txt"

"$TEMPEST" $GEN --temperature 1.3 --seed 9 >"$TMP/out" 2>&1
check command-line-beats-config same "$TMP/out" "$TMP/hot.txt"

printf 'temperature = 1.3\nseed = 9\nspeed = 50\ntheme = light\n' >"$TMP/hot.ini"
TEMPEST_CONFIG="$TMP/hot.ini" "$TEMPEST" $GEN >"$TMP/out" 2>&1
check tempest-config-env-wins-over-xdg same "$TMP/out" "$TMP/hot.txt"

"$TEMPEST" $GEN --config "$TMP/hot.ini" >"$TMP/out" 2>&1
check config-flag-and-playground-only-settings same "$TMP/out" "$TMP/hot.txt"

TEMPEST_CONFIG="$TMP/hot.ini" "$TEMPEST" $GEN --config=/dev/null >"$TMP/out" 2>&1
check config-flag-beats-env same "$TMP/out" "$TMP/plain.txt"

printf '[tempest]\ntop-k = 3\n' >"$TMP/k.ini"
"$TEMPEST" probs --config "$TMP/k.ini" --context "To be" --top 3 >"$TMP/out" 2>&1
check probs-reads-config grep -q 'kept 3 of' "$TMP/out"

printf 'seed = 2\ntemperature = 7000\n' >"$TMP/bad.ini"
expect_error bad-value-names-file-and-line 2 "bad\.ini:2: .*temperature 7000 is out of range" \
    -- "$TEMPEST" $GEN --config "$TMP/bad.ini"
printf 'temprature = 1\n' >"$TMP/typo.ini"
expect_error unknown-setting 2 "typo\.ini:1: unknown setting 'temprature'" \
    -- "$TEMPEST" eval --config "$TMP/typo.ini" --text "$TMP/typo.ini"
printf 'order = sideways\n' >"$TMP/order.ini"
expect_error bad-order 2 "order\.ini:1: .*sideways" -- "$TEMPEST" sweep --config "$TMP/order.ini"
expect_error missing-explicit-file 1 "cannot open config file '$TMP/none.ini'" \
    -- "$TEMPEST" $GEN --config "$TMP/none.ini"
printf 'speed = 0\n' >"$TMP/speed.ini"
expect_error playground-checks-its-settings 2 "speed\.ini:1: --speed" \
    -- env TERM=xterm "$TEMPEST" --config "$TMP/speed.ini"
printf 'model = %s/nope.safetensors\n' "$TMP" >"$CFG_DIR/config.ini"
expect_error config-model-is-used 1 "nope\.safetensors" -- "$TEMPEST" $GEN
ok=0
for cmd in "" generate probs eval sweep inspect repl; do
    # shellcheck disable=SC2086
    "$TEMPEST" $cmd --help | grep -q -- '--config FILE' || { ok=1; echo "no --config in '$cmd --help'"; }
done
check help-mentions-config [ "$ok" = 0 ]
