#!/bin/sh
# faults.sh - a full disk, a read-only directory and a model file changed on
# disk while tempest has it open. Saves must fail with one clear line and
# leave the previous file byte for byte; a model truncated or rewritten under
# a running command must not crash it (the loader keeps no mapping).
. "$(dirname "$0")/../lib.sh"
. "$ROOT/tests/fault_lib.sh"
trap 'fault_cleanup; rm -rf "$TMP"' EXIT
SWEEP="--temperatures 0.5 --seeds 1 --length 20"

# sweep_csv NAME SEED: a small sweep's CSV into $FAULT_DIR/out.csv.
sweep_csv() {
    "$TEMPEST" sweep $SWEEP --seed "$2" --csv "$FAULT_DIR/out.csv" >/dev/null 2>"$TMP/err.$1"
}

# expect_kept NAME WHY-ERE: the save failed with one line naming the cause,
# the earlier file is intact and no temporary is left.
expect_kept() {
    if [ "$st" != 1 ]; then
        fail "$1" "exit $st, wanted 1"
    elif [ "$(wc -l <"$TMP/err.$1")" != 1 ] || ! grep -Eq "$2" "$TMP/err.$1"; then
        fail "$1" "stderr: $(head -c 300 "$TMP/err.$1")"
    elif ! cmp -s "$TMP/before.csv" "$FAULT_DIR/out.csv"; then
        fail "$1" "the earlier file changed"
    elif ls "$FAULT_DIR" | grep -q '\.tmp'; then
        fail "$1" "a temporary was left: $(ls "$FAULT_DIR" | tr '\n' ' ')"
    else
        pass "$1"
    fi
}

if fault_tmpfs 256; then
    if sweep_csv first 1 && cp "$FAULT_DIR/out.csv" "$TMP/before.csv"; then
        pass save-on-tmpfs
    else
        fail save-on-tmpfs "$(cat "$TMP/err.first")"
    fi
    if fault_fill; then
        sweep_csv disk-full-keeps-file 2
        st=$?
        expect_kept disk-full-keeps-file 'out\.csv.*No space left on device'
    else
        fail disk-full-keeps-file "could not fill the tmpfs"
    fi
    fault_unfill
    if fault_readonly; then
        sweep_csv readonly-keeps-file 3
        st=$?
        expect_kept readonly-keeps-file 'out\.csv.*Read-only file system'
        fault_writable
    else
        skip readonly-keeps-file "$FAULT_WHY"
    fi
else
    skip save-on-tmpfs "$FAULT_WHY"
    skip disk-full-keeps-file "$FAULT_WHY"
    # Without root a chmod'd directory still shows a read-only target.
    if sweep_csv first 1 && cp "$FAULT_DIR/out.csv" "$TMP/before.csv" && fault_readonly; then
        sweep_csv readonly-keeps-file 3
        st=$?
        expect_kept readonly-keeps-file 'out\.csv.*Permission denied'
    else
        skip readonly-keeps-file "$FAULT_WHY"
    fi
fi
fault_cleanup

if [ ! -r "$MODEL" ]; then
    skip model-truncated-while-generating "no model at $MODEL"
    skip model-rewritten-while-loading "no model at $MODEL"
    exit 0
fi

# A long generate on a copy of the model; halfway the copy is truncated to
# nothing, then rewritten with garbage. The text must be what the untouched
# model gives: the loader copied everything it needs and let go of the file.
cp "$MODEL" "$TMP/m.safetensors"
GEN="generate --length 15000 --seed 5 --prompt ROMEO:"
"$TEMPEST" $GEN --model "$MODEL" >"$TMP/want.txt" 2>/dev/null
"$TEMPEST" $GEN --model "$TMP/m.safetensors" >"$TMP/got.txt" 2>"$TMP/gen.err" &
pid=$!
sleep 0.3
: >"$TMP/m.safetensors"
head -c 100000 /dev/urandom >"$TMP/m.safetensors"
wait "$pid"
st=$?
if [ "$st" != 0 ]; then
    fail model-truncated-while-generating "exit $st: $(head -c 300 "$TMP/gen.err")"
elif ! cmp -s "$TMP/want.txt" "$TMP/got.txt"; then
    fail model-truncated-while-generating "the text differs from the untouched model's"
else
    pass model-truncated-while-generating
fi

# Loads racing a writer that truncates and rewrites the file in place: each
# load either succeeds or refuses the file with exit 1, never a signal (with
# mmap, a page truncated away under the parser was SIGBUS).
cp "$MODEL" "$TMP/m.safetensors"
(
    while [ ! -e "$TMP/stop" ]; do
        cat "$MODEL" >"$TMP/m.safetensors"
        truncate -s 50000 "$TMP/m.safetensors"
    done
) &
writer=$!
bad=""
i=0
while [ "$i" -lt 40 ]; do
    "$TEMPEST" inspect "$TMP/m.safetensors" >/dev/null 2>&1
    st=$?
    [ "$st" -gt 1 ] && bad="$bad run $i exit $st;"
    i=$((i + 1))
done
: >"$TMP/stop"
wait "$writer"
if [ -z "$bad" ]; then pass model-rewritten-while-loading; else fail model-rewritten-while-loading "$bad"; fi
