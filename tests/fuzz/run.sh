#!/bin/sh
# run.sh -- build the libFuzzer targets with clang and run each for a fixed time.
#   sh tests/fuzz/run.sh [SECONDS] [TARGET...]   (`make fuzz FUZZ_SECONDS=N`; default 60 s)
#   sh tests/fuzz/run.sh --seeds                 rewrite the seeds made by tests/fuzz/seeds.c
# Targets: ckpt npy npz tsv corpus tokenizer stimuli cli (see tests/fuzz/harness.h).
# Seeds are read from tests/fuzz/corpus/TARGET/; what the fuzzer learns is kept in
# build-fuzz/corpus/TARGET/ (reused by the next run); a crash, a leak, a broken promise,
# an input slower than 10 s or an allocation above 256 MB is saved in
# build-fuzz/crash/TARGET/ and fails the run.  Fix it, then copy the file to
# tests/fuzz/repro/TARGET/: `make test` replays it from then on (tests/test_fuzz_repro.c).
set -e
B=build-fuzz
ALL="ckpt npy npz tsv corpus tokenizer stimuli cli"

if [ "$1" = --seeds ]; then
  make -s build/libtinybrain.a
  mkdir -p $B
  ${CC:-cc} -std=c11 -D_GNU_SOURCE -Iinclude tests/fuzz/seeds.c build/libtinybrain.a -lstb -lm -pthread -o $B/seeds
  exec $B/seeds tests/fuzz/corpus
fi
secs=${1:-60}
[ $# -gt 0 ] && shift
targets=${*:-$ALL}

# clang and its libFuzzer runtime: installed with apt-get when root, else the command is printed.
probe() {
  command -v clang >/dev/null 2>&1 || return 1
  mkdir -p $B
  printf 'int LLVMFuzzerTestOneInput(const char *d, unsigned long n) { (void)d; (void)n; return 0; }\n' > $B/probe.c
  clang -fsanitize=fuzzer $B/probe.c -o $B/probe >/dev/null 2>&1
}
if ! probe; then
  v=$(clang --version 2>/dev/null | sed -n 's/.*clang version \([0-9][0-9]*\).*/\1/p' | head -n 1)
  need="clang"
  [ -n "$v" ] && need="clang libclang-rt-$v-dev"
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "fuzz: installing $need"
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $need >/dev/null 2>&1 ||
      { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $need >/dev/null; }
    probe || { echo "fuzz: clang cannot build a libFuzzer target (install libclang-rt-*-dev)" >&2; exit 1; }
  else
    echo "fuzz: needs clang with libFuzzer; install with:  sudo apt-get install -y $need" >&2
    exit 1
  fi
fi

SAN="-O1 -g -fno-omit-frame-pointer -fsanitize=address,undefined -fno-sanitize-recover=undefined"
make -s BUILD=$B CC=clang CFLAGS="$SAN -fsanitize=fuzzer-no-link" $B/libtinybrain.a
CF="-std=c11 -D_GNU_SOURCE -ffp-contract=off -Wall -Wextra -Iinclude -pthread $SAN"
# cli.c exits on bad usage; in the fuzzer its exit() returns to the harness instead.
clang $CF -fsanitize=fuzzer-no-link -Dexit=tb_fuzz_exit -c src/cli/cli.c -o $B/cli_fuzz.o

fail=0
for t in $targets; do
  extra=""
  [ "$t" = cli ] && extra="-DFUZZ_CLI -DTB_FUZZ_LONGJMP tests/fuzz/harness_cli.c $B/cli_fuzz.o"
  clang $CF -fsanitize=fuzzer -DFUZZ_TARGET="\"$t\"" tests/fuzz/fuzz_main.c tests/fuzz/harness.c \
    $extra $B/libtinybrain.a -lstb -lm -o $B/fuzz_$t
  mkdir -p $B/corpus/$t $B/crash/$t
  if $B/fuzz_$t -max_total_time="$secs" -timeout=10 -malloc_limit_mb=256 -rss_limit_mb=1024 \
       -close_fd_mask=3 -print_final_stats=1 -artifact_prefix=$B/crash/$t/ \
       $B/corpus/$t tests/fuzz/corpus/$t > $B/fuzz_$t.log 2>&1; then
    status=ok
  else
    status=FOUND; fail=1
  fi
  runs=$(sed -n 's/^stat::number_of_executed_units: *//p' $B/fuzz_$t.log | tail -n 1)
  cov=$(grep -o 'cov: [0-9]*' $B/fuzz_$t.log | tail -n 1)
  echo "fuzz $t: $status, ${runs:-?} executions in ${secs} s, $cov, $(ls $B/corpus/$t | wc -l) corpus files"
  [ $status = ok ] || { grep -m 3 -E 'ERROR|SUMMARY|broken promise|Test unit written' $B/fuzz_$t.log || true; }
done
[ $fail = 0 ] || { echo "fuzz: findings in $B/crash/ (logs: $B/fuzz_*.log)" >&2; exit 1; }
