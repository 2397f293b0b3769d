// flagmask-bench-core: times the core's frame entry point, Segmenter::process(FrameView), without
// a pipeline, so that a change to the algorithm can be timed on its own. The clip is loaded once
// and converted in memory to each size and format; each run seeds a fresh Segmenter with the
// first frame's mask and processes the frames the element would be given.
#include "common.h"
#include "error.h"
#include "eval/davis.h"
#include "eval/synthetic.h"
#include "frame.h"
#include "image_io.h"
#include "params.h"
#include "segmenter.h"

#include <opencv2/core/version.hpp>
#include <opencv2/imgproc.hpp>

#include <sys/resource.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <string>
#include <vector>

namespace fs = std::filesystem;

namespace {

namespace bench = flagmask::bench;
namespace cli = flagmask::cli;

constexpr const char *kUsage =
    "usage: flagmask-bench-core [--davis DIR] [--seq NAME] [options]\n"
    "\n"
    "Times the core's frame entry point, Segmenter::process(FrameView), without GStreamer. The\n"
    "clip is loaded once, scaled to each size (bilinear) and converted to each format in memory;\n"
    "each run seeds a fresh Segmenter with the first frame's mask, then processes --frames\n"
    "frames (the clip forward and back, as flagmask-bench plays it). Writing the mode (cutout,\n"
    "into a copy of the frame) is timed apart. Prints a markdown table of milliseconds per frame:\n"
    "median and min over the runs of process(), this process's CPU time per frame in process()\n"
    "(every thread's), the mode writing, and the seed frame's seed() (each run's segmenter is\n"
    "new, so the first run's seed also pays for the process's first use of OpenCV's tables).\n"
    "\n"
    "Input: the DAVIS sequence --seq (default: the first of ImageSets/480p/dev.txt) under --davis\n"
    "DIR, $FLAGMASK_DAVIS or " FLAGMASK_DEFAULT_DAVIS ";\n"
    "else the synthetic waving flag (854x480, 60 frames, as flagmask-synth writes it).\n"
    "\n"
    "  --davis DIR         DAVIS-layout folder (JPEGImages/480p/SEQ/*.jpg, Annotations/...)\n"
    "  --seq NAME          the DAVIS sequence\n"
    "  --sizes LIST        of 480p (854x480), 720p (1280x720), 1080p (1920x1080);\n"
    "                      default 480p,720p,1080p\n"
    "  --formats LIST      of I420, NV12, BGR, BGRx, RGBA; default all five\n"
    "  --runs N            timed runs per size and format, default 3\n"
    "  --frames N          frames processed per run after the seed frame, default 150\n"
    "  --working-size N    the Segmenter's working size, default 480 (64 to 4096)\n"
    "  --quick             a short run (what `meson test --benchmark` does): --sizes 480p\n"
    "                      --frames 30 --runs 2, unless given\n"
    "  -h, --help          this text\n"
    "\n"
    "Exit status: 0 done, 1 the input or the core failed, 2 bad command line.\n";

const std::vector<std::string> kFormats = {"I420", "NV12", "BGR", "BGRx", "RGBA"};
// The synthetic clip when there is no DAVIS data: DAVIS's frame size, as flagmask-bench writes it.
const cv::Size kSynthSize(854, 480);
constexpr int kSynthFrames = 60;

struct Options {
  std::string davis, seq;
  std::vector<std::string> sizes{"480p", "720p", "1080p"};
  std::vector<std::string> formats = kFormats;
  int runs = 3, frames = 150;
  int working_size = flagmask::kDefaultWorkingSize;
  bool quick = false;
};

// ---- the clip ----

struct Clip {
  std::vector<cv::Mat> frames; // 8-bit BGR, as decoded
  cv::Mat seed;                // the first frame's mask
  std::string description;
};

Clip davisClip(const fs::path &root, const std::string &seq, size_t max_frames) {
  flagmask::davis::requireLayout(root);
  std::string name = seq;
  if (name.empty()) {
    const std::vector<std::string> names = flagmask::davis::chooseSequences(root, {}, {});
    if (names.empty())
      throw flagmask::Error("no sequence under '" + root.string() + "'");
    name = names.front();
  }
  const flagmask::davis::Sequence files = flagmask::davis::openSequence(root, name);
  Clip clip;
  for (size_t i = 0; i < files.frames.size() && i < max_frames; ++i)
    clip.frames.push_back(flagmask::loadFrame(files.frames[i].string()));
  clip.seed = flagmask::loadMask(files.masks.front().string());
  const fs::path folder = fs::weakly_canonical(fs::absolute(root / "JPEGImages/480p" / name));
  clip.description = "DAVIS sequence '" + name + "' (" + folder.string() + ")";
  return clip;
}

Clip syntheticClip(size_t max_frames) {
  Clip clip;
  for (int t = 0; t < kSynthFrames && static_cast<size_t>(t) < max_frames; ++t) {
    flagmask::SyntheticFrame f = flagmask::syntheticFlag(t, kSynthSize);
    clip.frames.push_back(f.frame);
    if (t == 0)
      clip.seed = f.mask;
  }
  clip.description = "synthetic waving flag (854x480, 60 frames; no DAVIS data)";
  return clip;
}

// --davis, else $FLAGMASK_DAVIS (both asked for by name, so their absence is an error), else the
// build's default when it is there, else the synthetic flag.
Clip loadClip(const Options &o, size_t max_frames) {
  if (!o.davis.empty())
    return davisClip(o.davis, o.seq, max_frames);
  const char *env = std::getenv("FLAGMASK_DAVIS");
  if (env && *env)
    return davisClip(env, o.seq, max_frames);
  const fs::path root(FLAGMASK_DEFAULT_DAVIS);
  if (!root.empty() && fs::is_directory(root / "JPEGImages/480p"))
    return davisClip(root, o.seq, max_frames);
  if (!o.seq.empty())
    throw flagmask::Error("no DAVIS data for --seq " + o.seq +
                          ": give --davis or set FLAGMASK_DAVIS");
  return syntheticClip(max_frames);
}

// ---- frames in each format ----

// cvtColor's I420 is BT.601 with studio range.
const flagmask::YuvMatrix kYuvMatrix = flagmask::YuvMatrix::bt601(false);

// The I420 planes of a BGR frame (even width and height): Y, U, V.
std::vector<cv::Mat> i420Planes(const cv::Mat &bgr) {
  const int w = bgr.cols, h = bgr.rows;
  cv::Mat yuv;
  cv::cvtColor(bgr, yuv, cv::COLOR_BGR2YUV_I420); // one (h * 3 / 2) x w plane: Y, then U, then V
  const cv::Mat y = yuv.rowRange(0, h);
  const cv::Mat u = cv::Mat(h / 2, w / 2, CV_8UC1, yuv.ptr(h)).clone();
  const cv::Mat v = cv::Mat(h / 2, w / 2, CV_8UC1, yuv.ptr(h) + (w / 2) * (h / 2)).clone();
  return {y, u, v};
}

flagmask::FrameView packedView(const cv::Mat &bgr, const std::string &format) {
  if (format == "BGR")
    return flagmask::FrameView::fromPacked(bgr, flagmask::PackedLayout::bgr(), format);
  cv::Mat four;
  if (format == "BGRx") {
    cv::cvtColor(bgr, four, cv::COLOR_BGR2BGRA);
    return flagmask::FrameView::fromPacked(four, flagmask::PackedLayout::bgrx(), format);
  }
  cv::cvtColor(bgr, four, cv::COLOR_BGR2RGBA);
  return flagmask::FrameView::fromPacked(four, flagmask::PackedLayout::rgba(), format);
}

// A BGR frame in `format`, in memory of its own.
flagmask::FrameView convert(const cv::Mat &bgr, const std::string &format) {
  if (format != "I420" && format != "NV12")
    return packedView(bgr, format);
  const std::vector<cv::Mat> yuv = i420Planes(bgr);
  if (format == "I420")
    return flagmask::FrameView::fromI420(yuv[0], yuv[1], yuv[2], kYuvMatrix);
  cv::Mat uv;
  cv::merge(std::vector<cv::Mat>{yuv[1], yuv[2]}, uv);
  return flagmask::FrameView::fromNv12(yuv[0], uv, kYuvMatrix);
}

std::vector<cv::Mat> scaled(const std::vector<cv::Mat> &frames, cv::Size size) {
  std::vector<cv::Mat> out(frames.size());
  for (size_t i = 0; i < frames.size(); ++i)
    cv::resize(frames[i], out[i], size, 0, 0, cv::INTER_LINEAR);
  return out;
}

// A frame with planes of its own, the same layout as `view`.
flagmask::FrameView deepCopy(const flagmask::FrameView &view) {
  flagmask::FrameView copy = view;
  for (cv::Mat &plane : copy.planes)
    plane = plane.clone();
  return copy;
}

void copyPixels(const flagmask::FrameView &from, flagmask::FrameView &to) {
  for (int i = 0; i < 3; ++i)
    if (!from.planes[i].empty())
      from.planes[i].copyTo(to.planes[i]);
}

// ---- timing ----

using Clock = std::chrono::steady_clock;

double msSince(Clock::time_point start) {
  return std::chrono::duration<double, std::milli>(Clock::now() - start).count();
}

// This process's user+system CPU time, all threads (OpenCV's too), in milliseconds.
double processCpuMs() {
  struct rusage usage {};
  getrusage(RUSAGE_SELF, &usage);
  const timeval &u = usage.ru_utime, &s = usage.ru_stime;
  return (u.tv_sec + s.tv_sec) * 1e3 + (u.tv_usec + s.tv_usec) / 1e3;
}

// Milliseconds per processed frame in one run.
struct RunTime {
  double seed = 0; // the seed frame's Segmenter::seed, milliseconds
  double process = 0, cpu = 0, write = 0;
};

RunTime timeRun(const std::vector<flagmask::FrameView> &views, const cv::Mat &seed, int frames,
                const flagmask::SegmenterParams &params) {
  flagmask::Segmenter segmenter(params);
  if (!flagmask::defaultNetworkPath().empty()) // as the element runs by default
    segmenter.setNetwork(flagmask::Network::load(flagmask::defaultNetworkPath()));
  const Clock::time_point seed_start = Clock::now();
  segmenter.seed(views[0], seed);
  const double seed_ms = msSince(seed_start);
  // The mode is written into a copy, so that every run reads the clip as it was decoded.
  flagmask::FrameView scratch = deepCopy(views[0]);
  RunTime total;
  for (int k = 1; k <= frames; ++k) {
    const flagmask::FrameView &frame = views[bench::pingPong(k, views.size())];
    const double cpu_start = processCpuMs();
    const Clock::time_point start = Clock::now();
    const flagmask::Result result = segmenter.process(frame);
    total.process += msSince(start);
    total.cpu += processCpuMs() - cpu_start;
    copyPixels(frame, scratch);
    const Clock::time_point write_start = Clock::now();
    flagmask::applyMode(scratch, flagmask::featherMask(result.mask, 0), flagmask::Mode::Cutout);
    total.write += msSince(write_start);
  }
  return {seed_ms, total.process / frames, total.cpu / frames, total.write / frames};
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  const size_t n = v.size();
  return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

std::string fixed(double v) {
  char text[32];
  std::snprintf(text, sizeof text, "%.2f", v);
  return text;
}

// Times one size and format and prints its row of the table.
void benchFormat(const std::vector<cv::Mat> &frames, const cv::Mat &seed, const Options &o,
                 const std::string &size, const std::string &format) {
  std::vector<flagmask::FrameView> views;
  for (const cv::Mat &frame : frames)
    views.push_back(convert(frame, format));
  flagmask::SegmenterParams params;
  params.working_size = o.working_size;
  std::vector<double> seeds, process, cpu, write;
  for (int r = 0; r < o.runs; ++r) {
    const RunTime t = timeRun(views, seed, o.frames, params);
    seeds.push_back(t.seed);
    process.push_back(t.process), cpu.push_back(t.cpu), write.push_back(t.write);
  }
  std::cout << "| " << size << " | " << format << " | " << fixed(median(process)) << " | "
            << fixed(*std::min_element(process.begin(), process.end())) << " | "
            << fixed(median(cpu)) << " | " << fixed(median(write)) << " | "
            << fixed(*std::min_element(write.begin(), write.end())) << " | " << o.frames << " x "
            << o.runs << " | " << fixed(median(seeds)) << " |" << std::endl;
}

void printHeader(const Options &o, const Clip &clip) {
  std::cout << "# flagmask-bench-core\n\n"
            << "- input: " << clip.description << ", " << clip.frames.size()
            << " frames held in memory\n"
            << "- software: OpenCV " CV_VERSION ", " << cv::getNumThreads() << " threads\n"
            << "- working size: " << o.working_size << "\n"
            << "- network: '" << flagmask::defaultNetworkPath() << "' ($FLAGMASK_NETWORK, else "
            << "the installed one)\n"
            << "- each run: a fresh Segmenter seeded on frame 0, then process() on " << o.frames
            << " frames (the clip forward and back); mode cutout written into a copy, timed "
               "apart; median and min of "
            << o.runs << " run(s)\n\n"
            << "| size | format | process ms/frame median | process ms/frame min | "
               "CPU ms/frame median | write ms/frame median | write ms/frame min | "
               "frames x runs | seed ms median |\n"
            << "|---|---|--:|--:|--:|--:|--:|--:|--:|" << std::endl;
}

int run(const Options &o) {
  const Clip clip = loadClip(o, static_cast<size_t>(o.frames) + 1);
  printHeader(o, clip);
  for (const std::string &size : o.sizes) {
    const bench::SizePreset &preset = bench::sizePreset(size);
    const std::vector<cv::Mat> frames = scaled(clip.frames, {preset.width, preset.height});
    for (const std::string &format : o.formats)
      benchFormat(frames, clip.seed, o, size, format);
  }
  return 0;
}

// ---- command line ----

void validate(Options &o, bool sizes_given, bool frames_given, bool runs_given) {
  if (o.quick) {
    if (!sizes_given)
      o.sizes = {"480p"};
    if (!frames_given)
      o.frames = 30;
    if (!runs_given)
      o.runs = 2;
  }
  if (o.sizes.empty())
    throw cli::UsageError("--sizes needs at least one size");
  for (const std::string &s : o.sizes)
    bench::sizePreset(s); // throws on an unknown name
  for (const std::string &f : o.formats)
    if (std::find(kFormats.begin(), kFormats.end(), f) == kFormats.end())
      throw cli::UsageError("unknown format '" + f + "' (I420, NV12, BGR, BGRx or RGBA)");
  if (o.working_size < flagmask::kMinWorkingSize || o.working_size > flagmask::kMaxWorkingSize)
    throw cli::UsageError("--working-size goes from " + std::to_string(flagmask::kMinWorkingSize) +
                          " to " + std::to_string(flagmask::kMaxWorkingSize));
}

Options parse(int argc, char **argv) {
  Options o;
  bool sizes_given = false, frames_given = false, runs_given = false;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    cli::answerHelp(a, kUsage);
    if (a == "--davis")
      o.davis = cli::value(argc, argv, i);
    else if (a == "--seq")
      o.seq = cli::value(argc, argv, i);
    else if (a == "--sizes")
      o.sizes = bench::splitList(cli::value(argc, argv, i)), sizes_given = true;
    else if (a == "--formats")
      o.formats = bench::splitList(cli::value(argc, argv, i));
    else if (a == "--runs")
      o.runs = bench::positive(a, cli::value(argc, argv, i)), runs_given = true;
    else if (a == "--frames")
      o.frames = bench::positive(a, cli::value(argc, argv, i)), frames_given = true;
    else if (a == "--working-size")
      o.working_size = bench::positive(a, cli::value(argc, argv, i));
    else if (a == "--quick")
      o.quick = true;
    else
      throw cli::unknownArgument(a);
  }
  validate(o, sizes_given, frames_given, runs_given);
  return o;
}

} // namespace

int main(int argc, char **argv) {
  return cli::runTool("flagmask-bench-core", argc, argv, parse, run);
}
