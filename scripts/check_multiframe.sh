#!/usr/bin/env bash
# Does a model trained on more than the seed frame help? For each dev sequence, trains a model on
# K frames spread over it (0, N/K, 2N/K, ...) with their ground-truth masks (flagmask-train) and
# runs flagmask-eval with it, beside the seed-only tracker. Prints both means.
#
#   scripts/check_multiframe.sh [--frames K] [DAVIS_ROOT]   (K default 4; DAVIS_ROOT default
#                                                            ../shared/data/DAVIS or $FLAGMASK_DAVIS)
set -euo pipefail
cd "$(dirname "$0")/.."
build=${BUILD_DIR:-build}
count=4
if [[ ${1:-} == --frames ]]; then
  count=${2:?check_multiframe: --frames needs a number}
  shift 2
fi
[[ $count =~ ^[1-9][0-9]*$ ]] || { echo "check_multiframe: --frames must be a positive number" >&2; exit 2; }
davis=${1:-${FLAGMASK_DAVIS:-../shared/data/DAVIS}}
set_file=$davis/ImageSets/480p/dev.txt
[[ -f $set_file ]] || { echo "check_multiframe: no DAVIS image set at $set_file" >&2; exit 1; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

for seq in $(awk '{print $1}' "$set_file" | awk -F/ '{print $(NF-1)}' | awk '!seen[$0]++'); do
  frames=("$davis/JPEGImages/480p/$seq"/*.jpg)
  masks=("$davis/Annotations/480p/$seq"/*.png)
  n=${#frames[@]}
  training=()
  for ((i = 0; i < count; i++)); do
    k=$((i * n / count))
    training+=(--frame "${frames[$k]}" --mask "${masks[$k]}")
  done
  "$build/src/tools/flagmask-train" "${training[@]}" -o "$work/$seq.yml" >/dev/null 2>&1
  many=$("$build/src/tools/flagmask-eval" --davis "$davis" --seq "$seq" --model "$work/$seq.yml" \
    2>/dev/null | awk '/^mean/ {sub("J&F=", "", $2); print $2}')
  one=$("$build/src/tools/flagmask-eval" --davis "$davis" --seq "$seq" 2>/dev/null |
    awk '/^mean/ {sub("J&F=", "", $2); print $2}')
  echo "$seq seed-only=$one $count-frame=$many"
done | tee "$work/rows"
awk -v k="$count" '{sub("seed-only=", "", $2); sub(/[0-9]+-frame=/, "", $3); a += $2; b += $3}
  END {printf "mean J&F: seed-only=%.3f %d-frame model=%.3f\n", a / NR, k, b / NR}' "$work/rows"
