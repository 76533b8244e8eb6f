#!/usr/bin/env bash
# The Scale-out figures of docs/benchmarks.md: each search method and space, and the 64-px ImageNet retraining, run
# for one short epoch as 1 process x 2 threads and as mpirun -np 2 x 1 thread (same global batch), in turns; prints a
# Markdown table of ms/step, their ratio, the bytes each rank allreduces per step and the allreduce's share of the step.
# The ranks are not bound to cores (--bind-to none), as the one process is not: both runs share the same cores alike
# (Open MPI would otherwise bind each of two ranks to one core, its loader worker included).
#
#   scripts/bench-scaleout.sh <s2d> <data root> <scratch folder> [rounds]
set -euo pipefail
S2D=$1; DATA=$2; OUT=$3; ROUNDS=${4:-2}
mkdir -p "$OUT"
export S2D_DATA_ROOT=$DATA OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1

# label | s2d arguments (one epoch, its steps all timed)
CASES=(
  "search rf-pcdarts darts|search --space darts --method rf-pcdarts --preset cpu --epochs 1 --arch-warmup 0 --max-images 1280 --valid-images 64"
  "search pc-darts darts|search --space darts --method pc-darts --preset cpu --epochs 1 --arch-warmup 0 --max-images 1280 --valid-images 64"
  "search rf-darts darts|search --space darts --method rf-darts --preset cpu --epochs 1 --arch-warmup 0 --max-images 640 --valid-images 64"
  "search darts darts|search --space darts --method darts --preset cpu --epochs 1 --arch-warmup 0 --max-images 640 --valid-images 64"
  "search rf-pcdarts nas-bench-201|search --space nas-bench-201 --method rf-pcdarts --preset cpu --epochs 1 --arch-warmup 0 --max-images 1280 --valid-images 64"
  "search darts nas-bench-201|search --space nas-bench-201 --method darts --preset cpu --epochs 1 --arch-warmup 0 --max-images 1280 --valid-images 64"
  "train imagenet-64 C16 L8|train --genotype darts-v2 --dataset imagenette --preset cpu --epochs 1 --max-train-images 1280 --max-valid-images 100"
)

# ms per step of a finished run's log: epoch seconds / steps
ms_per_step() { # log
  local steps secs
  steps=$(grep -oE 'epochs? of [0-9]+ steps' "$1" | head -1 | grep -oE '[0-9]+ steps' | grep -oE '[0-9]+' || true)
  secs=$(grep -oE 'epoch 0: lr .*, ([0-9.]+)s$' "$1" | grep -oE '[0-9.]+s$' | tr -d s || true)
  # A run that failed before its first epoch: '?' (and the ratio after it '?'), not a division by zero.
  if [ -z "$secs" ] || [ -z "$steps" ]; then echo "?"; return 0; fi
  awk -v s="$secs" -v n="$steps" 'BEGIN { printf "%.0f", 1000 * s / n }'
}

echo "| run | 1 x 2 threads (ms/step) | 2 ranks x 1 thread (ms/step) | ratio (2 ranks / 1 process) | allreduced per rank per step | allreduce share of step |"
echo "|---|---:|---:|---:|---:|---:|"
for c in "${CASES[@]}"; do
  label=${c%%|*}; args=${c#*|}; name=$(echo "$label" | tr ' ' '-')
  one=(); two=(); kb=""; share=()
  for r in $(seq 1 "$ROUNDS"); do
    rm -rf "$OUT/$name-1" "$OUT/$name-2"
    # A failed run leaves its log and a '?' in the table, not the end of the script (set -e).
    "$S2D" $args --threads 2 --workers 1 --out "$OUT/$name-1" > "$OUT/$name-1.log" 2>&1 || echo "bench-scaleout: $label, 1 process failed (see $OUT/$name-1.log)" >&2
    mpirun --bind-to none -np 2 "$S2D" $args --threads 1 --workers 1 --out "$OUT/$name-2" > "$OUT/$name-2.log" 2>&1 || echo "bench-scaleout: $label, 2 ranks failed (see $OUT/$name-2.log)" >&2
    one+=("$(ms_per_step "$OUT/$name-1.log")"); two+=("$(ms_per_step "$OUT/$name-2.log")")
    # A run that printed no MPI line (it failed: its log says why) gives a '?' cell, not a silent end of the table.
    mpi=$(grep -oE 'MPI: 2 ranks, [0-9.]+ KB allreduced per step, [0-9.]+ ms per step in allreduce \([0-9.]+% of step time\)' "$OUT/$name-2.log" | tail -1 || true)
    [ -n "$mpi" ] || { echo "bench-scaleout: $OUT/$name-2.log has no MPI line" >&2; mpi="MPI: ? KB (?%"; }
    kb=$(echo "$mpi" | grep -oE '[0-9.?]+ KB' || true); share+=("$(echo "$mpi" | grep -oE '\([0-9.?]+%' | tr -d '(' || true)")
  done
  m1=$(printf '%s\n' "${one[@]}" | sort -n | head -1); m2=$(printf '%s\n' "${two[@]}" | sort -n | head -1)
  ratio="?"; [ "$m1" != "?" ] && [ "$m2" != "?" ] && ratio=$(awk -v a="$m2" -v b="$m1" 'BEGIN { printf "%.2f", a / b }')
  echo "| $label | ${one[*]} (best $m1) | ${two[*]} (best $m2) | $ratio | $kb | ${share[*]} |"
done
