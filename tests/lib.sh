# lib.sh - shared by the shell test suites; source it.
#
# Protocol (read by tests/run_all.sh): every check prints one line,
#   PASS name | FAIL name: why | SKIP name: why
# and a suite exits 0 unless something outside a check went wrong.
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
TEMPEST="$ROOT/tempest"
# The suites run on the (64, 256, 2) model: the same code as the default one,
# four times faster (which keeps make check SANITIZE=1 short).
MODEL="$ROOT/models/shakespeare-small.safetensors"
SHARED="$ROOT/../shared"
CORPUS="$SHARED/corpora/tinyshakespeare.txt"
PY=/usr/bin/python3
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
# No config file of the person running the tests may change what they see.
export XDG_CONFIG_HOME="$TMP/config"
unset TEMPEST_CONFIG

pass() { echo "PASS $1"; }
fail() { echo "FAIL $1: $2"; }
skip() { echo "SKIP $1: $2"; }

# check NAME CONDITION-COMMAND...: PASS if the command succeeds.
check() {
    name=$1
    shift
    if "$@" >/dev/null 2>&1; then pass "$name"; else fail "$name" "command failed: $*"; fi
}

# expect_error NAME EXIT-CODE PATTERN -- CMD...: CMD must exit with EXIT-CODE and
# print exactly one line on stderr, matching the grep -E PATTERN, and no crash.
expect_error() {
    name=$1 want=$2 pattern=$3
    shift 4
    "$@" >"$TMP/out" 2>"$TMP/err" </dev/null
    got=$?
    lines=$(wc -l <"$TMP/err")
    if [ "$got" != "$want" ]; then
        fail "$name" "exit $got, wanted $want; stderr: $(head -c 300 "$TMP/err")"
    elif [ "$lines" != 1 ]; then
        fail "$name" "$lines lines on stderr: $(head -c 300 "$TMP/err")"
    elif ! grep -Eq -- "$pattern" "$TMP/err"; then
        fail "$name" "stderr does not match /$pattern/: $(cat "$TMP/err")"
    else
        pass "$name"
    fi
}
