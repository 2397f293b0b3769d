/* Soak: a long stream through the element (videotestsrc pattern=ball, 320x240, 10,000 frames by
 * default, FLAGMASK_SOAK_FRAMES to change it) while the resident memory of the process is sampled.
 * After a warm-up it must stay within 5 MB of what it was then: a leak of even a few hundred
 * bytes a frame would show. The figures are printed for docs/reliability.md. */
#include "support.h"

#include <unistd.h>

#include <algorithm>
#include <cstdio>

using namespace fmtest;

static const char *kCaps = "video/x-raw,format=I420,width=320,height=240,framerate=30/1";
static const guint64 kWarmup = 1000;
static const double kAllowedDriftMb = 5.0;

static double resident_mb(void) {
  long pages = 0, resident = 0;
  FILE *f = fopen("/proc/self/statm", "r");
  fail_unless(f != nullptr);
  fail_unless(fscanf(f, "%ld %ld", &pages, &resident) == 2);
  fclose(f);
  return resident * static_cast<double>(sysconf(_SC_PAGESIZE)) / (1 << 20);
}

struct Samples {
  guint64 frames = 0;
  double at_warmup = 0, peak_after = 0, last = 0;
};

static GstPadProbeReturn sample(GstPad *, GstPadProbeInfo *, gpointer data) {
  Samples *s = static_cast<Samples *>(data);
  if (++s->frames % 250 != 0)
    return GST_PAD_PROBE_OK;
  s->last = resident_mb();
  if (s->frames == kWarmup)
    s->at_warmup = s->last;
  else if (s->frames > kWarmup)
    s->peak_after = std::max(s->peak_after, s->last);
  return GST_PAD_PROBE_OK;
}

static guint64 soak_frames(void) {
  const gchar *env = g_getenv("FLAGMASK_SOAK_FRAMES");
  return env ? g_ascii_strtoull(env, nullptr, 10) : 10000;
}

GST_START_TEST(test_soak) {
  check_plugin_from_build_tree();
  make_scratch_dir();
  const std::string seed = write_image("ball.png", ball_mask(kCaps));
  const guint64 frames = soak_frames();
  fail_unless(frames >= 2 * kWarmup, "FLAGMASK_SOAK_FRAMES must be at least %" G_GUINT64_FORMAT,
              2 * kWarmup);
  gchar *line =
      g_strdup_printf("videotestsrc pattern=ball num-buffers=%" G_GUINT64_FORMAT " ! %s ! "
                      "flagmask name=f seed-mask=%s ! fakesink sync=false",
                      frames, kCaps, seed.c_str());
  GstElement *pipeline = gst_parse_launch(line, nullptr);
  g_free(line);
  fail_unless(pipeline != nullptr);
  GstElement *flagmask = gst_bin_get_by_name(GST_BIN(pipeline), "f");
  GstPad *src = gst_element_get_static_pad(flagmask, "src");
  Samples samples;
  gst_pad_add_probe(src, GST_PAD_PROBE_TYPE_BUFFER, sample, &samples, nullptr);
  gst_object_unref(src);
  gst_object_unref(flagmask);

  const gint64 began = g_get_monotonic_time();
  gst_element_set_state(pipeline, GST_STATE_PLAYING);
  GstBus *bus = gst_element_get_bus(pipeline);
  GstMessage *msg = gst_bus_timed_pop_filtered(
      bus, GST_CLOCK_TIME_NONE, static_cast<GstMessageType>(GST_MESSAGE_EOS | GST_MESSAGE_ERROR));
  fail_unless(GST_MESSAGE_TYPE(msg) == GST_MESSAGE_EOS, "the soak stopped with an error");
  gst_message_unref(msg);
  gst_object_unref(bus);
  const double seconds = (g_get_monotonic_time() - began) / 1e6;
  gst_element_set_state(pipeline, GST_STATE_NULL);
  gst_object_unref(pipeline);
  remove_scratch_dir();

  const double drift = samples.peak_after - samples.at_warmup;
  g_print("soak: %" G_GUINT64_FORMAT " frames of 320x240 I420 in %.1f s (%.2f ms/frame); RSS "
          "%.1f MB after %" G_GUINT64_FORMAT " frames of warm-up, peak after %.1f MB, at the end "
          "%.1f MB: drift %+.2f MB (allowed %.0f MB)\n",
          samples.frames, seconds, 1e3 * seconds / samples.frames, samples.at_warmup, kWarmup,
          samples.peak_after, samples.last, drift, kAllowedDriftMb);
  fail_unless(samples.frames == frames, "%" G_GUINT64_FORMAT " frames", samples.frames);
  fail_unless(drift <= kAllowedDriftMb, "RSS grew by %.2f MB after warm-up", drift);
}
GST_END_TEST;

static Suite *soak_suite(void) {
  Suite *s = suite_create("flagmask-soak");
  TCase *tc = tcase_create("general");
  tcase_set_timeout(tc, 600);
  suite_add_tcase(s, tc);
  tcase_add_test(tc, test_soak);
  return s;
}

GST_CHECK_MAIN(soak);
