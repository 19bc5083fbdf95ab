#!/usr/bin/python3
"""Convert a PyTorch LSTM language model checkpoint to a tempest safetensors file.

    /usr/bin/python3 tools/export_pytorch.py MODEL.pt OUT.safetensors \\
        [--vocab FILE | --corpus FILE] [--tokenizer char|word] [--description TEXT]

MODEL.pt is what torch.save wrote: a whole nn.Module, a state_dict, or a dict
wrapping one of those under a common key ('state_dict', 'model_state_dict',
'model', 'module', 'net', 'network', 'weights', 'params'). The model must be
embedding (optional: without one the LSTM reads one-hot vectors) -> nn.LSTM ->
nn.Linear, with state_dict names tempest accepts (see docs/model-format.md):
embed.weight | encoder.weight, lstm.|rnn. weight_ih_lN weight_hh_lN
[bias_ih_lN bias_hh_lN], head.|decoder. weight [bias], after any prefix.
A whole nn.Module whose single nn.Embedding / nn.LSTM / nn.Linear carry other
names is renamed to embed / lstm / head.

Everything is checked before OUT is written; on error one line goes to stderr
and the exit status is 1 (2 for bad command-line usage).
"""
import argparse
import io
import json
import os
import pickle
import re
import sys
import types
import warnings

PROG = "export_pytorch"

EPILOG = """\
vocabulary (the token with id i is entry i; the count must equal the head's rows):
  --vocab FILE    a JSON list of strings when the file's first non-blank character
                  is '[' (so use JSON if your first token is '['); otherwise
                  one token per line, exactly as written (only the line's '\\n' is
                  removed, so spaces count). A line holding just \\n, \\t, \\r or \\\\
                  stands for newline, tab, carriage return or backslash.
  --corpus FILE   char models only: the sorted set of the corpus's characters
                  (Python's sorted(set(text)), the usual char-rnn convention and
                  what tools/train_pytorch.py uses).
  neither         a list found in the checkpoint dict (or as an attribute of a
                  pickled module) under 'vocab', 'itos', 'chars', 'tokens' or
                  'idx_to_token', or a dict under 'stoi' / 'token_to_idx' /
                  'char_to_idx' mapping token -> id.

The output holds F32 tensors (or --dtype f16/bf16, which tempest converts on
load) and __metadata__ {tokenizer, vocab (JSON list as a string), description}.
Exit status: 0 written, 1 refused (one line on stderr says why), 2 usage error.
"""

ROLE_PARAMS = ("weight_ih_l", "weight_hh_l", "bias_ih_l", "bias_hh_l")
WRAPPER_KEYS = ("state_dict", "model_state_dict", "model", "module", "net", "network",
                "weights", "params")
VOCAB_LIST_KEYS = ("vocab", "itos", "chars", "tokens", "idx_to_token")
VOCAB_MAP_KEYS = ("stoi", "token_to_idx", "char_to_idx")
MAX_TOKEN_BYTES = 256
MAX_LAYERS = 16


class ExportError(Exception):
    pass


class Parser(argparse.ArgumentParser):
    def error(self, message):
        sys.stderr.write(f"{PROG}: usage error: {message} (see --help)\n")
        sys.exit(2)


def parse_args(argv):
    ap = Parser(prog="tools/export_pytorch.py",
                description=__doc__.split("\n\n", 2)[2],
                epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("model", metavar="MODEL.pt", help="checkpoint written by torch.save")
    ap.add_argument("out", metavar="OUT.safetensors", help="file to write")
    src = ap.add_mutually_exclusive_group()
    src.add_argument("--vocab", metavar="FILE", help="vocabulary file (see below)")
    src.add_argument("--corpus", metavar="FILE",
                     help="char models: derive the vocabulary from this text")
    ap.add_argument("--tokenizer", choices=("char", "word"), default="char",
                    help="how tempest splits text into tokens (default: char, one "
                         "token per Unicode code point)")
    ap.add_argument("--description", metavar="TEXT",
                    help="free-form description stored in the metadata (default: "
                         "'exported from MODEL.pt by tools/export_pytorch.py')")
    ap.add_argument("--dtype", choices=("f32", "f16", "bf16"), default="f32",
                    help="tensor type in the output (default: f32)")
    return ap.parse_args(argv)


# --- loading -----------------------------------------------------------------

def tolerant_pickle_module():
    """A pickle module whose Unpickler stands in an empty nn.Module subclass for
    a class it cannot import (a model class defined in the training script's
    __main__, say): nn.Module restores its parameters from the pickled state
    alone, so the weights come through without the original source."""
    import torch.nn as nn
    missing = []

    class Unpickler(pickle.Unpickler):
        def find_class(self, module, name):
            try:
                return super().find_class(module, name)
            except (AttributeError, ImportError):
                missing.append(f"{module}.{name}")
                return type(name, (nn.Module,), {"__module__": module,
                                                  "forward": lambda self, *a: None})

    mod = types.ModuleType("tolerant_pickle")
    for key in dir(pickle):
        if not key.startswith("__"):
            setattr(mod, key, getattr(pickle, key))
    mod.Unpickler = Unpickler
    mod.load = lambda f, **kw: Unpickler(f, **kw).load()
    mod.loads = lambda b, **kw: Unpickler(io.BytesIO(b), **kw).load()
    return mod, missing


def load_checkpoint(path):
    import torch
    # Model classes pickled from tools/train_pytorch.py resolve without help.
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    if not os.path.isfile(path):
        raise ExportError(f"cannot read '{path}': no such file")
    pm, missing = tolerant_pickle_module()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            # Debian's torch 1.13 ignores pickle_module= and uses the module
            # global torch.serialization.pickle, so swap that in for the call.
            saved = torch.serialization.pickle
            torch.serialization.pickle = pm
            try:
                obj = torch.load(path, map_location="cpu", pickle_module=pm)
            finally:
                torch.serialization.pickle = saved
    except Exception as e:  # torch raises many kinds for a bad file
        msg = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
        with open(path, "rb") as fh:
            head = fh.read(9)
        if len(head) == 9 and head[8:9] == b"{":
            raise ExportError(f"'{path}' looks like a safetensors file already; tempest "
                              "reads it directly (tempest inspect FILE)")
        raise ExportError(f"cannot load '{path}' with torch.load (is it a torch.save "
                          f"file?): {msg}")
    return obj, sorted(set(missing))


def is_tensor_dict(obj):
    import torch
    return isinstance(obj, dict) and obj and all(
        isinstance(k, str) and isinstance(v, torch.Tensor) for k, v in obj.items())


def unwrap(obj, path):
    """(state_dict, nn.Module or None, where it was found, the dict it came from)."""
    import torch.nn as nn
    if isinstance(obj, nn.Module):
        return obj.state_dict(), obj, "a pickled nn.Module (" + type(obj).__name__ + ")", None
    if is_tensor_dict(obj):
        return obj, None, "a state_dict", None
    if isinstance(obj, dict):
        for key in WRAPPER_KEYS:
            inner = obj.get(key)
            if isinstance(inner, nn.Module):
                return (inner.state_dict(), inner,
                        f"a pickled nn.Module ({type(inner).__name__}) under checkpoint['{key}']",
                        obj)
            if is_tensor_dict(inner):
                return inner, None, f"a state_dict under checkpoint['{key}']", obj
        keys = ", ".join(repr(k) for k in list(obj)[:8])
        raise ExportError(f"'{path}' is a dict without model weights (keys: {keys}); "
                          f"expected a state_dict or one under {', '.join(WRAPPER_KEYS[:4])}...")
    raise ExportError(f"'{path}' holds a {type(obj).__name__}, not an nn.Module or a "
                      "state_dict")


# --- structure ---------------------------------------------------------------

def check_module_kinds(module):
    """Refuse recurrent layers tempest cannot run, with the module's own words."""
    import torch.nn as nn
    for name, sub in module.named_modules():
        label = f"'{name}'" if name else "the model"
        if isinstance(sub, nn.GRU):
            raise ExportError(f"{label} is an nn.GRU: tempest runs LSTM models only")
        if isinstance(sub, nn.RNN):
            raise ExportError(f"{label} is a plain nn.RNN: tempest runs LSTM models only")
        if isinstance(sub, nn.LSTM):
            if sub.bidirectional:
                raise ExportError(f"{label} is a bidirectional LSTM, which cannot generate "
                                  "text left to right")
            if getattr(sub, "proj_size", 0):
                raise ExportError(f"{label} uses proj_size={sub.proj_size}: LSTM projections "
                                  "are not supported by tempest")


def rename_by_module(sd, module):
    """Map the single Embedding/LSTM/Linear of a module to embed/lstm/head."""
    import torch.nn as nn
    kinds = {nn.Embedding: "embed", nn.LSTM: "lstm", nn.Linear: "head"}
    found = {}
    for name, sub in module.named_modules():
        for cls, role in kinds.items():
            if type(sub) is cls:
                found.setdefault(role, []).append(name)
    if any(len(v) != 1 for v in found.values()) or "lstm" not in found or "head" not in found:
        return None
    rename = {}
    for role, (name,) in found.items():
        for key in sd:
            if name and key.startswith(name + "."):
                rename[key] = role + key[len(name):]
    if len(rename) != len(sd):
        return None
    return {rename[k]: v for k, v in sd.items()}


def split_name(name):
    parts = name.split(".")
    if len(parts) < 2 or not parts[-2]:
        return None, None
    return parts[-2], parts[-1]


def classify(sd):
    """Sort tensors into roles as src/core/model.c does; raise on anything else."""
    f = {"embed": None, "head_w": None, "head_b": None, "rec": {}}

    def place(slot_get, slot_set, name):
        if slot_get() is not None:
            raise ExportError(f"tensors '{slot_get()}' and '{name}' play the same part")
        slot_set(name)

    for name, t in sd.items():
        module, param = split_name(name)
        if module is None:
            raise ExportError(f"tensor '{name}' is not part of an embedding/LSTM/head "
                              "language model (names look like lstm.weight_ih_l0)")
        if module in ("embed", "encoder") and param == "weight":
            place(lambda: f["embed"], lambda n: f.__setitem__("embed", n), name)
        elif module in ("head", "decoder") and param in ("weight", "bias"):
            key = "head_w" if param == "weight" else "head_b"
            place(lambda: f[key], lambda n: f.__setitem__(key, n), name)
        elif module in ("lstm", "rnn"):
            if "_reverse" in param:
                raise ExportError(f"tensor '{name}': a bidirectional LSTM cannot generate "
                                  "text left to right")
            if param.startswith("weight_hr_l"):
                raise ExportError(f"tensor '{name}': LSTM projections (proj_size) are not "
                                  "supported")
            for k, kind in enumerate(ROLE_PARAMS):
                m = re.fullmatch(re.escape(kind) + r"(\d+)", param)
                if m:
                    layer = int(m.group(1))
                    if layer >= MAX_LAYERS:
                        raise ExportError(f"tensor '{name}': layer number must be 0 to "
                                          f"{MAX_LAYERS - 1}")
                    slots = f["rec"].setdefault(layer, [None] * 4)
                    if slots[k] is not None:
                        raise ExportError(f"tensors '{slots[k]}' and '{name}' play the "
                                          "same part")
                    slots[k] = name
                    break
            else:
                raise ExportError(f"tensor '{name}' is not an LSTM parameter")
        elif module == "gru":
            raise ExportError(f"tensor '{name}': GRU models are not supported: tempest "
                              "runs LSTM models only")
        else:
            raise ExportError(f"tensor '{name}' is not part of an embedding/LSTM/head "
                              "language model: tempest expects embed.|encoder.weight, "
                              "lstm.|rnn.weight_ih_lN..., head.|decoder.weight/bias")
    return f


def shape_str(t):
    return "[" + ", ".join(str(d) for d in t.shape) + "]"


def check_structure(sd, f):
    """Check shapes; return (V, E, H, L, has_biases)."""
    import torch
    for name, t in sd.items():
        if not t.is_floating_point():
            raise ExportError(f"tensor '{name}' has dtype {t.dtype}; weights must be "
                              "floating point")
    if f["head_w"] is None:
        raise ExportError("no output layer: expected 'head.weight' or 'decoder.weight'")
    if not f["rec"]:
        raise ExportError("no recurrent layer: expected 'lstm.weight_ih_l0' and friends")
    L = max(f["rec"]) + 1
    for l in range(L):
        slots = f["rec"].get(l, [None] * 4)
        if slots[0] is None or slots[1] is None:
            raise ExportError(f"layer {l} lacks weight_ih_l{l} or weight_hh_l{l}")
        if (slots[2] is None) != (slots[3] is None):
            raise ExportError(f"layer {l} has only one of bias_ih_l{l} and bias_hh_l{l}")
    hw = sd[f["head_w"]]
    if hw.dim() != 2:
        raise ExportError(f"tensor '{f['head_w']}' has shape {shape_str(hw)}, expected "
                          "[vocab, hidden]")
    V, H = hw.shape
    E = 0
    if f["embed"] is not None:
        e = sd[f["embed"]]
        if e.dim() != 2 or e.shape[0] != V:
            raise ExportError(f"tensor '{f['embed']}' has shape {shape_str(e)}, expected "
                              f"[{V}, embed] (the head has {V} rows)")
        E = e.shape[1]
    w_hh0 = sd[f["rec"][0][1]]
    if w_hh0.dim() == 2 and w_hh0.shape[1] > 0 and w_hh0.shape[0] != 4 * w_hh0.shape[1]:
        kind = {3: "a GRU", 1: "a plain RNN"}.get(w_hh0.shape[0] // w_hh0.shape[1]
                                                  if w_hh0.shape[0] % w_hh0.shape[1] == 0
                                                  else 0)
        if kind:
            raise ExportError(f"tensor '{f['rec'][0][1]}' has shape {shape_str(w_hh0)}: "
                              f"this is {kind} layer, and tempest runs LSTM models only")

    def expect(name, shape):
        t = sd[name]
        if list(t.shape) != list(shape):
            raise ExportError(f"tensor '{name}' has shape {shape_str(t)}, expected "
                              f"[{', '.join(str(d) for d in shape)}]")

    if f["head_b"] is not None:
        expect(f["head_b"], [V])
    for l in range(L):
        ih, hh, bi, bh = f["rec"][l]
        expect(ih, [4 * H, H if l else (E or V)])
        expect(hh, [4 * H, H])
        for b in (bi, bh):
            if b is not None:
                expect(b, [4 * H])
    for name, t in sd.items():
        if not torch.isfinite(t).all():
            raise ExportError(f"tensor '{name}' holds NaN or infinite values")
    has_bias = all(f["rec"][l][2] is not None for l in range(L))
    return V, E, H, L, has_bias


# --- vocabulary ----------------------------------------------------------------

LINE_ESCAPES = {"\\n": "\n", "\\t": "\t", "\\r": "\r", "\\\\": "\\"}


def read_text(path, what):
    try:
        with open(path, encoding="utf-8", newline="") as fh:
            return fh.read()
    except OSError as e:
        raise ExportError(f"cannot read {what} '{path}': {e.strerror}")
    except UnicodeDecodeError as e:
        raise ExportError(f"{what} '{path}' is not UTF-8 (byte {e.start})")


def vocab_from_file(path):
    text = read_text(path, "vocabulary")
    if text.lstrip().startswith("["):
        try:
            vocab = json.loads(text)
        except json.JSONDecodeError as e:
            raise ExportError(f"vocabulary '{path}' starts with '[' but is not valid "
                              f"JSON: {e.msg} at line {e.lineno}")
        if not isinstance(vocab, list) or not all(isinstance(x, str) for x in vocab):
            raise ExportError(f"vocabulary '{path}' must be a JSON list of strings")
        return vocab, f"a JSON list in {path}"
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    return [LINE_ESCAPES.get(x, x) for x in lines], f"one token per line in {path}"


def vocab_from_checkpoint(ckpt):
    if not isinstance(ckpt, dict):
        return None, None
    for key in VOCAB_LIST_KEYS:
        v = ckpt.get(key)
        if isinstance(v, (list, tuple)) and v and all(isinstance(x, str) for x in v):
            return list(v), f"checkpoint['{key}']"
        if isinstance(v, str) and len(v) > 1 and key == "chars":
            return list(v), f"checkpoint['{key}']"
    for key in VOCAB_MAP_KEYS:
        m = ckpt.get(key)
        if isinstance(m, dict) and m and all(isinstance(k, str) and isinstance(i, int)
                                             for k, i in m.items()):
            ids = sorted(m.values())
            if ids != list(range(len(m))):
                raise ExportError(f"checkpoint['{key}'] does not map tokens to ids "
                                  f"0..{len(m) - 1}")
            inv = {i: k for k, i in m.items()}
            return [inv[i] for i in range(len(m))], f"checkpoint['{key}']"
    return None, None


def check_vocab(vocab, tokenizer, V, source):
    if len(vocab) != V:
        raise ExportError(f"the vocabulary ({source}) has {len(vocab)} tokens but the "
                          f"head has {V} rows")
    seen = {}
    for i, tok in enumerate(vocab):
        try:
            nbytes = len(tok.encode("utf-8"))
        except UnicodeEncodeError:
            raise ExportError(f"vocab entry {i} is not valid UTF-8")
        if nbytes == 0 or nbytes > MAX_TOKEN_BYTES:
            raise ExportError(f"vocab entry {i} is empty or longer than {MAX_TOKEN_BYTES} "
                              "bytes")
        if tokenizer == "char" and len(tok) != 1:
            raise ExportError(f"vocab entry {i} ({tok!r}) has {len(tok)} characters; a "
                              "char vocabulary needs exactly one per entry (--tokenizer "
                              "word?)")
        if tok in seen:
            raise ExportError(f"vocab entries {seen[tok]} and {i} are both {tok!r}")
        seen[tok] = i


# --- main --------------------------------------------------------------------

def export(args):
    import torch
    obj, missing = load_checkpoint(args.model)
    sd, module, found, ckpt = unwrap(obj, args.model)
    notes = []
    if missing:
        notes.append("stood in for unimportable class(es) " + ", ".join(missing))
    if module is not None:
        check_module_kinds(module)
    sd = {k: v for k, v in sd.items()}
    try:
        f = classify(sd)
    except ExportError:
        renamed = rename_by_module(sd, module) if module is not None else None
        if renamed is None:
            raise
        notes.append("renamed the module's Embedding/LSTM/Linear to embed/lstm/head")
        sd = renamed
        f = classify(sd)
    V, E, H, L, has_bias = check_structure(sd, f)

    if args.vocab:
        vocab, vsource = vocab_from_file(args.vocab)
    elif args.corpus:
        if args.tokenizer != "char":
            raise ExportError("--corpus builds a char vocabulary; give --vocab FILE for a "
                              "word model")
        text = read_text(args.corpus, "corpus")
        if not text:
            raise ExportError(f"corpus '{args.corpus}' is empty")
        vocab, vsource = sorted(set(text)), f"sorted characters of {args.corpus}"
    else:
        holder = ckpt if ckpt is not None else obj
        if isinstance(holder, torch.nn.Module):
            holder = vars(holder)
        vocab, vsource = vocab_from_checkpoint(holder)
        if vocab is None:
            raise ExportError("no vocabulary: give --vocab FILE or --corpus FILE (the "
                              "checkpoint holds none)")
    check_vocab(vocab, args.tokenizer, V, vsource)

    dtype = {"f32": torch.float32, "f16": torch.float16, "bf16": torch.bfloat16}[args.dtype]
    out = {}
    for name, t in sd.items():
        c = t.detach().to(torch.float32).to(dtype)
        if not torch.isfinite(c.float()).all():
            raise ExportError(f"tensor '{name}' overflows {args.dtype.upper()}: use "
                              "--dtype f32")
        out[name] = c
    description = args.description if args.description is not None else \
        f"exported from {os.path.basename(args.model)} by tools/export_pytorch.py"
    meta = {"tokenizer": args.tokenizer,
            "vocab": json.dumps(vocab, ensure_ascii=False),
            "description": description}

    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    import safetensors_io
    tmp = args.out + ".tmp"
    try:
        safetensors_io.save(tmp, out, meta)
        os.replace(tmp, args.out)
    except OSError as e:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise ExportError(f"cannot write '{args.out}': {e.strerror}")

    n_params = sum(t.numel() for t in sd.values())
    inp = f"embedding {E}" if E else "one-hot input"
    print(f"wrote {args.out}: {args.tokenizer} LSTM, vocab {V} ({vsource}), {inp}, hidden "
          f"{H}, {L} layer{'s' if L > 1 else ''}{'' if has_bias else ' without biases'}, "
          f"{n_params} parameters, {args.dtype.upper()}; from {found}"
          + ("; " + "; ".join(notes) if notes else ""))


def main(argv=None):
    args = parse_args(sys.argv[1:] if argv is None else argv)
    try:
        import torch
        torch.set_num_threads(1)
    except ImportError:
        sys.stderr.write(f"{PROG}: error: PyTorch is not importable by {sys.executable}; "
                         "run with /usr/bin/python3 (Debian's python3-torch)\n")
        return 1
    try:
        export(args)
    except ExportError as e:
        sys.stderr.write(f"{PROG}: error: {e}\n")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
