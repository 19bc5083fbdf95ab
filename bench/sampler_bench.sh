#!/bin/sh
# sampler_bench.sh - build bench/sampler_bench.c against build/libtempest.a and
# run it (see the header of sampler_bench.c). Run from anywhere:
#     bench/sampler_bench.sh [V ...]
set -e
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
[ -f build/libtempest.a ] || make -s build/libtempest.a
cc -O2 -std=c17 -D_DEFAULT_SOURCE -Wall -Wextra -Werror -Iinclude -o build/sampler_bench \
    bench/sampler_bench.c build/libtempest.a -lm
exec build/sampler_bench "$@"
