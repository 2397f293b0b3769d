#!/usr/bin/python3
"""Pictures of where the tracker goes right and wrong on a sequence with ground truth.

Runs flagmask-eval on one sequence of a DAVIS-layout folder, then writes a strip of evenly
spaced frames: each frame above, and below it the same frame coloured by the outcome of every
pixel (green: object, found; red: background taken as object; blue: object missed).

  scripts/failure_pictures.py --davis ROOT --seq NAME -o OUT.png [--frames N] [--width W]
                              [--network FILE] [--eval PATH]

The DAVIS data may not be passed on (CC BY-NC): make its pictures for yourself with this script;
the pictures in docs/ come from flagmask-synth sequences. Needs python3-opencv.
"""

import argparse
import os
import subprocess
import sys
import tempfile

import cv2
import numpy as np

GREEN, RED, BLUE = (60, 200, 60), (40, 40, 230), (230, 120, 40)  # BGR


def parse_args(argv):
    p = argparse.ArgumentParser(description="Pictures of the tracker's successes and failures.")
    p.add_argument("--davis", required=True, help="DAVIS-layout folder")
    p.add_argument("--seq", required=True, help="the sequence")
    p.add_argument("-o", "--output", required=True, help="the PNG to write")
    p.add_argument("--frames", type=int, default=5, help="frames in the strip (default 5)")
    p.add_argument("--width", type=int, default=240, help="width of each frame (default 240)")
    p.add_argument("--network", help="refinement network for flagmask-eval (default its own)")
    here = os.path.dirname(os.path.abspath(__file__))
    p.add_argument("--eval", default=os.path.join(here, "..", "build", "src", "tools",
                                                  "flagmask-eval"),
                   help="the flagmask-eval program (default: the build's)")
    return p.parse_args(argv)


def run_eval(a, out_dir):
    cmd = [a.eval, "--davis", a.davis, "--seq", a.seq, "--out", out_dir]
    if a.network is not None:
        cmd += ["--network", a.network]
    result = subprocess.run(cmd, check=True, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                            text=True)
    return result.stdout.strip().splitlines()[-1]  # "mean J&F=..."


def outcome(image, truth, predicted):
    """The frame with each pixel tinted by its outcome (half the colour, half the frame)."""
    colours = np.zeros_like(image)
    colours[(predicted & truth)] = GREEN
    colours[(predicted & ~truth)] = RED
    colours[(~predicted & truth)] = BLUE
    tinted = cv2.addWeighted(image, 0.5, colours, 0.5, 0)
    return np.where((predicted | truth)[:, :, None], tinted, image // 2)


def labelled(image, text):
    out = image.copy()
    cv2.rectangle(out, (0, 0), (8 * len(text) + 8, 18), (0, 0, 0), -1)
    cv2.putText(out, text, (4, 13), cv2.FONT_HERSHEY_SIMPLEX, 0.42, (255, 255, 255), 1,
                cv2.LINE_AA)
    return out


def strip(a, masks):
    frames_dir = os.path.join(a.davis, "JPEGImages", "480p", a.seq)
    truth_dir = os.path.join(a.davis, "Annotations", "480p", a.seq)
    names = sorted(f[:-4] for f in os.listdir(frames_dir) if f.endswith(".jpg"))
    count = min(a.frames, len(names))
    picks = [round(i * (len(names) - 1) / max(count - 1, 1)) for i in range(count)]
    columns = []
    for i in picks:
        image = cv2.imread(os.path.join(frames_dir, names[i] + ".jpg"), cv2.IMREAD_COLOR)
        truth = cv2.imread(os.path.join(truth_dir, names[i] + ".png"), cv2.IMREAD_GRAYSCALE)
        mask = cv2.imread(os.path.join(masks, a.seq, names[i] + ".png"), cv2.IMREAD_GRAYSCALE)
        if image is None or truth is None or mask is None:
            sys.exit(f"failure_pictures.py: frame {names[i]} of {a.seq} is missing")
        size = (image.shape[1], image.shape[0])
        truth = cv2.resize(truth, size, interpolation=cv2.INTER_NEAREST) > 127
        mask = cv2.resize(mask, size, interpolation=cv2.INTER_NEAREST) > 127
        height = round(a.width * size[1] / size[0])
        small = lambda img: cv2.resize(img, (a.width, height), interpolation=cv2.INTER_AREA)
        top = labelled(small(image), f"frame {i}")
        columns.append(np.vstack([top, small(outcome(image, truth, mask))]))
    return np.hstack(columns)


def main(argv):
    a = parse_args(argv)
    with tempfile.TemporaryDirectory() as masks:
        score = run_eval(a, masks)
        cv2.imwrite(a.output, strip(a, masks))
    print(f"{a.seq}: {score}; wrote {a.output}")


if __name__ == "__main__":
    main(sys.argv[1:])
