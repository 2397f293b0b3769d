#!/usr/bin/env bash
# The demo's cut-out (scripts/demo.sh installs and builds first): the object of a video on black,
# through gst-launch-1.0 and this build's plugin, as a WebM in ${OUT_DIR:-out}.
#
#   bash scripts/cutout.sh                   # generated waving flag -> out/flag-cutout.webm
#   bash scripts/cutout.sh VIDEO SEED        # your video -> out/NAME-cutout.webm
#
# VIDEO and SEED as for scripts/demo.sh. The plugin comes from $GST_PLUGIN_PATH when set, else
# from ${BUILD_DIR:-build}/gst. With --check first, only checks the arguments.
set -euo pipefail
cd "$(dirname "$0")/.."

check_only=false
if [[ ${1:-} == --check ]]; then
  check_only=true
  shift
fi
usage() {
  echo "usage: bash scripts/demo.sh [VIDEO SEED]" >&2
  echo "  VIDEO: a video file, or a folder of JPEG frames %05d.jpg" >&2
  echo "  SEED: a mask image of the first frame, or a box x,y,width,height on it" >&2
  exit 2
}
[[ $# -eq 0 || $# -eq 2 ]] || usage

# A box is four whole numbers; anything else names a mask image.
box_pattern='^[0-9]+,[0-9]+,[0-9]+,[0-9]+$'
if [[ $# -eq 2 ]]; then
  [[ -e $1 ]] || { echo "flagmask demo: no video or frames folder '$1'" >&2; exit 1; }
  [[ -f $2 || $2 =~ $box_pattern ]] ||
    { echo "flagmask demo: '$2' is neither a mask image nor a box x,y,width,height" >&2; exit 1; }
fi
if $check_only; then exit 0; fi

build=${BUILD_DIR:-build}
out=${OUT_DIR:-out}
mkdir -p "$out"

if [[ $# -eq 2 ]]; then
  input=$1 name=$(basename "${1%/}")
  name=${name%.*}
  if [[ $2 =~ $box_pattern ]]; then seed=(seed-box="$2"); else seed=(seed-mask="$2"); fi
else
  "$build/src/tools/flagmask-synth" -o "$out/synthetic" --frames 120 --width 640 --height 360
  input=$out/synthetic/JPEGImages/480p/flag
  seed=(seed-mask="$out/synthetic/Annotations/480p/flag/00000.png")
  name=flag
fi

if [[ -d $input ]]; then
  source=(multifilesrc location="$input/%05d.jpg" index=0 caps=image/jpeg,framerate=24/1
    ! jpegdec)
else
  source=(filesrc location="$input" ! decodebin)
fi

export GST_PLUGIN_PATH=${GST_PLUGIN_PATH:-$PWD/$build/gst}
# The element finds the refinement network in the tree until it is installed.
export FLAGMASK_NETWORK=${FLAGMASK_NETWORK-$PWD/src/network/flagmask-refine.onnx}
gst-launch-1.0 -e "${source[@]}" ! videoconvert ! flagmask "${seed[@]}" mode=cutout \
  ! videoconvert ! vp8enc deadline=1 ! webmmux ! filesink location="$out/$name-cutout.webm"
echo "wrote $out/$name-cutout.webm"
