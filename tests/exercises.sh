#!/bin/sh
# The lesson exercises check themselves: for every lessons/exercises/check_NN.c, the
# reference solution must pass, the student's blank file must fail, and a solution with one
# typical mistake (below) must fail with a line naming the case ("FAIL <case>: ...").
cd "$(dirname "$0")/.." || exit 1
: "${BUILD:=build}"
[ -f "$BUILD/libtinybrain.a" ] || { echo "exercises: build $BUILD/libtinybrain.a first (make)" >&2; exit 1; }
d=$(mktemp -d) || exit 1
trap 'rm -rf "$d"' EXIT
bad=0; n=0
# mistake NN: a sed script that breaks the reference solution the way a student might
mistake() {
  case $1 in
    02) echo 's/\*ref = p->t_ref;/*ref = 0;/' ;;                 # forgets the refractory period
    05) echo 's/x\[i\] += 1.0f;/x[i] = 1.0f;/' ;;                # resets the trace instead of adding
    06) echo 's/ - xh \* gxmean//' ;;                            # drops the variance path
    07) echo 's/(dp\[s\] - dot)/dp[s]/' ;;                       # forgets the normalisation
    10) echo 's/ + equal \/ 2.0//' ;;                             # ties get their lowest rank
    11) echo 's/ - mean\[j\]//g' ;;                               # forgets to centre
  esac
}
# run NN WANT FILE: check FILE as exercise NN; WANT is pass or fail
run() {
  n=$((n + 1))
  if sh lessons/exercises/check.sh "$1" "$3" >"$d/out" 2>&1; then got=pass; else got=fail; fi
  if [ "$got" = fail ] && [ "$2" = fail ] && ! grep -q '^FAIL ' "$d/out"; then got="fail without naming a case"; fi
  if [ "$got" = "$2" ]; then echo "ok   exercise $1: $2 with $3"
  else bad=$((bad + 1)); echo "FAIL exercise $1 with $3: $got, wanted $2"; sed 's/^/  > /' "$d/out"; fi
}
for c in lessons/exercises/check_[0-9]*.c; do
  nn=$(basename "$c" .c); nn=${nn#check_}
  mine=$(ls lessons/exercises/ex"$nn"_*.c)
  sol=lessons/exercises/solutions/$(basename "$mine")
  run "$nn" pass "$sol"
  run "$nn" fail "$mine"
  sed "$(mistake "$nn")" "$sol" >"$d/wrong_$nn.c"
  cmp -s "$sol" "$d/wrong_$nn.c" && { bad=$((bad + 1)); echo "FAIL exercise $nn: the mistake script changed nothing"; }
  run "$nn" fail "$d/wrong_$nn.c"
done
echo "exercises: $((n - bad)) passed, $bad failed"
[ $bad -eq 0 ]
