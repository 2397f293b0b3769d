#!/usr/bin/env bash
# Does a model trained on more than the seed frame help? For each sequence, trains a model on K
# frames spread over it (0, N/K, 2N/K, ...; where the object is out of view on one, the next frame
# that shows it) with their ground-truth masks (flagmask-train) and runs flagmask-eval with it,
# beside the seed-only tracker. Prints both means.
#
#   scripts/check_multiframe.sh [--frames K] [--seq NAME ...] [--network FILE] [DAVIS_ROOT]
#
# K defaults to 4; the sequences to those of DAVIS_ROOT/ImageSets/480p/dev.txt; the network to
# flagmask-eval's own; DAVIS_ROOT to $FLAGMASK_DAVIS or ../shared/data/DAVIS.
set -euo pipefail
cd "$(dirname "$0")/.."
build=${BUILD_DIR:-build}
count=4
sequences=()
network=()
while [[ $# -gt 0 ]]; do
  case $1 in
  --frames) count=${2:?check_multiframe: --frames needs a number}; shift 2 ;;
  --seq) sequences+=("${2:?check_multiframe: --seq needs a name}"); shift 2 ;;
  --network) network=(--network "${2?check_multiframe: --network needs a file}"); shift 2 ;;
  -*) echo "check_multiframe: unknown option $1" >&2; exit 2 ;;
  *) break ;;
  esac
done
[[ $count =~ ^[1-9][0-9]*$ ]] || { echo "check_multiframe: --frames must be a positive number" >&2; exit 2; }
davis=${1:-${FLAGMASK_DAVIS:-../shared/data/DAVIS}}
if [[ ${#sequences[@]} -eq 0 ]]; then
  set_file=$davis/ImageSets/480p/dev.txt
  [[ -f $set_file ]] || { echo "check_multiframe: no DAVIS image set at $set_file" >&2; exit 1; }
  mapfile -t sequences < <(awk '{print $1}' "$set_file" | awk -F/ '{print $(NF-1)}' | awk '!seen[$0]++')
fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# The first frame from index k on whose mask shows the object (flagmask-train refuses an empty
# mask), or nothing.
showing_from() {
  local k=$1
  for ((; k < n; k++)); do
    if "$build/src/tools/flagmask-train" --frame "${frames[$k]}" --mask "${masks[$k]}" \
      -o "$work/probe.yml" >/dev/null 2>&1; then
      echo "$k"
      return
    fi
  done
}

score() {
  "$build/src/tools/flagmask-eval" --davis "$davis" --seq "$seq" "${network[@]}" "$@" 2>/dev/null |
    awk '/^mean/ {sub("J&F=", "", $2); print $2}'
}

for seq in "${sequences[@]}"; do
  frames=("$davis/JPEGImages/480p/$seq"/*.jpg)
  masks=("$davis/Annotations/480p/$seq"/*.png)
  n=${#frames[@]}
  training=()
  used=()
  for ((i = 0; i < count; i++)); do
    k=$(showing_from $((i * n / count)))
    [[ -n $k ]] || continue
    training+=(--frame "${frames[$k]}" --mask "${masks[$k]}")
    used+=("$k")
  done
  "$build/src/tools/flagmask-train" "${training[@]}" -o "$work/$seq.yml" >/dev/null 2>&1
  echo "$seq seed-only=$(score) $count-frame=$(score --model "$work/$seq.yml") (frames ${used[*]})"
done | tee "$work/rows"
awk -v k="$count" '{sub("seed-only=", "", $2); sub(/[0-9]+-frame=/, "", $3); a += $2; b += $3}
  END {printf "mean J&F: seed-only=%.3f %d-frame model=%.3f\n", a / NR, k, b / NR}' "$work/rows"
