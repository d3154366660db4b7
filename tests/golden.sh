#!/bin/sh
# The behaviour contract: a fixed set of runs must give the same bytes as the recorded
# ones.  A refactor (moving code, renaming, splitting functions) must leave every
# checkpoint, recording and JSON summary below unchanged; a change that is *meant* to
# change numbers regenerates the record with --update and says why in its commit.
#
#   sh tests/golden.sh            check (exit 1 and a list of differing files on a mismatch)
#   sh tests/golden.sh --update   rewrite tests/golden/ARCH-KERNELS.sha256
#
# What is compared: SHA-256 of every checkpoint, .npy array and manifest written, and of
# the JSON and TSV outputs with the timing fields (wall_s, tokens_per_s, build_s) removed.
# Floating-point results depend on the kernel set and the CPU architecture, so there is
# one record per ARCH-KERNELS pair (x86_64-avx2 and x86_64-scalar are kept); where no
# record exists the check says so and is skipped.  Results do not depend on the thread
# count (the determinism contract in include/threads.h); the runs use --threads 2.
cd "$(dirname "$0")/.." || exit 1
root=$(pwd)
tb="$root/tinybrain"
[ -x "$tb" ] || { echo "golden: build ./tinybrain first (make)" >&2; exit 1; }
update=0
[ "$1" = "--update" ] && update=1
arch=$(uname -m)
kernel_sets="scalar"
case "$arch" in x86_64|amd64) grep -q avx2 /proc/cpuinfo 2>/dev/null && kernel_sets="avx2 scalar" ;; esac

# timing fields vary from run to run; everything else must not
normalize_json() { sed -E 's/"(wall_s|tokens_per_s|build_s)": *[-0-9.eE+a-z]+,? ?//g' "$1"; }
# the wall_s column of a training log (always the last column)
normalize_tsv() { awk -F'\t' 'BEGIN { OFS = "\t" } { NF = NF - 1; print }' "$1"; }

run_set() {   # $1 = kernel set, $2 = work folder
  k=$1; w=$2
  mkdir -p "$w" && ln -s "$root/data" "$w/data" || return 1
  cd "$w" || return 1
  o="--threads 2 --kernels $k --quiet"
  "$tb" train --steps 200 --name g --save-at 0,final --json $o >g_train.json &&
  "$tb" train-snn --steps 50 --name s --save-at 0,final --json $o >s_train.json &&
  "$tb" record runs/g.ckpt --out runs/rec/g $o >/dev/null &&
  "$tb" record runs/s.ckpt --out runs/rec/s $o >/dev/null &&
  "$tb" compare runs/rec/g runs/rec/s --json $o >compare.json &&
  "$tb" align --demo demo $o >/dev/null &&
  "$tb" align demo/model demo/brain.npy --json --boot 20 --perm 20 $o >align.json &&
  "$tb" snn run --ms 500 --json $o >snn_run.json || { cd "$root"; return 1; }
  for f in $(find . -path ./data -prune -o -type f \( -name '*.ckpt' -o -name '*.npy' -o -name 'manifest.json' \) -print | sort); do
    printf '%s  %s\n' "$(sha256sum <"$f" | cut -c1-64)" "$f"
  done
  for f in *.json; do printf '%s  %s\n' "$(normalize_json "$f" | sha256sum | cut -c1-64)" "$f"; done
  for f in runs/g.tsv runs/s.tsv; do printf '%s  %s\n' "$(normalize_tsv "$f" | sha256sum | cut -c1-64)" "$f"; done
  for f in runs/compare/*.tsv; do printf '%s  %s\n' "$(sha256sum <"$f" | cut -c1-64)" "$f"; done
  cd "$root"
}

tmp=$(mktemp -d) || exit 1
trap 'rm -rf "$tmp"' EXIT
pass=0; fail=0; skip=0
for k in $kernel_sets; do
  rec="tests/golden/$arch-$k.sha256"
  if ! run_set "$k" "$tmp/$k" >"$tmp/$k.sha256" 2>"$tmp/$k.err"; then
    echo "FAIL golden $arch-$k: a run failed"; sed 's/^/  > /' "$tmp/$k.err" | tail -n 20
    fail=$((fail + 1)); continue
  fi
  if [ $update = 1 ]; then
    mkdir -p tests/golden && cp "$tmp/$k.sha256" "$rec"
    echo "golden: wrote $rec ($(wc -l <"$rec") files)"; pass=$((pass + 1)); continue
  fi
  if [ ! -f "$rec" ]; then
    echo "skip golden $arch-$k: no record for this architecture and kernel set"; skip=$((skip + 1)); continue
  fi
  if diff "$rec" "$tmp/$k.sha256" >"$tmp/$k.diff"; then
    echo "ok   golden $arch-$k: $(wc -l <"$rec") files identical"; pass=$((pass + 1))
  else
    echo "FAIL golden $arch-$k: outputs differ from $rec:"
    grep '^[<>]' "$tmp/$k.diff" | awk '{print $3}' | sort -u | sed 's/^/  /'
    fail=$((fail + 1))
  fi
done
echo "golden: $pass passed, $fail failed, $skip skipped"
[ $fail -eq 0 ]
