#!/usr/bin/python3
"""Generation speed of tempest against PyTorch's canonical loop, one run.

Driven by bench/gen_vs_torch.sh (which also builds and runs bench/probe.c for
the machine's limits); see docs/performance.md. For each model, batch 1 and
batch 64: tokens per second of `tempest generate` and of the loop PyTorch
tutorials use (model step with carried state, logits / T, softmax,
multinomial, feed back; under no_grad), with torch.set_num_threads set to the
cores tempest used, the ratio, and tempest's fraction of the machine's limit
(batch 1: weight bytes streamed per token x tokens/s against read bandwidth;
batch 64: 2 x multiply-adds per token x tokens/s against peak FMA). The
work counted is the model's; tempest skips layer 0's input multiply-adds (a
per-token table holds their sums), so each line also gives the fraction of
the limit for the work it runs. tempest's time is what `generate --timing`
reports: loading the model is left out, as PyTorch's loop leaves out
building its model (the load time is printed at the end). Every rate is the
fastest of --repeats timed runs, tempest's and PyTorch's alike, and every
limit the best the probe read in the run (it probes again before each
measurement): another job can only lower a reading, and a limit read low
would inflate the fraction.

    /usr/bin/python3 bench/gen_vs_torch.py --probe build/probe [--seconds S]
                     [--repeats R]
"""
import argparse
import json
import os
import re
import resource
import subprocess
import sys
import tempfile
import time

import torch

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "tools"))
import safetensors_io  # noqa: E402
from train_pytorch import LSTMLanguageModel  # noqa: E402

TEMPEST = os.path.join(ROOT, "tempest")
# "model loaded in 5.9 ms; 19200 tokens (64 x 300) in 0.2311 s: ..."
TIMING = re.compile(r"loaded in ([0-9.]+) ms; .* in ([0-9.]+) s:")


def load_torch(path):
    tensors, meta = safetensors_io.load(path)
    vocab = safetensors_io.vocab_of(meta)
    embed = tensors["embed.weight"].shape[1]
    hidden = tensors["head.weight"].shape[1]
    layers = sum(1 for k in tensors if k.startswith("lstm.weight_ih_l"))
    model = LSTMLanguageModel(len(vocab), embed, hidden, layers)
    model.load_state_dict(tensors)
    return model.eval(), (len(vocab), embed, hidden, layers)


def random_model(directory, name, embed, hidden, layers):
    """A random-weight model with the bundled model's 65-character vocabulary."""
    torch.manual_seed(0)
    vocab = [chr(c) for c in range(32, 97)]
    model = LSTMLanguageModel(len(vocab), embed, hidden, layers)
    path = os.path.join(directory, name)
    safetensors_io.save(path, model.state_dict(), {"tokenizer": "char", "vocab": json.dumps(vocab)})
    return path


def weight_bytes_and_macs(dims):
    """Bytes of F32 weights read per step (one embedding row) and multiply-adds."""
    vocab, embed, hidden, layers = dims
    macs = vocab * hidden
    for layer in range(layers):
        n_in = hidden if layer else embed
        macs += 4 * hidden * (n_in + hidden)
    return 4 * (macs + embed), macs


def table_saving(dims):
    """Multiply-adds per token tempest skips: layer 0's input columns, which
    it takes from a per-token table of their sums (one row of G floats read
    instead of G x embed weights) when the table is at most 8 MiB."""
    vocab, embed, hidden, _ = dims
    gates = 4 * hidden
    return gates * embed if embed and vocab * gates * 4 <= 8 << 20 else 0


@torch.no_grad()
def torch_run(model, batch, steps, temperature=0.8):
    gen = torch.Generator().manual_seed(1)
    tok = torch.zeros(batch, 1, dtype=torch.long)
    state = None
    start = time.perf_counter()
    for _ in range(steps):
        logits, state = model(tok, state)
        p = torch.softmax(logits[:, -1] / temperature, dim=-1)
        tok = torch.multinomial(p, 1, generator=gen)
    return time.perf_counter() - start


def tempest_run(path, batch, steps, weights="f32"):
    """Seconds generating, as `tempest generate --timing` reports them (the
    model's loading left out, as PyTorch's loop leaves out its own), cores
    used (child CPU time / wall) and milliseconds loading."""
    cmd = [TEMPEST, "generate", "--model", path, "--length", str(steps), "--temperature", "0.8",
           "--weights", weights, "--timing"]
    if batch > 1:
        cmd += ["--batch", str(batch)]
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    out = subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                         text=True).stderr
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    m = TIMING.search(out)
    if not m:
        sys.exit(f"no timing line from tempest generate --timing: {out!r}")
    return float(m.group(2)), cpu / wall, float(m.group(1))


def wall_of(out):
    return out[0] if isinstance(out, tuple) else out


def calibrated(run, seconds):
    """Steps so that one run takes about `seconds`, and the last run's
    result. Doubling from 16 steps keeps the calibration short."""
    steps = 16
    while True:
        out = run(steps)
        wall = wall_of(out)
        if wall >= seconds / 4 or steps >= 1 << 22:
            break
        steps *= 2
    return max(16, int(steps * seconds / max(wall, 1e-6))), out


def fastest(runs, repeats):
    """Each run `repeats` times, taking turns (a, b, a, b, ...), and the
    fastest result of each. The fastest, as the probe keeps its best round:
    on a shared machine another job can only slow a run down; taking turns
    lets a slow spell hit both sides rather than every run of one."""
    best = [None] * len(runs)
    for _ in range(repeats):
        for i, run in enumerate(runs):
            out = run()
            if best[i] is None or wall_of(out) < wall_of(best[i]):
                best[i] = out
    return best


def probe(binary, what, *args):
    out = subprocess.run([binary, what, *map(str, args)], check=True, capture_output=True,
                         text=True).stdout
    return dict((k, float(v)) for k, v in (line.split() for line in out.splitlines()))


def best_of(a, b):
    """Per figure, the larger: another job on the machine can only lower a
    probe's reading, so the best seen in the run is nearest the machine's."""
    return {k: max(a[k], b[k]) for k in a}


def has_batch():
    out = subprocess.run([TEMPEST, "generate", "--help"], capture_output=True, text=True)
    return "--batch" in out.stdout + out.stderr


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--probe", required=True, help="the built bench/probe.c")
    ap.add_argument("--seconds", type=float, default=1.0, help="per timed run")
    ap.add_argument("--repeats", type=int, default=3,
                    help="timed runs per measurement; the fastest counts")
    ap.add_argument("--batch", type=int, default=64)
    args = ap.parse_args()
    batched = has_batch()
    fma = probe(args.probe, "fma")
    print(f"machine: peak FMA {fma['fma_gflops_1t']:.1f} GFLOP/s on one core, "
          f"{fma['fma_gflops_2t']:.1f} on both (shared machine: other jobs may hold a core)")
    with tempfile.TemporaryDirectory() as tmp:
        models = [("tiny (16,64,1)", random_model(tmp, "tiny.safetensors", 16, 64, 1)),
                  ("small (64,256,2)",
                   os.path.join(ROOT, "models/shakespeare-small.safetensors")),
                  ("bundled (64,512,2)", os.path.join(ROOT, "models/shakespeare.safetensors")),
                  ("large (128,512,2)", random_model(tmp, "large.safetensors", 128, 512, 2))]
        print(f"\n{'model':20s} {'batch':>5s} {'tempest tok/s':>14s} {'cores':>5s} "
              f"{'torch tok/s':>12s} {'ratio':>7s}  limit and tempest's fraction of it")
        loads = []
        for label, path in models:
            model, dims = load_torch(path)
            nbytes, macs = weight_bytes_and_macs(dims)
            skipped = table_saving(dims)
            # Of the work counted, what tempest runs: multiply-adds, and bytes
            # (the table's row of 4 x hidden floats read instead)
            runs_fma = (macs - skipped) / macs
            runs_bytes = (nbytes - 4 * skipped + (16 * dims[2] if skipped else 0)) / nbytes
            bw = probe(args.probe, "read", nbytes)
            for batch in (1, args.batch):
                if batch > 1 and not batched:
                    print(f"{label:20s} {batch:5d} {'n/a (no --batch yet)':>14s}")
                    continue
                steps, (_, cores, _) = calibrated(lambda n: tempest_run(path, batch, n),
                                               args.seconds)
                threads = max(1, round(cores))
                torch.set_num_threads(threads)
                tsteps, _ = calibrated(lambda n: torch_run(model, batch, n), args.seconds)
                (wall, cores, load_ms), twall = fastest(
                    [lambda: tempest_run(path, batch, steps),
                     lambda: torch_run(model, batch, tsteps)], args.repeats)
                if batch == 1:
                    loads.append(f"{label.split()[0]} {load_ms:.1f} ms")
                rate = batch * steps / wall
                trate = batch * tsteps / twall
                runs = runs_bytes if batch == 1 else runs_fma
                if batch == 1:
                    bw = best_of(bw, probe(args.probe, "read", nbytes))
                    lim = bw[f"read_gbs_{threads}t"] * 1e9 / nbytes
                    what = (f"bandwidth {bw[f'read_gbs_{threads}t']:.0f} GB/s for "
                            f"{nbytes / 1e6:.2f} MB -> {lim:,.0f} tok/s")
                else:
                    fma = best_of(fma, probe(args.probe, "fma"))
                    lim = fma[f"fma_gflops_{threads}t"] * 1e9 / (2 * macs)
                    what = (f"FMA {fma[f'fma_gflops_{threads}t']:.0f} GFLOP/s, "
                            f"{2 * macs / 1e6:.2f} MFLOP/token -> {lim:,.0f} tok/s")
                print(f"{label:20s} {batch:5d} {rate:14,.0f} {cores:5.1f} {trate:12,.0f} "
                      f"{rate / trate:6.1f}x  {what}: {100 * rate / lim:.0f}% "
                      f"(of what it runs: {100 * runs * rate / lim:.0f}%)", flush=True)
                if batch == 1 and label.startswith(("small", "bundled")):
                    # bf16 weights (half the bytes) against the same PyTorch rate
                    steps, _ = calibrated(lambda n: tempest_run(path, 1, n, "bf16"),
                                          args.seconds)
                    (wall, cores, _), = fastest([lambda: tempest_run(path, 1, steps, "bf16")],
                                             args.repeats)
                    rate = steps / wall
                    lim *= 2
                    print(f"{'  --weights bf16':20s} {1:5d} {rate:14,.0f} {cores:5.1f} "
                          f"{trate:12,.0f} {rate / trate:6.1f}x  bandwidth for "
                          f"{nbytes / 2e6:.2f} MB -> {lim:,.0f} tok/s: {100 * rate / lim:.0f}%",
                          flush=True)
        print("\ntempest's rates leave out loading the model, as PyTorch's leave out "
              "building it; loading took " + ", ".join(loads) + " (the fastest batch-1 run's)")


if __name__ == "__main__":
    main()
