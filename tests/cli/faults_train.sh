#!/bin/sh
# faults_train.sh - `tempest train` on a full disk and into a read-only
# directory: the model and the checkpoint of an earlier run stay byte for
# byte, the error is one line, no temporary is left behind. SIGTERM in the
# middle leaves a checkpoint that resumes (tests/cli/train.sh checks that the
# resumed losses equal an uninterrupted run's).
. "$(dirname "$0")/../lib.sh"
. "$ROOT/tests/fault_lib.sh"
trap 'fault_cleanup; rm -rf "$TMP"' EXIT
CHECKS="train-on-tmpfs train-disk-full-keeps-files train-readonly-keeps-files"

# A small text and model: one evaluation, so one model and one checkpoint.
awk 'BEGIN { for (i = 0; i < 300; i++) print "to be or not to be, that is the question" }' \
    >"$TMP/text.txt"
train() { # NAME SEED
    "$TEMPEST" train --text "$TMP/text.txt" --out "$FAULT_DIR/m.safetensors" --embed 4 \
        --hidden 8 --layers 1 --seq 16 --batch 4 --steps 4 --eval-every 4 --threads 1 \
        --seed "$2" --sample-length 0 >/dev/null 2>"$TMP/err.$1"
}

# expect_kept NAME WHY-ERE
expect_kept() {
    if [ "$st" = 0 ]; then
        fail "$1" "exit 0 on a filesystem that cannot take the files"
    elif ! grep -Eq "$2" "$TMP/err.$1"; then
        fail "$1" "stderr: $(tail -c 300 "$TMP/err.$1")"
    elif ! cmp -s "$TMP/before.model" "$FAULT_DIR/m.safetensors" ||
        ! cmp -s "$TMP/before.ckpt" "$FAULT_DIR/m.safetensors.ckpt"; then
        fail "$1" "the earlier model or checkpoint changed"
    elif ls -a "$FAULT_DIR" | grep -q 'tmp'; then
        fail "$1" "a temporary was left: $(ls -a "$FAULT_DIR" | tr '\n' ' ')"
    else
        pass "$1"
    fi
}

if ! fault_tmpfs 512; then
    for c in $CHECKS; do skip "$c" "$FAULT_WHY"; done
    exit 0
fi
if train first 1 && cp "$FAULT_DIR/m.safetensors" "$TMP/before.model" &&
    cp "$FAULT_DIR/m.safetensors.ckpt" "$TMP/before.ckpt"; then
    pass train-on-tmpfs
else
    fail train-on-tmpfs "$(tail -c 300 "$TMP/err.first")"
fi
if fault_fill; then
    train train-disk-full-keeps-files 2
    st=$?
    expect_kept train-disk-full-keeps-files 'No space left on device'
else
    fail train-disk-full-keeps-files "could not fill the tmpfs"
fi
fault_unfill
if fault_readonly; then
    train train-readonly-keeps-files 3
    st=$?
    expect_kept train-readonly-keeps-files 'Read-only file system'
    fault_writable
else
    skip train-readonly-keeps-files "$FAULT_WHY"
fi
