// flagmask-bench-row: measures one row of flagmask-bench in this process. The clip is decoded,
// scaled and converted once into memory and then pushed through `appsrc ! ELEMENT ! fakesink`, so
// the figures are the element's cost rather than the decoder's. The driver script flagmask-bench
// starts one of these per row, so that each row's peak memory is its own, and prints the table;
// --probe tells it what this GStreamer has and which clip the input options name.
//
// It loads no OpenCV library of its own (CV_VERSION is a macro): OpenCV counts in a row's memory
// when the flagmask plugin loads it, as it would in any other program.
#include "common.h"
#include "error.h"
#include "eval/davis.h"
#include "network.h"

#include <gst/app/gstappsink.h>
#include <gst/app/gstappsrc.h>
#include <gst/gst.h>
#include <gst/video/video.h>
#include <opencv2/core/version.hpp>

#include <malloc.h>
#include <sys/resource.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

namespace fs = std::filesystem;

namespace {

namespace bench = flagmask::bench;
namespace cli = flagmask::cli;

constexpr const char *kUsage =
    "usage: flagmask-bench-row --row ELEMENT:MODE:FORMAT:SIZE [INPUT] [--frames N] [--runs N]\n"
    "                          [--working-size N]\n"
    "       flagmask-bench-row --probe [INPUT] [--formats LIST]\n"
    "\n"
    "The measuring half of flagmask-bench, which starts it once per row; run that instead.\n"
    "\n"
    "--row: decodes the clip, scales it to SIZE (480p, 720p or 1080p) and converts it to FORMAT,\n"
    "into memory (up to --frames frames, default 150), then times\n"
    "`appsrc ! ELEMENT ! fakesink sync=false` over --frames frames (the clip forward and back),\n"
    "--runs times (default 3). ELEMENT is flagmask (MODE: cutout, alpha, mask or overlay; seeded\n"
    "with the clip's first mask), or identity, grabcut or segmentation (MODE: -). Prints one line\n"
    "of JSON on stdout:\n"
    "  {\"row\": ID, \"frames\": N, \"clip_frames\": N, \"ms\": [...], \"cpu_ms\": [...],\n"
    "   \"base_kb\": N, \"peak_kb\": N}\n"
    "ms is the wall time per frame of each run, from the first buffer asked for to end of stream\n"
    "at the sink; cpu_ms the user+system CPU time of this process (all its threads) per frame "
    "over\n"
    "the same span; base_kb and peak_kb the resident memory before the runs and its peak during\n"
    "them (-1 where the kernel cannot restart the peak).\n"
    "\n"
    "--probe: prints one line of JSON: the GStreamer and OpenCV versions, the flagmask plugin\n"
    "found, the refinement network it loads by default ('' for none), which of identity,\n"
    "flagmask, grabcut and segmentation are installed, which --formats GStreamer does not know,\n"
    "and the clip the input options choose:\n"
    "  {\"gstreamer\": S, \"opencv\": S, \"flagmask\": {\"version\": S, \"file\": S} | null,\n"
    "   \"network\": S,\n"
    "   \"elements\": {NAME: BOOL, ...}, \"unknown_formats\": [S, ...],\n"
    "   \"input\": {\"davis\": S, \"seq\": S, \"video\": S, \"seed_mask\": S, \"description\": S}\n"
    "            | null, \"input_error\": S | null}\n"
    "input and input_error are both null when nothing names a clip and there is no DAVIS data.\n"
    "\n"
    "INPUT: --video FILE --seed-mask FILE; or --davis DIR and/or --seq NAME (DIR default:\n"
    "$FLAGMASK_DAVIS, else " FLAGMASK_DEFAULT_DAVIS "; NAME default: the first of\n"
    "ImageSets/480p/dev.txt).\n"
    "\n"
    "Exit status: 0 done, 1 the row or the input failed, 2 bad command line.\n";

const char *const kElements[] = {"identity", "flagmask", "grabcut", "segmentation"};

// The frame rate stamped on DAVIS frames (DAVIS was shot at 24 frames/s).
constexpr int kDavisFps = 24;
// How long one pipeline may take before it is declared stuck.
constexpr GstClockTime kPipelineTimeout = 600 * GST_SECOND;

struct Options {
  std::string davis, seq, video, seed_mask;
  std::string row;                  // --row: the row to measure
  bool probe = false;               // --probe: describe instead
  std::vector<std::string> formats; // --probe: the names to check
  int runs = 3, frames = 150;
  int working_size = 0; // flagmask's working-size; 0 = the element's default
};

// ---- GStreamer plumbing ----

// A pipeline held by g_autoptr(BenchPipeline) is brought back to NULL before it is released,
// however the function holding it is left, so that no streaming thread outlives what it uses.
typedef GstElement BenchPipeline;
void stopPipeline(BenchPipeline *pipeline) {
  gst_element_set_state(pipeline, GST_STATE_NULL);
  gst_object_unref(pipeline);
}
G_DEFINE_AUTOPTR_CLEANUP_FUNC(BenchPipeline, stopPipeline)

// The named element of a bin, borrowed: the bin keeps it alive.
GstElement *child(GstElement *bin, const char *name) {
  g_autoptr(GstElement) element = gst_bin_get_by_name(GST_BIN(bin), name);
  if (!element)
    throw flagmask::Error(std::string("internal: no element '") + name + "' in the pipeline");
  return element;
}

std::string errorText(GstMessage *msg) {
  g_autoptr(GError) err = nullptr;
  g_autofree gchar *debug = nullptr;
  gst_message_parse_error(msg, &err, &debug);
  std::string text = std::string(GST_OBJECT_NAME(GST_MESSAGE_SRC(msg))) + ": " + err->message;
  if (debug)
    text += std::string(" (") + debug + ")";
  return text;
}

// The first error the pipeline posted, as text; empty when there was none.
std::string postedError(GstElement *pipeline) {
  g_autoptr(GstBus) bus = gst_element_get_bus(pipeline);
  g_autoptr(GstMessage) msg = gst_bus_pop_filtered(bus, GST_MESSAGE_ERROR);
  return msg ? errorText(msg) : "";
}

// Waits for EOS; an error message, a timeout or a failed state change becomes an exception.
void playToEos(GstElement *pipeline, const std::string &what) {
  if (gst_element_set_state(pipeline, GST_STATE_PLAYING) == GST_STATE_CHANGE_FAILURE) {
    const std::string error = postedError(pipeline);
    throw flagmask::Error(what + ": could not start" + (error.empty() ? "" : ": " + error));
  }
  g_autoptr(GstBus) bus = gst_element_get_bus(pipeline);
  g_autoptr(GstMessage) msg = gst_bus_timed_pop_filtered(
      bus, kPipelineTimeout, static_cast<GstMessageType>(GST_MESSAGE_EOS | GST_MESSAGE_ERROR));
  if (!msg)
    throw flagmask::Error(what + ": no end of stream after " +
                          std::to_string(kPipelineTimeout / GST_SECOND) + " s");
  if (GST_MESSAGE_TYPE(msg) == GST_MESSAGE_ERROR)
    throw flagmask::Error(what + ": " + errorText(msg));
}

BenchPipeline *parsePipeline(const std::string &description) {
  g_autoptr(GError) err = nullptr;
  g_autoptr(BenchPipeline) pipeline = gst_parse_launch(description.c_str(), &err);
  if (err)
    throw flagmask::Error("could not build '" + description + "': " + err->message);
  return g_steal_pointer(&pipeline);
}

bool hasElement(const char *name) {
  g_autoptr(GstPluginFeature) feature = gst_registry_lookup_feature(gst_registry_get(), name);
  return feature != nullptr;
}

// ---- the input clip ----

struct Input {
  std::string davis, seq;  // a DAVIS-layout sequence,
  std::string video;       // or a video file
  std::string seed_mask;   // mask of the first frame
  std::string description; // for the report

  std::string framesPattern() const {
    return (fs::path(davis) / "JPEGImages/480p" / seq / "%05d.jpg").string();
  }
};

// A clip is a sample: its caps, and its frames as a buffer list, each frame in the format's
// default layout (no padding), so that a plain memory copy of one makes a valid frame.
GstVideoInfo clipInfo(GstSample *clip) {
  GstVideoInfo info;
  if (!gst_video_info_from_caps(&info, gst_sample_get_caps(clip)))
    throw flagmask::Error("unusable caps for a decoded clip");
  return info;
}

GstCaps *rawCaps(const std::string &format, int width, int height) {
  return gst_caps_new_simple("video/x-raw", "format", G_TYPE_STRING, format.c_str(), "width",
                             G_TYPE_INT, width, "height", G_TYPE_INT, height, "pixel-aspect-ratio",
                             GST_TYPE_FRACTION, 1, 1, nullptr);
}

// The decoded frame copied into a fresh buffer of the default layout.
GstBuffer *packed(GstSample *sample, const GstVideoInfo &info) {
  g_autoptr(GstBuffer) out = gst_buffer_new_allocate(nullptr, info.size, nullptr);
  GstVideoFrame src, dst;
  if (!gst_video_frame_map(&src, &info, gst_sample_get_buffer(sample), GST_MAP_READ))
    throw flagmask::Error("could not map a decoded frame");
  if (!gst_video_frame_map(&dst, &info, out, GST_MAP_WRITE)) {
    gst_video_frame_unmap(&src);
    throw flagmask::Error("could not map a frame buffer");
  }
  gst_video_frame_copy(&dst, &src);
  gst_video_frame_unmap(&dst);
  gst_video_frame_unmap(&src);
  return g_steal_pointer(&out);
}

// Up to max_frames frames from the sink, as a clip (empty when none came).
GstSample *pullClip(GstAppSink *sink, int max_frames) {
  g_autoptr(GstBufferList) frames = gst_buffer_list_new();
  g_autoptr(GstCaps) caps = nullptr;
  GstVideoInfo info;
  while (static_cast<int>(gst_buffer_list_length(frames)) < max_frames) {
    g_autoptr(GstSample) sample = gst_app_sink_try_pull_sample(sink, kPipelineTimeout);
    if (!sample)
      break;
    if (!caps) {
      caps = gst_caps_ref(gst_sample_get_caps(sample));
      if (!gst_video_info_from_caps(&info, caps))
        throw flagmask::Error("unusable caps");
    }
    gst_buffer_list_add(frames, packed(sample, info));
  }
  GstSample *clip = gst_sample_new(nullptr, caps, nullptr, nullptr);
  gst_sample_set_buffer_list(clip, frames);
  return clip;
}

// Runs `SOURCE ! videoconvert ! videoscale ! videoconvert ! CAPS ! appsink` and keeps up to
// max_frames frames. `source` names its first element "src", whose location is set to `location`.
GstSample *decodeToMemory(const std::string &source, const std::string &location, GstCaps *caps,
                          const std::string &scale_method, int max_frames) {
  g_autoptr(BenchPipeline) p = parsePipeline(
      source + " ! videoconvert ! videoscale method=" + scale_method +
      " ! videoconvert ! capsfilter name=caps ! appsink name=sink sync=false max-buffers=2");
  g_object_set(child(p, "src"), "location", location.c_str(), nullptr);
  g_object_set(child(p, "caps"), "caps", caps, nullptr);
  const std::string what = "decoding '" + location + "'";
  if (gst_element_set_state(p, GST_STATE_PLAYING) == GST_STATE_CHANGE_FAILURE)
    throw flagmask::Error(what + ": the pipeline did not start");
  g_autoptr(GstSample) clip = nullptr;
  try {
    clip = pullClip(GST_APP_SINK(child(p, "sink")), max_frames);
  } catch (const std::exception &e) {
    throw flagmask::Error(what + ": " + e.what());
  }
  const std::string error = postedError(p);
  if (!error.empty()) // a clip that breaks half-way is not the clip that was asked for
    throw flagmask::Error(what + ": " + error);
  if (gst_buffer_list_length(gst_sample_get_buffer_list(clip)) == 0)
    throw flagmask::Error(what + ": no frame decoded");
  return g_steal_pointer(&clip);
}

GstSample *loadClip(const Input &input, const std::string &format, const bench::SizePreset &size,
                    int max_frames) {
  g_autoptr(GstCaps) caps = rawCaps(format, size.width, size.height);
  if (!input.video.empty())
    return decodeToMemory("filesrc name=src ! decodebin", input.video, caps, "bilinear",
                          max_frames);
  const std::string source =
      "multifilesrc name=src index=0 caps=image/jpeg,framerate=" + std::to_string(kDavisFps) +
      "/1 ! jpegdec";
  return decodeToMemory(source, input.framesPattern(), caps, "bilinear", max_frames);
}

// The seed mask at the frame size, one byte per pixel, non-zero = object (as the element reads
// it: any non-zero colour channel). Scaled with nearest neighbour so that labels stay labels.
std::vector<unsigned char> loadSeed(const std::string &file, const bench::SizePreset &size) {
  g_autoptr(GstCaps) caps = rawCaps("RGBx", size.width, size.height);
  g_autoptr(GstSample) mask =
      decodeToMemory("filesrc name=src ! decodebin", file, caps, "nearest-neighbour", 1);
  const GstVideoInfo info = clipInfo(mask);
  GstBuffer *frame = gst_buffer_list_get(gst_sample_get_buffer_list(mask), 0);
  GstMapInfo map;
  if (!gst_buffer_map(frame, &map, GST_MAP_READ))
    throw flagmask::Error("could not map the seed mask");
  std::vector<unsigned char> object(static_cast<size_t>(size.width) * size.height);
  const int stride = GST_VIDEO_INFO_PLANE_STRIDE(&info, 0);
  for (int y = 0; y < size.height; ++y)
    for (int x = 0; x < size.width; ++x) {
      const unsigned char *px = map.data + static_cast<size_t>(y) * stride + 4 * x;
      object[static_cast<size_t>(y) * size.width + x] = (px[0] | px[1] | px[2]) != 0;
    }
  gst_buffer_unmap(frame, &map);
  return object;
}

// ---- the row ----

struct RowSpec {
  std::string element, mode, format, size; // mode "-" for elements without one

  std::string id() const { return element + ":" + mode + ":" + format + ":" + size; }
  std::string label() const {
    return element + (mode == "-" ? "" : " " + mode) + " " + format + " " + size;
  }
};

RowSpec parseRowId(const std::string &id) {
  RowSpec r;
  std::istringstream in(id);
  if (!std::getline(in, r.element, ':') || !std::getline(in, r.mode, ':') ||
      !std::getline(in, r.format, ':') || !std::getline(in, r.size))
    throw cli::UsageError("bad --row '" + id + "' (ELEMENT:MODE:FORMAT:SIZE)");
  return r;
}

struct Box {
  int x = 0, y = 0, width = 0, height = 0;
};

// grabcut's hint: the seed's bounding box grown by a quarter on each side, so that the object may
// move inside it. grabcut has no memory between frames, so every frame gets the first frame's box.
Box grabcutBox(const std::vector<unsigned char> &seed, int w, int h) {
  int x0 = w, y0 = h, x1 = -1, y1 = -1;
  for (int y = 0; y < h; ++y)
    for (int x = 0; x < w; ++x)
      if (seed[static_cast<size_t>(y) * w + x]) {
        x0 = std::min(x0, x), x1 = std::max(x1, x), y0 = std::min(y0, y), y1 = std::max(y1, y);
      }
  if (x1 < 0)
    throw flagmask::Error("the seed mask has no object pixel");
  const int mx = (x1 - x0 + 1) / 4, my = (y1 - y0 + 1) / 4;
  x0 = std::max(0, x0 - mx), x1 = std::min(w - 1, x1 + mx);
  y0 = std::max(0, y0 - my), y1 = std::min(h - 1, y1 + my);
  return {x0, y0, x1 - x0 + 1, y1 - y0 + 1};
}

// The box is passed as a region-of-interest meta (what facedetect attaches): grabcut also
// documents an alpha-channel hint, but the 1.22 element skipped every frame given one ("No face
// info present, skipping frame"), which would have timed a no-op. With scale=1 grabcut shrinks
// the meta's width to 0.9 and stretches its height to 1.1 times, so we undo that.
void addGrabcutMeta(GstBuffer *buffer, const Box &box) {
  gst_buffer_add_video_region_of_interest_meta(buffer, "face", box.x, box.y,
                                               static_cast<guint>(box.width / 0.9),
                                               static_cast<guint>(box.height / 1.1));
}

// This process's user+system CPU time, all threads, in milliseconds.
double processCpuMs() {
  struct rusage usage {};
  getrusage(RUSAGE_SELF, &usage);
  const timeval &u = usage.ru_utime, &s = usage.ru_stime;
  return (u.tv_sec + s.tv_sec) * 1e3 + (u.tv_usec + s.tv_usec) / 1e3;
}

// Feeds appsrc from its own streaming thread (need-data fires there when its queue is empty),
// one pooled copy at a time, so copying and processing never overlap: the floor then holds the
// copy exactly once and subtracts it exactly.
struct Feeder {
  GstBufferList *clip = nullptr;
  GstBufferPool *pool = nullptr;
  int frames = 0, pushed = 0;
  GstClockTime duration = 0;
  const Box *roi = nullptr; // grabcut's hint, on every buffer
  std::chrono::steady_clock::time_point start, end;
  double cpu_start_ms = 0, cpu_end_ms = 0;
  bool failed = false;
};

// The next frame of the run in a writable buffer from the pool, stamped; nullptr on failure.
GstBuffer *nextFrame(const Feeder &f) {
  g_autoptr(GstBuffer) copy = nullptr;
  if (gst_buffer_pool_acquire_buffer(f.pool, &copy, nullptr) != GST_FLOW_OK)
    return nullptr;
  GstBuffer *frame =
      gst_buffer_list_get(f.clip, bench::pingPong(f.pushed, gst_buffer_list_length(f.clip)));
  GstMapInfo map;
  if (!gst_buffer_map(frame, &map, GST_MAP_READ))
    return nullptr;
  gst_buffer_fill(copy, 0, map.data, map.size);
  gst_buffer_unmap(frame, &map);
  GST_BUFFER_PTS(copy) = f.pushed * f.duration;
  GST_BUFFER_DURATION(copy) = f.duration;
  if (f.roi)
    addGrabcutMeta(copy, *f.roi);
  return g_steal_pointer(&copy);
}

void onNeedData(GstAppSrc *src, guint, gpointer data) {
  auto *f = static_cast<Feeder *>(data);
  if (f->pushed == 0) {
    f->start = std::chrono::steady_clock::now();
    f->cpu_start_ms = processCpuMs();
  }
  if (f->pushed >= f->frames) {
    gst_app_src_end_of_stream(src);
    return;
  }
  GstBuffer *frame = nextFrame(*f);
  if (!frame) {
    f->failed = true;
    gst_app_src_end_of_stream(src);
    return;
  }
  ++f->pushed;
  gst_app_src_push_buffer(src, frame);
}

GstPadProbeReturn onSinkEvent(GstPad *, GstPadProbeInfo *info, gpointer data) {
  if (GST_EVENT_TYPE(GST_PAD_PROBE_INFO_EVENT(info)) == GST_EVENT_EOS) {
    auto *f = static_cast<Feeder *>(data);
    f->end = std::chrono::steady_clock::now();
    f->cpu_end_ms = processCpuMs();
  }
  return GST_PAD_PROBE_OK;
}

GstBufferPool *framePool(GstCaps *caps, gsize frame_size) {
  g_autoptr(GstBufferPool) pool = gst_buffer_pool_new();
  GstStructure *config = gst_buffer_pool_get_config(pool);
  gst_buffer_pool_config_set_params(config, caps, frame_size, 2, 0);
  if (!gst_buffer_pool_set_config(pool, config) || !gst_buffer_pool_set_active(pool, TRUE))
    throw flagmask::Error("could not set up a buffer pool");
  return g_steal_pointer(&pool);
}

// What the runs of one row are, beside the clip.
struct RunSetup {
  RowSpec row;
  std::string seed_mask;  // flagmask's seed-mask
  int working_size = 0;   // flagmask's working-size; 0 = the element's default
  int frames = 0;         // per run
  std::optional<Box> roi; // grabcut's hint, on every buffer
};

GstElement *makeElement(const RunSetup &setup) {
  const RowSpec &row = setup.row;
  GstElement *e = gst_element_factory_make(row.element.c_str(), "under-test");
  if (!e)
    throw flagmask::Error("no element '" + row.element + "'" +
                          (row.element == "flagmask" ? " (set GST_PLUGIN_PATH to build/gst)" : ""));
  if (row.element == "flagmask") {
    gst_util_set_object_arg(G_OBJECT(e), "mode", row.mode.c_str());
    g_object_set(e, "seed-mask", setup.seed_mask.c_str(), nullptr);
    if (setup.working_size > 0)
      g_object_set(e, "working-size", static_cast<guint>(setup.working_size), nullptr);
  } else if (row.element == "grabcut") {
    g_object_set(e, "scale", 1.0f, nullptr); // the box we give is already grown
  }
  return e;
}

// `appsrc ! ELEMENT ! fakesink`, appsrc fed by `feeder` and the sink's EOS stopping its clocks.
BenchPipeline *timedPipeline(GstCaps *caps, const RunSetup &setup, Feeder &feeder) {
  g_autoptr(BenchPipeline) p = gst_pipeline_new("bench");
  GstElement *element = makeElement(setup);
  gst_bin_add(GST_BIN(p), element);
  GstElement *src = gst_element_factory_make("appsrc", nullptr);
  GstElement *sink = gst_element_factory_make("fakesink", nullptr);
  if (!src || !sink)
    throw flagmask::Error("no appsrc or fakesink (gstreamer1.0-plugins-base, core)");
  gst_bin_add_many(GST_BIN(p), src, sink, nullptr);
  g_object_set(src, "caps", caps, "format", GST_FORMAT_TIME, nullptr);
  g_object_set(sink, "sync", FALSE, "enable-last-sample", FALSE, nullptr);
  if (!gst_element_link_many(src, element, sink, nullptr))
    throw flagmask::Error("could not link appsrc ! " + setup.row.element + " ! fakesink");
  GstAppSrcCallbacks callbacks{};
  callbacks.need_data = onNeedData;
  gst_app_src_set_callbacks(GST_APP_SRC(src), &callbacks, &feeder, nullptr);
  g_autoptr(GstPad) sink_pad = gst_element_get_static_pad(sink, "sink");
  gst_pad_add_probe(sink_pad, GST_PAD_PROBE_TYPE_EVENT_DOWNSTREAM, onSinkEvent, &feeder, nullptr);
  return g_steal_pointer(&p);
}

struct RunTime {
  double ms, cpu_ms; // per frame
};

// One timed run: from the first buffer asked for to end of stream at the sink.
RunTime timeRun(GstSample *clip, const RunSetup &setup) {
  const GstVideoInfo info = clipInfo(clip);
  g_autoptr(GstBufferPool) pool = framePool(gst_sample_get_caps(clip), info.size);
  Feeder feeder;
  feeder.clip = gst_sample_get_buffer_list(clip);
  feeder.pool = pool;
  feeder.frames = setup.frames;
  feeder.roi = setup.roi ? &*setup.roi : nullptr;
  const int fps_n = GST_VIDEO_INFO_FPS_N(&info), fps_d = GST_VIDEO_INFO_FPS_D(&info);
  feeder.duration =
      fps_n > 0 ? gst_util_uint64_scale_int(GST_SECOND, fps_d, fps_n) : GST_SECOND / kDavisFps;
  // Declared after the pool and the feeder, so that it stops before they go.
  g_autoptr(BenchPipeline) p = timedPipeline(gst_sample_get_caps(clip), setup, feeder);
  playToEos(p, "the timed pipeline");
  gst_element_set_state(p, GST_STATE_NULL);
  if (feeder.failed || feeder.pushed != setup.frames)
    throw flagmask::Error(setup.row.label() + ": only " + std::to_string(feeder.pushed) + " of " +
                          std::to_string(setup.frames) + " frames were pushed");
  const double ms = std::chrono::duration<double, std::milli>(feeder.end - feeder.start).count();
  return {ms / setup.frames, (feeder.cpu_end_ms - feeder.cpu_start_ms) / setup.frames};
}

// A value in kB from /proc/self/status (VmRSS, VmHWM), or -1.
long statusKb(const std::string &key) {
  std::ifstream in("/proc/self/status");
  for (std::string line; std::getline(in, line);)
    if (line.rfind(key + ":", 0) == 0)
      return std::atol(line.c_str() + key.size() + 1);
  return -1;
}

// Makes the memory the timed runs add measurable on its own: hands the decoder's freed memory
// back to the system (else the element would reuse it unseen) and restarts the peak (VmHWM).
// Returns the resident size the runs start from, or -1 where the kernel does not allow it.
long startRunMemory() {
  malloc_trim(0);
  std::ofstream clear("/proc/self/clear_refs");
  clear << "5";
  clear.flush();
  return clear ? statusKb("VmRSS") : -1;
}

// ---- one line of JSON ----

std::string jsonString(const std::string &text) {
  std::string out = "\"";
  for (const char c : text) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (static_cast<unsigned char>(c) < 0x20) {
      char escaped[8];
      std::snprintf(escaped, sizeof escaped, "\\u%04x", c);
      out += escaped;
    } else {
      out += c;
    }
  }
  return out + "\"";
}

std::string jsonNumbers(const std::vector<double> &values) {
  std::string out = "[";
  for (size_t i = 0; i < values.size(); ++i) {
    char number[32];
    std::snprintf(number, sizeof number, "%.6f", values[i]);
    out += (i ? ", " : "") + std::string(number);
  }
  return out + "]";
}

// ---- choosing the input ----

// The sequence run without --seq: the first that dev.txt names, else (no dev.txt, or an empty one)
// the first sequence folder.
std::string firstDevSequence(const fs::path &root) {
  std::ifstream set(root / "ImageSets/480p/dev.txt");
  std::string first;
  if (set >> first)
    return flagmask::davis::sequenceOf(first);
  const std::vector<std::string> names = flagmask::davis::sequenceFolders(root);
  if (names.empty())
    throw flagmask::Error("no sequence under '" + (root / "JPEGImages/480p").string() + "'");
  return names.front();
}

Input davisInput(const fs::path &root, const std::string &seq_option) {
  flagmask::davis::requireLayout(root);
  Input in;
  in.davis = fs::weakly_canonical(fs::absolute(root)).string();
  in.seq = seq_option.empty() ? firstDevSequence(root) : seq_option;
  const fs::path first = fs::path(in.davis) / "JPEGImages/480p" / in.seq / "00000.jpg";
  if (!fs::exists(first))
    throw flagmask::Error("no frame '" + first.string() + "'");
  in.seed_mask = (fs::path(in.davis) / "Annotations/480p" / in.seq / "00000.png").string();
  if (!fs::exists(in.seed_mask))
    throw flagmask::Error("no seed mask '" + in.seed_mask + "'");
  in.description = "DAVIS sequence '" + in.seq + "' (" + in.framesPattern() + ", 24 frames/s)";
  return in;
}

Input videoInput(const Options &o) {
  Input in;
  in.video = fs::absolute(o.video).string();
  in.seed_mask = fs::absolute(o.seed_mask).string();
  for (const std::string &f : {in.video, in.seed_mask})
    if (!fs::is_regular_file(f))
      throw flagmask::Error("no file '" + f + "'");
  in.description = "video '" + in.video + "', seed mask '" + in.seed_mask + "'";
  return in;
}

// The clip the options name: --video, else DAVIS data; nothing when neither is there (the driver
// then writes a synthetic one).
std::optional<Input> chooseClip(const Options &o) {
  if (!o.video.empty())
    return videoInput(o);
  if (!o.davis.empty())
    return davisInput(o.davis, o.seq);
  const char *env = std::getenv("FLAGMASK_DAVIS");
  if (env && *env) // asked for by name, so its absence is an error, as with --davis
    return davisInput(env, o.seq);
  const fs::path root(FLAGMASK_DEFAULT_DAVIS);
  if (!root.empty() && fs::is_directory(root / "JPEGImages/480p"))
    return davisInput(root, o.seq);
  if (!o.seq.empty())
    throw flagmask::Error("no DAVIS data for --seq " + o.seq +
                          ": give --davis or set FLAGMASK_DAVIS");
  return std::nullopt;
}

// ---- --row ----

// Decodes, times, and prints the row's line.
int measureRow(const Options &o, const Input &input) {
  RunSetup setup{parseRowId(o.row), input.seed_mask, o.working_size, o.frames, std::nullopt};
  const bench::SizePreset &size = bench::sizePreset(setup.row.size);
  g_autoptr(GstSample) clip = loadClip(input, setup.row.format, size, o.frames);
  if (setup.row.element == "grabcut")
    setup.roi = grabcutBox(loadSeed(input.seed_mask, size), size.width, size.height);
  const long base_kb = startRunMemory();
  std::vector<double> ms, cpu_ms;
  for (int r = 0; r < o.runs; ++r) {
    const RunTime t = timeRun(clip, setup);
    ms.push_back(t.ms);
    cpu_ms.push_back(t.cpu_ms);
  }
  const long peak_kb = base_kb < 0 ? -1 : statusKb("VmHWM");
  std::cout << "{\"row\": " << jsonString(setup.row.id()) << ", \"frames\": " << o.frames
            << ", \"clip_frames\": " << gst_buffer_list_length(gst_sample_get_buffer_list(clip))
            << ", \"ms\": " << jsonNumbers(ms) << ", \"cpu_ms\": " << jsonNumbers(cpu_ms)
            << ", \"base_kb\": " << base_kb << ", \"peak_kb\": " << peak_kb << "}" << std::endl;
  return 0;
}

// Its errors name the row, as the driver shows them among the other rows' output.
int measureOneRow(const Options &o) {
  try {
    const std::optional<Input> input = chooseClip(o);
    if (!input)
      throw flagmask::Error("no input: give --davis or --video");
    return measureRow(o, *input);
  } catch (const std::exception &e) {
    throw flagmask::Error("row " + o.row + ": " + e.what());
  }
}

// ---- --probe ----

std::string pluginJson() {
  g_autoptr(GstPlugin) plugin = gst_registry_find_plugin(gst_registry_get(), "flagmask");
  if (!plugin)
    return "null";
  const gchar *file = gst_plugin_get_filename(plugin);
  return "{\"version\": " + jsonString(gst_plugin_get_version(plugin)) +
         ", \"file\": " + jsonString(file ? fs::absolute(file).lexically_normal().string() : "?") +
         "}";
}

std::string elementsJson() {
  std::string out = "{";
  for (const char *name : kElements)
    out += (out.size() > 1 ? ", " : "") + jsonString(name) + ": " +
           (hasElement(name) ? "true" : "false");
  return out + "}";
}

std::string unknownFormatsJson(const std::vector<std::string> &formats) {
  std::string out = "[";
  for (const std::string &f : formats)
    if (gst_video_format_from_string(f.c_str()) == GST_VIDEO_FORMAT_UNKNOWN)
      out += (out.size() > 1 ? ", " : "") + jsonString(f);
  return out + "]";
}

// "input": ..., "input_error": ...: a failure to find the clip is reported, not thrown, so that
// the driver can first finish checking the command line.
std::string inputJson(const Options &o) {
  try {
    const std::optional<Input> in = chooseClip(o);
    if (!in)
      return "\"input\": null, \"input_error\": null";
    return "\"input\": {\"davis\": " + jsonString(in->davis) + ", \"seq\": " + jsonString(in->seq) +
           ", \"video\": " + jsonString(in->video) +
           ", \"seed_mask\": " + jsonString(in->seed_mask) +
           ", \"description\": " + jsonString(in->description) + "}, \"input_error\": null";
  } catch (const std::exception &e) {
    return "\"input\": null, \"input_error\": " + jsonString(e.what());
  }
}

int probe(const Options &o) {
  g_autofree gchar *gstreamer = gst_version_string();
  std::cout << "{\"gstreamer\": " << jsonString(gstreamer)
            << ", \"opencv\": " << jsonString(CV_VERSION) << ", \"flagmask\": " << pluginJson()
            << ", \"network\": " << jsonString(flagmask::defaultNetworkPath())
            << ", \"elements\": " << elementsJson()
            << ", \"unknown_formats\": " << unknownFormatsJson(o.formats) << ", " << inputJson(o)
            << "}" << std::endl;
  return 0;
}

// ---- command line and main ----

void validate(const Options &o) {
  if (o.probe == !o.row.empty())
    throw cli::UsageError("give one of --row and --probe");
  if (!o.row.empty())
    bench::sizePreset(parseRowId(o.row).size); // throws on a bad row or size
  if (!o.video.empty() && o.seed_mask.empty())
    throw cli::UsageError("--video needs --seed-mask, the mask of its first frame");
  if (o.video.empty() && !o.seed_mask.empty())
    throw cli::UsageError("--seed-mask goes with --video (DAVIS sequences bring their own)");
  if (!o.video.empty() && (!o.davis.empty() || !o.seq.empty()))
    throw cli::UsageError("give either --video or --davis/--seq, not both");
}

// Takes argv[i] (and its value) when it names the input; false leaves i as it was.
bool takeInput(Options &o, int argc, char **argv, int &i) {
  const std::string a = argv[i];
  std::string *target = a == "--davis"       ? &o.davis
                        : a == "--seq"       ? &o.seq
                        : a == "--video"     ? &o.video
                        : a == "--seed-mask" ? &o.seed_mask
                                             : nullptr;
  if (target)
    *target = cli::value(argc, argv, i);
  return target != nullptr;
}

Options parse(int argc, char **argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    cli::answerHelp(a, kUsage);
    if (takeInput(o, argc, argv, i))
      continue;
    if (a == "--row")
      o.row = cli::value(argc, argv, i);
    else if (a == "--probe")
      o.probe = true;
    else if (a == "--formats")
      o.formats = bench::splitList(cli::value(argc, argv, i));
    else if (a == "--runs")
      o.runs = bench::positive(a, cli::value(argc, argv, i));
    else if (a == "--frames")
      o.frames = bench::positive(a, cli::value(argc, argv, i));
    else if (a == "--working-size")
      o.working_size = bench::positive(a, cli::value(argc, argv, i));
    else
      throw cli::unknownArgument(a);
  }
  validate(o);
  return o;
}

} // namespace

int main(int argc, char **argv) {
  gst_init(nullptr, nullptr);
  return cli::runTool("flagmask-bench-row", argc, argv, parse,
                      [](const Options &o) { return o.probe ? probe(o) : measureOneRow(o); });
}
