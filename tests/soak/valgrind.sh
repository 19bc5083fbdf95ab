#!/bin/sh
# valgrind.sh - memcheck on short generate, eval, sweep and train runs: 0 errors and
# no definite or indirect leaks (tests/valgrind.supp lists the only
# exceptions: caches owned by libraries). `make valgrind` runs it.
. "$(dirname "$0")/../lib.sh"
if ! command -v valgrind >/dev/null 2>&1; then
    skip valgrind "valgrind is not installed (apt-get install valgrind)"
    exit 0
fi
[ -r "$MODEL" ] || { skip valgrind "no model at $MODEL"; exit 0; }
VG="valgrind -q --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite,indirect
    --show-leak-kinds=definite,indirect --suppressions=$ROOT/tests/valgrind.supp"

# memcheck NAME EXIT ARGS...: the command under valgrind must exit EXIT (a
# refused file is exit 1) and valgrind must report nothing.
memcheck() {
    name=$1 want=$2
    shift 2
    # shellcheck disable=SC2086
    $VG "$TEMPEST" "$@" >"$TMP/out" 2>"$TMP/vg"
    st=$?
    if [ "$st" = "$want" ] && ! grep -q '^==[0-9]*==' "$TMP/vg"; then
        pass "$name"
    else
        fail "$name" "exit $st; $(grep -m3 -E 'ERROR SUMMARY|lost|Invalid|uninitialised' "$TMP/vg" | tr '\n' ' ')"
        sed -n 1,60p "$TMP/vg"
    fi
}

printf 'ROMEO:\nWhat light through yonder window breaks? It is the east.\n' >"$TMP/text.txt"
memcheck valgrind-generate 0 generate --length 40 --seed 2 --top-p 0.9 --repeat-penalty 1.2
memcheck valgrind-generate-beam 0 generate --length 10 --beam 2 --prompt ROMEO:
memcheck valgrind-eval 0 eval --text "$TMP/text.txt"
memcheck valgrind-probs 0 probs --context "To be" --top 3 --json
memcheck valgrind-sweep 0 sweep --temperatures 0.5,1 --seeds 2 --length 20 --jobs 2 \
    --strategies "sample;top_p=0.9" --csv "$TMP/s.csv" --json "$TMP/s.json" \
    --plot "$TMP/s.svg" --plot "$TMP/s.png"
memcheck valgrind-refused-model 1 inspect "$TMP/text.txt"
printf 'temperature = 0.5\ntop_k = 9\n' >"$TMP/c.ini"
memcheck valgrind-config 0 generate --config "$TMP/c.ini" --length 5
# Training: a tiny model for a few steps (char LSTM, then a word GRU), with
# its evaluation, sample, model and checkpoint files, and a resume.
awk 'BEGIN { for (i = 0; i < 60; i++) print "to be or not to be, that is the question." }' \
    >"$TMP/corpus.txt"
TRAIN="train --text $TMP/corpus.txt --embed 4 --hidden 8 --seq 8 --batch 2 --eval-every 3 --threads 1"
memcheck valgrind-train 0 $TRAIN --out "$TMP/t.safetensors" --steps 3 --dropout 0.1
memcheck valgrind-train-resume 0 $TRAIN --out "$TMP/t.safetensors" --steps 6 \
    --resume "$TMP/t.safetensors.ckpt"
memcheck valgrind-train-word-gru 0 $TRAIN --out "$TMP/w.safetensors" --steps 3 \
    --tokenizer word --cell gru
