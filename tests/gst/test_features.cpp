/* The users' features of the element: per-frame element messages (post-messages), the
 * object's box as a GstVideoRegionOfInterestMeta, invert, feather, seeding from a box (seed-box)
 * and saving the learned model (the save-model action signal and the model-out property). Each
 * test fails without its feature. */
#include "support.h"

#include "model.h"
#include "model_file.h"
#include "pace.h"
#include "seed_box.h"

#include <atomic>
#include <set>

using namespace fmtest;

static const cv::Size kSize(160, 120);
static const int kSeedX = 20;
static std::string seed_path, model_path;

static void write_fixtures(void) {
  make_scratch_dir();
  seed_path = write_image("seed.png", scene_mask(kSize, kSeedX));
  flagmask::Model model;
  model.add(scene(kSize, kSeedX), scene_mask(kSize, kSeedX));
  model_path = scratch("model.yml");
  flagmask::saveModel(model, model_path);
}

/* ---- helpers ------------------------------------------------------------------------------- */

// The scene's dark noise without the object.
static cv::Mat background_only(cv::Size size) {
  cv::Mat bgr(size, CV_8UC3);
  cv::RNG rng(4242);
  rng.fill(bgr, cv::RNG::NORMAL, cv::Scalar(60, 40, 30), cv::Scalar::all(8));
  return bgr;
}

static GstBuffer *timed_buffer(const cv::Mat &bgr, const GstVideoInfo *info, int index) {
  GstBuffer *buf = to_buffer(bgr, info);
  GST_BUFFER_PTS(buf) = index * 40 * GST_MSECOND;
  GST_BUFFER_DURATION(buf) = 40 * GST_MSECOND;
  return buf;
}

// The next "flagmask" element message on the bus, or nullptr.
static GstMessage *pop_frame_message(GstBus *bus) {
  while (GstMessage *msg = gst_bus_pop_filtered(bus, GST_MESSAGE_ELEMENT)) {
    if (gst_message_has_name(msg, "flagmask"))
      return msg;
    gst_message_unref(msg);
  }
  return nullptr;
}

static bool near(double a, double b, double tolerance) {
  return std::abs(a - b) <= tolerance;
}

// An I420 buffer of a BGR frame (even size; OpenCV's BT.601 conversion is close enough for the
// tracker, and the checks read luma levels only).
static GstBuffer *to_i420(const cv::Mat &bgr, const GstVideoInfo *info) {
  cv::Mat yuv;
  cv::cvtColor(bgr, yuv, cv::COLOR_BGR2YUV_I420);
  GstVideoFrame f;
  GstBuffer *buf = gst_buffer_new_allocate(nullptr, GST_VIDEO_INFO_SIZE(info), nullptr);
  fail_unless(gst_video_frame_map(&f, info, buf, GST_MAP_WRITE));
  const int w = bgr.cols, h = bgr.rows;
  const guint8 *src = yuv.data;
  for (guint plane = 0; plane < 3; ++plane) {
    const int pw = plane ? w / 2 : w, ph = plane ? h / 2 : h;
    for (int y = 0; y < ph; ++y, src += pw)
      memcpy(static_cast<guint8 *>(GST_VIDEO_FRAME_PLANE_DATA(&f, plane)) +
                 y * GST_VIDEO_FRAME_PLANE_STRIDE(&f, plane),
             src, pw);
  }
  gst_video_frame_unmap(&f);
  return buf;
}

// Bytes of one pixel: r, g, b, a (a = -1 without alpha) for packed RGB; y, -1, -1, -1 for YUV.
struct Px {
  int r = -1, g = -1, b = -1, a = -1;
};

static Px read_px(GstBuffer *buf, const GstVideoInfo *info, int x, int y) {
  GstVideoFrame f;
  fail_unless(gst_video_frame_map(&f, info, buf, GST_MAP_READ));
  Px px;
  if (GST_VIDEO_INFO_IS_YUV(info)) {
    px.r = static_cast<guint8 *>(
        GST_VIDEO_FRAME_PLANE_DATA(&f, 0))[y * GST_VIDEO_FRAME_PLANE_STRIDE(&f, 0) + x];
  } else {
    const guint8 *p = pixel(&f, x, y);
    px.r = p[GST_VIDEO_FRAME_COMP_POFFSET(&f, GST_VIDEO_COMP_R)];
    px.g = p[GST_VIDEO_FRAME_COMP_POFFSET(&f, GST_VIDEO_COMP_G)];
    px.b = p[GST_VIDEO_FRAME_COMP_POFFSET(&f, GST_VIDEO_COMP_B)];
    if (GST_VIDEO_INFO_HAS_ALPHA(info))
      px.a = p[GST_VIDEO_FRAME_COMP_POFFSET(&f, GST_VIDEO_COMP_A)];
  }
  gst_video_frame_unmap(&f);
  return px;
}

static GstBuffer *frame_buffer(const cv::Mat &bgr, const GstVideoInfo *info) {
  return GST_VIDEO_INFO_IS_YUV(info) ? to_i420(bgr, info) : to_buffer(bgr, info);
}

// The seed frame, then the second frame (tracked, the square 3 pixels to the right), its output.
static GstBuffer *tracked_frame(GstHarness *h, const GstVideoInfo *info) {
  GstBuffer *first = gst_harness_push_and_pull(h, frame_buffer(scene(kSize, kSeedX), info));
  fail_unless(first != nullptr);
  gst_buffer_unref(first);
  GstBuffer *out = gst_harness_push_and_pull(h, frame_buffer(scene(kSize, kSeedX + 3), info));
  fail_unless(out != nullptr);
  return out;
}

// A pixel well inside the square of the tracked frame, and one far from it.
static const cv::Point kInside(kSeedX + 3 + 20, 60), kOutside(150, 110);

/* ---- post-messages ------------------------------------------------------------------------- */

// The fields of the message, exactly: a script reads them by these names and types.
static void check_message_fields(const GstStructure *s) {
  const std::pair<const char *, GType> fields[] = {
      {"timestamp", G_TYPE_UINT64},
      {"stream-time", G_TYPE_UINT64},
      {"running-time", G_TYPE_UINT64},
      {"area", G_TYPE_DOUBLE},
      {"x", G_TYPE_INT},
      {"y", G_TYPE_INT},
      {"width", G_TYPE_INT},
      {"height", G_TYPE_INT},
      {"confidence", G_TYPE_DOUBLE},
      {"state", G_TYPE_STRING},
      {"analysis", G_TYPE_STRING},
  };
  fail_unless_equals_int(gst_structure_n_fields(s), G_N_ELEMENTS(fields));
  for (const auto &[name, type] : fields)
    fail_unless(gst_structure_has_field_typed(s, name, type), "field %s of type %s", name,
                g_type_name(type));
}

GST_START_TEST(test_post_messages_per_frame) {
  const GstVideoInfo info = video_info("BGR", kSize);
  GstBus *bus = gst_bus_new();
  GstHarness *h = harness_new("seed-mask=" + seed_path + " post-messages=true", &info, bus);
  for (int i = 0; i < 4; ++i) {
    const int x = kSeedX + 3 * i;
    gst_buffer_unref(gst_harness_push_and_pull(h, timed_buffer(scene(kSize, x), &info, i)));
    GstMessage *msg = pop_frame_message(bus);
    fail_unless(msg != nullptr, "no message for frame %d", i);
    fail_unless(GST_MESSAGE_SRC(msg) == GST_OBJECT(h->element));
    const GstStructure *s = gst_message_get_structure(msg);
    check_message_fields(s);
    guint64 pts, stream_time, running_time;
    gdouble area, confidence;
    gint bx, by, bw, bh;
    gst_structure_get(s, "timestamp", G_TYPE_UINT64, &pts, "stream-time", G_TYPE_UINT64,
                      &stream_time, "running-time", G_TYPE_UINT64, &running_time, "area",
                      G_TYPE_DOUBLE, &area, "confidence", G_TYPE_DOUBLE, &confidence, "x",
                      G_TYPE_INT, &bx, "y", G_TYPE_INT, &by, "width", G_TYPE_INT, &bw, "height",
                      G_TYPE_INT, &bh, nullptr);
    // The harness's segment starts at 0: all three times are the PTS.
    fail_unless_equals_uint64(pts, i * 40 * GST_MSECOND);
    fail_unless_equals_uint64(stream_time, pts);
    fail_unless_equals_uint64(running_time, pts);
    fail_unless_equals_string(gst_structure_get_string(s, "state"), "tracking");
    fail_unless_equals_string(gst_structure_get_string(s, "analysis"), "full");
    const cv::Rect object = object_rect(kSize, x);
    fail_unless(near(area, double(object.area()) / kSize.area(), 0.02), "area %f", area);
    fail_unless(near(bx, object.x, 4) && near(by, object.y, 4) && near(bw, object.width, 6) &&
                    near(bh, object.height, 6),
                "frame %d: box %d,%d,%d,%d", i, bx, by, bw, bh);
    fail_unless(confidence >= 0.0 && confidence <= 1.0);
    gst_message_unref(msg);
    fail_unless(pop_frame_message(bus) == nullptr, "more than one message for frame %d", i);
  }
  // Off while playing: no more messages.
  g_object_set(h->element, "post-messages", FALSE, nullptr);
  gst_buffer_unref(gst_harness_push_and_pull(h, timed_buffer(scene(kSize, kSeedX), &info, 4)));
  fail_unless(pop_frame_message(bus) == nullptr);
  fmtest::harness_teardown(h, bus);
}
GST_END_TEST;

/* ---- keep-up ------------------------------------------------------------------------------ */

struct LateRun {
  int carried = 0, dropped = 0;
};

// Runs 12 frames of the moving square in mask mode, 1 us apart (a period no analysis fits in), the
// sink reporting after each that it rendered a frame 5 ms late. The report names a frame long
// before these (running time 0), so GstBaseTransform's own QoS, which drops the frames due before
// the reported time plus its lateness, drops none of them unless it has a reason of its own. Every
// frame that comes out shows the square.
static LateRun run_late(const std::string &props) {
  const GstVideoInfo info = video_info("BGR", kSize);
  GstBus *bus = gst_bus_new();
  GstHarness *h =
      harness_new("mode=mask post-messages=true seed-mask=" + seed_path + " " + props, &info, bus);
  LateRun run;
  for (int i = 0; i < 12; ++i) {
    const int x = kSeedX + 3 * i;
    GstBuffer *in = to_buffer(scene(kSize, x), &info);
    GST_BUFFER_PTS(in) = GST_SECOND + i * GST_USECOND;
    GST_BUFFER_DURATION(in) = GST_USECOND;
    fail_unless_equals_int(gst_harness_push(h, in), GST_FLOW_OK);
    GstBuffer *out = gst_harness_try_pull(h);
    if (out == nullptr) { // dropped by GstBaseTransform's QoS
      ++run.dropped;
    } else {
      fail_unless(iou(to_mask(out, &info), scene_mask(kSize, x)) > 0.8, "frame %d", i);
      gst_buffer_unref(out);
      GstMessage *msg = pop_frame_message(bus);
      fail_unless(msg != nullptr);
      const GstStructure *s = gst_message_get_structure(msg);
      check_message_fields(s);
      const bool carried = g_strcmp0(gst_structure_get_string(s, "analysis"), "carried") == 0;
      run.carried += carried;
      gst_message_unref(msg);
    }
    fail_unless(gst_harness_push_upstream_event(
        h, gst_event_new_qos(GST_QOS_TYPE_UNDERFLOW, 1.5, 5 * GST_MSECOND, 0)));
  }
  fmtest::harness_teardown(h, bus);
  return run;
}

GST_START_TEST(test_keep_up_carries_frames_when_late) {
  const LateRun run = run_late("");
  fail_unless(run.carried >= 6, "%d carried", run.carried);
  fail_unless_equals_int(run.dropped, 0);
}
GST_END_TEST;

GST_START_TEST(test_keep_up_off_analyses_every_frame) {
  const LateRun run = run_late("keep-up=false");
  fail_unless_equals_int(run.carried, 0);
  fail_unless_equals_int(run.dropped, 0);
}
GST_END_TEST;

GST_START_TEST(test_post_messages_off_by_default) {
  const GstVideoInfo info = video_info("RGBx", kSize);
  GstBus *bus = gst_bus_new();
  GstHarness *h = harness_new("seed-mask=" + seed_path, &info, bus);
  gboolean post = TRUE;
  g_object_get(h->element, "post-messages", &post, nullptr);
  fail_if(post);
  gst_buffer_unref(push_pull(h, scene(kSize, kSeedX), &info));
  fail_unless(pop_frame_message(bus) == nullptr);
  g_object_set(h->element, "post-messages", TRUE, nullptr); // mutable while playing
  gst_buffer_unref(push_pull(h, scene(kSize, kSeedX + 2), &info));
  GstMessage *msg = pop_frame_message(bus);
  fail_unless(msg != nullptr);
  gst_message_unref(msg);
  fmtest::harness_teardown(h, bus);
}
GST_END_TEST;

// A model and no object in the frame: the message says lost, with an empty box.
GST_START_TEST(test_post_messages_lost) {
  const GstVideoInfo info = video_info("BGRA", kSize);
  GstBus *bus = gst_bus_new();
  GstHarness *h = harness_new("model=" + model_path + " post-messages=true", &info, bus);
  gst_buffer_unref(push_pull(h, background_only(kSize), &info));
  GstMessage *msg = pop_frame_message(bus);
  fail_unless(msg != nullptr);
  const GstStructure *s = gst_message_get_structure(msg);
  check_message_fields(s);
  fail_unless_equals_string(gst_structure_get_string(s, "state"), "lost");
  for (const char *field : {"x", "y", "width", "height"}) {
    gint v = -1;
    fail_unless(gst_structure_get_int(s, field, &v));
    fail_unless_equals_int(v, 0);
  }
  gdouble area = -1;
  fail_unless(gst_structure_get_double(s, "area", &area));
  fail_unless_equals_float(area, 0.0);
  // Without a timestamp the times are GST_CLOCK_TIME_NONE.
  guint64 pts = 0;
  fail_unless(gst_structure_get_uint64(s, "timestamp", &pts));
  fail_unless_equals_uint64(pts, GST_CLOCK_TIME_NONE);
  gst_message_unref(msg);
  fmtest::harness_teardown(h, bus);
}
GST_END_TEST;

// A synchronous bus handler runs in the streaming thread, inside gst_element_post_message: if the
// message were posted under the object lock or the stream lock, reading a property or saving the
// model there would deadlock.
static GstBusSyncReply reenter_element(GstBus *, GstMessage *msg, gpointer data) {
  if (GST_MESSAGE_TYPE(msg) == GST_MESSAGE_ELEMENT && gst_message_has_name(msg, "flagmask")) {
    GstElement *e = GST_ELEMENT(GST_MESSAGE_SRC(msg));
    gdouble threshold = 0;
    g_object_get(e, "threshold", &threshold, nullptr); // the object lock
    g_object_set(e, "threshold", threshold, nullptr);
    // ... and saving the model takes the stream lock.
    gboolean saved = FALSE;
    g_signal_emit_by_name(e, "save-model", scratch("from-handler.yml").c_str(), &saved);
    if (saved)
      static_cast<std::atomic<int> *>(data)->fetch_add(1);
  }
  return GST_BUS_PASS;
}

GST_START_TEST(test_post_messages_outside_locks) {
  const GstVideoInfo info = video_info("BGR", kSize);
  GstBus *bus = gst_bus_new();
  std::atomic<int> handled{0};
  gst_bus_set_sync_handler(bus, reenter_element, &handled, nullptr);
  GstHarness *h = harness_new("seed-mask=" + seed_path + " post-messages=true", &info, bus);
  for (int i = 0; i < 3; ++i)
    gst_buffer_unref(push_pull(h, scene(kSize, kSeedX + 2 * i), &info));
  fail_unless_equals_int(handled.load(), 3);
  fmtest::harness_teardown(h, bus);
}
GST_END_TEST;

/* ---- region of interest meta --------------------------------------------------------------- */

// The ROI metas of a buffer with this type.
static std::vector<GstVideoRegionOfInterestMeta *> rois(GstBuffer *buf, const char *type) {
  std::vector<GstVideoRegionOfInterestMeta *> found;
  gpointer state = nullptr;
  while (GstMeta *meta = gst_buffer_iterate_meta_filtered(
             buf, &state, GST_VIDEO_REGION_OF_INTEREST_META_API_TYPE)) {
    auto *roi = reinterpret_cast<GstVideoRegionOfInterestMeta *>(meta);
    if (roi->roi_type == g_quark_from_string(type))
      found.push_back(roi);
  }
  return found;
}

// One "flagmask" ROI around the object at x, with its param.
static void check_object_roi(GstBuffer *buf, int x) {
  const auto found = rois(buf, "flagmask");
  fail_unless_equals_int(found.size(), 1);
  const GstVideoRegionOfInterestMeta *roi = found[0];
  const cv::Rect object = object_rect(kSize, x);
  fail_unless(near(roi->x, object.x, 4) && near(roi->y, object.y, 4) &&
                  near(roi->w, object.width, 6) && near(roi->h, object.height, 6),
              "roi %u,%u,%u,%u", roi->x, roi->y, roi->w, roi->h);
  GstStructure *param = gst_video_region_of_interest_meta_get_param(
      const_cast<GstVideoRegionOfInterestMeta *>(roi), "flagmask");
  fail_unless(param != nullptr);
  gdouble area = -1, confidence = -1;
  fail_unless(gst_structure_get_double(param, "area", &area));
  fail_unless(gst_structure_get_double(param, "confidence", &confidence));
  fail_unless(near(area, double(object.area()) / kSize.area(), 0.02), "area %f", area);
  fail_unless(confidence >= 0.0 && confidence <= 1.0);
  fail_unless_equals_string(gst_structure_get_string(param, "state"), "tracking");
}

GST_START_TEST(test_roi_meta_on_every_buffer) {
  for (const char *format : {"BGR", "xRGB"}) {
    const GstVideoInfo info = video_info(format, kSize);
    GstHarness *h = harness_new("seed-mask=" + seed_path + " mode=mask", &info);
    for (int i = 0; i < 3; ++i) { // the seed frame, then tracked frames
      const int x = kSeedX + 3 * i;
      GstBuffer *out = push_pull(h, scene(kSize, x), &info);
      check_object_roi(out, x);
      gst_buffer_unref(out);
    }
    gst_harness_teardown(h);
  }
}
GST_END_TEST;

// The analysis runs at a smaller size than the frame (working-size 64 on 160x120): the box must
// still be in frame pixels, in the meta and in the message alike.
GST_START_TEST(test_box_in_frame_pixels) {
  const GstVideoInfo info = video_info("BGR", kSize);
  GstBus *bus = gst_bus_new();
  GstHarness *h =
      harness_new("seed-mask=" + seed_path + " working-size=64 post-messages=true", &info, bus);
  for (int i = 0; i < 3; ++i) { // the seed frame, then tracked frames
    const int x = kSeedX + 3 * i;
    GstBuffer *out = push_pull(h, scene(kSize, x), &info);
    check_object_roi(out, x);
    gst_buffer_unref(out);
    GstMessage *msg = pop_frame_message(bus);
    fail_unless(msg != nullptr);
    const GstStructure *s = gst_message_get_structure(msg);
    gint bx = -1, bw = -1;
    fail_unless(gst_structure_get_int(s, "x", &bx) && gst_structure_get_int(s, "width", &bw));
    const cv::Rect object = object_rect(kSize, x);
    fail_unless(near(bx, object.x, 4) && near(bw, object.width, 6), "box x %d width %d", bx, bw);
    gst_message_unref(msg);
  }
  fmtest::harness_teardown(h, bus);
}
GST_END_TEST;

GST_START_TEST(test_roi_meta_none_when_lost) {
  const GstVideoInfo info = video_info("BGR", kSize);
  GstHarness *h = harness_new("model=" + model_path, &info);
  GstBuffer *out = push_pull(h, background_only(kSize), &info);
  fail_unless_equals_int(rois(out, "flagmask").size(), 0);
  gst_buffer_unref(out);
  // The object comes into view: now it has one.
  out = push_pull(h, scene(kSize, 60), &info);
  check_object_roi(out, 60);
  gst_buffer_unref(out);
  gst_harness_teardown(h);
}
GST_END_TEST;

// The input buffer has a second reference, so basetransform must write into a copy: the copy
// gets the object's ROI and keeps the upstream ROI of another type; the input stays as it was.
GST_START_TEST(test_roi_meta_kept_when_copied) {
  const GstVideoInfo info = video_info("RGBA", kSize);
  GstHarness *h = harness_new("seed-mask=" + seed_path, &info);
  gst_buffer_unref(push_pull(h, scene(kSize, kSeedX), &info));
  const cv::Mat frame = scene(kSize, kSeedX + 3);
  GstBuffer *in = to_buffer(frame, &info);
  gst_buffer_add_video_region_of_interest_meta(in, "face", 1, 2, 30, 40);
  fail_unless_equals_int(gst_harness_push(h, gst_buffer_ref(in)), GST_FLOW_OK);
  GstBuffer *out = gst_harness_pull(h);
  fail_unless(out != nullptr && out != in, "the element wrote into a buffer it did not own");
  check_object_roi(out, kSeedX + 3);
  const auto face = rois(out, "face");
  fail_unless_equals_int(face.size(), 1);
  fail_unless(face[0]->x == 1 && face[0]->y == 2 && face[0]->w == 30 && face[0]->h == 40);
  // The input: untouched pixels, no flagmask ROI.
  fail_unless_equals_int(rois(in, "flagmask").size(), 0);
  fail_unless_equals_int(differing(to_bgr(in, &info), frame), 0);
  fail_unless(differing(to_bgr(out, &info), frame) > 0); // cutout replaced the background
  gst_buffer_unref(out);
  gst_buffer_unref(in);
  gst_harness_teardown(h);
}
GST_END_TEST;

/* ---- invert -------------------------------------------------------------------------------- */

GST_START_TEST(test_invert_every_mode) {
  const cv::Mat input = scene(kSize, kSeedX + 3);
  const cv::Vec3b in_obj = input.at<cv::Vec3b>(kInside), in_bg = input.at<cv::Vec3b>(kOutside);
  const std::string seed = "seed-mask=" + seed_path + " invert=true";

  GstVideoInfo info = video_info("BGR", kSize);
  GstHarness *h = harness_new(seed + " mode=mask", &info);
  GstBuffer *out = tracked_frame(h, &info);
  fail_unless_equals_int(read_px(out, &info, kInside.x, kInside.y).g, 0); // black object
  fail_unless_equals_int(read_px(out, &info, kOutside.x, kOutside.y).g, 255);
  check_object_roi(out, kSeedX + 3); // the ROI is the object's, inverted or not
  gst_buffer_unref(out);
  gst_harness_teardown(h);

  h = harness_new(seed + " mode=cutout background-color=0xff00ff00", &info);
  out = tracked_frame(h, &info);
  Px obj = read_px(out, &info, kInside.x, kInside.y),
     bg = read_px(out, &info, kOutside.x, kOutside.y);
  fail_unless(obj.r == 0 && obj.g == 255 && obj.b == 0, "object %d,%d,%d", obj.r, obj.g, obj.b);
  fail_unless(bg.r == in_bg[2] && bg.g == in_bg[1] && bg.b == in_bg[0]); // background kept
  gst_buffer_unref(out);
  gst_harness_teardown(h);

  h = harness_new(seed + " mode=overlay", &info);
  out = tracked_frame(h, &info);
  obj = read_px(out, &info, kInside.x, kInside.y);
  bg = read_px(out, &info, kOutside.x, kOutside.y);
  fail_unless(near(obj.r, in_obj[2] * 0.4, 1) && near(obj.g, in_obj[1] * 0.4, 1) &&
              near(obj.b, in_obj[0] * 0.4, 1)); // the object dimmed
  fail_unless(bg.r == in_bg[2] && bg.g == in_bg[1] && bg.b == in_bg[0]);
  gst_buffer_unref(out);
  gst_harness_teardown(h);

  info = video_info("RGBA", kSize);
  h = harness_new(seed + " mode=alpha", &info);
  out = tracked_frame(h, &info);
  obj = read_px(out, &info, kInside.x, kInside.y);
  bg = read_px(out, &info, kOutside.x, kOutside.y);
  fail_unless_equals_int(obj.a, 0);
  fail_unless_equals_int(bg.a, 255);
  fail_unless(obj.r == in_obj[2] && obj.g == in_obj[1] && obj.b == in_obj[0]); // colour untouched
  gst_buffer_unref(out);
  gst_harness_teardown(h);

  info = video_info("I420", kSize);
  h = harness_new(seed + " mode=mask", &info);
  out = tracked_frame(h, &info);
  fail_unless_equals_int(read_px(out, &info, kInside.x, kInside.y).r, 16); // limited-range black
  fail_unless_equals_int(read_px(out, &info, kOutside.x, kOutside.y).r, 235);
  gst_buffer_unref(out);
  gst_harness_teardown(h);
}
GST_END_TEST;

GST_START_TEST(test_invert_while_playing) {
  const GstVideoInfo info = video_info("BGRx", kSize);
  GstHarness *h = harness_new("seed-mask=" + seed_path + " mode=mask", &info);
  gboolean invert = TRUE;
  g_object_get(h->element, "invert", &invert, nullptr);
  fail_if(invert);
  for (int i = 0; i < 4; ++i) {
    const bool inverted = i % 2 == 1;
    g_object_set(h->element, "invert", inverted, nullptr);
    GstBuffer *out = push_pull(h, scene(kSize, kSeedX + i), &info);
    const cv::Mat mask = to_mask(out, &info);
    const cv::Mat object = scene_mask(kSize, kSeedX + i);
    // Far from the boundary, the mask is the object's or its opposite.
    cv::Mat inner, outer;
    cv::erode(object, inner, cv::Mat(), cv::Point(-1, -1), 3);
    cv::erode(~object, outer, cv::Mat(), cv::Point(-1, -1), 3);
    const uchar on = inverted ? 0 : 255, off = inverted ? 255 : 0;
    fail_unless_equals_int(cv::countNonZero((mask != on) & inner), 0);
    fail_unless_equals_int(cv::countNonZero((mask != off) & outer), 0);
    gst_buffer_unref(out);
  }
  gst_harness_teardown(h);
}
GST_END_TEST;

/* ---- background-image, background-blur ---------------------------------------------------- */

// Cutout with background-image: behind the tracked square, the picture scaled to the frame (BGR in
// and out: no conversion between); the square as it came. The properties read back.
GST_START_TEST(test_background_image) {
  const cv::Mat picture(cv::Size(80, 60), CV_8UC3, cv::Scalar(10, 200, 90));
  const std::string picture_path = write_image("picture.png", picture);
  const GstVideoInfo info = video_info("BGR", kSize);
  GstHarness *h = harness_new(
      "seed-mask=" + seed_path + " background-image=" + picture_path + " background-blur=0", &info);
  const int x = kSeedX + 4;
  GstBuffer *out = push_pull(h, scene(kSize, kSeedX), &info);
  gst_buffer_unref(out);
  out = push_pull(h, scene(kSize, x), &info);
  const Px far = read_px(out, &info, kSize.width - 5, 5);
  fail_unless(far.b == 10 && far.g == 200 && far.r == 90, "background %d,%d,%d", far.b, far.g,
              far.r);
  const Px inside = read_px(out, &info, x + 10, kInside.y);
  const cv::Vec3b object = scene(kSize, x).at<cv::Vec3b>(kInside.y, x + 10);
  fail_unless(inside.b == object[0] && inside.g == object[1] && inside.r == object[2]);
  gst_buffer_unref(out);
  gchar *path = nullptr;
  guint blur = 99;
  g_object_get(h->element, "background-image", &path, "background-blur", &blur, nullptr);
  fail_unless_equals_string(path, picture_path.c_str());
  fail_unless_equals_int(blur, 0);
  g_free(path);
  gst_harness_teardown(h);
}
GST_END_TEST;

// A picture that does not load stops the stream with an error naming the file.
GST_START_TEST(test_background_image_missing) {
  const GstVideoInfo info = video_info("BGR", kSize);
  GstBus *bus = gst_bus_new();
  const std::string missing = scratch("no-such-picture.png");
  GstHarness *h =
      harness_new("seed-mask=" + seed_path + " background-image=" + missing, &info, bus);
  fail_unless_equals_int(gst_harness_push(h, to_buffer(scene(kSize, kSeedX), &info)),
                         GST_FLOW_ERROR);
  const Posted p = pop_posted(bus);
  fail_unless(p.is(GST_MESSAGE_ERROR, GST_RESOURCE_ERROR, GST_RESOURCE_ERROR_NOT_FOUND) &&
                  p.says(missing) && p.says("background-image"),
              "%s", p.message.c_str());
  fmtest::harness_teardown(h, bus);
}
GST_END_TEST;

// background-blur alone: the frame's own background smoothed (its noise gone), the square kept.
GST_START_TEST(test_background_blur) {
  const GstVideoInfo info = video_info("BGRx", kSize);
  GstHarness *h = harness_new("seed-mask=" + seed_path + " background-blur=16", &info);
  GstBuffer *out = push_pull(h, scene(kSize, kSeedX), &info);
  // The scene's background is noise of 8 levels around a colour: its neighbours now agree.
  int rough = 0;
  for (int x = 100; x < 150; ++x)
    rough += std::abs(read_px(out, &info, x, 10).g - read_px(out, &info, x + 1, 10).g) > 3;
  fail_unless(rough < 5, "%d of 50 neighbours still differ", rough);
  gst_buffer_unref(out);
  gst_harness_teardown(h);
}
GST_END_TEST;

/* ---- feather ------------------------------------------------------------------------------- */

// The row through the middle of the tracked frame's square, from a mask-mode output.
static std::vector<int> middle_row(GstBuffer *out, const GstVideoInfo *info) {
  std::vector<int> row;
  for (int x = 0; x < kSize.width; ++x)
    row.push_back(read_px(out, info, x, kInside.y).r);
  return row;
}

// Values strictly between lo and hi in row[from, to).
static int soft_count(const std::vector<int> &row, int from, int to, int lo, int hi) {
  int n = 0;
  for (int x = std::max(0, from); x < std::min<int>(row.size(), to); ++x)
    n += row[x] > lo && row[x] < hi;
  return n;
}

// Across the square's left edge, mask mode rises from black to white over 2 * feather + 1 pixels,
// monotonically; far from the edge it stays black or white.
GST_START_TEST(test_feather_ramp) {
  const GstVideoInfo info = video_info("RGB", kSize);
  const int edge = kSeedX + 3; // the square's left edge in the tracked frame
  for (int feather : {0, 2, 5}) {
    GstHarness *h = harness_new(
        "seed-mask=" + seed_path + " mode=mask feather=" + std::to_string(feather), &info);
    GstBuffer *out = tracked_frame(h, &info);
    const std::vector<int> row = middle_row(out, &info);
    const int soft = soft_count(row, edge - 10, edge + 10, 0, 255);
    if (feather == 0) {
      fail_unless_equals_int(soft, 0); // a hard edge, as before feather existed
    } else {
      fail_unless(std::abs(soft - (2 * feather + 1)) <= 2, "feather %d: %d soft pixels", feather,
                  soft);
    }
    for (int x = edge - 10; x < edge + 10; ++x)
      fail_unless(row[x + 1] >= row[x], "feather %d: not monotonic at %d", feather, x);
    fail_unless_equals_int(row[edge - feather - 4], 0);
    fail_unless_equals_int(row[edge + feather + 4], 255);
    fail_unless_equals_int(soft_count(row, 0, edge - feather - 3, 0, 256), 0);
    gst_buffer_unref(out);
    gst_harness_teardown(h);
  }
}
GST_END_TEST;

// Every byte of a 4-byte packed frame, as CV_8UC4.
static cv::Mat packed_pixels(GstBuffer *buf, const GstVideoInfo *info) {
  GstVideoFrame f;
  fail_unless(gst_video_frame_map(&f, info, buf, GST_MAP_READ));
  const cv::Mat pixels =
      cv::Mat(GST_VIDEO_INFO_HEIGHT(info), GST_VIDEO_INFO_WIDTH(info), CV_8UC4,
              GST_VIDEO_FRAME_PLANE_DATA(&f, 0), GST_VIDEO_FRAME_PLANE_STRIDE(&f, 0))
          .clone();
  gst_video_frame_unmap(&f);
  return pixels;
}

// feather=0 gives exactly the output without the property in every mode; > 0 changes only pixels
// near the boundary.
GST_START_TEST(test_feather_zero_is_hard_edge) {
  const GstVideoInfo info = video_info("BGRA", kSize);
  for (const char *mode : {"cutout", "alpha", "mask", "overlay"}) {
    const std::string base = "seed-mask=" + seed_path + " mode=" + mode;
    GstHarness *plain = harness_new(base, &info), *zero = harness_new(base + " feather=0", &info);
    GstHarness *soft = harness_new(base + " feather=3", &info);
    GstBuffer *a = tracked_frame(plain, &info), *b = tracked_frame(zero, &info);
    GstBuffer *c = tracked_frame(soft, &info);
    GstMapInfo ma, mb;
    fail_unless(gst_buffer_map(a, &ma, GST_MAP_READ) && gst_buffer_map(b, &mb, GST_MAP_READ));
    fail_unless(ma.size == mb.size && memcmp(ma.data, mb.data, ma.size) == 0, "%s", mode);
    gst_buffer_unmap(a, &ma);
    gst_buffer_unmap(b, &mb);
    // Feathered: differs, but only within the boundary's band (alpha included).
    const cv::Mat changed = packed_pixels(a, &info) != packed_pixels(c, &info);
    cv::Mat any;
    cv::reduce(changed.reshape(1, changed.rows * changed.cols), any, 1, cv::REDUCE_MAX);
    any = any.reshape(1, changed.rows);
    fail_unless(cv::countNonZero(any) > 0, "%s: feather changed nothing", mode);
    const cv::Rect near_edge =
        object_rect(kSize, kSeedX + 3) + cv::Size(20, 20) - cv::Point(10, 10);
    any(near_edge).setTo(0);
    fail_unless_equals_int(cv::countNonZero(any), 0);
    for (GstBuffer *buf : {a, b, c})
      gst_buffer_unref(buf);
    for (GstHarness *h : {plain, zero, soft})
      gst_harness_teardown(h);
  }
}
GST_END_TEST;

// Each mode mixes over the soft edge: a pixel on the boundary is between the two sides.
GST_START_TEST(test_feather_every_mode) {
  const cv::Mat input = scene(kSize, kSeedX + 3);
  const cv::Point edge(kSeedX + 3, kInside.y); // first column of the square
  const cv::Vec3b in = input.at<cv::Vec3b>(edge);
  const std::string seed = "seed-mask=" + seed_path + " feather=4";

  GstVideoInfo info = video_info("RGBA", kSize);
  GstHarness *h = harness_new(seed + " mode=alpha", &info);
  GstBuffer *out = tracked_frame(h, &info);
  Px p = read_px(out, &info, edge.x, edge.y);
  fail_unless(p.a > 40 && p.a < 215, "alpha %d", p.a);
  fail_unless(p.r == in[2] && p.g == in[1] && p.b == in[0]); // colour untouched
  fail_unless_equals_int(read_px(out, &info, kInside.x, kInside.y).a, 255);
  fail_unless_equals_int(read_px(out, &info, kOutside.x, kOutside.y).a, 0);
  gst_buffer_unref(out);
  gst_harness_teardown(h);

  info = video_info("BGR", kSize);
  h = harness_new(seed + " mode=cutout background-color=0xff000000", &info);
  out = tracked_frame(h, &info);
  p = read_px(out, &info, edge.x, edge.y);
  fail_unless(p.r > 40 && p.r < in[2] - 40, "red %d of %d", p.r, in[2]); // object over black
  fail_unless(near(double(p.g) / in[1], double(p.r) / in[2], 0.05));
  gst_buffer_unref(out);
  gst_harness_teardown(h);

  h = harness_new(seed + " mode=overlay", &info);
  out = tracked_frame(h, &info);
  p = read_px(out, &info, edge.x, edge.y);
  fail_unless(p.r > in[2] * 0.4 + 10 && p.r < in[2] - 10, "red %d of %d", p.r, in[2]);
  gst_buffer_unref(out);
  gst_harness_teardown(h);

  for (const char *format : {"I420", "RGB"}) {
    info = video_info(format, kSize);
    h = harness_new(seed + " mode=mask", &info);
    out = tracked_frame(h, &info);
    const int lo = GST_VIDEO_INFO_IS_YUV(&info) ? 16 : 0,
              hi = GST_VIDEO_INFO_IS_YUV(&info) ? 235 : 255;
    p = read_px(out, &info, edge.x, edge.y);
    fail_unless(p.r > lo + 30 && p.r < hi - 30, "%s: grey %d", format, p.r);
    fail_unless_equals_int(read_px(out, &info, kInside.x, kInside.y).r, hi);
    fail_unless_equals_int(read_px(out, &info, kOutside.x, kOutside.y).r, lo);
    gst_buffer_unref(out);
    gst_harness_teardown(h);
  }
}
GST_END_TEST;

// Sizes and combinations at the limits: feather far wider than the frame, odd sizes, YUV, invert
// with alpha, an object lost. Every frame goes through.
GST_START_TEST(test_feather_extremes) {
  struct Case {
    const char *format;
    cv::Size size;
    const char *props;
  };
  const Case cases[] = {
      {"RGBA", {40, 30}, "mode=alpha feather=64 invert=true"},
      {"I420", {41, 31}, "mode=cutout feather=64"},
      {"NV12", {41, 31}, "mode=overlay feather=64 invert=true"},
      {"NV12", {161, 121}, "mode=mask feather=7"},
      {"I420", {161, 121}, "mode=overlay feather=1 invert=true"},
      {"xBGR", {17, 9}, "mode=mask feather=64"},
  };
  for (const Case &c : cases) {
    const GstVideoInfo info = video_info(c.format, c.size);
    const std::string mask = write_image("seed-" + std::to_string(c.size.width) + ".png",
                                         scene_mask(c.size, c.size.width / 8));
    GstHarness *h = harness_new("seed-mask=" + mask + " " + c.props, &info);
    for (int i = 0; i < 3; ++i) {
      const cv::Mat frame = scene(c.size, c.size.width / 8 + i);
      GstBuffer *in = GST_VIDEO_INFO_IS_YUV(&info)
                          ? gst_buffer_new_allocate(nullptr, GST_VIDEO_INFO_SIZE(&info), nullptr)
                          : to_buffer(frame, &info);
      if (GST_VIDEO_INFO_IS_YUV(&info))
        gst_buffer_memset(in, 0, 128, GST_VIDEO_INFO_SIZE(&info)); // grey: the object gets lost
      fail_unless_equals_int(gst_harness_push(h, in), GST_FLOW_OK);
      gst_buffer_unref(gst_harness_pull(h));
    }
    gst_harness_teardown(h);
  }
  // Lost with a model and no object, feathered and inverted.
  const GstVideoInfo info = video_info("BGR", kSize);
  GstHarness *h = harness_new("model=" + model_path + " feather=64 invert=true", &info);
  GstBuffer *out = push_pull(h, background_only(kSize), &info);
  fail_unless_equals_int(differing(to_bgr(out, &info), background_only(kSize)), 0); // all kept
  gst_buffer_unref(out);
  gst_harness_teardown(h);
}
GST_END_TEST;

GST_START_TEST(test_feather_while_playing) {
  const GstVideoInfo info = video_info("BGR", kSize);
  GstHarness *h = harness_new("seed-mask=" + seed_path + " mode=mask", &info);
  guint feather = 99;
  g_object_get(h->element, "feather", &feather, nullptr);
  fail_unless_equals_int(feather, 0);
  GParamSpecUInt *spec =
      G_PARAM_SPEC_UINT(g_object_class_find_property(G_OBJECT_GET_CLASS(h->element), "feather"));
  fail_unless(spec->maximum == 64 && (spec->parent_instance.flags & GST_PARAM_MUTABLE_PLAYING));
  const int edge = kSeedX + 3;
  GstBuffer *out = tracked_frame(h, &info);
  fail_unless_equals_int(soft_count(middle_row(out, &info), edge - 10, edge + 10, 0, 255), 0);
  gst_buffer_unref(out);
  g_object_set(h->element, "feather", 3u, nullptr);
  out = push_pull(h, scene(kSize, edge), &info);
  fail_unless(soft_count(middle_row(out, &info), edge - 10, edge + 10, 0, 255) >= 5);
  gst_buffer_unref(out);
  gst_harness_teardown(h);
}
GST_END_TEST;

/* ---- seed-box ------------------------------------------------------------------------------ */

// A box around the square at kSeedX, with background around it for grabCut.
static const char *kBox = "10,30,60,60";

// The element's seed frame from a box is grabCut's answer on that frame, pixel for pixel (BGR in:
// the element converts nothing), and tracking goes on from it.
GST_START_TEST(test_seed_box_seeds) {
  const GstVideoInfo info = video_info("BGR", kSize);
  GstHarness *h = harness_new(std::string("mode=mask seed-box=") + kBox, &info);
  const cv::Mat frame = scene(kSize, kSeedX);
  const cv::Mat expected = flagmask::maskFromBox(frame, flagmask::parseBox(kBox));
  GstBuffer *out = push_pull(h, frame, &info);
  fail_unless_equals_int(differing(to_mask(out, &info), expected), 0);
  check_object_roi(out, kSeedX);
  gst_buffer_unref(out);
  for (int i = 1; i <= 3; ++i) {
    const int x = kSeedX + 3 * i;
    out = push_pull(h, scene(kSize, x), &info);
    const cv::Mat mask = to_mask(out, &info);
    fail_unless(differing(mask, scene_mask(kSize, x)) < kSize.area() / 100, "frame %d", i);
    gst_buffer_unref(out);
  }
  gchar *box = nullptr;
  g_object_get(h->element, "seed-box", &box, nullptr);
  fail_unless_equals_string(box, kBox);
  g_free(box);
  gst_harness_teardown(h);
}
GST_END_TEST;

// Both set at start: the seed mask is the seed, the box is not used.
GST_START_TEST(test_seed_mask_wins_over_box) {
  const GstVideoInfo info = video_info("BGR", kSize);
  GstHarness *h = harness_new("mode=mask seed-mask=" + seed_path + " seed-box=90,20,40,40", &info);
  GstBuffer *out = push_pull(h, scene(kSize, kSeedX), &info);
  fail_unless_equals_int(differing(to_mask(out, &info), scene_mask(kSize, kSeedX)), 0);
  gst_buffer_unref(out);
  gst_harness_teardown(h);
}
GST_END_TEST;

// Sets the element to PLAYING with these properties, expects failure and returns the error.
static Posted start_failure(const std::string &props) {
  GstElement *e = gst_element_factory_make("flagmask", nullptr);
  set_props(e, props);
  Posted p;
  {
    BusWatch watch(e);
    fail_unless_equals_int(gst_element_set_state(e, GST_STATE_PLAYING), GST_STATE_CHANGE_FAILURE);
    p = pop_posted(watch.bus, GST_MESSAGE_ERROR);
  }
  gst_element_set_state(e, GST_STATE_NULL);
  gst_object_unref(e);
  return p;
}

GST_START_TEST(test_seed_box_malformed_at_start) {
  for (const char *bad : {"abc", "1,2,3", "1,2,3,4,5", "-1,2,30,40", "1;2;3;4", "1,2,3,x"}) {
    const Posted p = start_failure(std::string("seed-box=") + bad);
    fail_unless(p.is(GST_MESSAGE_ERROR, GST_RESOURCE_ERROR, GST_RESOURCE_ERROR_SETTINGS), "%s",
                bad);
    fail_unless(p.says(std::string("'") + bad + "'") && p.says("x,y,w,h"), "%s: %s", bad,
                p.message.c_str());
  }
  // Even when the seed mask wins, a malformed box is a mistake worth stopping for.
  const Posted p = start_failure("seed-mask=" + seed_path + " seed-box=oops");
  fail_unless(p.says("'oops'"), "%s", p.message.c_str());
}
GST_END_TEST;

// A box nothing of which is in the frame, or of zero size: the first frame fails with an error
// naming the box; boxes partly outside are clipped.
GST_START_TEST(test_seed_box_outside_frame) {
  const GstVideoInfo info = video_info("BGR", kSize);
  for (const char *bad : {"500,500,20,20", "0,0,0,0", "160,0,10,10", "20,40,0,30"}) {
    GstBus *bus = gst_bus_new();
    GstHarness *h = harness_new(std::string("seed-box=") + bad, &info, bus);
    fail_unless_equals_int(gst_harness_push(h, to_buffer(scene(kSize, kSeedX), &info)),
                           GST_FLOW_ERROR);
    const Posted p = pop_posted(bus);
    fail_unless(p.type == GST_MESSAGE_ERROR && p.says(std::string("'") + bad + "'") &&
                    p.says("outside"),
                "%s: %s", bad, p.message.c_str());
    fmtest::harness_teardown(h, bus);
  }
  // Partly outside: clipped to the frame, and the square is found in what is left.
  GstHarness *h = harness_new("mode=mask seed-box=10,30,60,600", &info);
  GstBuffer *out = push_pull(h, scene(kSize, kSeedX), &info);
  const cv::Mat expected = flagmask::maskFromBox(scene(kSize, kSeedX), cv::Rect(10, 30, 60, 90));
  fail_unless_equals_int(differing(to_mask(out, &info), expected), 0);
  gst_buffer_unref(out);
  gst_harness_teardown(h);
}
GST_END_TEST;

// A box touching the frame's top edge gets a warning naming the box and the edge (grabCut learns
// the background only from around the box); tracking goes on from the seed it cut. A box with a
// margin on every side and a cut-out of under half of it gets none.
GST_START_TEST(test_seed_box_warnings) {
  const GstVideoInfo info = video_info("BGR", kSize);
  GstBus *bus = gst_bus_new();
  const char *on_edge = "10,0,60,100"; // the square is 40x40 at y 40: 27 % of the box
  GstHarness *h = harness_new(std::string("mode=mask seed-box=") + on_edge, &info, bus);
  GstBuffer *out = push_pull(h, scene(kSize, kSeedX), &info);
  const Posted p = pop_posted(bus);
  fail_unless(p.type == GST_MESSAGE_WARNING && p.says(on_edge) && p.says("top edge"), "%s",
              p.message.c_str());
  fail_unless(differing(to_mask(out, &info), scene_mask(kSize, kSeedX)) < kSize.area() / 100);
  gst_buffer_unref(out);
  fmtest::harness_teardown(h, bus);

  bus = gst_bus_new();
  h = harness_new(std::string("mode=mask seed-box=") + kBox, &info, bus);
  gst_buffer_unref(push_pull(h, scene(kSize, kSeedX), &info));
  fail_unless(pop_posted(bus).type == GST_MESSAGE_UNKNOWN);
  fmtest::harness_teardown(h, bus);
}
GST_END_TEST;

// Setting seed-box while playing re-seeds at the next frame; a malformed or outside box gets a
// warning naming it and tracking goes on.
GST_START_TEST(test_seed_box_while_playing) {
  const GstVideoInfo info = video_info("BGRx", kSize);
  GstBus *bus = gst_bus_new();
  GstHarness *h = harness_new("mode=mask seed-mask=" + seed_path, &info, bus);
  for (int x = kSeedX; x <= kSeedX + 40; x += 8)
    gst_buffer_unref(push_pull(h, scene(kSize, x), &info));

  for (const char *bad : {"1,2,3", "900,900,10,10"}) {
    g_object_set(h->element, "seed-box", bad, nullptr);
    GstBuffer *out = push_pull(h, scene(kSize, kSeedX + 44), &info);
    const Posted p = pop_posted(bus);
    fail_unless(p.type == GST_MESSAGE_WARNING && p.says(std::string("'") + bad + "'"), "%s: %s",
                bad, p.message.c_str());
    // Still tracking the square.
    fail_unless(differing(to_mask(out, &info), scene_mask(kSize, kSeedX + 44)) <
                kSize.area() / 100);
    gst_buffer_unref(out);
  }

  // A box around the square where it is now: this frame's answer is grabCut's.
  const int x = kSeedX + 50;
  const char *box = "60,30,60,60";
  g_object_set(h->element, "seed-box", box, nullptr);
  const cv::Mat frame = scene(kSize, x);
  GstBuffer *out = push_pull(h, frame, &info);
  const cv::Mat expected = flagmask::maskFromBox(frame, flagmask::parseBox(box));
  fail_unless_equals_int(differing(to_mask(out, &info), expected), 0);
  gst_buffer_unref(out);
  fail_unless(pop_posted(bus).type == GST_MESSAGE_UNKNOWN);
  // After a flush the box, the seed set last, applies again.
  fail_unless(gst_harness_push_event(h, gst_event_new_flush_start()));
  fail_unless(gst_harness_push_event(h, gst_event_new_flush_stop(TRUE)));
  GstSegment segment;
  gst_segment_init(&segment, GST_FORMAT_TIME);
  gst_harness_push_event(h, gst_event_new_segment(&segment));
  out = push_pull(h, frame, &info);
  fail_unless_equals_int(differing(to_mask(out, &info), expected), 0);
  gst_buffer_unref(out);
  fmtest::harness_teardown(h, bus);
}
GST_END_TEST;

/* ---- saving the learned model -------------------------------------------------------------- */

static gboolean save_model(GstElement *e, const std::string &path) {
  gboolean ok = FALSE;
  g_signal_emit_by_name(e, "save-model", path.c_str(), &ok);
  return ok;
}

// A model file that loads and is trained, and that finds the square alone (model=, no seed).
static void check_learned_model(const std::string &path) {
  fail_unless(g_file_test(path.c_str(), G_FILE_TEST_IS_REGULAR), "%s not written", path.c_str());
  const flagmask::Model model = flagmask::loadModel(path);
  fail_unless(model.trained());
  const GstVideoInfo info = video_info("BGR", kSize);
  GstHarness *h = harness_new("mode=mask model=" + path, &info);
  const int x = 70;
  GstBuffer *out = push_pull(h, scene(kSize, x), &info);
  fail_unless(differing(to_mask(out, &info), scene_mask(kSize, x)) < kSize.area() / 100);
  gst_buffer_unref(out);
  gst_harness_teardown(h);
}

// Seed once on a "recording", EOS: model-out is written before EOS leaves the element.
GST_START_TEST(test_model_out_at_eos) {
  const std::string path = scratch("learned-eos.yml");
  const GstVideoInfo info = video_info("BGR", kSize);
  GstHarness *h = harness_new("seed-mask=" + seed_path + " model-out=" + path, &info);
  for (int i = 0; i < 6; ++i)
    gst_buffer_unref(push_pull(h, scene(kSize, kSeedX + 3 * i), &info));
  fail_if(g_file_test(path.c_str(), G_FILE_TEST_EXISTS), "written before EOS");
  fail_unless(gst_harness_push_event(h, gst_event_new_eos()));
  GstEvent *eos = nullptr;
  while ((eos = gst_harness_try_pull_event(h)) && GST_EVENT_TYPE(eos) != GST_EVENT_EOS)
    gst_event_unref(eos);
  fail_unless(eos != nullptr, "EOS did not go through");
  gst_event_unref(eos);
  check_learned_model(path);
  // Stopping right after writes nothing more (nothing tracked since): the file stays as it was.
  g_remove(path.c_str());
  gst_harness_teardown(h);
  fail_if(g_file_test(path.c_str(), G_FILE_TEST_EXISTS));
}
GST_END_TEST;

// No EOS (a live source stopped): the model is written when the element stops; and not at all
// when it tracked nothing.
GST_START_TEST(test_model_out_at_stop) {
  const std::string path = scratch("learned-stop.yml");
  const GstVideoInfo info = video_info("RGBx", kSize);
  GstHarness *h = harness_new("seed-mask=" + seed_path + " model-out=" + path, &info);
  gchar *value = nullptr;
  g_object_get(h->element, "model-out", &value, nullptr);
  fail_unless_equals_string(value, path.c_str());
  g_free(value);
  for (int i = 0; i < 3; ++i)
    gst_buffer_unref(push_pull(h, scene(kSize, kSeedX + 2 * i), &info));
  gst_harness_teardown(h);
  check_learned_model(path);

  const std::string unused = scratch("learned-nothing.yml");
  h = harness_new("seed-mask=" + seed_path + " model-out=" + unused, &info);
  gst_harness_teardown(h);
  fail_if(g_file_test(unused.c_str(), G_FILE_TEST_EXISTS), "written without a tracked frame");
}
GST_END_TEST;

// The colour model the element saves after tracking from a given model: as given with
// adapt-rate=0, adapted (different predictions) at the default rate.
static bool adapted_from(const std::string &model_path, const std::string &adapt) {
  const std::string out = scratch("adapted-" + adapt + ".yml");
  const GstVideoInfo info = video_info("BGR", kSize);
  GstHarness *h =
      harness_new("seed-mask=" + seed_path + " model=" + model_path + " model-out=" + out +
                      (adapt.empty() ? "" : " adapt-rate=" + adapt),
                  &info);
  for (int i = 0; i < 8; ++i)
    gst_buffer_unref(push_pull(h, scene(kSize, kSeedX + 3 * i), &info));
  gst_harness_teardown(h);
  const cv::Mat probe = scene(kSize, 40);
  cv::Mat before, after;
  flagmask::loadModel(model_path).predict(probe, before);
  flagmask::loadModel(out).predict(probe, after);
  return cv::norm(before, after, cv::NORM_INF) > 0;
}

GST_START_TEST(test_adapt_rate) {
  flagmask::Model model;
  model.add(scene(kSize, kSeedX), scene_mask(kSize, kSeedX));
  const std::string path = scratch("given.yml");
  flagmask::saveModel(model, path);
  fail_if(adapted_from(path, "0"), "adapt-rate=0 changed the model");
  fail_unless(adapted_from(path, ""), "the default adapt-rate left the model as it was");
}
GST_END_TEST;

// A model-out that cannot be written: a warning naming the file and the reason, and the element
// still stops cleanly.
GST_START_TEST(test_model_out_unwritable) {
  const std::string path = scratch("no-such-dir/learned.yml");
  const GstVideoInfo info = video_info("BGR", kSize);
  GstBus *bus = gst_bus_new();
  GstHarness *h = harness_new("seed-mask=" + seed_path + " model-out=" + path, &info, bus);
  gst_buffer_unref(push_pull(h, scene(kSize, kSeedX), &info));
  fail_unless(gst_harness_push_event(h, gst_event_new_eos()));
  const Posted p = pop_posted(bus);
  fail_unless(p.is(GST_MESSAGE_WARNING, GST_RESOURCE_ERROR, GST_RESOURCE_ERROR_OPEN_WRITE) &&
                  p.says(path) && p.says("does not exist"),
              "%s", p.message.c_str());
  fmtest::harness_teardown(h, bus);
}
GST_END_TEST;

GST_START_TEST(test_save_model_signal) {
  const GstVideoInfo info = video_info("BGR", kSize);
  GstBus *bus = gst_bus_new();
  GstHarness *h = harness_new("seed-mask=" + seed_path, &info, bus);
  for (int i = 0; i < 4; ++i)
    gst_buffer_unref(push_pull(h, scene(kSize, kSeedX + 3 * i), &info));
  const std::string path = scratch("saved.yml.gz");
  fail_unless(save_model(h->element, path));
  check_learned_model(path);

  // Failures: FALSE and a warning naming the file and why.
  const std::pair<std::string, const char *> bad[] = {
      {scratch("missing-dir/saved.yml"), "does not exist"},
      {scratch_dir(), "directory"},
  };
  for (const auto &[file, reason] : bad) {
    fail_if(save_model(h->element, file), "%s", file.c_str());
    const Posted p = pop_posted(bus);
    fail_unless(p.type == GST_MESSAGE_WARNING && p.says("'" + file + "'") && p.says(reason), "%s",
                p.message.c_str());
  }
  fmtest::harness_teardown(h, bus);

  // Nothing learned yet (stopped, no model): FALSE and a warning.
  GstElement *e = gst_element_factory_make("flagmask", nullptr);
  {
    BusWatch watch(e);
    fail_if(save_model(e, scratch("never.yml")));
    const Posted p = pop_posted(watch.bus);
    fail_unless(p.type == GST_MESSAGE_WARNING && p.says("nothing has been learned"), "%s",
                p.message.c_str());
  }
  gst_object_unref(e);
}
GST_END_TEST;

struct SaverThread {
  GstElement *element;
  std::string path;
  std::atomic<bool> stop{false};
  std::atomic<int> saved{0}, failed{0};
};

static gpointer keep_saving(gpointer data) {
  auto *t = static_cast<SaverThread *>(data);
  while (!t->stop.load()) {
    (save_model(t->element, t->path) ? t->saved : t->failed).fetch_add(1);
    g_usleep(500);
  }
  return nullptr;
}

// From another thread while frames flow: every call writes a whole model, frames are not held up.
GST_START_TEST(test_save_model_while_playing) {
  const GstVideoInfo info = video_info("BGR", kSize);
  GstHarness *h = harness_new("seed-mask=" + seed_path + " mode=mask", &info);
  gst_buffer_unref(push_pull(h, scene(kSize, kSeedX), &info)); // the seed trains the model
  SaverThread saver;
  saver.element = h->element;
  saver.path = scratch("saved-while-playing.yml");
  GThread *thread = g_thread_new("saver", keep_saving, &saver);
  for (int i = 1; i < 30; ++i)
    gst_buffer_unref(push_pull(h, scene(kSize, kSeedX + (i % 10)), &info));
  while (saver.saved.load() < 3)
    g_usleep(1000);
  saver.stop = true;
  g_thread_join(thread);
  fail_unless_equals_int(saver.failed.load(), 0);
  check_learned_model(saver.path);
  gst_harness_teardown(h);
}
GST_END_TEST;

static Suite *features_suite(void) {
  Suite *s = suite_create("flagmask-features");
  TCase *tc = tcase_create("general");
  tcase_set_timeout(tc, 120);
  tcase_add_unchecked_fixture(tc, write_fixtures, remove_scratch_dir);
  suite_add_tcase(s, tc);
  tcase_add_test(tc, test_post_messages_per_frame);
  tcase_add_test(tc, test_post_messages_off_by_default);
  tcase_add_test(tc, test_keep_up_carries_frames_when_late);
  tcase_add_test(tc, test_keep_up_off_analyses_every_frame);
  tcase_add_test(tc, test_post_messages_lost);
  tcase_add_test(tc, test_post_messages_outside_locks);
  tcase_add_test(tc, test_roi_meta_on_every_buffer);
  tcase_add_test(tc, test_box_in_frame_pixels);
  tcase_add_test(tc, test_roi_meta_none_when_lost);
  tcase_add_test(tc, test_roi_meta_kept_when_copied);
  tcase_add_test(tc, test_invert_every_mode);
  tcase_add_test(tc, test_invert_while_playing);
  tcase_add_test(tc, test_feather_ramp);
  tcase_add_test(tc, test_feather_zero_is_hard_edge);
  tcase_add_test(tc, test_feather_every_mode);
  tcase_add_test(tc, test_feather_extremes);
  tcase_add_test(tc, test_feather_while_playing);
  tcase_add_test(tc, test_seed_box_seeds);
  tcase_add_test(tc, test_seed_mask_wins_over_box);
  tcase_add_test(tc, test_seed_box_malformed_at_start);
  tcase_add_test(tc, test_seed_box_outside_frame);
  tcase_add_test(tc, test_seed_box_warnings);
  tcase_add_test(tc, test_background_image);
  tcase_add_test(tc, test_background_image_missing);
  tcase_add_test(tc, test_background_blur);
  tcase_add_test(tc, test_seed_box_while_playing);
  tcase_add_test(tc, test_model_out_at_eos);
  tcase_add_test(tc, test_model_out_at_stop);
  tcase_add_test(tc, test_model_out_unwritable);
  tcase_add_test(tc, test_adapt_rate);
  tcase_add_test(tc, test_save_model_signal);
  tcase_add_test(tc, test_save_model_while_playing);
  return s;
}

GST_CHECK_MAIN(features);
