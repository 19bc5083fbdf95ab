#!/bin/sh
# train.sh - `tempest train`: usage errors, a tiny run whose model eval and
# generate accept, resume after --stop-after and after SIGTERM reporting the
# same losses byte for byte as an uninterrupted run, and word models.
. "$(dirname "$0")/../lib.sh"

# A small text that needs no shared corpus: 40 rotations of a few verses.
i=0
while [ $i -lt 40 ]; do
    printf 'ROMEO:\nBut soft, what light through yonder window breaks?\n'
    printf 'It is the east, and Juliet is the sun (%d).\n\n' $((i % 7))
    printf "JULIET:\nO Romeo, Romeo! wherefore art thou Romeo?\nDeny thy father; refuse thy name.\n\n"
    i=$((i + 1))
done >"$TMP/text.txt"
TEXT="$TMP/text.txt"
SMALL="--embed 8 --hidden 16 --seq 16 --batch 4 --threads 1 --log-every 1"

T="$TEMPEST train"
expect_error train-needs-text 2 'train: --text FILE and --out MODEL are required' -- $T --out "$TMP/m"
expect_error train-layers-range 2 'train: --layers 17 is out of range \(1 to 16\)' -- \
    $T --text "$TEXT" --out "$TMP/m" --layers 17
expect_error train-dropout-range 2 'train: --dropout 1 is out of range' -- \
    $T --text "$TEXT" --out "$TMP/m" --dropout 1
expect_error train-dropout-io-range 2 "train: --dropout-io -0.5 is out of range" -- \
    $T --text "$TEXT" --out "$TMP/m" --dropout-io -0.5
expect_error train-lr-number 2 "train: --lr 'fast' is not a finite number" -- \
    $T --text "$TEXT" --out "$TMP/m" --lr fast
expect_error train-tokenizer 2 "train: --tokenizer 'bytes' is not char or word" -- \
    $T --text "$TEXT" --out "$TMP/m" --tokenizer bytes
expect_error train-threads-range 2 'train: --threads 0 is out of range' -- \
    $T --text "$TEXT" --out "$TMP/m" --threads 0
expect_error train-unknown-option 2 "unknown option or missing value: '--epochs'" -- \
    $T --text "$TEXT" --out "$TMP/m" --epochs 3
expect_error train-missing-text 1 "train: cannot open '$TMP/none.txt'" -- \
    $T --text "$TMP/none.txt" --out "$TMP/m"
expect_error train-text-too-short 2 'train: the text is too short' -- \
    $T --text "$TEXT" --out "$TMP/m" --seq 5000
expect_error train-resume-missing 1 "train: checkpoint '$TMP/none.ckpt'" -- \
    $T --text "$TEXT" --out "$TMP/m" --resume "$TMP/none.ckpt"

if $TEMPEST train --help | grep -q -- '--resume CKPT' && $TEMPEST --help | grep -q '^  train '; then
    pass train-help
else
    fail train-help "train --help or tempest --help lacks train"
fi

# An uninterrupted run; eval and generate accept its model.
$T --text "$TEXT" --out "$TMP/a.st" $SMALL --steps 24 --eval-every 8 --dropout 0.1 \
    --dropout-io 0.1 >"$TMP/a.log" 2>"$TMP/a.err"
if [ $? = 0 ] && [ -f "$TMP/a.st" ] && [ -f "$TMP/a.st.ckpt" ] &&
    $TEMPEST eval --model "$TMP/a.st" --text "$TEXT" >/dev/null 2>&1 &&
    $TEMPEST generate --model "$TMP/a.st" --length 40 --seed 3 >/dev/null 2>&1; then
    pass train-model-runs
else
    fail train-model-runs "$(head -c 300 "$TMP/a.err")"
fi
if grep -q '^step 24 val ' "$TMP/a.log" && grep -q '^done: 24 steps' "$TMP/a.log" &&
    [ "$(grep -c '^step [0-9]* val ' "$TMP/a.log")" = 3 ]; then
    pass train-evaluates-every-n
else
    fail train-evaluates-every-n "$(tail -3 "$TMP/a.log")"
fi
if ls "$TMP"/*.tmp >/dev/null 2>&1; then fail train-no-temp-files "$(ls "$TMP"/*.tmp)"; else
    pass train-no-temp-files; fi

losses() { grep '^step [0-9]*/' "$@" | awk '{print $2, $4}'; }

# Half, then resume: the same losses and the same model, bit for bit.
$T --text "$TEXT" --out "$TMP/b.st" $SMALL --steps 24 --eval-every 8 --dropout 0.1 \
    --dropout-io 0.1 --stop-after 11 >"$TMP/b1.log" 2>&1
$T --text "$TEXT" --out "$TMP/b.st" --resume "$TMP/b.st.ckpt" --threads 1 --log-every 1 \
    >"$TMP/b2.log" 2>&1
losses "$TMP/a.log" >"$TMP/a.loss"
losses "$TMP/b1.log" "$TMP/b2.log" | sed 's/^[^:]*://' >"$TMP/b.loss"
if [ "$(wc -l <"$TMP/a.loss")" = 24 ] && cmp -s "$TMP/a.loss" "$TMP/b.loss" &&
    cmp -s "$TMP/a.st" "$TMP/b.st"; then
    pass train-resume-bit-identical
else
    fail train-resume-bit-identical "$(diff "$TMP/a.loss" "$TMP/b.loss" | head -5)"
fi

# The same at two threads (the hidden units split between OpenMP threads, 16
# each: the packed-panel products), GRU cells.
G2="--text $TEXT --cell gru --embed 8 --hidden 32 --seq 16 --batch 4 --log-every 1 --threads 2"
$T $G2 --out "$TMP/g2a.st" --steps 12 --eval-every 6 >"$TMP/g2a.log" 2>&1
$T $G2 --out "$TMP/g2b.st" --steps 12 --eval-every 6 --stop-after 5 >"$TMP/g2b1.log" 2>&1
$T --text "$TEXT" --out "$TMP/g2b.st" --resume "$TMP/g2b.st.ckpt" --threads 2 --log-every 1 \
    >"$TMP/g2b2.log" 2>&1
losses "$TMP/g2a.log" >"$TMP/g2a.loss"
losses "$TMP/g2b1.log" "$TMP/g2b2.log" | sed 's/^[^:]*://' >"$TMP/g2b.loss"
if [ "$(wc -l <"$TMP/g2a.loss")" = 12 ] && cmp -s "$TMP/g2a.loss" "$TMP/g2b.loss" &&
    cmp -s "$TMP/g2a.st" "$TMP/g2b.st"; then
    pass train-resume-two-threads-gru
else
    fail train-resume-two-threads-gru "$(diff "$TMP/g2a.loss" "$TMP/g2b.loss" | head -5)"
fi

# SIGTERM: a checkpoint and exit 130 (every stop request, Ctrl-C or TERM),
# then a resume that continues from that step.
$T --text "$TEXT" --out "$TMP/c.st" $SMALL --steps 100000 >"$TMP/c.log" 2>&1 &
pid=$!
n=0
while ! grep -q '^step 3/' "$TMP/c.log" 2>/dev/null && [ $n -lt 100 ]; do
    sleep 0.1
    n=$((n + 1))
done
kill -TERM $pid
wait $pid
st=$?
if [ $st = 130 ] && grep -q '^stopped at step' "$TMP/c.log" &&
    $T --text "$TEXT" --out "$TMP/c.st" --resume "$TMP/c.st.ckpt" --stop-after 2 \
        --threads 1 >"$TMP/c2.log" 2>&1 &&
    [ "$(sed -n 's/^stopped at step \([0-9]*\).*/\1/p' "$TMP/c.log")" -eq \
        $(($(sed -n 's/^stopped at step \([0-9]*\).*/\1/p' "$TMP/c2.log") - 2)) ]; then
    pass train-sigterm-checkpoints
else
    fail train-sigterm-checkpoints "exit $st; $(tail -2 "$TMP/c.log") $(tail -2 "$TMP/c2.log")"
fi

printf 'another text entirely, long enough to train on for a while.\n%.0s' $(seq 40) \
    >"$TMP/other.txt"
expect_error train-resume-steps-behind 2 "train: checkpoint .*--steps 5 is not beyond" -- \
    $T --text "$TEXT" --out "$TMP/b.st" --resume "$TMP/b.st.ckpt" --steps 5
expect_error train-resume-other-text 2 'made from another text' -- \
    $T --text "$TMP/other.txt" --out "$TMP/b.st" --resume "$TMP/b.st.ckpt"

# Words: a vocabulary of words and punctuation with a newline token and <unk>;
# generated text is spaced like prose.
$T --text "$TEXT" --out "$TMP/w.st" --tokenizer word --vocab-limit 20 $SMALL --steps 30 \
    --lr 0.02 --eval-every 30 >"$TMP/w.log" 2>&1
vocab=$($TEMPEST inspect "$TMP/w.st" 2>&1 | grep '^vocabulary')
if echo "$vocab" | grep -q '⏎ <unk> ' && $TEMPEST inspect "$TMP/w.st" | grep -q 'word, 20 tokens'; then
    pass train-word-vocabulary
else
    fail train-word-vocabulary "$vocab"
fi
$TEMPEST generate --model "$TMP/w.st" --length 200 --seed 1 >"$TMP/w.out" 2>&1
if grep -q '[a-z] [a-zA-Z]' "$TMP/w.out" && ! grep -q ' [,.;?!]' "$TMP/w.out" &&
    ! grep -q '^ ' "$TMP/w.out"; then
    pass train-word-spacing
else
    fail train-word-spacing "$(head -c 200 "$TMP/w.out")"
fi

# --minutes sizes the schedule and stops in time.
start=$(date +%s)
$T --text "$TEXT" --out "$TMP/t.st" $SMALL --minutes 0.03 --eval-every 1000000 \
    >"$TMP/t.log" 2>&1
took=$(($(date +%s) - start))
if grep -q 'as many as fit in 0.03 minutes' "$TMP/t.log" && grep -q '^done: ' "$TMP/t.log" &&
    [ "$took" -lt 30 ]; then
    pass train-minutes
else
    fail train-minutes "took ${took}s: $(tail -2 "$TMP/t.log")"
fi

# Other cells: PyTorch names and nn.RNN's nonlinearity in the metadata.
for cell in gru rnn_relu; do
    $T --text "$TEXT" --out "$TMP/$cell.st" --cell $cell $SMALL --steps 4 --eval-every 4 \
        >"$TMP/$cell.log" 2>&1
    mod=${cell%%_*}
    if head -c 4000 "$TMP/$cell.st" | grep -q "\"$mod.weight_hh_l1\"" &&
        ! head -c 4000 "$TMP/$cell.st" | grep -q '"lstm\.' &&
        { [ $cell = gru ] || head -c 4000 "$TMP/$cell.st" | grep -q '"nonlinearity":"relu"'; }; then
        pass train-cell-$cell
    else
        fail train-cell-$cell "$(tail -2 "$TMP/$cell.log")"
    fi
done
expect_error train-cell-unknown 2 "train: --cell 'transformer' is not lstm, gru" -- \
    $T --text "$TEXT" --out "$TMP/m" --cell transformer

# The trainer's validation loss is what `tempest eval` reports on the
# held-out tail (the engine runs what the trainer wrote, cell for cell).
n=$(wc -c <"$TEXT")
tail -c $((n / 10)) "$TEXT" >"$TMP/heldout.txt"
for cell in lstm gru rnn_tanh; do
    $T --text "$TEXT" --out "$TMP/e-$cell.st" --cell $cell $SMALL --steps 6 --eval-every 6 \
        >"$TMP/e.log" 2>&1
    want=$(sed -n 's/^step 6 val \([0-9.]*\).*/\1/p' "$TMP/e.log")
    got=$($TEMPEST eval --model "$TMP/e-$cell.st" --text "$TMP/heldout.txt" 2>"$TMP/e.err" |
        sed -n 's/^nats\/token *\([0-9.]*\)/\1/p')
    if [ $cell != lstm ] && grep -q 'not supported\|LSTM only' "$TMP/e.err"; then
        skip train-eval-agrees-$cell "this engine runs LSTM models only"
    elif [ -n "$want" ] && [ "$want" = "$got" ]; then
        pass train-eval-agrees-$cell
    else
        fail train-eval-agrees-$cell "trainer $want, eval $got $(head -c 200 "$TMP/e.err")"
    fi
done
