#!/usr/bin/python3
"""eval_live: the accuracy of flagmask on live streams under load. N gst-launch-1.0 pipelines run
at once, each playing DAVIS sequences one after another against the clock at their native 480p
(a new pipeline per sequence, as a new live stream), so the element has N streams' work to do on
the machine's cores:

  multifilesrc ! jpegdec qos=false ! videoconvert qos=false ! identity sync=true !
    flagmask mode=mask post-messages=true ! filesink sync=true qos=true max-lateness=-1

The sink sends QoS, so keep-up acts as with a live sink; it drops nothing itself, nor does the
decoder and the converter before it (their QoS off, as with a camera whose frames come ready), and a frame the element drops (GstBaseTransform's QoS, its last resort) is scored as the frame before it, as a
player would show it. The masks are scored against the ground truth with `flagmask-eval --score`;
the frames the element analysed fully, carried or dropped are counted from its messages.

  scripts/eval_live.py [--streams N] [--fps F] [--imageset ImageSets/480p/dev.txt]
                       [--element 'prop=value ...'] [--keep DIR] [DAVIS_ROOT]

Python 3 standard library only; the build's plugin and tools (BUILD_DIR, default build).
"""

import argparse
import os
import re
import subprocess
import sys
import tempfile
import threading
import time
import zlib

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
MESSAGE = re.compile(r"flagmask, timestamp=\(guint64\)(\d+).*?analysis=\(string\)(\w+)")


def parse(argv):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--streams", type=int, default=4, help="live streams at once")
    p.add_argument("--fps", type=int, default=30)
    p.add_argument("--imageset", default="ImageSets/480p/dev.txt")
    p.add_argument("--element", default="", help="more flagmask properties")
    p.add_argument("--keep", help="write the masks to DIR/SEQ/NNNNN.png and keep them")
    p.add_argument("davis", nargs="?", default=os.environ.get("FLAGMASK_DAVIS") or
                   os.path.join(ROOT, "..", "shared", "data", "DAVIS"))
    return p.parse_args(argv)


def sequences(o):
    names = []
    with open(os.path.join(o.davis, o.imageset)) as f:
        for line in f:
            if line.strip():
                name = line.split()[0].rstrip("/").split("/")[-2]
                if name not in names:
                    names.append(name)
    return names


def frame_size(jpeg):
    """(width, height) of a baseline or progressive JPEG, from its SOF marker."""
    with open(jpeg, "rb") as f:
        data = f.read()
    i = 2
    while i < len(data):
        marker, length = data[i + 1], int.from_bytes(data[i + 2:i + 4], "big")
        if marker in (0xC0, 0xC1, 0xC2):
            return int.from_bytes(data[i + 7:i + 9], "big"), int.from_bytes(data[i + 5:i + 7], "big")
        i += 2 + length
    sys.exit(f"eval_live: no frame size in {jpeg}")


def run_sequence(o, name, raw):
    """Plays one sequence live; returns (frames, its messages' (timestamp, analysis) in order)."""
    frames_dir = os.path.join(o.davis, "JPEGImages", "480p", name)
    n = len([f for f in os.listdir(frames_dir) if f.endswith(".jpg")])
    seed = os.path.join(o.davis, "Annotations", "480p", name, "00000.png")
    description = (
        f"multifilesrc location={frames_dir}/%05d.jpg index=0 stop-index={n - 1} "
        f"caps=image/jpeg,framerate={o.fps}/1 ! jpegdec qos=false ! videoconvert qos=false ! video/x-raw,format=I420 ! "
        f"identity sync=true ! flagmask seed-mask={seed} mode=mask post-messages=true {o.element} ! "
        f"filesink location={raw} sync=true qos=true max-lateness=-1")
    with tempfile.TemporaryFile(mode="w+") as log:
        done = subprocess.run(["gst-launch-1.0", "-m", *description.split()], stdout=log,
                              stderr=subprocess.STDOUT, text=True)
        log.seek(0)
        output = log.read()
    if done.returncode != 0:
        sys.exit(f"eval_live: {name} failed:\n{output[-2000:]}")
    return n, [(int(t), a) for t, a in MESSAGE.findall(output)]


def write_png(path, w, h, gray):
    """An 8-bit greyscale PNG, rows unfiltered."""
    def chunk(kind, body):
        return (len(body).to_bytes(4, "big") + kind + body +
                zlib.crc32(kind + body).to_bytes(4, "big"))
    rows = b"".join(b"\0" + gray[y * w:(y + 1) * w] for y in range(h))
    with open(path, "wb") as f:
        f.write(b"\x89PNG\r\n\x1a\n" +
                chunk(b"IHDR", w.to_bytes(4, "big") + h.to_bytes(4, "big") + bytes([8, 0, 0, 0, 0])) +
                chunk(b"IDAT", zlib.compress(rows, 1)) + chunk(b"IEND", b""))


def write_masks(raw, size, n, messages, fps, out_dir):
    """The Y plane of each frame written (mode=mask: 255 object, 0 background) as a PNG, one per
    source frame; a frame the element dropped gets the frame before it."""
    w, h = size
    # GStreamer's I420 layout: rows padded to 4 bytes.
    y_stride, uv_stride = (w + 3) // 4 * 4, ((w + 1) // 2 + 3) // 4 * 4
    frame_bytes = y_stride * h + 2 * uv_stride * ((h + 1) // 2)
    with open(raw, "rb") as f:
        data = f.read()
    if len(data) != frame_bytes * len(messages):
        sys.exit(f"eval_live: {raw} holds {len(data)} bytes for {len(messages)} frames")
    written = {}
    for k, (timestamp, _) in enumerate(messages):
        index = round(timestamp * fps / 1e9)
        y = data[k * frame_bytes:k * frame_bytes + y_stride * h]
        written[index] = b"".join(y[r * y_stride:r * y_stride + w] for r in range(h))
    os.makedirs(out_dir, exist_ok=True)
    last = bytes(w * h)
    for i in range(n):
        last = written.get(i, last)
        write_png(os.path.join(out_dir, f"{i:05d}.png"), w, h, last)


def main(argv):
    o = parse(argv)
    build = os.environ.get("BUILD_DIR", os.path.join(ROOT, "build"))
    os.environ["GST_PLUGIN_PATH"] = os.path.join(build, "gst")
    os.environ.setdefault("FLAGMASK_NETWORK",
                          os.path.join(ROOT, "src", "network", "flagmask-refine.onnx"))
    if not os.path.isfile(os.path.join(o.davis, o.imageset)):
        sys.exit(f"eval_live: no DAVIS image set at {os.path.join(o.davis, o.imageset)}")
    names = sequences(o)
    counts = {"full": 0, "carried": 0, "dropped": 0}
    lock = threading.Lock()
    with tempfile.TemporaryDirectory(dir="/dev/shm" if os.path.isdir("/dev/shm") else None) as tmp:
        out = o.keep or os.path.join(tmp, "masks")

        def stream(share):
            for name in share:
                raw = os.path.join(tmp, name + ".i420")
                n, messages = run_sequence(o, name, raw)
                size = frame_size(os.path.join(o.davis, "JPEGImages", "480p", name, "00000.jpg"))
                write_masks(raw, size, n, messages, o.fps, os.path.join(out, name))
                os.remove(raw)
                with lock:
                    carried = sum(a == "carried" for _, a in messages)
                    print(f"{name:<22} frames {n}, carried {carried}, dropped {n - len(messages)}",
                          flush=True)
                    for _, analysis in messages:
                        counts[analysis] = counts.get(analysis, 0) + 1
                    counts["dropped"] += n - len(messages)

        start = time.monotonic()
        threads = [threading.Thread(target=stream, args=(names[k::o.streams],))
                   for k in range(o.streams)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        wall = time.monotonic() - start
        frames = sum(counts.values())
        print(f"# {o.streams} live streams at {o.fps} fps, {len(names)} sequences, {frames} frames "
              f"in {wall:.1f} s; {os.cpu_count()} cores")
        print(f"frames analysed {counts['full']} ({100.0 * counts['full'] / frames:.0f} %), "
              f"carried {counts['carried']} ({100.0 * counts['carried'] / frames:.0f} %), "
              f"dropped {counts['dropped']} ({100.0 * counts['dropped'] / frames:.1f} %)",
              flush=True)
        score = subprocess.run([os.path.join(build, "src", "tools", "flagmask-eval"), "--davis",
                                o.davis, "--imageset", o.imageset, "--score", out],
                               stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
                               check=True)
        print(score.stdout.strip().splitlines()[-1])


if __name__ == "__main__":
    main(sys.argv[1:])
