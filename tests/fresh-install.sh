#!/bin/sh
# The README's promise on a bare machine: a minimal Debian root (mmdebstrap --variant=
# minbase, from this machine's apt source and release) gets a clean clone of this
# repository's HEAD, then, timed:
#   1. the README's first line, as root:   apt-get install -y make gcc
#   2. as a non-root user:                 make demo   must stop and print the exact
#      "sudo apt-get install" line for what is missing (and install nothing)
#   3. as root:                            make demo   (installs its packages, runs)
#   4. as root:                            make test
# Needs root (chroot, mount) and the network to the apt source; not part of CI (it
# downloads a Debian base and a compiler, about 10 minutes): run it by hand
#   sh tests/fresh-install.sh           (--keep leaves the root in /tmp for a look)
# Prints the times and "fresh-install: N passed, N failed".
cd "$(dirname "$0")/.." || exit 1
repo=$(pwd)
keep=0; [ "${1:-}" = --keep ] && keep=1
[ "$(id -u)" = 0 ] || { echo "fresh-install: run as root (it builds a chroot)" >&2; exit 2; }
command -v mmdebstrap >/dev/null 2>&1 || DEBIAN_FRONTEND=noninteractive apt-get install -y -qq mmdebstrap >/dev/null ||
  { echo "fresh-install: cannot install mmdebstrap" >&2; exit 1; }
suite=$(. /etc/os-release && echo "$VERSION_CODENAME")
# the first Debian mirror this machine's apt uses (deb822 .sources or one-line sources.list)
mirror=$(cat /etc/apt/sources.list.d/*.sources 2>/dev/null | sed -n 's/^URIs: *\([^ ]*\).*/\1/p' | grep -v security | head -n 1)
[ -n "$mirror" ] || mirror=$(sed -n 's/^deb \(\[[^]]*\] \)\{0,1\}\([^ ]*\) .*/\2/p' /etc/apt/sources.list 2>/dev/null | head -n 1)
[ -n "$suite" ] && [ -n "$mirror" ] || { echo "fresh-install: cannot tell the release or the apt mirror" >&2; exit 1; }

tmp=$(mktemp -d /tmp/tb-fresh.XXXXXX) || exit 1
r=$tmp/root
cleanup() {
  umount "$r/proc" 2>/dev/null
  if [ $keep = 1 ]; then echo "fresh-install: left the root in $r"; else rm -rf "$tmp"; fi
}
trap cleanup EXIT
pass=0; fail=0; times=""
ok()  { pass=$((pass + 1)); echo "ok   fresh-install: $1"; }
bad() { fail=$((fail + 1)); echo "FAIL fresh-install: $1"; tail -n 25 "$tmp/out" | sed 's/^/  > /'; }
# timed NAME COMMAND...: run, keep the output in $tmp/out, remember the seconds
timed() {
  name=$1; shift
  t0=$(date +%s); "$@" >"$tmp/out" 2>&1; rc=$?; dt=$(( $(date +%s) - t0 ))
  times="$times$(printf '  %-44s %4d s' "$name" "$dt")
"
  return $rc
}
in_root() { chroot "$r" /bin/sh -c "$1"; }

echo "fresh-install: a minimal $suite from $mirror in $r"
timed "mmdebstrap --variant=minbase $suite" mmdebstrap --variant=minbase "$suite" "$r" "$mirror" ||
  { bad "mmdebstrap"; echo "fresh-install: $pass passed, $fail failed"; exit 1; }
mount -t proc proc "$r/proc" || { echo "fresh-install: cannot mount /proc in the chroot" >&2; exit 1; }
git clone -q "$repo" "$r/root/tinybrain" && git clone -q "$repo" "$r/home-student-tinybrain" ||
  { echo "fresh-install: git clone failed" >&2; exit 1; }
in_root 'command -v make || command -v cc' >/dev/null && bad "the minimal root already has make or cc" || ok "bare: no make, no cc"

# 1. the README's first line
if timed "apt-get install -y make gcc (README, root)" in_root 'apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq make gcc'
then ok "apt-get install -y make gcc"; else bad "apt-get install -y make gcc"; fi

# 2. a student without root: make demo stops and names what to install
in_root 'useradd -m student' && mv "$r/home-student-tinybrain" "$r/home/student/tinybrain" && in_root 'chown -R student: /home/student'
want="install them with:  sudo apt-get install -y libstb-dev gnuplot-nox"
if timed "make demo as a non-root user (stops)" in_root 'su student -c "cd ~/tinybrain && make demo"'; then
  bad "make demo as a non-root user should stop (packages are missing)"
elif grep -qxF "$want" "$tmp/out"; then ok "non-root make demo printed: $want"
else bad "non-root make demo did not print: $want"; fi

# 3. and 4. as root: the two commands
if timed "make demo (root: installs packages, runs)" in_root 'cd /root/tinybrain && make demo' &&
   grep -q '^=== summary' "$tmp/out" && grep -q 'installing missing packages' "$tmp/out"; then
  ok "make demo as root: $(grep '^=== summary' "$tmp/out")"
else bad "make demo as root"; fi
if timed "make test (root)" in_root 'cd /root/tinybrain && make test' && grep -q '^lessons: [0-9]* passed, 0 failed' "$tmp/out"
then ok "make test as root: $(grep -E '^(unit|golden|install|report|lessons): [0-9]+ passed' "$tmp/out" | tr '\n' ';')"
else bad "make test as root"; fi

echo "fresh-install: times (this machine: $(nproc) cores)"
printf '%s' "$times"
echo "fresh-install: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
