#!/bin/sh
# deps.sh - check for, or install, the Debian packages tempest needs.
#
#   tools/deps.sh check build   exit 1 naming any missing build package
#   tools/deps.sh install build install what the build needs (as root)
#   tools/deps.sh install test  ... and what `make check` needs
#   tools/deps.sh install fuzz  ... and what `make fuzz` needs (clang, libFuzzer)
#   tools/deps.sh install ci    ... and what `make valgrind` and `make soak` need
#
# Each line: how to detect it, and the Debian package that provides it.
set -u
mode=${1:-check}
set_=${2:-build}

missing=""
need_pc() { pkg-config --exists "$1" 2>/dev/null || missing="$missing $2"; }
need_cmd() { command -v "$1" >/dev/null 2>&1 || missing="$missing $2"; }
need_file() { [ -e "$1" ] || missing="$missing $2"; }

scan() {
    missing=""
    need_cmd cc gcc
    need_cmd make make
    need_cmd pkg-config pkg-config
    if command -v pkg-config >/dev/null 2>&1; then
        need_pc ncursesw libncurses-dev
        need_pc readline libreadline-dev
        need_pc libcjson libcjson-dev
        need_pc inih libinih-dev
        need_pc cairo libcairo2-dev
        need_pc openblas libopenblas-openmp-dev
    fi
    if [ "$set_" = test ]; then
        command -v pkg-config >/dev/null 2>&1 && need_pc criterion libcriterion-dev
        need_cmd tmux tmux
        need_cmd asciinema asciinema
        need_file /usr/bin/python3 python3
        /usr/bin/python3 -c 'import torch' >/dev/null 2>&1 || missing="$missing python3-torch"
        need_file /usr/lib/x86_64-linux-gnu/openblas-openmp/libblas.so.3 libopenblas0-openmp
        locale -a 2>/dev/null | grep -qi '^c.utf-\?8$' || missing="$missing locales"
    fi
    if [ "$set_" = ci ]; then
        need_cmd valgrind valgrind
        need_cmd tmux tmux
    fi
    if [ "$set_" = fuzz ]; then
        need_cmd clang clang
        # libFuzzer and the sanitizer runtimes for Debian's clang (14 on bookworm)
        ls /usr/lib/llvm-*/lib/clang/*/lib/linux/libclang_rt.fuzzer-x86_64.a \
            >/dev/null 2>&1 || missing="$missing libclang-rt-14-dev"
    fi
}

scan
[ -z "$missing" ] && exit 0

if [ "$mode" = check ]; then
    echo "tempest: missing Debian package(s):$missing" >&2
    echo "tempest: install them with: sudo apt-get install$missing" >&2
    echo "tempest: (or run 'make run' / 'make check' as root, which installs them)" >&2
    exit 1
fi
if [ "$(id -u)" != 0 ]; then
    echo "tempest: missing Debian package(s):$missing" >&2
    echo "tempest: not root, so not installing; run: sudo apt-get install$missing" >&2
    exit 1
fi
echo "tempest: installing Debian package(s):$missing" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq >&2 && apt-get install -y -qq --no-install-recommends $missing >&2 || {
    echo "tempest: apt-get could not install:$missing" >&2
    exit 1
}
scan
if [ -n "$missing" ]; then
    echo "tempest: still missing after install:$missing" >&2
    exit 1
fi
