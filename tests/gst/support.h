/* Shared by the reliability tests of the element (hostile files, events, lifecycle, soak): a
 * scratch directory, generated scenes, packed-RGB buffers in and masks out, harnesses with
 * properties, and the messages the element posts. */
#pragma once

#include "image_io.h"

#include <gst/check/gstcheck.h>
#include <gst/check/gstharness.h>
#include <gst/video/video.h>

#include <glib/gstdio.h>
#include <opencv2/core.hpp>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include <cstring>
#include <string>
#include <vector>

namespace fmtest {

/* ---- a scratch directory, removed with everything in it ----------------------------------- */

inline std::string &scratch_dir() {
  static std::string dir;
  return dir;
}

inline void make_scratch_dir() {
  gchar *dir = g_dir_make_tmp("flagmask-reliability-XXXXXX", nullptr);
  g_assert_nonnull(dir);
  scratch_dir() = dir;
  g_free(dir);
}

inline void remove_tree(const std::string &path) {
  if (g_file_test(path.c_str(), G_FILE_TEST_IS_DIR) &&
      !g_file_test(path.c_str(), G_FILE_TEST_IS_SYMLINK)) {
    g_chmod(path.c_str(), 0700); // a test may have taken the permissions away
    GDir *dir = g_dir_open(path.c_str(), 0, nullptr);
    for (const gchar *name; dir && (name = g_dir_read_name(dir));)
      remove_tree(path + G_DIR_SEPARATOR_S + name);
    if (dir)
      g_dir_close(dir);
    g_rmdir(path.c_str());
  } else {
    g_remove(path.c_str());
  }
}

inline void remove_scratch_dir() {
  remove_tree(scratch_dir());
}

inline std::string scratch(const std::string &name) {
  return scratch_dir() + G_DIR_SEPARATOR_S + name;
}

inline std::string write_file(const std::string &name, const std::string &contents) {
  const std::string path = scratch(name);
  fail_unless(g_file_set_contents(path.c_str(), contents.data(),
                                  static_cast<gssize>(contents.size()), nullptr));
  return path;
}

inline std::string read_file(const std::string &path) {
  gchar *data = nullptr;
  gsize size = 0;
  fail_unless(g_file_get_contents(path.c_str(), &data, &size, nullptr), "%s", path.c_str());
  std::string s(data, size);
  g_free(data);
  return s;
}

inline std::string write_image(const std::string &name, const cv::Mat &image) {
  const std::string path = scratch(name);
  fail_unless(cv::imwrite(path, image), "%s", path.c_str());
  return path;
}

/* ---- generated scenes: a flat orange square on dark noise, the camera still ---------------- */

inline const cv::Scalar &object_bgr() {
  static const cv::Scalar colour(40, 140, 240);
  return colour;
}

inline cv::Rect object_rect(cv::Size size, int x) {
  const int side = size.width / 4;
  return cv::Rect(x, size.height / 3, side, side);
}

inline cv::Mat scene(cv::Size size, int x) {
  cv::Mat bgr(size, CV_8UC3);
  cv::RNG rng(4242);
  rng.fill(bgr, cv::RNG::NORMAL, cv::Scalar(60, 40, 30), cv::Scalar::all(8));
  bgr(object_rect(size, x)).setTo(object_bgr());
  return bgr;
}

inline cv::Mat scene_mask(cv::Size size, int x) {
  cv::Mat mask = cv::Mat::zeros(size, CV_8U);
  mask(object_rect(size, x)).setTo(255);
  return mask;
}

/* ---- buffers: packed RGB layouts only ------------------------------------------------------ */

inline GstVideoInfo video_info(const char *format, cv::Size size) {
  GstVideoInfo info;
  gst_video_info_set_format(&info, gst_video_format_from_string(format), size.width, size.height);
  GST_VIDEO_INFO_FPS_N(&info) = 30;
  GST_VIDEO_INFO_FPS_D(&info) = 1;
  return info;
}

inline guint8 *pixel(GstVideoFrame *f, int x, int y) {
  return static_cast<guint8 *>(GST_VIDEO_FRAME_PLANE_DATA(f, 0)) +
         y * GST_VIDEO_FRAME_PLANE_STRIDE(f, 0) + x * GST_VIDEO_FRAME_COMP_PSTRIDE(f, 0);
}

inline GstBuffer *to_buffer(const cv::Mat &bgr, const GstVideoInfo *info) {
  fail_unless(GST_VIDEO_INFO_IS_RGB(info));
  GstBuffer *buf = gst_buffer_new_allocate(nullptr, GST_VIDEO_INFO_SIZE(info), nullptr);
  GstVideoFrame f;
  fail_unless(gst_video_frame_map(&f, info, buf, GST_MAP_WRITE));
  for (int y = 0; y < bgr.rows; ++y)
    for (int x = 0; x < bgr.cols; ++x) {
      guint8 *p = pixel(&f, x, y);
      const cv::Vec3b c = bgr.at<cv::Vec3b>(y, x);
      memset(p, 255, GST_VIDEO_FRAME_COMP_PSTRIDE(&f, 0)); // alpha and padding
      p[GST_VIDEO_FRAME_COMP_POFFSET(&f, GST_VIDEO_COMP_R)] = c[2];
      p[GST_VIDEO_FRAME_COMP_POFFSET(&f, GST_VIDEO_COMP_G)] = c[1];
      p[GST_VIDEO_FRAME_COMP_POFFSET(&f, GST_VIDEO_COMP_B)] = c[0];
    }
  gst_video_frame_unmap(&f);
  return buf;
}

// The output as BGR (packed RGB layouts).
inline cv::Mat to_bgr(GstBuffer *buf, const GstVideoInfo *info) {
  GstVideoFrame f;
  fail_unless(gst_video_frame_map(&f, info, buf, GST_MAP_READ));
  cv::Mat bgr(GST_VIDEO_INFO_HEIGHT(info), GST_VIDEO_INFO_WIDTH(info), CV_8UC3);
  for (int y = 0; y < bgr.rows; ++y)
    for (int x = 0; x < bgr.cols; ++x) {
      const guint8 *p = pixel(&f, x, y);
      bgr.at<cv::Vec3b>(y, x) = cv::Vec3b(p[GST_VIDEO_FRAME_COMP_POFFSET(&f, GST_VIDEO_COMP_B)],
                                          p[GST_VIDEO_FRAME_COMP_POFFSET(&f, GST_VIDEO_COMP_G)],
                                          p[GST_VIDEO_FRAME_COMP_POFFSET(&f, GST_VIDEO_COMP_R)]);
    }
  gst_video_frame_unmap(&f);
  return bgr;
}

// In mask mode: the red channel, 255 = object.
inline cv::Mat to_mask(GstBuffer *buf, const GstVideoInfo *info) {
  cv::Mat channels[3];
  cv::split(to_bgr(buf, info), channels);
  return channels[2];
}

/* ---- harnesses ----------------------------------------------------------------------------- */

// Tests that load the system's plugins too must still test the build tree's flagmask.
inline void check_plugin_from_build_tree() {
  const gchar *dir = g_getenv("GST_PLUGIN_PATH");
  fail_unless(dir != nullptr, "GST_PLUGIN_PATH is not set");
  GstPlugin *plugin = gst_registry_find_plugin(gst_registry_get(), "flagmask");
  fail_unless(plugin != nullptr);
  const gchar *file = gst_plugin_get_filename(plugin);
  fail_unless(file && g_str_has_prefix(file, dir), "flagmask loaded from %s, not %s", file, dir);
  gst_object_unref(plugin);
}

// Sets "name=value name=value ..." on an element (values without spaces).
inline void set_props(GstElement *e, const std::string &props) {
  gchar **pairs = g_strsplit(props.c_str(), " ", -1);
  for (gchar **kv = pairs; *kv; ++kv) {
    if (!**kv)
      continue;
    gchar **p = g_strsplit(*kv, "=", 2);
    fail_unless(p[0] && p[1], "not name=value: %s", *kv);
    gst_util_set_object_arg(G_OBJECT(e), p[0], p[1]);
    g_strfreev(p);
  }
  g_strfreev(pairs);
}

// flagmask with properties set before it starts, in a PLAYING harness; caps when info is given.
// With bus, what it posts from its start on goes there.
inline GstHarness *harness_new(const std::string &props, const GstVideoInfo *info,
                               GstBus *bus = nullptr) {
  GstElement *e = gst_element_factory_make("flagmask", nullptr);
  fail_unless(e != nullptr);
  set_props(e, props);
  if (bus)
    gst_element_set_bus(e, bus);
  GstHarness *h = gst_harness_new_with_element(e, "sink", "src");
  gst_object_unref(e);
  if (info)
    gst_harness_set_src_caps(h, gst_video_info_to_caps(info));
  return h;
}

// Tears down a harness made with a bus: the bus goes first, with the messages it still holds. Each
// refers to the element, which would otherwise outlive the harness.
inline void harness_teardown(GstHarness *h, GstBus *bus) {
  gst_element_set_bus(h->element, nullptr);
  gst_object_unref(bus);
  gst_harness_teardown(h);
}

// A caps event for info (gst_event_new_caps takes its own reference to the caps).
inline GstEvent *caps_event(const GstVideoInfo *info) {
  GstCaps *caps = gst_video_info_to_caps(info);
  GstEvent *event = gst_event_new_caps(caps);
  gst_caps_unref(caps);
  return event;
}

inline GstBuffer *push_pull(GstHarness *h, const cv::Mat &bgr, const GstVideoInfo *info) {
  GstBuffer *out = gst_harness_push_and_pull(h, to_buffer(bgr, info));
  fail_unless(out != nullptr);
  return out;
}

// Pushes a frame and returns the output's mask (mode=mask).
inline cv::Mat push_mask(GstHarness *h, const cv::Mat &bgr, const GstVideoInfo *info) {
  GstBuffer *out = push_pull(h, bgr, info);
  cv::Mat mask = to_mask(out, info);
  gst_buffer_unref(out);
  return mask;
}

// Samples (pixels of a mask, channel values of a colour image) that differ.
inline int differing(const cv::Mat &a, const cv::Mat &b) {
  const cv::Mat differ = a != b;
  return cv::countNonZero(differ.reshape(1));
}

// Intersection over union of two masks (non-zero = object); 1 when both are empty.
inline double iou(const cv::Mat &a, const cv::Mat &b) {
  const int inter = cv::countNonZero((a != 0) & (b != 0));
  const int uni = cv::countNonZero((a != 0) | (b != 0));
  return uni > 0 ? static_cast<double>(inter) / uni : 1.0;
}

// The ball of videotestsrc pattern=ball's first frame in caps (packed RGB), as a mask.
inline cv::Mat ball_mask(const char *caps) {
  GstHarness *src = gst_harness_new("videotestsrc");
  gst_util_set_object_arg(G_OBJECT(src->element), "pattern", "ball");
  gst_harness_set_sink_caps_str(src, caps);
  gst_harness_play(src);
  GstBuffer *buf = gst_harness_pull(src);
  fail_unless(buf != nullptr);
  GstCaps *negotiated = gst_pad_get_current_caps(src->sinkpad);
  GstVideoInfo info;
  fail_unless(gst_video_info_from_caps(&info, negotiated));
  gst_caps_unref(negotiated);
  cv::Mat grey;
  cv::cvtColor(to_bgr(buf, &info), grey, cv::COLOR_BGR2GRAY);
  gst_buffer_unref(buf);
  gst_harness_teardown(src);
  cv::Mat mask = grey > 128;
  fail_unless(cv::countNonZero(mask) > 50, "no ball in the first frame");
  return mask;
}

/* ---- messages ------------------------------------------------------------------------------ */

// A private bus on an element, to read what it posted.
struct BusWatch {
  GstElement *element;
  GstBus *bus;
  explicit BusWatch(GstElement *e)
      : element(static_cast<GstElement *>(gst_object_ref(e))), bus(gst_bus_new()) {
    gst_element_set_bus(e, bus);
  }
  ~BusWatch() {
    gst_element_set_bus(element, nullptr);
    gst_object_unref(bus);
    gst_object_unref(element);
  }
  BusWatch(const BusWatch &) = delete;
  BusWatch &operator=(const BusWatch &) = delete;
};

struct Posted {
  GstMessageType type = GST_MESSAGE_UNKNOWN; // GST_MESSAGE_UNKNOWN: nothing posted
  GQuark domain = 0;
  gint code = 0;
  std::string message, debug;

  bool is(GstMessageType t, GQuark d, gint c) const {
    return type == t && domain == d && code == c;
  }
  bool says(const std::string &text) const { return message.find(text) != std::string::npos; }
};

// The next error or warning on the bus, if any.
inline Posted pop_posted(GstBus *bus,
                         GstMessageType types = static_cast<GstMessageType>(GST_MESSAGE_ERROR |
                                                                            GST_MESSAGE_WARNING)) {
  Posted p;
  GstMessage *msg = gst_bus_pop_filtered(bus, types);
  if (!msg)
    return p;
  GError *err = nullptr;
  gchar *debug = nullptr;
  if (GST_MESSAGE_TYPE(msg) == GST_MESSAGE_ERROR)
    gst_message_parse_error(msg, &err, &debug);
  else
    gst_message_parse_warning(msg, &err, &debug);
  p.type = GST_MESSAGE_TYPE(msg);
  p.domain = err->domain;
  p.code = err->code;
  p.message = err->message;
  p.debug = debug ? debug : "";
  g_error_free(err);
  g_free(debug);
  gst_message_unref(msg);
  return p;
}

} // namespace fmtest
