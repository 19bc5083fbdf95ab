#!/usr/bin/python3
"""Reference PyTorch language model and trainer for tempest.

The model is the one tempest runs: nn.Embedding -> nn.LSTM(batch_first) ->
nn.Linear, with attributes `embed`, `lstm`, `head`, so its state_dict names are
the tensor names tempest expects. The trainer uses truncated BPTT over
`batch` contiguous streams of the text (state carried between chunks), Adam,
gradient clipping and a cosine learning-rate decay, and writes a safetensors
file whose metadata holds the tokenizer and the vocabulary.

    /usr/bin/python3 tools/train_pytorch.py --text corpus.txt --out model.safetensors
"""
import argparse
import json
import math
import os
import sys
import time

import torch
from torch import nn

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import safetensors_io  # noqa: E402


class LSTMLanguageModel(nn.Module):
    def __init__(self, vocab_size, embed=64, hidden=256, layers=2, dropout=0.0):
        super().__init__()
        self.embed = nn.Embedding(vocab_size, embed)
        self.lstm = nn.LSTM(embed, hidden, layers, batch_first=True,
                            dropout=dropout if layers > 1 else 0.0)
        self.head = nn.Linear(hidden, vocab_size)

    def forward(self, tokens, state=None):
        out, state = self.lstm(self.embed(tokens), state)
        return self.head(out), state


def char_vocab(text):
    return sorted(set(text))


def encode(text, vocab):
    index = {tok: i for i, tok in enumerate(vocab)}
    return torch.tensor([index[ch] for ch in text], dtype=torch.long)


def split(ids, val_fraction):
    n_val = int(len(ids) * val_fraction)
    return ids[:len(ids) - n_val], ids[len(ids) - n_val:]


def streams(ids, batch):
    """Cut ids into `batch` contiguous rows of equal length."""
    per = len(ids) // batch
    return ids[:per * batch].view(batch, per)


@torch.no_grad()
def evaluate(model, ids, seq=256):
    """Mean cross-entropy (nats/token) over ids from a zero state, state
    carried across chunks: the same number `tempest eval` reports."""
    model.eval()
    x = ids[:-1].unsqueeze(0)
    y = ids[1:].unsqueeze(0)
    state, total, count = None, 0.0, 0
    for i in range(0, x.shape[1], seq):
        logits, state = model(x[:, i:i + seq], state)
        loss = nn.functional.cross_entropy(
            logits.reshape(-1, logits.shape[-1]), y[:, i:i + seq].reshape(-1),
            reduction="sum")
        total += loss.item()
        count += y[:, i:i + seq].numel()
    model.train()
    return total / max(count, 1)


@torch.no_grad()
def sample(model, vocab, prompt, length, temperature=0.8, seed=0):
    gen = torch.Generator().manual_seed(seed)
    model.eval()
    ids = encode(prompt, vocab).unsqueeze(0)
    logits, state = model(ids)
    out = []
    for _ in range(length):
        p = torch.softmax(logits[0, -1] / temperature, dim=-1)
        nxt = torch.multinomial(p, 1, generator=gen)
        out.append(vocab[nxt.item()])
        logits, state = model(nxt.view(1, 1), state)
    model.train()
    return prompt + "".join(out)


def metadata(vocab, description):
    return {"tokenizer": "char", "vocab": json.dumps(vocab, ensure_ascii=False),
            "description": description}


def save(model, vocab, path, description):
    tmp = path + ".tmp"
    safetensors_io.save(tmp, model.state_dict(), metadata(vocab, description))
    os.replace(tmp, path)


def parse_args():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--text", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--embed", type=int, default=64)
    ap.add_argument("--hidden", type=int, default=256)
    ap.add_argument("--layers", type=int, default=2)
    ap.add_argument("--dropout", type=float, default=0.0)
    ap.add_argument("--seq", type=int, default=128)
    ap.add_argument("--batch", type=int, default=32)
    ap.add_argument("--lr", type=float, default=0.002)
    ap.add_argument("--clip", type=float, default=5.0)
    ap.add_argument("--steps", type=int, default=3000)
    ap.add_argument("--eval-every", type=int, default=500)
    ap.add_argument("--val-fraction", type=float, default=0.1)
    ap.add_argument("--threads", type=int, default=0, help="0: torch default")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--init-only", action="store_true",
                    help="write the randomly initialised model and stop")
    return ap.parse_args()


def main():
    args = parse_args()
    torch.manual_seed(args.seed)
    if args.threads > 0:
        torch.set_num_threads(args.threads)
    with open(args.text, encoding="utf-8") as f:
        text = f.read()
    vocab = char_vocab(text)
    ids = encode(text, vocab)
    train_ids, val_ids = split(ids, args.val_fraction)
    model = LSTMLanguageModel(len(vocab), args.embed, args.hidden, args.layers,
                              args.dropout)
    desc = (f"char LSTM embed={args.embed} hidden={args.hidden} layers={args.layers}"
            f" trained on {os.path.basename(args.text)} by tools/train_pytorch.py")
    if args.init_only:
        save(model, vocab, args.out, "randomly initialised " + desc)
        return
    rows = streams(train_ids, args.batch)
    opt = torch.optim.Adam(model.parameters(), lr=args.lr)
    sched = torch.optim.lr_scheduler.LambdaLR(
        opt, lambda s: 0.05 + 0.95 * 0.5 * (1 + math.cos(math.pi * min(s, args.steps) / args.steps)))
    state, pos, start = None, 0, time.time()
    for step in range(1, args.steps + 1):
        if pos + args.seq + 1 > rows.shape[1]:
            pos, state = 0, None
        x = rows[:, pos:pos + args.seq]
        y = rows[:, pos + 1:pos + args.seq + 1]
        pos += args.seq
        if state is not None:
            state = tuple(s.detach() for s in state)
        logits, state = model(x, state)
        loss = nn.functional.cross_entropy(logits.reshape(-1, len(vocab)), y.reshape(-1))
        opt.zero_grad()
        loss.backward()
        nn.utils.clip_grad_norm_(model.parameters(), args.clip)
        opt.step()
        sched.step()
        if step % 50 == 0:
            el = time.time() - start
            rate = step * args.batch * args.seq / el
            print(f"step {step}/{args.steps} loss {loss.item():.4f} "
                  f"{rate:,.0f} chars/s eta {(args.steps - step) * el / step / 60:.1f} min",
                  flush=True)
        if step % args.eval_every == 0 or step == args.steps:
            val = evaluate(model, val_ids[:20000] if step != args.steps else val_ids)
            print(f"step {step} val {val:.4f} ({time.time() - start:.0f} s)", flush=True)
            save(model, vocab, args.out, desc)
    print(sample(model, vocab, "ROMEO:", 300), flush=True)
    print(f"done: {args.steps} steps in {time.time() - start:.0f} s", flush=True)


if __name__ == "__main__":
    main()
