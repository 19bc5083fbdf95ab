#!/usr/bin/python3
"""make_model.py - tiny LSTM, GRU and RNN language models in safetensors, for tests.

Standard library only (no torch): writes random-weight models named like a
PyTorch state_dict (embed.weight, lstm.weight_ih_l0, ..., head.weight,
head.bias) with the tokenizer and vocabulary in __metadata__, or, with
--broken KIND, a deliberately damaged file for the bad-input tests.

    make_model.py --out m.safetensors [--vocab CHARS] [--embed E] [--hidden H]
                  [--layers L] [--seed S] [--one-hot] [--dtype F32|F16|BF16]
                  [--scale X] [--cell lstm|gru|rnn_tanh|rnn_relu] [--broken KIND]

--cell picks the recurrent layers (module lstm., gru. or rnn.; an RNN's
nonlinearity goes to the metadata); --broken needs the default, lstm.

In --vocab, the two-character sequences \\n and \\t stand for a newline and a
tab. Kinds of --broken: see BROKEN below (--list-broken prints them).
"""
import argparse
import json
import math
import random
import struct
import sys

DEFAULT_VOCAB = "\\n !',.:;?abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"

BROKEN = {
    "text": "not safetensors at all: a text file",
    "empty": "a zero-byte file",
    "truncated": "a valid file cut short in its tensor data",
    "truncated-header": "a valid file cut short inside its header",
    "header-past-end": "header length larger than the file",
    "header-not-json": "a header that is not JSON",
    "offsets-outside": "a tensor whose data_offsets run past the data",
    "overlap": "two tensors sharing the same bytes",
    "shape-bytes": "a tensor whose shape does not match its byte count",
    "dtype-i64": "weights stored as I64",
    "dtype-unknown": "a dtype safetensors does not define",
    "bad-shapes": "weight_hh_l0 with the wrong shape for an LSTM",
    "no-head": "no head.weight",
    "extra-tensor": "a tensor that is not part of an LSTM LM (fc.weight)",
    "bidirectional": "lstm.weight_ih_l0_reverse present",
    "no-vocab": "no vocab in __metadata__",
    "no-metadata": "no __metadata__ at all",
    "vocab-not-json": "vocab metadata that is not JSON",
    "vocab-not-list": "vocab metadata that is a JSON object",
    "vocab-multichar": "a char vocabulary with a two-character entry",
    "vocab-size": "a vocabulary one token shorter than the head",
    "nan": "a NaN in lstm.weight_hh_l0",
    "inf": "an infinity in head.weight",
}


# --cell: module name, gate blocks (rows of weight_hh over H), nonlinearity.
CELLS = {"lstm": ("lstm", 4, None), "gru": ("gru", 3, None),
         "rnn_tanh": ("rnn", 1, "tanh"), "rnn_relu": ("rnn", 1, "relu")}


def parse_vocab(text):
    return list(text.replace("\\n", "\n").replace("\\t", "\t"))


def tensors_for(args, vocab):
    rnd = random.Random(args.seed)
    V, H, E, L = len(vocab), args.hidden, 0 if args.one_hot else args.embed, args.layers
    k = args.scale / math.sqrt(H)

    def rand(*shape):
        n = 1
        for d in shape:
            n *= d
        return (list(shape), [rnd.uniform(-k, k) for _ in range(n)])

    t = {}
    if E:
        t["embed.weight"] = ([V, E], [rnd.gauss(0.0, 1.0) for _ in range(V * E)])
    module, gates, _ = CELLS[args.cell]
    G = gates * H
    for layer in range(L):
        n_in = H if layer else (E if E else V)
        t["%s.weight_ih_l%d" % (module, layer)] = rand(G, n_in)
        t["%s.weight_hh_l%d" % (module, layer)] = rand(G, H)
        t["%s.bias_ih_l%d" % (module, layer)] = rand(G)
        t["%s.bias_hh_l%d" % (module, layer)] = rand(G)
    # A head a few times larger than PyTorch's init, so the distribution is
    # not flat and the sampler settings visibly matter.
    t["head.weight"] = ([V, H], [rnd.uniform(-3 * k, 3 * k) * args.head_gain
                                for _ in range(V * H)])
    t["head.bias"] = ([V], [rnd.uniform(-1, 1) for _ in range(V)])
    return t


def pack(dtype, values):
    if dtype == "F32":
        return struct.pack("<%df" % len(values), *values)
    if dtype == "F16":
        return struct.pack("<%de" % len(values), *values)
    if dtype == "BF16":
        out = bytearray()
        for v in values:
            bits = struct.unpack("<I", struct.pack("<f", v))[0]
            if v == v and abs(v) != float("inf"):
                bits += 0x7FFF + ((bits >> 16) & 1)  # round to nearest even
            out += struct.pack("<H", (bits >> 16) & 0xFFFF)
        return bytes(out)
    if dtype == "I64":
        return struct.pack("<%dq" % len(values), *[int(round(v)) for v in values])
    raise ValueError(dtype)


DTYPE_SIZE = {"F32": 4, "F16": 2, "BF16": 2, "I64": 8}


def serialize(tensors, metadata, dtypes=None, header_edit=None):
    """tensors: name -> (shape, values). Returns the file bytes."""
    header, blobs, offset = {}, [], 0
    for name, (shape, values) in tensors.items():
        dtype = (dtypes or {}).get(name, "F32")
        raw = pack(dtype, values)
        header[name] = {"dtype": dtype, "shape": shape,
                        "data_offsets": [offset, offset + len(raw)]}
        blobs.append(raw)
        offset += len(raw)
    if metadata is not None:
        header["__metadata__"] = metadata
    if header_edit:
        header_edit(header)
    text = json.dumps(header, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    text += b" " * ((8 - len(text) % 8) % 8)
    return struct.pack("<Q", len(text)) + text + b"".join(blobs)


def build(args):
    vocab = parse_vocab(args.vocab)
    t = tensors_for(args, vocab)
    meta = {"tokenizer": "char", "vocab": json.dumps(vocab, ensure_ascii=False),
            "description": "tiny random %d-layer %s for tests (seed %d)"
                           % (args.layers, args.cell.upper(), args.seed)}
    if CELLS[args.cell][2]:
        meta["nonlinearity"] = CELLS[args.cell][2]
    dtypes = {name: args.dtype for name in t}
    kind = args.broken
    if kind is None:
        return serialize(t, meta, dtypes)
    if kind == "text":
        return b"This is a plain text file, not a model.\nIt has two lines.\n"
    if kind == "empty":
        return b""
    if kind == "truncated":
        good = serialize(t, meta, dtypes)
        return good[:len(good) - 37]
    if kind == "truncated-header":
        good = serialize(t, meta, dtypes)
        return good[:60]
    if kind == "header-past-end":
        good = serialize(t, meta, dtypes)
        return struct.pack("<Q", len(good) * 4) + good[8:]
    if kind == "header-not-json":
        text = b"{this is not json: really not}   "
        return struct.pack("<Q", len(text)) + text + b"\0" * 16
    if kind == "offsets-outside":
        def edit(h):
            a, b = h["head.bias"]["data_offsets"]
            h["head.bias"]["data_offsets"] = [a + 4096, b + 4096]
        return serialize(t, meta, dtypes, edit)
    if kind == "overlap":
        def edit(h):
            h["lstm.bias_hh_l0"]["data_offsets"] = list(h["lstm.bias_ih_l0"]["data_offsets"])
        return serialize(t, meta, dtypes, edit)
    if kind == "shape-bytes":
        def edit(h):
            h["head.bias"]["shape"] = [h["head.bias"]["shape"][0] + 1]
        return serialize(t, meta, dtypes, edit)
    if kind == "dtype-i64":
        dtypes["lstm.weight_ih_l0"] = "I64"
        return serialize(t, meta, dtypes)
    if kind == "dtype-unknown":
        def edit(h):
            h["head.bias"]["dtype"] = "Q4_K"
        return serialize(t, meta, dtypes, edit)
    if kind == "bad-shapes":
        shape, values = t["lstm.weight_hh_l0"]
        t["lstm.weight_hh_l0"] = ([shape[0], shape[1] + 1], values + [0.0] * shape[0])
        return serialize(t, meta, dtypes)
    if kind == "no-head":
        del t["head.weight"]
        return serialize(t, meta, dtypes)
    if kind == "extra-tensor":
        t["fc.weight"] = ([2, 2], [0.0] * 4)
        return serialize(t, meta, dtypes)
    if kind == "bidirectional":
        t["lstm.weight_ih_l0_reverse"] = t["lstm.weight_ih_l0"]
        return serialize(t, meta, dtypes)
    if kind == "no-vocab":
        del meta["vocab"]
        return serialize(t, meta, dtypes)
    if kind == "no-metadata":
        return serialize(t, None, dtypes)
    if kind == "vocab-not-json":
        meta["vocab"] = "[\"a\", \"b\""
        return serialize(t, meta, dtypes)
    if kind == "vocab-not-list":
        meta["vocab"] = json.dumps({"a": 0, "b": 1})
        return serialize(t, meta, dtypes)
    if kind == "vocab-multichar":
        meta["vocab"] = json.dumps(["ab"] + vocab[1:], ensure_ascii=False)
        return serialize(t, meta, dtypes)
    if kind == "vocab-size":
        meta["vocab"] = json.dumps(vocab[:-1], ensure_ascii=False)
        return serialize(t, meta, dtypes)
    if kind == "nan":
        t["lstm.weight_hh_l0"][1][3] = float("nan")
        return serialize(t, meta, dtypes)
    if kind == "inf":
        t["head.weight"][1][5] = float("inf")
        return serialize(t, meta, dtypes)
    raise SystemExit("make_model.py: unknown --broken kind '%s' (see --list-broken)" % kind)


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--out", help="output path")
    p.add_argument("--vocab", default=DEFAULT_VOCAB,
                   help="the characters of a char vocabulary, in id order")
    p.add_argument("--embed", type=int, default=8)
    p.add_argument("--hidden", type=int, default=16)
    p.add_argument("--layers", type=int, default=1)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--one-hot", action="store_true", help="no embedding: one-hot input")
    p.add_argument("--dtype", default="F32", choices=["F32", "F16", "BF16"])
    p.add_argument("--scale", type=float, default=1.0, help="recurrent weight scale")
    p.add_argument("--head-gain", type=float, default=1.0, help="head weight scale")
    p.add_argument("--cell", default="lstm", choices=sorted(CELLS),
                   help="the recurrent layers (default lstm)")
    p.add_argument("--broken", metavar="KIND", help="write a damaged file of this kind")
    p.add_argument("--list-broken", action="store_true", help="list the kinds and exit")
    args = p.parse_args()
    if args.list_broken:
        for k, what in BROKEN.items():
            print("%-18s %s" % (k, what))
        return 0
    if not args.out:
        p.error("--out is required")
    vocab = parse_vocab(args.vocab)
    if len(set(vocab)) != len(vocab) or not vocab:
        p.error("--vocab needs distinct characters")
    if args.layers < 1 or args.hidden < 1 or args.embed < 1:
        p.error("--layers, --hidden and --embed must be positive")
    if args.broken is not None and args.cell != "lstm":
        p.error("--broken makes LSTM files only")
    if args.broken is not None and args.broken not in BROKEN:
        p.error("unknown --broken kind '%s' (one of: %s)" % (args.broken, ", ".join(BROKEN)))
    data = build(args)
    with open(args.out, "wb") as f:
        f.write(data)
    return 0


if __name__ == "__main__":
    sys.exit(main())
