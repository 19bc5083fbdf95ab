#!/bin/sh
# build.sh - the build system: missing packages are named, install lays out a
# working tree under PREFIX, the binary finds its bundled model there.
. "$(dirname "$0")/../lib.sh"

# A machine without the libraries: pkg-config finds nothing.
out=$(PKG_CONFIG_LIBDIR=/nonexistent PKG_CONFIG_PATH= "$ROOT/tools/deps.sh" check build 2>&1)
st=$?
if [ $st = 1 ] && echo "$out" | grep -q libncurses-dev && echo "$out" | grep -q libcjson-dev \
    && echo "$out" | grep -q libreadline-dev && echo "$out" | grep -q libinih-dev; then
    pass "deps-check-names-debian-packages"
else
    fail "deps-check-names-debian-packages" "exit $st: $out"
fi

out=$(PKG_CONFIG_LIBDIR=/nonexistent PKG_CONFIG_PATH= make -C "$ROOT" -s deps 2>&1)
if [ $? != 0 ] && echo "$out" | grep -q "apt-get install"; then
    pass "make-stops-naming-packages"
else
    fail "make-stops-naming-packages" "$out"
fi

if [ ! -f "$MODEL" ]; then
    skip "install-layout" "the bundled model $MODEL is missing"
    exit 0
fi
dest="$TMP/dest"
if make -C "$ROOT" -s install PREFIX=/opt/tp DESTDIR="$dest" >"$TMP/install.log" 2>&1; then
    missing=""
    for f in bin/tempest share/man/man1/tempest.1 share/tempest/models/shakespeare.safetensors \
        share/tempest/themes/default.ini share/tempest/themes/projector.ini; do
        [ -e "$dest/opt/tp/$f" ] || missing="$missing $f"
    done
    if [ -z "$missing" ]; then pass "install-layout"; else fail "install-layout" "missing:$missing"; fi
    # The installed binary finds the model under its prefix, from anywhere.
    if (cd / && env -u TEMPEST_MODEL "$dest/opt/tp/bin/tempest" inspect --json) \
        | grep -q '"vocab_size":65'; then
        pass "installed-binary-finds-bundled-model"
    else
        fail "installed-binary-finds-bundled-model" "inspect did not load the installed model"
    fi
else
    fail "install-layout" "make install failed: $(tail -3 "$TMP/install.log")"
fi
