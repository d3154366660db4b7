#!/bin/sh
# make demo: the whole story with defaults, deterministic under the default seed.
# Each step is an ordinary tinybrain command; lesson 00 walks through the same steps.
set -e
cd "$(dirname "$0")/.."
tb=./tinybrain
t0=$(date +%s)
step() { printf '\n=== %s\n' "$*"; }
# jget KEY FILE: the number after "KEY": in a one-object JSON file
jget() { sed -n "s/.*\"$1\": *\(-\{0,1\}[0-9.e+-]*\).*/\1/p" "$2" | head -n 1; }
mkdir -p runs/demo

step "1. the toyworld corpus and its entropy floor (lesson 01)"
$tb corpus --stats

step "2. a balanced network of 4000 spiking neurons, 1 s of biological time (lesson 04)"
$tb snn run --preset cuba --ms 1000 --name cuba

step "3. train the tiny GPT, keeping snapshots for alignment over training (lesson 08)"
$tb train --save-at 0,25,50,100,200,400,final --quiet --json --force > runs/demo/gpt_train.json
cat runs/demo/gpt_train.json
$tb eval runs/gpt.ckpt

step "4. train the spiking network on the same corpus (lesson 09)"
$tb train-snn --save-at 0,100,200,300,400,final --quiet --json --force > runs/demo/snn_train.json
cat runs/demo/snn_train.json
$tb eval runs/snn.ckpt

step "5. the control: the same GPT trained on sentences with their words shuffled (lesson 13)"
$tb train --scramble --name gpt_scrambled --quiet --json --force > runs/demo/scrambled_train.json
cat runs/demo/scrambled_train.json

step "6. attention maps of the GPT (lesson 07)"
$tb attention runs/gpt.ckpt --text "the dog near the cats chases a ball ."

step "7. record both models on the 240 probe sentences (lesson 13)"
$tb record runs/gpt.ckpt --out runs/rec/gpt
$tb record runs/snn.ckpt --out runs/rec/snn

step "8. brain meets model, read against baselines: bag of words, noise, untrained models, scrambled words (lesson 13)"
$tb compare runs/gpt.ckpt runs/snn.ckpt --scrambled runs/gpt_scrambled.ckpt

step "9. alignment over training, layer by layer (lesson 15)"
$tb compare --over-training runs/gpt runs/snn

step "10. the language localizer (sentences vs their scrambled twins) and its ablation against random units (lesson 14)"
$tb localize runs/gpt.ckpt --top 25 --units-out runs/lang_units.txt
$tb eval runs/gpt.ckpt --ablate runs/lang_units.txt --ablate-random-sets 30 --val-tokens 4000 --json > runs/demo/ablate.json
$tb eval runs/gpt.ckpt --ablate runs/lang_units.txt --ablate-random-sets 30 --val-tokens 4000 | tail -n 4

step "11. work and energy per token (lesson 15)"
$tb energy runs/gpt.ckpt --json > runs/demo/energy_gpt.json
$tb energy runs/snn.ckpt --json > runs/demo/energy_snn.json
$tb energy runs/gpt runs/snn

step "12. the virtual scanner: fMRI of the spiking network, the GPT scored on it (lesson 16)"
$tb scan runs/snn.ckpt --out runs/scan/demo --score runs/rec/gpt --json --quiet > runs/demo/scan.json
$tb scan runs/snn.ckpt --out runs/scan/demo --score runs/rec/gpt --quiet

floor=$(jget floor_nats runs/demo/gpt_train.json)
bigram=$(jget bigram_nats runs/demo/gpt_train.json)
gval=$(jget val_loss runs/demo/gpt_train.json)
gmp=$(jget minimal_pair_acc runs/demo/gpt_train.json)
sval=$(jget val_loss runs/demo/snn_train.json)
smp=$(jget minimal_pair_acc runs/demo/snn_train.json)
srate=$(jget mean_rate_hz runs/demo/snn_train.json)
xval=$(jget val_loss runs/demo/scrambled_train.json)
xmp=$(jget minimal_pair_acc runs/demo/scrambled_train.json)
abl=$(jget val_loss runs/demo/ablate.json)
ablmed=$(jget random_val_loss_median runs/demo/ablate.json)
abl05=$(jget random_val_loss_p05 runs/demo/ablate.json)
abl95=$(jget random_val_loss_p95 runs/demo/ablate.json)
ablp=$(jget p_value runs/demo/ablate.json)
eg=$(jget energy_pj_per_token_with_weight_reads runs/demo/energy_gpt.json)
es=$(jget energy_pj_per_token_with_weight_reads runs/demo/energy_snn.json)

# Every line below shows a number beside what it is read against; the sentences that draw
# conclusions are written by the programs (compare's findings, eval's ablation test).
printf '\n=== summary (%ss)\n' "$(( $(date +%s) - t0 ))"
printf '  toyworld        entropy floor %.4f nats/token; bigram baseline %.4f\n' "$floor" "$bigram"
printf '  GPT             val loss %.4f (floor + %.4f)   minimal pairs %.3f (chance 0.5)\n' "$gval" \
  "$(echo "$gval $floor" | awk '{print $1-$2}')" "$gmp"
printf '  spiking net     val loss %.4f (floor + %.4f)   minimal pairs %.3f (chance 0.5)   mean rate %.1f Hz\n' "$sval" \
  "$(echo "$sval $floor" | awk '{print $1-$2}')" "$smp" "$srate"
printf '  scrambled GPT   val loss %.4f   minimal pairs %.3f (the control: same words, no grammar)\n' "$xval" "$xmp"
printf '  ablation        localized units: val loss %.4f; 30 random sets: median %.4f, 5-95%% [%.4f, %.4f]; one-sided p = %.3f\n' \
  "$abl" "$ablmed" "$abl05" "$abl95" "$ablp"
printf '  energy/token    GPT %.0f nJ, spiking network %.0f nJ (45 nm estimate, with weight reads)\n' \
  "$(echo "$eg" | awk '{print $1/1000}')" "$(echo "$es" | awk '{print $1/1000}')"
sceil=$(jget all_median runs/demo/scan.json)
sr=$(jget r runs/demo/scan.json)
srw=$(jget r_over_within runs/demo/scan.json)
rceil=$(awk -F'\t' 'NR == 1 { for (i = 1; i <= NF; i++) if ($i == "noise_ceiling") c = i } NR == 2 { print $c }' runs/compare/compare.tsv)
printf '  virtual fMRI    noise ceiling %.3f (of the unmeasured spiking rates: %.3f); GPT embedding r %.3f = %.2f of the ceiling\n' \
  "$sceil" "$rceil" "$sr" "$srw"
printf '  brain meets model (computed by tinybrain compare; runs/compare/compare_findings.txt):\n'
sed 's/^/    /' runs/compare/compare_findings.txt
printf '  more seeds: tinybrain compare --seeds 5 (a few minutes; every score with an interval across seeds)\n'
printf '  pictures: plots/*.png   tables: runs/compare/   recordings: runs/rec/   scans: runs/scan/\n'
