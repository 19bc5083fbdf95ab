#!/usr/bin/python3
"""Convert a PyTorch recurrent language model checkpoint to a tempest safetensors file.

    /usr/bin/python3 tools/export_pytorch.py MODEL.pt OUT.safetensors \\
        [--vocab FILE | --corpus FILE] [--tokenizer char|word] [--description TEXT]
        [--module-file FILE.py]... [--nonlinearity tanh|relu]

MODEL.pt is what torch.save wrote: a whole nn.Module, a state_dict, or a dict
wrapping one of those under a common key ('state_dict', 'model_state_dict',
'model', 'module', 'net', 'network', 'weights', 'params'). The model must be
embedding (optional: without one the recurrent layers read one-hot vectors) ->
nn.LSTM, nn.GRU or nn.RNN -> nn.Linear, with state_dict names tempest accepts
(see docs/model-format.md): embed.weight | encoder.weight,
lstm.|gru.|rnn. weight_ih_lN weight_hh_lN [bias_ih_lN bias_hh_lN],
head.|decoder. weight [bias], after any prefix. A whole nn.Module whose single
nn.Embedding / recurrent module / nn.Linear carry other names is renamed to
embed / lstm|gru|rnn / head. PyTorch's word_language_model example (encoder,
rnn = LSTM, GRU, RNN_TANH or RNN_RELU, decoder) converts as it is.

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
  --corpus FILE   char models (the default): the sorted set of the corpus's
                  characters (Python's sorted(set(text)), the usual char-rnn
                  convention and what tools/train_pytorch.py uses).
  --corpus FILE --tokenizer word
                  word models: the vocabulary of PyTorch's word_language_model
                  example (data.py): each line's whitespace-separated words
                  followed by <eos>, numbered in order of first appearance.
                  data.py numbers the words of train.txt, then valid.txt, then
                  test.txt: give all three, in that order (--corpus train.txt
                  --corpus valid.txt --corpus test.txt). Several char corpora
                  give the sorted characters of them all.
  neither         a list found in the checkpoint dict (or as an attribute of a
                  pickled module) under 'vocab', 'itos', 'chars', 'tokens',
                  'idx_to_token' or 'idx2word', or a dict under 'stoi' /
                  'token_to_idx' / 'char_to_idx' / 'word2idx' mapping token -> id.
  In a word vocabulary without a newline token, <eos> (the example's end of
  line) is stored as the newline token "\\n", so tempest ends lines there.

the model's class (a whole pickled nn.Module):
  torch.save(model) stores the class by module and name (e.g. model.RNNModel
  from the example's model.py, or __main__.MyLM from a training script). The
  exporter imports it when it can (the model file's directory and this tools/
  directory are searched); --module-file FILE.py imports FILE.py as its module
  (model.py as 'model') and also serves classes pickled from __main__. A class
  still not found is stood in for by an empty nn.Module: the weights come
  through all the same, and the summary line says so.

vanilla RNN (nn.RNN): its nonlinearity is not in the state_dict. It is read
  from a pickled module, or given with --nonlinearity (a bare state_dict of an
  RNN is refused without it); it goes to the metadata key "nonlinearity".

The output holds F32 tensors (or --dtype f16/bf16, which tempest converts on
load) and __metadata__ {tokenizer, vocab (JSON list as a string), description,
and for a vanilla RNN nonlinearity}.
Exit status: 0 written, 1 refused (one line on stderr says why), 2 usage error.
"""

ROLE_PARAMS = ("weight_ih_l", "weight_hh_l", "bias_ih_l", "bias_hh_l")
WRAPPER_KEYS = ("state_dict", "model_state_dict", "model", "module", "net", "network",
                "weights", "params")
VOCAB_LIST_KEYS = ("vocab", "itos", "chars", "tokens", "idx_to_token", "idx2word")
VOCAB_MAP_KEYS = ("stoi", "token_to_idx", "char_to_idx", "word2idx")
# weight_hh_l0's rows over H for each recurrent module kind tempest runs.
CELL_GATES = {"LSTM": 4, "GRU": 3, "RNN": 1}
EOS = "<eos>"
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
    src.add_argument("--corpus", metavar="FILE", action="append",
                     help="derive the vocabulary from this text (repeatable; see below)")
    ap.add_argument("--tokenizer", choices=("char", "word"), default="char",
                    help="how tempest splits text into tokens (default: char, one "
                         "token per Unicode code point)")
    ap.add_argument("--description", metavar="TEXT",
                    help="free-form description stored in the metadata (default: "
                         "'exported from MODEL.pt by tools/export_pytorch.py')")
    ap.add_argument("--dtype", choices=("f32", "f16", "bf16"), default="f32",
                    help="tensor type in the output (default: f32)")
    ap.add_argument("--module-file", metavar="FILE.py", action="append", default=[],
                    help="a Python file defining the pickled model's class (repeatable; "
                         "see below)")
    ap.add_argument("--nonlinearity", choices=("tanh", "relu"),
                    help="a vanilla RNN's nonlinearity, when the checkpoint cannot say "
                         "(a state_dict)")
    return ap.parse_args(argv)


# --- loading -----------------------------------------------------------------

def import_module_files(paths):
    """Import each FILE.py under its own name (model.py as 'model'), as the
    pickle names it; the file runs as a module, so code under
    `if __name__ == "__main__":` does not."""
    import importlib.util
    mods = []
    for path in paths:
        if not os.path.isfile(path) or not path.endswith(".py"):
            raise ExportError(f"--module-file '{path}': not an existing .py file")
        name = os.path.splitext(os.path.basename(path))[0]
        sys.path.insert(0, os.path.dirname(os.path.abspath(path)))  # for its own imports
        spec = importlib.util.spec_from_file_location(name, path)
        mod = importlib.util.module_from_spec(spec)
        sys.modules[name] = mod
        try:
            spec.loader.exec_module(mod)
        except Exception as e:  # the user's code may raise anything
            del sys.modules[name]
            raise ExportError(f"--module-file '{path}' failed to import: "
                              f"{type(e).__name__}: {e}")
        mods.append(mod)
    return mods


def tolerant_pickle_module(extra_modules=()):
    """A pickle module whose Unpickler finds classes pickled from __main__ in
    the --module-file modules, and stands in an empty nn.Module subclass for a
    class it still cannot import: nn.Module restores its parameters from the
    pickled state alone, so the weights come through without the source."""
    import torch.nn as nn
    missing = []

    class Unpickler(pickle.Unpickler):
        def find_class(self, module, name):
            if module == "__main__":
                for m in extra_modules:
                    if hasattr(m, name):
                        return getattr(m, name)
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


def load_checkpoint(path, module_files=()):
    import torch
    # Model classes pickled from tools/train_pytorch.py resolve without help,
    # and so do those of a model.py beside the checkpoint (word_language_model).
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    if not os.path.isfile(path):
        raise ExportError(f"cannot read '{path}': no such file")
    sys.path.append(os.path.dirname(os.path.abspath(path)))
    pm, missing = tolerant_pickle_module(import_module_files(module_files))
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

def recurrent_modules(module):
    """(name, submodule) of every nn.LSTM / nn.GRU / nn.RNN inside module."""
    import torch.nn as nn
    return [(n, m) for n, m in module.named_modules() if isinstance(m, nn.RNNBase)]


def check_module_kinds(module):
    """Refuse what tempest cannot run, with the module's own words; return the
    nonlinearity of its nn.RNN ('tanh' / 'relu'), or None without one."""
    import torch.nn as nn
    for name, sub in module.named_modules():
        label = f"'{name}'" if name else "the model"
        if isinstance(sub, (nn.TransformerEncoder, nn.Transformer, nn.MultiheadAttention)):
            raise ExportError(f"{label} is a {type(sub).__name__}: tempest runs recurrent "
                              "models (LSTM, GRU, RNN) only")
    nonlinearity = None
    for name, sub in recurrent_modules(module):
        label = f"'{name}'" if name else "the model"
        kind = type(sub).__name__
        if kind not in CELL_GATES:
            raise ExportError(f"{label} is an {kind}, not an nn.LSTM, nn.GRU or nn.RNN")
        if sub.bidirectional:
            raise ExportError(f"{label} is a bidirectional {kind}, which cannot generate "
                              "text left to right")
        if getattr(sub, "proj_size", 0):
            raise ExportError(f"{label} uses proj_size={sub.proj_size}: LSTM projections "
                              "are not supported by tempest")
        if kind == "RNN":
            nonlinearity = sub.nonlinearity
    return nonlinearity


def rename_by_module(sd, module):
    """Map the single Embedding/recurrent module/Linear of a module to
    embed/lstm|gru|rnn/head."""
    import torch.nn as nn
    kinds = {nn.Embedding: "embed", nn.LSTM: "lstm", nn.GRU: "gru", nn.RNN: "rnn",
             nn.Linear: "head"}
    found = {}
    for name, sub in module.named_modules():
        for cls, role in kinds.items():
            if type(sub) is cls:
                found.setdefault(role, []).append(name)
    recurrent = [r for r in ("lstm", "gru", "rnn") if r in found]
    if any(len(v) != 1 for v in found.values()) or len(recurrent) != 1 or "head" not in found:
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
    f = {"embed": None, "head_w": None, "head_b": None, "rec": {}, "rec_module": None}

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
        elif module in ("lstm", "gru", "rnn"):
            if f["rec_module"] is None:
                f["rec_module"] = (module, name)
            elif f["rec_module"][0] != module:
                raise ExportError(f"tensors '{f['rec_module'][1]}' and '{name}' belong to "
                                  f"different recurrent modules ({f['rec_module'][0]}, "
                                  f"{module})")
            if "_reverse" in param:
                raise ExportError(f"tensor '{name}': a bidirectional recurrent layer cannot "
                                  "generate text left to right")
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
                raise ExportError(f"tensor '{name}' is not an LSTM/GRU/RNN parameter")
        else:
            raise ExportError(f"tensor '{name}' is not part of an embedding/recurrent/head "
                              "language model: tempest expects embed.|encoder.weight, "
                              "lstm.|gru.|rnn.weight_ih_lN..., head.|decoder.weight/bias")
    return f


def shape_str(t):
    return "[" + ", ".join(str(d) for d in t.shape) + "]"


def cell_of(sd, f, H):
    """'LSTM', 'GRU' or 'RNN' from weight_hh_l0's rows, as src/core/model.c
    decides, checked against the module name (rnn. may be any)."""
    hh_name = f["rec"][0][1]
    w_hh0 = sd[hh_name]
    rows = w_hh0.shape[0] if w_hh0.dim() == 2 and w_hh0.shape[1] == H else -1
    kind = {4 * H: "LSTM", 3 * H: "GRU", H: "RNN"}.get(rows)
    named = {"lstm": "LSTM", "gru": "GRU"}.get(f["rec_module"][0])
    if kind is None:
        if named:
            return named  # the shape check names the shape the name asks for
        raise ExportError(f"tensor '{hh_name}' has shape {shape_str(w_hh0)}: expected "
                          f"[4H, H] (LSTM), [3H, H] (GRU) or [H, H] (RNN) with H = {H}, "
                          "the head's width")
    if named and named != kind:
        raise ExportError(f"tensor '{hh_name}' is named like {'an' if named == 'LSTM' else 'a'} "
                          f"{named} but its {rows} rows make it {'an' if kind == 'LSTM' else 'a'} "
                          f"{kind}")
    return kind


def check_structure(sd, f):
    """Check shapes; return (V, E, H, L, has_biases, cell)."""
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
    cell = cell_of(sd, f, H)
    G = CELL_GATES[cell] * H

    def expect(name, shape):
        t = sd[name]
        if list(t.shape) != list(shape):
            raise ExportError(f"tensor '{name}' has shape {shape_str(t)}, expected "
                              f"[{', '.join(str(d) for d in shape)}]")

    if f["head_b"] is not None:
        expect(f["head_b"], [V])
    for l in range(L):
        ih, hh, bi, bh = f["rec"][l]
        expect(ih, [G, H if l else (E or V)])
        expect(hh, [G, H])
        for b in (bi, bh):
            if b is not None:
                expect(b, [G])
    for name, t in sd.items():
        if not torch.isfinite(t).all():
            raise ExportError(f"tensor '{name}' holds NaN or infinite values")
    has_bias = all(f["rec"][l][2] is not None for l in range(L))
    return V, E, H, L, has_bias, cell


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


def word_vocab_from_corpus(paths):
    """The vocabulary of PyTorch's word_language_model example (data.py's
    Corpus): every line's whitespace-separated words, then <eos>, each new
    word taking the next id, file after file."""
    ids = {}
    for path in paths:
        for line in read_text(path, "corpus").splitlines(keepends=True):
            for word in line.split() + [EOS]:
                ids.setdefault(word, len(ids))
    if len(ids) <= 1:
        raise ExportError(f"corpus {', '.join(paths)} has no words")
    return list(ids), (f"words of {', '.join(paths)} in order of first appearance, as "
                       "data.py numbers them")


def eos_as_newline(vocab):
    """A word vocabulary ends lines with <eos> in the example; tempest's
    newline token is "\n" (start token, line breaks on screen)."""
    if EOS in vocab and "\n" not in vocab:
        return [("\n" if t == EOS else t) for t in vocab], True
    return vocab, False


def resolve_nonlinearity(cell, from_module, flag):
    """The nonlinearity to store: only a vanilla RNN has one."""
    if cell != "RNN":
        if flag:
            raise ExportError(f"--nonlinearity is for a vanilla RNN; this model is an {cell}"
                              if cell == "LSTM" else
                              f"--nonlinearity is for a vanilla RNN; this model is a {cell}")
        return None
    if from_module and flag and flag != from_module:
        raise ExportError(f"--nonlinearity {flag} contradicts the pickled nn.RNN, which uses "
                          f"{from_module}")
    if not (from_module or flag):
        raise ExportError("a vanilla RNN's state_dict does not record its nonlinearity: give "
                          "--nonlinearity tanh or --nonlinearity relu")
    return from_module or flag


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
    obj, missing = load_checkpoint(args.model, args.module_file)
    sd, module, found, ckpt = unwrap(obj, args.model)
    notes = []
    if missing:
        notes.append("stood in for unimportable class(es) " + ", ".join(missing))
    module_nonlinearity = check_module_kinds(module) if module is not None else None
    sd = {k: v for k, v in sd.items()}
    try:
        f = classify(sd)
    except ExportError:
        renamed = rename_by_module(sd, module) if module is not None else None
        if renamed is None:
            raise
        notes.append("renamed the module's Embedding/recurrent layer/Linear to "
                     "embed/lstm|gru|rnn/head")
        sd = renamed
        f = classify(sd)
    V, E, H, L, has_bias, cell = check_structure(sd, f)
    nonlinearity = resolve_nonlinearity(cell, module_nonlinearity, args.nonlinearity)

    if args.vocab:
        vocab, vsource = vocab_from_file(args.vocab)
    elif args.corpus and args.tokenizer == "word":
        vocab, vsource = word_vocab_from_corpus(args.corpus)
    elif args.corpus:
        text = "".join(read_text(path, "corpus") for path in args.corpus)
        if not text:
            raise ExportError(f"corpus {', '.join(args.corpus)} is empty")
        vocab, vsource = sorted(set(text)), f"sorted characters of {', '.join(args.corpus)}"
    else:
        holder = ckpt if ckpt is not None else obj
        if isinstance(holder, torch.nn.Module):
            holder = vars(holder)
        vocab, vsource = vocab_from_checkpoint(holder)
        if vocab is None:
            raise ExportError("no vocabulary: give --vocab FILE or --corpus FILE (the "
                              "checkpoint holds none)")
    if args.tokenizer == "word":
        vocab, mapped = eos_as_newline(vocab)
        if mapped:
            notes.append(f"{EOS} stored as the newline token")
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
    if nonlinearity:
        meta["nonlinearity"] = nonlinearity

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
    kind = f"RNN ({nonlinearity})" if cell == "RNN" else cell
    print(f"wrote {args.out}: {args.tokenizer} {kind}, vocab {V} ({vsource}), {inp}, hidden "
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
