#!/usr/bin/env bash
# Does a model trained on more than the seed frame help? For each dev sequence, trains a model on
# frames 0 and N/2 with their ground-truth masks (flagmask-train) and runs flagmask-eval with it,
# beside the seed-only tracker. Prints both means.
#
#   scripts/check_multiframe.sh [DAVIS_ROOT]     (default ../shared/data/DAVIS or $FLAGMASK_DAVIS)
set -euo pipefail
cd "$(dirname "$0")/.."
build=${BUILD_DIR:-build}
davis=${1:-${FLAGMASK_DAVIS:-../shared/data/DAVIS}}
set_file=$davis/ImageSets/480p/dev.txt
[[ -f $set_file ]] || { echo "check_multiframe: no DAVIS image set at $set_file" >&2; exit 1; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

for seq in $(awk '{print $1}' "$set_file" | awk -F/ '{print $(NF-1)}' | awk '!seen[$0]++'); do
  frames=("$davis/JPEGImages/480p/$seq"/*.jpg)
  masks=("$davis/Annotations/480p/$seq"/*.png)
  half=$((${#frames[@]} / 2))
  "$build/src/tools/flagmask-train" --frame "${frames[0]}" --mask "${masks[0]}" \
    --frame "${frames[$half]}" --mask "${masks[$half]}" -o "$work/$seq.yml" >/dev/null 2>&1
  two=$("$build/src/tools/flagmask-eval" --davis "$davis" --seq "$seq" --model "$work/$seq.yml" \
    2>/dev/null | awk '/^mean/ {sub("J&F=", "", $2); print $2}')
  one=$("$build/src/tools/flagmask-eval" --davis "$davis" --seq "$seq" 2>/dev/null |
    awk '/^mean/ {sub("J&F=", "", $2); print $2}')
  echo "$seq seed-only=$one frames-0-and-$half=$two"
done | tee "$work/rows"
awk '{sub("seed-only=", "", $2); sub(/frames-0-and-[0-9]+=/, "", $3); a += $2; b += $3}
  END {printf "mean J&F: seed-only=%.3f two-frame model=%.3f\n", a / NR, b / NR}' "$work/rows"
