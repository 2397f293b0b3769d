#!/usr/bin/env python3
"""flagmask_messages.py: the flagmask element from Python (PyGObject), and what it tells the bus.

Runs

    SOURCE ! flagmask post-messages=true ! fakesink

to the end of the stream and prints each "flagmask" element message the element posts (one per
frame) as a line on stdout, then a summary:

    time=0:00:00.042 state=tracking area=0.1605 box=70,20,160,68 confidence=0.964
    ...
    frames=24 tracking=24 lost=0 mean_area=0.1604 min_area=0.1560 max_area=0.1616 \
mean_confidence=0.968 seconds=0.52

SOURCE is a video file (--video, decoded by decodebin) or a sequence of JPEG frames (--frames
DIR/%05d.jpg, from index 0). The object is given by a mask of the first frame (--seed-mask), a box
on it (--seed-box x,y,w,h) or a model from flagmask-train (--model).

Progress goes to stderr while the stream runs: a bar redrawn in place when stderr is a terminal,
otherwise a plain line every few seconds (--progress-every); --quiet turns it off.

Exit status: 0 the stream ran to its end, 1 an error (printed with the element that posted it
and GStreamer's debug text), 2 a wrong command line.

    GST_PLUGIN_PATH=build/gst examples/flagmask_messages.py --video clip.avi --seed-mask m.png

Needs PyGObject and GStreamer's introspection data (Debian: python3-gi, gir1.2-gstreamer-1.0).
"""

import argparse
import os
import sys
import time

PROG = "flagmask_messages.py"
DEFAULT_PROGRESS_EVERY = 5.0  # seconds between plain progress lines: a log need not hear more
BAR_REFRESH = 0.1  # seconds between two drawings of the bar
BAR_WIDTH = 30
EXIT_OK, EXIT_ERROR, EXIT_USAGE, EXIT_INTERRUPTED = 0, 1, 2, 130


def box_argument(text):
    """x,y,w,h in pixels, width and height positive."""
    parts = text.split(",")
    try:
        box = [int(p) for p in parts]
    except ValueError:
        box = []
    if len(box) != 4 or box[0] < 0 or box[1] < 0 or box[2] <= 0 or box[3] <= 0:
        raise argparse.ArgumentTypeError(
            f"'{text}' is not x,y,w,h (pixels: x, y >= 0, w, h > 0)")
    return box


def positive_number(kind):
    def parse(text):
        try:
            value = kind(text)
        except ValueError:
            value = 0
        if not value > 0:
            raise argparse.ArgumentTypeError(f"'{text}' is not a positive number")
        return value
    return parse


def parse_args(argv):
    parser = argparse.ArgumentParser(
        prog=PROG,
        description="Runs SOURCE ! flagmask post-messages=true ! fakesink and prints each "
        "\"flagmask\" element message (time, state, area, box, confidence) as a line, then a "
        "summary line.",
        epilog="Exit status: 0 ok, 1 error (the element and GStreamer's debug text are printed), "
        "2 usage. The flagmask plugin is found through GST_PLUGIN_PATH (build/gst in the source "
        "tree).")
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--video", metavar="FILE", help="a video file, decoded by decodebin")
    source.add_argument("--frames", metavar="PATTERN",
                        help="JPEG frames, numbered from 0, as a printf pattern: frames/%%05d.jpg")
    parser.add_argument("--fps", type=positive_number(int), default=24, metavar="N",
                        help="frame rate of --frames (default 24)")
    seed = parser.add_argument_group("the object (at least one)")
    seed.add_argument("--seed-mask", metavar="FILE",
                      help="mask of the object on the first frame (non-zero = object)")
    seed.add_argument("--seed-box", type=box_argument, metavar="X,Y,W,H",
                      help="box around the object on the first frame, in pixels")
    seed.add_argument("--model", metavar="FILE", help="model written by flagmask-train")
    parser.add_argument("--mode", choices=["cutout", "alpha", "mask", "overlay"],
                        help="the element's mode (the messages do not depend on it)")
    parser.add_argument("-q", "--quiet", action="store_true",
                        help="no progress report on stderr")
    parser.add_argument("--progress-every", type=positive_number(float),
                        default=DEFAULT_PROGRESS_EVERY, metavar="S",
                        help="seconds between progress lines when stderr is not a terminal "
                        f"(default {DEFAULT_PROGRESS_EVERY:g})")
    args = parser.parse_args(argv)
    if not (args.seed_mask or args.seed_box or args.model):
        parser.error("give --seed-mask, --seed-box or --model")
    if args.frames is not None:
        try:
            args.frames % 0
        except (TypeError, ValueError):
            parser.error(f"--frames '{args.frames}' is not a pattern with one %d (e.g. "
                         "frames/%05d.jpg)")
        if args.frames % 0 == args.frames:
            parser.error(f"--frames '{args.frames}' has no %d for the frame number")
    return args


def format_time(ns):
    """GStreamer's h:mm:ss form, to the millisecond; 'none' for GST_CLOCK_TIME_NONE."""
    if ns is None or ns < 0 or ns >= 2**64 - 1:
        return "none"
    ms = ns // 1_000_000
    return f"{ms // 3_600_000}:{ms // 60_000 % 60:02d}:{ms // 1000 % 60:02d}.{ms % 1000:03d}"


class Summary:
    """What the messages said, over the whole stream."""

    def __init__(self):
        self.frames = self.tracking = self.lost = 0
        self.areas = []
        self.confidence_sum = 0.0

    def add(self, fields):
        self.frames += 1
        self.confidence_sum += fields["confidence"]
        if fields["state"] == "tracking":
            self.tracking += 1
            self.areas.append(fields["area"])
        else:
            self.lost += 1

    def line(self, seconds):
        areas = self.areas or [0.0]
        mean_confidence = self.confidence_sum / self.frames if self.frames else 0.0
        return (f"frames={self.frames} tracking={self.tracking} lost={self.lost} "
                f"mean_area={sum(areas) / len(areas):.4f} min_area={min(areas):.4f} "
                f"max_area={max(areas):.4f} mean_confidence={mean_confidence:.3f} "
                f"seconds={seconds:.2f}")


def message_fields(structure):
    """The fields of a "flagmask" element message, as Python values."""
    names = ("timestamp", "stream-time", "running-time", "area", "x", "y", "width", "height",
             "confidence", "state")
    return {name: structure.get_value(name) for name in names}


def message_line(fields):
    # stream-time is the position in the stream a user sees; a buffer without one has only its
    # timestamp, if that.
    when = fields["stream-time"]
    if when is None or when >= 2**64 - 1:
        when = fields["timestamp"]
    box = ",".join(str(fields[k]) for k in ("x", "y", "width", "height"))
    return (f"time={format_time(when)} state={fields['state']} area={fields['area']:.4f} "
            f"box={box} confidence={fields['confidence']:.3f}")


class Progress:
    """The progress report on stderr: a bar on a terminal, plain lines otherwise."""

    def __init__(self, enabled, every, total_frames, gst):
        self.enabled = enabled
        self.terminal = sys.stderr.isatty()
        self.every = BAR_REFRESH if self.terminal else every
        self.total_frames = total_frames  # known for a frame sequence; 0 for a file
        self.gst = gst
        self.last = time.monotonic()
        self.bar = None  # the bar's text while it is on the terminal
        # When stdout is the same terminal, message lines would run into the bar: it is taken
        # off before each line and put back after.
        self.shares_terminal = self.terminal and sys.stdout.isatty()

    def due(self):
        return self.enabled and time.monotonic() - self.last >= self.every

    def wait(self):
        """Nanoseconds the bus may wait before the next report is due."""
        if not self.enabled:
            return self.gst.CLOCK_TIME_NONE
        left = max(0.0, self.every - (time.monotonic() - self.last))
        return int(left * 1e9)

    def report(self, pipeline, frames):
        self.last = time.monotonic()
        ok, position = pipeline.query_position(self.gst.Format.TIME)
        position = position if ok and position >= 0 else None
        ok, duration = pipeline.query_duration(self.gst.Format.TIME)
        duration = duration if ok and duration > 0 else None
        if self.total_frames:
            fraction = min(1.0, frames / self.total_frames)
        elif position is not None and duration:
            fraction = min(1.0, position / duration)
        else:
            fraction = None
        where = f"frame {frames}"
        if self.total_frames:
            where += f" of {self.total_frames}"
        if position is not None:
            where += f", {position / 1e9:.1f} s"
            if duration:
                where += f" of {duration / 1e9:.1f} s"
        if self.terminal:
            if fraction is None:
                self.bar = where
            else:
                filled = int(fraction * BAR_WIDTH + 0.5)
                self.bar = (f"[{'#' * filled}{'-' * (BAR_WIDTH - filled)}] "
                            f"{100 * fraction:3.0f}%  {where}")
            self._draw()
        elif fraction is None:
            print(f"{PROG}: {where}", file=sys.stderr, flush=True)
        else:
            print(f"{PROG}: {100 * fraction:.0f}% ({where})", file=sys.stderr, flush=True)

    def _draw(self):
        # \r back to the line's start; \033[K clears what a longer text left.
        sys.stderr.write(f"\r{self.bar}\033[K")
        sys.stderr.flush()

    def before_output(self):
        if self.bar is not None and self.shares_terminal:
            sys.stderr.write("\r\033[K")
            sys.stderr.flush()

    def after_output(self):
        if self.bar is not None and self.shares_terminal:
            self._draw()

    def end(self):
        """Takes the bar off the terminal before the summary or an error is printed."""
        if self.bar is not None:
            sys.stderr.write("\r\033[K")
            sys.stderr.flush()
        self.bar = None


def count_frames(pattern):
    """How many files the pattern names from index 0 on: the length of a frame sequence."""
    n = 0
    while os.path.isfile(pattern % n):
        n += 1
    return n


def error(text):
    print(f"{PROG}: {text}", file=sys.stderr)


def set_box(gst, element, box):
    """seed-box as x,y,w,h, in whichever form the element's property takes it."""
    spec = element.find_property("seed-box")
    if spec.value_type.name == "GstValueArray":
        text = "<" + ", ".join(str(v) for v in box) + ">"
    else:
        text = ",".join(str(v) for v in box)
    gst.util_set_object_arg(element, "seed-box", text)


def build_pipeline(gst, args):
    """SOURCE ! flagmask ! fakesink: the structure from a description, the files set as
    properties (no file name needs quoting). Returns (pipeline, flagmask) or None."""
    if gst.ElementFactory.find("flagmask") is None:
        error("no element 'flagmask': set GST_PLUGIN_PATH to the folder of libgstflagmask.so "
              "(build/gst in the source tree)")
        return None
    if args.video is not None:
        source = "filesrc name=file ! decodebin ! videoconvert"
    else:
        source = (f"multifilesrc name=file index=0 caps=image/jpeg,framerate={args.fps}/1 "
                  "! jpegdec ! videoconvert")
    try:
        pipeline = gst.parse_launch(f"{source} ! flagmask name=tracker ! fakesink sync=false")
    except Exception as e:  # GLib.Error: a missing element (decodebin, jpegdec)
        error(f"cannot build the pipeline: {e}")
        return None
    pipeline.get_by_name("file").set_property("location", args.video or args.frames)
    tracker = pipeline.get_by_name("tracker")
    wanted = {"post-messages": True, "seed-mask": args.seed_mask, "model": args.model,
              "seed-box": args.seed_box, "mode": args.mode}
    for name, value in wanted.items():
        if value is None:
            continue
        if tracker.find_property(name) is None:
            error(f"this flagmask has no '{name}' property (an older build of the plugin?)")
            return None
        if name == "seed-box":
            set_box(gst, tracker, value)
        elif name == "mode":
            gst.util_set_object_arg(tracker, name, value)
        else:
            tracker.set_property(name, value)
    return pipeline, tracker


def print_error(message):
    err, debug = message.parse_error()
    error(f"error from {message.src.get_name()}: {err.message}")
    if debug:
        print(debug, file=sys.stderr)


def run(gst, pipeline, tracker, summary, progress):
    """Plays the pipeline and reads its bus to the end of the stream or the first error.
    Returns the exit status."""
    bus = pipeline.get_bus()
    started = pipeline.set_state(gst.State.PLAYING) != gst.StateChangeReturn.FAILURE
    wanted = (gst.MessageType.ELEMENT | gst.MessageType.ERROR | gst.MessageType.EOS |
              gst.MessageType.WARNING)
    while True:
        # A failed start has posted its error already: do not wait for an end that will not come.
        message = bus.timed_pop_filtered(progress.wait() if started else 0, wanted)
        if message is None:
            if not started:
                error("the pipeline did not start")
                return EXIT_ERROR
            progress.report(pipeline, summary.frames)
            continue
        kind = message.type
        if kind == gst.MessageType.EOS:
            return EXIT_OK
        if kind == gst.MessageType.ERROR:
            progress.end()
            print_error(message)
            return EXIT_ERROR
        if kind == gst.MessageType.WARNING:
            warning, debug = message.parse_warning()
            progress.before_output()
            error(f"warning from {message.src.get_name()}: {warning.message}")
            progress.after_output()
            continue
        structure = message.get_structure()
        if (structure is not None and structure.get_name() == "flagmask" and
                message.src.get_name() == tracker.get_name()):
            fields = message_fields(structure)
            summary.add(fields)
            progress.before_output()
            print(message_line(fields), flush=progress.shares_terminal)
            progress.after_output()
            if progress.due():
                progress.report(pipeline, summary.frames)


def main(argv=None):
    args = parse_args(argv)
    try:
        import gi
        gi.require_version("Gst", "1.0")
        from gi.repository import Gst
    except (ImportError, ValueError) as e:
        error(f"needs PyGObject and GStreamer's introspection data (Debian: python3-gi, "
              f"gir1.2-gstreamer-1.0): {e}")
        return EXIT_ERROR
    Gst.init(None)
    built = build_pipeline(Gst, args)
    if built is None:
        return EXIT_ERROR
    pipeline, tracker = built
    total = count_frames(args.frames) if args.frames is not None else 0
    progress = Progress(not args.quiet, args.progress_every, total, Gst)
    summary = Summary()
    start = time.monotonic()
    try:
        status = run(Gst, pipeline, tracker, summary, progress)
    except KeyboardInterrupt:
        error("interrupted")
        status = EXIT_INTERRUPTED
    except BrokenPipeError:
        # stdout went away (| head): stop quietly, as a filter does.
        pipeline.set_state(Gst.State.NULL)
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_OK
    progress.end()
    pipeline.set_state(Gst.State.NULL)
    if status != EXIT_ERROR:
        print(summary.line(time.monotonic() - start), flush=True)
    return status


if __name__ == "__main__":
    sys.exit(main())
