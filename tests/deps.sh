#!/bin/sh
# Check the system packages tinybrain needs; install them with apt-get when root,
# otherwise print the exact command and stop.
#   sh tests/deps.sh build   compiler, stb_image_write, gnuplot (for make / make demo)
#   sh tests/deps.sh test    the same plus cmocka (for make test)
need=""
command -v cc >/dev/null 2>&1 && command -v make >/dev/null 2>&1 || need="$need build-essential"
[ -f /usr/include/stb/stb_image_write.h ] || need="$need libstb-dev"
command -v gnuplot >/dev/null 2>&1 || need="$need gnuplot-nox"
if [ "$1" = test ]; then
  [ -f /usr/include/cmocka.h ] || need="$need libcmocka-dev"
fi
[ -z "$need" ] && exit 0
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  echo "tinybrain: installing missing packages:$need"
  export DEBIAN_FRONTEND=noninteractive
  { apt-get install -y -qq $need >/dev/null 2>&1; } || \
    { apt-get update -qq && apt-get install -y -qq $need >/dev/null; } || {
      echo "tinybrain: apt-get could not install:$need" >&2; exit 1; }
else
  echo "tinybrain: missing packages:$need" >&2
  echo "install them with:  sudo apt-get install -y$need" >&2
  exit 1
fi
