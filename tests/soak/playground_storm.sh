#!/bin/sh
# playground_storm.sh - the playground in tmux under a storm of random keys
# (default 50,000) and window resizes (default 500, from 10x5 to 250x80). It
# must never crash, its settings must stay inside their ranges (read back
# from the status bar after every batch), and after q the terminal must be
# usable again (icanon and echo back on).
#
#   sh tests/soak/playground_storm.sh [KEYS [RESIZES [SEED]]]
#
# Keys go 100 or so per send-keys call, with a resize between batches. The
# key set is every playground key but q and Ctrl-C (which end the storm
# early), plus the keys of the prompt editor and the command line; with q
# absent no typed command can quit or write a file (':quit', ':save' need
# letters that are not in the set).
. "$(dirname "$0")/../lib.sh"
SOCK=tempest-storm-$$
. "$ROOT/tests/tmux_lib.sh"
trap 'kill_all_servers; rm -rf "$TMP"' EXIT
N_KEYS=${1:-50000}
N_RESIZES=${2:-500}
SEED=${3:-1}
skip_unless_ready storm

# One line per batch: "W H key key ...", from awk's seeded generator.
awk -v n="$N_KEYS" -v r="$N_RESIZES" -v seed="$SEED" 'BEGIN {
    srand(seed)
    split("t T k K p P m M o Space n + = - f r R e c : ? 0 { } Left Right Up Down " \
          "Enter Escape BSpace Tab C-l C-g Home End 1 5 . Space Space n " \
          "x s d D g l b 2 3 4 PageUp PageDown", k, " ")
    nk = 0; for (i in k) nk++
    per = int(n / r); if (per < 1) per = 1
    sent = 0
    while (sent < n) {
        line = int(10 + rand() * 241) " " int(5 + rand() * 76)
        for (j = 0; j < per && sent < n; j++) { line = line " " k[1 + int(rand() * nk)]; sent++ }
        print line
    }
}' >"$TMP/batches"

in_range() { # status line -> 0 when every setting is inside its range
    echo "$1" | awk '{
        ok = 1
        for (i = 1; i <= NF; i++) {
            split($i, kv, "=")
            if (kv[1] == "T") ok = ok && kv[2] + 0 >= 0 && kv[2] + 0 <= 5
            if (kv[1] == "top-p") ok = ok && (kv[2] == "off" || (kv[2] + 0 >= 0 && kv[2] + 0 <= 1))
            if (kv[1] == "min-p") ok = ok && (kv[2] == "off" || (kv[2] + 0 >= 0 && kv[2] + 0 <= 1))
            if (kv[1] == "top-k") ok = ok && kv[2] ~ /^(off|1|2|3|5|10|20|40|100|200)$/
        }
        exit !ok
    }'
}

play 100 30 -- --seed "$SEED"
wait_for '^T=' 10 || { fail storm "the playground did not start: $(screen | tail -2)"; exit 0; }
start=$(date +%s)
batches=0 checked=0 bad=""
while read -r w h rest; do
    t resize-window -t main -x "$w" -y "$h" 2>/dev/null
    # shellcheck disable=SC2086
    keys $rest 2>/dev/null
    batches=$((batches + 1))
    if [ -s "$EXIT" ]; then
        bad="it ended (exit $(cat "$EXIT")) during batch $batches"
        break
    fi
    # Narrower windows cut the status bar (or show "too small"): read it
    # back only when it fits.
    s=
    [ "$w" -ge 120 ] && [ "$h" -ge 10 ] && sleep 0.05 && s=$(status_line)
    if [ -n "$s" ]; then
        checked=$((checked + 1))
        # A capture can catch tmux between two halves of a frame: a value
        # out of range must still be there a moment later to count.
        in_range "$s" || { sleep 0.3; s=$(status_line); in_range "$s"; } ||
            { bad="out of range after batch $batches: $s"; break; }
    fi
done <"$TMP/batches"
secs=$(( $(date +%s) - start ))
echo "storm: $N_KEYS keys, $batches resizes in $secs s; status read back $checked times"

# Close whatever the storm left open (editor, command line), read the
# settings a last time, then quit.
t resize-window -t main -x 130 -y 40
keys C-g C-g
if [ -z "$bad" ]; then
    wait_for '^T=' 5 && s=$(status_line) && checked=$((checked + 1))
    [ -n "$s" ] && in_range "$s" || bad="after the storm: '$s'"
fi
keys q
n=50
while [ ! -s "$EXIT" ] && [ "$n" -gt 0 ]; do sleep 0.1; keys C-g q; n=$((n - 1)); done
echo "storm: status read back $checked times, last: $s"
if [ -n "$bad" ]; then
    fail storm "$bad"
elif [ "$(cat "$EXIT" 2>/dev/null)" != 0 ]; then
    fail storm "exit '$(cat "$EXIT" 2>/dev/null)' after q: $(screen | tail -3 | tr '\n' '|')"
elif ! grep -q ' icanon' "$TMP/stty" || ! grep -q ' echo ' "$TMP/stty"; then
    fail storm "the terminal was left broken: $(grep -o -- '-\?icanon\|-\?echo ' "$TMP/stty" | tr '\n' ' ')"
else
    pass storm
fi
