/* Lifecycle and concurrency: 200 NULL -> PLAYING -> NULL cycles with data, the generic state
 * sequences of GStreamer's states test, state changes from another thread while data flows,
 * every writable property changed from other threads at a high rate while frames flow (each
 * frame must show one consistent set of settings), and a start that failed followed by one that
 * works. */
#include "support.h"

#include "frame.h"
#include "image_io.h"
#include "model.h"
#include "model_file.h"
#include "network.h"

#include <algorithm>
#include <set>

using namespace fmtest;

static const cv::Size kSize(160, 120);
static const int kSeedX = 20;
static std::string seed_path, other_seed_path, model_path, other_model_path;
static std::string model_out_path, other_model_out_path;
static std::string picture_path, other_picture_path; // background-image
static std::string key_list, key_folder;             // key-masks
// The default network ($FLAGMASK_NETWORK, which the test setup points at the tree's), or none.
static const std::string network_path =
    flagmask::defaultNetworkPath().empty() ? "none" : flagmask::defaultNetworkPath();

static void write_fixtures(void) {
  make_scratch_dir();
  seed_path = write_image("seed.png", scene_mask(kSize, kSeedX));
  other_seed_path = write_image("other-seed.png", scene_mask(kSize, 90));
  key_list = "0.1:" + other_seed_path + ",0.5:" + seed_path;
  key_folder = scratch("keys");
  fail_unless(g_mkdir_with_parents(key_folder.c_str(), 0755) == 0);
  write_image("keys/00004.png", scene_mask(kSize, kSeedX + 12));
  // Small models (8 bins): loaded on every swap of the stress test, also under valgrind.
  flagmask::Model model(8), other(8);
  model.add(scene(kSize, kSeedX), scene_mask(kSize, kSeedX));
  other.add(scene(kSize, kSeedX), scene_mask(kSize, kSeedX) == 0);
  model_path = scratch("model.yml");
  flagmask::saveModel(model, model_path);
  other_model_path = scratch("other-model.yml");
  flagmask::saveModel(other, other_model_path);
  model_out_path = scratch("learned.yml");
  other_model_out_path = scratch("other-learned.yml");
  picture_path = write_image("picture.png", cv::Mat(kSize / 2, CV_8UC3, cv::Scalar(20, 90, 200)));
  other_picture_path = write_image("other-picture.png", scene(kSize, 70));
}

static void start_stream(GstHarness *h, const GstVideoInfo *info) {
  fail_unless(gst_harness_push_event(h, gst_event_new_stream_start("cycle")));
  fail_unless(gst_harness_push_event(h, caps_event(info)));
  GstSegment segment;
  gst_segment_init(&segment, GST_FORMAT_TIME);
  fail_unless(gst_harness_push_event(h, gst_event_new_segment(&segment)));
}

#define CYCLES 200

// Every cycle loads the files again and starts afresh: its first frame is a seed frame.
GST_START_TEST(test_state_cycles_with_data) {
  const GstVideoInfo info = video_info("RGBx", kSize);
  GstHarness *h = harness_new("mode=mask seed-mask=" + seed_path + " model=" + model_path, &info);
  const cv::Mat seed_answer = flagmask::resizeMask(flagmask::loadMask(seed_path), kSize);
  for (int i = 0; i < CYCLES; ++i) {
    fail_unless_equals_int(gst_element_set_state(h->element, GST_STATE_NULL),
                           GST_STATE_CHANGE_SUCCESS);
    fail_unless_equals_int(gst_element_set_state(h->element, GST_STATE_PLAYING),
                           GST_STATE_CHANGE_SUCCESS);
    start_stream(h, &info);
    const int x = kSeedX + 3 * (i % 5);
    fail_unless_equals_int(differing(push_mask(h, scene(kSize, x), &info), seed_answer), 0);
    if (i % 10 == 0) // and now and then a tracked frame before the next cycle
      push_mask(h, scene(kSize, x + 3), &info);
  }
  gst_harness_teardown(h);
}
GST_END_TEST;

/* ---- GStreamer's generic states test, for the elements of this plugin --------------------- */

static std::vector<std::string> plugin_elements(void) {
  std::vector<std::string> names;
  GList *features = gst_registry_get_feature_list_by_plugin(gst_registry_get(), "flagmask");
  for (GList *f = features; f; f = f->next)
    if (GST_IS_ELEMENT_FACTORY(f->data))
      names.push_back(gst_plugin_feature_get_name(GST_PLUGIN_FEATURE(f->data)));
  gst_plugin_feature_list_free(features);
  return names;
}

// The three sequences of the generic test, one after the other.
static const GstState kSequence[] = {
    GST_STATE_READY,   GST_STATE_PAUSED,  GST_STATE_PLAYING, GST_STATE_PAUSED,  GST_STATE_READY,
    GST_STATE_NULL,    GST_STATE_PAUSED,  GST_STATE_READY,   GST_STATE_PLAYING, GST_STATE_PAUSED,
    GST_STATE_NULL,    GST_STATE_READY,   GST_STATE_PAUSED,  GST_STATE_READY,   GST_STATE_PAUSED,
    GST_STATE_PLAYING, GST_STATE_PAUSED,  GST_STATE_READY,   GST_STATE_NULL,    GST_STATE_READY,
    GST_STATE_PAUSED,  GST_STATE_PLAYING, GST_STATE_PAUSED,  GST_STATE_PLAYING, GST_STATE_PAUSED,
    GST_STATE_READY,   GST_STATE_PAUSED,  GST_STATE_PLAYING, GST_STATE_PAUSED,  GST_STATE_READY,
    GST_STATE_NULL};

GST_START_TEST(test_generic_states) {
  const std::vector<std::string> names = plugin_elements();
  fail_unless(names.size() == 1 && names[0] == "flagmask");
  for (const std::string &name : names) {
    // Configured: every change succeeds.
    GstElement *e = gst_element_factory_make(name.c_str(), name.c_str());
    g_object_set(e, "seed-mask", seed_path.c_str(), nullptr);
    for (GstState state : kSequence)
      fail_unless_equals_int(gst_element_set_state(e, state), GST_STATE_CHANGE_SUCCESS);
    gst_object_unref(e);
    // Unconfigured: READY works, anything above fails cleanly, NULL always works.
    e = gst_element_factory_make(name.c_str(), name.c_str());
    BusWatch watch(e);
    for (GstState state : kSequence) {
      const GstStateChangeReturn ret = gst_element_set_state(e, state);
      const GstStateChangeReturn expected =
          state <= GST_STATE_READY ? GST_STATE_CHANGE_SUCCESS : GST_STATE_CHANGE_FAILURE;
      fail_unless_equals_int(ret, expected);
    }
    const Posted p = pop_posted(watch.bus, GST_MESSAGE_ERROR);
    fail_unless(p.says("needs a seed-mask or a model"), "%s", p.message.c_str());
    gst_object_unref(e);
  }
}
GST_END_TEST;

// A start that failed leaves the element ready for a start that works.
GST_START_TEST(test_start_after_failed_start) {
  const GstVideoInfo info = video_info("BGR", kSize);
  GstElement *e = gst_element_factory_make("flagmask", nullptr);
  g_object_set(e, "seed-mask", scratch("missing.png").c_str(), "mode", 2, nullptr);
  {
    BusWatch watch(e);
    fail_unless_equals_int(gst_element_set_state(e, GST_STATE_PLAYING), GST_STATE_CHANGE_FAILURE);
  }
  g_object_set(e, "seed-mask", seed_path.c_str(), nullptr);
  GstHarness *h = gst_harness_new_with_element(e, "sink", "src");
  gst_object_unref(e);
  gst_harness_set_src_caps(h, gst_video_info_to_caps(&info));
  const cv::Mat seed_answer = flagmask::resizeMask(flagmask::loadMask(seed_path), kSize);
  fail_unless_equals_int(differing(push_mask(h, scene(kSize, kSeedX), &info), seed_answer), 0);
  gst_harness_teardown(h);
}
GST_END_TEST;

/* ---- from other threads -------------------------------------------------------------------- */

// Lets a GStreamer message matching pattern through a check (it fails any critical or warning).
static GstCheckLogFilter *race_filter(GLogLevelFlags level, const char *pattern) {
  GRegex *regex = g_regex_new(pattern, G_REGEX_OPTIMIZE, static_cast<GRegexMatchFlags>(0), nullptr);
  return gst_check_add_log_filter("GStreamer", level, regex, nullptr, nullptr, nullptr);
}

// State changes NULL <-> PLAYING from another thread while this one pushes frames. A push may be
// refused in many ways while the pads are inactive, unlinked or half active (the source pad is
// deactivated before the sink pad, so sticky events forwarded then fail with an error flow): that
// is GStreamer's race, not the element's. The element itself never fails a frame, so it never
// posts an error, and frames keep getting through. The checks come after the thread has stopped,
// so that a failure cannot leave it running.
GST_START_TEST(test_state_changes_while_pushing) {
  // A buffer that reaches the element after it was reactivated but before the harness's sticky
  // events were sent again (deactivating a pad clears them) meets basetransform's reset segment,
  // or a pad without stream-start or segment; GStreamer then warns from gst_segment_to_running_time
  // or from gst_pad_chain_data_unchecked. A stream-start that basetransform forwards while the
  // source pad is still inactive is lost there, and the caps that follow find the source pad
  // without one; GStreamer then warns from store_sticky_event. That is the harness racing the state
  // changes, not the element: the element forwards events as basetransform does and makes none.
  GstCheckLogFilter *segment_filter =
      race_filter(G_LOG_LEVEL_CRITICAL, "segment->format == format");
  GstCheckLogFilter *stream_start_filter =
      race_filter(G_LOG_LEVEL_WARNING, "Got data flow before stream-start event");
  GstCheckLogFilter *no_segment_filter =
      race_filter(G_LOG_LEVEL_WARNING, "Got data flow before segment event");
  GstCheckLogFilter *misordering_filter = race_filter(
      G_LOG_LEVEL_WARNING, "Sticky event misordering, got 'caps' before 'stream-start'");
  const GstVideoInfo info = video_info("BGR", kSize);
  GstBus *bus = gst_bus_new();
  GstHarness *h = harness_new("seed-mask=" + seed_path, &info, bus);
  // A frame finishes only between two state changes (each takes the source pad down first), so
  // the changes come every 5 ms, or every four frames where a frame takes longer: the slower of the
  // seed frame and a tracked frame, timed here. Under valgrind a frame takes a good part of a
  // second, and changes every 5 ms let none through.
  gint64 slowest = 0;
  for (int i = 0; i < 2; ++i) {
    const gint64 began = g_get_monotonic_time();
    gst_buffer_unref(gst_harness_push_and_pull(h, to_buffer(scene(kSize, kSeedX + i), &info)));
    slowest = std::max(slowest, g_get_monotonic_time() - began);
  }
  const gulong interval = static_cast<gulong>(std::max<gint64>(5000, 4 * slowest));
  GstHarnessThread *thread = gst_harness_stress_statechange_start_full(h, interval);
  // Until 20 frames went through and 200 were pushed, or for 60 s on a slow machine (valgrind,
  // which runs this beside another test on two cores: 20 s once let only 2 frames through).
  const gint64 end = g_get_monotonic_time() + 60 * G_USEC_PER_SEC;
  int passed = 0, pushed = 0;
  while ((passed < 20 || pushed < 200) && g_get_monotonic_time() < end) {
    const cv::Mat frame = scene(kSize, kSeedX + pushed++ % 7);
    if (gst_harness_push(h, to_buffer(frame, &info)) == GST_FLOW_OK) {
      ++passed;
      gst_buffer_unref(gst_harness_pull(h));
    }
    g_usleep(200);
  }
  const guint changes = gst_harness_stress_thread_stop(thread);
  fail_unless(changes > 5 && passed > 5, "%u state changes %lu us apart, %d frames through",
              changes, interval, passed);
  const Posted p = pop_posted(bus, GST_MESSAGE_ERROR);
  fail_unless(p.type == GST_MESSAGE_UNKNOWN, "error: %s (%s)", p.message.c_str(), p.debug.c_str());
  fmtest::harness_teardown(h, bus);
  gst_check_remove_log_filter(misordering_filter);
  gst_check_remove_log_filter(no_segment_filter);
  gst_check_remove_log_filter(stream_start_filter);
  gst_check_remove_log_filter(segment_filter);
}
GST_END_TEST;

static GstHarnessThread *stress(GstHarness *h, const char *name, const char *value) {
  GValue v = G_VALUE_INIT;
  GParamSpec *spec = g_object_class_find_property(G_OBJECT_GET_CLASS(h->element), name);
  fail_unless(spec != nullptr, "%s", name);
  g_value_init(&v, spec->value_type);
  fail_unless(gst_value_deserialize(&v, value), "%s=%s", name, value);
  // Sleeps of 200 µs: thousands of changes a second, on two cores shared with the stream.
  GstHarnessThread *t = gst_harness_stress_property_start_full(h, name, &v, 200);
  g_value_unset(&v);
  return t;
}

// The background colours the stress test sets (and the default), as BGR.
static const cv::Vec3b kBackgrounds[] = {{0, 0, 0}, {0, 255, 0}, {255, 0, 0}};

// What a cutout of the frame in may show behind the object under the stressed settings, as BGR
// images: each background colour, and each backdrop the background-image and background-blur
// values make (the core's own Backdrop on the whole frame).
static std::vector<cv::Mat> backgrounds_for(const cv::Mat &in) {
  std::vector<cv::Mat> out;
  for (const cv::Vec3b &c : kBackgrounds)
    out.emplace_back(in.size(), CV_8UC3, cv::Scalar(c[0], c[1], c[2]));
  const cv::Mat nothing = cv::Mat::zeros(in.size(), CV_8U);
  for (const std::string *picture :
       {static_cast<std::string *>(nullptr), &picture_path, &other_picture_path})
    for (const int blur : {0, 9}) {
      if (!picture && blur == 0)
        continue; // the colours
      cv::Mat frame = in.clone();
      flagmask::FrameView view = flagmask::FrameView::fromBgr(frame);
      flagmask::Backdrop(picture ? flagmask::loadFrame(*picture) : cv::Mat(), blur)
          .apply(view, flagmask::featherMask(nothing, 0));
      out.push_back(frame);
    }
  return out;
}

// Whether out is the mix a * in + (1 - a) * bg for some a in [0, 1] (feather mixes the object
// with the background over the soft edge; a = 0 is bg itself).
static bool mix_of(const cv::Vec3b &out, const cv::Vec3b &in, const cv::Vec3b &bg) {
  int k = 0; // the channel where in and bg differ most fixes a
  for (int c = 1; c < 3; ++c)
    if (std::abs(in[c] - bg[c]) > std::abs(in[k] - bg[k]))
      k = c;
  const double span = in[k] - bg[k];
  const double a = span == 0 ? 0.0 : std::clamp((out[k] - bg[k]) / span, 0.0, 1.0);
  for (int c = 0; c < 3; ++c)
    if (std::abs(out[c] - (a * in[c] + (1 - a) * bg[c])) > 1.5)
      return false;
  return true;
}

// A frame shows one set of settings: in mask mode only greys (black and white, and greys on a
// feathered edge); in cutout mode each pixel is either the input's or one background's (or, on a
// feathered edge, a mix of the two), the same background for the whole frame.
static bool consistent(const cv::Mat &out, const cv::Mat &in, std::string &seen) {
  const std::vector<cv::Mat> backgrounds = backgrounds_for(in);
  bool mask_mode = true;
  unsigned explained = (1u << backgrounds.size()) - 1; // backgrounds every pixel allows
  for (int y = 0; y < out.rows; ++y)
    for (int x = 0; x < out.cols; ++x) {
      const cv::Vec3b o = out.at<cv::Vec3b>(y, x), i = in.at<cv::Vec3b>(y, x);
      mask_mode &= o[0] == o[1] && o[1] == o[2];
      if (o == i)
        continue;
      unsigned allows = 0;
      for (unsigned c = 0; c < backgrounds.size(); ++c)
        allows |= mix_of(o, i, backgrounds[c].at<cv::Vec3b>(y, x)) ? 1u << c : 0u;
      explained &= allows;
    }
  seen = mask_mode ? "mask" : "cutout on backgrounds " + std::to_string(explained);
  return mask_mode || explained != 0;
}

// Every writable property from two threads each, with two different values, while frames flow.
GST_START_TEST(test_properties_changed_from_other_threads) {
  const GstVideoInfo info = video_info("BGR", kSize);
  GstHarness *h = harness_new("seed-mask=" + seed_path + " model=" + model_path, &info);
  BusWatch watch(h->element);
  const std::pair<const char *, const char *> values[] = {
      {"model", model_path.c_str()},
      {"model", other_model_path.c_str()},
      {"seed-mask", seed_path.c_str()},
      {"seed-mask", other_seed_path.c_str()},
      {"mode", "cutout"},
      {"mode", "mask"},
      {"background-color", "0xff00ff00"},
      {"background-color", "0xff0000ff"},
      {"threshold", "0.3"},
      {"threshold", "0.7"},
      {"working-size", "64"},
      {"working-size", "480"},
      {"temporal-weight", "0.2"},
      {"temporal-weight", "0.9"},
      {"motion-weight", "0.0"},
      {"motion-weight", "0.6"},
      {"adapt-rate", "0.0"},
      {"adapt-rate", "0.1"},
      {"hysteresis", "0.0"},
      {"hysteresis", "0.3"},
      {"post-messages", "true"},
      {"post-messages", "false"},
      {"invert", "true"},
      {"invert", "false"},
      {"feather", "0"},
      {"feather", "3"},
      {"seed-box", "10,30,90,60"}, // around every position of the square
      {"seed-box", "8,28,94,62"},
      {"model-out", model_out_path.c_str()},
      {"model-out", other_model_out_path.c_str()},
      {"network", "none"},
      {"network", network_path.c_str()},
      {"seed-time", "0"},
      {"seed-time", "18446744073709551615"}, // unset: the first frame
      {"keep-up", "false"},
      {"keep-up", "true"},
      {"background-blur", "0"},
      {"background-blur", "9"},
      {"background-image", picture_path.c_str()},
      {"background-image", other_picture_path.c_str()},
      {"key-masks", key_list.c_str()},
      {"key-masks", key_folder.c_str()},
  };
  // Every writable property is in the list.
  guint n_props = 0;
  GParamSpec **specs = g_object_class_list_properties(G_OBJECT_GET_CLASS(h->element), &n_props);
  for (guint i = 0; i < n_props; ++i) {
    if (!(specs[i]->flags & G_PARAM_WRITABLE) || specs[i]->owner_type != G_OBJECT_TYPE(h->element))
      continue;
    bool listed = false;
    for (const auto &[name, value] : values)
      listed |= g_str_equal(name, specs[i]->name);
    fail_unless(listed, "property %s is not stressed", specs[i]->name);
  }
  g_free(specs);

  std::vector<GstHarnessThread *> threads;
  for (const auto &[name, value] : values)
    threads.push_back(stress(h, name, value));
  std::set<std::string> kinds;
  for (int i = 0; i < 60; ++i) {
    const cv::Mat in = scene(kSize, kSeedX + 3 * (i % 10));
    GstBuffer *buf = to_buffer(in, &info);
    GST_BUFFER_PTS(buf) = (i % 20) * GST_SECOND / 30; // so key masks have frames to apply to
    fail_unless_equals_int(gst_harness_push(h, buf), GST_FLOW_OK);
    GstBuffer *out = gst_harness_pull(h);
    fail_unless(out != nullptr);
    std::string seen;
    fail_unless(consistent(to_bgr(out, &info), in, seen), "frame %d torn: %s", i, seen.c_str());
    kinds.insert(seen);
    gst_buffer_unref(out);
  }
  for (GstHarnessThread *t : threads)
    fail_unless(gst_harness_stress_thread_stop(t) > 0);
  fail_unless(kinds.size() > 1, "the settings never changed between frames");
  const Posted posted = pop_posted(watch.bus);
  fail_unless(posted.type == GST_MESSAGE_UNKNOWN, "a warning or an error: %s",
              posted.message.c_str());
  gst_harness_teardown(h);
}
GST_END_TEST;

static Suite *lifecycle_suite(void) {
  Suite *s = suite_create("flagmask-lifecycle");
  TCase *tc = tcase_create("general");
  tcase_set_timeout(tc, 300);
  tcase_add_unchecked_fixture(tc, write_fixtures, remove_scratch_dir);
  suite_add_tcase(s, tc);
  tcase_add_test(tc, test_state_cycles_with_data);
  tcase_add_test(tc, test_generic_states);
  tcase_add_test(tc, test_start_after_failed_start);
  tcase_add_test(tc, test_state_changes_while_pushing);
  tcase_add_test(tc, test_properties_changed_from_other_threads);
  return s;
}

GST_CHECK_MAIN(lifecycle);
