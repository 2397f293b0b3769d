#!/usr/bin/env bash
# The users' side, run by `meson test --suite tools`: flagmask-train's --box, --video and
# --write-mask on generated data, the embedding example (examples/embed.c) against the plugin in
# the build tree, and the pipelines docs/examples.md gives. Exit 77 = skipped.
set -euo pipefail

case_name=${1:?usage: check_tools.sh train-box|train-video|train-usage|embed-ball|embed-file|embed-errors|doc-pipelines}
work=$(mktemp -d)
receiver=
cleanup() {
  if [[ -n $receiver ]]; then kill "$receiver" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT

# Floors: the box's grabCut mask of the synthetic flag measured 0.998 IoU; the element from a
# trained model alone, or seeded with that mask, 0.99 mean IoU over the clip.
BOX_MASK_FLOOR=0.95
TRACK_FLOOR=0.90
# A box around the flag's cloth on frame 0 of the 320x180 synthetic flag (its mask spans
# x 70..229, y 20..89), with 8 pixels of margin.
BOX=62,12,176,86
FRAMES=12

fail() { echo "FAIL: $*" >&2; exit 1; }
skip() { echo "SKIP: $*"; exit 77; }
need_gst() { command -v gst-launch-1.0 >/dev/null || skip "no gst-launch-1.0"; }

at_least() { # value floor label
  echo "$3: $1 (floor $2)"
  awk -v v="$1" -v f="$2" 'BEGIN { exit !(v != "" && v + 0 >= f + 0) }' || fail "$3 below $2"
}

# The synthetic flag (frames and exact masks) and the same frames as an MJPEG AVI.
flag=$work/flag/JPEGImages/480p/flag
truth=$work/flag/Annotations/480p/flag
video=$work/flag.avi
make_fixture() {
  "$FLAGMASK_SYNTH" -o "$work/flag" --frames $FRAMES --width 320 --height 180 >/dev/null
  if command -v gst-launch-1.0 >/dev/null; then
    gst-launch-1.0 -q multifilesrc location="$flag/%05d.jpg" index=0 stop-index=$((FRAMES - 1)) \
      caps=image/jpeg,framerate=24/1 ! jpegdec ! jpegenc ! avimux ! filesink location="$video"
  fi
}

# Runs a command, expects exit status $1; its stderr is left in $work/stderr.
expect_status() {
  local want=$1 got=0
  shift
  "$@" 2>"$work/stderr" >"$work/stdout" || got=$?
  [[ $got -eq $want ]] || { cat "$work/stderr" >&2; fail "'$*' exited $got, expected $want"; }
}
expect_stderr() { grep -qF -- "$1" "$work/stderr" || fail "stderr lacks '$1': $(cat "$work/stderr")"; }

# Mean IoU of one mask against frame 0's truth.
mask_iou() {
  mkdir -p "$work/one-truth" "$work/one-mask"
  cp "$truth/00000.png" "$work/one-truth/00000.png"
  cp "$1" "$work/one-mask/00000.png"
  "$FLAGMASK_COMPARE" "$work/one-truth" "$work/one-mask" | sed -n 's/.*mean_iou=\([0-9.]*\).*/\1/p'
}

# The element over the AVI with the given properties, masks to $work/masks; prints the mean IoU.
track_video() {
  rm -rf "$work/masks" && mkdir "$work/masks"
  gst-launch-1.0 -q filesrc location="$video" ! decodebin ! videoconvert ! flagmask "$@" mode=mask \
    ! videoconvert ! video/x-raw,format=GRAY8 ! pngenc compression-level=1 \
    ! multifilesink location="$work/masks/%05d.png" >&2
  "$FLAGMASK_COMPARE" "$truth" "$work/masks" | sed -n 's/.*mean_iou=\([0-9.]*\).*/\1/p'
}

# "key=value ..." line of the example's summary -> value of key
summary_value() { sed -n "s/.*\b$1=\([0-9.x]*\).*/\1/p" "$work/stdout"; }

case $case_name in
train-box)
  need_gst
  make_fixture
  expect_status 0 "$FLAGMASK_TRAIN" --frame "$flag/00000.jpg" --box $BOX \
    --write-mask "$work/box.png" -o "$work/model.yml"
  [[ -s $work/box.png && -s $work/model.yml ]] || fail "no mask or model written"
  at_least "$(mask_iou "$work/box.png")" $BOX_MASK_FLOOR "mask from the box vs truth, IoU"
  at_least "$(track_video model="$work/model.yml")" $TRACK_FLOOR \
    "element from the box-trained model alone, mean IoU"
  ;;
train-video)
  need_gst
  make_fixture
  expect_status 0 "$FLAGMASK_TRAIN" --video "$video" --mask "$truth/00000.png" -o "$work/model.yml"
  expect_stderr "(first frame, 320x180"
  at_least "$(track_video model="$work/model.yml")" $TRACK_FLOOR \
    "element from the video-trained model alone, mean IoU"
  # A box on the video's first frame, only the mask written (no -o), used as the seed-mask.
  expect_status 0 "$FLAGMASK_TRAIN" --video "$video" --box $BOX --write-mask "$work/seed.png"
  [[ -s $work/seed.png ]] || fail "no mask written"
  at_least "$(mask_iou "$work/seed.png")" $BOX_MASK_FLOOR "mask from the video's box vs truth, IoU"
  at_least "$(track_video seed-mask="$work/seed.png")" $TRACK_FLOOR \
    "element seeded with that mask, mean IoU"
  ;;
train-usage)
  make_fixture
  frame=$flag/00000.jpg
  expect_status 2 "$FLAGMASK_TRAIN" --frame "$frame" --box 1,2,3 -o "$work/m.yml"
  expect_stderr "'1,2,3' is not x,y,w,h"
  expect_status 2 "$FLAGMASK_TRAIN" --frame "$frame" --mask "$truth/00000.png" \
    --write-mask "$work/m.png" -o "$work/m.yml"
  expect_stderr "--write-mask writes the mask made from a --box"
  expect_status 2 "$FLAGMASK_TRAIN" --frame "$frame" --box $BOX --write-mask "$work/m.jpg"
  expect_stderr "write masks as .png"
  expect_status 2 "$FLAGMASK_TRAIN" --video "$work/none.avi"
  expect_stderr "needs exactly one --mask or --box"
  expect_status 1 "$FLAGMASK_TRAIN" --frame "$frame" --box 300,10,100,50 -o "$work/m.yml"
  expect_stderr "box 300,10,100,50 on the 320x180 frame is not inside the frame"
  expect_status 1 "$FLAGMASK_TRAIN" --video "$work/none.avi" --mask "$truth/00000.png" -o "$work/m.yml"
  expect_stderr "video '$work/none.avi' does not exist"
  echo "not a video" >"$work/text.avi"
  expect_status 1 "$FLAGMASK_TRAIN" --video "$work/text.avi" --box $BOX -o "$work/m.yml"
  expect_stderr "could not decode a frame of video '$work/text.avi'"
  [[ ! -e $work/m.yml ]] || fail "a model was written despite the errors"
  expect_status 0 "$FLAGMASK_TRAIN" --help
  grep -qF -- "--box x,y,w,h" "$work/stdout" || fail "--help does not describe --box"
  echo "usage and failure exits as expected"
  ;;
embed-ball)
  [[ -n ${FLAGMASK_EMBED:-} ]] || skip "the example was not built (gstreamer-app-1.0 or a C compiler missing)"
  expect_status 0 "$FLAGMASK_EMBED" --frames 30
  cat "$work/stdout"
  [[ $(summary_value frames) == 30 && $(summary_value size) == 320x240 ]] || fail "wrong summary"
  # videotestsrc's ball covers ~1125 of 320x240 pixels (0.0146).
  object=$(summary_value mean_object)
  awk -v o="$object" 'BEGIN { exit !(o > 0.011 && o < 0.018) }' || fail "mean_object $object"
  ;;
embed-file)
  [[ -n ${FLAGMASK_EMBED:-} ]] || skip "the example was not built"
  need_gst
  make_fixture
  expect_status 0 "$FLAGMASK_EMBED" --input "$video" --seed-mask "$truth/00000.png"
  cat "$work/stdout"
  [[ $(summary_value frames) == $FRAMES && $(summary_value size) == 320x180 ]] || fail "wrong summary"
  # The cloth covers 9244 of 57600 pixels (0.160) on frame 0 and about as much after.
  object=$(summary_value mean_object)
  awk -v o="$object" 'BEGIN { exit !(o > 0.14 && o < 0.18) }' || fail "mean_object $object"
  ;;
embed-errors)
  [[ -n ${FLAGMASK_EMBED:-} ]] || skip "the example was not built"
  expect_status 0 "$FLAGMASK_EMBED" --help
  grep -qF -- "--seed-mask" "$work/stdout" || fail "--help does not describe --seed-mask"
  expect_status 2 "$FLAGMASK_EMBED" --no-such-option
  expect_status 2 "$FLAGMASK_EMBED" --input "$work/clip.avi"
  expect_stderr "give --seed-mask or --model"
  expect_status 1 "$FLAGMASK_EMBED" --seed-mask "$work/missing.png"
  expect_stderr "could not read mask '$work/missing.png'"
  "$FLAGMASK_SYNTH" -o "$work/flag" --frames 1 --width 320 --height 180 >/dev/null
  expect_status 1 "$FLAGMASK_EMBED" --input "$work/missing.avi" --seed-mask "$truth/00000.png"
  expect_stderr "No such file \"$work/missing.avi\""
  GST_PLUGIN_PATH=$work GST_REGISTRY=$work/registry.bin expect_status 1 "$FLAGMASK_EMBED"
  expect_stderr "no element 'flagmask': set GST_PLUGIN_PATH"
  echo "usage and failure exits as expected"
  ;;
doc-pipelines)
  need_gst
  make_fixture
  [[ $(gst-inspect-1.0 flagmask) == *"$GST_PLUGIN_PATH/"* ]] ||
    fail "flagmask does not come from $GST_PLUGIN_PATH"
  seed=$truth/00000.png
  "$FLAGMASK_TRAIN" --video "$video" --mask "$seed" -o "$work/flag.yml" 2>/dev/null
  # Each pipeline as docs/examples.md writes it, with the substitutions the doc names.
  echo "file to file"
  gst-launch-1.0 -q filesrc location="$video" ! decodebin ! videoconvert \
    ! flagmask seed-mask="$seed" ! videoconvert ! vp8enc deadline=1 ! webmmux \
    ! filesink location="$work/object.webm"
  [[ -s $work/object.webm ]] || fail "no object.webm"
  echo "live camera with a saved model (videotestsrc is-live=true for v4l2src, fakesink for autovideosink)"
  gst-launch-1.0 -q videotestsrc is-live=true num-buffers=15 \
    ! video/x-raw,width=640,height=480,framerate=30/1 ! queue max-size-buffers=2 leaky=downstream \
    ! videoconvert ! flagmask model="$work/flag.yml" mode=overlay working-size=320 \
    ! videoconvert ! fakesink
  echo "compositing the alpha output onto another video (videotestsrc for background.mp4)"
  gst-launch-1.0 -q compositor name=mix ! videoconvert ! vp8enc deadline=1 ! webmmux \
    ! filesink location="$work/composite.webm" \
    videotestsrc pattern=smpte num-buffers=$FRAMES ! videoconvert ! videoscale \
    ! video/x-raw,width=320,height=180 ! mix.sink_0 \
    filesrc location="$video" ! decodebin ! videoconvert ! video/x-raw,format=BGRA \
    ! flagmask seed-mask="$seed" mode=alpha ! mix.sink_1
  [[ -s $work/composite.webm ]] || fail "no composite.webm"
  echo "RTP out, VP8, received on localhost"
  port=$((20000 + RANDOM % 20000))
  gst-launch-1.0 -q udpsrc port=$port \
    caps="application/x-rtp,media=video,encoding-name=VP8,payload=96,clock-rate=90000" \
    ! rtpjitterbuffer ! rtpvp8depay ! vp8dec ! videoconvert ! pngenc \
    ! multifilesink location="$work/received-%05d.png" &
  receiver=$!
  sleep 0.5
  gst-launch-1.0 -q filesrc location="$video" ! decodebin ! videoconvert \
    ! flagmask seed-mask="$seed" ! videoconvert ! vp8enc deadline=1 ! rtpvp8pay \
    ! udpsink host=127.0.0.1 port=$port
  sleep 0.5
  kill "$receiver"
  wait "$receiver" 2>/dev/null || true
  receiver=
  received=$(find "$work" -name 'received-*.png' | wc -l)
  echo "received $received of $FRAMES frames"
  [[ $received -gt 0 ]] || fail "the receiver got no frame"
  if gst-inspect-1.0 x264enc >/dev/null 2>&1; then
    echo "RTP out, H.264 (sender only)"
    gst-launch-1.0 -q filesrc location="$video" ! decodebin ! videoconvert \
      ! flagmask seed-mask="$seed" ! videoconvert ! x264enc tune=zerolatency speed-preset=ultrafast \
      ! rtph264pay config-interval=1 ! udpsink host=127.0.0.1 port=$port
  else
    echo "RTP out, H.264: not run (x264enc is in gstreamer1.0-plugins-ugly, not installed)"
  fi
  ;;
*)
  echo "unknown case '$case_name'" >&2
  exit 2
  ;;
esac
