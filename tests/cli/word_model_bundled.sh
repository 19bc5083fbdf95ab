#!/bin/sh
# word_model_bundled.sh - models/shakespeare-words.safetensors: a word model
# (whole words, punctuation and a newline as tokens), so the histogram shows
# words; what it writes is spaced like text and made of the corpus's words.
. "$(dirname "$0")/../lib.sh"
WORDS="$ROOT/models/shakespeare-words.safetensors"
if [ ! -f "$WORDS" ]; then
    skip word-model-is-words "no $WORDS"
    skip word-model-writes-text "no $WORDS"
    exit 0
fi
if "$TEMPEST" inspect "$WORDS" --json >"$TMP/inspect.json" 2>"$TMP/err" &&
    $PY - "$TMP/inspect.json" <<'PYEOF'
import json, sys
d = json.load(open(sys.argv[1]))
assert d["tokenizer"] == "word", d["tokenizer"]
assert d["vocab_size"] >= 1000, d["vocab_size"]
PYEOF
then
    pass word-model-is-words
else
    fail word-model-is-words "$(head -c 300 "$TMP/err")"
fi
# The histogram's rows are words: the most likely next tokens after "the".
"$TEMPEST" probs --model "$WORDS" --context "ROMEO : I will tell the" --top 5 --json \
    >"$TMP/probs.json" 2>"$TMP/err"
"$TEMPEST" generate --model "$WORDS" --prompt "ROMEO:" --length 120 --seed 3 >"$TMP/gen.txt"
$PY - "$TMP/gen.txt" "$TMP/probs.json" "$CORPUS" <<'PYEOF'
import json, os, re, sys
text = open(sys.argv[1], encoding="utf-8").read()
top = [c["text"] for c in json.load(open(sys.argv[2]))["tokens"]]
words = re.findall(r"[A-Za-z']+", text.replace("<unk>", " "))
why = f"{len(words)} words, top after 'the': {top}"
ok = len(words) >= 60 and sum(bool(re.fullmatch(r"[A-Za-z']+", t)) for t in top) >= 3
ok = ok and " ," not in text and " ." not in text
if ok and os.path.exists(sys.argv[3]):
    vocab = set(w.lower() for w in re.findall(r"[A-Za-z']+", open(sys.argv[3]).read()))
    valid = sum(w.lower() in vocab for w in words) / len(words)
    ok = valid >= 0.9
    why += f", {valid:.0%} corpus words"
print(("PASS" if ok else "FAIL") + " word-model-writes-text" + ("" if ok else ": " + why))
PYEOF
