#!/usr/bin/python3
"""Trains flagmask's refinement network from the tracker's own cues, and writes it as ONNX.

The network (see src/network.h and docs/model-format.md) sees, around the tracked object and at
a quarter of the working resolution, the image and four planes from the tracker: the mask
carried along the flow, the colour model's probability, the motion evidence and their
naive-Bayes fusion. It answers a correction to the fusion's logit, which the tracker brings back
to the working size and adds. Its last layer starts at zero, so an untrained network changes
nothing.

It learns from folders written by flagmask-dump-cues (one per sequence: the working image, the
cues and the true mask of every frame after the first). The crops it trains on are cut around
the object and varied: mirrored, their light changed in exposure and white balance (the image
only: the colour model's answer does not follow, as it does not when the light changes in a real
clip), their colour-model plane weakened and their carried mask shifted.

The tracker's cues do not depend on the network (it corrects what a frame shows, not what the
tracker carries on with), so the frames it learns from are the frames it will meet.

  scripts/train_network.py --cues DIR -o FILE.onnx [--seq NAME ... | --fold I --folds K]
                           [--steps N] [--seed S] [--threads T] [--bound B]

(--steps defaults to 3000 and --bound to 4, the shipped network's recipe.)

--fold I --folds K trains on every sequence of DIR except those of fold I, dealt as
scripts/crossval.py deals them (sorted names, sequence i to fold i mod K). Fixed --seed: the same
data and options give the same network.
"""

import argparse
import math
import os
import random
import sys
import time

import cv2
import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

CHANNELS = 7  # B, G, R, carried, appearance, motion, fused (Network::kChannels)
REDUCTION = 4  # the network works at this fraction of the working size (Network::kReduction)
CROP = 160  # training crop side at working resolution (a multiple of 8 * REDUCTION)
# The largest correction to the fusion's logit. A bounded correction can settle what the fusion
# left uncertain but not overturn what it is sure of, which kept the network from undoing whole
# objects on sequences unlike the ones it learned from.
BOUND = 4.0


class Refiner(nn.Module):
    """A small U-Net: three strided encoder stages, a dilated bottleneck, a decoder with skips."""

    def __init__(self, widths=(8, 16, 24, 8), bound=BOUND):
        super().__init__()
        a, b, c, h = widths
        self.bound = bound
        self.e1 = nn.Sequential(nn.Conv2d(CHANNELS, a, 3, 2, 1), nn.ReLU())
        self.e2 = nn.Sequential(nn.Conv2d(a, b, 3, 2, 1), nn.ReLU())
        self.e3 = nn.Sequential(nn.Conv2d(b, c, 3, 2, 1), nn.ReLU(),
                                nn.Conv2d(c, c, 3, 1, 2, dilation=2), nn.ReLU())
        self.d2 = nn.Sequential(nn.Conv2d(c + b, b, 3, 1, 1), nn.ReLU())
        self.d1 = nn.Sequential(nn.Conv2d(b + a, a, 3, 1, 1), nn.ReLU())
        self.d0 = nn.Sequential(nn.Conv2d(a + CHANNELS, h, 3, 1, 1), nn.ReLU())
        self.out = nn.Conv2d(h, 1, 1)
        self.up = nn.Upsample(scale_factor=2, mode="bilinear", align_corners=False)
        nn.init.zeros_(self.out.weight)
        nn.init.zeros_(self.out.bias)

    def forward(self, x):
        x1 = self.e1(x)
        x2 = self.e2(x1)
        x3 = self.e3(x2)
        y = self.d2(torch.cat([self.up(x3), x2], 1))
        y = self.d1(torch.cat([self.up(y), x1], 1))
        y = self.d0(torch.cat([self.up(y), x], 1))
        return self.bound * torch.tanh(self.out(y) / self.bound)


def logit(p):
    p = p.clamp(1e-3, 1 - 1e-3)
    return torch.log(p / (1 - p))


def refined_logit(net, planes):
    """The working-resolution logit the tracker forms: the fusion's plus the upsampled correction.
    planes: (N, 7, H, W) at working resolution, H and W multiples of 8 * REDUCTION."""
    small = F.avg_pool2d(planes, REDUCTION)  # cv::INTER_AREA at an exact fraction
    correction = F.interpolate(net(small), scale_factor=REDUCTION, mode="bilinear",
                               align_corners=False)
    return logit(planes[:, 6:7]) + correction


class Frames:
    """Every dumped frame of the chosen sequences, in memory as 8-bit arrays."""

    def __init__(self, root, names):
        self.items = []
        for name in names:
            folder = os.path.join(root, name)
            stems = sorted(f[:-4] for f in os.listdir(folder)
                           if f.endswith(".png") and "_" not in f)
            for stem in stems:
                base = os.path.join(folder, stem)
                image = cv2.imread(base + ".png", cv2.IMREAD_COLOR)
                cues = cv2.imread(base + "_cues.png", cv2.IMREAD_UNCHANGED)
                truth = cv2.imread(base + "_truth.png", cv2.IMREAD_GRAYSCALE)
                box = cv2.boundingRect(((cues[:, :, 3] > 50) | (truth > 127)).astype(np.uint8))
                self.items.append((image, cues, truth, box))
        if not self.items:
            sys.exit("train_network.py: no dumped frame under " + root)


def crop_around(item, rng):
    """A CROP x CROP window near the object (or anywhere when the frame is small)."""
    image, _, _, (bx, by, bw, bh) = item
    h, w = image.shape[:2]
    cx = bx + rng.uniform(-0.2, 1.2) * bw if bw else rng.uniform(0, w)
    cy = by + rng.uniform(-0.2, 1.2) * bh if bh else rng.uniform(0, h)
    x = int(min(max(cx - CROP / 2, 0), max(w - CROP, 0)))
    y = int(min(max(cy - CROP / 2, 0), max(h - CROP, 0)))
    return x, y


def relit(image, rng):
    """The light changed: exposure between a third and 1.3 times, white balance by up to 40 %."""
    gains = rng.uniform(0.35, 1.3) * np.array([rng.uniform(0.6, 1.4) for _ in range(3)])
    return np.clip(image.astype(np.float32) * gains, 0, 255)


def shifted(plane, rng):
    dx, dy = rng.randint(-4, 4), rng.randint(-4, 4)
    m = np.float32([[1, 0, dx], [0, 1, dy]])
    return cv2.warpAffine(plane, m, (plane.shape[1], plane.shape[0]))


def sample(item, rng):
    """One varied training crop: (7, CROP, CROP) planes and the (1, CROP, CROP) truth."""
    image, cues, truth, _ = item
    x, y = crop_around(item, rng)
    window = (slice(y, y + CROP), slice(x, x + CROP))
    img = image[window].astype(np.float32)
    cue = cues[window].astype(np.float32) / 255
    tru = (truth[window] > 127).astype(np.float32)
    pad = ((0, CROP - img.shape[0]), (0, CROP - img.shape[1]))
    if rng.random() < 0.5:
        img = relit(img, rng)
    carried, appearance, motion, fused = (cue[:, :, k] for k in range(4))
    if rng.random() < 0.3:
        appearance = 0.5 + (appearance - 0.5) * rng.uniform(0, 1)
    if rng.random() < 0.2:
        carried = shifted(carried, rng)
    planes = [img[:, :, k] / 255 - 0.5 for k in range(3)] + [carried, appearance, motion, fused]
    planes = np.stack([np.pad(p, pad, mode="edge") for p in planes])
    tru = np.pad(tru, pad, mode="edge")[None]
    if rng.random() < 0.5:
        planes, tru = planes[:, :, ::-1], tru[:, :, ::-1]
    return (np.ascontiguousarray(planes, dtype=np.float32),
            np.ascontiguousarray(tru, dtype=np.float32))


def loss_of(z, truth):
    bce = F.binary_cross_entropy_with_logits(z, truth)
    p = torch.sigmoid(z)
    inter = (p * truth).sum((1, 2, 3))
    union = (p + truth - p * truth).sum((1, 2, 3))
    soft_iou = ((inter + 1) / (union + 1)).mean()
    return bce + 0.5 * (1 - soft_iou)


def fold_names(names, fold, folds):
    """The names to train on when fold is left out, dealt as scripts/crossval.py deals them."""
    return [n for i, n in enumerate(sorted(names)) if i % folds != fold]


def parse_args(argv):
    p = argparse.ArgumentParser(description="Trains the refinement network (see the module text).")
    p.add_argument("--cues", required=True, help="folder written by flagmask-dump-cues")
    p.add_argument("-o", "--output", required=True, help="the ONNX file to write")
    p.add_argument("--seq", action="append", default=[], help="train on this sequence (repeatable)")
    p.add_argument("--fold", type=int, help="leave out this fold (with --folds)")
    p.add_argument("--folds", type=int, default=3)
    p.add_argument("--steps", type=int, default=3000, help="training steps of --batch crops")
    p.add_argument("--batch", type=int, default=16)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--widths", default="8,16,24,8",
                   help="channels of the three encoder stages and of the last layer")
    p.add_argument("--threads", type=int, default=os.cpu_count() or 1)
    p.add_argument("--bound", type=float, default=BOUND,
                   help="the largest correction to the fusion's logit")
    return p.parse_args(argv)


def main(argv):
    a = parse_args(argv)
    names = a.seq or sorted(d for d in os.listdir(a.cues) if os.path.isdir(os.path.join(a.cues, d)))
    if a.fold is not None:
        names = fold_names(names, a.fold, a.folds)
    random.seed(a.seed)
    np.random.seed(a.seed)
    torch.manual_seed(a.seed)
    torch.set_num_threads(a.threads)
    rng = random.Random(a.seed)
    frames = Frames(a.cues, names)
    print(f"training on {len(frames.items)} frames of {len(names)} sequences", file=sys.stderr)
    net = Refiner(tuple(int(w) for w in a.widths.split(",")), a.bound)
    opt = torch.optim.Adam(net.parameters(), lr=2e-3)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=3e-3, total_steps=a.steps)
    start, running = time.time(), 0.0
    for step in range(a.steps):
        batch = [sample(rng.choice(frames.items), rng) for _ in range(a.batch)]
        planes = torch.from_numpy(np.stack([b[0] for b in batch]))
        truth = torch.from_numpy(np.stack([b[1] for b in batch]))
        loss = loss_of(refined_logit(net, planes), truth)
        opt.zero_grad()
        loss.backward()
        opt.step()
        sched.step()
        running = 0.98 * running + 0.02 * loss.item() if step else loss.item()
        if step % 200 == 0 or step == a.steps - 1:
            print(f"step {step} loss {running:.4f} ({time.time() - start:.0f} s)", file=sys.stderr)
    export(net.eval(), a.output)
    print(f"wrote {a.output}: {len(names)} sequences, {a.steps} steps, seed {a.seed}")


def export(net, path):
    example = torch.zeros(1, CHANNELS, 64, 64)
    torch.onnx.export(net, example, path, opset_version=11, input_names=["cues"],
                      output_names=["correction"],
                      dynamic_axes={"cues": {2: "height", 3: "width"},
                                    "correction": {2: "height", 3: "width"}})


if __name__ == "__main__":
    main(sys.argv[1:])
