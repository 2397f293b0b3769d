/* Element tests for flagmask: properties, negotiation, the pixels of each mode, bad input, state
 * resets and agreement with the core. Data is generated: a bright square on a dark noisy
 * background, and the synthetic flag of the core. */
#include "error.h"
#include "eval/synthetic.h"
#include "frame.h"
#include "gstflagmaskframe.h"
#include "image_io.h"
#include "model.h"
#include "model_file.h"
#include "segmenter.h"
#include "support.h"

#include <gst/check/gstcheck.h>
#include <gst/check/gstharness.h>
#include <gst/video/video.h>

#include <glib/gstdio.h>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include <string>
#include <vector>

static const cv::Size kSize(160, 120);
static const int kSeedX = 20; // the square's left edge in the seed frame

static std::string seed_path, empty_mask_path, garbage_model_path, model_path, flag_seed_path;

/* ---- generated data ------------------------------------------------------------------------ */

// The moving square over a static background, and its mask: shared with the other element tests.
using fmtest::object_rect;
using fmtest::scene;
using fmtest::scene_mask;

static void write_fixtures(void) {
  fmtest::make_scratch_dir();
  // The seed at half the frame size: the element must scale it.
  cv::Mat seed;
  cv::resize(scene_mask(kSize, kSeedX), seed, kSize / 2, 0, 0, cv::INTER_NEAREST);
  seed_path = fmtest::scratch("seed.png");
  g_assert_true(cv::imwrite(seed_path, seed));
  empty_mask_path = fmtest::scratch("empty.png");
  g_assert_true(cv::imwrite(empty_mask_path, cv::Mat::zeros(kSize, CV_8U)));
  garbage_model_path = fmtest::scratch("garbage.yml");
  g_assert_true(
      g_file_set_contents(garbage_model_path.c_str(), "%YAML:1.0\nthis: [is, not", -1, nullptr));
  flagmask::Model model;
  model.add(scene(kSize, kSeedX), scene_mask(kSize, kSeedX));
  model_path = fmtest::scratch("model.yml");
  flagmask::saveModel(model, model_path);
  flag_seed_path = fmtest::scratch("flag-seed.png");
  g_assert_true(cv::imwrite(flag_seed_path, flagmask::syntheticFlag(0, kSize).mask));
}

static void remove_fixtures(void) {
  fmtest::remove_scratch_dir();
}

/* ---- frames in and out of buffers ---------------------------------------------------------- */

static bool is_yuv(const GstVideoInfo *info) {
  return GST_VIDEO_INFO_IS_YUV(info);
}

static guint8 *pixel(GstVideoFrame *f, guint plane, int x, int y, int pstride) {
  return static_cast<guint8 *>(GST_VIDEO_FRAME_PLANE_DATA(f, plane)) +
         y * GST_VIDEO_FRAME_PLANE_STRIDE(f, plane) + x * pstride;
}

static void write_packed(GstVideoFrame *f, const cv::Mat &bgr) {
  const int ps = GST_VIDEO_FRAME_COMP_PSTRIDE(f, 0);
  for (int y = 0; y < bgr.rows; ++y)
    for (int x = 0; x < bgr.cols; ++x) {
      guint8 *p = pixel(f, 0, x, y, ps);
      const cv::Vec3b c = bgr.at<cv::Vec3b>(y, x);
      memset(p, 255, ps); // alpha and padding
      p[GST_VIDEO_FRAME_COMP_POFFSET(f, GST_VIDEO_COMP_R)] = c[2];
      p[GST_VIDEO_FRAME_COMP_POFFSET(f, GST_VIDEO_COMP_G)] = c[1];
      p[GST_VIDEO_FRAME_COMP_POFFSET(f, GST_VIDEO_COMP_B)] = c[0];
    }
}

static void write_yuv(GstVideoFrame *f, const cv::Mat &bgr) {
  const flagmask::YuvMatrix m = gst_flag_mask_yuv_matrix(&f->info);
  for (int y = 0; y < bgr.rows; ++y)
    for (int x = 0; x < bgr.cols; ++x) {
      const cv::Vec3b c = bgr.at<cv::Vec3b>(y, x);
      *pixel(f, 0, x, y, 1) = flagmask::rgbToYuv(c[2], c[1], c[0], m).y;
    }
  const cv::Size chroma(GST_VIDEO_FRAME_COMP_WIDTH(f, 1), GST_VIDEO_FRAME_COMP_HEIGHT(f, 1));
  cv::Mat small;
  cv::resize(bgr, small, chroma, 0, 0, cv::INTER_AREA);
  const bool nv12 = GST_VIDEO_FRAME_FORMAT(f) == GST_VIDEO_FORMAT_NV12;
  for (int y = 0; y < chroma.height; ++y)
    for (int x = 0; x < chroma.width; ++x) {
      const cv::Vec3b c = small.at<cv::Vec3b>(y, x);
      const flagmask::YuvColor yuv = flagmask::rgbToYuv(c[2], c[1], c[0], m);
      if (nv12) {
        guint8 *p = pixel(f, 1, x, y, 2);
        p[0] = yuv.u;
        p[1] = yuv.v;
      } else {
        *pixel(f, 1, x, y, 1) = yuv.u;
        *pixel(f, 2, x, y, 1) = yuv.v;
      }
    }
}

static GstBuffer *to_buffer(const cv::Mat &bgr, const GstVideoInfo *info) {
  GstBuffer *buf = gst_buffer_new_allocate(nullptr, GST_VIDEO_INFO_SIZE(info), nullptr);
  GstVideoFrame f;
  fail_unless(gst_video_frame_map(&f, info, buf, GST_MAP_WRITE));
  if (is_yuv(info))
    write_yuv(&f, bgr);
  else
    write_packed(&f, bgr);
  gst_video_frame_unmap(&f);
  return buf;
}

// A pixel of an output buffer: r, g, b, a (a = -1 without alpha) or y, u, v, -1.
struct Px {
  int c[4];
};

static Px read_px(GstBuffer *buf, const GstVideoInfo *info, int x, int y) {
  GstVideoFrame f;
  fail_unless(gst_video_frame_map(&f, info, buf, GST_MAP_READ));
  Px px = {{-1, -1, -1, -1}};
  if (is_yuv(info)) {
    px.c[0] = *pixel(&f, 0, x, y, 1);
    if (GST_VIDEO_FRAME_FORMAT(&f) == GST_VIDEO_FORMAT_NV12) {
      px.c[1] = pixel(&f, 1, x / 2, y / 2, 2)[0];
      px.c[2] = pixel(&f, 1, x / 2, y / 2, 2)[1];
    } else {
      px.c[1] = *pixel(&f, 1, x / 2, y / 2, 1);
      px.c[2] = *pixel(&f, 2, x / 2, y / 2, 1);
    }
  } else {
    const guint8 *p = pixel(&f, 0, x, y, GST_VIDEO_FRAME_COMP_PSTRIDE(&f, 0));
    for (int c = 0; c < 3; ++c)
      px.c[c] = p[GST_VIDEO_FRAME_COMP_POFFSET(&f, c)];
    if (GST_VIDEO_INFO_HAS_ALPHA(info))
      px.c[3] = p[GST_VIDEO_FRAME_COMP_POFFSET(&f, GST_VIDEO_COMP_A)];
  }
  gst_video_frame_unmap(&f);
  return px;
}

// The first byte of every pixel of a packed output: the mask, in mask mode.
static cv::Mat read_mask(GstBuffer *buf, const GstVideoInfo *info) {
  GstVideoFrame f;
  fail_unless(gst_video_frame_map(&f, info, buf, GST_MAP_READ));
  const int ps = GST_VIDEO_FRAME_COMP_PSTRIDE(&f, 0);
  cv::Mat mask(GST_VIDEO_INFO_HEIGHT(info), GST_VIDEO_INFO_WIDTH(info), CV_8U);
  for (int y = 0; y < mask.rows; ++y)
    for (int x = 0; x < mask.cols; ++x)
      mask.at<guint8>(y, x) = *pixel(&f, 0, x, y, ps);
  gst_video_frame_unmap(&f);
  return mask;
}

/* ---- harness helpers ----------------------------------------------------------------------- */

using fmtest::video_info;

// The element with its properties set before it starts, in a harness that is PLAYING.
static GstHarness *harness_new(const char *props, const GstVideoInfo *info) {
  return fmtest::harness_new(props ? props : "", info);
}

static std::string seed_prop(const std::string &path = seed_path) {
  return "seed-mask=" + path;
}

// Pushes a scene frame and returns the output (never null: fails the test otherwise).
static GstBuffer *push_scene(GstHarness *h, const GstVideoInfo *info, int x) {
  GstBuffer *out =
      gst_harness_push_and_pull(h, to_buffer(scene(cv::Size(info->width, info->height), x), info));
  fail_unless(out != nullptr);
  return out;
}

static bool near(int a, int b, int tolerance) {
  return std::abs(a - b) <= tolerance;
}

/* ---- tests --------------------------------------------------------------------------------- */

GST_START_TEST(test_properties) {
  GstElementFactory *factory = gst_element_factory_find("flagmask");
  fail_unless(factory != nullptr);
  fail_unless_equals_string(gst_element_factory_get_metadata(factory, GST_ELEMENT_METADATA_KLASS),
                            "Filter/Effect/Video");
  GstElement *e = gst_element_factory_create(factory, nullptr);
  gst_object_unref(factory);

  gchar *model = nullptr, *seed = nullptr;
  gint mode;
  guint color, working;
  gdouble threshold, temporal, motion, adapt, hysteresis;
  g_object_get(e, "model", &model, "seed-mask", &seed, "mode", &mode, "background-color", &color,
               "threshold", &threshold, "working-size", &working, "temporal-weight", &temporal,
               "motion-weight", &motion, "adapt-rate", &adapt, "hysteresis", &hysteresis, nullptr);
  fail_unless(model == nullptr && seed == nullptr);
  fail_unless_equals_int(mode, 0);
  fail_unless_equals_uint64(color, 0xff000000u);
  fail_unless_equals_float(threshold, 0.5);
  fail_unless_equals_int(working, 480);
  fail_unless_equals_float(temporal, flagmask::SegmenterParams{}.temporal_weight);
  fail_unless_equals_float(motion, flagmask::SegmenterParams{}.motion_weight);
  fail_unless_equals_float(adapt, flagmask::SegmenterParams{}.adapt_rate);
  fail_unless_equals_float(hysteresis, flagmask::SegmenterParams{}.hysteresis);

  GObjectClass *klass = G_OBJECT_GET_CLASS(e);
  auto flags = [&](const char *name) { return g_object_class_find_property(klass, name)->flags; };
  fail_unless(flags("working-size") & GST_PARAM_MUTABLE_READY);
  for (const char *name : {"model", "seed-mask", "mode", "background-color", "threshold",
                           "temporal-weight", "motion-weight", "adapt-rate", "hysteresis"})
    fail_unless(flags(name) & GST_PARAM_MUTABLE_PLAYING, "%s", name);
  GParamSpecUInt *ws = G_PARAM_SPEC_UINT(g_object_class_find_property(klass, "working-size"));
  fail_unless(ws->minimum == 64 && ws->maximum == 4096);
  GParamSpecDouble *th = G_PARAM_SPEC_DOUBLE(g_object_class_find_property(klass, "threshold"));
  fail_unless(th->minimum == 0.0 && th->maximum == 1.0);

  GEnumClass *modes = G_ENUM_CLASS(g_type_class_ref(g_type_from_name("GstFlagMaskMode")));
  const char *nicks[] = {"cutout", "alpha", "mask", "overlay"};
  for (int i = 0; i < 4; ++i)
    fail_unless_equals_string(g_enum_get_value(modes, i)->value_nick, nicks[i]);
  fail_unless_equals_int(modes->n_values, 4);
  g_type_class_unref(modes);

  // network: unset means the default network; "none" turns it off.
  gchar *network = nullptr;
  g_object_get(e, "network", &network, nullptr);
  fail_unless(network == nullptr);
  for (const char *value : {"none", "/a/network.onnx"}) {
    g_object_set(e, "network", value, nullptr);
    g_object_get(e, "network", &network, nullptr);
    fail_unless_equals_string(network, value);
    g_free(network);
  }
  g_object_set(e, "network", nullptr, nullptr);
  g_object_get(e, "network", &network, nullptr);
  fail_unless(network == nullptr);

  gst_util_set_object_arg(G_OBJECT(e), "mode", "overlay");
  g_object_get(e, "mode", &mode, nullptr);
  fail_unless_equals_int(mode, 3);
  gst_object_unref(e);
}
GST_END_TEST;

GST_START_TEST(test_every_format_negotiates) {
  const char *formats[] = {"RGB",  "BGR",  "RGBA", "BGRA", "RGBx", "BGRx",
                           "xRGB", "xBGR", "ARGB", "ABGR", "I420", "NV12"};
  for (const char *format : formats) {
    GstVideoInfo info = video_info(format, kSize);
    GstHarness *h = harness_new(seed_prop().c_str(), &info);
    gst_buffer_unref(push_scene(h, &info, kSeedX));
    GstBuffer *out = push_scene(h, &info, kSeedX + 2);
    GstCaps *in_caps = gst_video_info_to_caps(&info);
    GstCaps *out_caps = gst_pad_get_current_caps(h->sinkpad);
    fail_unless(gst_caps_is_equal(in_caps, out_caps), "%s: %" GST_PTR_FORMAT, format, out_caps);
    // cutout on black: the far background is black, the object keeps its colour.
    const Px bg = read_px(out, &info, 2, 2);
    const Px obj = read_px(out, &info, object_rect(kSize, kSeedX + 2).x + 20, 55);
    if (is_yuv(&info)) {
      fail_unless(bg.c[0] == 16 && bg.c[1] == 128 && bg.c[2] == 128, "%s", format);
      fail_unless(near(obj.c[0], flagmask::rgbToYuv(240, 140, 40, {}).y, 2), "%s", format);
    } else {
      fail_unless(bg.c[0] == 0 && bg.c[1] == 0 && bg.c[2] == 0, "%s", format);
      fail_unless(obj.c[0] == 240 && obj.c[1] == 140 && obj.c[2] == 40, "%s", format);
      fail_unless(bg.c[3] == -1 || bg.c[3] == 255, "%s", format); // background-color alpha
    }
    gst_caps_unref(in_caps);
    gst_caps_unref(out_caps);
    gst_buffer_unref(out);
    gst_harness_teardown(h);
  }
}
GST_END_TEST;

// Pushes stream-start, caps and segment by hand: the element may refuse the caps (a sticky event
// is stored either way, so the answer says little; the caller checks accept-caps and the flow).
static gboolean start_stream(GstHarness *h, const GstVideoInfo *info) {
  gst_harness_push_event(h, gst_event_new_stream_start("flagmask-test"));
  GstCaps *caps = gst_video_info_to_caps(info);
  gboolean accepted = gst_harness_push_event(h, gst_event_new_caps(caps));
  gst_caps_unref(caps);
  GstSegment segment;
  gst_segment_init(&segment, GST_FORMAT_TIME);
  gst_harness_push_event(h, gst_event_new_segment(&segment));
  return accepted;
}

GST_START_TEST(test_alpha_mode_negotiates_alpha_formats_only) {
  const std::string props = seed_prop() + " mode=alpha";
  for (const char *format : {"RGB", "I420", "BGRx"}) {
    GstVideoInfo info = video_info(format, kSize);
    GstHarness *h = harness_new(props.c_str(), nullptr);
    GstPad *sink = gst_element_get_static_pad(h->element, "sink");
    GstCaps *caps = gst_video_info_to_caps(&info);
    fail_if(gst_pad_query_accept_caps(sink, caps), "alpha mode accepts %s", format);
    gst_caps_unref(caps);
    gst_object_unref(sink);
    start_stream(h, &info);
    fail_unless_equals_int(gst_harness_push(h, to_buffer(scene(kSize, kSeedX), &info)),
                           GST_FLOW_NOT_NEGOTIATED);
    gst_harness_teardown(h);
  }
  GstVideoInfo info = video_info("RGBA", kSize);
  GstHarness *h = harness_new(props.c_str(), nullptr);
  fail_unless(start_stream(h, &info));
  GstPad *sink = gst_element_get_static_pad(h->element, "sink");
  GstCaps *offered = gst_pad_query_caps(sink, nullptr);
  GstCaps *rgb = gst_caps_from_string("video/x-raw,format=RGB");
  fail_if(gst_caps_can_intersect(offered, rgb));
  gst_caps_unref(rgb);
  gst_caps_unref(offered);
  gst_object_unref(sink);

  gst_buffer_unref(push_scene(h, &info, kSeedX));
  GstBuffer *out = push_scene(h, &info, kSeedX + 2);
  const Px obj = read_px(out, &info, kSeedX + 22, 55), bg = read_px(out, &info, 2, 2);
  fail_unless_equals_int(obj.c[3], 255);
  fail_unless_equals_int(bg.c[3], 0);
  fail_unless(obj.c[0] == 240 && obj.c[1] == 140 && obj.c[2] == 40); // colour untouched
  const cv::Vec3b in_bg = scene(kSize, kSeedX + 2).at<cv::Vec3b>(2, 2);
  fail_unless(bg.c[0] == in_bg[2] && bg.c[1] == in_bg[1] && bg.c[2] == in_bg[0]);
  gst_buffer_unref(out);
  gst_harness_teardown(h);
}
GST_END_TEST;

GST_START_TEST(test_alpha_switch_mid_stream) {
  GstVideoInfo info = video_info("RGB", kSize);
  GstHarness *h = harness_new(seed_prop().c_str(), &info);
  GstBus *bus = gst_bus_new();
  gst_element_set_bus(h->element, bus);
  gst_buffer_unref(push_scene(h, &info, kSeedX));

  gst_util_set_object_arg(G_OBJECT(h->element), "mode", "alpha");
  fail_unless_equals_int(gst_harness_push(h, to_buffer(scene(kSize, kSeedX), &info)),
                         GST_FLOW_ERROR);
  GstMessage *msg = gst_bus_pop_filtered(bus, GST_MESSAGE_ERROR);
  fail_unless(msg != nullptr);
  GError *err = nullptr;
  gst_message_parse_error(msg, &err, nullptr);
  fail_unless(strstr(err->message, "alpha") && strstr(err->message, "RGB"), "%s", err->message);
  g_error_free(err);
  gst_message_unref(msg);

  // Back to a mode the format can show: the stream goes on.
  gst_util_set_object_arg(G_OBJECT(h->element), "mode", "mask");
  gst_buffer_unref(push_scene(h, &info, kSeedX + 2));
  fmtest::harness_teardown(h, bus);
}
GST_END_TEST;

GST_START_TEST(test_odd_size) {
  const cv::Size odd(161, 121);
  const std::string props = seed_prop() + " mode=mask";
  for (const char *format : {"I420", "RGB", "NV12"}) {
    GstVideoInfo info = video_info(format, odd);
    GstHarness *h = harness_new(props.c_str(), &info);
    for (int x = kSeedX; x <= kSeedX + 6; x += 3) {
      GstBuffer *out = push_scene(h, &info, x);
      const Px obj = read_px(out, &info, x + 20, 60), bg = read_px(out, &info, 160, 120);
      const int white = is_yuv(&info) ? 235 : 255, black = is_yuv(&info) ? 16 : 0;
      fail_unless(obj.c[0] == white && bg.c[0] == black, "%s x=%d: %d %d", format, x, obj.c[0],
                  bg.c[0]);
      gst_buffer_unref(out);
    }
    gst_harness_teardown(h);
  }
}
GST_END_TEST;

// The second frame goes through the tracker, not the seed.
static GstBuffer *second_frame(GstHarness *h, const GstVideoInfo *info) {
  gst_buffer_unref(push_scene(h, info, kSeedX));
  return push_scene(h, info, kSeedX + 3);
}

GST_START_TEST(test_mode_pixels) {
  const int ox = kSeedX + 3 + 20, oy = 55; // inside the square of the second frame
  const cv::Mat input = scene(kSize, kSeedX + 3);
  const cv::Vec3b in_bg = input.at<cv::Vec3b>(110, 150);

  GstVideoInfo rgb = video_info("RGB", kSize);
  GstHarness *h = harness_new((seed_prop() + " mode=mask").c_str(), &rgb);
  GstBuffer *out = second_frame(h, &rgb);
  fail_unless(read_px(out, &rgb, ox, oy).c[1] == 255 && read_px(out, &rgb, 150, 110).c[1] == 0);
  gst_buffer_unref(out);
  gst_harness_teardown(h);

  const std::string green = seed_prop() + " background-color=0xff00ff00";
  GstVideoInfo bgrx = video_info("BGRx", kSize);
  h = harness_new(green.c_str(), &bgrx);
  out = second_frame(h, &bgrx);
  const Px bg = read_px(out, &bgrx, 150, 110), obj = read_px(out, &bgrx, ox, oy);
  fail_unless(bg.c[0] == 0 && bg.c[1] == 255 && bg.c[2] == 0);
  fail_unless(obj.c[0] == 240 && obj.c[1] == 140 && obj.c[2] == 40);
  gst_buffer_unref(out);
  gst_harness_teardown(h);

  GstVideoInfo i420 = video_info("I420", kSize);
  h = harness_new(green.c_str(), &i420);
  out = second_frame(h, &i420);
  // Pure green in BT.601 limited range (GStreamer's default for this SD size), from the standard
  // rather than from flagmask's own conversion: Y = 16 + 219 * 0.587, U = 128 - 224 * 0.331,
  // V = 128 - 224 * 0.419.
  gchar *colorimetry = gst_video_colorimetry_to_string(&i420.colorimetry);
  fail_unless_equals_string(colorimetry, "bt601");
  g_free(colorimetry);
  const Px ybg = read_px(out, &i420, 150, 110);
  fail_unless(near(ybg.c[0], 145, 1) && near(ybg.c[1], 54, 1) && near(ybg.c[2], 34, 1),
              "green background as Y %d U %d V %d", ybg.c[0], ybg.c[1], ybg.c[2]);
  gst_buffer_unref(out);
  gst_harness_teardown(h);

  GstVideoInfo bgr = video_info("BGR", kSize);
  h = harness_new((seed_prop() + " mode=overlay").c_str(), &bgr);
  out = second_frame(h, &bgr);
  const Px dark = read_px(out, &bgr, 150, 110), same = read_px(out, &bgr, ox, oy);
  for (int c = 0; c < 3; ++c) // overlay dims to 40 %
    fail_unless(near(dark.c[c], cvRound(in_bg[2 - c] * 0.4), 1), "%d: %d", c, dark.c[c]);
  fail_unless(same.c[0] == 240 && same.c[1] == 140 && same.c[2] == 40);
  gst_buffer_unref(out);
  gst_harness_teardown(h);
}
GST_END_TEST;

// Sets the element to PLAYING, expects failure and returns the error message.
static std::string start_error(const char *props) {
  GstElement *e = gst_element_factory_make("flagmask", nullptr);
  if (props) {
    gchar **p = g_strsplit(props, "=", 2);
    gst_util_set_object_arg(G_OBJECT(e), p[0], p[1]);
    g_strfreev(p);
  }
  GstBus *bus = gst_bus_new();
  gst_element_set_bus(e, bus);
  fail_unless_equals_int(gst_element_set_state(e, GST_STATE_PLAYING), GST_STATE_CHANGE_FAILURE);
  GstMessage *msg = gst_bus_pop_filtered(bus, GST_MESSAGE_ERROR);
  fail_unless(msg != nullptr, "no error message for %s", props);
  GError *err = nullptr;
  gst_message_parse_error(msg, &err, nullptr);
  const std::string text = err->message;
  g_error_free(err);
  gst_message_unref(msg);
  gst_element_set_state(e, GST_STATE_NULL);
  gst_element_set_bus(e, nullptr);
  gst_object_unref(bus);
  gst_object_unref(e);
  return text;
}

GST_START_TEST(test_bad_input) {
  const std::string missing = fmtest::scratch("does-not-exist.yml");
  const std::string missing_png = fmtest::scratch("does-not-exist.png");
  const std::string missing_onnx = fmtest::scratch("does-not-exist.onnx");
  const std::pair<std::string, std::string> cases[] = {
      {"model=" + missing, missing},
      {"model=" + garbage_model_path, garbage_model_path},
      {"model=" + seed_path, seed_path}, // an image is not a model
      {"seed-mask=" + missing_png, missing_png},
      {"seed-mask=" + empty_mask_path, empty_mask_path},
      {"seed-mask=" + garbage_model_path, garbage_model_path},
      {"seed-mask=" + seed_path + " network=" + missing_onnx, missing_onnx},
      {"seed-mask=" + seed_path + " network=" + garbage_model_path, garbage_model_path},
  };
  for (const auto &c : cases) {
    const std::string message = start_error(c.first.c_str());
    fail_unless(message.find(c.second) != std::string::npos, "%s -> %s", c.first.c_str(),
                message.c_str());
  }
  fail_unless(start_error(nullptr).find("seed-mask or a model") != std::string::npos);
}
GST_END_TEST;

GST_START_TEST(test_flush_restarts_from_seed) {
  GstVideoInfo info = video_info("BGR", kSize);
  GstHarness *h = harness_new((seed_prop() + " mode=mask").c_str(), &info);
  const cv::Mat seed_answer = flagmask::resizeMask(flagmask::loadMask(seed_path), kSize);
  const int last_x = kSeedX + 40;
  cv::Mat tracked;
  for (int x = kSeedX; x <= last_x; x += 8) {
    GstBuffer *out = push_scene(h, &info, x);
    tracked = read_mask(out, &info);
    gst_buffer_unref(out);
  }
  // The tracker followed the square: the last frame's answer is not the seed.
  fail_unless(cv::countNonZero(tracked != seed_answer) > 500);
  fail_unless(tracked.at<guint8>(55, last_x + 20) == 255);

  fail_unless(gst_harness_push_event(h, gst_event_new_flush_start()));
  fail_unless(gst_harness_push_event(h, gst_event_new_flush_stop(TRUE)));
  GstSegment segment;
  gst_segment_init(&segment, GST_FORMAT_TIME);
  gst_harness_push_event(h, gst_event_new_segment(&segment));

  // The same last frame again: after the flush it is a first frame, so its answer is the seed.
  GstBuffer *out = push_scene(h, &info, last_x);
  fail_unless_equals_int(cv::countNonZero(read_mask(out, &info) != seed_answer), 0);
  gst_buffer_unref(out);
  gst_harness_teardown(h);
}
GST_END_TEST;

// The element must give the masks the core gives on full-size BGR frames (as flagmask-eval runs
// it), also when the analysis runs below the frame's resolution and the tuning knobs are moved.
GST_START_TEST(test_matches_core) {
  GstVideoInfo info = video_info("BGR", kSize);
  const std::string props = "seed-mask=" + flag_seed_path +
                            " mode=mask working-size=64 temporal-weight=0.5 motion-weight=0.8"
                            " hysteresis=0.2";
  GstHarness *h = harness_new(props.c_str(), &info);
  flagmask::SegmenterParams params;
  params.working_size = 64;
  params.temporal_weight = 0.5;
  params.motion_weight = 0.8;
  params.hysteresis = 0.2;
  flagmask::Segmenter core(params);
  if (!flagmask::defaultNetworkPath().empty()) // the element loads it unless told otherwise
    core.setNetwork(flagmask::Network::load(flagmask::defaultNetworkPath()));
  const cv::Mat seed = flagmask::resizeMask(flagmask::loadMask(flag_seed_path), kSize);
  for (int t = 0; t < 8; ++t) {
    const cv::Mat frame = flagmask::syntheticFlag(t, kSize).frame;
    const cv::Mat expected = (t == 0 ? core.seed(frame, seed) : core.process(frame)).mask;
    GstBuffer *out = gst_harness_push_and_pull(h, to_buffer(frame, &info));
    fail_unless(out != nullptr);
    const int differ = cv::countNonZero(read_mask(out, &info) != expected);
    fail_unless_equals_int(differ, 0);
    gst_buffer_unref(out);
  }
  gst_harness_teardown(h);
}
GST_END_TEST;

GST_START_TEST(test_model_without_seed) {
  GstVideoInfo info = video_info("BGRA", kSize);
  GstHarness *h = harness_new(("model=" + model_path + " mode=mask").c_str(), &info);
  for (int x = 60; x <= 70; x += 5) {
    GstBuffer *out = push_scene(h, &info, x);
    fail_unless_equals_int(read_px(out, &info, x + 20, 55).c[0], 255);
    fail_unless_equals_int(read_px(out, &info, 5, 110).c[0], 0);
    gst_buffer_unref(out);
  }
  gst_harness_teardown(h);
}
GST_END_TEST;

GST_START_TEST(test_state_cycles) {
  GstElement *e = gst_element_factory_make("flagmask", nullptr);
  g_object_set(e, "seed-mask", seed_path.c_str(), nullptr);
  for (int i = 0; i < 3; ++i) {
    fail_unless_equals_int(gst_element_set_state(e, GST_STATE_PLAYING), GST_STATE_CHANGE_SUCCESS);
    fail_unless_equals_int(gst_element_set_state(e, GST_STATE_NULL), GST_STATE_CHANGE_SUCCESS);
  }
  gst_object_unref(e);

  // With data flowing: each harness goes NULL -> PLAYING -> NULL around two frames.
  GstVideoInfo info = video_info("NV12", kSize);
  for (int i = 0; i < 3; ++i) {
    GstHarness *h = harness_new(seed_prop().c_str(), &info);
    gst_buffer_unref(push_scene(h, &info, kSeedX));
    gst_buffer_unref(push_scene(h, &info, kSeedX + 2 + i));
    gst_harness_teardown(h);
  }
}
GST_END_TEST;

static Suite *flagmask_suite(void) {
  Suite *s = suite_create("flagmask");
  TCase *tc = tcase_create("general");
  tcase_set_timeout(tc, 60);
  tcase_add_unchecked_fixture(tc, write_fixtures, remove_fixtures);
  suite_add_tcase(s, tc);
  tcase_add_test(tc, test_properties);
  tcase_add_test(tc, test_every_format_negotiates);
  tcase_add_test(tc, test_alpha_mode_negotiates_alpha_formats_only);
  tcase_add_test(tc, test_alpha_switch_mid_stream);
  tcase_add_test(tc, test_odd_size);
  tcase_add_test(tc, test_mode_pixels);
  tcase_add_test(tc, test_bad_input);
  tcase_add_test(tc, test_flush_restarts_from_seed);
  tcase_add_test(tc, test_matches_core);
  tcase_add_test(tc, test_model_without_seed);
  tcase_add_test(tc, test_state_cycles);
  return s;
}

GST_CHECK_MAIN(flagmask);
