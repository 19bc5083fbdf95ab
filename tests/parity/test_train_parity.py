#!/usr/bin/python3
"""`tempest train` against PyTorch (/usr/bin/python3 with python3-torch).

- parity: from the same initial weights (tools/train_pytorch.py --init-only,
  then `tempest train --init`), on the same batches, without dropout, the
  training loss of every one of 50 steps agrees with PyTorch's
  (tools/train_pytorch.py's loop: streams, truncated BPTT, Adam, clipping,
  cosine schedule) within 0.01 nats;
- cells: the same for GRU and vanilla RNN (tanh, relu) models, nn.GRU /
  nn.RNN under the names gru. / rnn., from weights PyTorch initialised;
- round trip: the model tempest writes loads into train_pytorch.py's model
  class with load_state_dict(strict=True), with the same metadata, and gives
  the logits `tempest eval --dump-logits` gives.

Protocol: PASS/FAIL/SKIP lines (tests/run_all.sh); '#' lines are information.
"""
import json
import math
import os
import subprocess
import sys
import tempfile

import torch
from torch import nn

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
TEMPEST = os.path.join(ROOT, "tempest")
TRAIN_PY = os.path.join(ROOT, "tools", "train_pytorch.py")
CORPUS = os.path.join(ROOT, "..", "shared", "corpora", "tinyshakespeare.txt")
sys.path.insert(0, os.path.join(ROOT, "tools"))
import safetensors_io  # noqa: E402
import train_pytorch  # noqa: E402

STEPS, SEQ, BATCH, EMBED, HIDDEN, LAYERS, LR, CLIP = 50, 32, 8, 16, 48, 2, 0.01, 1.0
TOL = 0.01
TMP = tempfile.mkdtemp(prefix="tempest-train-parity-")
failed = 0


def report(ok, name, why=""):
    global failed
    failed += not ok
    print(("PASS " if ok else "FAIL ") + name + ("" if ok else ": " + why), flush=True)


def corpus_text():
    if os.path.exists(CORPUS):
        with open(CORPUS, encoding="utf-8") as f:
            return f.read()[:60000]
    # Without the shared corpus: a small deterministic text is enough here.
    words = ["the", "king", "is", "dead", "long", "live", "queen", "and", "so", "we", "go"]
    g = torch.Generator().manual_seed(3)
    out = []
    for _ in range(12000):
        out.append(words[torch.randint(len(words), (1,), generator=g).item()])
        out.append("\n" if torch.rand(1, generator=g).item() < 0.1 else " ")
    return "".join(out)


class CellLanguageModel(nn.Module):
    """train_pytorch.py's model with a GRU or vanilla RNN in place of the LSTM."""

    def __init__(self, cell, vocab_size):
        super().__init__()
        self.embed = nn.Embedding(vocab_size, EMBED)
        kind = {"gru": nn.GRU, "rnn_tanh": nn.RNN, "rnn_relu": nn.RNN}[cell]
        extra = {"nonlinearity": cell[4:]} if cell.startswith("rnn") else {}
        self.module_name = "gru" if cell == "gru" else "rnn"
        setattr(self, self.module_name, kind(EMBED, HIDDEN, LAYERS, batch_first=True, **extra))
        self.head = nn.Linear(HIDDEN, vocab_size)

    def forward(self, tokens, state=None):
        out, state = getattr(self, self.module_name)(self.embed(tokens), state)
        return self.head(out), state


def make_model(cell, vocab_size):
    if cell == "lstm":
        return train_pytorch.LSTMLanguageModel(vocab_size, EMBED, HIDDEN, LAYERS, 0.0)
    return CellLanguageModel(cell, vocab_size)


def torch_losses(text, init_path, cell="lstm"):
    """train_pytorch.py's loop, from the weights in init_path, per-step losses."""
    torch.set_num_threads(1)
    vocab = train_pytorch.char_vocab(text)
    ids = train_pytorch.encode(text, vocab)
    train_ids, _ = train_pytorch.split(ids, 0.1)
    model = make_model(cell, len(vocab))
    tensors, _ = safetensors_io.load(init_path)
    model.load_state_dict(tensors, strict=True)
    rows = train_pytorch.streams(train_ids, BATCH)
    opt = torch.optim.Adam(model.parameters(), lr=LR)
    sched = torch.optim.lr_scheduler.LambdaLR(
        opt, lambda s: 0.05 + 0.95 * 0.5 * (1 + math.cos(math.pi * min(s, STEPS) / STEPS)))
    state, pos, losses = None, 0, []
    for _ in range(STEPS):
        if pos + SEQ + 1 > rows.shape[1]:
            pos, state = 0, None
        x, y = rows[:, pos:pos + SEQ], rows[:, pos + 1:pos + SEQ + 1]
        pos += SEQ
        if state is not None:
            state = tuple(s.detach() for s in state) if isinstance(state, tuple) \
                else state.detach()
        logits, state = model(x, state)
        loss = nn.functional.cross_entropy(logits.reshape(-1, len(vocab)), y.reshape(-1))
        opt.zero_grad()
        loss.backward()
        nn.utils.clip_grad_norm_(model.parameters(), CLIP)
        opt.step()
        sched.step()
        losses.append(loss.item())
    return losses


def tempest_losses(text_path, init_path, out_path, cell="lstm"):
    cmd = [TEMPEST, "train", "--text", text_path, "--out", out_path, "--init", init_path,
           "--cell", cell,
           "--embed", str(EMBED), "--hidden", str(HIDDEN), "--layers", str(LAYERS),
           "--seq", str(SEQ), "--batch", str(BATCH), "--lr", str(LR), "--clip", str(CLIP),
           "--steps", str(STEPS), "--eval-every", str(STEPS), "--log-every", "1",
           "--threads", "1"]
    run = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    if run.returncode != 0:
        raise RuntimeError(f"tempest train exited {run.returncode}: {run.stderr.strip()}")
    return [float(line.split()[3]) for line in run.stdout.splitlines()
            if line.startswith("step ") and " loss " in line]


def check_parity(text, text_path):
    init = os.path.join(TMP, "init.safetensors")
    subprocess.run([sys.executable, TRAIN_PY, "--text", text_path, "--out", init,
                    "--embed", str(EMBED), "--hidden", str(HIDDEN), "--layers", str(LAYERS),
                    "--init-only", "--seed", "4"], check=True, timeout=120)
    out = os.path.join(TMP, "trained.safetensors")
    mine = tempest_losses(text_path, init, out)
    ref = torch_losses(text, init)
    if len(mine) != STEPS:
        report(False, "train-parity-50-steps", f"tempest printed {len(mine)} losses")
        return None
    worst = max(abs(a - b) for a, b in zip(mine, ref))
    print(f"# step 1 loss tempest {mine[0]:.6f} torch {ref[0]:.6f}; step {STEPS} "
          f"tempest {mine[-1]:.6f} torch {ref[-1]:.6f}; worst |diff| {worst:.2e}")
    report(worst < TOL and ref[-1] < ref[0] - 0.3, "train-parity-50-steps",
           f"worst loss difference {worst:.4g} (tolerance {TOL}), torch "
           f"{ref[0]:.4f} -> {ref[-1]:.4f}")
    return out


def check_cell(text, text_path, cell):
    """A GRU or RNN: PyTorch initialises, both train 50 steps."""
    torch.manual_seed(6)
    vocab = train_pytorch.char_vocab(text)
    model = make_model(cell, len(vocab))
    meta = train_pytorch.metadata(vocab, "init")
    if cell.startswith("rnn"):
        meta["nonlinearity"] = cell[4:]
    init = os.path.join(TMP, f"init-{cell}.safetensors")
    state = {k: v for k, v in model.state_dict().items()}
    safetensors_io.save(init, state, meta)
    out = os.path.join(TMP, f"trained-{cell}.safetensors")
    try:
        mine = tempest_losses(text_path, init, out, cell)
    except RuntimeError as e:
        report(False, f"train-parity-{cell}", str(e)[:300])
        return
    ref = torch_losses(text, init, cell)
    worst = max(abs(a - b) for a, b in zip(mine, ref)) if len(mine) == STEPS else float("inf")
    print(f"# {cell}: step {STEPS} tempest {mine[-1]:.6f} torch {ref[-1]:.6f}; "
          f"worst |diff| {worst:.2e}")
    report(worst < TOL and ref[-1] < ref[0] - 0.3, f"train-parity-{cell}",
           f"worst loss difference {worst:.4g}, torch {ref[0]:.4f} -> {ref[-1]:.4f}")
    tensors, meta = safetensors_io.load(out)
    try:
        make_model(cell, len(vocab)).load_state_dict(tensors, strict=True)
        ok = meta.get("nonlinearity") == (cell[4:] if cell.startswith("rnn") else None)
        report(ok, f"train-round-trip-{cell}", f"metadata {meta.get('nonlinearity')}")
    except RuntimeError as e:
        report(False, f"train-round-trip-{cell}", str(e)[:300])


def check_round_trip(text, model_path):
    tensors, meta = safetensors_io.load(model_path)
    vocab = safetensors_io.vocab_of(meta)
    want_meta = train_pytorch.metadata(train_pytorch.char_vocab(text), "")
    report(meta.get("tokenizer") == "char" and meta.get("vocab") == want_meta["vocab"],
           "train-metadata-as-train_pytorch", f"metadata {str(meta)[:200]}")
    model = train_pytorch.LSTMLanguageModel(len(vocab), EMBED, HIDDEN, LAYERS)
    try:
        model.load_state_dict(tensors, strict=True)
    except RuntimeError as e:
        report(False, "train-round-trip-strict-load", str(e)[:300])
        return
    report(True, "train-round-trip-strict-load")
    sample = text[:300]
    sample_path = os.path.join(TMP, "sample.txt")
    dump = os.path.join(TMP, "logits.txt")
    with open(sample_path, "w", encoding="utf-8") as f:
        f.write(sample)
    subprocess.run([TEMPEST, "eval", "--model", model_path, "--text", sample_path,
                    "--dump-logits", dump], check=True, capture_output=True, timeout=60)
    with open(dump) as f:
        mine = torch.tensor([[float(x) for x in line.split()] for line in f])
    model.eval()
    with torch.no_grad():
        ref, _ = model(train_pytorch.encode(sample, vocab)[:-1].unsqueeze(0))
    diff = (mine - ref[0]).abs().max().item()
    print(f"# round trip: max |logit difference| {diff:.2e} over {len(sample) - 1} steps")
    report(diff < 1e-4, "train-round-trip-logits", f"max difference {diff:.3g}")


def main():
    if not os.access(TEMPEST, os.X_OK):
        print("SKIP train-parity: build ./tempest first")
        return
    text = corpus_text()
    text_path = os.path.join(TMP, "text.txt")
    with open(text_path, "w", encoding="utf-8") as f:
        f.write(text)
    out = check_parity(text, text_path)
    if out:
        check_round_trip(text, out)
    for cell in ("gru", "rnn_tanh", "rnn_relu"):
        check_cell(text, text_path, cell)


if __name__ == "__main__":
    main()
