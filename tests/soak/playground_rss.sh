#!/bin/sh
# playground_rss.sh - the playground at full speed for a long run, its
# resident memory read from /proc against the step count on its status bar.
# The history window (TEMPEST_HISTORY, default 50,000 steps) must bound it:
# from step 80,000 (the window has been cut at least once) over TOKENS more
# steps (default 150,000) VmRSS grows by at most SLACK_KB (default 1024),
# and the peak (VmHWM) stays within the model's size + 16 MB. Before the
# window a run kept about 60 bytes a token for ever (300 before the step
# records and checkpoints were slimmed).
#
#   sh tests/soak/playground_rss.sh [TOKENS [SLACK_KB]]
. "$(dirname "$0")/../lib.sh"
SOCK=tempest-rss-$$
. "$ROOT/tests/tmux_lib.sh"
trap 'kill_all_servers; rm -rf "$TMP"' EXIT
TOKENS=${1:-150000}
SLACK_KB=${2:-1024}
FROM=80000
skip_unless_ready playground-rss
if ldd "$TEMPEST" 2>/dev/null | grep -q libasan; then
    skip playground-rss "AddressSanitizer's shadow memory, not the program, decides the size"
    exit 0
fi

play 120 40 -- --speed max
wait_for "step=[0-9]+" 5 || { fail playground-rss "no status bar: $(screen | tail -2)"; exit 0; }
pid=$(pgrep -P "$(t display -p -t main '#{pane_pid}')" | head -1)
field() { awk -v f="$1:" '$1 == f { print $2 }' "/proc/$pid/status" 2>/dev/null; }
step() { status_line | sed -n 's/.*step=\([0-9]*\).*/\1/p'; }
# A reading: the step first, then the sizes, both within a few ms.
read_at_least() {
    deadline=$(( $(date +%s) + $2 ))
    while [ "$(date +%s)" -le "$deadline" ]; do
        s=$(step)
        if [ -n "$s" ] && [ "$s" -ge "$1" ]; then
            echo "$s $(field VmRSS) $(field VmHWM)"
            return 0
        fi
        sleep 0.2
    done
    return 1
}
first=$(read_at_least $FROM 300) || { fail playground-rss "$FROM steps not reached"; exit 0; }
set -- $first
s1=$1 rss1=$2
last=$(read_at_least $((s1 + TOKENS)) 400) || {
    fail playground-rss "$TOKENS more steps not reached in 400 s"
    exit 0
}
set -- $last
s2=$1 rss2=$2 hwm2=$3
model_kb=$(( $(wc -c <"$MODEL") / 1024 ))
limit_kb=$((model_kb + 16384))
echo "playground-rss: steps $s1 -> $s2, VmRSS $rss1 -> $rss2 kB, peak $hwm2 kB" \
    "(model $model_kb kB + 16 MB = $limit_kb kB)"
if [ $((rss2 - rss1)) -gt "$SLACK_KB" ]; then
    fail playground-rss "VmRSS grew $((rss2 - rss1)) kB over $((s2 - s1)) steps (> $SLACK_KB)"
elif [ "$hwm2" -gt "$limit_kb" ]; then
    fail playground-rss "peak $hwm2 kB is above the model + 16 MB ($limit_kb kB)"
else
    pass playground-rss
fi
keys q
