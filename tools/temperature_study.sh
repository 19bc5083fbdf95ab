#!/bin/sh
# temperature_study.sh - regenerate the numbers, charts and excerpts of
# docs/temperature-study.md on the (64, 256, 2) model it studies,
# models/shakespeare-small.safetensors (MODEL=PATH studies another).
#
#   tools/temperature_study.sh [CORPUS]
#
# CORPUS (default ../shared/corpora/tinyshakespeare.txt) is the reference for
# novelty and word validity. Writes docs/study/sweep.{csv,json,svg,png} and
# docs/study/excerpts.txt.
set -eu
ROOT=$(cd "$(dirname "$0")/.." && pwd)
CORPUS=${1:-$ROOT/../shared/corpora/tinyshakespeare.txt}
OUT=$ROOT/docs/study
MODEL=${MODEL:-$ROOT/models/shakespeare-small.safetensors}
mkdir -p "$OUT"
T=0.2,0.4,0.6,0.8,1.0,1.2,1.4,1.6,1.8,2.0
S="greedy;sample;top_p=0.9;top_k=40;top_p=0.95+beam=3"
"$ROOT/tempest" sweep --model "$MODEL" --prompt "ROMEO:" --temperatures $T --strategies "$S" \
    --seeds 10 --length 600 --reference "$CORPUS" \
    --csv "$OUT/sweep.csv" --json "$OUT/sweep.json" --plot "$OUT/sweep.svg" \
    --plot "$OUT/sweep.png" > "$OUT/table.txt"
: > "$OUT/excerpts.txt"
for t in 0.2 0.8 1.2 1.6 2.0; do
    for opt in "--top-p 1" "--top-p 0.9"; do
        printf '=== T=%s %s seed 1\n' "$t" "$opt" >> "$OUT/excerpts.txt"
        # shellcheck disable=SC2086
        "$ROOT/tempest" generate --model "$MODEL" --prompt "ROMEO:" --temperature "$t" $opt --seed 1 \
            --length 240 >> "$OUT/excerpts.txt"
    done
done
printf '=== beam 3, top-p 0.95, T=0.8, seed 1\n' >> "$OUT/excerpts.txt"
"$ROOT/tempest" generate --model "$MODEL" --prompt "ROMEO:" --temperature 0.8 \
    --top-p 0.95 --beam 3 \
    --seed 1 --length 240 >> "$OUT/excerpts.txt"
echo "wrote $OUT"
