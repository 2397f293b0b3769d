#!/usr/bin/env bash
# The users' side, run by `meson test --suite tools`: flagmask-train's --box, --video and
# --write-mask on generated data, flagmask-synth's scene knobs, the embedding example
# (examples/embed.c) and the Python example (examples/flagmask_messages.py) against the plugin in
# the build tree, and the pipelines docs/examples.md and docs/howto.md give. Exit 77 = skipped.
set -euo pipefail

case_name=${1:?usage: check_tools.sh demo-cutout|seed-tool|train-box|train-video|train-usage|synth-scenes|embed-ball|embed-file|embed-errors|embed-progress|py-messages|py-errors|py-progress|doc-howto|doc-pipelines}
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
# Whether script(1) can give a program a pseudo-terminal here.
have_pty() { command -v script >/dev/null && script -qec true /dev/null </dev/null >/dev/null 2>&1; }
# Whether this build's flagmask has a property (gst-inspect's output taken whole: grep -q in a
# pipe would end it early, and pipefail would call that a failure).
has_property() { [[ $(gst-inspect-1.0 flagmask 2>/dev/null) == *"  $1 "*:* ]]; }
# The Python example runs with Debian's python3 (a python3 earlier on PATH may lack PyGObject).
PYTHON=${FLAGMASK_PYTHON:-/usr/bin/python3}
# Under scripts/sanitize.sh the plugin is built with ASan, and an interpreter that is not loads it
# only with the ASan runtime preloaded: a shim does that, as sanitize.sh's gst-launch-1.0 shims do
# (leak checking off: the interpreter's exit-time leaks are not ours). libstdc++ is preloaded too:
# ASan resolves the __cxa_throw it intercepts at start, and Python does not load libstdc++ itself.
plugin_libs=$(ldd "${GST_PLUGIN_PATH:-}/libgstflagmask.so" 2>/dev/null || true)
asan_runtime=$(awk '/libasan/ { print $3 }' <<<"$plugin_libs")
if [[ -n $asan_runtime ]]; then
  preload="$asan_runtime $(awk '/libstdc\+\+/ { print $3 }' <<<"$plugin_libs")"
  printf '#!/bin/sh\nLD_PRELOAD="%s" ASAN_OPTIONS=detect_leaks=0 exec %s "$@"\n' \
    "$preload" "$PYTHON" >"$work/python3"
  chmod +x "$work/python3"
  PYTHON=$work/python3
fi
SOURCE_ROOT=${FLAGMASK_SOURCE_ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}
need_pygst() {
  "$PYTHON" -c 'import gi; gi.require_version("Gst", "1.0"); from gi.repository import Gst' \
    2>/dev/null || skip "$PYTHON has no PyGObject with Gst (python3-gi, gir1.2-gstreamer-1.0)"
}

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

# The Python example's output in $work/stdout: one line per frame of the fixture, each the flag
# tracked with a sane area, box and confidence, times rising; then the summary.
check_message_lines() {
  local n
  n=$(grep -c '^time=' "$work/stdout" || true)
  [[ $n -eq $FRAMES ]] || fail "$1: $n message lines, expected $FRAMES: $(cat "$work/stdout")"
  # The cloth covers 0.160 of the frame (0.13 on the first frame found by a model alone); its box
  # is about 160x70 at x 70, y 20.
  awk -v label="$1" '
    /^time=/ {
      split($1, t, "[=:]"); now = t[2] * 3600 + t[3] * 60 + t[4]
      split($3, a, "="); split($4, b, "[=,]"); split($5, c, "=")
      if ($2 != "state=tracking" || a[2] < 0.10 || a[2] > 0.20 || b[2] < 55 || b[2] > 85 ||
          b[4] < 140 || b[4] > 180 || b[5] < 50 || b[5] > 90 || c[2] < 0 || c[2] > 1 ||
          (NR > 1 && now <= last)) { print label ": insane line: " $0; bad = 1 }
      last = now
    }
    END { exit bad }' "$work/stdout" || fail "$1: a message line out of range"
  grep -qE "^frames=$FRAMES tracking=$FRAMES lost=0 mean_area=0\.1[4-7]" "$work/stdout" ||
    fail "$1: summary $(tail -1 "$work/stdout")"
  echo "$1: $n lines, $(tail -1 "$work/stdout")"
}

# "key=value ..." line of the example's summary -> value of key
summary_value() { sed -n "s/.*\b$1=\([0-9.x]*\).*/\1/p" "$work/stdout"; }

case $case_name in
demo-cutout)
  # scripts/demo.sh's cut-out (demo.sh itself installs and builds first) on each kind of input:
  # a video file with a sound track and a mask, the same with a box, JPEG frames, the default
  # generated flag. Each WebM holds every frame; a bad argument is refused before anything runs.
  need_gst
  make_fixture
  gst-launch-1.0 -q -e multifilesrc location="$flag/%05d.jpg" index=0 stop-index=$((FRAMES - 1)) \
    caps=image/jpeg,framerate=24/1 ! jpegdec ! videoconvert ! vp8enc deadline=1 ! queue \
    ! webmmux name=mux ! filesink location="$work/clip.webm" \
    audiotestsrc num-buffers=25 ! audioconvert ! vorbisenc ! queue ! mux.
  cutout() { OUT_DIR=$work/out BUILD_DIR=$BUILD_ROOT bash "$SOURCE_ROOT/scripts/cutout.sh" "$@"; }
  frames_of() { # WebM -> its number of video frames
    rm -rf "$work/decoded" && mkdir "$work/decoded"
    gst-launch-1.0 -q filesrc location="$1" ! decodebin ! videoconvert ! pngenc \
      ! multifilesink location="$work/decoded/%05d.png"
    find "$work/decoded" -name '*.png' | wc -l
  }
  expect_frames() { # WebM, frames
    local n
    n=$(frames_of "$1")
    echo "$(basename "$1"): $n frames"
    [[ $n -eq $2 ]] || fail "$1 has $n frames, expected $2"
  }
  cutout "$work/clip.webm" "$truth/00000.png" >/dev/null 2>&1 || fail "a WebM with sound and a mask"
  expect_frames "$work/out/clip-cutout.webm" $FRAMES
  rm "$work/out/clip-cutout.webm"
  cutout "$work/clip.webm" $BOX >/dev/null 2>&1 || fail "a WebM with sound and a box"
  expect_frames "$work/out/clip-cutout.webm" $FRAMES
  cutout "$flag" "$truth/00000.png" >/dev/null 2>&1 || fail "a folder of JPEG frames"
  expect_frames "$work/out/flag-cutout.webm" $FRAMES
  rm "$work/out/flag-cutout.webm"
  cutout >/dev/null 2>&1 || fail "the default generated flag"
  expect_frames "$work/out/flag-cutout.webm" 120
  expect_status 1 bash "$SOURCE_ROOT/scripts/cutout.sh" "$work/clip.webm" 1,2,3
  expect_stderr "neither a mask image nor a box"
  expect_status 2 bash "$SOURCE_ROOT/scripts/cutout.sh" "$work/clip.webm"
  ;;
seed-tool)
  # flagmask-seed without a window: the frame at --time of a video whose camera pans (the hard
  # scene: 1.5 pixels a frame), an image, and what it refuses.
  need_gst
  "$FLAGMASK_SYNTH" -o "$work/hard" --hard --frames 30 --width 320 --height 180 >/dev/null
  hard=$work/hard/JPEGImages/480p/flag hard_truth=$work/hard/Annotations/480p/flag
  gst-launch-1.0 -q multifilesrc location="$hard/%05d.jpg" index=0 stop-index=29 \
    caps=image/jpeg,framerate=24/1 ! jpegdec ! jpegenc ! avimux ! filesink location="$work/hard.avi"
  wide_box=20,8,250,110 # around the flag on frames 0 and 24
  expect_status 0 "$FLAGMASK_SEED" --video "$work/hard.avi" --time 1 --box $wide_box \
    -o "$work/at1s.png"
  expect_stderr "seed-mask=$work/at1s.png seed-time=1000000000"
  expect_stderr "key-masks=1:$work/at1s.png"
  iou_of() { # mask, truth frame
    rm -rf "$work/a" "$work/b" && mkdir "$work/a" "$work/b"
    cp "$1" "$work/a/00000.png" && cp "$hard_truth/$2.png" "$work/b/00000.png"
    "$FLAGMASK_COMPARE" "$work/b" "$work/a" | sed -n 's/.*mean_iou=\([0-9.]*\).*/\1/p'
  }
  at24=$(iou_of "$work/at1s.png" 00024) at0=$(iou_of "$work/at1s.png" 00000)
  echo "the mask at 1 s against frame 24's truth: IoU $at24; against frame 0's: $at0"
  at_least "$at24" $BOX_MASK_FLOOR "mask of the frame at 1 s vs frame 24's truth"
  awk -v a="$at24" -v b="$at0" 'BEGIN { exit !(a > b + 0.05) }' ||
    fail "the mask fits frame 0 about as well as frame 24: the frame at 1 s was not taken"
  # An image: the same mask flagmask-train --box --write-mask makes.
  expect_status 0 "$FLAGMASK_SEED" --frame "$hard/00005.jpg" --box $wide_box -o "$work/seed.png"
  expect_status 0 "$FLAGMASK_TRAIN" --frame "$hard/00005.jpg" --box $wide_box \
    --write-mask "$work/train.png"
  cmp -s "$work/seed.png" "$work/train.png" || fail "flagmask-seed and flagmask-train differ"
  echo "an image's mask: the same file as flagmask-train's"
  expect_status 1 env -u DISPLAY -u WAYLAND_DISPLAY "$FLAGMASK_SEED" --frame "$hard/00005.jpg" \
    -o "$work/none.png"
  expect_stderr "no display"
  expect_stderr "--box"
  [[ ! -e $work/none.png ]] || fail "a mask was written without a box"
  expect_status 1 "$FLAGMASK_SEED" --video "$work/hard.avi" --time 60 --box $wide_box \
    -o "$work/late.png"
  expect_stderr "has no frame at 60 s"
  expect_status 2 "$FLAGMASK_SEED" --frame "$hard/00005.jpg" --time 1 -o "$work/x.png"
  expect_status 2 "$FLAGMASK_SEED" --frame "$hard/00005.jpg" --box 1,2,3 -o "$work/x.png"
  expect_status 2 "$FLAGMASK_SEED" --frame "$hard/00005.jpg"
  echo "refused: no display without --box, a time past the end, bad command lines"
  ;;
train-box)
  need_gst
  make_fixture
  expect_status 0 "$FLAGMASK_TRAIN" --frame "$flag/00000.jpg" --box $BOX \
    --write-mask "$work/box.png" -o "$work/model.yml"
  [[ -s $work/box.png && -s $work/model.yml ]] || fail "no mask or model written"
  at_least "$(mask_iou "$work/box.png")" $BOX_MASK_FLOOR "mask from the box vs truth, IoU"
  # The cloth fills about three quarters of this box: the user is asked to check the mask.
  expect_stderr "warning: $flag/00000.jpg: the cut-out covers"
  # A box on the frame's top edge is said to be one.
  expect_status 0 "$FLAGMASK_TRAIN" --frame "$flag/00000.jpg" --box 62,0,176,98 \
    --write-mask "$work/top.png"
  expect_stderr "touches the frame's top edge"
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
  expect_status 1 "$FLAGMASK_TRAIN" --frame "$frame" --mask "$truth/00000.png" \
    --network "$work/none.onnx" -o "$work/m.yml"
  expect_stderr "cannot open the network '$work/none.onnx'"
  [[ ! -e $work/m.yml ]] || fail "a model was written despite the errors"
  expect_status 0 "$FLAGMASK_TRAIN" --help
  grep -qF -- "--box x,y,w,h" "$work/stdout" || fail "--help does not describe --box"
  # A model naming a network: written as an absolute path, whatever directory it was given from.
  if [[ -n ${FLAGMASK_NETWORK:-} ]]; then
    cp "$FLAGMASK_NETWORK" "$work/mine.onnx"
    (cd "$work" && expect_status 0 "$FLAGMASK_TRAIN" --frame "$frame" --mask "$truth/00000.png" \
      --network mine.onnx -o "$work/n.yml")
    grep -qF "network: \"$work/mine.onnx\"" "$work/n.yml" || fail "the model does not name the network"
  fi
  echo "usage and failure exits as expected"
  ;;
synth-scenes)
  # The harder scene over a photo, with its knobs changed: a flag over the photo, and the same
  # frame without the knobs differs.
  make_fixture
  expect_status 0 "$FLAGMASK_SYNTH" --dusk --background "$flag/00000.jpg" --pan -1 --zoom 0 \
    --exposure-drift -0.4 --white-balance-drift 0.2 --frames 3 --width 160 --height 90 \
    -o "$work/knobs" --seq over
  ls "$work/knobs/JPEGImages/480p/over/00002.jpg" "$work/knobs/Annotations/480p/over/00002.png" \
    >/dev/null || fail "the scene over a photo was not written"
  expect_status 0 "$FLAGMASK_SYNTH" --dusk --frames 3 --width 160 --height 90 -o "$work/plain" \
    --seq over
  cmp -s "$work/knobs/JPEGImages/480p/over/00002.jpg" "$work/plain/JPEGImages/480p/over/00002.jpg" &&
    fail "--background and the knobs changed nothing"
  expect_status 2 "$FLAGMASK_SYNTH" --background "$flag/00000.jpg" -o "$work/m"
  expect_stderr "give --hard, --dusk or --lookalike"
  expect_status 2 "$FLAGMASK_SYNTH" --dusk --exposure-drift -1 -o "$work/m"
  expect_stderr "--exposure-drift must be above -1"
  expect_status 1 "$FLAGMASK_SYNTH" --hard --background "$work/none.jpg" -o "$work/m"
  expect_stderr "$work/none.jpg"
  echo "scenes and usage exits as expected"
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
  [[ $(summary_value frames) == "$FRAMES" && $(summary_value size) == 320x180 ]] || fail "wrong summary"
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
embed-progress)
  [[ -n ${FLAGMASK_EMBED:-} ]] || skip "the example was not built"
  # Not a terminal (stderr to a file): plain lines, as often as --progress-every asks.
  expect_status 0 "$FLAGMASK_EMBED" --frames 90 --progress-every 0.1
  cat "$work/stderr"
  lines=$(grep -cE '^flagmask-embed: [0-9]+% \(frame [0-9]+, [0-9.]+ s of 3\.0 s\)$' "$work/stderr" || true)
  [[ $lines -ge 1 ]] || fail "no plain progress line on stderr"
  ! grep -q $'\r' "$work/stderr" || fail "a carriage return in the plain progress"
  [[ $(summary_value frames) == 90 ]] || fail "the summary changed with progress on"
  expect_status 0 "$FLAGMASK_EMBED" --frames 90 --progress-every 0.1 --quiet
  [[ ! -s $work/stderr ]] || fail "--quiet still wrote: $(cat "$work/stderr")"
  expect_status 2 "$FLAGMASK_EMBED" --progress-every 0
  expect_stderr "--progress-every needs a positive number of seconds"
  # A terminal (script(1) gives the program a pseudo-terminal): a bar redrawn in place, taken off
  # the line before the summary.
  have_pty || skip "no script(1) or no pseudo-terminal to run the example on"
  printf -v command '%q --frames 90' "$FLAGMASK_EMBED"
  script -qec "$command" /dev/null >"$work/tty" </dev/null ||
    fail "the example failed on a terminal: $(cat "$work/tty")"
  grep -qE $'\r\\[#*-*\\] +[0-9]+%  frame [0-9]+' "$work/tty" || fail "no bar: $(cat -A "$work/tty")"
  grep -qF $'\r\e[Kframes=90 size=320x240' "$work/tty" ||
    fail "the bar was not cleared before the summary: $(cat -A "$work/tty")"
  echo "progress: $lines plain lines; a bar on a terminal"
  ;;
py-messages)
  need_gst
  need_pygst
  make_fixture
  seed=$truth/00000.png
  # From the AVI through decodebin, and from the JPEG frames through multifilesrc.
  expect_status 0 "$PYTHON" "$FLAGMASK_MESSAGES" --video "$video" --seed-mask "$seed" --quiet
  check_message_lines "--video with --seed-mask"
  expect_status 0 "$PYTHON" "$FLAGMASK_MESSAGES" --frames "$flag/%05d.jpg" --seed-mask "$seed" \
    --quiet
  check_message_lines "--frames with --seed-mask"
  # A model alone (trained on the first frame): the element finds the flag by it.
  "$FLAGMASK_TRAIN" --frame "$flag/00000.jpg" --mask "$seed" -o "$work/flag.yml" 2>/dev/null
  expect_status 0 "$PYTHON" "$FLAGMASK_MESSAGES" --video "$video" --model "$work/flag.yml" --quiet
  check_message_lines "--video with --model"
  if has_property seed-box; then
    expect_status 0 "$PYTHON" "$FLAGMASK_MESSAGES" --video "$video" --seed-box $BOX --quiet
    check_message_lines "--video with --seed-box"
  else
    echo "--seed-box: not run (this build of flagmask has no seed-box property)"
  fi
  # At 640x360 the frame is larger than the working size (480): the box is still in the frame's
  # pixels. Frame 0's box is the seed's: the cloth spans x 140..459, y 40..179.
  "$FLAGMASK_SYNTH" -o "$work/big" --frames 3 --width 640 --height 360 >/dev/null
  expect_status 0 "$PYTHON" "$FLAGMASK_MESSAGES" --frames "$work/big/JPEGImages/480p/flag/%05d.jpg" \
    --seed-mask "$work/big/Annotations/480p/flag/00000.png" --quiet
  head -1 "$work/stdout"
  grep -q '^time=0:00:00.000 state=tracking area=0.16[0-9]* box=140,40,320,140 ' "$work/stdout" ||
    fail "640x360: frame 0's box is not the seed's 140,40,320,140 (frame pixels)"
  ;;
py-errors)
  [[ -x $PYTHON ]] || skip "no $PYTHON"
  expect_status 0 "$PYTHON" "$FLAGMASK_MESSAGES" --help
  grep -qF -- "--seed-box X,Y,W,H" "$work/stdout" || fail "--help does not describe --seed-box"
  grep -qF -- "Exit status: 0 ok, 1 error" "$work/stdout" || fail "--help has no exit status"
  expect_status 2 "$PYTHON" "$FLAGMASK_MESSAGES" --seed-mask x.png
  expect_stderr "one of the arguments --video --frames is required"
  expect_status 2 "$PYTHON" "$FLAGMASK_MESSAGES" --video x.avi
  expect_stderr "give --seed-mask, --seed-box or --model"
  expect_status 2 "$PYTHON" "$FLAGMASK_MESSAGES" --video x.avi --seed-box 1,2,3
  expect_stderr "'1,2,3' is not x,y,w,h"
  expect_status 2 "$PYTHON" "$FLAGMASK_MESSAGES" --frames frames.jpg --model m.yml
  expect_stderr "is not a pattern with one %d"
  expect_status 2 "$PYTHON" "$FLAGMASK_MESSAGES" --video x.avi --model m.yml --progress-every 0
  need_gst
  need_pygst
  "$FLAGMASK_SYNTH" -o "$work/flag" --frames 1 --width 320 --height 180 >/dev/null
  # Pipeline errors: exit 1, the element named, GStreamer's debug text after it.
  expect_status 1 "$PYTHON" "$FLAGMASK_MESSAGES" --video "$work/missing.avi" \
    --seed-mask "$truth/00000.png"
  expect_stderr "flagmask_messages.py: error from file: Resource not found."
  expect_stderr "No such file \"$work/missing.avi\""
  expect_status 1 "$PYTHON" "$FLAGMASK_MESSAGES" --frames "$flag/%05d.jpg" \
    --seed-mask "$work/missing.png"
  expect_stderr "error from tracker: flagmask: could not read mask '$work/missing.png'"
  echo "not a video" >"$work/text.avi"
  expect_status 1 "$PYTHON" "$FLAGMASK_MESSAGES" --video "$work/text.avi" \
    --seed-mask "$truth/00000.png"
  expect_stderr "flagmask_messages.py: error from "
  GST_PLUGIN_PATH=$work GST_REGISTRY=$work/registry.bin expect_status 1 "$PYTHON" \
    "$FLAGMASK_MESSAGES" --video "$work/missing.avi" --model m.yml
  expect_stderr "no element 'flagmask': set GST_PLUGIN_PATH"
  echo "usage and failure exits as expected"
  ;;
py-progress)
  need_gst
  need_pygst
  "$FLAGMASK_SYNTH" -o "$work/flag" --frames 36 --width 320 --height 180 >/dev/null
  run=("$PYTHON" "$FLAGMASK_MESSAGES" --frames "$flag/%05d.jpg" --seed-mask "$truth/00000.png")
  # Not a terminal: plain lines on stderr, the frame count known from the files.
  expect_status 0 "${run[@]}" --progress-every 0.05
  cat "$work/stderr"
  lines=$(grep -cE '^flagmask_messages.py: [0-9]+% \(frame [0-9]+ of 36(, [0-9.]+ s)?\)$' \
    "$work/stderr" || true)
  [[ $lines -ge 1 ]] || fail "no plain progress line on stderr"
  ! grep -q $'\r' "$work/stderr" || fail "a carriage return in the plain progress"
  [[ $(grep -c '^time=' "$work/stdout") -eq 36 ]] || fail "progress changed the message lines"
  expect_status 0 "${run[@]}" --progress-every 0.05 --quiet
  [[ ! -s $work/stderr ]] || fail "--quiet still wrote: $(cat "$work/stderr")"
  # A terminal (script(1) gives the program a pseudo-terminal): the bar, taken off the line
  # before each message line and before the summary.
  have_pty || skip "no script(1) or no pseudo-terminal to run the script on"
  printf -v command '%q ' "${run[@]}"
  script -qec "$command" /dev/null >"$work/tty" </dev/null ||
    fail "the script failed on a terminal: $(cat "$work/tty")"
  grep -qE $'\r\\[#*-*\\] +[0-9]+%  frame [0-9]+ of 36' "$work/tty" ||
    fail "no bar: $(cat -A "$work/tty")"
  grep -qF $'\r\e[Kframes=36 tracking=' "$work/tty" ||
    fail "the bar was not cleared before the summary: $(cat -A "$work/tty")"
  [[ $(grep -c 'time=' "$work/tty") -eq 36 ]] || fail "message lines lost on a terminal"
  echo "progress: $lines plain lines; a bar on a terminal"
  ;;
doc-howto)
  # docs/howto.md's commands on a shorter clip of the same size (12 frames at 640x360), with
  # fakesink for autovideosink; and the pictures it and the README show.
  need_gst
  for page in "$SOURCE_ROOT/docs/howto.md" "$SOURCE_ROOT/README.md"; do
    mapfile -t pictures < <(grep -o 'images/[a-z_-]*\.png' "$page" | sort -u)
    [[ ${#pictures[@]} -gt 0 ]] || fail "$page shows no picture"
    for picture in "${pictures[@]}"; do
      file=$SOURCE_ROOT/docs/$picture
      [[ -s $file ]] || fail "$page shows $picture, which does not exist"
      size=$(stat -c %s "$file")
      [[ $size -lt 200000 ]] || fail "$picture is $size bytes (keep pictures under 200 KB)"
      echo "$picture: $((size / 1024)) KB"
    done
  done
  "$FLAGMASK_SYNTH" -o "$work/out/synthetic" --frames $FRAMES --width 640 --height 360 >/dev/null
  frames=$work/out/synthetic/JPEGImages/480p/flag
  truth=$work/out/synthetic/Annotations/480p/flag
  cd "$work"
  echo "the seed from a box"
  "$FLAGMASK_TRAIN" --frame "$frames/00000.jpg" --box 124,24,352,172 --write-mask seed.png
  at_least "$(mask_iou seed.png)" $BOX_MASK_FLOOR "mask from the how-to's box vs truth, IoU"
  jpegs=(multifilesrc location="$frames/%05d.jpg" index=0 "caps=image/jpeg,framerate=24/1")
  echo "cutout"
  gst-launch-1.0 -q "${jpegs[@]}" ! jpegdec ! videoconvert ! flagmask seed-mask=seed.png \
    ! videoconvert ! vp8enc deadline=1 ! webmmux ! filesink location=flag-cutout.webm
  [[ -s flag-cutout.webm ]] || fail "no flag-cutout.webm"
  echo "mask"
  mkdir -p masks
  gst-launch-1.0 -q "${jpegs[@]}" ! jpegdec ! videoconvert ! flagmask seed-mask=seed.png mode=mask \
    ! videoconvert ! video/x-raw,format=GRAY8 ! pngenc ! multifilesink location=masks/%05d.png
  at_least "$("$FLAGMASK_COMPARE" "$truth" masks | sed -n 's/.*mean_iou=\([0-9.]*\).*/\1/p')" \
    $TRACK_FLOOR "the how-to's masks vs truth, mean IoU"
  echo "overlay (fakesink for autovideosink)"
  gst-launch-1.0 -q "${jpegs[@]}" ! jpegdec ! videoconvert ! flagmask seed-mask=seed.png \
    mode=overlay ! videoconvert ! fakesink
  echo "alpha over the checkerboard (fakesink for autovideosink)"
  gst-launch-1.0 -q "${jpegs[@]}" ! jpegdec ! videoconvert ! video/x-raw,format=BGRA \
    ! flagmask seed-mask=seed.png mode=alpha ! compositor ! videoconvert ! fakesink
  echo "alpha over another video"
  gst-launch-1.0 -q compositor name=mix ! videoconvert ! vp8enc deadline=1 ! webmmux \
    ! filesink location=composite.webm \
    videotestsrc pattern=smpte num-buffers=$FRAMES ! video/x-raw,width=640,height=360 ! mix.sink_0 \
    "${jpegs[@]}" ! jpegdec ! videoconvert ! video/x-raw,format=BGRA \
    ! flagmask seed-mask=seed.png mode=alpha ! mix.sink_1
  [[ -s composite.webm ]] || fail "no composite.webm"
  if has_property seed-box; then
    echo "the element's seed-box"
    rm -rf masks && mkdir masks
    gst-launch-1.0 -q "${jpegs[@]}" ! jpegdec ! videoconvert \
      ! flagmask seed-box=124,24,352,172 mode=mask ! videoconvert ! video/x-raw,format=GRAY8 \
      ! pngenc ! multifilesink location=masks/%05d.png
    at_least "$("$FLAGMASK_COMPARE" "$truth" masks | sed -n 's/.*mean_iou=\([0-9.]*\).*/\1/p')" \
      $TRACK_FLOOR "seed-box=124,24,352,172, mean IoU"
  fi
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
  echo "a model from several frames (frames 0, 5 and 10 of the fixture for f000, f040, f080)"
  "$FLAGMASK_TRAIN" --frame "$flag/00000.jpg" --mask "$truth/00000.png" \
    --frame "$flag/00005.jpg" --mask "$truth/00005.png" \
    --frame "$flag/00010.jpg" --mask "$truth/00010.png" -o "$work/several.yml"
  grep -q '^frames: 3$' "$work/several.yml" || fail "several.yml does not record its 3 frames"
  gst-launch-1.0 -q filesrc location="$video" ! decodebin ! videoconvert \
    ! flagmask model="$work/several.yml" seed-mask="$seed" ! videoconvert ! fakesink
  echo "background: blurred, and a picture (element.md; fakesink for autovideosink)"
  gst-launch-1.0 -q filesrc location="$video" ! decodebin ! videoconvert \
    ! flagmask seed-mask="$seed" background-blur=24 ! videoconvert ! fakesink
  gst-launch-1.0 -q videotestsrc pattern=colors num-buffers=1 ! videoconvert ! pngenc \
    ! filesink location="$work/beach.png"
  gst-launch-1.0 -q filesrc location="$video" ! decodebin ! videoconvert \
    ! flagmask seed-mask="$seed" background-image="$work/beach.png" ! videoconvert ! fakesink
  echo "key masks by frame number and by time (element.md; frame 0's mask given as frame 6's)"
  mkdir -p "$work/fixes" "$work/keyed"
  cp "$truth/00000.png" "$work/fixes/00006.png"
  for keys in "$work/fixes" "0.25:$work/fixes/00006.png"; do # frame 6 of 24 fps
    rm -f "$work/keyed"/*.png
    gst-launch-1.0 -q filesrc location="$video" ! decodebin ! videoconvert \
      ! flagmask seed-mask="$seed" key-masks="$keys" mode=mask ! videoconvert \
      ! video/x-raw,format=GRAY8 ! pngenc ! multifilesink location="$work/keyed/%05d.png"
    [[ $("$FLAGMASK_COMPARE" "$work/fixes" "$work/keyed") == *"mean_iou=1.000"* ]] ||
      fail "key-masks=$keys: frame 6 is not the key mask"
    [[ $("$FLAGMASK_COMPARE" "$truth" "$work/keyed") != *"min_iou=1.000"* ]] ||
      fail "key-masks=$keys: every frame matches the truth exactly: the check cannot tell"
  done
  echo "playing a file with playbin's video-filter (mask mode and PNG files for the video sink)"
  rm -rf "$work/masks" && mkdir "$work/masks"
  gst-launch-1.0 -q playbin uri="file://$video" \
    video-filter="videoconvert ! flagmask seed-mask=$seed mode=mask ! videoconvert" \
    video-sink="videoconvert ! video/x-raw,format=GRAY8 ! pngenc compression-level=1 \
      ! multifilesink location=$work/masks/%05d.png"
  iou=$("$FLAGMASK_COMPARE" "$truth" "$work/masks" | sed -n 's/.*mean_iou=\([0-9.]*\).*/\1/p')
  at_least "$iou" $TRACK_FLOOR "playbin video-filter, mean IoU over the clip"
  echo "live camera with a saved model (videotestsrc is-live=true for v4l2src, fakesink for autovideosink)"
  gst-launch-1.0 -q videotestsrc is-live=true num-buffers=15 \
    ! video/x-raw,width=640,height=480,framerate=30/1 ! queue max-size-buffers=2 leaky=downstream \
    ! videoconvert ! flagmask model="$work/flag.yml" mode=overlay working-size=320 \
    ! videoconvert ! fakesink
  if has_property model-out; then
    echo "seed once on a recording (the AVI), then the camera on the model it wrote"
    gst-launch-1.0 -q filesrc location="$video" ! decodebin ! videoconvert \
      ! flagmask seed-mask="$seed" model-out="$work/learned.yml" ! fakesink
    [[ -s $work/learned.yml ]] || fail "model-out wrote no model at EOS"
    gst-launch-1.0 -q videotestsrc is-live=true num-buffers=15 \
      ! video/x-raw,width=640,height=480,framerate=30/1 ! queue max-size-buffers=2 leaky=downstream \
      ! videoconvert ! flagmask model="$work/learned.yml" mode=overlay working-size=320 \
      ! videoconvert ! fakesink
  else
    echo "seed once, then the camera: not run (this build of flagmask has no model-out property)"
  fi
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
    # The receiver as written up to the depayloader; filesink for decodebin (no H.264 decoder
    # without gstreamer1.0-libav).
    echo "RTP out, H.264, received on localhost up to rtph264depay"
    gst-launch-1.0 -q udpsrc port=$port \
      caps="application/x-rtp,media=video,encoding-name=H264,payload=96,clock-rate=90000" \
      ! rtpjitterbuffer ! rtph264depay ! video/x-h264,stream-format=byte-stream \
      ! filesink buffer-mode=unbuffered location="$work/received.h264" &
    receiver=$!
    sleep 0.5
    gst-launch-1.0 -q filesrc location="$video" ! decodebin ! videoconvert \
      ! flagmask seed-mask="$seed" ! videoconvert ! x264enc tune=zerolatency speed-preset=ultrafast \
      ! rtph264pay config-interval=1 ! udpsink host=127.0.0.1 port=$port
    sleep 0.5
    kill "$receiver"
    wait "$receiver" 2>/dev/null || true
    receiver=
    # An H.264 byte stream starts with a start code (00 00 00 01).
    [[ -s $work/received.h264 && $(head -c 4 "$work/received.h264" | od -An -tx1 | tr -d ' ') == 00000001 ]] ||
      fail "the H.264 receiver got no stream"
    echo "received $(stat -c %s "$work/received.h264") bytes of H.264"
  else
    echo "RTP out, H.264: not run (x264enc is in gstreamer1.0-plugins-ugly, not installed)"
  fi
  ;;
*)
  echo "unknown case '$case_name'" >&2
  exit 2
  ;;
esac
