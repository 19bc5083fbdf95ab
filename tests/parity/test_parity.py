#!/usr/bin/python3
"""Parity of tempest with PyTorch (Debian's python3-torch, /usr/bin/python3).

For each model, tempest's logits (`tempest eval --dump-logits`) must equal
PyTorch's, run over the same text from a zero state, within 1e-4 at every
step; `tempest eval --json` must report PyTorch's mean cross-entropy within
1e-4; tools/export_pytorch.py must turn torch.save'd modules and state_dicts
into files tempest runs identically, and refuse what tempest cannot run.
Models: LSTM, GRU and vanilla RNN (tanh, relu), multi-layer, with embedding
and one-hot input, F32/F16/BF16 files, and word models built like PyTorch's
word_language_model example (tests/tools/make_wlm.py).

Protocol (tests/run_all.sh): one line per check, `PASS name`, `FAIL name: why`
or `SKIP name: why`; lines starting with '#' are information (the measured
differences). Exit status 0 unless something outside the checks crashed.

Environment: PARITY_TRAINED_MODEL=PATH checks another trained model in place
of models/shakespeare-small.safetensors (the (64, 256, 2) model: the default
one runs the same code, four times slower).
"""
import copy
import json
import os
import shutil
import subprocess
import sys
import tempfile
import traceback

import torch
from torch import nn

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
TEMPEST = os.path.join(ROOT, "tempest")
EXPORT = os.path.join(ROOT, "tools", "export_pytorch.py")
TRAINED = os.environ.get("PARITY_TRAINED_MODEL") or \
    os.path.join(ROOT, "models", "shakespeare-small.safetensors")
CORPUS = os.path.join(ROOT, "..", "shared", "corpora", "tinyshakespeare.txt")
PY = "/usr/bin/python3"
TOL = 1e-4

sys.path.insert(0, os.path.join(ROOT, "tools"))
sys.path.insert(0, os.path.join(ROOT, "tests", "tools"))
import make_wlm  # noqa: E402  (imports tests/tools/wlm/model.py as model)
import safetensors_io  # noqa: E402
import train_pytorch  # noqa: E402

# 200 characters, all within tinyshakespeare's 65-character vocabulary.
TEXT = ("ROMEO:\nBut soft, what light through yonder window breaks?\nIt is the east, "
        "and Juliet is the sun.\n\nJULIET:\nO Romeo, Romeo! wherefore art thou Romeo?\n"
        "Deny thy father and refuse thy name;\nOr, if thou wilt not, be but sworn my love.\n"
        )[:200]
VOCAB = sorted(set(TEXT))
V = len(VOCAB)
# 400 characters for the GRU and RNN runs: a few hundred steps.
LONG_TEXT = (TEXT + TEXT[::-1])[:400]
WLM_MODULE = os.path.join(ROOT, "tests", "tools", "wlm", "model.py")

TMP = tempfile.mkdtemp(prefix="tempest-parity-")
results = {"PASS": 0, "FAIL": 0, "SKIP": 0}


def report(kind, name, why=""):
    results[kind] += 1
    print(f"{kind} {name}" + (f": {why}" if why else ""), flush=True)


def info(msg):
    print("# " + msg, flush=True)


def check(name, fn):
    """Run one check: fn returns None (pass), raises Skip, or raises anything
    else (fail, with the message)."""
    try:
        fn()
    except Skip as s:
        report("SKIP", name, str(s))
    except Exception as e:  # a check failing is not the suite crashing
        msg = str(e) or type(e).__name__
        if not isinstance(e, AssertionError):
            msg = f"{type(e).__name__}: {msg} ({traceback.extract_tb(e.__traceback__)[-1].lineno})"
        report("FAIL", name, msg.replace("\n", " | ")[:400])
    else:
        report("PASS", name)


class Skip(Exception):
    pass


def tmp(name):
    return os.path.join(TMP, name)


# --- models ------------------------------------------------------------------

class OneHotLM(nn.Module):
    """No embedding: the LSTM reads one-hot vectors as wide as the vocabulary."""

    def __init__(self, vocab_size, hidden, layers):
        super().__init__()
        self.vocab_size = vocab_size
        self.lstm = nn.LSTM(vocab_size, hidden, layers, batch_first=True)
        self.head = nn.Linear(hidden, vocab_size)

    def forward(self, tokens, state=None):
        x = nn.functional.one_hot(tokens, self.vocab_size).float()
        out, state = self.lstm(x, state)
        return self.head(out), state


class EncDec(nn.Module):
    """The word_language_model naming: encoder / rnn / decoder, no biases."""

    def __init__(self, vocab_size, embed, hidden, layers):
        super().__init__()
        self.encoder = nn.Embedding(vocab_size, embed)
        self.rnn = nn.LSTM(embed, hidden, layers, batch_first=True, bias=False)
        self.decoder = nn.Linear(hidden, vocab_size, bias=False)

    def forward(self, tokens, state=None):
        out, state = self.rnn(self.encoder(tokens), state)
        return self.decoder(out), state


class Wrapped(nn.Module):
    """Puts a 'model.' prefix on every name."""

    def __init__(self, inner):
        super().__init__()
        self.model = inner

    def forward(self, tokens, state=None):
        return self.model(tokens, state)


class CellLM(nn.Module):
    """embed (or one-hot) -> nn.GRU / nn.RNN (tanh, relu) / nn.LSTM -> head,
    the recurrent module named gru, rnn or lstm."""
    MODULES = {"LSTM": ("lstm", nn.LSTM, {}), "GRU": ("gru", nn.GRU, {}),
               "RNN_TANH": ("rnn", nn.RNN, {"nonlinearity": "tanh"}),
               "RNN_RELU": ("rnn", nn.RNN, {"nonlinearity": "relu"})}

    def __init__(self, cell, vocab_size, embed, hidden, layers, bidirectional=False):
        super().__init__()
        self.vocab_size = vocab_size
        self.rec_name, cls, kw = self.MODULES[cell]
        self.embed = nn.Embedding(vocab_size, embed) if embed else None
        setattr(self, self.rec_name, cls(embed or vocab_size, hidden, layers, batch_first=True,
                                         bidirectional=bidirectional, **kw))
        self.head = nn.Linear(hidden, vocab_size)

    def forward(self, tokens, state=None):
        x = self.embed(tokens) if self.embed is not None else \
            nn.functional.one_hot(tokens, self.vocab_size).float()
        out, state = getattr(self, self.rec_name)(x, state)
        return self.head(out), state


class FromTensors(nn.Module):
    """A PyTorch model rebuilt from a tempest-named tensor dict, so the trained
    model in the repository can be run by torch.nn.LSTM itself."""

    def __init__(self, tensors):
        super().__init__()
        roles = {}
        for name, t in tensors.items():
            module, param = name.split(".")[-2:]
            roles[(module in ("embed", "encoder") and "embed") or
                  (module in ("head", "decoder") and "head") or "lstm", param] = t
        head_w = roles["head", "weight"]
        vocab_size, hidden = head_w.shape
        layers = 1 + max(int(p.rsplit("_l", 1)[1]) for (m, p) in roles if m == "lstm")
        has_bias = ("lstm", "bias_ih_l0") in roles
        self.vocab_size = vocab_size
        self.embed = None
        if ("embed", "weight") in roles:
            self.embed = nn.Embedding.from_pretrained(roles["embed", "weight"])
        n_in = self.embed.embedding_dim if self.embed is not None else vocab_size
        self.lstm = nn.LSTM(n_in, hidden, layers, batch_first=True, bias=has_bias)
        self.head = nn.Linear(hidden, vocab_size, bias=("head", "bias") in roles)
        with torch.no_grad():
            for (m, p), t in roles.items():
                target = {"lstm": self.lstm, "head": self.head}.get(m)
                if target is not None:
                    getattr(target, p).copy_(t)

    def forward(self, tokens, state=None):
        x = self.embed(tokens) if self.embed is not None else \
            nn.functional.one_hot(tokens, self.vocab_size).float()
        out, state = self.lstm(x, state)
        return self.head(out), state


def widen(model, scale=0.5):
    """Re-draw LSTM and head weights from U(-scale, scale). PyTorch's default
    init (U(+-1/sqrt(H))) gives logits of about 0.2, too small to show a
    mistake; with these the logits span several units and the gates work
    across their range, so an error anywhere shows up in the logits."""
    with torch.no_grad():
        for name, p in model.named_parameters():
            if "encoder" not in name and "embed" not in name:
                p.uniform_(-scale, scale)
    return model


def char_meta(vocab, description, nonlinearity=None):
    meta = {"tokenizer": "char", "vocab": json.dumps(vocab, ensure_ascii=False),
            "description": description}
    if nonlinearity:
        meta["nonlinearity"] = nonlinearity
    return meta


# --- running both sides --------------------------------------------------------

def write_text(name, text):
    path = tmp(name)
    with open(path, "w", encoding="utf-8", newline="") as f:
        f.write(text)
    return path


def tempest(*args, timeout=60):
    return subprocess.run([TEMPEST, *args], capture_output=True, text=True,
                          timeout=timeout)


def tempest_logits(model_path, text):
    """tempest's logits for positions 0..n-2 as a float64 tensor [n-1, V]."""
    text_path = write_text("text.txt", text)
    dump = tmp("logits.txt")
    r = tempest("eval", "--model", model_path, "--text", text_path, "--dump-logits", dump)
    assert r.returncode == 0, f"tempest eval exited {r.returncode}: {r.stderr.strip()}"
    with open(dump) as f:
        rows = [[float(x) for x in line.split()] for line in f]
    return torch.tensor(rows, dtype=torch.float64)


@torch.no_grad()
def torch_logits(model, vocab, text):
    """PyTorch's logits over text[:-1] from a zero state, [n-1, V]."""
    model.eval()
    ids = train_pytorch.encode(text, vocab)
    logits, _ = model(ids[:-1].unsqueeze(0))
    return logits[0].double()


def compare_logits(model_path, model, vocab, text, label):
    """Max |tempest - PyTorch| over every step; asserts shape and tolerance."""
    ours = tempest_logits(model_path, text)
    ref = torch_logits(model, vocab, text)
    n_tok = len(text)
    assert ours.shape == ref.shape, (f"tempest dumped {tuple(ours.shape)} logits, PyTorch "
                                     f"has {tuple(ref.shape)} for {n_tok} characters")
    diff = (ours - ref).abs()
    worst = diff.max().item()
    step = int(diff.max(dim=1).values.argmax())
    info(f"{label}: {ref.shape[0]} steps x {ref.shape[1]} logits, max |tempest - PyTorch|"
         f" = {worst:.3g} (step {step}), logits up to {ref.abs().max().item():.3g}")
    assert worst <= TOL, f"max |logit difference| {worst:.3g} > {TOL} at step {step}"
    return worst


def expect_parity_broken(path, model, text, label):
    """Negative control: the file at path must fail the parity check."""
    try:
        compare_logits(path, model, VOCAB, text, label)
    except AssertionError as e:
        info(f"{label} detected as intended: {e}")
        return
    raise AssertionError(f"{label} still passed the parity check")


@torch.no_grad()
def torch_nats(model, vocab, text):
    model.eval()
    ids = train_pytorch.encode(text, vocab)
    logits, _ = model(ids[:-1].unsqueeze(0))
    return nn.functional.cross_entropy(logits[0].double(), ids[1:]).item()


def compare_eval(model_path, model, vocab, text, label):
    r = tempest("eval", "--model", model_path, "--text", write_text("eval.txt", text),
                "--json")
    assert r.returncode == 0, f"tempest eval --json exited {r.returncode}: {r.stderr.strip()}"
    got = json.loads(r.stdout)
    want = torch_nats(model, vocab, text)
    info(f"{label}: tempest {got['nats_per_token']:.8f} nats/token, PyTorch {want:.8f}, "
         f"|diff| {abs(got['nats_per_token'] - want):.3g} over {got['tokens']} tokens")
    assert got["tokens"] == len(text) - 1, f"tokens {got['tokens']}, expected {len(text) - 1}"
    assert abs(got["nats_per_token"] - want) <= TOL, \
        f"nats_per_token {got['nats_per_token']} vs PyTorch {want}"


def save_model(path, model, vocab, dtype=None, description="parity test model",
               nonlinearity=None):
    sd = model.state_dict()
    if dtype is not None:
        sd = {k: v.to(dtype) for k, v in sd.items()}
    safetensors_io.save(path, sd, char_meta(vocab, description, nonlinearity))


def rounded_copy(model, dtype):
    """A deep copy whose weights went through dtype and back to float32."""
    clone = copy.deepcopy(model)
    with torch.no_grad():
        for p in clone.parameters():
            p.copy_(p.to(dtype).float())
    return clone


def export(*args):
    return subprocess.run([PY, EXPORT, *args], capture_output=True, text=True, timeout=120)


def export_refused(name, checkpoint, pattern, *flags):
    """torch.save checkpoint; the exporter must exit 1 with one line holding
    pattern, and write nothing."""
    pt, out = tmp(name + ".pt"), tmp(name + ".safetensors")
    torch.save(checkpoint, pt)
    r = export(pt, out, *flags)
    err = r.stderr.strip().splitlines()
    info(f"export {name}: exit {r.returncode}, stderr {r.stderr.strip()!r}")
    assert r.returncode == 1, f"exit {r.returncode}, expected 1"
    assert len(err) == 1, f"{len(err)} lines on stderr: {r.stderr!r}"
    assert pattern.lower() in err[0].lower(), f"stderr lacks '{pattern}': {err[0]}"
    assert not os.path.exists(out), "an output file was written anyway"


# --- checks ---------------------------------------------------------------------

def main():
    torch.set_num_threads(1)
    if not os.access(TEMPEST, os.X_OK):
        report("FAIL", "tempest-binary", f"{TEMPEST} is missing: run make")
        return
    measured = {}

    torch.manual_seed(1234)
    embed_model = widen(train_pytorch.LSTMLanguageModel(V, embed=16, hidden=32, layers=2))
    onehot_model = widen(OneHotLM(V, hidden=32, layers=2))
    encdec_model = widen(Wrapped(EncDec(V, embed=12, hidden=24, layers=3)))
    models = {"random-embed": embed_model, "random-onehot": onehot_model,
              "random-encoder-rnn-decoder-prefixed": encdec_model}
    for name, model in models.items():
        path = tmp(name + ".safetensors")
        save_model(path, model, VOCAB)

        def run(name=name, model=model, path=path):
            measured[name] = compare_logits(path, model, VOCAB, TEXT, name)
        check(f"logits-{name}", run)

    def names_as_expected():
        tensors, _ = safetensors_io.load(tmp("random-encoder-rnn-decoder-prefixed.safetensors"))
        assert "model.encoder.weight" in tensors and "model.rnn.weight_ih_l2" in tensors \
            and "model.decoder.weight" in tensors and "model.rnn.bias_ih_l0" not in tensors \
            and "model.decoder.bias" not in tensors, f"unexpected names: {sorted(tensors)}"
    check("names-prefixed-variant-has-no-biases", names_as_expected)

    def eval_random():
        compare_eval(tmp("random-embed.safetensors"), embed_model, VOCAB, TEXT,
                     "eval random-embed")
    check("eval-random-embed", eval_random)

    def perturbation_detected():
        """Negative control: one weight off by 0.01 must break parity."""
        path = tmp("perturbed.safetensors")
        sd = {k: v.clone() for k, v in embed_model.state_dict().items()}
        sd["lstm.weight_hh_l1"][5, 7] += 0.01
        safetensors_io.save(path, sd, char_meta(VOCAB, "perturbed"))
        expect_parity_broken(path, embed_model, TEXT, "perturbed weight (by 0.01)")
    check("parity-check-detects-a-perturbed-weight", perturbation_detected)

    for label, dtype in (("f16", torch.float16), ("bf16", torch.bfloat16)):
        def run(label=label, dtype=dtype):
            path = tmp(f"random-{label}.safetensors")
            save_model(path, embed_model, VOCAB, dtype=dtype)
            with open(path, "rb") as f:
                n = int.from_bytes(f.read(8), "little")
                header = json.loads(f.read(n))
            dtypes = {v["dtype"] for k, v in header.items() if k != "__metadata__"}
            assert dtypes == {label.upper()}, f"file holds {dtypes}"
            measured["random-" + label] = compare_logits(
                path, rounded_copy(embed_model, dtype), VOCAB, TEXT, f"random-embed {label}")
        check(f"logits-random-{label}", run)

    cell_checks(measured)
    trained_checks(measured)
    export_checks(measured)
    cell_export_checks(measured)
    word_language_model_checks(measured)
    info("max |logit diff| per model: " +
         ", ".join(f"{k} {v:.3g}" for k, v in measured.items()))


def trained_checks(measured):
    have_model = os.path.exists(TRAINED)
    why = f"{os.path.relpath(TRAINED, ROOT)} does not exist (not trained yet)"
    model = vocab = None
    if have_model:
        tensors, meta = safetensors_io.load(TRAINED)
        vocab = safetensors_io.vocab_of(meta)
        model = FromTensors(tensors)
    have_corpus = os.path.exists(CORPUS)
    held_out = ""
    if have_corpus:
        with open(CORPUS, encoding="utf-8") as f:
            corpus = f.read()
        held_out = corpus[int(len(corpus) * 0.9):]
        held_out = held_out[held_out.index("\n\n") + 2:]  # start at a speaker

    def steps_intext():
        if not have_model:
            raise Skip(why)
        measured["trained (in-test text)"] = compare_logits(
            TRAINED, model, vocab, TEXT, "trained, in-test text")
    check("logits-trained-model-200-chars", steps_intext)

    def eval_intext():
        if not have_model:
            raise Skip(why)
        compare_eval(TRAINED, model, vocab, TEXT, "eval trained, in-test text")
    check("eval-trained-model-200-chars", eval_intext)

    def steps_corpus():
        if not have_model:
            raise Skip(why)
        if not have_corpus:
            raise Skip(f"{CORPUS} is absent")
        measured["trained (held-out corpus)"] = compare_logits(
            TRAINED, model, vocab, held_out[:200], "trained, 200 held-out corpus chars")
    check("logits-trained-model-held-out-200-chars", steps_corpus)

    def eval_corpus():
        if not have_model:
            raise Skip(why)
        if not have_corpus:
            raise Skip(f"{CORPUS} is absent")
        compare_eval(TRAINED, model, vocab, held_out[:2000], "eval trained, 2000 held-out chars")
    check("eval-trained-model-held-out-2000-chars", eval_corpus)


def export_checks(measured):
    torch.manual_seed(99)
    module = widen(train_pytorch.LSTMLanguageModel(V, embed=8, hidden=16, layers=2))
    corpus_path = write_text("corpus.txt", TEXT + TEXT[:50])
    vocab_json = tmp("vocab.json")
    with open(vocab_json, "w", encoding="utf-8") as f:
        json.dump(VOCAB, f, ensure_ascii=False)
    vocab_lines = tmp("vocab.txt")
    with open(vocab_lines, "w", encoding="utf-8") as f:
        f.write("".join(("\\n" if t == "\n" else t) + "\n" for t in VOCAB))

    def exported(name, checkpoint, ref_model, *flags):
        pt, out = tmp(name + ".pt"), tmp(name + ".safetensors")
        torch.save(checkpoint, pt)
        r = export(pt, out, *flags)
        assert r.returncode == 0, f"export_pytorch exited {r.returncode}: {r.stderr.strip()}"
        lines = r.stdout.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("wrote "), \
            f"expected a one-line summary, got {r.stdout!r}"
        info(f"export {name}: {lines[0]}")
        ins = tempest("inspect", out)
        assert ins.returncode == 0, f"tempest inspect exited {ins.returncode}: {ins.stderr.strip()}"
        measured["export " + name] = compare_logits(out, ref_model, VOCAB, TEXT,
                                                    "export " + name)

    check("export-pickled-module-with-corpus",
          lambda: exported("module", module, module, "--corpus", corpus_path))
    # OneHotLM lives in this script's __main__, which the exporter cannot import.
    check("export-pickled-module-class-from-main-with-json-vocab",
          lambda: exported("onehot-module", onehot_ref(), onehot_ref(), "--vocab", vocab_json))
    check("export-state-dict",
          lambda: exported("state-dict", module.state_dict(), module, "--vocab", vocab_lines))
    encdec = widen(Wrapped(EncDec(V, embed=8, hidden=12, layers=2)))
    check("export-wrapped-state-dict-with-vocab-inside",
          lambda: exported("wrapped-state-dict",
                           {"state_dict": encdec.state_dict(), "epoch": 3, "vocab": VOCAB},
                           encdec))

    refused = export_refused

    check("export-refuses-vocab-size-mismatch",
          lambda: refused("vocab-mismatch", module.state_dict(),
                          f"has {V - 1} tokens but the head has {V} rows",
                          "--corpus", write_text("short.txt", "".join(VOCAB[:-1]))))

    def help_text():
        r = subprocess.run([PY, EXPORT, "--help"], capture_output=True, text=True, timeout=30)
        assert r.returncode == 0 and all(flag in r.stdout for flag in (
            "--vocab", "--corpus", "--module-file", "--nonlinearity", "word_language_model")), \
            f"--help exited {r.returncode} or lacks a flag"
    check("export-help", help_text)


# --- GRU and vanilla RNN ---------------------------------------------------------

# Smaller weights for the ungated RNNs, whose sums grow without a gate to damp
# them: the logits still span several units.
CELL_SCALE = {"GRU": 0.5, "RNN_TANH": 0.3, "RNN_RELU": 0.3, "LSTM": 0.5}
NONLIN = {"RNN_TANH": "tanh", "RNN_RELU": "relu"}


def cell_model(cell, embed, hidden, layers, seed):
    torch.manual_seed(seed)
    return widen(CellLM(cell, V, embed, hidden, layers), CELL_SCALE[cell])


def cell_checks(measured):
    """Each kind, embedding and one-hot, 2 or 3 layers, over LONG_TEXT."""
    models = {}
    for cell in ("GRU", "RNN_TANH", "RNN_RELU"):
        for label, embed, hidden, layers in (("embed", 16, 32, 2), ("onehot", 0, 20, 3)):
            name = f"{cell.lower().replace('_', '-')}-{label}"
            model = cell_model(cell, embed, hidden, layers, seed=len(models) + 11)
            models[name] = model
            path = tmp(name + ".safetensors")
            save_model(path, model, VOCAB, nonlinearity=NONLIN.get(cell))

            def run(name=name, model=model, path=path):
                measured[name] = compare_logits(path, model, VOCAB, LONG_TEXT, name)
            check(f"logits-{name}", run)

    for cell in ("GRU", "RNN_RELU"):
        model = models[f"{cell.lower().replace('_', '-')}-embed"]
        for label, dtype in (("f16", torch.float16), ("bf16", torch.bfloat16)):
            name = f"{cell.lower().replace('_', '-')}-embed-{label}"

            def run(name=name, model=model, dtype=dtype, cell=cell):
                path = tmp(name + ".safetensors")
                save_model(path, model, VOCAB, dtype=dtype, nonlinearity=NONLIN.get(cell))
                measured[name] = compare_logits(path, rounded_copy(model, dtype), VOCAB,
                                                LONG_TEXT, name)
            check(f"logits-{name}", run)

    def eval_gru():
        compare_eval(tmp("gru-embed.safetensors"), models["gru-embed"], VOCAB, LONG_TEXT,
                     "eval gru-embed")
    check("eval-gru-embed", eval_gru)

    def relu_is_not_tanh():
        """Negative control: the relu RNN's file run as tanh must break parity."""
        path = tmp("relu-as-tanh.safetensors")
        save_model(path, models["rnn-relu-embed"], VOCAB, nonlinearity="tanh")
        expect_parity_broken(path, models["rnn-relu-embed"], LONG_TEXT, "relu RNN run as tanh")
    check("parity-check-detects-a-wrong-nonlinearity", relu_is_not_tanh)

    def gru_perturbed():
        """Negative control: b_hn enters inside r's product; move it and see."""
        path = tmp("gru-perturbed.safetensors")
        sd = {k: v.clone() for k, v in models["gru-embed"].state_dict().items()}
        sd["gru.bias_hh_l0"][2 * 32 + 3] += 0.05
        safetensors_io.save(path, sd, char_meta(VOCAB, "perturbed GRU"))
        expect_parity_broken(path, models["gru-embed"], LONG_TEXT, "perturbed GRU b_hn")
    check("parity-check-detects-a-perturbed-gru-bias", gru_perturbed)


def inspect_architecture(path):
    r = tempest("inspect", "--json", path)
    assert r.returncode == 0, f"tempest inspect exited {r.returncode}: {r.stderr.strip()}"
    return json.loads(r.stdout)["architecture"]


def cell_export_checks(measured):
    """tools/export_pytorch.py on GRU and RNN modules and state_dicts."""
    corpus_path = write_text("cell-corpus.txt", TEXT)

    def exported(name, checkpoint, ref_model, arch, *flags):
        pt, out = tmp(name + ".pt"), tmp(name + ".safetensors")
        torch.save(checkpoint, pt)
        r = export(pt, out, "--corpus", corpus_path, *flags)
        assert r.returncode == 0, f"export_pytorch exited {r.returncode}: {r.stderr.strip()}"
        info(f"export {name}: {r.stdout.strip()}")
        got = inspect_architecture(out)
        assert got == arch, f"tempest inspect says {got}, expected {arch}"
        measured["export " + name] = compare_logits(out, ref_model, VOCAB, LONG_TEXT,
                                                    "export " + name)

    gru = cell_model("GRU", 8, 16, 2, seed=21)
    relu = cell_model("RNN_RELU", 0, 12, 2, seed=22)
    tanh = cell_model("RNN_TANH", 8, 12, 1, seed=23)
    # CellLM lives in this script's __main__: the exporter stands in for it.
    check("export-gru-pickled-module", lambda: exported("gru-module", gru, gru, "gru"))
    check("export-gru-state-dict",
          lambda: exported("gru-state-dict", gru.state_dict(), gru, "gru"))
    check("export-rnn-relu-pickled-module-reads-the-nonlinearity",
          lambda: exported("relu-module", relu, relu, "rnn_relu"))
    check("export-rnn-relu-state-dict-with-flag",
          lambda: exported("relu-state-dict", relu.state_dict(), relu, "rnn_relu",
                           "--nonlinearity", "relu"))
    check("export-rnn-tanh-state-dict-with-flag",
          lambda: exported("tanh-state-dict", tanh.state_dict(), tanh, "rnn_tanh",
                           "--nonlinearity", "tanh"))

    def refused(name, checkpoint, pattern, *flags):
        export_refused(name, checkpoint, pattern, "--corpus", corpus_path, *flags)

    check("export-refuses-rnn-state-dict-without-nonlinearity",
          lambda: refused("rnn-no-nl", relu.state_dict(), "--nonlinearity tanh or"))
    check("export-refuses-nonlinearity-for-a-gru",
          lambda: refused("gru-nl", gru.state_dict(), "for a vanilla RNN",
                          "--nonlinearity", "relu"))
    check("export-refuses-contradicting-nonlinearity",
          lambda: refused("relu-says-tanh", relu, "contradicts", "--nonlinearity", "tanh"))
    torch.manual_seed(5)
    bi = CellLM("GRU", V, 8, 12, 1, bidirectional=True)
    check("export-refuses-bidirectional-gru-module",
          lambda: refused("bi-gru", bi, "bidirectional GRU"))
    check("export-refuses-bidirectional-gru-state-dict",
          lambda: refused("bi-gru-sd", bi.state_dict(), "bidirectional"))


# --- PyTorch's word_language_model example --------------------------------------

def word_corpus():
    """TEXT as the example's data expects it, pre-tokenized: words and each
    punctuation mark apart, so data.py's whitespace split and tempest's word
    tokenizer cut it the same way; a few hundred tokens."""
    import re
    lines = []
    for line in (TEXT * 5).splitlines():
        lines.append(" ".join(re.findall(r"[A-Za-z0-9']+|[^\sA-Za-z0-9']", line)))
    return "\n".join(lines) + "\n"


def word_language_model_checks(measured):
    # data.py numbers train.txt's words, then valid.txt's new ones: two files.
    train, valid = word_corpus(), "Thus with a kiss I die .\n"
    corpus = train + valid
    train_path, valid_path = write_text("wlm-train.txt", train), write_text("wlm-valid.txt", valid)
    for rnn_type in ("LSTM", "GRU", "RNN_TANH", "RNN_RELU"):
        name = "wlm-" + rnn_type.lower().replace("_", "-")
        # The GRU and RNN_RELU exports get the class from --module-file; the
        # others through the stand-in for a class that cannot be imported.
        flags = ["--module-file", WLM_MODULE] if rnn_type in ("GRU", "RNN_RELU") else []

        def run(rnn_type=rnn_type, name=name, flags=flags):
            pt, out = tmp(name + ".pt"), tmp(name + ".safetensors")
            model, idx2word = make_wlm.build(rnn_type, corpus, seed=3,
                                             scale=CELL_SCALE[rnn_type])
            torch.save(model, pt)  # pickled as model.RNNModel, like the example's
            r = export(pt, out, "--corpus", train_path, "--corpus", valid_path,
                       "--tokenizer", "word", *flags)
            assert r.returncode == 0, f"export_pytorch exited {r.returncode}: {r.stderr.strip()}"
            summary = r.stdout.strip()
            info(f"export {name}: {summary}")
            stood_in = "stood in for" in summary
            assert stood_in == (not flags), f"class found {'without' if stood_in else 'with'} " \
                f"--module-file: {summary}"
            want = {"LSTM": "lstm", "GRU": "gru", "RNN_TANH": "rnn_tanh",
                    "RNN_RELU": "rnn_relu"}[rnn_type]
            assert inspect_architecture(out) == want, "wrong architecture"
            stoi = {w: i for i, w in enumerate(idx2word)}
            ids = torch.tensor([stoi[w] for line in corpus.splitlines()
                                for w in line.split() + ["<eos>"]])
            with torch.no_grad():
                out_seq, _ = model.rnn(model.encoder(ids[:-1].unsqueeze(1)))
                ref = model.decoder(out_seq)[:, 0].double()
            ours = tempest_logits(out, corpus)
            assert ours.shape == ref.shape, f"tempest {tuple(ours.shape)} vs PyTorch " \
                f"{tuple(ref.shape)} logits"
            worst = (ours - ref).abs().max().item()
            info(f"{name}: {ref.shape[0]} word steps x {ref.shape[1]} logits, max |tempest - "
                 f"PyTorch| = {worst:.3g}, logits up to {ref.abs().max().item():.3g}")
            measured[name] = worst
            assert worst <= TOL, f"max |logit difference| {worst:.3g} > {TOL}"
        check(f"export-word-language-model-{rnn_type.lower().replace('_', '-')}", run)


_ONEHOT = []


def onehot_ref():
    if not _ONEHOT:
        torch.manual_seed(7)
        _ONEHOT.append(widen(OneHotLM(V, hidden=20, layers=1)))
    return _ONEHOT[0]


if __name__ == "__main__":
    try:
        main()
    finally:
        shutil.rmtree(TMP, ignore_errors=True)
    print(f"# parity: {results['PASS']} passed, {results['FAIL']} failed, "
          f"{results['SKIP']} skipped")
