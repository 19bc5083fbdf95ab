#!/bin/sh
# keys_more.sh - the rest of the playground's keys and commands, colour
# handling, responsiveness at full speed and idleness when paused.
. "$(dirname "$0")/../lib.sh"
[ -n "${TEMPEST_TEST_MODEL:-}" ] && MODEL=$TEMPEST_TEST_MODEL
SOCK=tempest-keys-$$
. "$(dirname "$0")/../tmux_lib.sh"
trap 'kill_all_servers; rm -rf "$TMP"' EXIT
CHECKS="temp-big-steps speed-keys full-speed new-seed colour-modes save-transcript
save-error-keeps-file model-command model-error theme-command theme-error no-color
eight-colours key-latency-full-speed paused-is-idle"
skip_unless_ready "$CHECKS"
sgr() { screen_escapes | grep -o "$(printf '\033')\[[0-9;]*m" | sort -u; }

play 100 30 -- --prompt ROMEO:
wait_for '^T=0\.80 ' 5
keys '}'
wait_for '^T=1\.30 ' 3 && keys '{' && wait_for '^T=0\.80 ' 3 \
    && pass "temp-big-steps" || fail "temp-big-steps" "$(status_line)"

keys '+'
wait_for 'speed=([3-9][0-9]|[0-9]{3,})/s' 3
s1=$(title_line | sed -n 's/.*speed=\([0-9]*\)\/s.*/\1/p')
keys '-' '-'
wait_for 'speed=1?[0-9]/s' 3
s2=$(title_line | sed -n 's/.*speed=\([0-9]*\)\/s.*/\1/p')
if [ -n "$s1" ] && [ -n "$s2" ] && [ "$s1" -gt 20 ] && [ "$s2" -lt 20 ]; then
    pass "speed-keys"
else
    fail "speed-keys" "speed after + was '$s1', after - - '$s2'"
fi
keys f
if wait_for 'speed=full' 3 && keys f && wait_for 'speed=[0-9]+/s' 3; then
    pass "full-speed"
else
    fail "full-speed" "$(title_line)"
fi

keys R
if wait_for 'seed=[02-9][0-9]*  ' 3 || wait_for 'seed=1[0-9]+  ' 1; then
    pass "new-seed"
else
    fail "new-seed" "$(status_line)"
fi

keys c
ok=0
wait_for 'coloured by rank' 3 && ok=$((ok + 1))
keys c
wait_for 'coloured by nothing|plain' 3 && ok=$((ok + 1))
keys c
wait_for 'coloured by probability' 3 && ok=$((ok + 1))
[ $ok = 3 ] && pass "colour-modes" || fail "colour-modes" "$(screen | tail -2 | head -1)"

keys ":save $TMP/transcript.txt" Enter
if wait_for 'saved [0-9]+ tokens' 3 && grep -q '^# settings: T=' "$TMP/transcript.txt" \
    && grep -q '^ROMEO:' "$TMP/transcript.txt" && [ ! -e "$TMP/transcript.txt.tmp" ]; then
    pass "save-transcript"
else
    fail "save-transcript" "$(screen | tail -2 | head -1)"
fi
# A failed save names the file and leaves what was there. As root a
# read-only directory stops nothing, so root gets a missing directory.
echo "precious" > "$TMP/ro/keep.txt" 2>/dev/null || { mkdir -p "$TMP/ro"; echo "precious" > "$TMP/ro/keep.txt"; }
chmod 0555 "$TMP/ro"
if [ "$(id -u)" = 0 ]; then target="$TMP/no/such/dir/keep.txt"; else target="$TMP/ro/keep.txt"; fi
keys ":save $target" Enter
if wait_for "cannot write '.*keep\.txt'" 3 && grep -q precious "$TMP/ro/keep.txt" \
    && [ ! -e "$TMP/ro/keep.txt.tmp" ]; then
    pass "save-error-keeps-file"
else
    fail "save-error-keeps-file" "$(screen | tail -2 | head -1)"
fi
chmod 0755 "$TMP/ro"

keys ":model $MODEL" Enter
wait_for "loaded .*shakespeare" 5 && pass "model-command" || fail "model-command" "$(screen | tail -2 | head -1)"
keys ":model $TMP/none.safetensors" Enter
if wait_for "cannot open model" 3 && wait_for "model=shakespeare" 1; then
    pass "model-error"
else
    fail "model-error" "$(screen | tail -2 | head -1)"
fi
keys ":theme light" Enter
wait_for 'theme=light' 3 && pass "theme-command" || fail "theme-command" "$(title_line)"
keys ":theme nosuchtheme" Enter
if wait_for 'nosuchtheme' 3 && wait_for 'theme=light' 1; then
    pass "theme-error"
else
    fail "theme-error" "$(screen | tail -2 | head -1)"
fi

# Responsiveness: at full speed a key must show on screen promptly. tmux's
# own polling adds tens of milliseconds, so this checks for a stall, not
# the 20 ms the loop is built for (it checks for keys every 8 ms).
keys f
wait_for 'speed=full' 3
start=$(date +%s%N)
keys T
wait_for '^T=0\.85 ' 3
ms=$(( ($(date +%s%N) - start) / 1000000 ))
if [ "$ms" -lt 300 ]; then pass "key-latency-full-speed"; else
    fail "key-latency-full-speed" "$ms ms from key to screen"; fi
echo "key to screen at full speed: $ms ms (through tmux)" >&2

keys ' '
wait_for '⏸' 3
pid=$(pgrep -n -f "tempest --model $MODEL")
if [ -n "$pid" ]; then
    a=$(awk '{print $14 + $15}' "/proc/$pid/stat")
    sleep 2
    b=$(awk '{print $14 + $15}' "/proc/$pid/stat")
    ticks=$((b - a))
    # 2 s at 100 ticks/s: 4 ticks is 2% of one CPU
    if [ "$ticks" -le 4 ]; then pass "paused-is-idle"; else
        fail "paused-is-idle" "$ticks CPU ticks in 2 s while paused"; fi
else
    fail "paused-is-idle" "cannot find the playground's process"
fi
keys q

play 100 30 NO_COLOR=1 --
wait_for '^T=' 5
n=0
while [ $n -lt 40 ] && ! sgr | grep -q .; do sleep 0.05; n=$((n + 1)); done
if ! sgr | grep -q .; then
    fail "no-color" "no escapes captured at all"
elif sgr | grep -Eq '\[(3[0-7]|38;5;[0-9]+|4[0-7])m'; then
    fail "no-color" "colour escapes with NO_COLOR: $(sgr | tr '\n' ' ')"
else
    pass "no-color"
fi
keys q
play 100 30 TERM=screen --
wait_for '^T=' 5
n=0
while [ $n -lt 40 ] && ! sgr | grep -q .; do sleep 0.05; n=$((n + 1)); done
if sgr | grep -Eq '\[3[0-7]m' && ! sgr | grep -q '38;5;'; then
    pass "eight-colours"
else
    fail "eight-colours" "escapes: $(sgr | tr '\n' ' ')"
fi
keys q
