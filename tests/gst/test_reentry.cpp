/* The element posts its errors and warnings after releasing its locks. An application's
 * synchronous bus handler runs inside gst_element_post_message, in the thread that posts: if the
 * element posted while holding its stream lock, a handler that answers the message by saving the
 * model (which takes that lock) or by reading a property would hang for ever. Each case here
 * posts from another place in the element: an error at start, a warning while playing, an error
 * on the first frame. A hang fails the test by its timeout. */
#include "support.h"

#include <atomic>

using namespace fmtest;

static const cv::Size kSize(160, 120);
static const int kSeedX = 20;
static std::string seed_path;

static void write_fixtures(void) {
  make_scratch_dir();
  seed_path = write_image("seed.png", scene_mask(kSize, kSeedX));
}

// How many errors and warnings of flagmask the handler answered.
static std::atomic<int> answered{0};

// Answers every error and warning of the element as an application might: it reads a property
// (the object lock) and saves the model (the stream lock). Saving may itself post a warning
// (nothing learned yet), which reaches this handler again in the same thread: that one is let
// through, or the handler would recurse for ever.
static GstBusSyncReply answer_report(GstBus *, GstMessage *msg, gpointer) {
  static thread_local bool answering = false;
  const GstMessageType type = GST_MESSAGE_TYPE(msg);
  if (answering || (type != GST_MESSAGE_ERROR && type != GST_MESSAGE_WARNING))
    return GST_BUS_PASS;
  answering = true;
  GstElement *e = GST_ELEMENT(GST_MESSAGE_SRC(msg));
  gdouble threshold = 0;
  g_object_get(e, "threshold", &threshold, nullptr);
  gboolean saved = FALSE;
  g_signal_emit_by_name(e, "save-model", scratch("answer.yml").c_str(), &saved);
  answered.fetch_add(1);
  answering = false;
  return GST_BUS_PASS;
}

static GstBus *answering_bus() {
  GstBus *bus = gst_bus_new();
  gst_bus_set_sync_handler(bus, answer_report, nullptr, nullptr);
  answered = 0;
  return bus;
}

// A seed mask that does not exist: start() fails with an error.
GST_START_TEST(test_error_at_start_answered) {
  GstElement *e = gst_element_factory_make("flagmask", nullptr);
  g_object_set(e, "seed-mask", scratch("missing.png").c_str(), nullptr);
  GstBus *bus = answering_bus();
  gst_element_set_bus(e, bus);
  fail_unless_equals_int(gst_element_set_state(e, GST_STATE_PLAYING), GST_STATE_CHANGE_FAILURE);
  fail_unless_equals_int(answered.load(), 1);
  const Posted p = pop_posted(bus, GST_MESSAGE_ERROR);
  fail_unless(p.is(GST_MESSAGE_ERROR, GST_RESOURCE_ERROR, GST_RESOURCE_ERROR_NOT_FOUND));
  gst_element_set_state(e, GST_STATE_NULL);
  gst_element_set_bus(e, nullptr);
  gst_object_unref(bus);
  gst_object_unref(e);
}
GST_END_TEST;

// A model file that does not exist, set while playing: a warning, and tracking goes on.
GST_START_TEST(test_warning_while_playing_answered) {
  const GstVideoInfo info = video_info("BGR", kSize);
  GstBus *bus = answering_bus();
  GstHarness *h = harness_new("mode=mask seed-mask=" + seed_path, &info, bus);
  gst_buffer_unref(push_pull(h, scene(kSize, kSeedX), &info));
  g_object_set(h->element, "model", scratch("missing.yml").c_str(), nullptr);
  GstBuffer *out = push_pull(h, scene(kSize, kSeedX + 2), &info);
  fail_unless(differing(to_mask(out, &info), scene_mask(kSize, kSeedX + 2)) < kSize.area() / 100);
  gst_buffer_unref(out);
  fail_unless_equals_int(answered.load(), 1);
  fail_unless(
      pop_posted(bus).is(GST_MESSAGE_WARNING, GST_RESOURCE_ERROR, GST_RESOURCE_ERROR_NOT_FOUND));
  harness_teardown(h, bus);
}
GST_END_TEST;

// A seed box outside the frame: the first frame fails with an error.
GST_START_TEST(test_bad_box_answered) {
  const GstVideoInfo info = video_info("BGR", kSize);
  GstBus *bus = answering_bus();
  GstHarness *h = harness_new("seed-box=500,500,20,20", &info, bus);
  fail_unless_equals_int(gst_harness_push(h, to_buffer(scene(kSize, kSeedX), &info)),
                         GST_FLOW_ERROR);
  fail_unless_equals_int(answered.load(), 1);
  // The handler's own save-model found nothing learned and warned first; the error follows.
  const Posted p = pop_posted(bus, GST_MESSAGE_ERROR);
  fail_unless(p.is(GST_MESSAGE_ERROR, GST_RESOURCE_ERROR, GST_RESOURCE_ERROR_SETTINGS), "%s",
              p.message.c_str());
  harness_teardown(h, bus);
}
GST_END_TEST;

static Suite *reentry_suite(void) {
  Suite *s = suite_create("flagmask-reentry");
  TCase *tc = tcase_create("general");
  tcase_set_timeout(tc, 30);
  tcase_add_unchecked_fixture(tc, write_fixtures, remove_scratch_dir);
  suite_add_tcase(s, tc);
  tcase_add_test(tc, test_error_at_start_answered);
  tcase_add_test(tc, test_warning_while_playing_answered);
  tcase_add_test(tc, test_bad_box_answered);
  return s;
}

GST_CHECK_MAIN(reentry);
