#!/usr/bin/env bash
# Quality guards, run by `meson test --suite quality`. Each case fails below a floor set a little
# under the figure measured when it was last raised (see docs/quality.md); exit 77 = skipped.
set -euo pipefail

case_name=${1:?usage: check_quality.sh synthetic-flag|synthetic-flag-hard|synthetic-flag-dusk|synthetic-flag-lookalike|davis-dev|davis-key-mask|davis-seek|davis-carry|davis-1080p|pipeline-matches-eval|crossval-synthetic|davis-crossval}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# Floors: measured 0.773 (dev J&F with the shipped network, which was trained on these
# sequences: a guard against regressions, not a figure for unseen video; 0.753 without it); the
# synthetic flag and the pipeline agreement are near 1 by construction of a working tracker.
DAVIS_FLOOR=0.765
# Ceilings on the same run: measured flicker 0.004 and J decay 0.109 (the target is under 0.15).
DAVIS_FLICKER_CEILING=0.006
DAVIS_DECAY_CEILING=0.15
FLAG_FLOOR=0.90
# The hard flag (camera motion, exposure drift, a passing trunk) written as JPEG: measured 0.982.
HARD_FLAG_FLOOR=0.96
# Its variants (flagmask-synth --dusk, --lookalike): the light failing to half and warming,
# measured 0.830; a background in the flag's own colours, measured 0.450. The target for both is
# 0.95: these floors only guard against losing ground.
DUSK_FLAG_FLOOR=0.82
LOOKALIKE_FLAG_FLOOR=0.43
AGREEMENT_FLOOR=0.97
# The cross-validated J&F over the 29 sequences of dev.txt and train.txt (scripts/crossval.py,
# 3 folds, the defaults, each fold with the network trained without it): measured 0.7770
# (dev 0.7687), lowest sequence bmx-bumps 0.439.
CROSSVAL_FLOOR=0.770
# One key mask at the middle frame of each dev sequence (flagmask-eval --key-at 0.5; that frame is
# left out of the scores): measured 0.793 J&F, against 0.773 without it.
KEY_MASK_FLOOR=0.785
# After a seek (flagmask-eval --seek 0.25,0.5 on the dev split: the first quarter of each sequence
# tracked, then a jump to the middle): mean J from 10 frames after the seek on, measured 0.693
# against 0.746 for the same frames without the seek.
SEEK_FLOOR=0.68
# Under load (keep-up): flagmask-eval --analyse-every 2 on the dev split, one frame in two analysed
# and the mask carried along the object's motion to the other: measured 0.737 J&F (0.773 with
# every frame analysed). Where every frame analysed gave 0.769, moving the mask by the object's
# centre velocity alone gave 0.731 and not moving it 0.711.
CARRY_FLOOR=0.73
# The element through gst-launch-1.0 on the dev split scaled to 1920x1080 (scripts/eval_pipeline.sh):
# measured 0.760 (the target: within 0.01 of the same pipelines at 854x480).
DAVIS_1080P_FLOOR=0.750

davis_root() {
  local d=${FLAGMASK_DAVIS:-${FLAGMASK_DAVIS_DEFAULT:-}}
  if [[ -n $d && -f $d/ImageSets/480p/dev.txt ]]; then echo "$d"; fi
}

# "mean J&F=0.605 J=... " -> 0.605
mean_jf() { sed -n 's/^mean J&F=\([0-9.]*\).*/\1/p' | tail -n 1; }

at_least() { # value floor label
  echo "$3: $1 (floor $2)"
  awk -v v="$1" -v f="$2" 'BEGIN { exit !(v != "" && v + 0 >= f + 0) }'
}

at_most() { # value ceiling label
  echo "$3: $1 (ceiling $2)"
  awk -v v="$1" -v c="$2" 'BEGIN { exit !(v != "" && v + 0 <= c + 0) }'
}

# "decay=0.139 flicker=0.005" (the line before the mean) -> the named figure
mean_figure() { grep '^decay=' | tail -n 1 | tr ' ' '\n' | sed -n "s/^$1=//p"; }

case $case_name in
synthetic-flag)
  "$FLAGMASK_SYNTH" -o "$work/flag" --frames 60 --width 480 --height 270
  out=$("$FLAGMASK_EVAL" --davis "$work/flag" --seq flag)
  echo "$out"
  at_least "$(echo "$out" | mean_jf)" "$FLAG_FLOOR" "synthetic flag J&F"
  ;;
synthetic-flag-hard)
  "$FLAGMASK_SYNTH" -o "$work/flag" --hard --frames 90 --width 480 --height 270
  out=$("$FLAGMASK_EVAL" --davis "$work/flag" --seq flag)
  echo "$out"
  at_least "$(echo "$out" | mean_jf)" "$HARD_FLAG_FLOOR" "hard synthetic flag J&F"
  ;;
synthetic-flag-dusk | synthetic-flag-lookalike)
  variant=${case_name#synthetic-flag-}
  floor=$([[ $variant == dusk ]] && echo "$DUSK_FLAG_FLOOR" || echo "$LOOKALIKE_FLAG_FLOOR")
  "$FLAGMASK_SYNTH" -o "$work/flag" "--$variant" --frames 90 --width 480 --height 270
  out=$("$FLAGMASK_EVAL" --davis "$work/flag" --seq flag)
  echo "$out"
  at_least "$(echo "$out" | mean_jf)" "$floor" "$variant synthetic flag J&F"
  ;;
davis-dev)
  root=$(davis_root)
  if [[ -z $root ]]; then echo "SKIP: no DAVIS data (set FLAGMASK_DAVIS)"; exit 77; fi
  out=$("$FLAGMASK_EVAL" --davis "$root" --imageset ImageSets/480p/dev.txt)
  echo "$out"
  status=0
  at_least "$(echo "$out" | mean_jf)" "$DAVIS_FLOOR" "DAVIS dev J&F" || status=1
  at_most "$(echo "$out" | mean_figure flicker)" "$DAVIS_FLICKER_CEILING" "DAVIS dev flicker" ||
    status=1
  at_most "$(echo "$out" | mean_figure decay)" "$DAVIS_DECAY_CEILING" "DAVIS dev J decay" || status=1
  exit $status
  ;;
davis-key-mask)
  root=$(davis_root)
  if [[ -z $root ]]; then echo "SKIP: no DAVIS data (set FLAGMASK_DAVIS)"; exit 77; fi
  out=$("$FLAGMASK_EVAL" --davis "$root" --imageset ImageSets/480p/dev.txt --key-at 0.5)
  echo "$out"
  at_least "$(echo "$out" | mean_jf)" "$KEY_MASK_FLOOR" "DAVIS dev J&F with a key mask at the middle"
  ;;
davis-seek)
  root=$(davis_root)
  if [[ -z $root ]]; then echo "SKIP: no DAVIS data (set FLAGMASK_DAVIS)"; exit 77; fi
  out=$("$FLAGMASK_EVAL" --davis "$root" --imageset ImageSets/480p/dev.txt --seek 0.25,0.5)
  echo "$out"
  at_least "$(echo "$out" | sed -n 's/^mean J after seek=\([0-9.]*\).*/\1/p')" "$SEEK_FLOOR" \
    "DAVIS dev J after a seek"
  ;;
davis-carry)
  root=$(davis_root)
  if [[ -z $root ]]; then echo "SKIP: no DAVIS data (set FLAGMASK_DAVIS)"; exit 77; fi
  out=$("$FLAGMASK_EVAL" --davis "$root" --imageset ImageSets/480p/dev.txt --analyse-every 2)
  echo "$out"
  at_least "$(echo "$out" | mean_jf)" "$CARRY_FLOOR" "DAVIS dev J&F, one frame in two analysed"
  ;;
davis-1080p)
  root=$(davis_root)
  if [[ -z $root ]]; then echo "SKIP: no DAVIS data (set FLAGMASK_DAVIS)"; exit 77; fi
  command -v gst-launch-1.0 >/dev/null || { echo "SKIP: no gst-launch-1.0"; exit 77; }
  out=$(BUILD_DIR=$FLAGMASK_BUILD_ROOT "$FLAGMASK_SOURCE_ROOT/scripts/eval_pipeline.sh" \
    --size 1920x1080 "$root")
  echo "$out"
  at_least "$(echo "$out" | mean_jf)" "$DAVIS_1080P_FLOOR" "DAVIS dev J&F through the element at 1080p"
  ;;
pipeline-matches-eval)
  command -v gst-launch-1.0 >/dev/null || { echo "SKIP: no gst-launch-1.0"; exit 77; }
  "$FLAGMASK_SYNTH" -o "$work/flag" --frames 40 --width 480 --height 270
  seq_dir=$work/flag/JPEGImages/480p/flag
  ann_dir=$work/flag/Annotations/480p/flag
  "$FLAGMASK_EVAL" --davis "$work/flag" --seq flag --out "$work/eval" >/dev/null
  mkdir -p "$work/gst"
  GST_PLUGIN_PATH=$FLAGMASK_PLUGIN_DIR gst-launch-1.0 -q \
    multifilesrc location="$seq_dir/%05d.jpg" index=0 stop-index=39 caps=image/jpeg,framerate=24/1 \
    ! jpegdec ! videoconvert ! flagmask seed-mask="$ann_dir/00000.png" mode=mask \
    ! videoconvert ! video/x-raw,format=GRAY8 ! pngenc compression-level=1 \
    ! multifilesink location="$work/gst/%05d.png"
  n=$(ls "$work/gst" | wc -l)
  [[ $n -eq 40 ]] || { echo "pipeline wrote $n of 40 masks"; exit 1; }
  agreement=$("$FLAGMASK_COMPARE" "$work/eval/flag" "$work/gst")
  echo "$agreement"
  at_least "$(echo "$agreement" | sed -n 's/.*mean_iou=\([0-9.]*\).*/\1/p')" "$AGREEMENT_FLOOR" \
    "pipeline vs evaluator mean IoU"
  ;;
crossval-synthetic)
  # Three generated sequences, two candidate settings: the tool runs, chooses per fold, and its
  # figure is the mean of the held-out rows it prints.
  for spec in "plain 320 180" "wide 480 270" "hard 480 270 --hard"; do
    read -r name width height hard <<<"$spec"
    "$FLAGMASK_SYNTH" -o "$work/$name" --frames 20 --width "$width" --height "$height" $hard
    for kind in JPEGImages Annotations; do
      mkdir -p "$work/data/$kind/480p"
      mv "$work/$name/$kind/480p/flag" "$work/data/$kind/480p/$name"
    done
  done
  out=$(/usr/bin/python3 "$FLAGMASK_SOURCE_ROOT/scripts/crossval.py" --davis "$work/data" \
    --seq plain --seq wide --seq hard --folds 3 --grid hysteresis=0.05,0.2 --eval "$FLAGMASK_EVAL" \
    --csv "$work/held-out.csv")
  echo "$out"
  figure=$(echo "$out" | sed -n 's/^cross-validated J&F=\([0-9.]*\) .*over 3 sequences in 3 folds.*/\1/p')
  [[ -n $figure ]] || { echo "no cross-validated figure"; exit 1; }
  rows=$(awk -F, 'NR > 1 { n++; s += $6 } END { printf "%.4f", s / n }' "$work/held-out.csv")
  [[ $rows == "$figure" ]] || { echo "held-out rows average $rows, the figure says $figure"; exit 1; }
  [[ $(echo "$out" | grep -c '^fold [0-2]: chose candidate [01] ') -eq 3 ]] || exit 1
  at_least "$figure" "$FLAG_FLOOR" "cross-validated J&F of the synthetic flags"
  ;;
davis-crossval)
  root=$(davis_root)
  if [[ -z $root || ! -f $root/ImageSets/480p/train.txt ]]; then
    echo "SKIP: no DAVIS data with train.txt (set FLAGMASK_DAVIS)"
    exit 77
  fi
  # Each fold's sequences are scored with the network trained without them, by the shipped
  # network's recipe (scripts/train_network.sh --folds).
  out=$(/usr/bin/python3 "$FLAGMASK_SOURCE_ROOT/scripts/crossval.py" --davis "$root" \
    --eval "$FLAGMASK_EVAL" \
    --per-fold "network=$FLAGMASK_SOURCE_ROOT/tests/quality/networks/fold{fold}.onnx")
  echo "$out" | tail -n 3
  at_least "$(echo "$out" | sed -n 's/^cross-validated J&F=\([0-9.]*\) .*/\1/p')" \
    "$CROSSVAL_FLOOR" "cross-validated J&F over the 29 sequences"
  ;;
*)
  echo "unknown case '$case_name'" >&2
  exit 2
  ;;
esac
