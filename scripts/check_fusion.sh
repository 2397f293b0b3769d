#!/usr/bin/env bash
# Checks the learned fusion on sequences it was not fitted on. The dev split is
# cut into two folds (alternate sequences of the image set); a fusion is fitted on each fold with
# flagmask-fit-fusion and scored with flagmask-eval on the other fold, beside the naive Bayes the
# tracker ships with. Needs the DAVIS data; prints one line per fold and the held-out means.
#
#   scripts/check_fusion.sh [DAVIS_ROOT]      (default ../shared/data/DAVIS or $FLAGMASK_DAVIS)
set -euo pipefail
cd "$(dirname "$0")/.."
build=${BUILD_DIR:-build}
davis=${1:-${FLAGMASK_DAVIS:-../shared/data/DAVIS}}
set_file=$davis/ImageSets/480p/dev.txt
[[ -f $set_file ]] || { echo "check_fusion: no DAVIS image set at $set_file" >&2; exit 1; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# Sequence names in image-set order, then alternate ones into fold 0 and fold 1.
awk '{print $1}' "$set_file" | awk -F/ '{print $(NF-1)}' | awk '!seen[$0]++' >"$work/all"
awk 'NR % 2 == 1' "$work/all" >"$work/fold0"
awk 'NR % 2 == 0' "$work/all" >"$work/fold1"

score() { # imageset [flagmask-eval options...] -> "J&F"
  "$build/src/tools/flagmask-eval" --davis "$davis" --imageset "$@" 2>/dev/null |
    awk '/^mean J&F=/ {sub("J&F=", "", $2); print $2}'
}

results=()
for held in 0 1; do
  train=$((1 - held))
  "$build/src/tools/flagmask-fit-fusion" --davis "$davis" --imageset "$work/fold$train" \
    -o "$work/fusion$train.yml" 2>/dev/null
  learned=$(score "$work/fold$held" --fusion "$work/fusion$train.yml")
  bayes=$(score "$work/fold$held")
  echo "held-out fold $held ($(paste -sd' ' "$work/fold$held")): learned J&F=$learned naive-Bayes J&F=$bayes"
  results+=("$learned $bayes")
done
printf '%s\n' "${results[@]}" |
  awk '{l += $1; b += $2} END {printf "held-out mean J&F: learned=%.3f naive-Bayes=%.3f\n", l / NR, b / NR}'

