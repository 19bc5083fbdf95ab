#!/bin/sh
# batch.sh - `generate --batch` (N seeds computed together, each identical to
# its --seed run), `--weights` (reduced-precision weights) and TEMPEST_KERNEL.
. "$(dirname "$0")/../lib.sh"

RANDOM_MODEL="$TMP/onehot.safetensors"
$PY "$ROOT/tests/tools/make_model.py" --out "$RANDOM_MODEL" --one-hot --hidden 21 --layers 2 \
    --seed 4 >/dev/null 2>&1 || fail "batch-make-model" "make_model.py failed"

# batch_equals_seeds NAME MODEL EXTRA...: --batch 3 --seed 5 must be the
# --seed 5, 6 and 7 outputs joined by the separator lines.
batch_equals_seeds() {
    name=$1 model=$2
    shift 2
    gen() { "$TEMPEST" generate --model "$model" --length 120 --prompt "ROMEO:" "$@"; }
    gen --batch 3 --seed 5 "$@" >"$TMP/batch" 2>"$TMP/err"
    st=$?
    { gen --seed 5 "$@"; echo "--- seed 6 ---"; gen --seed 6 "$@"; echo "--- seed 7 ---"
      gen --seed 7 "$@"; } >"$TMP/single" 2>/dev/null
    if [ $st = 0 ] && cmp -s "$TMP/batch" "$TMP/single" && [ -s "$TMP/batch" ]; then
        pass "$name"
    else
        fail "$name" "exit $st; $(head -c 200 "$TMP/err"); diff: $(diff "$TMP/batch" "$TMP/single" | head -5)"
    fi
}

if [ -f "$MODEL" ]; then
    batch_equals_seeds "batch-equals-separate-seeds" "$MODEL"
    batch_equals_seeds "batch-equals-separate-seeds-truncated" "$MODEL" --top-p 0.9 \
        --repeat-penalty 1.3 --temperature 1.1
    batch_equals_seeds "batch-equals-separate-seeds-bf16" "$MODEL" --weights bf16
    export TEMPEST_KERNEL=portable
    batch_equals_seeds "batch-equals-separate-seeds-portable" "$MODEL"
    unset TEMPEST_KERNEL
else
    skip "batch-equals-separate-seeds" "the bundled model $MODEL is missing"
fi
[ -f "$RANDOM_MODEL" ] && batch_equals_seeds "batch-equals-separate-seeds-one-hot" \
    "$RANDOM_MODEL" --weights int8
# GRU and vanilla RNN layers batch the same way (one-hot GRU: w_ih_t path).
for cell in gru rnn_relu; do
    $PY "$ROOT/tests/tools/make_model.py" --out "$TMP/$cell.safetensors" --cell "$cell" \
        --hidden 19 --layers 2 --seed 6 $([ "$cell" = gru ] && echo --one-hot) >/dev/null 2>&1
    batch_equals_seeds "batch-equals-separate-seeds-$cell" "$TMP/$cell.safetensors" --weights f16
done

# A batch of 14 is split between the cores by sequence (the samples drawn on
# the helper's core): the first and the last are what --seed alone gives.
if [ -f "$MODEL" ]; then
    "$TEMPEST" generate --model "$MODEL" --batch 14 --seed 20 --length 200 --top-k 20 \
        >"$TMP/fourteen" 2>"$TMP/err"
    st=$?
    one() { "$TEMPEST" generate --model "$MODEL" --seed "$1" --length 200 --top-k 20; }
    first=$(sed '/^--- seed 21 ---$/,$d' "$TMP/fourteen")
    last=$(sed '1,/^--- seed 33 ---$/d' "$TMP/fourteen")
    if [ $st = 0 ] && [ -n "$last" ] && [ "$first" = "$(one 20)" ] && [ "$last" = "$(one 33)" ]
    then
        pass "batch-split-between-cores-equals-seeds"
    else
        fail "batch-split-between-cores-equals-seeds" "exit $st; $(head -c 200 "$TMP/err")"
    fi
fi

# Samples differ from one another (the seeds really are S, S+1, ...).
"$TEMPEST" generate --model "$RANDOM_MODEL" --batch 2 --length 60 >"$TMP/two" 2>/dev/null
if [ "$(grep -c '^--- seed 2 ---$' "$TMP/two")" = 1 ] &&
    [ "$(sed -n '1,/^--- seed/p' "$TMP/two" | head -n -1)" != "$(sed -n '/^--- seed/,$p' "$TMP/two" | tail -n +2)" ]; then
    pass "batch-samples-differ"
else
    fail "batch-samples-differ" "$(head -c 300 "$TMP/two")"
fi

# Perplexity with reduced-precision weights stays within a few % of f32.
if [ -f "$MODEL" ] && [ -f "$CORPUS" ]; then
    tail -c 20000 "$CORPUS" >"$TMP/held.txt"
    ppl() { "$TEMPEST" eval --model "$MODEL" --text "$TMP/held.txt" "$@" 2>/dev/null |
        awk '$1 == "perplexity" { print $2 }'; }
    f32=$(ppl)
    for w in f16 bf16 int8; do
        got=$(ppl --weights "$w")
        if [ -n "$f32" ] && [ -n "$got" ] &&
            awk -v a="$f32" -v b="$got" 'BEGIN { d = (b - a) / a; exit !(d < 0.03 && d > -0.03) }'; then
            pass "weights-$w-perplexity-near-f32"
        else
            fail "weights-$w-perplexity-near-f32" "f32 '$f32', $w '$got'"
        fi
    done
else
    skip "weights-perplexity-near-f32" "the bundled model or the corpus is missing"
fi

# --weights really changes the numbers (not silently ignored).
"$TEMPEST" probs --model "$RANDOM_MODEL" --context "ab" --json >"$TMP/p32" 2>/dev/null
"$TEMPEST" probs --model "$RANDOM_MODEL" --context "ab" --json --weights int8 >"$TMP/p8" 2>/dev/null
if [ -s "$TMP/p8" ] && ! cmp -s "$TMP/p32" "$TMP/p8"; then pass "weights-int8-changes-logits"
else fail "weights-int8-changes-logits" "identical or empty output"; fi

for cmd in generate probs eval sweep; do
    expect_error "weights-bad-value-$cmd" 2 "'f8'" -- "$TEMPEST" "$cmd" --weights f8
done
expect_error "batch-zero" 2 "--batch 0" -- "$TEMPEST" generate --batch 0
expect_error "batch-too-many" 2 "--batch 257" -- "$TEMPEST" generate --batch 257
expect_error "batch-not-a-number" 2 "--batch 'x3'" -- "$TEMPEST" generate --batch x3
expect_error "batch-with-beam" 2 "--batch.*--beam" -- "$TEMPEST" generate --model \
    "$RANDOM_MODEL" --batch 2 --beam 2
expect_error "kernel-unknown" 2 "TEMPEST_KERNEL 'sse9'" -- env TEMPEST_KERNEL=sse9 \
    "$TEMPEST" generate --model "$RANDOM_MODEL" --length 5

"$TEMPEST" generate --help >"$TMP/help" 2>&1
if grep -q -- "--batch N" "$TMP/help" && grep -q -- "--- seed K ---" "$TMP/help" &&
    grep -q -- "--weights W" "$TMP/help"; then
    pass "batch-and-weights-in-help"
else
    fail "batch-and-weights-in-help" "--help lacks --batch, its separator or --weights"
fi
exit 0
