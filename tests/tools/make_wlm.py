#!/usr/bin/python3
"""make_wlm.py - a word-level model shaped like PyTorch's word_language_model
example, saved whole with torch.save, for the tests (needs torch).

    make_wlm.py --type LSTM|GRU|RNN_TANH|RNN_RELU --corpus FILE --out MODEL.pt
                [--vocab-out VOCAB.json] [--embed 16] [--hidden 24] [--layers 2]
                [--seed 1] [--scale 0.5]

The vocabulary is numbered as the example's data.py does: each line's
whitespace-separated words, then <eos>, in order of first appearance
(written to --vocab-out as a JSON list). Weights are random, drawn from
U(-scale, scale) so the logits span several units; the class is pickled as
model.RNNModel (tests/tools/wlm/model.py).
"""
import argparse
import json
import os
import sys

import torch

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "wlm"))
import model  # noqa: E402


def data_py_vocab(text):
    ids = {}
    for line in text.splitlines(keepends=True):
        for word in line.split() + ["<eos>"]:
            ids.setdefault(word, len(ids))
    return list(ids)


def build(rnn_type, corpus_text, embed=16, hidden=24, layers=2, seed=1, scale=0.5):
    """(model in eval mode, its vocabulary in id order)."""
    vocab = data_py_vocab(corpus_text)
    torch.manual_seed(seed)
    m = model.RNNModel(rnn_type, len(vocab), embed, hidden, layers)
    with torch.no_grad():
        for name, p in m.named_parameters():
            if not name.startswith("encoder"):
                p.uniform_(-scale, scale)
    return m.eval(), vocab


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--type", required=True, choices=("LSTM", "GRU", "RNN_TANH", "RNN_RELU"))
    ap.add_argument("--corpus", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--vocab-out")
    ap.add_argument("--embed", type=int, default=16)
    ap.add_argument("--hidden", type=int, default=24)
    ap.add_argument("--layers", type=int, default=2)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--scale", type=float, default=0.5)
    args = ap.parse_args()
    with open(args.corpus, encoding="utf-8") as f:
        m, vocab = build(args.type, f.read(), args.embed, args.hidden, args.layers, args.seed,
                         args.scale)
    torch.save(m, args.out)
    if args.vocab_out:
        with open(args.vocab_out, "w", encoding="utf-8") as f:
            json.dump(vocab, f, ensure_ascii=False)


if __name__ == "__main__":
    main()
