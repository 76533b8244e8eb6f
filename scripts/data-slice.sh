#!/usr/bin/env bash
# Copies a small, class-balanced slice of Imagenette (ImageFolder layout, the same JPEGs, the same folder name) into another data root, to
# carry to a machine that has no datasets (the GPU check's host): N training and M validation images per class.
#
#   scripts/data-slice.sh FROM_DATA_ROOT TO_DATA_ROOT [TRAIN_PER_CLASS=60] [VAL_PER_CLASS=30]
set -euo pipefail
from="${1:?usage: scripts/data-slice.sh FROM_DATA_ROOT TO_DATA_ROOT [TRAIN_PER_CLASS] [VAL_PER_CLASS]}"
to="${2:?usage: scripts/data-slice.sh FROM_DATA_ROOT TO_DATA_ROOT [TRAIN_PER_CLASS] [VAL_PER_CLASS]}"
ntrain="${3:-60}" nval="${4:-30}"
# The Imagenette copy s2d reads there: the 64-px one, else the official archive's (as Data/Imagenette.cs looks for them).
src=""
for name in imagenette-64 imagenette2-160 imagenette2-320 imagenette2; do
  [ -d "$from/$name/train" ] && [ -d "$from/$name/val" ] && { src="$from/$name"; break; }
done
[ -n "$src" ] || { echo "data-slice: error: $from: expected Imagenette (imagenette-64/ or the official imagenette2-160/, -320/ or imagenette2/, with train/ and val/ class folders)" >&2; exit 2; }
dst="$to/$(basename "$src")"
rm -rf "$dst.tmp"; mkdir -p "$dst.tmp"
[ -f "$src/synsets.txt" ] && cp "$src/synsets.txt" "$dst.tmp/"
for split in train val; do
  n=$([ "$split" = train ] && echo "$ntrain" || echo "$nval")
  for cls in "$src/$split"/*/; do
    c=$(basename "$cls"); mkdir -p "$dst.tmp/$split/$c"
    # The first N files by name: the same slice every time.
    mapfile -t files < <(find "$cls" -maxdepth 1 -type f | sort | head -n "$n")
    [ ${#files[@]} -gt 0 ] || { rm -rf "$dst.tmp"; echo "data-slice: error: $cls: no images to take (or a count of 0)" >&2; exit 2; }
    cp "${files[@]}" "$dst.tmp/$split/$c/"
  done
done
rm -rf "$dst"; mv "$dst.tmp" "$dst"
echo "data-slice: $dst: $(find "$dst/train" -type f | wc -l) training and $(find "$dst/val" -type f | wc -l) validation images, $(du -sh "$dst" | cut -f1)"
