#!/bin/sh
# word_model.sh - a word-level GRU built like PyTorch's word_language_model
# example (tests/tools/make_wlm.py, torch.save of the whole module), converted
# by tools/export_pytorch.py, opened in the playground in tmux: words appear
# in the text pane with natural spacing and the histogram lists whole words.
. "$(dirname "$0")/../lib.sh"
SOCK=tempest-words-$$
. "$(dirname "$0")/../tmux_lib.sh"
trap 'kill_all_servers; rm -rf "$TMP"' EXIT
CHECKS="word-gru-converts word-gru-inspect word-gru-starts word-gru-histogram-words
word-gru-text-words word-gru-prompt-spacing"

if ! command -v tmux >/dev/null 2>&1; then
    for c in $CHECKS; do skip "$c" "tmux is not installed"; done
    exit 0
fi
if ! "$PY" -c 'import torch' 2>/dev/null; then
    for c in $CHECKS; do skip "$c" "needs $PY with torch (python3-torch)"; done
    exit 0
fi

# Pre-tokenized, as the example's data is: words and marks apart.
cat >"$TMP/corpus.txt" <<'TXT'
ROMEO :
But soft , what light through yonder window breaks ?
It is the east , and Juliet is the sun .
JULIET :
O Romeo , Romeo ! wherefore art thou Romeo ?
Deny thy father and refuse thy name ;
Or , if thou wilt not , be but sworn my love .
TXT
MODEL="$TMP/gru-words.safetensors"
if "$PY" "$ROOT/tests/tools/make_wlm.py" --type GRU --corpus "$TMP/corpus.txt" \
        --out "$TMP/gru.pt" --embed 16 --hidden 32 --layers 2 --seed 4 --scale 0.6 &&
    "$PY" "$ROOT/tools/export_pytorch.py" "$TMP/gru.pt" "$MODEL" --tokenizer word \
        --corpus "$TMP/corpus.txt" --module-file "$ROOT/tests/tools/wlm/model.py" \
        >"$TMP/export.txt" 2>&1; then
    pass word-gru-converts
else
    fail word-gru-converts "$(tail -1 "$TMP/export.txt" 2>/dev/null)"
    for c in $CHECKS; do [ "$c" = word-gru-converts ] || skip "$c" "no model"; done
    exit 0
fi
if "$TEMPEST" inspect "$MODEL" | grep -q "^architecture GRU, 2 layers, embedding 16, hidden 32" &&
    "$TEMPEST" inspect "$MODEL" | grep -q "^tokenizer    word, 43 tokens"; then
    pass word-gru-inspect
else
    fail word-gru-inspect "$("$TEMPEST" inspect "$MODEL" 2>&1 | head -4 | tr '\n' '|')"
fi

hist() { screen | sed -n 's/^.*│//p'; }           # the histogram column
text() { screen | sed -n '2,$s/│.*$//p'; }        # the text column

play 100 30 -- --prompt "JULIET:" --seed 2 --speed 30
if wait_for 'step=[0-9]+' 10; then pass word-gru-starts; else
    fail word-gru-starts "$(screen | tail -3 | tr '\n' '|')"
fi
wait_for 'step=([2-9][0-9]|[0-9]{3,})' 10
# Rows of the histogram that name a word of the corpus with a percentage.
corpus_words=$(tr ' \n' '\n\n' <"$TMP/corpus.txt" | grep -E '^[A-Za-z]+$' | sort -u | paste -sd'|')
words=$(hist | grep -E '%' | grep -cE "^.?.? *($corpus_words) ")
if [ "$words" -ge 5 ] && hist | grep -Eq 'entropy [0-9.]+ bits  kept [0-9]+ of 43'; then
    pass word-gru-histogram-words
else
    fail word-gru-histogram-words "$words word rows: $(hist | head -4 | tr '\n' '|')"
fi
# Several corpus words written in the text pane, one space apart.
n=$(text | tr ' ' '\n' | grep -cE "^($corpus_words)[,.;:!?]*\$")
if [ "$n" -ge 3 ]; then pass word-gru-text-words; else
    fail word-gru-text-words "$n words: $(text | head -4 | tr -s ' ' | tr '\n' '|')"
fi
# The prompt reads as typed: no space before the colon.
if text | grep -q '^JULIET:'; then pass word-gru-prompt-spacing; else
    fail word-gru-prompt-spacing "$(text | head -2 | tr '\n' '|')"
fi
if [ "${VERBOSE:-0}" = 1 ]; then screen; fi
