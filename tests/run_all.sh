#!/bin/sh
# run_all.sh - every test suite of `make check`, and one closing tally.
#
#   unit    build/tests/unit_tests (Criterion)
#   cli     tests/cli/*.sh       end-to-end runs of ./tempest
#   parity  tests/parity/*.py    against PyTorch (/usr/bin/python3)
#   tui     tests/tui/*.sh       the playground in tmux
# Suites print PASS/FAIL/SKIP lines (see tests/lib.sh); the last line is
# "check: N passed, N failed, N skipped".
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT" || exit 1
# For SANITIZE=1 builds: library-owned caches are not our leaks.
export LSAN_OPTIONS="${LSAN_OPTIONS:-suppressions=$ROOT/tests/lsan.supp:print_suppressions=0}"
LOG=$(mktemp)
trap 'rm -f "$LOG"' EXIT
passed=0 failed=0 skipped=0
only=${TESTS:-}

wanted() { [ -z "$only" ] || echo "$1" | grep -q -- "$only"; }

tally() { # suite-name exit-status
    p=$(grep -c '^PASS ' "$LOG") f=$(grep -c '^FAIL ' "$LOG") s=$(grep -c '^SKIP ' "$LOG")
    if [ "$2" != 0 ] && [ "$f" = 0 ]; then
        echo "FAIL $1: the suite exited $2"
        f=1
    fi
    passed=$((passed + p)) failed=$((failed + f)) skipped=$((skipped + s))
    echo "== $1: $p passed, $f failed, $s skipped"
}

run_suite() { # name command...
    name=$1
    shift
    wanted "$name" || return 0
    echo "== $name"
    "$@" >"$LOG" 2>&1
    st=$?
    grep -E '^(FAIL|SKIP) ' "$LOG"
    [ "${VERBOSE:-0}" = 1 ] && cat "$LOG"
    if [ "$st" != 0 ] && ! grep -q '^FAIL ' "$LOG"; then tail -20 "$LOG"; fi
    tally "$name" "$st"
}

# Criterion reports its own tally; turn it into the common protocol.
unit() {
    build/tests/unit_tests --jobs 2 >"$LOG.u" 2>&1
    st=$?
    cat "$LOG.u"
    line=$(grep 'Synthesis' "$LOG.u" | tail -1)
    p=$(echo "$line" | sed -n 's/.*Passing: \([0-9]*\).*/\1/p')
    f=$(echo "$line" | sed -n 's/.*Failing: \([0-9]*\).*/\1/p')
    c=$(echo "$line" | sed -n 's/.*Crashing: \([0-9]*\).*/\1/p')
    i=0
    while [ "$i" -lt "${p:-0}" ]; do echo "PASS unit-$i"; i=$((i + 1)); done
    i=0
    while [ "$i" -lt $(( ${f:-0} + ${c:-0} )) ]; do echo "FAIL unit-$i: see the Criterion log"; i=$((i + 1)); done
    rm -f "$LOG.u"
    return "$st"
}

run_suite unit unit
for t in tests/cli/*.sh; do [ -e "$t" ] && run_suite "$t" sh "$t"; done
for t in tests/parity/*.py; do
    [ -e "$t" ] || continue
    if [ -x /usr/bin/python3 ] && /usr/bin/python3 -c 'import torch' 2>/dev/null; then
        run_suite "$t" /usr/bin/python3 "$t"
    else
        wanted "$t" && echo "SKIP $t: needs /usr/bin/python3 with torch (python3-torch)" && skipped=$((skipped + 1))
    fi
done
for t in tests/tui/*.sh; do [ -e "$t" ] && run_suite "$t" sh "$t"; done

echo "check: $passed passed, $failed failed, $skipped skipped"
[ "$failed" = 0 ]
