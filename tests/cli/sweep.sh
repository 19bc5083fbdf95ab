#!/bin/sh
# sweep.sh - `tempest sweep` and `generate --beam`: determinism, the CSV and
# JSON schemas, charts, bad values. Uses the bundled model.
. "$(dirname "$0")/../lib.sh"

if [ ! -f "$MODEL" ]; then
    skip "sweep" "the bundled model $MODEL is missing"
    exit 0
fi
sweep() { "$TEMPEST" sweep --model "$MODEL" --temperatures 0.5,1.5 \
    --strategies "sample;greedy;top_p=0.9+beam=2" --seeds 3 --length 60 "$@"; }

sweep --jobs 1 --csv "$TMP/a.csv" --json "$TMP/a.json" >"$TMP/table1" 2>"$TMP/err1"
st=$?
sweep --jobs 2 --csv "$TMP/b.csv" >"$TMP/table2" 2>/dev/null
if [ $st = 0 ] && cmp -s "$TMP/a.csv" "$TMP/b.csv" && cmp -s "$TMP/table1" "$TMP/table2"; then
    pass "sweep-same-seeds-same-numbers-any-jobs"
else
    fail "sweep-same-seeds-same-numbers-any-jobs" "exit $st; $(head -c 300 "$TMP/err1")"
fi
sweep --jobs 2 --seed 5 --csv "$TMP/c.csv" >/dev/null 2>&1
if ! cmp -s "$TMP/a.csv" "$TMP/c.csv"; then pass "sweep-other-seeds-other-numbers"
else fail "sweep-other-seeds-other-numbers" "identical CSV for --seed 1 and --seed 5"; fi

for s in sample greedy "top_p=0.9+beam=2"; do
    if ! grep -q "^$s " "$TMP/table1"; then fail "sweep-table-rows" "no row for $s"; fi
done
grep -q "^top_p=0.9+beam=2 *1.50" "$TMP/table1" && pass "sweep-table-rows"
grep -q "entropy_bits" "$TMP/table1" && grep -q "temperature" "$TMP/table1" \
    && pass "sweep-terminal-charts" || fail "sweep-terminal-charts" "no chart in the output"

$PY - "$TMP/a.csv" "$TMP/a.json" <<'PYEOF'
import csv, json, math, sys
keys = ["entropy_bits", "self_perplexity", "distinct1_words", "distinct2_words",
        "distinct3_words", "distinct1_chars", "distinct2_chars", "distinct3_chars",
        "repetition", "novelty", "word_validity"]
rows = list(csv.DictReader(open(sys.argv[1])))
head = list(rows[0].keys())
ok = head == ["strategy", "temperature", "seed"] + keys
print(("PASS" if ok else "FAIL") + " sweep-csv-columns" + ("" if ok else f": {head}"))
cells = [r for r in rows if r["seed"] not in ("mean", "sd")]
summ = [r for r in rows if r["seed"] in ("mean", "sd")]
ok = len(cells) == 3 * 2 * 3 and len(summ) == 2 * 3 * 2 and \
    sorted({r["seed"] for r in cells}) == ["1", "2", "3"]
print(("PASS" if ok else "FAIL") + " sweep-csv-rows" + ("" if ok else f": {len(cells)} {len(summ)}"))
# the summary mean is the mean of the cells
for r in summ:
    if r["seed"] != "mean":
        continue
    vals = [float(c["entropy_bits"]) for c in cells
            if c["strategy"] == r["strategy"] and c["temperature"] == r["temperature"]]
    if abs(sum(vals) / len(vals) - float(r["entropy_bits"])) > 1e-6:
        print("FAIL sweep-csv-summary-is-mean: " + str(r)); break
else:
    print("PASS sweep-csv-summary-is-mean")
greedy = [c for c in cells if c["strategy"] == "greedy"]
ok = len({c["distinct2_chars"] for c in greedy if c["temperature"] == "0.5"}) == 1 and \
    all(float(c["entropy_bits"]) == 0 for c in greedy)
print(("PASS" if ok else "FAIL") + " sweep-greedy-is-deterministic-and-certain")
j = json.load(open(sys.argv[2]))
ok = set(j) == {"prompt", "length", "seeds", "first_seed", "cells", "summary"} and \
    len(j["cells"]) == 18 and set(j["cells"][0]) == {"strategy", "temperature", "seed", "metrics"} \
    and set(j["cells"][0]["metrics"]) == set(keys) and j["cells"][0]["metrics"]["novelty"] is None \
    and set(j["summary"][0]) == {"strategy", "temperature", "seeds", "mean", "sd"}
print(("PASS" if ok else "FAIL") + " sweep-json-schema")
PYEOF

"$TEMPEST" sweep --model "$MODEL" --temperatures 0.8 --seeds 2 --length 40 \
    --reference "$ROOT/README.md" --csv "$TMP/r.csv" >/dev/null 2>&1
if $PY -c "import csv,sys; r=list(csv.DictReader(open('$TMP/r.csv'))); \
    sys.exit(0 if all(0 <= float(x['novelty']) <= 1 and 0 <= float(x['word_validity']) <= 1 for x in r) else 1)"; then
    pass "sweep-reference-metrics"
else
    fail "sweep-reference-metrics" "novelty/word_validity missing or out of [0,1]"
fi

sweep --plot "$TMP/p.svg" >/dev/null 2>&1 && head -c 200 "$TMP/p.svg" | grep -q "<svg" \
    && pass "sweep-plot-svg" || fail "sweep-plot-svg" "no SVG written"
sweep --plot "$TMP/p.png" >/dev/null 2>&1 && head -c 4 "$TMP/p.png" | grep -q "PNG" \
    && pass "sweep-plot-png" || fail "sweep-plot-png" "no PNG written"
sweep --progress --length 20 >/dev/null 2>"$TMP/prog"
grep -q "ETA" "$TMP/prog" && grep -q "18/18 cells" "$TMP/prog" \
    && pass "sweep-progress-bar" || fail "sweep-progress-bar" "$(head -c 200 "$TMP/prog")"

expect_error "sweep-bad-temperature" 2 "'0.5,abc' is not a list of temperatures" -- \
    "$TEMPEST" sweep --model "$MODEL" --temperatures 0.5,abc
expect_error "sweep-bad-strategy" 2 "beam=0" -- \
    "$TEMPEST" sweep --model "$MODEL" --strategies "sample;beam=0"
expect_error "sweep-bad-seeds" 2 "--seeds 0 is out of range" -- \
    "$TEMPEST" sweep --model "$MODEL" --seeds 0
expect_error "sweep-bad-plot-name" 2 "must end in .svg or .png" -- \
    "$TEMPEST" sweep --model "$MODEL" --seeds 1 --length 5 --temperatures 1 --plot "$TMP/x.gif"

a=$("$TEMPEST" generate --model "$MODEL" --beam 3 --length 80 --prompt "ROMEO:")
b=$("$TEMPEST" generate --model "$MODEL" --beam 3 --length 80 --prompt "ROMEO:" --seed 9)
g=$("$TEMPEST" generate --model "$MODEL" --temperature 0 --length 80 --prompt "ROMEO:")
if [ -n "$a" ] && [ "$a" = "$b" ] && [ "$a" != "$g" ]; then
    pass "generate-beam-deterministic-and-not-greedy"
else
    fail "generate-beam-deterministic-and-not-greedy" "beam: $a / greedy: $g"
fi
expect_error "generate-beam-out-of-range" 2 "--beam 0 is out of range" -- \
    "$TEMPEST" generate --model "$MODEL" --beam 0
