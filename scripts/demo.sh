#!/usr/bin/env bash
# The main job: installs what is needed, builds, and cuts the object out of a video with the
# flagmask element through gst-launch-1.0, writing a WebM of the object on black.
#
#   bash scripts/demo.sh                      # generated waving flag -> out/flag-cutout.webm
#   bash scripts/demo.sh FRAMES_DIR SEED.png  # your JPEG frames %05d.jpg + first-frame mask
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
bash scripts/build.sh
build=${BUILD_DIR:-build}
out=${OUT_DIR:-out}
mkdir -p "$out"

if [[ $# -ge 2 ]]; then
  frames=$1 seed=$2 name=$(basename "$1")
else
  "$build/src/tools/flagmask-synth" -o "$out/synthetic" --frames 120 --width 640 --height 360
  frames=$out/synthetic/JPEGImages/480p/flag
  seed=$out/synthetic/Annotations/480p/flag/00000.png
  name=flag
fi

export GST_PLUGIN_PATH=$PWD/$build/gst
# The element finds the refinement network in the tree until it is installed.
export FLAGMASK_NETWORK=${FLAGMASK_NETWORK-$PWD/src/network/flagmask-refine.onnx}
gst-launch-1.0 -e \
  multifilesrc location="$frames/%05d.jpg" index=0 caps=image/jpeg,framerate=24/1 \
  ! jpegdec ! videoconvert ! flagmask seed-mask="$seed" mode=cutout \
  ! videoconvert ! vp8enc deadline=1 ! webmmux ! filesink location="$out/$name-cutout.webm"
echo "wrote $out/$name-cutout.webm"
