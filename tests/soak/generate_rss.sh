#!/bin/sh
# generate_rss.sh - `tempest generate` for a long run (default 2,000,000
# tokens) with its resident memory sampled from /proc every half second.
# Memory must stay flat: the end (and the peak) at most SLACK_KB (default
# 1024) above the first sample taken after the model is loaded.
#
#   sh tests/soak/generate_rss.sh [TOKENS [SLACK_KB]]
. "$(dirname "$0")/../lib.sh"
TOKENS=${1:-2000000}
SLACK_KB=${2:-1024}
[ -r "$MODEL" ] || { skip generate-rss "no model at $MODEL"; exit 0; }

"$TEMPEST" generate --model "$MODEL" --length "$TOKENS" --seed 11 --temperature 1.0 \
    >"$TMP/out" 2>"$TMP/err" &
pid=$!
rss() { awk '/^VmRSS:/ { print $2 }' "/proc/$pid/status" 2>/dev/null; }
start_kb= last_kb= peak_kb=0 samples=0
t0=$(date +%s)
while kill -0 "$pid" 2>/dev/null; do
    sleep 0.5
    kb=$(rss)
    [ -n "$kb" ] || break
    # The first sample comes after loading (a few ms): that is the start.
    [ -z "$start_kb" ] && start_kb=$kb
    last_kb=$kb
    [ "$kb" -gt "$peak_kb" ] && peak_kb=$kb
    samples=$((samples + 1))
done
wait "$pid"
st=$?
secs=$(( $(date +%s) - t0 ))
chars=$(wc -c <"$TMP/out")
echo "generate-rss: $TOKENS tokens in $secs s; VmRSS start ${start_kb} kB, end ${last_kb} kB," \
    "peak ${peak_kb} kB ($samples samples); $chars bytes of text"
if [ "$st" != 0 ]; then
    fail generate-rss "exit $st: $(head -c 300 "$TMP/err")"
elif [ -z "$start_kb" ] || [ "$samples" -lt 2 ]; then
    fail generate-rss "too few RSS samples ($samples)"
elif [ $((peak_kb - start_kb)) -gt "$SLACK_KB" ]; then
    fail generate-rss "VmRSS grew from $start_kb kB to a peak of $peak_kb kB (> $SLACK_KB kB)"
elif [ "$chars" -lt "$TOKENS" ]; then
    fail generate-rss "only $chars bytes of text for $TOKENS tokens"
else
    pass generate-rss
fi
