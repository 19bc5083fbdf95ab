#!/bin/sh
# bad_input.sh - the bad-input catalogue (issue 2, section 7): every case is
# one line on stderr naming the problem (and the value, tensor or path) and a
# non-zero exit: 2 for usage errors, 1 for runtime and file errors. Never a
# crash or a sanitizer report.
. "$(dirname "$0")/../lib.sh"

MAKE_MODEL="$ROOT/tests/tools/make_model.py"
M="$TMP/tiny.safetensors"
if ! $PY "$MAKE_MODEL" --out "$M" --seed 5 --layers 2 >"$TMP/mk.log" 2>&1; then
    fail "make-tiny-model" "$(cat "$TMP/mk.log")"
    exit 0
fi
touch "$TMP/all_stderr"

# bad NAME EXIT PATTERN -- CMD...: expect_error, and keep stderr for the
# crash check at the end.
bad() {
    expect_error "$@"
    cat "$TMP/err" >>"$TMP/all_stderr"
}

# ---- model files ----------------------------------------------------------
bad missing-file 1 "cannot open model '$TMP/nope.safetensors'.*No such file" -- \
    "$TEMPEST" generate --model "$TMP/nope.safetensors" --length 5
bad model-is-a-directory 1 "'$TMP'.*not a regular file" -- \
    "$TEMPEST" generate --model "$TMP" --length 5

# kind exit pattern: the message must name the problem and the tensor.
# (expect_error sets $name, $want and $pattern: the loop uses other names.)
while IFS='|' read -r kind bpat; do
    [ -n "$kind" ] || continue
    f="$TMP/broken-$kind.safetensors"
    if ! $PY "$MAKE_MODEL" --out "$f" --broken "$kind" --seed 5 >"$TMP/mk.log" 2>&1 </dev/null; then
        fail "make-broken-$kind" "$(cat "$TMP/mk.log")"
        continue
    fi
    bad "generate-$kind" 1 "^tempest generate: $f: .*$bpat" -- \
        "$TEMPEST" generate --model "$f" --length 5
    bad "probs-$kind" 1 "^tempest probs: $f: .*$bpat" -- \
        "$TEMPEST" probs --model "$f" --context "a"
    bad "inspect-$kind" 1 "^tempest inspect: $f: .*$bpat" -- "$TEMPEST" inspect "$f"
    printf 'abc\n' >"$TMP/text.txt"
    bad "eval-$kind" 1 "^tempest eval: $f: .*$bpat" -- \
        "$TEMPEST" eval --model "$f" --text "$TMP/text.txt"
done <<'EOF'
text|not a safetensors file.*header length [0-9]+ runs past the end
empty|not a safetensors file: 0 bytes, too short
truncated|tensor 'head.bias': data_offsets \[[0-9]+, [0-9]+\] lie outside the [0-9]+ bytes of data
truncated-header|header length [0-9]+ runs past the end of the file \(60 bytes\)
header-past-end|header length [0-9]+ runs past the end of the file
header-not-json|header is not valid JSON
offsets-outside|tensor 'head.bias': data_offsets .* outside
overlap|tensors 'lstm.bias_ih_l0' and 'lstm.bias_hh_l0' overlap
shape-bytes|tensor 'head.bias': [0-9]+ bytes of data for a shape needing
dtype-i64|tensor 'lstm.weight_ih_l0' has dtype I64
dtype-unknown|tensor 'head.bias': unknown dtype 'Q4_K'
bad-shapes|tensor 'lstm.weight_hh_l0' has shape \[64, 17\], expected \[64, 16\]
no-head|no output layer: expected 'head.weight'
extra-tensor|tensor 'fc.weight' is not part of
bidirectional|tensor 'lstm.weight_ih_l0_reverse': a bidirectional LSTM
no-vocab|no vocabulary
no-metadata|no vocabulary
vocab-not-json|vocab is not a JSON list
vocab-not-list|vocab is not a JSON list
vocab-multichar|vocab entry 0 has 2 characters
vocab-size|the vocabulary has 60 tokens but the head has 61 rows
nan|tensor 'lstm.weight_hh_l0' holds a NaN value at index 3
inf|tensor 'head.weight' holds an infinite value at index 5
EOF

# ---- prompts and texts ----------------------------------------------------
# printf turns the octal escapes into the UTF-8 bytes of U+00E9.
prompt=$(printf 'ab~cd\303\251')
bad prompt-unknown-chars 2 "2 character.*not in the model's vocabulary: '~' \(U\+007E\), '$(printf '\303\251')' \(U\+00E9\)" -- \
    "$TEMPEST" generate --model "$M" --prompt "$prompt" --length 5
bad prompt-invalid-utf8 2 "not valid UTF-8 at byte 2" -- \
    "$TEMPEST" generate --model "$M" --prompt "$(printf 'ab\377')" --length 5
bad probs-context-unknown 2 "'#' \(U\+0023\)" -- \
    "$TEMPEST" probs --model "$M" --context "a#b"
printf 'hello #world\n' >"$TMP/unknown.txt"
bad eval-text-unknown 2 "'#' \(U\+0023\)" -- "$TEMPEST" eval --model "$M" --text "$TMP/unknown.txt"
printf 'a' >"$TMP/one.txt"
bad eval-text-one-char 2 "1 token.*at least 2" -- "$TEMPEST" eval --model "$M" --text "$TMP/one.txt"
bad eval-text-missing 1 "cannot open '$TMP/nope.txt'" -- \
    "$TEMPEST" eval --model "$M" --text "$TMP/nope.txt"
bad eval-no-text 2 "--text FILE is required" -- "$TEMPEST" eval --model "$M"

# ---- flag values ----------------------------------------------------------
bad temperature-nan 2 "--temperature 'nan' is not a finite number" -- \
    "$TEMPEST" generate --model "$M" --temperature nan
bad temperature-negative 2 "--temperature -1 is out of range" -- \
    "$TEMPEST" generate --model "$M" --temperature -1
bad temperature-abc 2 "--temperature 'abc' is not a finite number" -- \
    "$TEMPEST" generate --model "$M" --temperature abc
bad temperature-inf 2 "--temperature 'inf'" -- "$TEMPEST" generate --model "$M" --temperature inf
bad temperature-too-hot 2 "--temperature 101 is out of range" -- \
    "$TEMPEST" generate --model "$M" --temperature 101
bad temperature-trailing 2 "--temperature '0.8x'" -- \
    "$TEMPEST" generate --model "$M" --temperature 0.8x
bad temperature-empty 2 "--temperature ''" -- "$TEMPEST" generate --model "$M" --temperature ""
bad top-k-negative 2 "--top-k -3 is out of range" -- "$TEMPEST" generate --model "$M" --top-k -3
bad top-k-fraction 2 "--top-k '2.5' is not a whole number" -- \
    "$TEMPEST" generate --model "$M" --top-k 2.5
bad top-p-too-big 2 "--top-p 1.5 is out of range" -- "$TEMPEST" generate --model "$M" --top-p 1.5
bad min-p-too-big 2 "--min-p 2 is out of range" -- "$TEMPEST" generate --model "$M" --min-p 2
bad min-p-negative 2 "--min-p -0.1 is out of range" -- "$TEMPEST" probs --model "$M" --context a --min-p -0.1
bad length-negative 2 "--length -1 is out of range" -- "$TEMPEST" generate --model "$M" --length -1
bad length-word 2 "--length 'ten' is not a whole number" -- \
    "$TEMPEST" generate --model "$M" --length ten
bad seed-negative 2 "--seed '-5' is not a whole number" -- "$TEMPEST" generate --model "$M" --seed -5
bad seed-too-big 2 "--seed '18446744073709551616'" -- \
    "$TEMPEST" generate --model "$M" --seed 18446744073709551616
bad repeat-penalty-zero 2 "--repeat-penalty 0 is out of range" -- \
    "$TEMPEST" generate --model "$M" --repeat-penalty 0
bad repeat-last-n-negative 2 "--repeat-last-n -2 is out of range" -- \
    "$TEMPEST" generate --model "$M" --repeat-last-n -2
bad order-unknown-stage 2 "order.*unknown stage 'top_q'" -- \
    "$TEMPEST" generate --model "$M" --order temperature,top_k,top_q,min_p
bad order-duplicate 2 "order.*'top_k' appears twice" -- \
    "$TEMPEST" generate --model "$M" --order temperature,top_k,top_k,top_p,min_p
bad order-missing 2 "order.*missing min_p" -- \
    "$TEMPEST" generate --model "$M" --order temperature,top_k,top_p
bad top-zero 2 "--top 0 is out of range" -- "$TEMPEST" probs --model "$M" --context a --top 0
bad missing-value 2 "missing value.*--temperature" -- "$TEMPEST" generate --model "$M" --temperature

# ---- logits files ---------------------------------------------------------
: >"$TMP/empty.logits"
bad logits-empty-file 1 "$TMP/empty.logits: no numbers in the logits file" -- \
    "$TEMPEST" probs --logits "$TMP/empty.logits"
printf '  \n\t \n' >"$TMP/blank.logits"
bad logits-blank-file 1 "no numbers in the logits file" -- "$TEMPEST" probs --logits "$TMP/blank.logits"
printf '1.5 2 abc 3\n' >"$TMP/word.logits"
bad logits-not-a-number 1 "logit 2 \('abc" -- "$TEMPEST" probs --logits "$TMP/word.logits"
printf '1 2 nan\n' >"$TMP/nan.logits"
bad logits-nan 1 "logit 2 \('nan" -- "$TEMPEST" probs --logits "$TMP/nan.logits"
printf '[1, "x", 3]\n' >"$TMP/json.logits"
bad logits-json-string 1 "logit 1 is not a finite number" -- "$TEMPEST" probs --logits "$TMP/json.logits"
printf '[1, 2\n' >"$TMP/cut.logits"
bad logits-json-broken 1 "not a JSON array" -- "$TEMPEST" probs --logits "$TMP/cut.logits"
printf '1 2 1e999\n' >"$TMP/huge.logits"
bad logits-overflow 1 "logit 2" -- "$TEMPEST" probs --logits "$TMP/huge.logits"
bad logits-missing-file 1 "cannot open '$TMP/nope.logits'" -- "$TEMPEST" probs --logits "$TMP/nope.logits"
printf '1 2 3\n' >"$TMP/three.logits"
bad logits-size-differs-from-model 2 "3 logits but the model's vocabulary has 61 tokens" -- \
    "$TEMPEST" probs --model "$M" --logits "$TMP/three.logits"
bad logits-bad-temperature 2 "--temperature -1" -- \
    "$TEMPEST" probs --logits "$TMP/three.logits" --temperature -1

# ---- commands and options -------------------------------------------------
bad probs-both 2 "exactly one of --context TEXT and --logits FILE" -- \
    "$TEMPEST" probs --model "$M" --context a --logits "$TMP/three.logits"
bad probs-neither 2 "exactly one of --context TEXT and --logits FILE" -- \
    "$TEMPEST" probs --model "$M"
bad unknown-option 2 "unknown option.*'--bogus'" -- "$TEMPEST" generate --model "$M" --bogus
bad unknown-option-probs 2 "^tempest probs: unknown option.*'--frob'" -- "$TEMPEST" probs --frob
bad unknown-option-eval 2 "^tempest eval: unknown option.*'--frob'" -- "$TEMPEST" eval --frob
bad unknown-option-inspect 2 "^tempest inspect: unknown option.*'--frob'" -- "$TEMPEST" inspect --frob
bad unknown-short-option 2 "unknown option.*'-x'" -- "$TEMPEST" generate -x
bad unexpected-argument 2 "unexpected argument 'extra'" -- "$TEMPEST" generate --model "$M" extra
bad unknown-command 2 "unknown command 'frobnicate'" -- "$TEMPEST" frobnicate

# ---- no crash anywhere ----------------------------------------------------
if grep -E "Segmentation|AddressSanitizer|runtime error|LeakSanitizer|Aborted|core dumped" \
    "$TMP/all_stderr" >"$TMP/crashes"; then
    fail "no-crash-reports" "$(head -5 "$TMP/crashes")"
else
    pass "no-crash-reports"
fi
