#!/usr/bin/python3
"""make_recording.py - a tempest recording (JSON Lines) for the CLI tests,
written without the playground: the header names MODEL with its real
fingerprint, then STEPS steps forcing tokens 1, 2, 3, ... with no recorded
candidates (so any model replays them) unless --claim-top, which records
token 0 as certain at every step (a claim no trained model matches)."""
import argparse
import json
import os
import struct

def fingerprint(path):
    """FNV-1a 64 over the size (a little-endian long) and the first and last
    64 KiB, as src/core/recording.c computes it."""
    size = os.path.getsize(path)
    h = 14695981039346656037
    with open(path, "rb") as f:
        head = f.read(1 << 16)
        f.seek(max(size - (1 << 16), 0))
        tail = f.read(1 << 16)
    for b in struct.pack("<q", size) + head + tail:
        h = ((h ^ b) * 1099511628211) & 0xFFFFFFFFFFFFFFFF
    return size, "%016x" % h

SETTINGS = {"temperature": 0.8, "top_k": 0, "top_p": 1, "min_p": 0,
            "repeat_penalty": 1, "repeat_last_n": 64, "order": "temp-first"}

def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--steps", type=int, default=30)
    ap.add_argument("--claim-top", action="store_true")
    a = ap.parse_args()
    size, fp = fingerprint(a.model)
    lines = [{"tempest_recording": 1,
              "model": {"path": a.model, "size": size, "fingerprint": fp},
              "prompt": "ROMEO:", "seed": "3", "vocab": 65, "settings": SETTINGS}]
    for i in range(a.steps):
        s = dict(SETTINGS, temperature=0.8 if i < a.steps // 2 else 1.5)
        lines.append({"step": i, "token": 1 + i % 60, "text": "?", "p": 0.5,
                      "settings": s, "top": [[0, 1.0]] if a.claim_top else [],
                      "events": ["key T"] if i == a.steps // 2 else []})
    with open(a.out, "w", encoding="utf-8") as f:
        for line in lines:
            f.write(json.dumps(line) + "\n")

main()
