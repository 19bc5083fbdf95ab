#!/bin/sh
# train_vs_torch.sh - training speed of `tempest train` against PyTorch's
# loop (tools/train_pytorch.py's model, batch, sequence length, Adam and
# clipping), same thread count, in one run; and the fraction of this
# machine's FMA peak each reaches. A few minutes by default.
#
#     bench/train_vs_torch.sh [--steps N] [--threads 1,2] [--configs 64x256x2,128x512x2]
#                             [--repeat 3]
#
# Builds ./tempest if missing and bench/probe.c (peak FMA rate) with -mavx2
# -mfma, then runs bench/train_vs_torch.py with PyTorch's python. Needs the
# corpus ../shared/corpora/tinyshakespeare.txt or --text FILE.
set -e
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
[ -x tempest ] || make -s tempest
mkdir -p build
cc -O2 -mavx2 -mfma -pthread -o build/probe bench/probe.c
exec /usr/bin/python3 bench/train_vs_torch.py --probe build/probe "$@"
