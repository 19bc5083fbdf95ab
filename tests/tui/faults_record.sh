#!/bin/sh
# faults_record.sh - a recording on a full disk and into a read-only
# directory: an error on screen, the earlier recording intact byte for byte;
# on a full disk the steps so far stay in FILE.partial, whole lines that
# replay.
. "$(dirname "$0")/../lib.sh"
. "$ROOT/tests/fault_lib.sh"
SOCK=tempest-faults-rec-$$
. "$(dirname "$0")/../tmux_lib.sh"
trap 'kill_all_servers; fault_cleanup; rm -rf "$TMP"' EXIT
CHECKS="record-first record-disk-full-keeps-file record-partial-replays record-read-only-keeps-file"

skip_unless_ready "$CHECKS"
if ! fault_tmpfs 1024; then
    for c in $CHECKS; do skip "$c" "$FAULT_WHY"; done
    exit 0
fi
REC="$FAULT_DIR/r.jsonl"

play 160 30 -- --seed 3 --speed 200 --record "$REC"
wait_for 'step=[3-9][0-9] ' 5
keys q
if [ "$(wait_exit)" = 0 ] && [ -s "$REC" ] && [ ! -e "$REC.partial" ] &&
    cp "$REC" "$TMP/first.jsonl"; then
    pass record-first
else
    fail record-first "$(ls -a "$FAULT_DIR" | tr '\n' ' ')"
fi

# A second recording over the first, and the disk fills while it runs.
play 160 30 -- --seed 4 --speed 200 --record "$REC"
wait_for 'recording to' 5
fault_fill
if wait_for 'recording stopped: .*No space left on device' 10 && cmp -s "$TMP/first.jsonl" "$REC"; then
    pass record-disk-full-keeps-file
else
    fail record-disk-full-keeps-file "$(screen | tail -3 | tr '\n' '|')"
fi
keys q
wait_exit >/dev/null
# What reached the disk is whole lines (at most one cut): it replays.
if "$TEMPEST" export "$REC.partial" --asciicast "$TMP/p.cast" >/dev/null 2>"$TMP/err" &&
    [ -s "$TMP/p.cast" ]; then
    pass record-partial-replays
else
    fail record-partial-replays "$(head -c 300 "$TMP/err")"
fi
rm -f "$REC.partial"
fault_unfill

if fault_readonly; then
    play 160 30 -- --seed 5 --speed 200
    wait_for '^T=' 5
    keys : && keys -l "record $REC" && keys Enter
    if wait_for 'cannot write .*Read-only file system' 5 && cmp -s "$TMP/first.jsonl" "$REC"; then
        pass record-read-only-keeps-file
    else
        fail record-read-only-keeps-file "$(screen | tail -3 | tr '\n' '|')"
    fi
    keys q
    wait_exit >/dev/null
    fault_writable
else
    skip record-read-only-keeps-file "$FAULT_WHY"
fi
