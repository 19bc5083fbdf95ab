#!/bin/sh
# bundled_model.sh - the promises about the character models in models/: each
# one's loss on the held-out last 10% of the corpus (the default,
# shakespeare.safetensors, trained by tempest train, at most 1.45 nats/char;
# shakespeare-small.safetensors at most 1.50), and
# that at T = 0.8 each writes something that reads like a play. Needs
# ../shared/corpora for the loss (skips without).
. "$(dirname "$0")/../lib.sh"

if [ -f "$CORPUS" ]; then
    $PY -c "
import sys
t = open(sys.argv[1], encoding='utf-8').read()
open(sys.argv[2], 'w', encoding='utf-8').write(t[len(t) - int(len(t) * 0.1):])
" "$CORPUS" "$TMP/held_out.txt"
fi

# held_out_loss NAME MODEL LIMIT
held_out_loss() {
    if [ ! -f "$CORPUS" ]; then
        skip "$1-held-out-loss" "the corpus $CORPUS is absent"
        return
    fi
    nats=$("$TEMPEST" eval --model "$2" --text "$TMP/held_out.txt" --json |
        $PY -c 'import json,sys; print(json.load(sys.stdin)["nats_per_token"])')
    if $PY -c "import sys; sys.exit(0 if float('$nats') <= $3 else 1)" 2>/dev/null; then
        pass "$1-held-out-loss"
    else
        fail "$1-held-out-loss" "held-out loss '$nats' nats/char (must be <= $3)"
    fi
    echo "$(basename "$2"): held-out loss $nats nats/char" >&2
}

# reads_like_a_play NAME MODEL
reads_like_a_play() {
    "$TEMPEST" generate --model "$2" --temperature 0.8 --length 1500 --seed 3 >"$TMP/play.txt"
    $PY - "$TMP/play.txt" "$CORPUS" "$1" <<'PYEOF'
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
name = sys.argv[3] + "-reads-like-a-play"
print(("PASS " if ok else "FAIL ") + name + ("" if ok else ": " + why))
print(why, file=sys.stderr)
PYEOF
}

# check_model NAME MODEL LIMIT
check_model() {
    if [ ! -f "$2" ]; then
        skip "$1-held-out-loss" "no $2"
        skip "$1-reads-like-a-play" "no $2"
        return
    fi
    held_out_loss "$1" "$2" "$3"
    reads_like_a_play "$1" "$2"
}

check_model bundled-model "$ROOT/models/shakespeare.safetensors" 1.45
check_model small-model "$ROOT/models/shakespeare-small.safetensors" 1.50
