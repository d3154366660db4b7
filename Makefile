# tinybrain: one binary, one Makefile.  `make help` lists the targets.
#
# The library is every .c file under src/ except src/cli/ (one folder per pillar:
# base, kernels, corpus, gpt, snn, srnn, align, study, bench); the binary adds src/cli/.
# Per-ISA files are compiled with their own flags (never -march=native), so the
# binary runs on any x86-64 or aarch64 and picks its kernels at start-up:
#   src/*/*_avx2.c  -> -mavx2 -mfma        (x86-64 only; the file is empty elsewhere)
#   src/*/*_neon.c  -> baseline on aarch64 (the file is empty elsewhere)

CC      ?= cc
PREFIX  ?= /usr/local
DESTDIR ?=
OPT     ?= -O3
CFLAGS  ?= $(OPT) -g
override CFLAGS += -std=c11 -ffp-contract=off -Wall -Wextra -Wpedantic -Wmissing-prototypes -Wshadow -Iinclude -D_GNU_SOURCE -pthread
LDLIBS  ?= -lstb -lm -pthread
TEST_LDLIBS = -lcmocka
BUILD   ?= build
BIN     ?= tinybrain

# The machine the binary is for comes from the compiler (a cross compiler names its
# target), never from the build machine's `uname -m`.
MACHINE := $(shell $(CC) -dumpmachine 2>/dev/null)
ifneq ($(filter x86_64-% amd64-%,$(MACHINE)),)
  AVX2FLAGS := -mavx2 -mfma
else
  AVX2FLAGS :=
endif

# Parallel by default: one job per core (a -jN on the command line wins; sub-makes share
# the top one's job slots).
ifeq ($(MAKELEVEL),0)
  MAKEFLAGS += -j$(shell nproc 2>/dev/null || echo 2)
endif

LIB_DIRS := base kernels corpus gpt snn srnn align study bench
LIB_SRC  := $(foreach d,$(LIB_DIRS),$(wildcard src/$(d)/*.c))
CLI_SRC  := $(filter-out src/cli/main.c,$(wildcard src/cli/*.c))
LIB_OBJ  := $(LIB_SRC:%.c=$(BUILD)/%.o)
CLI_OBJ  := $(CLI_SRC:%.c=$(BUILD)/%.o)
MAIN_OBJ := $(BUILD)/src/cli/main.o
TEST_SRC := $(wildcard tests/test_*.c)
TEST_BIN := $(TEST_SRC:tests/%.c=$(BUILD)/tests/%)

.PHONY: all build-tests test unit golden demo bench lessons lessons-slow asan asan-run asan-pipeline fuzz install uninstall clean \
        deps deps-test deps-cross test-cross warnings help
all: $(BIN)

help:
	@echo "make            build ./tinybrain"
	@echo "make demo       the whole story: corpus, models, recording, comparison, plots"
	@echo "make test       unit tests (cmocka) + every lesson's shell blocks"
	@echo "make unit       unit tests only"
	@echo "make lessons    run every sh block of lessons/*.md"
	@echo "make lessons-slow  the same, with the exercises' answers that take minutes"
	@echo "make exercise-NN  check your lessons/exercises/exNN_*.c (SOLUTION=1: the reference solution)"
	@echo "make golden     fixed runs give byte-identical outputs (tests/golden.sh)"
	@echo "make bench      speed tables (kernels, gpt, snn, align)"
	@echo "make asan       unit tests under AddressSanitizer + UBSan (in build-asan/)"
	@echo "make asan-pipeline   every command chained on tiny models under ASan + UBSan (tests/pipeline_sanitized.sh)"
	@echo "make fuzz       every file reader under libFuzzer, FUZZ_SECONDS each (in build-fuzz/)"
	@echo "make test-cross ARCH=aarch64   cross-compile, run the unit tests under qemu-user (in build-aarch64/)"
	@echo "make warnings   build with gcc and clang at -O0, -O1, -O2, -O3 with -Werror (in build-werror/)"
	@echo "make install    binary to DESTDIR/PREFIX/bin, data and lessons to PREFIX/share/tinybrain (PREFIX=$(PREFIX))"
	@echo "make clean      remove build outputs"

# System packages: installed with apt-get when root, otherwise the exact command is printed.
# Targets that need them check first and build after (never both at once under -j).
deps:
	@CC='$(CC)' sh tests/deps.sh build
deps-test:
	@CC='$(CC)' sh tests/deps.sh test
deps-cross:
	@sh tests/deps.sh cross $(ARCH)

# Objects remember the compiler and flags that made them: changing either (CC=clang,
# OPT=-O0, ...) rebuilds everything instead of linking a mix.
FLAGS_STAMP := $(BUILD)/.flags
$(shell mkdir -p $(BUILD) && { echo '$(CC) $(CFLAGS) $(AVX2FLAGS)' | cmp -s - $(FLAGS_STAMP) || echo '$(CC) $(CFLAGS) $(AVX2FLAGS)' > $(FLAGS_STAMP); })

$(BUILD)/%_avx2.o: %_avx2.c $(FLAGS_STAMP)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(AVX2FLAGS) -MMD -MP -c $< -o $@
$(BUILD)/%.o: %.c $(FLAGS_STAMP)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -MMD -MP -c $< -o $@

$(BUILD)/libtinybrain.a: $(LIB_OBJ)
	@rm -f $@
	ar rcs $@ $^

$(BIN): $(MAIN_OBJ) $(CLI_OBJ) $(BUILD)/libtinybrain.a
	$(CC) $(CFLAGS) -o $@ $^ $(LDLIBS)

# Tests link the library only: no test sees src/cli/.
$(BUILD)/tests/%: tests/%.c $(BUILD)/libtinybrain.a
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -o $@ $< $(BUILD)/libtinybrain.a $(TEST_LDLIBS) $(LDLIBS)

build-tests: $(BIN) $(TEST_BIN)

unit: deps-test
	@$(MAKE) --no-print-directory build-tests
	@sh tests/run_unit.sh $(TEST_BIN)

lessons: deps
	@$(MAKE) --no-print-directory $(BIN)
	@sh tests/lessons.sh

# Also the exercises' answers that take minutes (blocks marked <!-- slow -->).
lessons-slow: deps
	@$(MAKE) --no-print-directory $(BIN)
	@LESSONS_SLOW=1 sh tests/lessons.sh

test: deps-test
	@$(MAKE) --no-print-directory build-tests
	@sh tests/run_unit.sh $(TEST_BIN) && sh tests/golden.sh && sh tests/install.sh && sh tests/report.sh && \
	  CC='$(CC)' CFLAGS='$(CFLAGS)' LDLIBS='$(LDLIBS)' BUILD='$(BUILD)' sh tests/exercises.sh && sh tests/lessons_selftest.sh && sh tests/lessons.sh

# Lesson exercises (lessons/exercises/README.md): `make exercise-02` checks your
# lessons/exercises/ex02_*.c against tinybrain's own code; SOLUTION=1 checks the reference
# solution instead, EXERCISE=FILE any other file.  tests/exercises.sh tests the checkers.
exercise-%: $(BUILD)/libtinybrain.a
	@CC='$(CC)' CFLAGS='$(CFLAGS)' LDLIBS='$(LDLIBS)' BUILD='$(BUILD)' sh lessons/exercises/check.sh $* '$(if $(SOLUTION),solution,$(EXERCISE))'

golden: $(BIN)
	@sh tests/golden.sh

demo: deps
	@$(MAKE) --no-print-directory $(BIN)
	@sh tests/demo.sh

# Unit tests of a cross-compiled build under user-mode emulation (Debian's
# gcc-ARCH-linux-gnu and qemu-user-static, installed like `make test` installs its
# packages), in build-ARCH/.  The emulated run creates no thread and starts no gnuplot
# (TINYBRAIN_THREADS=1, TINYBRAIN_GNUPLOT=0: qemu-user can hang on both); tests that
# cannot run emulated are listed by tests/run_unit.sh with the reason.
ARCH ?= aarch64
CROSS_CC = $(ARCH)-linux-gnu-gcc
test-cross: deps-cross
	@$(MAKE) --no-print-directory CC=$(CROSS_CC) BUILD=build-$(ARCH) BIN=build-$(ARCH)/tinybrain build-tests
	@TINYBRAIN_TEST_EMULATOR=qemu-$(ARCH)-static TINYBRAIN_THREADS=1 TINYBRAIN_GNUPLOT=0 \
	    sh tests/run_unit.sh $(TEST_SRC:tests/%.c=build-$(ARCH)/tests/%)

# Warning-free everywhere: every compiler in WERROR_CC at every level in WERROR_OPT with
# -Werror (the library, the binary and every test), each in build-werror/CC-OPT/.  -O1 is
# there because gcc's -Wformat-truncation depends on what the optimizer can prove.
WERROR_CC ?= gcc clang
WERROR_OPT ?= -O0 -O1 -O2 -O3
warnings:
	@for cc in $(WERROR_CC); do CC=$$cc sh tests/deps.sh test || exit 1; \
	  for o in $(WERROR_OPT); do b=build-werror/$$cc$$o; \
	    $(MAKE) --no-print-directory -s CC=$$cc BUILD=$$b BIN=$$b/tinybrain CFLAGS="$$o -Werror" build-tests \
	      && echo "warnings: $$cc $$o: none" || exit 1; \
	  done; done

bench: $(BIN)
	./$(BIN) bench kernels
	./$(BIN) bench gpt --preset classroom
	./$(BIN) bench snn
	./$(BIN) bench snn-train
	./$(BIN) bench align

# AddressSanitizer + UBSan in its own folder, so the normal build stays intact: the unit
# tests (make asan), and every command chained on tiny models (make asan-pipeline,
# tests/pipeline_sanitized.sh).
ASAN_MAKE = $(MAKE) --no-print-directory BUILD=build-asan BIN=build-asan/tinybrain \
	    CFLAGS="-O1 -g -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined" \
	    LDLIBS="-lstb -lm -pthread -fsanitize=address,undefined"
asan: deps-test
	@$(ASAN_MAKE) asan-run

asan-run: $(BIN) $(TEST_BIN)
	@sh tests/run_unit.sh $(TEST_BIN)

asan-pipeline: deps
	@$(ASAN_MAKE) build-asan/tinybrain
	@sh tests/pipeline_sanitized.sh build-asan/tinybrain

# libFuzzer (clang): one target per file reader, each run FUZZ_SECONDS (tests/fuzz/run.sh).
FUZZ_SECONDS ?= 60
fuzz:
	+@sh tests/fuzz/run.sh $(FUZZ_SECONDS)

# The replay of the fuzz seeds and reproducers also runs the CLI's option parser, so it
# links src/cli/cli.c (in child processes, since it exits on bad usage).
$(BUILD)/tests/test_fuzz_repro: tests/test_fuzz_repro.c tests/fuzz/harness.c tests/fuzz/harness_cli.c \
                                $(BUILD)/src/cli/cli.o $(BUILD)/libtinybrain.a
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -o $@ $< $(BUILD)/src/cli/cli.o $(BUILD)/libtinybrain.a $(TEST_LDLIBS) $(LDLIBS)

# The binary, and beside it in PREFIX/share/tinybrain the toyworld data and the
# lessons: an installed tinybrain finds its data there from any folder (cli.c).
SHARE = $(DESTDIR)$(PREFIX)/share/tinybrain
install: $(BIN)
	install -d $(DESTDIR)$(PREFIX)/bin $(SHARE)/data/toyworld $(SHARE)/lessons
	install -m 755 $(BIN) $(DESTDIR)$(PREFIX)/bin/tinybrain
	install -m 644 data/toyworld/* $(SHARE)/data/toyworld/
	install -m 644 lessons/*.md $(SHARE)/lessons/

uninstall:
	rm -f $(DESTDIR)$(PREFIX)/bin/tinybrain
	rm -rf $(SHARE)

clean:
	rm -rf build build-asan build-fuzz build-werror build-aarch64 tinybrain

-include $(LIB_OBJ:.o=.d) $(CLI_OBJ:.o=.d) $(MAIN_OBJ:.o=.d)
