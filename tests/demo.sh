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
$tb snn run --preset cuba --ms 1000

step "3. train the tiny GPT, keeping snapshots for alignment over training (lesson 08)"
$tb train --save-at 0,50,200,final --quiet --json --force > runs/demo/gpt_train.json
cat runs/demo/gpt_train.json
$tb eval runs/gpt.ckpt

step "4. train the spiking network on the same corpus (lesson 09)"
$tb train-snn --save-at 0,200,final --quiet --json --force > runs/demo/snn_train.json
cat runs/demo/snn_train.json
$tb eval runs/snn.ckpt

step "5. attention maps of the GPT (lesson 07)"
$tb attention runs/gpt.ckpt --text "the dog near the cats chases a ball ."

step "6. record both models on the 240 probe sentences (lesson 13)"
$tb record runs/gpt.ckpt --out runs/rec/gpt
$tb record runs/snn.ckpt --out runs/rec/snn

step "7. brain meets model: every GPT layer vs the spiking network (lesson 13)"
$tb compare runs/rec/gpt runs/rec/snn --json > runs/demo/compare.json
$tb compare runs/rec/gpt runs/rec/snn

step "8. alignment over training (lesson 15)"
$tb compare --over-training runs/gpt runs/snn

step "9. the language localizer and an ablation (lesson 14)"
$tb record runs/gpt.ckpt --stimuli data/toyworld/probes_nonwords.txt --out runs/rec/gpt_nonwords
$tb localize runs/rec/gpt/02_block2.npy runs/rec/gpt_nonwords/02_block2.npy --top 25 --out runs/lang_units.txt
$tb eval runs/gpt.ckpt --ablate runs/lang_units.txt --json > runs/demo/ablate.json
$tb eval runs/gpt.ckpt --ablate-random 16 --json > runs/demo/ablate_random.json

step "10. work and energy per token (lesson 15)"
$tb energy runs/gpt.ckpt runs/snn.ckpt --json > runs/demo/energy.json
$tb energy runs/gpt runs/snn

floor=$(jget floor_nats runs/demo/gpt_train.json)
gval=$(jget val_loss runs/demo/gpt_train.json)
gmp=$(jget minimal_pair_acc runs/demo/gpt_train.json)
sval=$(jget val_loss runs/demo/snn_train.json)
smp=$(jget minimal_pair_acc runs/demo/snn_train.json)
srate=$(jget mean_rate_hz runs/demo/snn_train.json)
bigram=$(jget bigram_nats runs/demo/snn_train.json)
best=$(sed -n 's/.*"best_layer": *"\([^"]*\)".*/\1/p' runs/demo/compare.json)
brsa=$(jget best_rsa_spearman runs/demo/compare.json)
bcka=$(jget best_cka_linear runs/demo/compare.json)
abl=$(jget val_loss runs/demo/ablate.json)
ablr=$(jget val_loss runs/demo/ablate_random.json)
# energy.json is one object; its "models" array holds the GPT first, the network second
ewr() { grep -o '"energy_pj_per_token_with_weight_reads": *[0-9.e+-]*' runs/demo/energy.json | sed -n "$1s/.*: *//p"; }
eg=$(ewr 1)
es=$(ewr 2)

printf '\n=== summary (%ss)\n' "$(( $(date +%s) - t0 ))"
printf '  entropy floor of toyworld          %.4f nats/token (bigram baseline %.4f)\n' "$floor" "$bigram"
printf '  GPT            val loss %.4f   minimal pairs %.3f\n' "$gval" "$gmp"
printf '  spiking net    val loss %.4f   minimal pairs %.3f   mean rate %.1f Hz\n' "$sval" "$smp" "$srate"
printf '  best-aligned GPT layer             %s (RSA Spearman %.3f, linear CKA %.3f with the spiking network)\n' "$best" "$brsa" "$bcka"
printf '  localizer ablation (25%% of units) val loss %.4f vs %.4f for 16 random units\n' "$abl" "$ablr"
printf '  energy per token (45 nm, + weight reads)  GPT %.0f nJ, spiking network %.0f nJ\n' \
  "$(echo "$eg" | awk '{print $1/1000}')" "$(echo "$es" | awk '{print $1/1000}')"
printf '  pictures: plots/*.png   tables: runs/compare/   recordings: runs/rec/\n'
