#!/bin/sh
# cells.sh - GRU and vanilla RNN models from the command line: inspect names
# the kind, generation runs and is reproducible on every kernel and weight
# type, and files that contradict themselves are refused in one line.
. "$(dirname "$0")/../lib.sh"

make_model() { # OUT ARGS...
    out=$1
    shift
    $PY "$ROOT/tests/tools/make_model.py" --out "$out" "$@" >/dev/null 2>&1
}

for cell in lstm gru rnn_tanh rnn_relu; do
    m="$TMP/$cell.safetensors"
    if ! make_model "$m" --cell "$cell" --layers 2 --hidden 13 --embed 6 --seed 3; then
        fail "cells-make-$cell" "make_model.py --cell $cell failed"
        continue
    fi
    name=$(case $cell in lstm) echo LSTM ;; gru) echo GRU ;; rnn_tanh) echo "RNN (tanh)" ;;
        rnn_relu) echo "RNN (relu)" ;; esac)
    if "$TEMPEST" inspect "$m" | grep -qF "architecture $name, 2 layers, embedding 6, hidden 13" &&
        "$TEMPEST" inspect --json "$m" | grep -q "\"architecture\":\"$cell\""; then
        pass "inspect-names-$cell"
    else
        fail "inspect-names-$cell" "$("$TEMPEST" inspect "$m" 2>&1 | sed -n 2p)"
    fi
    # Same seed, same text, whatever the kernel; reduced weights still run.
    a=$("$TEMPEST" generate --model "$m" --length 80 --seed 9 --prompt "to be" 2>&1)
    b=$(TEMPEST_KERNEL=portable "$TEMPEST" generate --model "$m" --length 80 --seed 9 \
        --prompt "to be" 2>&1)
    c=$("$TEMPEST" generate --model "$m" --length 80 --seed 9 --prompt "to be" --weights int8 2>&1)
    if [ -n "$a" ] && [ "$(printf %s "$a" | wc -c)" -ge 80 ] && [ "$a" = "$b" ] &&
        [ "$(printf %s "$c" | wc -c)" -ge 80 ]; then
        pass "generate-$cell"
    else
        fail "generate-$cell" "avx2/default '$a' portable '$b' int8 '$c'"
    fi
done

# Each kind gives its own text from the same seed: the cells really differ.
t1=$("$TEMPEST" generate --model "$TMP/rnn_tanh.safetensors" --length 60 --seed 2 2>&1)
t2=$("$TEMPEST" generate --model "$TMP/rnn_relu.safetensors" --length 60 --seed 2 2>&1)
if [ -n "$t1" ] && [ "$t1" != "$t2" ]; then pass "tanh-and-relu-differ"; else
    fail "tanh-and-relu-differ" "both gave '$t1'"
fi

# Refusals: a file whose metadata or names contradict its shapes.
edit_model() { # IN OUT PYTHON-EXPRESSION-ON-header: rewrite the JSON header
    $PY - "$1" "$2" "$3" <<'PY'
import json, struct, sys
src, dst, expr = sys.argv[1:]
data = open(src, "rb").read()
n = struct.unpack("<Q", data[:8])[0]
header = json.loads(data[8:8 + n])
exec(expr)
text = json.dumps(header).encode()
text += b" " * (-len(text) % 8)
open(dst, "wb").write(struct.pack("<Q", len(text)) + text + data[8 + n:])
PY
}
edit_model "$TMP/lstm.safetensors" "$TMP/nl-lstm.safetensors" \
    'header["__metadata__"]["nonlinearity"] = "relu"'
expect_error "refuse-nonlinearity-on-lstm" 1 \
    "nonlinearity.* is for a vanilla RNN, but this model's layers are LSTM" -- \
    "$TEMPEST" inspect "$TMP/nl-lstm.safetensors"
edit_model "$TMP/rnn_relu.safetensors" "$TMP/nl-bad.safetensors" \
    'header["__metadata__"]["nonlinearity"] = "gelu"'
expect_error "refuse-unknown-nonlinearity" 1 "nonlinearity.* is 'gelu'; expected tanh or relu" -- \
    "$TEMPEST" generate --model "$TMP/nl-bad.safetensors" --length 5
edit_model "$TMP/gru.safetensors" "$TMP/gru-as-lstm.safetensors" \
    'header = {k.replace("gru.", "lstm."): v for k, v in header.items()}'
expect_error "refuse-gru-named-lstm" 1 \
    "'lstm.weight_hh_l0' is named like an LSTM but its 39 rows make it a GRU" -- \
    "$TEMPEST" inspect "$TMP/gru-as-lstm.safetensors"
edit_model "$TMP/gru.safetensors" "$TMP/gru-bi.safetensors" \
    'header["gru.bias_hh_l0_reverse"] = header.pop("gru.bias_hh_l1")'
expect_error "refuse-bidirectional-gru" 1 "'gru.bias_hh_l0_reverse': a bidirectional GRU" -- \
    "$TEMPEST" inspect "$TMP/gru-bi.safetensors"
