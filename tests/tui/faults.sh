#!/bin/sh
# faults.sh - the playground's `:save` on a full disk and on a read-only
# filesystem (an error on screen, the earlier transcript intact), and the
# playground going on writing after its model file is truncated on disk.
. "$(dirname "$0")/../lib.sh"
. "$ROOT/tests/fault_lib.sh"
SOCK=tempest-faults-$$
. "$(dirname "$0")/../tmux_lib.sh"
trap 'kill_all_servers; fault_cleanup; rm -rf "$TMP"' EXIT
CHECKS="save-first save-disk-full save-read-only model-truncated-keeps-running"

skip_unless_ready "$CHECKS"

# save NAME: `:save` into the fault directory.
save() {
    keys : && keys -l "save $FAULT_DIR/t.txt" && keys Enter
}

# expect_kept NAME ERE: the message matches and the transcript is unchanged.
expect_kept() {
    if ! wait_for "$2" 5; then
        fail "$1" "no message /$2/: $(screen | tail -3 | tr '\n' '|')"
    elif ! cmp -s "$TMP/first.txt" "$FAULT_DIR/t.txt"; then
        fail "$1" "the earlier transcript changed"
    elif ls "$FAULT_DIR" | grep -q '\.tmp'; then
        fail "$1" "a temporary was left"
    else
        pass "$1"
    fi
}

if fault_tmpfs 256; then
    play 160 30 -- --seed 3
    wait_for '^T=' 5 && keys ' '
    save
    if wait_for 'saved [0-9]+ tokens' 5 && cp "$FAULT_DIR/t.txt" "$TMP/first.txt"; then
        pass save-first
    else
        fail save-first "$(screen | tail -3 | tr '\n' '|')"
    fi
    keys n n n
    fault_fill
    save
    expect_kept save-disk-full 'cannot write .*No space left on device'
    fault_unfill
    if fault_readonly; then
        keys n
        save
        expect_kept save-read-only 'cannot write .*Read-only file system'
        fault_writable
    else
        skip save-read-only "$FAULT_WHY"
    fi
    keys q
else
    for c in save-first save-disk-full save-read-only; do skip "$c" "$FAULT_WHY"; done
fi

# Full speed on a copy of the model; truncate the copy, then rewrite it:
# the step counter must go on rising and q must still quit cleanly.
cp "$MODEL" "$TMP/m.safetensors"
MODEL_SAVED=$MODEL
MODEL=$TMP/m.safetensors
play 100 30 -- --speed max
MODEL=$MODEL_SAVED
step_now() { status_line | sed -n 's/.*step=\([0-9]*\).*/\1/p'; }
if wait_for 'step=[0-9]{3,}' 5; then
    : >"$TMP/m.safetensors"
    head -c 5000 /dev/urandom >"$TMP/m.safetensors"
    a=$(step_now)
    sleep 0.5
    b=$(step_now)
    keys q
    n=100
    while [ ! -s "$EXIT" ] && [ "$n" -gt 0 ]; do sleep 0.05; n=$((n - 1)); done
    if [ -z "$a" ] || [ -z "$b" ] || [ "$b" -le "$a" ]; then
        fail model-truncated-keeps-running "step went from '$a' to '$b'"
    elif [ "$(cat "$EXIT" 2>/dev/null)" != 0 ]; then
        fail model-truncated-keeps-running "exit '$(cat "$EXIT" 2>/dev/null)'"
    else
        pass model-truncated-keeps-running
    fi
else
    fail model-truncated-keeps-running "never started: $(screen | tail -2 | tr '\n' '|')"
fi
