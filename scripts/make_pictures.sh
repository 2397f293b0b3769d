#!/usr/bin/env bash
# Regenerates the pictures of docs/ and the README from the synthetic flag, through the element
# itself: docs/images/modes.png (input | mask | cutout | overlay at one frame). Needs a build.
set -euo pipefail
cd "$(dirname "$0")/.."
build=${BUILD_DIR:-build}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
export GST_PLUGIN_PATH=$PWD/$build/gst
frame=${FRAME:-40}
w=320 h=180

"$build/src/tools/flagmask-synth" -o "$work/s" --frames $((frame + 1)) --width 640 --height 360
seq=$work/s/JPEGImages/480p/flag
seed=$work/s/Annotations/480p/flag/00000.png

for mode in mask cutout overlay; do
  mkdir -p "$work/$mode"
  gst-launch-1.0 -q multifilesrc location="$seq/%05d.jpg" index=0 caps=image/jpeg,framerate=24/1 \
    ! jpegdec ! videoconvert ! flagmask seed-mask="$seed" mode=$mode ! videoconvert \
    ! pngenc ! multifilesink location="$work/$mode/%05d.png"
done
mkdir -p "$work/input"
cp "$seq/$(printf %05d "$frame").jpg" "$work/input/pick.jpg"

tile() { # file decoder xpos
  echo "filesrc location=$1 ! $2 ! videoconvert ! videoscale ! video/x-raw,width=$w,height=$h \
    ! imagefreeze num-buffers=1 ! comp.sink_$3"
}
pick=$(printf %05d "$frame").png
mkdir -p docs/images
# shellcheck disable=SC2046
gst-launch-1.0 -q compositor name=comp \
  sink_0::xpos=0 sink_1::xpos=$w sink_2::xpos=$((2 * w)) sink_3::xpos=$((3 * w)) \
  ! videoconvert ! pngenc ! filesink location=docs/images/modes.png \
  $(tile "$work/input/pick.jpg" jpegdec 0) \
  $(tile "$work/mask/$pick" pngdec 1) \
  $(tile "$work/cutout/$pick" pngdec 2) \
  $(tile "$work/overlay/$pick" pngdec 3)
echo "wrote docs/images/modes.png (frame $frame: input | mask | cutout | overlay)"
