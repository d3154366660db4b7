#!/bin/sh
# The lesson contract: run every ```sh block of every chapter in lessons/, in order,
# from the repository root, with ./tinybrain built.  A block fails the check when it
# exits non-zero.  A line  <!-- expect: ERE -->  right after a block also requires the
# block's output (stdout+stderr) to match that extended regular expression.
#   sh tests/lessons.sh                  all chapters
#   sh tests/lessons.sh lessons/02-*.md  some chapters
# Closes with "lessons: N passed, N failed" (blocks).
cd "$(dirname "$0")/.." || exit 1
[ -x ./tinybrain ] || { echo "lessons: build ./tinybrain first (make)" >&2; exit 1; }
tmp=$(mktemp -d) || exit 1
trap 'rm -rf "$tmp"' EXIT
[ $# -gt 0 ] || set -- lessons/[0-9][0-9]-*.md
pass=0; fail=0

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
for md in "$@"; do
  [ -f "$md" ] || continue
  rm -f "$tmp"/block.* "$tmp"/expect.*
  # Split the chapter into block.N files and expect.N patterns.
  awk -v dir="$tmp" '
    /^```sh[ \t]*$/ { n++; inb = 1; f = dir "/block." n; printf "" > f; next }
    inb && /^```[ \t]*$/ { inb = 0; close(f); last = n; next }
    inb { print > f; next }
    /^<!-- expect: .* -->[ \t]*$/ && last == n && n > 0 {
      p = $0; sub(/^<!-- expect: /, "", p); sub(/ -->[ \t]*$/, "", p)
      print p >> (dir "/expect." n); next }
    /[^ \t]/ { last = -1 }
  ' "$md"
  i=1
  while [ -f "$tmp/block.$i" ]; do
    t0=$(date +%s)
    if TINYBRAIN_LESSON=1 timeout 600 bash -e "$tmp/block.$i" >"$tmp/out" 2>&1; then ok=1; else ok=0; fi
    if [ $ok = 1 ] && [ -f "$tmp/expect.$i" ]; then
      while IFS= read -r pat; do
        grep -Eq -- "$pat" "$tmp/out" || { ok=0; echo "  expected /$pat/ in the output" >>"$tmp/out"; }
      done <"$tmp/expect.$i"
    fi
    dt=$(( $(date +%s) - t0 ))
    if [ $ok = 1 ]; then
      pass=$((pass + 1)); echo "ok   $md block $i (${dt}s)"
    else
      fail=$((fail + 1)); echo "FAIL $md block $i (${dt}s)"
      sed 's/^/  | /' "$tmp/block.$i"; echo "  output:"; tail -n 25 "$tmp/out" | sed 's/^/  > /'
    fi
    i=$((i + 1))
  done
done
echo "lessons: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
