#!/usr/bin/python3
"""Synthetic scenes of what the element does badly, for docs/troubleshooting.md.

Writes DAVIS-layout sequences (ROOT/JPEGImages/480p/NAME/%05d.jpg and ROOT/Annotations/480p/NAME/
%05d.png, the object's exact mask) that flagmask-eval and scripts/failure_pictures.py read:

  thin    a striped flag on a pole 3 pixels wide; the pole is part of the object
  dark    a dark grey flag over a dark background
  shadow  a dark blue flag over a pale ground; from frame 15 on the sun comes out and a soft
          shadow beside the flag moves with it (the shadow is not part of the object)
  shadow-early  the same with the shadow there from the first frame

  scripts/troubleshooting_scenes.py -o ROOT [--frames N] [--scene NAME ...]

Each is 640x360, the flag waving and moving right over a panning texture. Needs python3-opencv.
"""

import argparse
import os
import sys

import cv2
import numpy as np

W, H = 640, 360
SCENES = ["thin", "dark", "shadow", "shadow-early"]


def texture(seed, mean, spread, width, scale):
    """A smooth random texture with features about scale pixels wide, wider than the frame so
    that it can pan."""
    rng = np.random.default_rng(seed)
    noise = rng.normal(0, 1, (H // scale + 2, width // scale + 2, 3)).astype(np.float32)
    noise = cv2.resize(noise, (width, H), interpolation=cv2.INTER_CUBIC)
    noise = cv2.GaussianBlur(noise, (0, 0), scale / 3)
    noise /= max(noise.std(), 1e-6)
    return np.clip(np.array(mean, np.float32) + spread * noise, 0, 255)


def cloth_mask(t, left, top, width, height):
    """The waving flag's cloth: a rectangle whose top and bottom edges ripple."""
    mask = np.zeros((H, W), np.uint8)
    xs = np.arange(width)
    wave = 6 * np.sin(2 * np.pi * (xs / width * 1.5 - t / 12)) * (xs / width)
    for x, dy in zip(xs, wave):
        y0, y1 = int(top + dy), int(top + height + dy)
        if 0 <= left + x < W:
            mask[max(y0, 0):max(min(y1, H), 0), left + x] = 255
    return mask


def stripes(colour_a, colour_b, t):
    """The cloth's pattern: horizontal stripes, shaded along the ripple."""
    img = np.zeros((H, W, 3), np.float32)
    rows = (np.arange(H) // 14) % 2
    img[rows == 0] = colour_a
    img[rows == 1] = colour_b
    shade = 1 + 0.12 * np.sin(2 * np.pi * (np.arange(W) / 90 - t / 12))
    return img * shade[None, :, None]


def frame(scene, t, background):
    x = 120 + 2 * t
    bg = background[:, t:t + W].copy()
    cloth = cloth_mask(t, x, 70, 200, 110)
    if scene == "thin":
        colours, pole = ((40, 40, 200), (230, 230, 230)), True
    elif scene == "dark":
        colours, pole = ((40, 37, 35), (46, 43, 40)), False
    else:
        colours, pole = ((90, 55, 45), (80, 48, 40)), False
    if scene.startswith("shadow"):  # the sun comes out: a shadow at the flag's lower right
        shadow = cv2.GaussianBlur(np.roll(np.roll(cloth, 25, axis=0), 30, axis=1), (0, 0), 4)
        comes_out = 0 if scene == "shadow-early" else 15
        strength = 0.6 * min(max((t - comes_out) / 10, 0), 1) if comes_out else 0.6
        bg *= (1 - strength * shadow[:, :, None] / 255.0)
    obj = cloth.copy()
    img = np.where(cloth[:, :, None] > 0, stripes(*colours, t), bg)
    if pole:
        pole_mask = np.zeros((H, W), np.uint8)
        pole_mask[60:340, x - 3:x] = 255
        img[pole_mask > 0] = (70, 70, 70)
        obj |= pole_mask
    if scene == "dark":  # a camera's noise in low light, over everything
        img = img + np.random.default_rng(t).normal(0, 5, img.shape)
    return np.clip(img, 0, 255).astype(np.uint8), obj


def write(root, scene, frames):
    images = os.path.join(root, "JPEGImages", "480p", scene)
    masks = os.path.join(root, "Annotations", "480p", scene)
    os.makedirs(images, exist_ok=True)
    os.makedirs(masks, exist_ok=True)
    looks = {"thin": ((110, 140, 120), 28, 24), "dark": ((40, 38, 36), 8, 60),
             "shadow": ((150, 115, 100), 10, 40)}
    mean, spread, scale = looks[scene.split("-")[0]]
    background = texture(len(scene), mean, spread, W + frames + 8, scale)
    for t in range(frames):
        img, obj = frame(scene, t, background)
        cv2.imwrite(os.path.join(images, f"{t:05d}.jpg"), img, [cv2.IMWRITE_JPEG_QUALITY, 92])
        cv2.imwrite(os.path.join(masks, f"{t:05d}.png"), obj)


def main(argv):
    p = argparse.ArgumentParser(description="Synthetic scenes of the element's failures.")
    p.add_argument("-o", "--output", required=True, help="DAVIS-layout folder to write")
    p.add_argument("--frames", type=int, default=60, help="frames per scene (default 60)")
    p.add_argument("--scene", action="append", choices=SCENES,
                   help="a scene to write (repeatable; default all)")
    a = p.parse_args(argv)
    for scene in a.scene or SCENES:
        write(a.output, scene, a.frames)
        print(f"wrote {scene}: {a.frames} frames")


if __name__ == "__main__":
    main(sys.argv[1:])
