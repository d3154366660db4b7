#!/bin/sh
# make install into a scratch PREFIX, then use the installed tinybrain from an empty
# folder: it finds the toyworld data in PREFIX/share/tinybrain (train, eval, record with
# the default probe sentences); with the data gone it says where it looked; with
# TINYBRAIN_DATA it uses that copy.  Prints "install: N passed, N failed".
cd "$(dirname "$0")/.." || exit 1
tmp=$(mktemp -d) || exit 1
trap 'rm -rf "$tmp"' EXIT
pass=0; fail=0
check() {  # check NAME COMMAND...: the command must succeed
  name=$1; shift
  if "$@" >"$tmp/out" 2>&1; then pass=$((pass + 1)); echo "ok   install: $name"
  else fail=$((fail + 1)); echo "FAIL install: $name"; sed 's/^/  > /' "$tmp/out" | tail -n 8; fi
}
make -s install PREFIX="$tmp/prefix" >"$tmp/make.log" 2>&1 || { cat "$tmp/make.log"; echo "install: 0 passed, 1 failed"; exit 1; }
tb="$tmp/prefix/bin/tinybrain"
share="$tmp/prefix/share/tinybrain"
mkdir -p "$tmp/work" && cd "$tmp/work" || exit 1
check "binary, data and lessons installed" test -x "$tb" -a -f "$share/data/toyworld/vocab.tsv" -a -f "$share/lessons/00-tour.md"
check "train from an empty folder" "$tb" train --steps 3 --eval-every 3 --name t --quiet
check "eval finds the minimal pairs" sh -c "'$tb' eval runs/t.ckpt --val-tokens 200 --json | grep -q minimal_pair_acc"
check "record reads the default probe sentences" "$tb" record runs/t.ckpt --out rec --quiet
mv "$share/data" "$share/data.moved"
check "without data: exit 1, says where it looked" sh -c "'$tb' train --steps 3 --name u --quiet >o 2>&1; s=\$?; cat o
  [ \$s = 1 ] && grep -q 'looked in ./data/toyworld, .*share/tinybrain/data/toyworld' o"
check "TINYBRAIN_DATA names another copy" env TINYBRAIN_DATA="$share/data.moved" "$tb" eval runs/t.ckpt --val-tokens 200 --quiet
echo "install: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
