#!/bin/sh
# commands.sh - end-to-end behaviour of generate, probs, eval and inspect on a
# tiny generated model (tests/tools/make_model.py), so it runs without the
# bundled model; plus the bundled model's promises when it is present.
. "$(dirname "$0")/../lib.sh"

MAKE_MODEL="$ROOT/tests/tools/make_model.py"
M="$TMP/tiny.safetensors"
M1="$TMP/onehot.safetensors"
MH="$TMP/half.safetensors"
if ! $PY "$MAKE_MODEL" --out "$M" --seed 7 --layers 2 --hidden 24 --embed 12 >"$TMP/mk.log" 2>&1 ||
    ! $PY "$MAKE_MODEL" --out "$M1" --seed 8 --one-hot --hidden 8 --vocab 'ab c\n' >>"$TMP/mk.log" 2>&1 ||
    ! $PY "$MAKE_MODEL" --out "$MH" --seed 9 --dtype F16 >>"$TMP/mk.log" 2>&1; then
    fail "make-tiny-models" "$(cat "$TMP/mk.log")"
    exit 0
fi

# pycheck NAME FILE PYTHON: run PYTHON with the JSON in FILE as `d` (and the
# raw text as `raw`); it must not raise. Prints PASS/FAIL.
pycheck() {
    name=$1 file=$2 code=$3
    if out=$($PY - "$file" 2>&1 <<EOF
import json, math, re, sys
raw = open(sys.argv[1], encoding="utf-8").read()
try:
    d = json.loads(raw)
except ValueError:
    d = None
$code
EOF
    ); then
        pass "$name"
    else
        fail "$name" "$(echo "$out" | tail -3 | tr '\n' ' ')"
    fi
}

# ---- generate -------------------------------------------------------------
"$TEMPEST" generate --model "$M" --seed 1 --length 200 --prompt "the " >"$TMP/g1" 2>"$TMP/e1"
st1=$?
"$TEMPEST" generate --model "$M" --seed 1 --length 200 --prompt "the " >"$TMP/g2" 2>&1
"$TEMPEST" generate --model "$M" --seed 2 --length 200 --prompt "the " >"$TMP/g3" 2>&1
if [ $st1 = 0 ] && [ ! -s "$TMP/e1" ] && cmp -s "$TMP/g1" "$TMP/g2"; then
    pass "generate-same-seed-identical"
else
    fail "generate-same-seed-identical" "exit $st1, $(head -c 200 "$TMP/e1")"
fi
if ! cmp -s "$TMP/g1" "$TMP/g3"; then pass "generate-other-seed-differs"
else fail "generate-other-seed-differs" "seeds 1 and 2 gave the same text"; fi
pycheck "generate-prints-prompt-then-length-tokens" "$TMP/g1" '
assert raw.startswith("the "), raw[:20]
body = raw[4:]
# 200 characters, plus a final newline when the text does not end with one.
assert len(body) in (200, 201), len(body)
if len(body) == 201: assert body.endswith("\n") and body[199] != "\n"
'
out=$("$TEMPEST" generate --model "$M" --length 0 --prompt "to be" | od -c | head -2)
want=$(printf 'to be\n' | od -c | head -2)
if [ "$out" = "$want" ]; then pass "generate-length-0-prints-prompt"
else fail "generate-length-0-prints-prompt" "$out"; fi
out=$(printf 'x' | "$TEMPEST" generate --model "$M" --length 0 --prompt "$(printf 'a\nb\n')" | od -c | head -2)
want=$(printf 'a\nb\n' | od -c | head -2)
if [ "$out" = "$want" ]; then pass "generate-length-0-prompt-ending-in-newline"
else fail "generate-length-0-prompt-ending-in-newline" "$out"; fi
"$TEMPEST" generate --model "$M" --length 50 >"$TMP/g4" 2>&1 && [ "$(wc -c <"$TMP/g4")" -ge 50 ]
check "generate-empty-prompt" test $? = 0
# T = 0 is greedy: the seed does not matter.
"$TEMPEST" generate --model "$M" --temperature 0 --seed 1 --length 80 --prompt "a" >"$TMP/z1"
"$TEMPEST" generate --model "$M" --temperature 0 --seed 99 --length 80 --prompt "a" >"$TMP/z2"
check "generate-greedy-ignores-seed" cmp -s "$TMP/z1" "$TMP/z2"
# Sampler flags reach the sampler: top-k 1 is greedy too.
"$TEMPEST" generate --model "$M" --top-k 1 --seed 5 --length 80 --prompt "a" >"$TMP/z3"
check "generate-top-k-1-is-greedy" cmp -s "$TMP/z1" "$TMP/z3"
"$TEMPEST" generate --model "$M" --seed 1 --length 200 --prompt "the " --temperature 0.8 \
    --top-k 0 --top-p 1 --min-p 0 --order temperature,top_k,top_p,min_p >"$TMP/g5"
check "generate-defaults-are-the-documented-ones" cmp -s "$TMP/g1" "$TMP/g5"
"$TEMPEST" generate --model "$M" --seed 1 --length 200 --prompt "the " --repeat-penalty 1.5 >"$TMP/g6"
if ! cmp -s "$TMP/g1" "$TMP/g6"; then pass "generate-repeat-penalty-matters"
else fail "generate-repeat-penalty-matters" "same text with --repeat-penalty 1.5"; fi
"$TEMPEST" generate --model "$M1" --seed 3 --length 40 --prompt "ab" >"$TMP/g7" 2>&1
check "generate-one-hot-model" test $? = 0
"$TEMPEST" generate --model "$MH" --seed 3 --length 40 >"$TMP/g8" 2>&1
check "generate-f16-model" test $? = 0

# ---- --help and --version -------------------------------------------------
# Every flag in a command's getopt table (its own and, when it includes
# TP_COMMON_LONG_OPTIONS, the common ones) must appear in its --help.
common=$(sed -n '/define TP_COMMON_LONG_OPTIONS/,/^$/p' "$ROOT/include/tempest/cli.h" |
    sed -n 's/.*{"\([a-z-]*\)".*/\1/p')
for cmd in generate probs eval inspect sweep replay export; do
    src="$ROOT/src/cli/$cmd.c"
    [ -f "$src" ] || continue
    help=$("$TEMPEST" "$cmd" --help 2>&1)
    st=$?
    if [ $st != 0 ] || [ -z "$help" ]; then
        fail "help-$cmd" "exit $st"
        continue
    fi
    flags=$(sed -n 's/^ *{"\([a-z-]*\)", *\(required\|no\|optional\)_argument.*/\1/p' "$src")
    grep -q TP_COMMON_LONG_OPTIONS "$src" && flags="$flags $common"
    missing=""
    for f in $flags; do
        echo "$help" | grep -q -- "--$f\b" || missing="$missing --$f"
    done
    if [ -z "$missing" ]; then pass "help-$cmd-mentions-every-flag"
    else fail "help-$cmd-mentions-every-flag" "not in --help:$missing"; fi
    v=$("$TEMPEST" "$cmd" --version 2>&1)
    if [ $? = 0 ] && echo "$v" | grep -Eq '^tempest [0-9]+\.[0-9]+\.[0-9]+$'; then
        pass "version-$cmd"
    else
        fail "version-$cmd" "$v"
    fi
done
v=$("$TEMPEST" --version 2>&1)
if [ $? = 0 ] && echo "$v" | grep -Eq '^tempest [0-9]+\.[0-9]+\.[0-9]+$'; then pass "version"
else fail "version" "$v"; fi
h=$("$TEMPEST" --help 2>&1)
if [ $? = 0 ] && echo "$h" | grep -q generate && echo "$h" | grep -q probs &&
    echo "$h" | grep -q eval && echo "$h" | grep -q inspect && echo "$h" | grep -q replay &&
    echo "$h" | grep -q export; then pass "help-lists-commands"
else fail "help-lists-commands" "$(echo "$h" | head -3)"; fi

# ---- probs --json ---------------------------------------------------------
"$TEMPEST" probs --model "$M" --context "the ca" --json --temperature 0.7 --top-k 20 \
    --top-p 0.9 >"$TMP/p1.json" 2>"$TMP/p1.err"
check "probs-json-exit-0" test $? = 0 -a ! -s "$TMP/p1.err"
PROBS_CHECK='
assert raw.endswith("\n") and raw.count("\n") == 1, "one line"
assert list(d) == ["vocab_size", "order", "entropy_bits", "tokens"], list(d)
V = d["vocab_size"]
assert len(d["tokens"]) == V, (len(d["tokens"]), V)
assert d["order"] == ["temperature", "top_k", "top_p", "min_p"], d["order"]
keys = ["id", "text", "logit", "p_base", "p", "kept"]
for t in d["tokens"]:
    assert list(t) == keys, list(t)
    assert isinstance(t["kept"], bool) and isinstance(t["id"], int)
assert sorted(t["id"] for t in d["tokens"]) == list(range(V))
pb = [t["p_base"] for t in d["tokens"]]
assert all(a >= b for a, b in zip(pb, pb[1:])), "not sorted by p_base"
kept = [t for t in d["tokens"] if t["kept"]]
assert 1 <= len(kept) <= 20, len(kept)
assert abs(sum(t["p"] for t in kept) - 1) < 1e-9, sum(t["p"] for t in kept)
assert all(t["p"] == 0 for t in d["tokens"] if not t["kept"])
assert abs(sum(pb) - 1) < 1e-9
# p_base is the plain softmax of the logits
m = max(t["logit"] for t in d["tokens"])
z = sum(math.exp(t["logit"] - m) for t in d["tokens"])
for t in d["tokens"]:
    assert abs(math.exp(t["logit"] - m) / z - t["p_base"]) < 1e-6, t
H = -sum(t["p"] * math.log2(t["p"]) for t in kept if t["p"] > 0)
assert abs(H - d["entropy_bits"]) < 1e-9, (H, d["entropy_bits"])
assert any(len(t["text"]) == 1 for t in d["tokens"])
# Numbers: at least 9 significant digits unless the value is exact (a short
# dyadic fraction such as 0, 1 or 0.5).
for num in re.findall(r"\"(?:logit|p_base|p|entropy_bits)\":(-?[0-9.eE+-]+)", raw):
    mant = num.lower().split("e")[0].replace("-", "").replace(".", "").lstrip("0")
    if len(mant) < 9:
        x = float(num)
        assert x * 1024 == int(x * 1024), "only %d significant digits: %s" % (len(mant), num)
'
pycheck "probs-json-format" "$TMP/p1.json" "$PROBS_CHECK"
"$TEMPEST" probs --model "$M" --context "the ca" --json --top 5 >"$TMP/p2.json"
pycheck "probs-json-top" "$TMP/p2.json" '
assert len(d["tokens"]) == 5 and d["vocab_size"] == 61
'
"$TEMPEST" probs --model "$M" --context "the ca" --json --order trunc-first --repeat-penalty 1.3 \
    >"$TMP/p3.json"
pycheck "probs-json-order-field" "$TMP/p3.json" '
assert d["order"] == ["repeat_penalty", "top_k", "top_p", "min_p", "temperature"], d["order"]
'
"$TEMPEST" probs --model "$M" --context "the ca" >"$TMP/p4.txt" 2>&1
if [ $? = 0 ] && grep -q "entropy" "$TMP/p4.txt" && [ "$(wc -l <"$TMP/p4.txt")" = 22 ]; then
    pass "probs-table"
else
    fail "probs-table" "$(head -3 "$TMP/p4.txt")"
fi

# ---- probs --logits: DESIGN.md's worked examples --------------------------
printf '[2, 1, 0, -1, -2]\n' >"$TMP/z.json"
printf '2 1\n0\t-1   -2\n' >"$TMP/z.txt"
# row: flags | expected "id:p" pairs of the kept tokens
while IFS='|' read -r flags expect; do
    [ -n "$flags" ] || continue
    # shellcheck disable=SC2086
    "$TEMPEST" probs --logits "$TMP/z.json" --json $flags >"$TMP/row.json" 2>&1
    pycheck "probs-logits-row [$flags]" "$TMP/row.json" "
want = {int(k): float(v) for k, v in (x.split(':') for x in '$expect'.split())}
got = {t['id']: t['p'] for t in d['tokens'] if t['kept']}
assert sorted(got) == sorted(want), (got, want)
for k in want: assert abs(got[k] - want[k]) < 1e-4, (k, got[k], want[k])
assert all(t['text'] is None for t in d['tokens'])
assert [t['logit'] for t in d['tokens']] == [2, 1, 0, -1, -2]
"
done <<'EOF'
--temperature 1|0:.6364 1:.2341 2:.0861 3:.0317 4:.0117
--temperature 0.5|0:.8647 1:.1170 2:.0158 3:.0021 4:.0003
--temperature 2|0:.4287 1:.2600 2:.1577 3:.0956 4:.0580
--temperature 0|0:1
--temperature 1 --top-k 2|0:.7311 1:.2689
--temperature 1 --top-p 0.9|0:.6652 1:.2447 2:.0900
--temperature 1 --min-p 0.2|0:.7311 1:.2689
--temperature 3 --top-p 0.5|0:.5826 1:.4174
--temperature 3 --top-p 0.5 --order top_k,top_p,min_p,temperature|0:1
--temperature 3 --top-p 0.5 --order trunc-first|0:1
--temperature 1.5 --min-p 0.2|0:.5627 1:.2889 2:.1483
--temperature 1.5 --min-p 0.2 --order top_k,top_p,min_p,temperature|0:.6608 1:.3392
EOF
"$TEMPEST" probs --logits - --json --temperature 1 --top-p 0.9 <"$TMP/z.txt" >"$TMP/stdin.json" 2>&1
pycheck "probs-logits-stdin-whitespace" "$TMP/stdin.json" '
got = [round(t["p"], 4) for t in d["tokens"]]
assert got == [.6652, .2447, .0900, 0, 0], got
assert d["vocab_size"] == 5
'
printf '2,1,0,-1,-2' | "$TEMPEST" probs --logits - --json >"$TMP/comma.json" 2>&1
pycheck "probs-logits-commas" "$TMP/comma.json" 'assert d["vocab_size"] == 5'
"$TEMPEST" probs --logits "$TMP/z.json" >"$TMP/z.table" 2>&1
# The default settings (T = 0.8, no truncation) cut nothing.
if grep -q "cut by" "$TMP/z.table" || ! grep -q "entropy" "$TMP/z.table"; then
    fail "probs-logits-table" "$(head -4 "$TMP/z.table")"
else
    pass "probs-logits-table"
fi
"$TEMPEST" probs --logits "$TMP/z.json" --top-k 2 --temperature 1 >"$TMP/z2.table" 2>&1
if grep -q "cut by top_k" "$TMP/z2.table"; then pass "probs-table-names-cutting-stage"
else fail "probs-table-names-cutting-stage" "$(cat "$TMP/z2.table")"; fi
# Logits with a model: token texts come from the vocabulary.
$PY -c 'print(" ".join(str(i % 7 - 3) for i in range(61)))' >"$TMP/v61.txt"
"$TEMPEST" probs --model "$M" --logits "$TMP/v61.txt" --json >"$TMP/v61.json" 2>&1
pycheck "probs-logits-with-model-texts" "$TMP/v61.json" '
assert all(isinstance(t["text"], str) and len(t["text"]) == 1 for t in d["tokens"])
assert d["tokens"][0]["text"] in "\n !'"'"',.:;?abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
'

# ---- eval -----------------------------------------------------------------
printf 'the cat sat on the mat.\nto be, or not to be: that is the question!\n' >"$TMP/t.txt"
"$TEMPEST" eval --model "$M" --text "$TMP/t.txt" --json >"$TMP/e.json" 2>&1
pycheck "eval-json" "$TMP/e.json" '
assert list(d) == ["tokens", "nats_per_token", "bits_per_token", "perplexity"], list(d)
assert d["tokens"] == 66, d["tokens"]
n = d["nats_per_token"]
assert 0 < n < 20
assert abs(d["perplexity"] - math.exp(n)) < 1e-7 * math.exp(n), d
assert abs(d["bits_per_token"] - n / math.log(2)) < 1e-8, d
'
"$TEMPEST" eval --model "$M" --text "$TMP/t.txt" --dump-logits "$TMP/dump.txt" --json \
    >"$TMP/e2.json" 2>&1
pycheck "eval-dump-logits" "$TMP/dump.txt" '
lines = raw.splitlines()
e = json.load(open(sys.argv[1].replace("dump.txt", "e2.json")))
assert len(lines) == e["tokens"] == 66, (len(lines), e["tokens"])
vocab = list("\n !'"'"',.:;?abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ")
text = open(sys.argv[1].replace("dump.txt", "t.txt")).read()
nll = 0.0
for i, line in enumerate(lines):
    z = [float(x) for x in line.split()]
    assert len(z) == 61, len(z)
    m = max(z)
    nll += m + math.log(sum(math.exp(v - m) for v in z)) - z[vocab.index(text[i + 1])]
assert abs(nll / len(lines) - e["nats_per_token"]) < 1e-6, (nll / len(lines), e)
'
"$TEMPEST" eval --model "$M" --text - <"$TMP/t.txt" >"$TMP/e3.txt" 2>&1
if grep -q "^tokens *66$" "$TMP/e3.txt" && grep -q perplexity "$TMP/e3.txt"; then
    pass "eval-stdin-table"
else
    fail "eval-stdin-table" "$(cat "$TMP/e3.txt")"
fi

# ---- inspect --------------------------------------------------------------
"$TEMPEST" inspect "$M" --json >"$TMP/i.json" 2>&1
pycheck "inspect-json" "$TMP/i.json" '
assert list(d) == ["path", "architecture", "layers", "embed", "hidden", "vocab_size",
                   "tokenizer", "parameters", "description", "vocab"], list(d)
assert d["architecture"] == "lstm" and d["layers"] == 2 and d["embed"] == 12
assert d["hidden"] == 24 and d["vocab_size"] == 61 and d["tokenizer"] == "char"
V, E, H = 61, 12, 24
params = V * E + (4 * H * E + 4 * H * H + 8 * H) + (4 * H * H + 4 * H * H + 8 * H) + V * H + V
assert d["parameters"] == params, (d["parameters"], params)
assert d["vocab"][:3] == ["\n", " ", "!"] and len(d["vocab"]) == 61
assert "seed 7" in d["description"]
assert d["path"].endswith("tiny.safetensors")
'
"$TEMPEST" inspect --model "$M1" --json >"$TMP/i1.json" 2>&1
pycheck "inspect-json-one-hot" "$TMP/i1.json" '
assert d["embed"] == 0 and d["layers"] == 1 and d["vocab"] == ["a", "b", " ", "c", "\n"], d
'
"$TEMPEST" inspect "$M" >"$TMP/i.txt" 2>&1
if grep -q "LSTM, 2 layers" "$TMP/i.txt" && grep -q "hidden 24" "$TMP/i.txt"; then
    pass "inspect-text"
else
    fail "inspect-text" "$(head -3 "$TMP/i.txt")"
fi

# ---- the bundled model ----------------------------------------------------
if [ ! -f "$MODEL" ]; then
    skip "bundled-generate-deterministic" "$MODEL is missing"
    skip "bundled-generate-seed-differs" "$MODEL is missing"
    skip "bundled-generate-speaker-names" "$MODEL is missing"
    exit 0
fi
(cd "$ROOT" && ./tempest generate --length 300 --seed 1) >"$TMP/s1" 2>&1
(cd "$ROOT" && ./tempest generate --length 300 --seed 1) >"$TMP/s2" 2>&1
(cd "$ROOT" && ./tempest generate --length 300 --seed 2) >"$TMP/s3" 2>&1
if [ -s "$TMP/s1" ] && cmp -s "$TMP/s1" "$TMP/s2"; then pass "bundled-generate-deterministic"
else fail "bundled-generate-deterministic" "$(head -c 200 "$TMP/s1")"; fi
if ! cmp -s "$TMP/s1" "$TMP/s3"; then pass "bundled-generate-seed-differs"
else fail "bundled-generate-seed-differs" "seeds 1 and 2 agree"; fi
if grep -Eq '^[A-Za-z][A-Za-z ]*:$' "$TMP/s1"; then pass "bundled-generate-speaker-names"
else fail "bundled-generate-speaker-names" "no line ending in ':' in: $(head -c 300 "$TMP/s1")"; fi
