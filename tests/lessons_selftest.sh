#!/bin/sh
# The lesson runner must be able to fail: a chapter whose text quotes a number its block
# does not print, names a picture its blocks never write, or overwrites another chapter's
# picture must fail tests/lessons.sh; the honest versions of the same chapters must pass.
# On another kernel set than the recording's, a differing number is listed, not failed.
cd "$(dirname "$0")/.." || exit 1
[ -x ./tinybrain ] || { echo "lessons_selftest: build ./tinybrain first (make)" >&2; exit 1; }
d=$(mktemp -d) || exit 1
trap 'rm -rf "$d" plots/selftest_*.png' EXIT
bad=0
# The strict checks hold on the kernel set the numbers were recorded with: say it is this
# machine's, whichever it is (lessons.sh: LESSONS_RECORDED).
LESSONS_RECORDED=$(./tinybrain version | sed -n 's/^kernels //p')
export LESSONS_RECORDED
# chapter FILE BODY: write a tiny chapter
chapter() { printf '%s\n' "$2" >"$d/$1"; }
# want RESULT FILE...: run the runner on the chapters and compare its exit status
want() {
  r=$1; shift
  if sh tests/lessons.sh "$@" >"$d/log" 2>&1; then got=pass; else got=fail; fi
  if [ "$got" = "$r" ]; then echo "ok   runner says $got for $*"
  else bad=1; echo "FAIL runner says $got for $* (wanted $r):"; sed 's/^/  > /' "$d/log"; fi
}
f='```'
chapter good.md "$f"'sh
echo "GPT   val loss 1.9812   minimal pairs 0.99"
'"$f"'
<!-- expect-num: 1.98 0.005 GPT +val loss # -->
<!-- expect-num: 0.99 0 minimal pairs # -->
<!-- expect: minimal pairs -->'
chapter nth.md "$f"'sh
echo "val loss 1.50"; echo "val loss 2.50"
'"$f"'
<!-- expect-num: 1.50 0 val loss # -->
<!-- expect-num: 2.50 0 @2 val loss # -->'
chapter badnth.md "$f"'sh
echo "val loss 1.50"; echo "val loss 2.50"
'"$f"'
<!-- expect-num: 1.50 0 @2 val loss # -->'
chapter badnum.md "$f"'sh
echo "GPT   val loss 1.9812   minimal pairs 0.99"
'"$f"'
<!-- expect-num: 1.95 0.02 GPT +val loss # -->'
chapter nonum.md "$f"'sh
echo "GPT   val loss n/a"
'"$f"'
<!-- expect-num: 1.98 0.02 GPT +val loss # -->'
chapter badre.md "$f"'sh
echo "GPT   val loss 1.9812"
'"$f"'
<!-- expect: SNN val loss -->'
chapter pic.md "See \`plots/selftest_a.png\`.
$f"'sh
printf x > plots/selftest_a.png
'"$f"
chapter nopic.md "See \`plots/selftest_never.png\`.
$f"'sh
echo nothing drawn
'"$f"
chapter over.md "$f"'sh
printf y > plots/selftest_a.png
'"$f"
chapter slow.md "<!-- slow -->
$f"'sh
echo "val loss 9.99"
'"$f"'
<!-- expect-num: 1.98 0.01 val loss # -->'
want pass "$d/good.md"
want pass "$d/slow.md"
want pass "$d/nth.md"
want fail "$d/badnth.md"
want fail "$d/badnum.md"
want fail "$d/nonum.md"
want fail "$d/badre.md"
want pass "$d/pic.md"
want fail "$d/nopic.md"
want fail "$d/pic.md" "$d/over.md"
LESSONS_SLOW=1 want fail "$d/slow.md"
# Recorded with another kernel set: a number that differs is listed, not failed; a block
# that exits non-zero and a picture not written still fail.
chapter exits.md "$f"'sh
echo "val loss 1.98"; exit 3
'"$f"'
<!-- expect-num: 1.98 0.01 val loss # -->'
LESSONS_RECORDED="neon (aarch64) elsewhere" want pass "$d/badnum.md"
if grep -q "differs from the recording: .*badnum.md block 1" "$d/log" && grep -q "lessons: 1 blocks print numbers that differ" "$d/log"
then echo "ok   runner lists the differing number under another kernel set"
else bad=1; echo "FAIL runner did not list the differing number:"; sed 's/^/  > /' "$d/log"; fi
LESSONS_RECORDED="neon (aarch64) elsewhere" want fail "$d/exits.md"
LESSONS_RECORDED="neon (aarch64) elsewhere" want fail "$d/nopic.md"
[ $bad -eq 0 ] && echo "lessons_selftest: the runner catches broken numbers and pictures"
exit $bad
