#!/bin/sh
# check.sh NN [solution|FILE]: build exercise NN (your lessons/exercises/exNN_*.c, the
# reference solution, or FILE) into its checker lessons/exercises/check_NN.c with the
# library, and run it.  Called by `make exercise-NN`; needs build/libtinybrain.a.
cd "$(dirname "$0")/../.." || exit 1
nn=$1; what=$2
: "${CC:=cc}" "${BUILD:=build}" "${LDLIBS:=-lm -pthread}"
[ -n "$CFLAGS" ] || CFLAGS="-O2 -std=c11 -Wall -Wextra -Iinclude -D_GNU_SOURCE -pthread"
d=lessons/exercises
[ -f "$d/check_$nn.c" ] || { echo "no exercise $nn (there are: $(ls $d/check_*.c | sed 's/.*check_//; s/\.c$//' | tr '\n' ' '))" >&2; exit 2; }
mine=$(ls "$d"/ex"$nn"_*.c)
case $what in
  solution) src=$d/solutions/$(basename "$mine") ;;
  "") src=$mine ;;
  *) src=$what ;;
esac
[ -f "$src" ] || { echo "exercise $nn: no file $src" >&2; exit 2; }
mkdir -p "$BUILD/exercises"
echo "exercise $nn: checking $src"
# shellcheck disable=SC2086
$CC $CFLAGS -I"$d" -o "$BUILD/exercises/check_$nn" "$d/check_$nn.c" "$d/check.c" "$src" \
    "$BUILD/libtinybrain.a" $LDLIBS || { echo "exercise $nn: $src does not compile" >&2; exit 2; }
"$BUILD/exercises/check_$nn"
