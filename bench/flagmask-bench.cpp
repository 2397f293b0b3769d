// flagmask-bench: times the flagmask element, and the GStreamer elements it is compared with,
// inside real pipelines. Each clip is decoded, scaled and converted once into memory and then
// pushed through `appsrc ! ELEMENT ! fakesink`, so the figures are the element's cost rather than
// the decoder's. Each row runs in a child process of its own so that its peak memory is its own.
#include "error.h"
#include "tools/cli.h"
#include "tools/selection.h"

#include <gst/app/gstappsink.h>
#include <gst/app/gstappsrc.h>
#include <gst/gst.h>
#include <gst/video/video.h>

#include <malloc.h>
#include <spawn.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <memory>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#ifndef FLAGMASK_DEFAULT_DAVIS
#define FLAGMASK_DEFAULT_DAVIS ""
#endif
#ifndef FLAGMASK_OPENCV_VERSION
#define FLAGMASK_OPENCV_VERSION "unknown"
#endif

extern char **environ;

namespace fs = std::filesystem;

namespace {

constexpr const char *kUsage =
    "usage: flagmask-bench [--davis DIR] [--seq NAME | --video FILE --seed-mask PNG] [options]\n"
    "\n"
    "Measures what the flagmask element costs per frame inside a GStreamer pipeline. The clip is\n"
    "decoded, scaled to each size and converted to each format once, into memory; each row then\n"
    "times `appsrc ! ELEMENT ! fakesink sync=false` over --frames frames (the clip played forward\n"
    "and back until there are enough), --runs times, each row in a child process of its own.\n"
    "`identity` in the same format and size is the floor; element cost = row median - floor\n"
    "median. The opencv elements grabcut and segmentation (gstreamer1.0-opencv) are timed\n"
    "beside it in RGBA when installed: grabcut on the seed's bounding box, grown, on every\n"
    "frame (2 frames per run at most: it takes seconds per frame), segmentation (mog2) as is.\n"
    "Prints a markdown table on stdout, progress on stderr.\n"
    "\n"
    "Input, in this order: --video FILE with --seed-mask (any format decodebin reads); else the\n"
    "DAVIS sequence --seq (default: the first of ImageSets/480p/dev.txt) under --davis DIR,\n"
    "$FLAGMASK_DAVIS or " FLAGMASK_DEFAULT_DAVIS ";\n"
    "else a waving flag written by flagmask-synth (854x480, 60 frames) into a temporary folder.\n"
    "\n"
    "  --davis DIR         DAVIS-layout folder (JPEGImages/480p/SEQ/%05d.jpg, Annotations/...)\n"
    "  --seq NAME          the DAVIS sequence\n"
    "  --video FILE        a video file instead of DAVIS frames (needs --seed-mask)\n"
    "  --seed-mask FILE    mask image of the video's first frame (non-zero = object)\n"
    "  --sizes LIST        of 480p (854x480), 720p (1280x720), 1080p (1920x1080);\n"
    "                      default 480p,720p,1080p; frames are scaled to exactly that size\n"
    "  --modes LIST        flagmask modes, default cutout,alpha,mask,overlay; each runs in\n"
    "                      I420 at every size, except alpha, which needs an alpha format and\n"
    "                      runs in RGBA\n"
    "  --formats LIST      more formats for mode cutout at the largest size,\n"
    "                      default NV12,BGRx,RGBA ('' for none)\n"
    "  --runs N            timed runs per row, default 3 (median and min are reported)\n"
    "  --frames N          frames per run, default 150\n"
    "  --working-size N    set flagmask's working-size property (default: the element's)\n"
    "  --quick             a short run (what `meson test --benchmark` does): --sizes 480p\n"
    "                      --frames 30 --runs 2, unless given\n"
    "  -h, --help          this text\n"
    "\n"
    "Exit status: 0 all rows measured, 1 a row or the input failed (the message says which),\n"
    "2 bad command line.\n";

struct SizePreset {
  const char *name;
  int width, height;
};
constexpr SizePreset kSizes[] = {{"480p", 854, 480}, {"720p", 1280, 720}, {"1080p", 1920, 1080}};
const std::vector<std::string> kModes = {"cutout", "alpha", "mask", "overlay"};
const std::vector<std::string> kPeers = {"grabcut", "segmentation"};

// The flagmask modes run in this format; alpha needs a format with an alpha channel.
const char *kBaseFormat = "I420";
const char *kAlphaFormat = "RGBA";
// The opencv elements accept RGBA only.
const char *kPeerFormat = "RGBA";
// The frame rate stamped on DAVIS frames (DAVIS was shot at 24 frames/s).
constexpr int kDavisFps = 24;
// grabcut takes seconds per frame and keeps nothing from one frame to the next, so a few frames
// per run give its figure; more would only make the run long.
constexpr int kGrabcutFrames = 2;
// How long one pipeline may take before it is declared stuck.
constexpr GstClockTime kPipelineTimeout = 600 * GST_SECOND;

struct Options {
  std::string davis, seq, video, seed_mask;
  std::vector<std::string> sizes{"480p", "720p", "1080p"};
  std::vector<std::string> modes = kModes;
  std::vector<std::string> formats{"NV12", "BGRx", "RGBA"};
  int runs = 3, frames = 150;
  int working_size = 0; // flagmask's working-size; 0 = the element's default
  bool quick = false;
  std::string row; // hidden: measure this one row in this process (the parent's children do)
};

// ---- small GStreamer ownership helpers ----

struct GstUnref {
  void operator()(GstElement *e) const { gst_object_unref(e); }
  void operator()(GstBus *b) const { gst_object_unref(b); }
  void operator()(GstPad *p) const { gst_object_unref(p); }
  void operator()(GstBufferPool *p) const { gst_object_unref(p); }
  void operator()(GstBuffer *b) const { gst_buffer_unref(b); }
  void operator()(GstCaps *c) const { gst_caps_unref(c); }
  void operator()(GstSample *s) const { gst_sample_unref(s); }
  void operator()(GstMessage *m) const { gst_message_unref(m); }
};
template <class T> using GstPtr = std::unique_ptr<T, GstUnref>;

// A pipeline that is always brought back to NULL before it is released, however we leave.
struct Pipeline {
  GstPtr<GstElement> element;
  explicit Pipeline(GstElement *e) : element(e) {}
  ~Pipeline() {
    if (element)
      gst_element_set_state(element.get(), GST_STATE_NULL);
  }
  GstElement *get() const { return element.get(); }
  GstElement *byName(const char *name) const {
    GstElement *e = gst_bin_get_by_name(GST_BIN(element.get()), name);
    if (!e)
      throw flagmask::Error(std::string("internal: no element '") + name + "' in the pipeline");
    gst_object_unref(e); // the bin keeps it alive
    return e;
  }
};

std::string errorText(GstMessage *msg) {
  GError *err = nullptr;
  gchar *debug = nullptr;
  gst_message_parse_error(msg, &err, &debug);
  std::string text = std::string(GST_OBJECT_NAME(GST_MESSAGE_SRC(msg))) + ": " + err->message;
  if (debug)
    text += std::string(" (") + debug + ")";
  g_error_free(err);
  g_free(debug);
  return text;
}

// Waits for EOS; an error message, a timeout or a failed state change becomes an exception.
void playToEos(const Pipeline &pipeline, const std::string &what) {
  if (gst_element_set_state(pipeline.get(), GST_STATE_PLAYING) == GST_STATE_CHANGE_FAILURE) {
    GstPtr<GstBus> bus(gst_element_get_bus(pipeline.get()));
    GstPtr<GstMessage> msg(gst_bus_pop_filtered(bus.get(), GST_MESSAGE_ERROR));
    throw flagmask::Error(what + ": could not start" + (msg ? ": " + errorText(msg.get()) : ""));
  }
  GstPtr<GstBus> bus(gst_element_get_bus(pipeline.get()));
  GstPtr<GstMessage> msg(
      gst_bus_timed_pop_filtered(bus.get(), kPipelineTimeout,
                                 static_cast<GstMessageType>(GST_MESSAGE_EOS | GST_MESSAGE_ERROR)));
  if (!msg)
    throw flagmask::Error(what + ": no end of stream after " +
                          std::to_string(kPipelineTimeout / GST_SECOND) + " s");
  if (GST_MESSAGE_TYPE(msg.get()) == GST_MESSAGE_ERROR)
    throw flagmask::Error(what + ": " + errorText(msg.get()));
}

Pipeline parsePipeline(const std::string &description) {
  GError *err = nullptr;
  GstElement *p = gst_parse_launch(description.c_str(), &err);
  if (err) {
    const std::string text = err->message;
    g_error_free(err);
    if (p)
      gst_object_unref(p);
    throw flagmask::Error("could not build '" + description + "': " + text);
  }
  return Pipeline(p);
}

// ---- the input clip ----

struct Input {
  std::string davis, seq;  // a DAVIS-layout sequence,
  std::string video;       // or a video file
  std::string seed_mask;   // mask of the first frame
  std::string description; // for the report
  int working_size = 0;    // flagmask's working-size property; 0 = its default

  std::string framesPattern() const {
    return (fs::path(davis) / "JPEGImages/480p" / seq / "%05d.jpg").string();
  }
};

// Frames of one format and size, in memory, each in the format's default layout (no padding), so
// that a plain memory copy of one makes a valid frame.
struct Clip {
  std::vector<GstPtr<GstBuffer>> frames;
  GstPtr<GstCaps> caps;
  GstVideoInfo info;
};

GstPtr<GstCaps> rawCaps(const std::string &format, int width, int height) {
  return GstPtr<GstCaps>(gst_caps_new_simple(
      "video/x-raw", "format", G_TYPE_STRING, format.c_str(), "width", G_TYPE_INT, width, "height",
      G_TYPE_INT, height, "pixel-aspect-ratio", GST_TYPE_FRACTION, 1, 1, nullptr));
}

// The decoded frame copied into a fresh buffer of the default layout.
GstPtr<GstBuffer> packed(GstSample *sample, const GstVideoInfo &info) {
  GstPtr<GstBuffer> out(gst_buffer_new_allocate(nullptr, info.size, nullptr));
  GstVideoFrame src, dst;
  if (!gst_video_frame_map(&src, &info, gst_sample_get_buffer(sample), GST_MAP_READ))
    throw flagmask::Error("could not map a decoded frame");
  if (!gst_video_frame_map(&dst, &info, out.get(), GST_MAP_WRITE)) {
    gst_video_frame_unmap(&src);
    throw flagmask::Error("could not map a frame buffer");
  }
  gst_video_frame_copy(&dst, &src);
  gst_video_frame_unmap(&dst);
  gst_video_frame_unmap(&src);
  return out;
}

// Runs `SOURCE ! videoconvert ! videoscale ! videoconvert ! CAPS ! appsink` and keeps up to
// max_frames frames. `source` names its first element "src", whose location is set to `location`.
Clip decodeToMemory(const std::string &source, const std::string &location, const GstCaps *caps,
                    const std::string &scale_method, int max_frames) {
  const Pipeline p = parsePipeline(source + " ! videoconvert ! videoscale method=" + scale_method +
                                   " ! videoconvert ! capsfilter name=caps ! appsink name=sink "
                                   "sync=false max-buffers=2");
  g_object_set(p.byName("src"), "location", location.c_str(), nullptr);
  g_object_set(p.byName("caps"), "caps", caps, nullptr);
  const std::string what = "decoding '" + location + "'";
  if (gst_element_set_state(p.get(), GST_STATE_PLAYING) == GST_STATE_CHANGE_FAILURE)
    throw flagmask::Error(what + ": the pipeline did not start");
  GstAppSink *sink = GST_APP_SINK(p.byName("sink"));
  Clip clip;
  while (static_cast<int>(clip.frames.size()) < max_frames) {
    GstPtr<GstSample> sample(gst_app_sink_try_pull_sample(sink, kPipelineTimeout));
    if (!sample)
      break;
    if (!clip.caps) {
      clip.caps.reset(gst_caps_copy(gst_sample_get_caps(sample.get())));
      if (!gst_video_info_from_caps(&clip.info, clip.caps.get()))
        throw flagmask::Error(what + ": unusable caps");
    }
    clip.frames.push_back(packed(sample.get(), clip.info));
  }
  GstPtr<GstBus> bus(gst_element_get_bus(p.get()));
  GstPtr<GstMessage> error(gst_bus_pop_filtered(bus.get(), GST_MESSAGE_ERROR));
  if (error) // a clip that breaks half-way is not the clip that was asked for
    throw flagmask::Error(what + ": " + errorText(error.get()));
  if (clip.frames.empty())
    throw flagmask::Error(what + ": no frame decoded");
  return clip;
}

Clip loadClip(const Input &input, const std::string &format, const SizePreset &size,
              int max_frames) {
  const GstPtr<GstCaps> caps = rawCaps(format, size.width, size.height);
  if (!input.video.empty())
    return decodeToMemory("filesrc name=src ! decodebin", input.video, caps.get(), "bilinear",
                          max_frames);
  const std::string source =
      "multifilesrc name=src index=0 caps=image/jpeg,framerate=" + std::to_string(kDavisFps) +
      "/1 ! jpegdec";
  return decodeToMemory(source, input.framesPattern(), caps.get(), "bilinear", max_frames);
}

// The seed mask at the frame size, one byte per pixel, non-zero = object (as the element reads
// it: any non-zero colour channel). Scaled with nearest neighbour so that labels stay labels.
std::vector<unsigned char> loadSeed(const std::string &file, const SizePreset &size) {
  const GstPtr<GstCaps> caps = rawCaps("RGBx", size.width, size.height);
  const Clip mask =
      decodeToMemory("filesrc name=src ! decodebin", file, caps.get(), "nearest-neighbour", 1);
  GstMapInfo map;
  if (!gst_buffer_map(mask.frames[0].get(), &map, GST_MAP_READ))
    throw flagmask::Error("could not map the seed mask");
  std::vector<unsigned char> object(static_cast<size_t>(size.width) * size.height);
  const int stride = GST_VIDEO_INFO_PLANE_STRIDE(&mask.info, 0);
  for (int y = 0; y < size.height; ++y)
    for (int x = 0; x < size.width; ++x) {
      const unsigned char *px = map.data + static_cast<size_t>(y) * stride + 4 * x;
      object[static_cast<size_t>(y) * size.width + x] = (px[0] | px[1] | px[2]) != 0;
    }
  gst_buffer_unmap(mask.frames[0].get(), &map);
  return object;
}

// ---- the rows ----

struct RowSpec {
  std::string element, mode, format, size; // mode "-" for elements without one

  std::string id() const { return element + ":" + mode + ":" + format + ":" + size; }
  std::string label() const {
    return element + (mode == "-" ? "" : " " + mode) + " " + format + " " + size;
  }
  bool isFloor() const { return element == "identity"; }
};

RowSpec parseRowId(const std::string &id) {
  RowSpec r;
  std::istringstream in(id);
  if (!std::getline(in, r.element, ':') || !std::getline(in, r.mode, ':') ||
      !std::getline(in, r.format, ':') || !std::getline(in, r.size))
    throw flagmask::cli::UsageError("bad --row '" + id + "'");
  return r;
}

const SizePreset &sizePreset(const std::string &name) {
  for (const SizePreset &s : kSizes)
    if (name == s.name)
      return s;
  throw flagmask::cli::UsageError("unknown size '" + name + "' (480p, 720p or 1080p)");
}

bool contains(const std::vector<std::string> &list, const std::string &item) {
  return std::find(list.begin(), list.end(), item) != list.end();
}

struct Box {
  int x = 0, y = 0, width = 0, height = 0;
};

// grabcut's hint: the seed's bounding box grown by a quarter on each side, so that the object may
// move inside it. grabcut has no memory between frames, so every frame gets the first frame's box.
// It is passed as a region-of-interest meta (what facedetect attaches): grabcut also documents an
// alpha-channel hint, but the 1.22 element skipped every frame given one ("No face info present,
// skipping frame"), which would have timed a no-op.
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

// The meta that makes grabcut (with scale=1) work on exactly `box`: it shrinks the meta's width
// to 0.9 and stretches its height to 1.1 times, so we undo that.
void addGrabcutMeta(GstBuffer *buffer, const Box &box) {
  gst_buffer_add_video_region_of_interest_meta(buffer, "face", box.x, box.y,
                                               static_cast<guint>(box.width / 0.9),
                                               static_cast<guint>(box.height / 1.1));
}

// Frame k of a run: the clip forward, then backward, and so on. Looping back to the start would
// be a scene cut that a tracker does not see in real video.
size_t pingPong(size_t k, size_t n) {
  if (n < 2)
    return 0;
  const size_t period = 2 * n - 2, i = k % period;
  return i < n ? i : period - i;
}

// Feeds appsrc from its own streaming thread (need-data fires there when its queue is empty),
// one pooled copy at a time, so copying and processing never overlap: the floor then holds the
// copy exactly once and subtracts it exactly.
struct Feeder {
  const Clip *clip = nullptr;
  GstBufferPool *pool = nullptr;
  int frames = 0, pushed = 0;
  GstClockTime duration = 0;
  const Box *roi = nullptr; // grabcut's hint, on every buffer
  std::chrono::steady_clock::time_point start, end;
  bool failed = false;
};

void onNeedData(GstAppSrc *src, guint, gpointer data) {
  auto *f = static_cast<Feeder *>(data);
  if (f->pushed == 0)
    f->start = std::chrono::steady_clock::now();
  if (f->pushed >= f->frames) {
    gst_app_src_end_of_stream(src);
    return;
  }
  GstBuffer *copy = nullptr;
  if (gst_buffer_pool_acquire_buffer(f->pool, &copy, nullptr) != GST_FLOW_OK) {
    f->failed = true;
    gst_app_src_end_of_stream(src);
    return;
  }
  GstBuffer *frame = f->clip->frames[pingPong(f->pushed, f->clip->frames.size())].get();
  GstMapInfo map;
  if (!gst_buffer_map(frame, &map, GST_MAP_READ)) {
    gst_buffer_unref(copy);
    f->failed = true;
    gst_app_src_end_of_stream(src);
    return;
  }
  gst_buffer_fill(copy, 0, map.data, map.size);
  gst_buffer_unmap(frame, &map);
  GST_BUFFER_PTS(copy) = f->pushed * f->duration;
  GST_BUFFER_DURATION(copy) = f->duration;
  if (f->roi)
    addGrabcutMeta(copy, *f->roi);
  ++f->pushed;
  gst_app_src_push_buffer(src, copy);
}

GstPadProbeReturn onSinkEvent(GstPad *, GstPadProbeInfo *info, gpointer data) {
  if (GST_EVENT_TYPE(GST_PAD_PROBE_INFO_EVENT(info)) == GST_EVENT_EOS)
    static_cast<Feeder *>(data)->end = std::chrono::steady_clock::now();
  return GST_PAD_PROBE_OK;
}

GstPtr<GstBufferPool> framePool(const Clip &clip) {
  GstPtr<GstBufferPool> pool(gst_buffer_pool_new());
  GstStructure *config = gst_buffer_pool_get_config(pool.get());
  gst_buffer_pool_config_set_params(config, clip.caps.get(), clip.info.size, 2, 0);
  if (!gst_buffer_pool_set_config(pool.get(), config) ||
      !gst_buffer_pool_set_active(pool.get(), TRUE))
    throw flagmask::Error("could not set up a buffer pool");
  return pool;
}

GstElement *makeElement(const RowSpec &row, const Input &input) {
  GstElement *e = gst_element_factory_make(row.element.c_str(), "under-test");
  if (!e)
    throw flagmask::Error("no element '" + row.element + "'" +
                          (row.element == "flagmask" ? " (set GST_PLUGIN_PATH to build/gst)" : ""));
  if (row.element == "flagmask") {
    gst_util_set_object_arg(G_OBJECT(e), "mode", row.mode.c_str());
    g_object_set(e, "seed-mask", input.seed_mask.c_str(), nullptr);
    if (input.working_size > 0)
      g_object_set(e, "working-size", static_cast<guint>(input.working_size), nullptr);
  } else if (row.element == "grabcut") {
    g_object_set(e, "scale", 1.0f, nullptr); // the box we give is already grown
  }
  return e;
}

// One timed run: milliseconds per frame from the first buffer to end of stream at the sink.
double timeRun(const Clip &clip, const RowSpec &row, const Input &input, int frames,
               const Box *roi) {
  Pipeline p(gst_pipeline_new("bench"));
  GstElement *element = makeElement(row, input);
  gst_bin_add(GST_BIN(p.get()), element);
  GstElement *src = gst_element_factory_make("appsrc", nullptr);
  GstElement *sink = gst_element_factory_make("fakesink", nullptr);
  if (!src || !sink)
    throw flagmask::Error("no appsrc or fakesink (gstreamer1.0-plugins-base, core)");
  gst_bin_add_many(GST_BIN(p.get()), src, sink, nullptr);
  g_object_set(src, "caps", clip.caps.get(), "format", GST_FORMAT_TIME, nullptr);
  g_object_set(sink, "sync", FALSE, "enable-last-sample", FALSE, nullptr);
  if (!gst_element_link_many(src, element, sink, nullptr))
    throw flagmask::Error("could not link appsrc ! " + row.element + " ! fakesink");

  GstPtr<GstBufferPool> pool = framePool(clip);
  Feeder feeder;
  feeder.clip = &clip;
  feeder.pool = pool.get();
  feeder.frames = frames;
  feeder.roi = roi;
  const int fps_n = GST_VIDEO_INFO_FPS_N(&clip.info), fps_d = GST_VIDEO_INFO_FPS_D(&clip.info);
  feeder.duration =
      fps_n > 0 ? gst_util_uint64_scale_int(GST_SECOND, fps_d, fps_n) : GST_SECOND / kDavisFps;
  GstAppSrcCallbacks callbacks{};
  callbacks.need_data = onNeedData;
  gst_app_src_set_callbacks(GST_APP_SRC(src), &callbacks, &feeder, nullptr);
  GstPtr<GstPad> sink_pad(gst_element_get_static_pad(sink, "sink"));
  gst_pad_add_probe(sink_pad.get(), GST_PAD_PROBE_TYPE_EVENT_DOWNSTREAM, onSinkEvent, &feeder,
                    nullptr);

  playToEos(p, "the timed pipeline");
  gst_element_set_state(p.get(), GST_STATE_NULL);
  gst_buffer_pool_set_active(pool.get(), FALSE);
  if (feeder.failed || feeder.pushed != frames)
    throw flagmask::Error(row.label() + ": only " + std::to_string(feeder.pushed) + " of " +
                          std::to_string(frames) + " frames were pushed");
  return std::chrono::duration<double, std::milli>(feeder.end - feeder.start).count() / frames;
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

// The child's side: decode, time, and print for the parent "clip FRAMES",
// "mem BASE_KB PEAK_KB" (resident size before the runs, peak during them) and "ms A B C".
int measureRow(const Options &o, const Input &input) {
  prctl(PR_SET_NAME, "flagmask-bench"); // started as /proc/self/exe, it would show as "exe"
  const RowSpec row = parseRowId(o.row);
  const SizePreset &size = sizePreset(row.size);
  const Clip clip = loadClip(input, row.format, size, o.frames);
  std::optional<Box> roi;
  if (row.element == "grabcut")
    roi = grabcutBox(loadSeed(input.seed_mask, size), size.width, size.height);
  const long base_kb = startRunMemory();
  std::vector<double> ms;
  for (int r = 0; r < o.runs; ++r)
    ms.push_back(timeRun(clip, row, input, o.frames, roi ? &*roi : nullptr));
  const long peak_kb = base_kb < 0 ? -1 : statusKb("VmHWM");
  std::cout << "clip " << clip.frames.size() << "\nmem " << base_kb << ' ' << peak_kb << "\nms";
  for (double m : ms)
    std::cout << ' ' << m;
  std::cout << std::endl;
  return 0;
}

// ---- the parent: plan, spawn, collect, report ----

struct Result {
  RowSpec row;
  enum class Status { Ok, Failed, NotInstalled } status = Status::Ok;
  int frames = 0;         // per run
  std::vector<double> ms; // per run
  double rss_mb = 0;      // the child's peak, decoding included
  int clip_frames = 0;    // held in memory by the child
  double runs_mb = -1;    // what the timed runs added to the child's resident size at their peak
};

void addRow(std::vector<RowSpec> &rows, const RowSpec &r) {
  for (const RowSpec &have : rows)
    if (have.id() == r.id())
      return;
  rows.push_back(r);
}

// Each (format, size) gets its identity floor first, then the rows measured against it.
std::vector<RowSpec> planRows(const Options &o) {
  std::vector<RowSpec> measured;
  for (const std::string &size : o.sizes) {
    for (const std::string &mode : o.modes)
      if (mode != "alpha")
        measured.push_back({"flagmask", mode, kBaseFormat, size});
    if (contains(o.modes, "alpha"))
      measured.push_back({"flagmask", "alpha", kAlphaFormat, size});
    for (const std::string &peer : kPeers)
      measured.push_back({peer, "-", kPeerFormat, size});
  }
  for (const std::string &format : o.formats)
    if (format != kBaseFormat)
      measured.push_back({"flagmask", "cutout", format, o.sizes.back()});

  std::vector<RowSpec> rows;
  for (const RowSpec &m : measured) {
    addRow(rows, {"identity", "-", m.format, m.size});
    for (const RowSpec &r : measured)
      if (r.format == m.format && r.size == m.size)
        addRow(rows, r);
  }
  return rows;
}

// The children run this very program, through /proc/self/exe rather than by its path: a rebuild
// during a long run replaces the file, and the rows must not change program half-way.
const char *kSelf = "/proc/self/exe";

std::string selfDir() {
  std::error_code ec;
  const fs::path p = fs::read_symlink(kSelf, ec);
  if (ec)
    throw flagmask::Error(std::string("could not find this program's path in ") + kSelf);
  return p.parent_path().string();
}

// Runs `cmd`, returns its stdout and its exit status and peak memory (wait4's rusage is the
// child's alone, so rows never see one another's peaks).
std::string spawnAndWait(const std::vector<std::string> &cmd, int &status, long &maxrss_kb) {
  int fds[2];
  if (pipe(fds) != 0)
    throw flagmask::Error("could not create a pipe");
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, fds[1], STDOUT_FILENO);
  posix_spawn_file_actions_addclose(&actions, fds[0]);
  std::vector<char *> argv;
  for (const std::string &a : cmd)
    argv.push_back(const_cast<char *>(a.c_str()));
  argv.push_back(nullptr);
  pid_t pid = 0;
  const int err = posix_spawn(&pid, argv[0], &actions, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  close(fds[1]);
  if (err != 0) {
    close(fds[0]);
    throw flagmask::Error("could not start '" + cmd[0] + "'");
  }
  std::string out;
  char chunk[4096];
  for (ssize_t n; (n = read(fds[0], chunk, sizeof chunk)) != 0;)
    if (n > 0)
      out.append(chunk, static_cast<size_t>(n));
    else if (errno != EINTR)
      break;
  close(fds[0]);
  struct rusage usage {};
  while (wait4(pid, &status, 0, &usage) < 0 && errno == EINTR) {
  }
  maxrss_kb = usage.ru_maxrss;
  return out;
}

bool hasElement(const std::string &name) {
  GstPluginFeature *f = gst_registry_lookup_feature(gst_registry_get(), name.c_str());
  if (f)
    gst_object_unref(f);
  return f != nullptr;
}

std::vector<std::string> inputArgs(const Input &input) {
  std::vector<std::string> args =
      input.video.empty()
          ? std::vector<std::string>{"--davis", input.davis, "--seq", input.seq}
          : std::vector<std::string>{"--video", input.video, "--seed-mask", input.seed_mask};
  if (input.working_size > 0)
    args.insert(args.end(), {"--working-size", std::to_string(input.working_size)});
  return args;
}

Result runRowInChild(const Options &o, const Input &input, const RowSpec &row) {
  Result result;
  result.row = row;
  if (!hasElement(row.element)) {
    result.status = Result::Status::NotInstalled;
    return result;
  }
  result.frames = row.element == "grabcut" ? std::min(o.frames, kGrabcutFrames) : o.frames;
  std::vector<std::string> cmd = {kSelf, "--row", row.id()};
  cmd.insert(cmd.end(), {"--frames", std::to_string(result.frames)});
  cmd.insert(cmd.end(), {"--runs", std::to_string(o.runs)});
  for (const std::string &a : inputArgs(input))
    cmd.push_back(a);
  int status = 0;
  long maxrss_kb = 0;
  std::istringstream out(spawnAndWait(cmd, status, maxrss_kb));
  result.rss_mb = maxrss_kb / 1024.0;
  for (std::string key; out >> key;)
    if (key == "clip") {
      out >> result.clip_frames;
    } else if (key == "mem") {
      long base = -1, peak = -1;
      out >> base >> peak;
      if (base >= 0 && peak >= 0)
        result.runs_mb = (peak - base) / 1024.0;
    } else if (key == "ms")
      for (double v; out >> v;)
        result.ms.push_back(v);
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0 || result.ms.empty())
    result.status = Result::Status::Failed;
  return result;
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  const size_t n = v.size();
  return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

const Result *floorOf(const std::vector<Result> &results, const RowSpec &row) {
  for (const Result &r : results)
    if (r.row.isFloor() && r.row.format == row.format && r.row.size == row.size &&
        r.status == Result::Status::Ok)
      return &r;
  return nullptr;
}

std::string fixed(double v, int decimals) {
  char text[32];
  std::snprintf(text, sizeof text, "%.*f", decimals, v);
  return text;
}

std::string tableRow(const std::vector<std::string> &cells) {
  std::string line = "|";
  for (const std::string &c : cells)
    line += " " + c + " |";
  return line;
}

void printTable(const std::vector<Result> &results) {
  std::cout << tableRow({"element", "mode", "format", "size", "ms/frame median", "ms/frame min",
                         "fps median", "element cost ms", "peak RSS MB", "RSS over floor MB",
                         "frames x runs"})
            << "\n|---|---|---|---|--:|--:|--:|--:|--:|--:|--:|\n";
  for (const Result &r : results) {
    std::vector<std::string> cells = {r.row.element, r.row.mode, r.row.format, r.row.size};
    if (r.status != Result::Status::Ok) {
      const char *why = r.status == Result::Status::Failed ? "failed" : "not installed";
      cells.insert(cells.end(), {why, "-", "-", "-", "-", "-", "-"});
      std::cout << tableRow(cells) << "\n";
      continue;
    }
    const double med = median(r.ms);
    const Result *floor = floorOf(results, r.row);
    std::string cost = "n/a", rss_over = "n/a";
    if (r.row.isFloor()) {
      cost = rss_over = "(floor)";
    } else if (floor) {
      cost = fixed(med - median(floor->ms), 2);
      if (r.runs_mb >= 0 && floor->runs_mb >= 0)
        rss_over = fixed(r.runs_mb - floor->runs_mb, 0);
    }
    cells.insert(cells.end(), {fixed(med, 2), fixed(*std::min_element(r.ms.begin(), r.ms.end()), 2),
                               fixed(1000.0 / med, 1), cost, fixed(r.rss_mb, 0), rss_over,
                               std::to_string(r.frames) + " x " + std::to_string(r.ms.size())});
    std::cout << tableRow(cells) << "\n";
  }
}

// ---- the header: what ran, where ----

std::string firstLineWith(const std::string &file, const std::string &key) {
  std::ifstream in(file);
  for (std::string line; std::getline(in, line);)
    if (line.rfind(key, 0) == 0) {
      const size_t colon = line.find(':');
      return colon == std::string::npos ? line
                                        : line.substr(line.find_first_not_of(" \t", colon + 1));
    }
  return "";
}

std::string machine() {
  std::string cpu = firstLineWith("/proc/cpuinfo", "model name");
  if (cpu.empty())
    cpu = "unknown CPU";
  struct utsname u {};
  uname(&u);
  std::ifstream loadavg("/proc/loadavg");
  std::string load = "?";
  loadavg >> load;
  return cpu + ", " + std::to_string(sysconf(_SC_NPROCESSORS_ONLN)) + " cores, " + u.sysname + " " +
         u.release + " " + u.machine + ", load average " + load + " at start";
}

std::string software() {
  gchar *gst = gst_version_string();
  std::string text = std::string(gst) + ", OpenCV " FLAGMASK_OPENCV_VERSION;
  g_free(gst);
  GstPlugin *plugin = gst_registry_find_plugin(gst_registry_get(), "flagmask");
  if (plugin) {
    const gchar *file = gst_plugin_get_filename(plugin);
    text += std::string(", flagmask plugin ") + gst_plugin_get_version(plugin) + " (" +
            (file ? fs::absolute(file).lexically_normal().string() : "?") + ")";
    gst_object_unref(plugin);
  }
  return text;
}

std::string quoted(const std::string &arg) {
  if (!arg.empty() && arg.find_first_not_of("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                                            "0123456789-_./=,:+") == std::string::npos)
    return arg;
  std::string q = "'";
  for (char c : arg)
    q += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return q + "'";
}

std::string utcNow() {
  const std::time_t now = std::time(nullptr);
  char text[32];
  std::strftime(text, sizeof text, "%Y-%m-%d %H:%M UTC", std::gmtime(&now));
  return text;
}

// What to say of the run, taken when it starts (the load average is the other programs' then).
struct RunContext {
  std::string date = utcNow(), machine_text = machine();
};

void printHeader(int argc, char **argv, const Options &o, const RunContext &context,
                 const Input &input, int clip_frames) {
  std::string command;
  for (int i = 0; i < argc; ++i)
    command += (i ? " " : "") + quoted(argv[i]);
  std::cout << "# flagmask-bench\n\n"
            << "- date: " << context.date << " (start)\n"
            << "- command: `" << command << "`\n"
            << "- machine: " << context.machine_text << "\n"
            << "- software: " << software() << "\n"
            << "- input: " << input.description;
  if (clip_frames > 0)
    std::cout << ", up to " << clip_frames << " frames held in memory per row";
  if (input.working_size > 0)
    std::cout << "\n- flagmask working-size: " << input.working_size;
  std::cout << "\n- each run: " << o.frames
            << " frames (grabcut: " << std::min(o.frames, kGrabcutFrames)
            << ") through `appsrc ! ELEMENT ! fakesink sync=false` (the clip forward and back); "
            << "median and min of " << o.runs << " run(s); one child process per row\n\n";
}

// ---- choosing the input ----

std::vector<std::string> splitList(const std::string &text) {
  std::vector<std::string> items;
  std::istringstream in(text);
  for (std::string item; std::getline(in, item, ',');)
    if (!item.empty())
      items.push_back(item);
  return items;
}

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

// A temporary folder that is removed with everything in it when the run ends.
struct TempDir {
  fs::path path;
  TempDir() {
    std::string pattern = (fs::temp_directory_path() / "flagmask-bench-XXXXXX").string();
    if (!mkdtemp(pattern.data()))
      throw flagmask::Error("could not create a temporary folder");
    path = pattern;
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path, ec);
  }
};

std::string synthPath() {
  if (const char *env = std::getenv("FLAGMASK_SYNTH"))
    return env;
  return (fs::path(selfDir()) / "flagmask-synth").string();
}

// No DAVIS data and no video: the project's own synthetic flag, which comes with an exact mask.
Input synthInput(const TempDir &tmp) {
  const std::string synth = synthPath();
  if (!fs::exists(synth))
    throw flagmask::Error("no DAVIS data and no flagmask-synth at '" + synth +
                          "' to generate an input (give --davis or --video)");
  const fs::path out = tmp.path / "synth";
  int status = 0;
  long rss = 0;
  spawnAndWait({synth, "-o", out.string(), "--frames", "60", "--width", "854", "--height", "480"},
               status, rss);
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
    throw flagmask::Error("'" + synth + "' failed to write the synthetic flag");
  Input in = davisInput(out, "flag");
  in.description = "synthetic waving flag from flagmask-synth (854x480, 60 frames; no DAVIS data)";
  return in;
}

Input chooseClip(const Options &o, const TempDir *tmp);

// The clip, and what the element is set to beside it.
Input chooseInput(const Options &o, const TempDir *tmp) {
  Input in = chooseClip(o, tmp);
  in.working_size = o.working_size;
  return in;
}

Input chooseClip(const Options &o, const TempDir *tmp) {
  if (!o.video.empty()) {
    Input in;
    in.video = fs::absolute(o.video).string();
    in.seed_mask = fs::absolute(o.seed_mask).string();
    for (const std::string &f : {in.video, in.seed_mask})
      if (!fs::is_regular_file(f))
        throw flagmask::Error("no file '" + f + "'");
    in.description = "video '" + in.video + "', seed mask '" + in.seed_mask + "'";
    return in;
  }
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
  if (!tmp)
    throw flagmask::Error("no input");
  return synthInput(*tmp);
}

// ---- command line and main ----

int positive(const std::string &option, const std::string &text) {
  const double v = flagmask::cli::number(option, text);
  if (v < 1 || v > 1e6 || v != static_cast<int>(v))
    throw flagmask::cli::UsageError("option " + option + " needs a whole number from 1 to 1e6");
  return static_cast<int>(v);
}

void validate(Options &o, bool sizes_given, bool frames_given, bool runs_given) {
  namespace cli = flagmask::cli;
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
    sizePreset(s); // throws on an unknown name
  std::sort(o.sizes.begin(), o.sizes.end(), [](const std::string &a, const std::string &b) {
    return sizePreset(a).height < sizePreset(b).height;
  });
  for (const std::string &m : o.modes)
    if (!contains(kModes, m))
      throw cli::UsageError("unknown mode '" + m + "' (cutout, alpha, mask, overlay)");
  for (const std::string &f : o.formats)
    if (gst_video_format_from_string(f.c_str()) == GST_VIDEO_FORMAT_UNKNOWN)
      throw cli::UsageError("unknown video format '" + f + "'");
  if (!o.video.empty() && o.seed_mask.empty())
    throw cli::UsageError("--video needs --seed-mask, the mask of its first frame");
  if (o.video.empty() && !o.seed_mask.empty())
    throw cli::UsageError("--seed-mask goes with --video (DAVIS sequences bring their own)");
  if (!o.video.empty() && (!o.davis.empty() || !o.seq.empty()))
    throw cli::UsageError("give either --video or --davis/--seq, not both");
}

Options parse(int argc, char **argv) {
  namespace cli = flagmask::cli;
  Options o;
  bool sizes_given = false, frames_given = false, runs_given = false;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    cli::answerHelp(a, kUsage);
    if (a == "--davis") {
      o.davis = cli::value(argc, argv, i);
    } else if (a == "--seq") {
      o.seq = cli::value(argc, argv, i);
    } else if (a == "--video") {
      o.video = cli::value(argc, argv, i);
    } else if (a == "--seed-mask") {
      o.seed_mask = cli::value(argc, argv, i);
    } else if (a == "--sizes") {
      o.sizes = splitList(cli::value(argc, argv, i)), sizes_given = true;
    } else if (a == "--modes") {
      o.modes = splitList(cli::value(argc, argv, i));
    } else if (a == "--formats") {
      o.formats = splitList(cli::value(argc, argv, i));
    } else if (a == "--runs") {
      o.runs = positive(a, cli::value(argc, argv, i)), runs_given = true;
    } else if (a == "--frames") {
      o.frames = positive(a, cli::value(argc, argv, i)), frames_given = true;
    } else if (a == "--working-size") {
      o.working_size = positive(a, cli::value(argc, argv, i));
    } else if (a == "--quick") {
      o.quick = true;
    } else if (a == "--row") {
      o.row = cli::value(argc, argv, i);
    } else {
      throw cli::unknownArgument(a);
    }
  }
  validate(o, sizes_given, frames_given, runs_given);
  return o;
}

int runAll(int argc, char **argv, const Options &o) {
  if (!hasElement("flagmask"))
    throw flagmask::Error("no flagmask element: set GST_PLUGIN_PATH to the build's gst folder "
                          "(build/gst) or install the plugin");
  const RunContext context;
  TempDir tmp;
  const Input input = chooseInput(o, &tmp);
  const std::vector<RowSpec> rows = planRows(o);
  std::vector<Result> results;
  std::vector<std::string> failed;
  int clip_frames = 0;
  for (size_t k = 0; k < rows.size(); ++k) {
    // A whole line before the row runs: a failing child writes its error below it.
    const std::string tag = "[" + std::to_string(k + 1) + "/" + std::to_string(rows.size()) + "] ";
    std::cerr << tag << rows[k].label() << "\n";
    results.push_back(runRowInChild(o, input, rows[k]));
    const Result &r = results.back();
    const std::string pad(tag.size(), ' ');
    if (r.status == Result::Status::Ok)
      std::cerr << pad << fixed(median(r.ms), 2) << " ms/frame (median)\n";
    else
      std::cerr << pad << (r.status == Result::Status::Failed ? "FAILED\n" : "not installed\n");
    if (r.status == Result::Status::Failed)
      failed.push_back(rows[k].label());
    clip_frames = std::max(clip_frames, r.clip_frames);
  }
  printHeader(argc, argv, o, context, input, clip_frames);
  printTable(results);
  if (!failed.empty()) {
    std::cerr << "flagmask-bench: " << failed.size() << " row(s) failed:";
    for (const std::string &f : failed)
      std::cerr << " [" << f << "]";
    std::cerr << " (their errors are above)\n";
    return 1;
  }
  return 0;
}

// A child measuring one row (--row): its errors name the row, as the parent prints them among the
// others' output.
int measureOneRow(const Options &o) {
  try {
    return measureRow(o, chooseInput(o, nullptr));
  } catch (const std::exception &e) {
    throw flagmask::Error("row " + o.row + ": " + e.what());
  }
}

} // namespace

int main(int argc, char **argv) {
  gst_init(nullptr, nullptr);
  return flagmask::cli::runTool("flagmask-bench", argc, argv, parse, [&](const Options &o) {
    return o.row.empty() ? runAll(argc, argv, o) : measureOneRow(o);
  });
}
