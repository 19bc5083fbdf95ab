#!/bin/sh
# load_memory.sh - loading a model costs about its own size in memory: the
# weights go from the file to their panels a few rows at a time (pread), never
# through a copy of the whole file or of a whole tensor. Peak RSS of
# `generate` against `--version` (same binary, same libraries).
. "$(dirname "$0")/../lib.sh"

maxrss_kb() {
    $PY -c '
import resource, subprocess, sys
subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL, check=True)
print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)' "$@"
}

# Under AddressSanitizer (make check SANITIZE=1) the shadow memory and the
# allocator's quarantine, not the program, decide the peak.
asan=
ldd "$TEMPEST" 2>/dev/null | grep -q libasan && asan=1

for m in "$MODEL" "$ROOT/models/shakespeare-words.safetensors"; do
    name=load-memory-$(basename "$m" .safetensors)
    if [ -n "$asan" ]; then
        skip "$name" "an AddressSanitizer build measures its own memory"
        continue
    fi
    if [ ! -f "$m" ]; then
        skip "$name" "no $m"
        continue
    fi
    base=$(maxrss_kb "$TEMPEST" --version)
    peak=$(maxrss_kb "$TEMPEST" generate --model "$m" --length 20 --seed 1)
    size_kb=$(($(wc -c <"$m") / 1024))
    extra=$((peak - base))
    # the weights once, plus a little; reading the file whole cost 2.7 times
    if [ -n "$base" ] && [ -n "$peak" ] && [ "$extra" -le $((size_kb * 3 / 2)) ]; then
        pass "$name"
    else
        fail "$name" "peak ${peak} kB, ${extra} kB over --version for a ${size_kb} kB model"
    fi
    echo "$(basename "$m"): ${extra} kB over --version for a ${size_kb} kB file" >&2
done
