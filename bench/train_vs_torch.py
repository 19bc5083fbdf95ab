#!/usr/bin/python3
"""Tokens (characters) per second of `tempest train` and of PyTorch, same
model, batch, sequence length and threads; see bench/train_vs_torch.sh.

Both run `--steps` optimisation steps after one warm-up step (which pays
for first-touch page faults and library start-up: tempest's rate is taken
between its step-1 and last progress lines) on batch 32 x seq 128 chunks of
the text. The FLOPs of a step are counted as 3x the
forward pass's matrix products (forward, input gradients, weight
gradients): per token 6 * (sum over layers of 4H * (in + H) + V * H).
"""
import argparse
import math
import os
import re
import subprocess
import sys
import time

import torch
from torch import nn

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "tools"))
import train_pytorch  # noqa: E402

SEQ, BATCH = 128, 32


def flops_per_token(v, e, h, layers):
    mats = sum(4 * h * ((e if l == 0 else h) + h) for l in range(layers)) + v * h
    return 6 * mats


def torch_rate(text, e, h, layers, threads, steps):
    torch.set_num_threads(threads)
    torch.manual_seed(1)
    vocab = train_pytorch.char_vocab(text)
    rows = train_pytorch.streams(train_pytorch.encode(text, vocab), BATCH)
    model = train_pytorch.LSTMLanguageModel(len(vocab), e, h, layers)
    opt = torch.optim.Adam(model.parameters(), lr=0.002)
    state, pos = None, 0

    def step():
        nonlocal state, pos
        x, y = rows[:, pos:pos + SEQ], rows[:, pos + 1:pos + SEQ + 1]
        pos += SEQ
        if state is not None:
            state = tuple(s.detach() for s in state)
        logits, state = model(x, state)
        loss = nn.functional.cross_entropy(logits.reshape(-1, len(vocab)), y.reshape(-1))
        opt.zero_grad()
        loss.backward()
        nn.utils.clip_grad_norm_(model.parameters(), 5.0)
        opt.step()

    step()
    start = time.perf_counter()
    for _ in range(steps):
        step()
    return steps * SEQ * BATCH / (time.perf_counter() - start), len(vocab)


def tempest_rate(text_path, e, h, layers, threads, steps):
    out = os.path.join("build", "bench-train.safetensors")
    total = steps + 1
    run = subprocess.run(
        [os.path.join(ROOT, "tempest"), "train", "--text", text_path, "--out", out,
         "--embed", str(e), "--hidden", str(h), "--layers", str(layers), "--seq", str(SEQ),
         "--batch", str(BATCH), "--steps", str(total), "--eval-every", "1000000000",
         "--val-fraction", "0", "--threads", str(threads), "--log-every", "1",
         "--sample-length", "1"], capture_output=True, text=True, check=True)
    for f in (out, out + ".ckpt"):
        if os.path.exists(f):
            os.remove(f)
    # Each progress line's rate is over the whole loop so far: its elapsed
    # time is steps done x tokens a step / rate.
    def elapsed(step):
        m = re.search(rf"^step {step}/{total} .* (\d+) tok/s", run.stdout, re.M)
        return step * SEQ * BATCH / float(m.group(1))
    return steps * SEQ * BATCH / (elapsed(total) - elapsed(1))


def fma_peak(probe):
    out = subprocess.run([probe, "fma"], capture_output=True, text=True, check=True).stdout
    return {int(k.split("_")[2][:-1]): float(v) for k, v in
            (line.split() for line in out.splitlines())}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--probe", required=True)
    ap.add_argument("--text", default=os.path.join(ROOT, "..", "shared", "corpora",
                                                   "tinyshakespeare.txt"))
    ap.add_argument("--steps", type=int, default=0, help="0: 8 for H<=256, 4 above")
    ap.add_argument("--threads", default="1,2")
    ap.add_argument("--configs", default="64x256x2,128x512x2")
    ap.add_argument("--repeat", type=int, default=3,
                    help="alternate tempest and PyTorch this many times; the best of each "
                         "counts (on a shared machine the best run is the least disturbed)")
    args = ap.parse_args()
    with open(args.text, encoding="utf-8") as f:
        text = f.read()
    peak = fma_peak(args.probe)
    print(f"FMA peak: {peak.get(1, 0):.1f} GFLOP/s on 1 thread, {peak.get(2, 0):.1f} on 2")
    print(f"batch {BATCH} x seq {SEQ}; tokens/s, best of {args.repeat} alternated runs "
          f"(fraction of the FMA peak)")
    print(f"{'embed,hidden,layers':>20} {'threads':>7} {'tempest':>16} {'pytorch':>16} "
          f"{'ratio':>6}")
    for cfg in args.configs.split(","):
        e, h, layers = (int(x) for x in cfg.split("x"))
        steps = args.steps or (8 if h <= 256 else 4)
        for threads in (int(t) for t in args.threads.split(",")):
            mine = ref = 0
            for _ in range(max(1, args.repeat)):
                mine = max(mine, tempest_rate(args.text, e, h, layers, threads, steps))
                r, v = torch_rate(text, e, h, layers, threads, steps)
                ref = max(ref, r)
            fpt = flops_per_token(v, e, h, layers)
            pk = peak.get(threads, peak.get(1, math.nan)) * 1e9
            print(f"{f'{e},{h},{layers}':>20} {threads:>7} "
                  f"{mine:>8.0f} ({mine * fpt / pk:4.0%}) {ref:>8.0f} ({ref * fpt / pk:4.0%}) "
                  f"{mine / ref:>5.2f}x", flush=True)


if __name__ == "__main__":
    main()
