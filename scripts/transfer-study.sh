#!/usr/bin/env bash
# The transfer study of docs/transfer.md: six networks, two training seeds each, one recipe and budget (s2d train's cpu
# preset for ImageNet-style images: Imagenette at 64 px, 15 epochs), then one table over the runs.
#
#   scripts/transfer-study.sh <s2d> <data root> <RF-PCDARTS genotype.json> <RF-DARTS genotype.json> <output folder>
#
# The searched cells come from `s2d search --space darts --preset cpu` (the default Deploy chain's search is the
# RF-PCDARTS one). Runs already finished are kept; an interrupted one resumes. Threads: all cores (torch's reductions
# depend on the count, so a rerun on another count gives other numbers).
set -euo pipefail
S2D=$1; DATA=$2; RFPC=$3; RF=$4; OUT=$5
mkdir -p "$OUT"
DARTS_V2="Genotype(normal=[('sep_conv_3x3', 0), ('sep_conv_3x3', 1), ('sep_conv_3x3', 0), ('sep_conv_3x3', 1), ('sep_conv_3x3', 1), ('skip_connect', 0), ('skip_connect', 0), ('dil_conv_3x3', 2)], normal_concat=[2, 3, 4, 5], reduce=[('max_pool_3x3', 0), ('max_pool_3x3', 1), ('skip_connect', 2), ('max_pool_3x3', 1), ('max_pool_3x3', 0), ('skip_connect', 2), ('skip_connect', 2), ('max_pool_3x3', 1)], reduce_concat=[2, 3, 4, 5])"
PC_DARTS="Genotype(normal=[('sep_conv_3x3', 1), ('skip_connect', 0), ('sep_conv_3x3', 0), ('dil_conv_3x3', 1), ('sep_conv_5x5', 0), ('sep_conv_3x3', 1), ('avg_pool_3x3', 0), ('dil_conv_3x3', 1)], normal_concat=[2, 3, 4, 5], reduce=[('sep_conv_5x5', 1), ('max_pool_3x3', 0), ('sep_conv_5x5', 1), ('sep_conv_5x5', 2), ('sep_conv_3x3', 0), ('sep_conv_3x3', 3), ('sep_conv_3x3', 1), ('sep_conv_3x3', 2)], reduce_concat=[2, 3, 4, 5])"
RESNET="|nor_conv_3x3~0|+|none~0|nor_conv_3x3~1|+|skip_connect~0|none~1|none~2|"
"$S2D" model random --space darts --seed 0 --out "$OUT/random-darts-cell.json" > /dev/null

train() { # label seed genotype [extra options...]
  local label=$1 seed=$2 genotype=$3; shift 3
  local dir="$OUT/$label-s$seed"
  [ -f "$dir/metrics.json" ] && grep -q '"epochs_done": 15' "$dir/metrics.json" && return 0
  if [ -f "$dir/last.s2d" ]; then "$S2D" train --out "$dir" --resume --data-root "$DATA" > "$dir.out" 2>&1
  else "$S2D" train --genotype "$genotype" --dataset imagenette --data-root "$DATA" --preset cpu --seed "$seed" --out "$dir" "$@" > "$dir.out" 2>&1; fi
}
for seed in 0 1; do
  train rf-pcdarts "$seed" "$RFPC"
  train rf-darts "$seed" "$RF"
  train darts-v2 "$seed" "$DARTS_V2"
  train pc-darts "$seed" "$PC_DARTS"
  train random "$seed" "$OUT/random-darts-cell.json"
  train resnet "$seed" "$RESNET" --network nb201-64 --channels 20 --layers 2
done
"$S2D" report runs --runs "$OUT"/*-s[0-9] --output "$OUT/table.md"
