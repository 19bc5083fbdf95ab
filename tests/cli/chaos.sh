#!/bin/sh
# chaos.sh - `tempest chaos`: the table, the histogram, the T table, JSON,
# the same numbers for any --jobs, and bad values. Uses the bundled model.
. "$(dirname "$0")/../lib.sh"

if [ ! -f "$MODEL" ]; then
    skip "chaos" "the bundled model $MODEL is missing"
    exit 0
fi
chaos() { "$TEMPEST" chaos --model "$MODEL" --seeds 70 --length 120 --temperatures 0.5,1.5 "$@"; }

chaos --jobs 1 >"$TMP/t1" 2>"$TMP/e1"
st=$?
chaos --jobs 2 >"$TMP/t2" 2>/dev/null
if [ $st = 0 ] && [ -s "$TMP/t1" ] && cmp -s "$TMP/t1" "$TMP/t2"; then
    pass "chaos-same-numbers-any-jobs"
else
    fail "chaos-same-numbers-any-jobs" "exit $st; $(head -c 300 "$TMP/e1")"
fi
grep -q '^first divergence of T=0.8 and T=0.81 over 70 seeds (1 to 70), 120 steps' "$TMP/t1" \
    && pass "chaos-heading" || fail "chaos-heading" "$(head -1 "$TMP/t1")"
# the stats row: six numbers, min <= q1 <= median <= q3 <= max
awk '/^ +min +q1 +median +mean +q3 +max$/ { getline; ok = NF == 6 && $1 <= $2 && $2 <= $3 && $3 <= $5 && $5 <= $6; found = 1 }
     END { exit !(found && ok) }' "$TMP/t1" && pass "chaos-stats-table" \
    || fail "chaos-stats-table" "$(grep -A1 median "$TMP/t1" | head -2)"
# the histogram's counts plus the censored seeds make all the seeds
cens=$(sed -n 's/^split: [0-9]*, censored (never split): \([0-9]*\).*/\1/p' "$TMP/t1")
hist=$(awk '/^seeds by step/ { on = 1; next } on && /\|/ { s += $NF } on && /^$/ { on = 0 } END { print s }' "$TMP/t1")
if [ -n "$cens" ] && [ -n "$hist" ] && [ $((cens + hist)) = 70 ]; then pass "chaos-histogram-counts"
else fail "chaos-histogram-counts" "histogram $hist + censored $cens != 70"; fi
grep -Eq '^  0\.50 ' "$TMP/t1" && grep -Eq '^  1\.50 ' "$TMP/t1" && pass "chaos-temperature-table" \
    || fail "chaos-temperature-table" "$(tail -3 "$TMP/t1")"
chaos --jobs 2 --seed 9 >"$TMP/t3" 2>/dev/null
cmp -s "$TMP/t1" "$TMP/t3" && fail "chaos-other-seeds-other-numbers" "same output for --seed 1 and 9" \
    || pass "chaos-other-seeds-other-numbers"

chaos --json >"$TMP/j" 2>"$TMP/ej"
$PY - "$TMP/j" "$TMP/t1" <<'PYEOF'
import json, sys
try:
    j = json.load(open(sys.argv[1]))
except Exception as e:
    print("FAIL chaos-json-valid: %s" % e); sys.exit(0)
print("PASS chaos-json-valid")
keys = {"temperature", "epsilon", "seeds", "seed", "length", "prompt", "split", "censored",
        "min", "q1", "median", "mean", "q3", "max", "steps", "histogram", "by_temperature"}
missing = keys - set(j)
print(("FAIL chaos-json-keys: missing %s" % sorted(missing)) if missing else "PASS chaos-json-keys")
steps = j["steps"]
split = [s for s in steps if s is not None]
ok = len(steps) == 70 and j["split"] == len(split) and j["censored"] == 70 - len(split) \
    and all(0 <= s < 120 for s in split) and sum(j["histogram"]["counts"]) == len(split)
vals = sorted([s if s is not None else 120 for s in steps])
ok = ok and vals[0] == j["min"] and vals[-1] == j["max"] \
    and abs(sum(vals) / 70 - j["mean"]) < 1e-9 and abs((vals[34] + vals[35]) / 2 - j["median"]) < 1e-9
print("PASS chaos-json-consistent" if ok else "FAIL chaos-json-consistent: %s" % j)
temps = [r["temperature"] for r in j["by_temperature"]]
print("PASS chaos-json-by-temperature" if temps == [0.5, 1.5] else "FAIL chaos-json-by-temperature: %s" % temps)
# the text table shows the same median
text = open(sys.argv[2]).read().split("\n")
row = text[text.index([l for l in text if l.split()[:3] == ["min", "q1", "median"]][0]) + 1].split()
print("PASS chaos-json-matches-table" if abs(float(row[2]) - j["median"]) < 0.006
      else "FAIL chaos-json-matches-table: %s vs %s" % (row, j["median"]))
PYEOF

# A higher epsilon parts sooner (on average over the same seeds).
m1=$("$TEMPEST" chaos --model "$MODEL" --seeds 64 --length 120 --temperatures 1 --json --epsilon 0.005 | $PY -c 'import json,sys; print(json.load(sys.stdin)["mean"])')
m2=$("$TEMPEST" chaos --model "$MODEL" --seeds 64 --length 120 --temperatures 1 --json --epsilon 0.5 | $PY -c 'import json,sys; print(json.load(sys.stdin)["mean"])')
if [ -n "$m1" ] && [ -n "$m2" ] && $PY -c "import sys; sys.exit(not $m2 < $m1)"; then
    pass "chaos-bigger-epsilon-parts-sooner"
else
    fail "chaos-bigger-epsilon-parts-sooner" "mean step eps 0.005: $m1, eps 0.5: $m2"
fi

expect_error "chaos-bad-epsilon" 2 "epsilon" -- "$TEMPEST" chaos --model "$MODEL" --epsilon 0
expect_error "chaos-bad-epsilon-range" 2 "--epsilon 3 is out of range" -- "$TEMPEST" chaos --model "$MODEL" --epsilon 3
expect_error "chaos-bad-seeds" 2 "--seeds" -- "$TEMPEST" chaos --model "$MODEL" --seeds 0
expect_error "chaos-bad-length" 2 "--length" -- "$TEMPEST" chaos --model "$MODEL" --length x
expect_error "chaos-bad-temperatures" 2 "--temperatures" -- "$TEMPEST" chaos --model "$MODEL" --temperatures 0.8,0.5
expect_error "chaos-top-of-range" 2 "above 100" -- "$TEMPEST" chaos --model "$MODEL" --temperatures 100
expect_error "chaos-bad-model" 1 "nonexistent" -- "$TEMPEST" chaos --model "$TMP/nonexistent.safetensors" --seeds 1
expect_error "chaos-stray-argument" 2 "unexpected argument" -- "$TEMPEST" chaos --model "$MODEL" extra
"$TEMPEST" chaos --help | grep -q -- "--epsilon" && pass "chaos-help" || fail "chaos-help" "no --epsilon in --help"
"$TEMPEST" --help | grep -q "chaos" && pass "chaos-in-usage" || fail "chaos-in-usage" "not in tempest --help"

# The playground's lane flags are checked before the terminal is needed.
expect_error "lanes-flag-bad" 2 "^tempest: --lanes: lane 2 '9': the temperature 9 is out of range \(0 to 5\)$" -- "$TEMPEST" --model "$MODEL" --lanes 0.2,9
expect_error "lanes-flag-one-lane" 2 "^tempest: --lanes: give 2 to 4 lanes" -- "$TEMPEST" --model "$MODEL" --lanes 0.2
expect_error "butterfly-flag-bad" 2 "^tempest: --butterfly: epsilon 2 must be above 0 and at most 1$" -- "$TEMPEST" --model "$MODEL" --butterfly 0.8 2
"$TEMPEST" --help | grep -q -- "--butterfly T \[EPS\]" && pass "lanes-in-help" || fail "lanes-in-help" "no --butterfly in tempest --help"
