#!/bin/sh
# playground_rss.sh - the playground at full speed for a long run (default
# 200,000 tokens past the first 30,000), its resident memory read from /proc
# against the step count on its status bar. What it keeps per token (a
# 40-byte step record, the token twice, one thinned-out rewind checkpoint
# in 512 tokens) must stay under LIMIT bytes a token (default 80, measured 60; it was
# about 300 when every step carried its whole settings and every 64 tokens a
# whole model state), and the peak must stay near the resident size (the
# live text metrics measure a bounded window, not the whole text).
#
#   sh tests/soak/playground_rss.sh [TOKENS [LIMIT]]
. "$(dirname "$0")/../lib.sh"
SOCK=tempest-rss-$$
. "$ROOT/tests/tmux_lib.sh"
trap 'kill_all_servers; rm -rf "$TMP"' EXIT
TOKENS=${1:-200000}
LIMIT=${2:-80}
if ! command -v tmux >/dev/null 2>&1 || [ ! -r "$MODEL" ]; then
    skip playground-rss "needs tmux and the model"
    exit 0
fi
if ldd "$TEMPEST" 2>/dev/null | grep -q libasan; then
    skip playground-rss "AddressSanitizer's shadow memory, not the program, decides the size"
    exit 0
fi

play 120 40 -- --speed max
wait_for "step=[0-9]+" 5 || { fail playground-rss "no status bar: $(screen | tail -2)"; exit 0; }
pid=$(pgrep -P "$(t display -p -t main '#{pane_pid}')" | head -1)
field() { awk -v f="$1:" '$1 == f { print $2 }' "/proc/$pid/status" 2>/dev/null; }
step() { status_line | sed -n 's/.*step=\([0-9]*\).*/\1/p'; }
# A reading: the step first, then the size, both within a few ms.
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
first=$(read_at_least 30000 120) || { fail playground-rss "30,000 steps not reached"; exit 0; }
set -- $first
s1=$1 rss1=$2
last=$(read_at_least $((s1 + TOKENS)) 300) || {
    fail playground-rss "$TOKENS more steps not reached in 300 s"
    exit 0
}
set -- $last
s2=$1 rss2=$2 hwm2=$3
per=$(( (rss2 - rss1) * 1024 / (s2 - s1) ))
echo "playground-rss: steps $s1 -> $s2, VmRSS $rss1 -> $rss2 kB (peak $hwm2 kB): $per bytes a token"
if [ "$per" -gt "$LIMIT" ]; then
    fail playground-rss "$per bytes a token (> $LIMIT)"
elif [ $((hwm2 - rss2)) -gt 2048 ]; then
    fail playground-rss "peak $hwm2 kB is more than 2 MB above the resident $rss2 kB"
else
    pass playground-rss
fi
keys q
