#!/usr/bin/env bash
# Runs the element as users do, through gst-launch-1.0, on each DAVIS dev sequence with the frames
# scaled to a given size and format, then scores its masks against the 480p ground truth with
# `flagmask-eval --score` (each mask scaled to the truth's size). This is how the 1080p accuracy
# in docs/performance.md is measured.
#
#   scripts/eval_pipeline.sh [--size WxH] [--format FMT] [--extra 'prop=value ...']
#                            [--seq NAME] [--keep DIR] [--csv FILE] [--key-at F] [DAVIS_ROOT]
#
# Defaults: --size 1920x1080, --format I420, every dev sequence, DAVIS_ROOT ../shared/data/DAVIS
# or $FLAGMASK_DAVIS. --seq (repeatable) runs only those sequences; --keep writes the masks to
# DIR/SEQ/%05d.png and keeps them; --csv writes the per-sequence scores there too. --key-at F
# gives the element the true mask of the frame at fraction F of each sequence as a key mask
# (key-masks, a folder named by frame number), and leaves that frame out of the scores.
set -euo pipefail
cd "$(dirname "$0")/.."
build=${BUILD_DIR:-build}
size=1920x1080 format=I420 extra='' keep='' csv='' key_at='' seqs=()
while [[ $# -gt 0 ]]; do
  case $1 in
  --size) size=$2; shift 2 ;;
  --format) format=$2; shift 2 ;;
  --extra) extra=$2; shift 2 ;;
  --seq) seqs+=("$2"); shift 2 ;;
  --keep) keep=$2; shift 2 ;;
  --csv) csv=$2; shift 2 ;;
  --key-at) key_at=$2; shift 2 ;;
  -h | --help) sed -n '2,15p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
  -*) echo "eval_pipeline: unknown option $1" >&2; exit 2 ;;
  *) break ;;
  esac
done
davis=${1:-${FLAGMASK_DAVIS:-../shared/data/DAVIS}}
[[ $size =~ ^([0-9]+)x([0-9]+)$ ]] || { echo "eval_pipeline: --size must be WxH" >&2; exit 2; }
width=${BASH_REMATCH[1]} height=${BASH_REMATCH[2]}
set_file=$davis/ImageSets/480p/dev.txt
[[ -f $set_file ]] || { echo "eval_pipeline: no DAVIS image set at $set_file" >&2; exit 1; }
scratch=() # removed at exit
trap 'rm -rf "${scratch[@]}"' EXIT
if [[ -n $keep ]]; then
  out=$keep
  mkdir -p "$out"
else
  out=$(mktemp -d)
  scratch+=("$out")
fi
score_args=()
for seq in "${seqs[@]}"; do score_args+=(--seq "$seq"); done
keys=''
if [[ -n $key_at ]]; then
  keys=$(mktemp -d)
  scratch+=("$keys")
  score_args+=(--key-at "$key_at")
fi
[[ ${#seqs[@]} -gt 0 ]] || mapfile -t seqs < <(awk '{print $1}' "$set_file" | awk -F/ '{print $(NF-1)}' | awk '!seen[$0]++')
export GST_PLUGIN_PATH=$build/gst
# The element finds the refinement network in the tree until it is installed.
export FLAGMASK_NETWORK=${FLAGMASK_NETWORK-$(cd "$(dirname "$0")/.." && pwd)/src/network/flagmask-refine.onnx}

start=$(date +%s.%N)
frames_total=0
for seq in "${seqs[@]}"; do
  frames=$(find "$davis/JPEGImages/480p/$seq" -name '*.jpg' | wc -l)
  frames_total=$((frames_total + frames))
  mkdir -p "$out/$seq"
  key_prop=''
  if [[ -n $keys ]]; then # the frame flagmask-eval --key-at leaves out: F * frames, not an end
    key=$(awk -v f="$key_at" -v n="$frames" 'BEGIN { k = int(f * n); if (k < 1) k = 1; if (k > n - 2) k = n - 2; printf "%05d", k }')
    mkdir -p "$keys/$seq"
    cp "$davis/Annotations/480p/$seq/$key.png" "$keys/$seq/"
    key_prop="key-masks=$keys/$seq"
  fi
  # shellcheck disable=SC2086 # extra holds several properties
  gst-launch-1.0 -q multifilesrc location="$davis/JPEGImages/480p/$seq/%05d.jpg" index=0 \
    stop-index=$((frames - 1)) caps=image/jpeg,framerate=24/1 ! jpegdec ! videoscale ! \
    video/x-raw,width="$width",height="$height" ! videoconvert ! video/x-raw,format="$format" ! \
    flagmask seed-mask="$davis/Annotations/480p/$seq/00000.png" mode=mask $key_prop $extra ! \
    videoconvert ! video/x-raw,format=GRAY8 ! pngenc compression-level=1 ! \
    multifilesink location="$out/$seq/%05d.png"
done
seconds=$(echo "$(date +%s.%N) $start" | awk '{print $1 - $2}')
echo "pipelines at ${width}x${height} $format: $frames_total frames in ${seconds}s (decode, scale, flagmask, PNG encode)"
"$build/src/tools/flagmask-eval" --davis "$davis" --score "$out" "${score_args[@]}" ${csv:+--csv "$csv"} 2>/dev/null
