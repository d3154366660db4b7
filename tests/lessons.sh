#!/bin/sh
# The lesson contract: run every ```sh block of every chapter in lessons/, in order,
# from the repository root, with ./tinybrain built.  A block fails the check when it
# exits non-zero.  Markers on the lines right after a block check what it printed
# (stdout+stderr):
#   <!-- expect: ERE -->                 the output matches the extended regular expression
#   <!-- expect-num: VALUE TOL ERE -->   the output has a line matching ERE, in which one '#'
#                                        stands for a number; the first such number must be
#                                        within TOL of VALUE (|x - VALUE| <= TOL).  Example:
#                                        <!-- expect-num: 1.98 0.03 GPT +val loss # -->
#   <!-- expect-num: VALUE TOL @N ERE -->  the same on the N-th matching line (a block that
#                                        prints the same kind of line several times)
# Every number the prose quotes from an output carries one of these markers.
#   <!-- slow -->                         on the line right before a block: an exercise's
#                                        answer that takes minutes; run (and checked) only
#                                        with LESSONS_SLOW=1 (`make lessons-slow`), skipped
#                                        otherwise (counted in the closing line).
# Pictures: every plots/NAME.png the chapter's text names must be written (created or
# renewed) while that chapter's blocks run, and no later chapter may overwrite it; a
# chapter's pictures are its own (lesson NN writes plots/lNN_*.png).
#   sh tests/lessons.sh                  all chapters
#   sh tests/lessons.sh lessons/02-*.md  some chapters
#   LESSONS_LOG=DIR sh tests/lessons.sh  also keeps each block's output in DIR/CHAPTER.N.out
# Each block's line shows its wall time and its CPU time (user + sys), and each chapter its
# CPU total: the times the chapters state ("Time: ...") are these.
# The numbers were recorded with one kernel set on one architecture (LESSONS_RECORDED,
# default "avx2 (x86_64)", as `./tinybrain version` prints it).  Another set (NEON on an ARM
# laptop, the scalar kernels on an old x86) rounds its sums differently in the last bits,
# and training carries that into other, equally valid numbers (include/threads.h, rule 3):
# there a check that does not match is listed as "differs from the recording" and counted
# apart, not failed.  A block that exits non-zero, and a picture not written, fail anywhere.
# Closes with "lessons: N passed, N failed" (blocks and checks), and, on another kernel set,
# how many checks differ from the recording.
# tests/lessons_selftest.sh checks that this runner fails on a broken number or picture.
cd "$(dirname "$0")/.." || exit 1
[ -x ./tinybrain ] || { echo "lessons: build ./tinybrain first (make)" >&2; exit 1; }
tmp=$(mktemp -d) || exit 1
trap 'rm -rf "$tmp"' EXIT
# shellcheck disable=SC2046
[ $# -gt 0 ] || set -- $(ls lessons/[0-9][0-9]*-*.md | LC_ALL=C sort)
[ -n "$LESSONS_LOG" ] && mkdir -p "$LESSONS_LOG"
pass=0; fail=0; skip=0; drift=0
recorded=${LESSONS_RECORDED:-}
[ -n "$recorded" ] || recorded='avx2 (x86_64)'
here=$(./tinybrain version | sed -n 's/^kernels //p')
[ -n "$here" ] || { echo "lessons: ./tinybrain version names no kernel set" >&2; exit 1; }
[ "$here" = "$recorded" ] || echo "lessons: the chapters' numbers were recorded with kernels $recorded; this machine runs $here, so a number that differs is listed, not failed"
: >"$tmp/shown"   # "PICTURE CHAPTER" for every picture a chapter showed

# Source paths named in the prose (src/..., include/...) must exist, in the README and in
# every chapter checked: the text may never send a reader to a file that has moved.
for md in README.md "$@"; do
  [ -f "$md" ] || continue
  for p in $(grep -o '\(src\|include\)/[A-Za-z0-9_./*-]*[A-Za-z0-9_*/]' "$md" | sort -u); do
    # shellcheck disable=SC2086
    ls -d $p >/dev/null 2>&1 && continue   # unquoted: a glob such as src/*/*_avx2.c may match
    fail=$((fail + 1)); echo "FAIL $md names $p, which does not exist"
  done
done

# check_num VALUE TOL ERE OUTFILE [N]: 0 when the N-th (default first) line of OUTFILE
# matching ERE ('#' = a number) has a number within TOL of VALUE; otherwise prints why
# and returns 1.
check_num() {
  awk -v want="$1" -v tol="$2" -v pat="$3" -v nth="${5:-1}" '
    BEGIN { num = "[-+]?([0-9]+[.]?[0-9]*|[.][0-9]+)([eE][-+]?[0-9]+)?"
            i = index(pat, "#"); if (i == 0) { print "  expect-num: no # in /" pat "/"; bad = 1; exit }
            pre = substr(pat, 1, i - 1); post = substr(pat, i + 1) }
    !found && match($0, pre num post) {
      s = substr($0, RSTART, RLENGTH)
      # the number is where the prefix stops matching: try each start, keep the first that
      # leaves prefix before and the suffix after
      for (k = 1; k <= length(s); k++) {
        head = substr(s, 1, k - 1); rest = substr(s, k)
        if ((pre == "" || match(head, "^(" pre ")$")) && match(rest, "^" num)) {
          x = substr(rest, 1, RLENGTH)
          if (post == "" || match(substr(rest, RLENGTH + 1), "^(" post ")")) { if (++seen == nth) found = 1; break }
        }
      }
    }
    END { if (bad) exit 1
          if (!found) { print "  expected " (nth > 1 ? nth " lines" : "a line") " matching /" pat "/ (# = " want ")"; exit 1 }
          d = x - want; if (d < 0) d = -d
          if (d > tol + 1e-12) { print "  /" pat "/ shows " x ", the text says " want " +- " tol; exit 1 } }
  ' "$4"
}

# pictures_named CHAPTER: the plots/*.png its text names, one a line
pictures_named() { grep -o 'plots/[A-Za-z0-9_./-]*\.png' "$1" | sort -u; }

for md in "$@"; do
  [ -f "$md" ] || continue
  rm -f "$tmp"/block.* "$tmp"/expect.* "$tmp"/slow.*
  ch=$(basename "$md" .md)
  # Split the chapter into block.N files and expect.N markers ("re PATTERN" / "num V T PAT").
  awk -v dir="$tmp" '
    /^<!-- slow -->[ \t]*$/ { slow = NR; next }
    /^```sh[ \t]*$/ { n++; inb = 1; f = dir "/block." n; printf "" > f
                      if (slow && slow == NR - 1) print "" > (dir "/slow." n); next }
    inb && /^```[ \t]*$/ { inb = 0; close(f); last = n; next }
    inb { print > f; next }
    /^<!-- expect: .* -->[ \t]*$/ && last == n && n > 0 {
      p = $0; sub(/^<!-- expect: /, "", p); sub(/ -->[ \t]*$/, "", p)
      print "re " p >> (dir "/expect." n); next }
    /^<!-- expect-num: .* -->[ \t]*$/ && last == n && n > 0 {
      p = $0; sub(/^<!-- expect-num: /, "", p); sub(/ -->[ \t]*$/, "", p)
      print "num " p >> (dir "/expect." n); next }
    /^<!-- expect/ { print "FAIL " FILENAME ": marker not right after a block: " $0 > "/dev/stderr"; bad = 1 }
    /[^ \t]/ { last = -1 }
    END { exit bad }
  ' "$md" || fail=$((fail + 1))
  touch "$tmp/stamp"; sleep 1   # pictures written from here on are this chapter's
  i=1; cpu_ch=0
  while [ -f "$tmp/block.$i" ]; do
    if [ -f "$tmp/slow.$i" ] && [ "${LESSONS_SLOW:-0}" != 1 ]; then
      skip=$((skip + 1)); echo "skip $md block $i (slow: LESSONS_SLOW=1 runs it)"; i=$((i + 1)); continue
    fi
    t0=$(date +%s)
    # CPU time (user + sys of the block's processes) is what the chapters' stated times are
    # measured with: the wall time of a shared machine says little.
    if TINYBRAIN_LESSON=1 timeout 600 bash -c 'TIMEFORMAT="%U %S"; time bash -e "$1" >"$2" 2>&1' _ \
         "$tmp/block.$i" "$tmp/out" 2>"$tmp/cpu"; then ok=1; else ok=0; fi
    ran=$ok   # the block itself exited 0 (the checks below may still reject its numbers)
    cpu=$(awk '{ c = $1 + $2 } END { printf "%.1f", c }' "$tmp/cpu")
    cpu_ch=$(awk -v a="$cpu_ch" -v b="$cpu" 'BEGIN { printf "%.1f", a + b }')
    [ -n "$LESSONS_LOG" ] && cp "$tmp/out" "$LESSONS_LOG/$ch.$i.out"
    if [ $ok = 1 ] && [ -f "$tmp/expect.$i" ]; then
      while IFS= read -r line; do
        case $line in
          "re "*) pat=${line#re }
                  grep -Eq -- "$pat" "$tmp/out" || { ok=0; echo "  expected /$pat/ in the output" >>"$tmp/out.why"; } ;;
          "num "*) rest=${line#num }; v=${rest%% *}; rest=${rest#* }; t=${rest%% *}; rest=${rest#* }; nth=1
                   case $rest in @[0-9]*) nth=${rest%% *}; nth=${nth#@}; rest=${rest#* } ;; esac
                   check_num "$v" "$t" "$rest" "$tmp/out" "$nth" >>"$tmp/out.why" || ok=0 ;;
        esac
      done <"$tmp/expect.$i"
    fi
    dt=$(( $(date +%s) - t0 ))
    if [ $ok = 1 ]; then
      pass=$((pass + 1)); echo "ok   $md block $i (${dt}s, cpu ${cpu}s)"
    elif [ $ran = 1 ] && [ "$here" != "$recorded" ]; then
      drift=$((drift + 1)); echo "differs from the recording: $md block $i (${dt}s, cpu ${cpu}s; kernels $here)"
      [ -f "$tmp/out.why" ] && sed 's/^/  > /' "$tmp/out.why"
    else
      fail=$((fail + 1)); echo "FAIL $md block $i (${dt}s, cpu ${cpu}s)"
      sed 's/^/  | /' "$tmp/block.$i"; echo "  output:"; tail -n 25 "$tmp/out" | sed 's/^/  > /'
      [ -f "$tmp/out.why" ] && sed 's/^/  > /' "$tmp/out.why"
    fi
    rm -f "$tmp/out.why"
    i=$((i + 1))
  done
  echo "     $md: cpu ${cpu_ch}s in all (user + sys)"
  # The chapter's pictures: written now, and not overwriting one an earlier chapter showed.
  for png in $(pictures_named "$md"); do
    if [ -f "$png" ] && [ "$png" -nt "$tmp/stamp" ]; then
      pass=$((pass + 1)); echo "$png $ch" >>"$tmp/shown"
    else
      fail=$((fail + 1)); echo "FAIL $md names $png, which its blocks did not write"
    fi
  done
  while read -r png owner; do
    [ "$owner" = "$ch" ] && continue
    [ -f "$png" ] && [ "$png" -nt "$tmp/stamp" ] || continue
    fail=$((fail + 1)); echo "FAIL $md overwrote $png, which $owner shows"
  done <"$tmp/shown"
done
echo "lessons: $pass passed, $fail failed, $skip slow blocks skipped"
[ "$here" = "$recorded" ] ||
  echo "lessons: $drift blocks print numbers that differ from the recording (kernels $recorded; here $here)"
[ "$fail" -eq 0 ]
