#!/usr/bin/env bash
# Remakes the pictures of docs/troubleshooting.md and prints the figures the page quotes: scenes
# of what the element does badly (scripts/troubleshooting_scenes.py: a thin pole, dark on dark, a
# shadow that appears), each scored by flagmask-eval and drawn by scripts/failure_pictures.py
# (frames above; below, green object found, red background taken as object, blue object missed),
# then scored again with what the page advises. Needs a build and /usr/bin/python3 with OpenCV.
#
#   bash scripts/troubleshooting_pictures.sh      # BUILD_DIR=build, IMAGES_DIR=docs/images
set -euo pipefail
cd "$(dirname "$0")/.."
build=${BUILD_DIR:-build}
images=${IMAGES_DIR:-docs/images}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
network=${FLAGMASK_NETWORK:-$PWD/src/network/flagmask-refine.onnx}
eval_tool=$build/src/tools/flagmask-eval

/usr/bin/python3 scripts/troubleshooting_scenes.py -o "$work/scenes" >/dev/null
for scene in thin dark shadow; do
  /usr/bin/python3 scripts/failure_pictures.py --davis "$work/scenes" --seq "$scene" \
    --frames 4 --width 200 --network "$network" --eval "$eval_tool" -o "$work/$scene.png"
  /usr/bin/python3 -c 'import cv2, sys; cv2.imwrite(sys.argv[2], cv2.imread(sys.argv[1]),
    [cv2.IMWRITE_JPEG_QUALITY, 85])' "$work/$scene.png" "$images/trouble-$scene.jpg"
done
score() { "$eval_tool" --davis "$1" --network "$network" "${@:2}" 2>/dev/null | tail -n 1; }
echo "thin, working-size 640: $(score "$work/scenes" --seq thin --working-size 640)"
echo "dark, key mask at the middle: $(score "$work/scenes" --seq dark --key-at 0.5)"
echo "dark, threshold 0.6: $(score "$work/scenes" --seq dark --threshold 0.6)"
echo "shadow, key mask at the middle: $(score "$work/scenes" --seq shadow --key-at 0.5)"
echo "shadow there from the first frame: $(score "$work/scenes" --seq shadow-early)"
"$build/src/tools/flagmask-synth" -o "$work/lookalike" --lookalike --frames 90 --width 480 \
  --height 270 >/dev/null
echo "look-alike flag: $(score "$work/lookalike" --seq flag)"
echo "look-alike flag, key mask at the middle: $(score "$work/lookalike" --seq flag --key-at 0.5)"
echo "look-alike flag, key masks at a third and two thirds: $(score "$work/lookalike" --seq flag \
  --key-at 0.33 --key-at 0.66)"
