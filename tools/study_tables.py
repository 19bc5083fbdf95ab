#!/usr/bin/python3
"""Markdown tables (temperature x strategy) from a `tempest sweep --csv` file.

    /usr/bin/python3 tools/study_tables.py docs/study/sweep.csv METRIC [METRIC ...]

Each cell is mean +- standard deviation over the seeds.
"""
import csv
import sys


def main():
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    rows = list(csv.DictReader(open(sys.argv[1], encoding="utf-8")))
    means = {(r["strategy"], r["temperature"]): r for r in rows if r["seed"] == "mean"}
    sds = {(r["strategy"], r["temperature"]): r for r in rows if r["seed"] == "sd"}
    strategies = list(dict.fromkeys(r["strategy"] for r in rows))
    temps = list(dict.fromkeys(r["temperature"] for r in rows))
    for metric in sys.argv[2:]:
        print(f"**{metric}** (mean ± sd over the seeds)\n")
        print("| T | " + " | ".join(strategies) + " |")
        print("|---|" + "---|" * len(strategies))
        for t in temps:
            cells = []
            for s in strategies:
                m, d = means[(s, t)][metric], sds[(s, t)][metric]
                cells.append(f"{float(m):.2f} ± {float(d):.2f}" if m else "–")
            print(f"| {t} | " + " | ".join(cells) + " |")
        print()


if __name__ == "__main__":
    main()
