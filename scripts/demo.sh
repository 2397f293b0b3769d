#!/usr/bin/env bash
# The main job: installs what is needed, builds the plugin (not the tests), and cuts the object out
# of a video with the flagmask element through gst-launch-1.0 (scripts/cutout.sh), writing a WebM
# of the object on black.
#
#   bash scripts/demo.sh                     # generated waving flag -> out/flag-cutout.webm
#   bash scripts/demo.sh VIDEO SEED          # your video -> out/NAME-cutout.webm
#
# VIDEO: a video file in any container GStreamer decodes (MP4, WebM, MKV, AVI, ...), or a folder
# of JPEG frames named %05d.jpg. SEED: a mask image of the first frame (any size; non-zero = the
# object), or a box around the object on the first frame, x,y,width,height in pixels (the mask is
# then cut from it by grabCut).
set -euo pipefail
cd "$(dirname "$0")/.."

# A mistyped argument is said before the set-up and the build, which take minutes the first time.
bash scripts/cutout.sh --check "$@"
bash scripts/setup.sh
build=${BUILD_DIR:-build}
if [[ ! -f $build/build.ninja ]]; then
  meson setup "$build" --buildtype=release
fi
# Only what the demo runs: the plugin and the generator of the default clip.
meson compile -C "$build" gstflagmask flagmask-synth
BUILD_DIR=$build bash scripts/cutout.sh "$@"
