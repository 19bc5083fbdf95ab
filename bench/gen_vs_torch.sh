#!/bin/sh
# gen_vs_torch.sh - tempest against PyTorch's canonical generation loop, and
# both against this machine's limits, in one run (about 75 s).
#
#     bench/gen_vs_torch.sh [--seconds S] [--repeats R]
#
# Each rate is the fastest of R timed runs (default 3) of about S seconds
# (default 1), for tempest and PyTorch alike.
#
# Builds ./tempest if missing and bench/probe.c (peak FMA rate, read
# bandwidth for a working set the size of each model's weights) with
# -mavx2 -mfma, then runs bench/gen_vs_torch.py with PyTorch's python
# (/usr/bin/python3). Method and results: docs/performance.md.
set -e
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
[ -x tempest ] || make -s tempest
mkdir -p build
cc -O2 -mavx2 -mfma -pthread -o build/probe bench/probe.c
if ./tempest generate --help 2>&1 | grep -q -- --batch; then
    echo "tempest generate --batch: present"
else
    echo "tempest generate --batch: n/a (no --batch yet)"
fi
exec /usr/bin/python3 bench/gen_vs_torch.py --probe build/probe "$@"
