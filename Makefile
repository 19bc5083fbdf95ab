# tempest - build, test, install.
#
#   make            build ./tempest (objects under build/)
#   make run        install missing packages (as root), build, open the playground
#   make check      install missing packages (as root), build, run every test
#   make install    PREFIX=/usr/local DESTDIR=... : binary, man page, themes, models
#   make clean
#
# Libraries come from Debian packages through pkg-config; tools/deps.sh names
# the package for anything missing.

CC       ?= cc
PREFIX   ?= /usr/local
DATADIR  ?= $(PREFIX)/share/tempest
MANDIR   ?= $(PREFIX)/share/man
OPT      ?= -O2 -g
SANITIZE ?=

PKGS      = ncursesw readline libcjson inih cairo openblas
PKG_CFLAGS = $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS   = $(shell pkg-config --libs $(PKGS) 2>/dev/null)

CFLAGS_ALL = -std=c17 -Wall -Wextra -Werror -D_DEFAULT_SOURCE -D_POSIX_C_SOURCE=200809L \
             -Iinclude $(OPT) $(PKG_CFLAGS) -DTEMPEST_DATADIR='"$(DATADIR)"' $(CFLAGS)
ifneq ($(SANITIZE),)
CFLAGS_ALL += -fsanitize=address,undefined -fno-omit-frame-pointer
LDFLAGS    += -fsanitize=address,undefined
endif
LIBS = $(PKG_LIBS) -lgomp -lm -lpthread

# Objects of one set of flags never mix with another's (SANITIZE=1, another
# OPT or CC): those flags are kept in a stamp every object depends on,
# rewritten when they change, so a change rebuilds everything. Only the
# flags a person chooses: PREFIX (make install) and pkg-config's answers
# (the tests of a missing package) must not rebuild the tree under test.
FLAGS_STAMP = build/flags.stamp
FLAGS_NOW  := $(CC) | $(OPT) | $(SANITIZE) | $(CFLAGS) | $(LDFLAGS)
ifneq ($(FLAGS_NOW),$(file <$(FLAGS_STAMP)))
$(shell mkdir -p build)
$(file >$(FLAGS_STAMP),$(FLAGS_NOW))
endif

CORE_SRC = $(wildcard src/core/*.c)
CLI_SRC  = $(wildcard src/cli/*.c)
TUI_SRC  = $(wildcard src/tui/*.c)
CORE_OBJ = $(CORE_SRC:%.c=build/%.o)
APP_OBJ  = $(CLI_SRC:%.c=build/%.o) $(TUI_SRC:%.c=build/%.o) build/src/main.o

UNIT_SRC = $(wildcard tests/unit/*.c)
UNIT_BIN = build/tests/unit_tests

all: tempest

deps:
	@tools/deps.sh check build

tempest: $(CORE_OBJ) $(APP_OBJ) $(FLAGS_STAMP) | deps
	$(CC) $(LDFLAGS) -o $@ $(CORE_OBJ) $(APP_OBJ) $(LIBS)

build/libtempest.a: $(CORE_OBJ)
	ar rcs $@ $^

# The hot loops want the vectoriser at full strength.
build/src/core/kernels.o: KERNEL_OPT = -O3
# -fno-trapping-math lets the gate loops' clamps be vectorised.
build/src/core/train_%.o: KERNEL_OPT = -O3 -fno-trapping-math
# The trainer's time loops run on OpenMP threads (libgomp, which OpenBLAS's
# OpenMP build uses already).
build/src/core/train_net.o: KERNEL_OPT = -O3 -fno-trapping-math -fopenmp

build/%.o: %.c $(FLAGS_STAMP) | deps
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_ALL) $(KERNEL_OPT) -MMD -MP -c -o $@ $<

$(UNIT_BIN): $(UNIT_SRC) build/libtempest.a $(FLAGS_STAMP)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_ALL) $(shell pkg-config --cflags criterion) -Itests -o $@ $(UNIT_SRC) \
	    build/libtempest.a $(shell pkg-config --libs criterion) $(LDFLAGS) $(LIBS)

test-bins: tempest $(UNIT_BIN)

check:
	@tools/deps.sh install test
	@$(MAKE) --no-print-directory test-bins
	@tests/run_all.sh

run:
	@tools/deps.sh install build
	@$(MAKE) --no-print-directory tempest
	./tempest

install: tempest
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(MANDIR)/man1 \
	    $(DESTDIR)$(DATADIR)/models $(DESTDIR)$(DATADIR)/themes
	install -m 755 tempest $(DESTDIR)$(PREFIX)/bin/tempest
	install -m 644 docs/tempest.1 $(DESTDIR)$(MANDIR)/man1/tempest.1
	install -m 644 models/*.safetensors $(DESTDIR)$(DATADIR)/models/
	if ls themes/*.ini >/dev/null 2>&1; then install -m 644 themes/*.ini $(DESTDIR)$(DATADIR)/themes/; fi

clean:
	rm -rf build tempest

# ---- long checks (CI runs them after make check; each runs alone too) ----
#   make valgrind   memcheck on short generate, eval, probs, sweep runs
#   make soak       2,000,000 tokens with flat memory, the playground's memory
#                   flat over 150,000 tokens past its history window, and the playground in
#                   tmux under 50,000 random keys and 500 resizes
#                   (SOAK_TOKENS, SOAK_KEYS, SOAK_RESIZES make them shorter)
SOAK_TOKENS  ?= 2000000
SOAK_KEYS    ?= 50000
SOAK_RESIZES ?= 500

valgrind:
	@tools/deps.sh check ci
	@$(MAKE) --no-print-directory tempest
	@tests/soak/valgrind.sh | tee build/valgrind.log; ! grep -q '^FAIL' build/valgrind.log

soak:
	@tools/deps.sh check ci
	@$(MAKE) --no-print-directory tempest
	@{ tests/soak/generate_rss.sh $(SOAK_TOKENS); \
	   tests/soak/playground_rss.sh; \
	   tests/soak/playground_storm.sh $(SOAK_KEYS) $(SOAK_RESIZES); } | tee build/soak.log; \
	! grep -q '^FAIL' build/soak.log

.PHONY: all deps check run install clean test-bins valgrind soak
-include $(CORE_OBJ:.o=.d) $(APP_OBJ:.o=.d)

# ---- fuzzing (libFuzzer + ASan + UBSan, clang) ----------------------------
#   make fuzz [FUZZ_SECONDS=60]   build build/fuzz/fuzz_* and run each target
#   for FUZZ_SECONDS on tests/fuzz/corpus/<target> (new inputs go to
#   build/fuzz/corpus/<target>, crashes to build/fuzz/artifacts/; with
#   tests/fuzz/<target>.dict as a dictionary when there is one); fails if
#   any target finds a crash, a leak or a sanitizer report.
FUZZ_SECONDS ?= 60
FUZZ_CC      ?= clang
FUZZ_SAN      = -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
FUZZ_CFLAGS   = -std=c17 -Wall -Wextra -D_DEFAULT_SOURCE -D_POSIX_C_SOURCE=200809L -Iinclude \
                -g -O1 $(PKG_CFLAGS) -DTEMPEST_DATADIR='"$(DATADIR)"' $(FUZZ_SAN)
FUZZ_SRC      = $(wildcard tests/fuzz/fuzz_*.c)
FUZZ_BINS     = $(FUZZ_SRC:tests/fuzz/%.c=build/fuzz/%)
FUZZ_LIB_OBJ  = $(CORE_SRC:%.c=build/fuzz/obj/%.o) build/fuzz/obj/src/tui/theme.o

# clang 14 lacks __builtin_cpu_supports("f16c"): see tests/fuzz/clang_compat.h
build/fuzz/obj/src/core/kernels.o: FUZZ_EXTRA = -include tests/fuzz/clang_compat.h

build/fuzz/obj/%.o: %.c | deps
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_CFLAGS) $(FUZZ_EXTRA) -fsanitize=fuzzer-no-link -MMD -MP -c -o $@ $<

build/fuzz/%: tests/fuzz/%.c $(FUZZ_LIB_OBJ)
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer -o $@ $< $(FUZZ_LIB_OBJ) $(LIBS)

fuzz-bins:
	@tools/deps.sh check fuzz
	@$(MAKE) --no-print-directory $(FUZZ_BINS)

fuzz: fuzz-bins
	@mkdir -p build/fuzz/artifacts; failed=""; \
	for bin in $(FUZZ_BINS); do \
	    t=$${bin#build/fuzz/fuzz_}; mkdir -p build/fuzz/corpus/$$t tests/fuzz/corpus/$$t; \
	    echo "fuzz: $$t for $(FUZZ_SECONDS) s"; \
	    dict=; [ -f tests/fuzz/$$t.dict ] && dict=-dict=tests/fuzz/$$t.dict; \
	    ASAN_OPTIONS=detect_leaks=1:allocator_may_return_null=1 \
	    UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
	    $$bin -max_total_time=$(FUZZ_SECONDS) -print_final_stats=1 -timeout=10 $$dict \
	        -artifact_prefix=build/fuzz/artifacts/$$t- \
	        build/fuzz/corpus/$$t tests/fuzz/corpus/$$t >build/fuzz/$$t.log 2>&1 \
	        || failed="$$failed $$t"; \
	    grep -E '^(stat::number_of_executed_units|#[0-9]+[[:space:]]+DONE)' build/fuzz/$$t.log; \
	done; \
	if [ -n "$$failed" ]; then echo "fuzz: FAILED:$$failed (see build/fuzz/*.log)" >&2; exit 1; fi; \
	echo "fuzz: every target ran $(FUZZ_SECONDS) s without a crash"

.PHONY: fuzz fuzz-bins
.SECONDARY: $(FUZZ_LIB_OBJ)
-include $(FUZZ_LIB_OBJ:.o=.d)
