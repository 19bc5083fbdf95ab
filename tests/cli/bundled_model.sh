#!/bin/sh
# bundled_model.sh - the promises about models/shakespeare.safetensors: its
# loss on the held-out last 10% of the corpus, and that at T = 0.8 it writes
# something that reads like a play. Needs ../shared/corpora (skips without).
. "$(dirname "$0")/../lib.sh"

if [ ! -f "$MODEL" ]; then
    skip "bundled-model-held-out-loss" "no $MODEL"
    skip "bundled-model-reads-like-a-play" "no $MODEL"
    exit 0
fi
if [ ! -f "$CORPUS" ]; then
    skip "bundled-model-held-out-loss" "the corpus $CORPUS is absent"
else
    $PY -c "
import sys
t = open(sys.argv[1], encoding='utf-8').read()
open(sys.argv[2], 'w', encoding='utf-8').write(t[len(t) - int(len(t) * 0.1):])
" "$CORPUS" "$TMP/held_out.txt"
    nats=$("$TEMPEST" eval --model "$MODEL" --text "$TMP/held_out.txt" --json |
        $PY -c 'import json,sys; print(json.load(sys.stdin)["nats_per_token"])')
    if $PY -c "import sys; sys.exit(0 if float('$nats') <= 1.50 else 1)" 2>/dev/null; then
        pass "bundled-model-held-out-loss"
    else
        fail "bundled-model-held-out-loss" "held-out loss '$nats' nats/char (must be <= 1.50)"
    fi
    echo "held-out loss: $nats nats/char" >&2
fi

"$TEMPEST" generate --model "$MODEL" --temperature 0.8 --length 1500 --seed 3 >"$TMP/play.txt"
$PY - "$TMP/play.txt" "$CORPUS" <<'PYEOF'
import os, re, sys
text = open(sys.argv[1], encoding="utf-8").read()
speakers = re.findall(r"^[A-Z][A-Za-z ]+:$", text, re.M)
lines = [l for l in text.split("\n") if l.strip()]
words = re.findall(r"[A-Za-z']+", text)
ok = len(speakers) >= 2 and len(lines) >= 15 and len(words) >= 150
why = f"{len(speakers)} speaker lines, {len(lines)} lines, {len(words)} words"
if ok and os.path.exists(sys.argv[2]):
    vocab = set(w.lower() for w in re.findall(r"[A-Za-z']+", open(sys.argv[2]).read()))
    valid = sum(w.lower() in vocab for w in words) / len(words)
    ok = valid >= 0.8
    why += f", {valid:.0%} of words found in the corpus"
print(("PASS" if ok else "FAIL") + " bundled-model-reads-like-a-play" + ("" if ok else ": " + why))
print(why, file=sys.stderr)
PYEOF
