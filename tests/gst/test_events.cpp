/* Stream events and caps changes, against the element's doc comment: a new stream, or a flush
 * followed by the frame tracking started from, restarts tracking from the seed (so replaying gives
 * the first run's masks); a seek elsewhere goes on from the model, not the seed; a new segment,
 * DISCONT buffers, gaps and jumps in the timestamps keep the state (the masks of an uninterrupted
 * run); a new frame size carries the mask and the model over; a new format at the same size keeps
 * the state; formats the element does not handle are refused at negotiation. */
#include "support.h"

#include <functional>
#include <map>

using namespace fmtest;

static const cv::Size kSize(160, 120);
static const int kSeedX = 20;
static std::string seed_path, full_seed_path;

static void write_fixtures(void) {
  check_plugin_from_build_tree();
  make_scratch_dir();
  seed_path = write_image("seed.png", scene_mask(kSize, kSeedX));
  full_seed_path = write_image("full.png", cv::Mat(kSize, CV_8U, cv::Scalar(255)));
}

static const std::string kProps = "mode=mask seed-mask=";

static cv::Mat moving(int t, cv::Size size = kSize) {
  return scene(size, kSeedX * size.width / kSize.width + 3 * t);
}

static GstBuffer *timed_buffer(int t, const GstVideoInfo *info, GstClockTime pts) {
  GstBuffer *buf = to_buffer(moving(t), info);
  GST_BUFFER_PTS(buf) = pts;
  GST_BUFFER_DURATION(buf) = GST_SECOND / 30;
  return buf;
}

static cv::Mat pull_mask(GstHarness *h, const GstVideoInfo *info) {
  GstBuffer *out = gst_harness_pull(h);
  fail_unless(out != nullptr);
  const cv::Mat mask = to_mask(out, info);
  gst_buffer_unref(out);
  return mask;
}

static void push_segment(GstHarness *h, guint64 start = 0) {
  GstSegment segment;
  gst_segment_init(&segment, GST_FORMAT_TIME);
  segment.start = start;
  segment.time = start;
  fail_unless(gst_harness_push_event(h, gst_event_new_segment(&segment)));
}

// Masks of frames 0..n-1 from a fresh harness with nothing but the frames.
static std::vector<cv::Mat> uninterrupted(int n, const GstVideoInfo *info) {
  GstHarness *h = harness_new(kProps + seed_path, info);
  std::vector<cv::Mat> masks;
  for (int t = 0; t < n; ++t)
    masks.push_back(push_mask(h, moving(t), info));
  gst_harness_teardown(h);
  return masks;
}

/* ---- what keeps the state ----------------------------------------------------------------- */

// Before frame 4 something happens to the stream; the masks must be those of an uninterrupted
// run, frame for frame.
static void expect_state_kept(const char *what, const std::function<void(GstHarness *)> &before4,
                              const std::function<GstClockTime(int)> &pts, bool discont4) {
  const GstVideoInfo info = video_info("BGR", kSize);
  const std::vector<cv::Mat> expected = uninterrupted(8, &info);
  GstHarness *h = harness_new(kProps + seed_path, &info);
  for (int t = 0; t < 8; ++t) {
    if (t == 4)
      before4(h);
    GstBuffer *buf = timed_buffer(t, &info, pts(t));
    if (t == 4 && discont4)
      GST_BUFFER_FLAG_SET(buf, GST_BUFFER_FLAG_DISCONT);
    fail_unless_equals_int(gst_harness_push(h, buf), GST_FLOW_OK);
    fail_unless(differing(pull_mask(h, &info), expected[t]) == 0, "%s: frame %d differs", what, t);
  }
  gst_harness_teardown(h);
}

static GstClockTime regular(int t) {
  return t * GST_SECOND / 30;
}

GST_START_TEST(test_state_kept_across_segment) {
  // A non-flushing seek or a segment seek sends a new segment without a flush.
  expect_state_kept(
      "segment", [](GstHarness *h) { push_segment(h, 10 * GST_SECOND); },
      [](int t) { return t < 4 ? regular(t) : 10 * GST_SECOND + regular(t); }, false);
}
GST_END_TEST;

GST_START_TEST(test_state_kept_across_discont_and_gaps) {
  // A live source dropping frames: timestamps jump by two seconds, the buffer after is DISCONT.
  const auto jumped = [](int t) { return t < 4 ? regular(t) : 2 * GST_SECOND + regular(t); };
  expect_state_kept(
      "discont", [](GstHarness *) {}, jumped, true);
  expect_state_kept(
      "timestamp jump", [](GstHarness *) {}, jumped, false);
  expect_state_kept(
      "gap event",
      [](GstHarness *h) {
        fail_unless(gst_harness_push_event(h, gst_event_new_gap(regular(4), 2 * GST_SECOND)));
      },
      jumped, true);
  expect_state_kept(
      "no timestamps", [](GstHarness *) {}, [](int) { return GST_CLOCK_TIME_NONE; }, false);
}
GST_END_TEST;

/* ---- what restarts it --------------------------------------------------------------------- */

// After frames 0..5, something restarts the stream; frames 0..5 again must give the first run's
// masks, the first of them being the seed itself.
static void expect_restart(const char *what, const std::function<void(GstHarness *)> &restart) {
  const GstVideoInfo info = video_info("BGR", kSize);
  const std::vector<cv::Mat> first_run = uninterrupted(6, &info);
  fail_unless(differing(first_run[5], first_run[0]) > 0); // the tracker moved: a restart is visible
  GstHarness *h = harness_new(kProps + seed_path, &info);
  for (int t = 0; t < 6; ++t)
    push_mask(h, moving(t), &info);
  restart(h);
  for (int t = 0; t < 6; ++t)
    fail_unless(differing(push_mask(h, moving(t), &info), first_run[t]) == 0, "%s: frame %d", what,
                t);
  gst_harness_teardown(h);
}

GST_START_TEST(test_flush_restarts_tracking) {
  expect_restart("flush", [](GstHarness *h) {
    fail_unless(gst_harness_push_event(h, gst_event_new_flush_start()));
    fail_unless(gst_harness_push_event(h, gst_event_new_flush_stop(TRUE)));
    push_segment(h);
  });
}
GST_END_TEST;

GST_START_TEST(test_eos_then_new_stream_restarts_tracking) {
  expect_restart("eos and new stream", [](GstHarness *h) {
    fail_unless(gst_harness_push_event(h, gst_event_new_eos()));
    fail_unless(gst_harness_push_event(h, gst_event_new_stream_start("second-stream")));
    push_segment(h);
  });
}
GST_END_TEST;

/* ---- the seed's own frame ------------------------------------------------------------------ */

GST_START_TEST(test_seed_applies_at_seed_time) {
  // A mask drawn on frame 3; the frames before it have no model to be looked for by.
  const std::string seed3 = write_image("seed3.png", scene_mask(kSize, kSeedX + 9));
  const GstVideoInfo info = video_info("BGR", kSize);
  gchar *props = g_strdup_printf("%s%s seed-time=%" G_GUINT64_FORMAT, kProps.c_str(), seed3.c_str(),
                                 static_cast<guint64>(regular(3)));
  GstHarness *h = harness_new(props, &info);
  g_free(props);
  for (int t = 0; t < 8; ++t) {
    fail_unless_equals_int(gst_harness_push(h, timed_buffer(t, &info, regular(t))), GST_FLOW_OK);
    const cv::Mat mask = pull_mask(h, &info), truth = scene_mask(kSize, kSeedX + 3 * t);
    if (t < 3) {
      fail_unless_equals_int(cv::countNonZero(mask), 0);
    } else if (t == 3) {
      fail_unless_equals_int(differing(mask, truth), 0);
    } else {
      fail_unless(iou(mask, truth) > 0.9, "frame %d: IoU %.3f", t, iou(mask, truth));
    }
  }
  gst_harness_teardown(h);
}
GST_END_TEST;

/* ---- key masks ------------------------------------------------------------------------------ */

// The object jumps away on frame 4, where a key mask says where it went (named as key_masks
// gives it): frame 4's output is the key mask, and frame 5 follows the object from there.
static void expect_key_mask_applied(const std::string &key_masks) {
  const GstVideoInfo info = video_info("BGR", kSize);
  const int jumped = kSize.width / 2 + 10;
  GstHarness *h = harness_new(kProps + seed_path + " key-masks=" + key_masks, &info);
  for (int t = 0; t < 6; ++t) {
    GstBuffer *buf = t < 4 ? timed_buffer(t, &info, regular(t))
                           : to_buffer(scene(kSize, jumped + (t - 4)), &info);
    GST_BUFFER_PTS(buf) = regular(t);
    GST_BUFFER_DURATION(buf) = GST_SECOND / 30;
    fail_unless_equals_int(gst_harness_push(h, buf), GST_FLOW_OK);
    const cv::Mat mask = pull_mask(h, &info);
    if (t == 4)
      fail_unless_equals_int(differing(mask, scene_mask(kSize, jumped)), 0);
    if (t == 5)
      fail_unless(iou(mask, scene_mask(kSize, jumped + 1)) > 0.9, "frame 5: IoU %.3f",
                  iou(mask, scene_mask(kSize, jumped + 1)));
  }
  gst_harness_teardown(h);
}

GST_START_TEST(test_key_masks_by_frame_number) {
  const std::string folder = scratch("keys");
  fail_unless(g_mkdir_with_parents(folder.c_str(), 0755) == 0);
  write_image("keys/00004.png", scene_mask(kSize, kSize.width / 2 + 10));
  expect_key_mask_applied(folder);
}
GST_END_TEST;

GST_START_TEST(test_key_masks_by_time) {
  const std::string key = write_image("key4.png", scene_mask(kSize, kSize.width / 2 + 10));
  expect_key_mask_applied("0.1333:" + key);
}
GST_END_TEST;

/* ---- seeking a real pipeline --------------------------------------------------------------- */

static const char *kBallCaps = "video/x-raw,format=BGR,width=160,height=120,framerate=30/1";

static std::string ball_seed(void) {
  return write_image("ball.png", ball_mask(kBallCaps));
}

using Masks = std::map<GstClockTime, cv::Mat>;

static void on_handoff(GstElement *, GstBuffer *buf, GstPad *pad, gpointer data) {
  GstCaps *caps = gst_pad_get_current_caps(pad);
  GstVideoInfo info;
  fail_unless(gst_video_info_from_caps(&info, caps));
  gst_caps_unref(caps);
  (*static_cast<Masks *>(data))[GST_BUFFER_PTS(buf)] = to_mask(buf, &info);
}

// Plays [from, to) frames with a flushing, accurate seek and waits for the end.
static void play_range(GstElement *pipeline, int from, int to) {
  fail_unless(
      gst_element_seek(pipeline, 1.0, GST_FORMAT_TIME,
                       static_cast<GstSeekFlags>(GST_SEEK_FLAG_FLUSH | GST_SEEK_FLAG_ACCURATE),
                       GST_SEEK_TYPE_SET, regular(from), GST_SEEK_TYPE_SET, regular(to)));
  fail_unless(gst_element_set_state(pipeline, GST_STATE_PLAYING) != GST_STATE_CHANGE_FAILURE);
  GstBus *bus = gst_element_get_bus(pipeline);
  GstMessage *msg = gst_bus_timed_pop_filtered(
      bus, 30 * GST_SECOND, static_cast<GstMessageType>(GST_MESSAGE_EOS | GST_MESSAGE_ERROR));
  fail_unless(msg != nullptr && GST_MESSAGE_TYPE(msg) == GST_MESSAGE_EOS, "no EOS after seek");
  gst_message_unref(msg);
  gst_object_unref(bus);
  fail_unless(gst_element_set_state(pipeline, GST_STATE_PAUSED) != GST_STATE_CHANGE_FAILURE);
}

GST_START_TEST(test_seek_goes_on_from_the_model) {
  const std::string seed = ball_seed();
  gchar *description =
      g_strdup_printf("videotestsrc pattern=ball ! %s ! flagmask mode=mask seed-mask=%s ! "
                      "fakesink name=sink signal-handoffs=true sync=false",
                      kBallCaps, seed.c_str());
  GstElement *pipeline = gst_parse_launch(description, nullptr);
  g_free(description);
  fail_unless(pipeline != nullptr);
  GstElement *sink = gst_bin_get_by_name(GST_BIN(pipeline), "sink");
  Masks initial, again, middle;
  Masks *current = &initial;
  g_signal_connect(sink, "handoff",
                   G_CALLBACK(+[](GstElement *e, GstBuffer *b, GstPad *p, gpointer d) {
                     on_handoff(e, b, p, *static_cast<Masks **>(d));
                   }),
                   &current);
  fail_unless(gst_element_set_state(pipeline, GST_STATE_PAUSED) != GST_STATE_CHANGE_FAILURE);
  fail_unless_equals_int(gst_element_get_state(pipeline, nullptr, nullptr, 30 * GST_SECOND),
                         GST_STATE_CHANGE_SUCCESS);
  play_range(pipeline, 0, 12);
  current = &again;
  play_range(pipeline, 0, 12); // a seek back to the start: the first run's masks
  current = &middle;
  play_range(pipeline, 6, 12); // a seek elsewhere: the ball looked for by the model
  gst_element_set_state(pipeline, GST_STATE_NULL);

  fail_unless(initial.size() >= 12, "%zu frames", initial.size());
  fail_unless_equals_int(int(again.size()), int(initial.size()));
  for (const auto &[pts, mask] : initial)
    fail_unless(again.count(pts) && differing(again[pts], mask) == 0,
                "differs at %" GST_TIME_FORMAT, GST_TIME_ARGS(pts));
  // The seed belongs to frame 0: laid on frame 6 it would be where the ball was, not where it is.
  const cv::Mat seed_answer = flagmask::resizeMask(flagmask::loadMask(seed), kSize);
  fail_unless(!middle.empty() && middle.begin()->first == regular(6));
  fail_unless(differing(middle.begin()->second, seed_answer) > 0);
  for (const auto &[pts, mask] : middle)
    fail_unless(iou(mask, initial[pts]) > 0.8,
                "IoU %.3f with the run without a seek at %" GST_TIME_FORMAT,
                iou(mask, initial[pts]), GST_TIME_ARGS(pts));
  gst_object_unref(sink);
  gst_object_unref(pipeline);
}
GST_END_TEST;

/* ---- caps ---------------------------------------------------------------------------------- */

GST_START_TEST(test_resolution_change_carries_the_mask) {
  for (const std::string &seed : {seed_path, full_seed_path}) {
    GstVideoInfo small = video_info("BGR", kSize);
    GstHarness *h = harness_new(kProps + seed, &small);
    BusWatch watch(h->element);
    for (int t = 0; t < 4; ++t)
      push_mask(h, moving(t), &small);
    const cv::Size big_size(320, 240);
    GstVideoInfo big = video_info("BGR", big_size);
    gst_harness_set_src_caps(h, gst_video_info_to_caps(&big));
    for (int t = 4; t < 8; ++t) {
      const cv::Mat mask = push_mask(h, moving(t, big_size), &big);
      const cv::Mat truth = scene_mask(big_size, 2 * kSeedX + 3 * t);
      if (seed == seed_path) // the object carried over, the background not
        fail_unless(iou(mask, truth) > 0.9, "frame %d: IoU %.3f", t, iou(mask, truth));
      else // nothing learned from a seed covering the frame: the seed again, then tracking
        fail_unless(cv::countNonZero(mask & truth) == cv::countNonZero(truth), "frame %d", t);
    }
    fail_unless(pop_posted(watch.bus, GST_MESSAGE_ERROR).type == GST_MESSAGE_UNKNOWN);
    gst_harness_teardown(h);
  }
}
GST_END_TEST;

GST_START_TEST(test_format_change_keeps_state) {
  const GstVideoInfo bgr = video_info("BGR", kSize), rgbx = video_info("RGBx", kSize);
  const std::vector<cv::Mat> expected = uninterrupted(8, &bgr);
  GstHarness *h = harness_new(kProps + seed_path, &bgr);
  for (int t = 0; t < 8; ++t) {
    const GstVideoInfo *info = t < 4 ? &bgr : &rgbx;
    if (t == 4)
      gst_harness_set_src_caps(h, gst_video_info_to_caps(&rgbx));
    fail_unless(differing(push_mask(h, moving(t), info), expected[t]) == 0, "frame %d", t);
  }
  gst_harness_teardown(h);
}
GST_END_TEST;

// videotestsrc ! YUY2 ! flagmask ! fakesink linked without checking caps (as a dynamic pipeline
// may be): when data flows, negotiation fails and the pipeline stops with not-negotiated.
static void expect_not_negotiated_when_flowing(void) {
  GstElement *pipeline = gst_pipeline_new(nullptr);
  GstElement *src = gst_element_factory_make("videotestsrc", nullptr);
  GstElement *filter = gst_element_factory_make("capsfilter", nullptr);
  GstElement *flagmask = gst_element_factory_make("flagmask", nullptr);
  GstElement *sink = gst_element_factory_make("fakesink", nullptr);
  fail_unless(src && filter && flagmask && sink);
  gst_util_set_object_arg(G_OBJECT(src), "num-buffers", "2");
  gst_util_set_object_arg(G_OBJECT(filter), "caps", "video/x-raw,format=YUY2");
  g_object_set(flagmask, "seed-mask", seed_path.c_str(), nullptr);
  gst_bin_add_many(GST_BIN(pipeline), src, filter, flagmask, sink, nullptr);
  fail_unless(gst_element_link(src, filter) && gst_element_link(flagmask, sink));
  fail_unless(
      gst_element_link_pads_full(filter, "src", flagmask, "sink", GST_PAD_LINK_CHECK_NOTHING));
  GstBus *bus = gst_element_get_bus(pipeline);
  gst_element_set_state(pipeline, GST_STATE_PLAYING);
  GstMessage *msg = gst_bus_timed_pop_filtered(
      bus, 30 * GST_SECOND, static_cast<GstMessageType>(GST_MESSAGE_EOS | GST_MESSAGE_ERROR));
  fail_unless(msg != nullptr && GST_MESSAGE_TYPE(msg) == GST_MESSAGE_ERROR);
  GError *error = nullptr;
  gchar *debug = nullptr;
  gst_message_parse_error(msg, &error, &debug);
  fail_unless(debug && strstr(debug, "not-negotiated"), "%s", debug);
  g_clear_error(&error);
  g_free(debug);
  gst_message_unref(msg);
  gst_object_unref(bus);
  gst_element_set_state(pipeline, GST_STATE_NULL);
  gst_object_unref(pipeline);
}

GST_START_TEST(test_unsupported_formats_refused) {
  for (const char *format : {"GRAY8", "YUY2", "RGB16", "v210"}) {
    GstHarness *h = harness_new(kProps + seed_path, nullptr);
    GstPad *sink = gst_element_get_static_pad(h->element, "sink");
    const GstVideoInfo info = video_info(format, kSize);
    GstCaps *caps = gst_video_info_to_caps(&info);
    fail_if(gst_pad_query_accept_caps(sink, caps), "%s accepted", format);
    gst_caps_unref(caps);
    gst_object_unref(sink);
    gst_harness_push_event(h, gst_event_new_stream_start("unsupported"));
    gst_harness_push_event(h, caps_event(&info));
    push_segment(h);
    GstBuffer *buf = gst_buffer_new_allocate(nullptr, GST_VIDEO_INFO_SIZE(&info), nullptr);
    fail_unless_equals_int(gst_harness_push(h, buf), GST_FLOW_NOT_NEGOTIATED);
    gst_harness_teardown(h);
  }
  // gst-launch-1.0 refuses to link a caps filter of another format to flagmask.
  GError *error = nullptr;
  gchar *line = g_strdup_printf("videotestsrc ! video/x-raw,format=YUY2 ! flagmask seed-mask=%s "
                                "! fakesink",
                                seed_path.c_str());
  GstElement *unlinked = gst_parse_launch(line, &error);
  g_free(line);
  fail_unless(error != nullptr && g_error_matches(error, GST_PARSE_ERROR, GST_PARSE_ERROR_LINK));
  fail_unless(strstr(error->message, "flagmask") && strstr(error->message, "YUY2"), "%s",
              error->message);
  g_clear_error(&error);
  if (unlinked)
    gst_object_unref(unlinked);
  expect_not_negotiated_when_flowing();
}
GST_END_TEST;

/* ---- what the core cannot take ------------------------------------------------------------- */

// Plays a pipeline until EOS or its first error, which it returns (nullptr at EOS).
static GstMessage *play_to_end(GstElement *pipeline) {
  GstBus *bus = gst_element_get_bus(pipeline);
  gst_element_set_state(pipeline, GST_STATE_PLAYING);
  GstMessage *msg = gst_bus_timed_pop_filtered(
      bus, 30 * GST_SECOND, static_cast<GstMessageType>(GST_MESSAGE_EOS | GST_MESSAGE_ERROR));
  gst_object_unref(bus);
  gst_element_set_state(pipeline, GST_STATE_NULL);
  fail_unless(msg != nullptr, "neither EOS nor an error");
  if (GST_MESSAGE_TYPE(msg) == GST_MESSAGE_EOS) {
    gst_message_unref(msg);
    return nullptr;
  }
  return msg;
}

static GstElement *launch(const std::string &description) {
  GError *error = nullptr;
  GstElement *pipeline = gst_parse_launch(description.c_str(), &error);
  fail_unless(pipeline != nullptr && error == nullptr, "%s", description.c_str());
  return pipeline;
}

// Switching to alpha while playing, on a stream whose caps are pinned to a format without alpha:
// the element itself says what is wrong and what to do, rather than upstream failing with a bare
// not-negotiated.
GST_START_TEST(test_alpha_on_pinned_caps_names_the_fix) {
  GstElement *pipeline =
      launch("videotestsrc pattern=ball ! video/x-raw,format=I420,width=160,height=120 ! "
             "flagmask name=fm seed-mask=" +
             seed_path + " ! fakesink name=sink signal-handoffs=true");
  GstElement *fm = gst_bin_get_by_name(GST_BIN(pipeline), "fm");
  GstElement *sink = gst_bin_get_by_name(GST_BIN(pipeline), "sink");
  // The mode changes from the streaming thread after a few frames, as from a user's click.
  g_signal_connect(sink, "handoff",
                   G_CALLBACK(+[](GstElement *, GstBuffer *, GstPad *, gpointer element) {
                     static int frames = 0;
                     if (++frames == 3)
                       gst_util_set_object_arg(G_OBJECT(element), "mode", "alpha");
                   }),
                   fm);
  GstMessage *msg = play_to_end(pipeline);
  fail_unless(msg != nullptr, "the stream went on in I420 with mode alpha");
  GError *error = nullptr;
  gchar *debug = nullptr;
  gst_message_parse_error(msg, &error, &debug);
  fail_unless(GST_MESSAGE_SRC(msg) == GST_OBJECT(fm), "the error came from %s: %s",
              GST_OBJECT_NAME(GST_MESSAGE_SRC(msg)), error->message);
  fail_unless(g_error_matches(error, GST_STREAM_ERROR, GST_STREAM_ERROR_FORMAT));
  for (const char *needed : {"alpha", "I420", "videoconvert"})
    fail_unless(strstr(error->message, needed), "no '%s' in: %s", needed, error->message);
  g_clear_error(&error);
  g_free(debug);
  gst_message_unref(msg);
  gst_object_unref(sink);
  gst_object_unref(fm);
  gst_object_unref(pipeline);
}
GST_END_TEST;

// Frames smaller than the analysis can work at (the optical flow needs 16 pixels a side) are
// analysed enlarged: every size from 1x1 goes through, in packed and planar formats.
GST_START_TEST(test_tiny_frames_go_through) {
  // The object in the top left quarter: at every size the seed keeps an object pixel.
  cv::Mat corner = cv::Mat::zeros(kSize, CV_8U);
  corner(cv::Rect(0, 0, kSize.width / 2, kSize.height / 2)).setTo(255);
  const std::string corner_seed = write_image("corner.png", corner);
  const char *sizes[] = {"1x1", "8x8", "11x40", "40x11", "100x12", "100x15", "2000x8"};
  for (const char *format : {"BGR", "I420", "NV12", "RGBA"})
    for (const char *size : sizes) {
      const std::string wh(size);
      const std::string width = wh.substr(0, wh.find('x')), height = wh.substr(wh.find('x') + 1);
      GstElement *pipeline =
          launch(std::string("videotestsrc num-buffers=4 pattern=ball ! video/x-raw,format=") +
                 format + ",width=" + width + ",height=" + height +
                 " ! flagmask seed-mask=" + corner_seed + " mode=mask ! fakesink");
      GstMessage *msg = play_to_end(pipeline);
      if (msg) {
        GError *error = nullptr;
        gst_message_parse_error(msg, &error, nullptr);
        fail("%s %s: %s", format, size, error->message);
      }
      gst_object_unref(pipeline);
    }
}
GST_END_TEST;

static Suite *events_suite(void) {
  Suite *s = suite_create("flagmask-events");
  TCase *tc = tcase_create("general");
  tcase_set_timeout(tc, 120);
  tcase_add_unchecked_fixture(tc, write_fixtures, remove_scratch_dir);
  suite_add_tcase(s, tc);
  tcase_add_test(tc, test_state_kept_across_segment);
  tcase_add_test(tc, test_state_kept_across_discont_and_gaps);
  tcase_add_test(tc, test_flush_restarts_tracking);
  tcase_add_test(tc, test_eos_then_new_stream_restarts_tracking);
  tcase_add_test(tc, test_seed_applies_at_seed_time);
  tcase_add_test(tc, test_key_masks_by_frame_number);
  tcase_add_test(tc, test_key_masks_by_time);
  tcase_add_test(tc, test_seek_goes_on_from_the_model);
  tcase_add_test(tc, test_resolution_change_carries_the_mask);
  tcase_add_test(tc, test_format_change_keeps_state);
  tcase_add_test(tc, test_unsupported_formats_refused);
  tcase_add_test(tc, test_alpha_on_pinned_caps_names_the_fix);
  tcase_add_test(tc, test_tiny_frames_go_through);
  return s;
}

GST_CHECK_MAIN(events);
