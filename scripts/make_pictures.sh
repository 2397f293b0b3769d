#!/usr/bin/env bash
# Regenerates the pictures of docs/ and the README from the demo's synthetic flag (120 frames at
# 640x360, as scripts/demo.sh makes it), through the element itself. Needs a build:
#
#   bash scripts/make_pictures.sh            # BUILD_DIR=build by default
#
#   docs/images/modes.png  frame 40: input | mask | cutout | overlay (README, docs/howto.md)
#   docs/images/seed.png   frame 0 and the seed mask drawn for it
#   docs/images/alpha.png  frame 40 in mode=alpha: over compositor's checkerboard | over a video
#   docs/images/strip.png  5 frames across the clip: input above, cutout below
#   docs/images/backgrounds.png  frame 40 in cutout: background-blur=24 | background-image
#
# Tiles are scaled down (a picture stays well under 200 KB) and labelled with textoverlay when it
# is there (gstreamer1.0-plugins-base's pango plugin).
set -euo pipefail
cd "$(dirname "$0")/.."
build=${BUILD_DIR:-build}
images=${IMAGES_DIR:-docs/images}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
export GST_PLUGIN_PATH=$PWD/$build/gst
# The element finds the refinement network in the tree until it is installed.
export FLAGMASK_NETWORK=${FLAGMASK_NETWORK-$PWD/src/network/flagmask-refine.onnx}
export GST_REGISTRY=$work/registry.bin
frames=120
frame=${FRAME:-40}
strip=(0 29 59 89 119) # the strip's frames: first to last, evenly
w=240 h=135            # a tile of modes.png, seed.png, alpha.png
sw=192 sh=108          # a tile of strip.png

"$build/src/tools/flagmask-synth" -o "$work/s" --frames $frames --width 640 --height 360 >/dev/null
seq=$work/s/JPEGImages/480p/flag
seed=$work/s/Annotations/480p/flag/00000.png
source=(multifilesrc location="$seq/%05d.jpg" index=0 "caps=image/jpeg,framerate=24/1" ! jpegdec
  ! videoconvert)

# Every frame of the clip through flagmask in each mode, as PNGs at full size. alpha keeps its
# alpha channel (RGBA); the others are plain RGB.
for mode in mask cutout overlay alpha; do
  mkdir -p "$work/$mode"
  caps=video/x-raw caps_out=video/x-raw,format=RGB
  [[ $mode == alpha ]] && caps=video/x-raw,format=BGRA caps_out=video/x-raw,format=RGBA
  gst-launch-1.0 -q "${source[@]}" ! "$caps" ! flagmask seed-mask="$seed" mode=$mode \
    ! videoconvert ! "$caps_out" ! pngenc compression-level=1 \
    ! multifilesink location="$work/$mode/%05d.png"
done
# Cutout over something other than a colour: the frame's own background blurred, and a picture
# (videotestsrc's colour spectrum, written as a PNG first).
gst-launch-1.0 -q videotestsrc pattern=colors num-buffers=1 ! video/x-raw,width=640,height=360 \
  ! videoconvert ! pngenc ! filesink location="$work/picture.png"
for background in blur image; do
  mkdir -p "$work/$background"
  property=background-blur=24
  [[ $background == image ]] && property=background-image=$work/picture.png
  gst-launch-1.0 -q "${source[@]}" ! flagmask seed-mask="$seed" "$property" ! videoconvert \
    ! video/x-raw,format=RGB ! pngenc compression-level=1 \
    ! multifilesink location="$work/$background/%05d.png"
done
mkdir -p "$images"

have_labels=false
gst-inspect-1.0 textoverlay >/dev/null 2>&1 && have_labels=true

# One tile of a grid, as a gst-launch branch into the compositor: FILE LABEL PAD WIDTH HEIGHT
# [BACKGROUND]. A JPEG or PNG, scaled, labelled at its top left, frozen into one frame.
tile() {
  local file=$1 label=$2 pad=$3 tw=$4 th=$5 decoder=pngdec
  [[ $file == *.jpg ]] && decoder=jpegdec
  # One line: grid's eval would end the command at a newline.
  local branch="filesrc location=$file ! $decoder ! videoconvert ! videoscale"
  branch+=" ! video/x-raw,width=$tw,height=$th"
  if $have_labels && [[ -n $label ]]; then
    branch+=" ! textoverlay text=\"$label\" valignment=top halignment=left xpad=4 ypad=3"
    branch+=" auto-resize=false font-desc=\"Sans 8\" shaded-background=true ! videoconvert"
  fi
  echo "$branch ! imagefreeze num-buffers=1 ! comp.sink_$pad"
}

# grid OUTPUT COLUMNS WIDTH HEIGHT FILE LABEL [FILE LABEL ...]: the tiles row by row, into a PNG.
# The colours go through 16 bits (RGB16, no dither): invisible at this size, and it halves the
# PNG of the flag's textured background.
grid() {
  local out=$1 cols=$2 tw=$3 th=$4
  shift 4
  local positions="" branches=() i=0
  while [[ $# -gt 0 ]]; do
    local row=$((i / cols))
    positions+=" sink_$i::xpos=$((i % cols * tw)) sink_$i::ypos=$((row * th))"
    branches+=("$(tile "$1" "$2" $i "$tw" "$th")")
    i=$((i + 1))
    shift 2
  done
  # The description is split into words on purpose: it is a gst-launch pipeline.
  eval gst-launch-1.0 -q compositor name=comp background=black "$positions" \
    ! videoconvert dither=none ! video/x-raw,format=RGB16 ! videoconvert \
    ! video/x-raw,format=RGB ! pngenc compression-level=9 \
    ! filesink location="$out" "${branches[*]}"
  echo "wrote $out ($(($(stat -c %s "$out") / 1024)) KB)"
}

pick=$(printf %05d "$frame")
grid "$images/modes.png" 4 $w $h \
  "$seq/$pick.jpg" "input, frame $frame" "$work/mask/$pick.png" "mode=mask" \
  "$work/cutout/$pick.png" "mode=cutout" "$work/overlay/$pick.png" "mode=overlay"

grid "$images/seed.png" 2 $w $h \
  "$seq/00000.jpg" "frame 0" "$seed" "seed-mask for frame 0"

# mode=alpha shown two ways: over compositor's own checkerboard (the transparent part shows as
# checks), and over another video, as the compositing pipeline of docs/examples.md makes it.
mkdir -p "$work/alpha-views"
gst-launch-1.0 -q filesrc location="$work/alpha/$pick.png" ! pngdec ! videoscale \
  ! video/x-raw,width=$w,height=$h ! imagefreeze num-buffers=1 \
  ! compositor background=checker ! videoconvert ! pngenc \
  ! filesink location="$work/alpha-views/checker.png"
gst-launch-1.0 -q compositor name=mix ! videoconvert ! pngenc \
  ! filesink location="$work/alpha-views/composite.png" \
  videotestsrc pattern=smpte num-buffers=1 ! video/x-raw,width=$w,height=$h ! mix.sink_0 \
  filesrc location="$work/alpha/$pick.png" ! pngdec ! videoscale \
  ! video/x-raw,width=$w,height=$h ! imagefreeze num-buffers=1 ! mix.sink_1
grid "$images/alpha.png" 2 $w $h \
  "$work/alpha-views/checker.png" "mode=alpha over a checkerboard" \
  "$work/alpha-views/composite.png" "mode=alpha over another video"

grid "$images/backgrounds.png" 2 $w $h \
  "$work/blur/$pick.png" "background-blur=24" "$work/image/$pick.png" "background-image=picture.png"

tiles=()
for i in "${strip[@]}"; do
  tiles+=("$seq/$(printf %05d "$i").jpg" "frame $i")
done
for i in "${strip[@]}"; do
  tiles+=("$work/cutout/$(printf %05d "$i").png" "")
done
grid "$images/strip.png" ${#strip[@]} $sw $sh "${tiles[@]}"
