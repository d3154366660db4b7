#!/bin/sh
# The whole pipeline, small, under AddressSanitizer + UBSan (issue 16): every command a
# student chains -- corpus, train and train-snn with resume, Ctrl-C and a second writer,
# sample, eval, record, compare, align, localize, energy -- on tiny models, with a
# sanitized binary, so that a read after free, a leak or undefined behaviour anywhere on
# the way fails.  Unit tests call the library; this calls the commands, with the
# arguments the defects of issue 16 needed (a resume without --name, a killed run's
# temporary files, a character model on UTF-8 text, a 7 KB stimulus line, an empty run folder).
#
#   make asan-pipeline                        build build-asan/tinybrain, then this
#   sh tests/pipeline_sanitized.sh [BINARY]   (default build-asan/tinybrain)
#
# Each step must exit with the status it names (bad input: 1 or 2, with a message) and
# the sanitizers must report nothing; the step's output is shown when it fails.  Beyond
# exit statuses it checks promises: a run resumed (after Ctrl-C too) ends byte-identical
# to one never stopped, a second writer is refused, stale temporary files are removed,
# --json is valid UTF-8.  It runs in a temporary folder with its own small toyworld
# corpus (written by step 1) and takes about a minute on 2 cores.
cd "$(dirname "$0")/.." || exit 1
root=$(pwd)
tb=${1:-build-asan/tinybrain}
case "$tb" in /*) ;; *) tb="$root/$tb" ;; esac
[ -x "$tb" ] || { echo "pipeline: no binary $tb (make asan-pipeline builds it)" >&2; exit 1; }
work=$(mktemp -d) || exit 1
trap 'rm -rf "$work"' EXIT
cd "$work" || exit 1
mkdir logs

# A sanitizer finding exits 86, distinct from tinybrain's own 1 and 2.
export ASAN_OPTIONS="detect_leaks=1:exitcode=86:check_initialization_order=1:strict_string_checks=1"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1:exitcode=86"
pass=0; fail=0; n=0; t_all=$(date +%s)

# step STATUS WHAT CMD...: run CMD (output in logs/N.txt); it must exit STATUS and no
# sanitizer may have spoken.
step() {
  want=$1; what=$2; shift 2
  n=$((n + 1)); log=logs/$n.txt; t0=$(date +%s)
  "$@" >"$log" 2>&1; rc=$?
  check "$want" "$rc" "$what" "$log" "$t0"
}
# check STATUS RC WHAT LOG T0: the verdict on one command's run
check() {
  if grep -q -E 'ERROR: (AddressSanitizer|LeakSanitizer)|runtime error:' "$4"; then
    echo "FAIL $3: the sanitizer reported:"; grep -A 12 -E 'ERROR: |runtime error:' "$4" | head -n 30 | sed 's/^/  > /'
    fail=$((fail + 1))
  elif [ "$2" -ne "$1" ]; then
    echo "FAIL $3: exit $2 (want $1):"; tail -n 15 "$4" | sed 's/^/  > /'
    fail=$((fail + 1))
  else
    echo "ok   $3 ($(( $(date +%s) - $5 )) s)"; pass=$((pass + 1))
  fi
}
# promise WHAT CONDITION...: a check on the files the steps left
promise() {
  what=$1; shift
  if "$@"; then echo "ok   $what"; pass=$((pass + 1)); else echo "FAIL $what"; fail=$((fail + 1)); fi
}
same() { cmp "$1" "$2" >/dev/null; }
in_log() { grep -q -- "$1" "$log"; }
one_line_naming() { [ "$(wc -l <"$log")" -eq 1 ] && in_log "$1"; }
# a process id that is no longer running (for the temporary files of a killed run)
dead_pid() { sh -c 'echo $$'; }
# wait (at most 60 s) until run NAME's lock names process PID
owned_by() { i=0; while [ "$(cat "runs/$1.lock" 2>/dev/null)" != "$2" ] && [ $i -lt 600 ]; do sleep 0.1; i=$((i + 1)); done; }

O="--threads 2 --quiet"
# tiny models; a constant learning rate (no warm-up, no decay), so a run extended with
# --resume --steps follows the same schedule as one started with that many steps
G="--layers 1 --d-model 16 --heads 2 --ctx 16 --batch 4 --warmup 0 --min-lr-frac 1 --val-tokens 300 $O"
S="--neurons 32 --ctx 8 --batch 2 --steps-per-token 4 --warmup 0 --min-lr-frac 1 --val-tokens 300 $O"

echo "pipeline: $tb in $work"
step 0 "corpus: a small toyworld" "$tb" corpus --out data/toyworld --train-sentences 400 --val-sentences 60 \
  --probe-sentences 24 --minimal-pairs 24 --fact-pairs 8 --twin-pairs 8 $O
step 0 "corpus --stats" "$tb" corpus --stats --no-plots $O

# ---- the GPT: straight, and stopped + resumed without --name (issue 16 #1) ----------
step 0 "train: 8 steps straight" "$tb" train $G --steps 8 --eval-every 4 --save-at 0,4,final --runs-dir straight
step 0 "train: 4 steps" "$tb" train $G --steps 4 --eval-every 4 --save-at 0,4
dead=$(dead_pid)
for f in runs/gpt.ckpt.tmp.$dead runs/gpt/step_000006.ckpt.tmp.$dead plots/gpt_loss.dat.tmp.$dead; do
  echo "half a file" >"$f"; done
step 0 "train --resume (no --name, no --corpus) to step 8" "$tb" train --resume runs/gpt.ckpt --steps 8 --eval-every 4 \
  --val-tokens 300 --save-at final $O
promise "resumed GPT run == straight run, byte for byte" same runs/gpt.ckpt straight/gpt.ckpt
promise "resumed GPT snapshot at step 8 == straight one" same runs/gpt/step_000008.ckpt straight/gpt/step_000008.ckpt
promise "a killed run's temporary files are removed" \
  test ! -e runs/gpt.ckpt.tmp.$dead -a ! -e runs/gpt/step_000006.ckpt.tmp.$dead -a ! -e plots/gpt_loss.dat.tmp.$dead
step 0 "eval the resumed GPT (its stored corpus and name)" "$tb" eval runs/gpt.ckpt --val-tokens 300 $O

# ---- Ctrl-C, a second writer, resume: validation every step, so the stop's own
# validation is one the unstopped run makes too and the files can be compared ---------
t0=$(date +%s)
"$tb" train $G --name w --steps 1000000 --eval-every 1 >logs/w.txt 2>&1 &
pid=$!
owned_by w $pid
step 1 "a second writer to run 'w' is refused" "$tb" train $G --name w --steps 3
promise "... and told who holds it" in_log "in use by process $pid"
kill -INT $pid
wait $pid
check 0 $? "train: Ctrl-C saves and exits 0" logs/w.txt "$t0"
k=$(awk -F'\t' 'NR > 1 { k = $1 } END { print k + 0 }' runs/w.tsv)   # the step it stopped at
step 0 "train --resume after Ctrl-C (step $k) to step $((k + 3))" "$tb" train --resume runs/w.ckpt --steps $((k + 3)) \
  --eval-every 1 --val-tokens 300 $O
step 0 "train: $((k + 3)) steps straight" "$tb" train $G --name w --steps $((k + 3)) --eval-every 1 --runs-dir straight
promise "stopped with Ctrl-C and resumed == never stopped, byte for byte" same runs/w.ckpt straight/w.ckpt

# ---- the spiking network, and the controls -------------------------------------------
step 0 "train-snn: 6 steps straight" "$tb" train-snn $S --steps 6 --eval-every 3 --save-at 0,3,final --runs-dir straight
step 0 "train-snn: 3 steps" "$tb" train-snn $S --steps 3 --eval-every 3 --save-at 0,3
step 0 "train-snn --resume to step 6" "$tb" train-snn --resume runs/snn.ckpt --steps 6 --eval-every 3 --val-tokens 300 \
  --save-at final $O
promise "resumed spiking run == straight run, byte for byte" same runs/snn.ckpt straight/snn.ckpt
step 0 "train --scramble (the scrambled-words control)" "$tb" train $G --steps 4 --scramble --name scr
step 0 "eval the spiking network" "$tb" eval runs/snn.ckpt --val-tokens 300 $O

# ---- a character model on UTF-8 text: sample --json is valid UTF-8 (issue 16 #3) -----
i=0
while [ $i -lt 40 ]; do echo "Grüße aus Köln: naïve café, 東京 über die Straße, ½ € $i."; i=$((i + 1)); done >utf8.txt
step 0 "train a character model on UTF-8 text" "$tb" train --corpus utf8.txt --tokens char --name u --steps 3 $G
bad=0
for seed in 1 2 3 4 5 6 7 8; do
  step 0 "sample --json, seed $seed" "$tb" sample runs/u.ckpt --len 60 --seed $seed --json $O
  iconv -f UTF-8 -t UTF-8 "$log" >/dev/null 2>&1 || bad=$((bad + 1))
  if command -v python3 >/dev/null 2>&1; then python3 -c 'import json, sys; json.load(open(sys.argv[1]))' "$log" || bad=$((bad + 1)); fi
done
promise "8 samples of --json: valid UTF-8 (and JSON, where python3 is here)" [ $bad = 0 ]
step 0 "sample the word model" "$tb" sample runs/gpt.ckpt --prompt "the dog" --len 12 $O

# ---- recordings and comparisons ---------------------------------------------------------
step 0 "record the GPT" "$tb" record runs/gpt.ckpt --out rec/gpt $O
step 0 "record the spiking network" "$tb" record runs/snn.ckpt --out rec/snn --trials 3 $O
{ echo "the dog sees a cat ."; echo "some boys eat a bun ."
  i=0; while [ $i -lt 300 ]; do printf 'the dog sees a cat that '; i=$((i + 1)); done; echo "sleeps ."; } >long.txt
step 0 "record a 7 KB stimulus line (issue 16 #7)" "$tb" record runs/snn.ckpt --stimuli long.txt --out rec/long --trials 2 $O
step 1 "record: the GPT refuses a stimulus beyond its context" "$tb" record runs/gpt.ckpt --stimuli long.txt --out rec/long_gpt $O
promise "... saying so" in_log "the model's context is 16"
step 0 "compare the checkpoints, with every baseline" "$tb" compare runs/gpt.ckpt runs/snn.ckpt --scrambled runs/scr.ckpt \
  --trials 3 --boot 20 --perm 20 $O
step 0 "compare the recordings --json" "$tb" compare rec/gpt rec/snn --trials 3 --boot 20 --perm 20 --json $O
step 0 "compare --over-training" "$tb" compare --over-training straight/gpt straight/snn --trials 3 --boot 20 --perm 20 $O
mkdir -p empty/a empty/b
step 1 "compare --over-training on empty run folders (issue 16 #7)" "$tb" compare --over-training empty/a empty/b $O
step 0 "align --demo" "$tb" align --demo demo $O
step 0 "align a model's layers with a brain" "$tb" align demo/model demo/brain.npy --boot 20 --perm 20 --json $O
step 0 "localize the GPT" "$tb" localize runs/gpt.ckpt --top 25 --units-out units.txt $O
step 0 "localize two arrays" "$tb" localize demo/loc_sentences.npy demo/loc_nonwords.npy --top 10 --json $O
step 2 "localize --top 0 is refused (help: in (0, 100])" "$tb" localize demo/loc_sentences.npy demo/loc_nonwords.npy --top 0 $O
step 0 "eval --ablate the localized units against random sets" "$tb" eval runs/gpt.ckpt --ablate units.txt \
  --ablate-random-sets 5 --val-tokens 300 $O
step 0 "energy of both models and a run folder" "$tb" energy runs/gpt.ckpt runs/snn.ckpt straight/gpt --val-tokens 300 $O

# ---- bad input: one line, the right status ---------------------------------------------
head -c 1000 runs/gpt.ckpt >cut.ckpt
step 1 "a cut checkpoint: exit 1" "$tb" eval cut.ckpt $O
promise "... with one line naming the file" one_line_naming cut.ckpt
step 2 "--threads 257: exit 2" "$tb" train --threads 257
step 2 "version --bogus: exit 2" "$tb" version --bogus

echo "pipeline: $pass passed, $fail failed ($(( $(date +%s) - t_all )) s)"
[ $fail -eq 0 ]
