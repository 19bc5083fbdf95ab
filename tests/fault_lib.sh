# fault_lib.sh - filesystems that fail on purpose, for tests of what a full
# disk or a read-only target does to a save. Source after tests/lib.sh.
#
#   fault_tmpfs KB        mount a KB-sized tmpfs at $FAULT_DIR (root only);
#                         returns 1 (and says why in $FAULT_WHY) when it cannot
#   fault_fill            fill $FAULT_DIR to the last byte (a file 'filler')
#   fault_unfill          remove the filler
#   fault_readonly        make $FAULT_DIR read-only: remount the tmpfs ro, or
#                         (without one) chmod a-w, checked to actually refuse
#                         a write (root ignores modes); returns 1 if it cannot
#   fault_writable        undo fault_readonly
#   fault_cleanup         unmount and remove; call it from the EXIT trap
#
# Checkpoints, recordings and transcripts all save through tp_atomic_file, so
# each of their tests is: save once, break the filesystem, save again, expect
# an error and the first file byte for byte.
FAULT_DIR=
FAULT_MOUNTED=0
FAULT_WHY=

fault_tmpfs() {
    FAULT_DIR=$(mktemp -d "${TMPDIR:-/tmp}/tempest-fault.XXXXXX") || return 1
    if [ "$(id -u)" != 0 ]; then
        FAULT_WHY="mounting a tmpfs needs root"
        return 1
    fi
    if ! mount -t tmpfs -o "size=${1}k,mode=0755" tempest-fault "$FAULT_DIR" 2>"$FAULT_DIR.err"; then
        FAULT_WHY="mount failed: $(head -c 200 "$FAULT_DIR.err")"
        rm -f "$FAULT_DIR.err"
        return 1
    fi
    rm -f "$FAULT_DIR.err"
    FAULT_MOUNTED=1
}

fault_fill() {
    # Big blocks first, then single bytes for the tail of the last page.
    dd if=/dev/zero of="$FAULT_DIR/filler" bs=4096 2>/dev/null
    dd if=/dev/zero bs=1 count=8192 2>/dev/null >>"$FAULT_DIR/filler"
    # A tmpfs can still hand out a page to a new inode; take those too.
    i=0
    while [ "$i" -lt 64 ] && printf x 2>/dev/null >"$FAULT_DIR/filler.$i"; do i=$((i + 1)); done
    ! printf x 2>/dev/null >>"$FAULT_DIR/filler.probe"
}

fault_unfill() {
    rm -f "$FAULT_DIR"/filler*
}

fault_readonly() {
    if [ "$FAULT_MOUNTED" = 1 ]; then
        mount -o remount,ro "$FAULT_DIR" 2>/dev/null || { FAULT_WHY="remount ro failed"; return 1; }
    else
        chmod a-w "$FAULT_DIR"
    fi
    if (: >"$FAULT_DIR/.probe") 2>/dev/null; then
        rm -f "$FAULT_DIR/.probe"
        FAULT_WHY="the directory stays writable (root ignores its mode)"
        return 1
    fi
}

fault_writable() {
    if [ "$FAULT_MOUNTED" = 1 ]; then
        mount -o remount,rw "$FAULT_DIR" 2>/dev/null
    else
        chmod u+w "$FAULT_DIR"
    fi
}

fault_cleanup() {
    [ -n "$FAULT_DIR" ] || return 0
    if [ "$FAULT_MOUNTED" = 1 ]; then
        umount "$FAULT_DIR" 2>/dev/null || umount -l "$FAULT_DIR" 2>/dev/null
        FAULT_MOUNTED=0
    else
        chmod -R u+w "$FAULT_DIR" 2>/dev/null
    fi
    rm -rf "$FAULT_DIR"
    FAULT_DIR=
}
