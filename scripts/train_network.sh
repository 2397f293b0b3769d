#!/bin/bash
# Retrains the refinement network the plugin ships, from the DAVIS data, in one command:
#
#   bash scripts/train_network.sh [--folds] [OUTPUT.onnx]
#
# OUTPUT defaults to src/network/flagmask-refine.onnx. --folds also trains, by the same recipe,
# the three networks that each leave a fold of the sequences out (tests/quality/networks/
# fold0..2.onnx), which the quality test's cross-validated figure is measured with; three times
# as long again.
#
# It dumps the tracker's cues on the 29 sequences of ImageSets/480p/dev.txt and train.txt and
# trains scripts/train_network.py on them with seed 1: about 5 minutes on two cores. The data
# comes from $FLAGMASK_DAVIS or ../shared/data/DAVIS beside the source tree; the work files go to
# $WORK_DIR (default a temporary folder, removed afterwards). Needs python3-torch, python3-onnx
# and python3-opencv (Debian 12 packages), for training only.
set -euo pipefail

source_root=$(cd "$(dirname "$0")/.." && pwd)
folds=0
if [[ ${1:-} == --folds ]]; then
  folds=1
  shift
fi
output=${1:-$source_root/src/network/flagmask-refine.onnx}
davis=${FLAGMASK_DAVIS:-$source_root/../shared/data/DAVIS}
build=${BUILD_DIR:-$source_root/build}

if ! /usr/bin/python3 -c 'import torch, onnx, cv2' 2>/dev/null; then
  echo "train_network.sh: needs python3-torch, python3-onnx and python3-opencv:" >&2
  echo "  apt-get install -y python3-torch python3-onnx python3-opencv" >&2
  exit 1
fi
if [[ ! -d $davis/JPEGImages/480p ]]; then
  echo "train_network.sh: no DAVIS data at '$davis' (set FLAGMASK_DAVIS)" >&2
  exit 1
fi
[[ -x $build/src/tools/flagmask-dump-cues ]] || bash "$source_root/scripts/build.sh"

work=${WORK_DIR:-$(mktemp -d)}
[[ -n ${WORK_DIR:-} ]] || trap 'rm -rf "$work"' EXIT
dump=$build/src/tools/flagmask-dump-cues
for set in ImageSets/480p/dev.txt ImageSets/480p/train.txt; do
  "$dump" --davis "$davis" --imageset "$set" -o "$work/cues"
done
train() {
  /usr/bin/python3 "$source_root/scripts/train_network.py" --cues "$work/cues" --steps 3000 \
    --seed 1 "$@"
}
train -o "$output"
if ((folds)); then
  for k in 0 1 2; do
    train -o "$source_root/tests/quality/networks/fold$k.onnx" --fold "$k" --folds 3
  done
fi
