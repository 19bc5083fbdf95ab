#!/usr/bin/python3
"""Generation speed of tempest against PyTorch's canonical loop, one run.

For each model: tokens per second of `tempest generate` (batch 1) and of the
loop PyTorch tutorials use (model step with carried state, logits / T,
softmax, multinomial, feed back; under no_grad), both on one thread, and
their ratio. Run from the repository root:

    /usr/bin/python3 bench/gen_vs_torch.py [--tokens N] [MODEL ...]

Models default to the bundled one plus a tiny random (16, 64, 1) model.
Timings on a shared machine are noisy: compare the ratio, not the rates.
"""
import argparse
import os
import subprocess
import sys
import tempfile
import time

import torch

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "tools"))
import safetensors_io  # noqa: E402
from train_pytorch import LSTMLanguageModel  # noqa: E402


def load_torch(path):
    tensors, meta = safetensors_io.load(path)
    vocab = safetensors_io.vocab_of(meta)
    embed = tensors["embed.weight"].shape[1]
    hidden = tensors["head.weight"].shape[1]
    layers = sum(1 for k in tensors if k.startswith("lstm.weight_ih_l"))
    model = LSTMLanguageModel(len(vocab), embed, hidden, layers)
    model.load_state_dict(tensors)
    return model.eval(), vocab


@torch.no_grad()
def torch_rate(model, n, temperature=0.8):
    gen = torch.Generator().manual_seed(1)
    tok = torch.zeros(1, 1, dtype=torch.long)
    state = None
    start = time.perf_counter()
    for _ in range(n):
        logits, state = model(tok, state)
        p = torch.softmax(logits[0, -1] / temperature, dim=-1)
        tok = torch.multinomial(p, 1, generator=gen).view(1, 1)
    return n / (time.perf_counter() - start)


def tempest_rate(path, n):
    cmd = [os.path.join(ROOT, "tempest"), "generate", "--model", path, "--length", str(n),
           "--temperature", "0.8"]
    start = time.perf_counter()
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
    return n / (time.perf_counter() - start)


def tiny_model(directory):
    torch.manual_seed(0)
    vocab = [chr(c) for c in range(32, 97)]
    model = LSTMLanguageModel(len(vocab), 16, 64, 1)
    path = os.path.join(directory, "tiny.safetensors")
    safetensors_io.save(path, model.state_dict(),
                        {"tokenizer": "char", "vocab": __import__("json").dumps(vocab)})
    return path


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--tokens", type=int, default=20000)
    ap.add_argument("models", nargs="*")
    args = ap.parse_args()
    torch.set_num_threads(1)
    with tempfile.TemporaryDirectory() as tmp:
        models = args.models or [tiny_model(tmp),
                                 os.path.join(ROOT, "models/shakespeare.safetensors")]
        print(f"{'model':40s} {'tempest tok/s':>14s} {'torch tok/s':>12s} {'ratio':>7s}")
        for path in models:
            model, _ = load_torch(path)
            torch_n = max(200, args.tokens // 10)
            t = torch_rate(model, torch_n)
            c = tempest_rate(path, args.tokens)
            print(f"{os.path.basename(path):40s} {c:14,.0f} {t:12,.0f} {c / t:6.1f}x",
                  flush=True)


if __name__ == "__main__":
    main()
