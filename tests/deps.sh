#!/bin/sh
# Check the system packages tinybrain needs; install them with apt-get when root,
# otherwise print the exact command and stop.
#   sh tests/deps.sh build         make, a C compiler ($CC, default cc) that finds the C
#                                  library's headers, stb_image_write, gnuplot (make, make demo)
#   sh tests/deps.sh test          the same plus cmocka (make test)
#   sh tests/deps.sh cross [ARCH]  a cross compiler for ARCH (default aarch64), its arm64
#                                  cmocka and stb, and qemu-user (make test-cross)
# Headers and libraries are checked by compiling, so any include path counts.
what=${1:-build}
arch=${2:-aarch64}
cc=${CC:-cc}
need=""; foreign=""

# does $1 (a compiler) preprocess a file that includes <$2>?
has_header() { printf '#include <%s>\n' "$2" | "$1" -E -x c - >/dev/null 2>&1; }
# does $1 link a program against the libraries $2?
links() {
  tmp=$(mktemp) || return 1
  printf 'int main(void) { return 0; }\n' | "$1" -x c - $2 -o "$tmp" >/dev/null 2>&1; rc=$?
  rm -f "$tmp"; return $rc
}
# the Debian package that provides compiler $1
compiler_pkg() {
  case "$1" in
    clang*) echo clang ;;
    *-linux-gnu-gcc) echo "gcc-${1%-gcc}" ;;
    *) echo build-essential ;;
  esac
}

command -v make >/dev/null 2>&1 || need="$need make"
if ! command -v "$cc" >/dev/null 2>&1; then
  need="$need $(compiler_pkg "$cc")"
elif ! has_header "$cc" stdint.h; then
  echo "tinybrain: $cc is installed but cannot find the C library's headers (stdint.h)" >&2
  need="$need libc6-dev"
fi
case "$what" in
  build|test)
    command -v "$cc" >/dev/null 2>&1 && ! has_header "$cc" stb/stb_image_write.h && need="$need libstb-dev"
    command -v gnuplot >/dev/null 2>&1 || need="$need gnuplot-nox"
    [ "$what" = test ] && command -v "$cc" >/dev/null 2>&1 && ! has_header "$cc" cmocka.h && need="$need libcmocka-dev"
    ;;
  cross)
    case "$arch" in
      aarch64) deb=arm64 ;;
      *) echo "tinybrain: make test-cross knows ARCH=aarch64 only (got '$arch')" >&2; exit 2 ;;
    esac
    xcc=$arch-linux-gnu-gcc
    command -v "$xcc" >/dev/null 2>&1 || need="$need gcc-$arch-linux-gnu"
    command -v "qemu-$arch-static" >/dev/null 2>&1 || need="$need qemu-user-static"
    if ! command -v "$xcc" >/dev/null 2>&1 || ! links "$xcc" "-lcmocka -lstb -lm"; then
      foreign=$deb; need="$need libcmocka-dev:$deb libstb-dev:$deb"
    fi
    ;;
  *) echo "usage: sh tests/deps.sh build|test|cross [ARCH]" >&2; exit 2 ;;
esac
[ -z "$need" ] && exit 0

if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  echo "tinybrain: installing missing packages with apt-get:$need"
  echo "tinybrain: (a bare system downloads about 100 MB; this takes a few minutes)"
  export DEBIAN_FRONTEND=noninteractive
  if [ -n "$foreign" ] && ! dpkg --print-foreign-architectures | grep -qx "$foreign"; then
    echo "tinybrain: adding the $foreign architecture to dpkg (for the emulated test run)"
    dpkg --add-architecture "$foreign" || exit 1
    apt-get update -qq || exit 1
  fi
  # apt-get's own progress stays visible: one line per package fetched and set up
  apt_install() {
    st=$(mktemp) || return 1
    { apt-get install -y --no-install-recommends $need 2>&1; echo $? >"$st"; } |
      grep --line-buffered -E '^(Get:|Setting up)' | sed 's/^/  apt: /'
    rc=$(cat "$st"); rm -f "$st"; return "$rc"
  }
  apt_install || { echo "tinybrain: refreshing the package lists (apt-get update)"; apt-get update -qq && apt_install; } || {
    echo "tinybrain: apt-get could not install:$need (run: apt-get install$need, to see why)" >&2; exit 1; }
  echo "tinybrain: installed:$need"
else
  echo "tinybrain: missing packages:$need" >&2
  if [ -n "$foreign" ]; then
    echo "install them with:  sudo dpkg --add-architecture $foreign && sudo apt-get update && sudo apt-get install -y$need" >&2
  else
    echo "install them with:  sudo apt-get install -y$need" >&2
  fi
  exit 1
fi
