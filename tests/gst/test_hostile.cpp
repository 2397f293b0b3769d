/* Hostile input for flagmask: every kind of wrong file behind model and seed-mask at start (an
 * error naming the file and the reason, nothing allocated for a forged size), masks that load but
 * are not what their author meant (a warning, then defined behaviour), and the files swapped while
 * playing (taken at the next frame, or a warning and the old file kept). */
#include "support.h"

#include "model.h"
#include "model_file.h"
#include "segmenter.h"

#include <zlib.h>

#include <pwd.h>
#include <sys/resource.h>
#include <unistd.h>

#include <functional>

using namespace fmtest;

static const cv::Size kSize(160, 120);
static const int kSeedX = 20;

// Valid inputs the bad ones are made from.
static std::string model_path, model_gz_path, seed_path, other_seed_path, other_model_path;

static void write_fixtures(void) {
  make_scratch_dir();
  seed_path = write_image("seed.png", scene_mask(kSize, kSeedX));
  other_seed_path = write_image("other-seed.png", scene_mask(kSize, 90));
  flagmask::Model model;
  model.add(scene(kSize, kSeedX), scene_mask(kSize, kSeedX));
  model_path = scratch("model.yml");
  flagmask::saveModel(model, model_path);
  model_gz_path = scratch("model.yml.gz");
  flagmask::saveModel(model, model_gz_path);
  // A model of the same scene with object and background the other way round.
  flagmask::Model other;
  other.add(scene(kSize, kSeedX), scene_mask(kSize, kSeedX) == 0);
  other_model_path = scratch("other-model.yml");
  flagmask::saveModel(other, other_model_path);
}

/* ---- bad files ----------------------------------------------------------------------------- */

static std::string random_bytes(size_t n, int seed) {
  cv::RNG rng(seed);
  std::string s(n, '\0');
  for (char &c : s)
    c = static_cast<char>(rng.uniform(0, 256));
  return s;
}

// A model file written by hand; pieces replace the parts a test breaks.
static std::string model_yaml(const std::string &format, int version, int bins, int values,
                              const std::string &shape = "", const std::string &value = "1.") {
  std::string data;
  for (int i = 0; i < values; ++i)
    data += (i ? ", " : "") + value;
  const std::string declared =
      shape.empty() ? "rows: 1\n   cols: " + std::to_string(values) + "\n" : shape;
  std::string hist = " !!opencv-matrix\n   " + declared + "   dt: f\n   data: [ " + data + " ]\n";
  return "%YAML:1.0\n---\nformat: " + format + "\nversion: " + std::to_string(version) +
         "\ncolour_space: Lab\nbins: " + std::to_string(bins) +
         "\nobject_fraction: 0.25\nobject_hist:" + hist + "background_hist:" + hist;
}

static void put_be32(std::string &out, uint32_t v) {
  for (int s = 24; s >= 0; s -= 8)
    out += static_cast<char>((v >> s) & 0xff);
}

static void put_chunk(std::string &png, const char *type, const std::string &data) {
  put_be32(png, static_cast<uint32_t>(data.size()));
  const std::string body = std::string(type, 4) + data;
  png += body;
  put_be32(png, static_cast<uint32_t>(
                    crc32(0, reinterpret_cast<const Bytef *>(body.data()), body.size())));
}

// A PNG that declares width x height 8-bit grey pixels but holds one row of data: decoding it
// would allocate the declared size first.
static std::string forged_png(uint32_t width, uint32_t height) {
  std::string png = "\x89PNG\r\n\x1a\n";
  std::string ihdr;
  put_be32(ihdr, width);
  put_be32(ihdr, height);
  ihdr += std::string("\x08\x00\x00\x00\x00", 5);
  put_chunk(png, "IHDR", ihdr);
  const std::string row(1 + width, '\0');
  std::string z(compressBound(row.size()), '\0');
  uLongf n = z.size();
  fail_unless(compress(reinterpret_cast<Bytef *>(&z[0]), &n,
                       reinterpret_cast<const Bytef *>(row.data()), row.size()) == Z_OK);
  z.resize(n);
  put_chunk(png, "IDAT", z);
  put_chunk(png, "IEND", "");
  return png;
}

static std::string sparse_file(const std::string &name, gint64 size) {
  const std::string path = write_file(name, "%YAML:1.0\n");
  fail_unless(truncate(path.c_str(), size) == 0);
  return path;
}

/* ---- starting against a file --------------------------------------------------------------- */

// Sets the element to PLAYING with props, expects the start to fail and returns the error.
static Posted start_error(const std::string &props) {
  GstElement *e = gst_element_factory_make("flagmask", nullptr);
  set_props(e, props);
  Posted posted;
  {
    BusWatch watch(e);
    fail_unless_equals_int(gst_element_set_state(e, GST_STATE_PLAYING), GST_STATE_CHANGE_FAILURE);
    posted = pop_posted(watch.bus, GST_MESSAGE_ERROR);
    gst_element_set_state(e, GST_STATE_NULL);
  }
  gst_object_unref(e);
  fail_unless(posted.type == GST_MESSAGE_ERROR, "no error for %s", props.c_str());
  return posted;
}

struct BadFile {
  const char *what;   // the case, for failure messages
  std::string prop;   // model or seed-mask
  std::string path;   // the file
  gint code;          // GST_RESOURCE_ERROR_*
  const char *reason; // a part of the message that says why
};

static void expect_refused(const BadFile &c) {
  const Posted p = start_error(c.prop + "=" + c.path);
  fail_unless(p.domain == GST_RESOURCE_ERROR && p.code == c.code, "%s: %s %d: %s", c.what,
              g_quark_to_string(p.domain), p.code, p.message.c_str());
  fail_unless(p.says("'" + c.path + "'"), "%s: the file is not named: %s", c.what,
              p.message.c_str());
  fail_unless(p.says(c.reason), "%s: no reason '%s' in: %s", c.what, c.reason, p.message.c_str());
  fail_unless(p.debug.find(c.path) != std::string::npos, "%s: %s", c.what, p.debug.c_str());
}

GST_START_TEST(test_bad_model_files) {
  const std::string good = read_file(model_path), gz = read_file(model_gz_path);
  const gint not_found = GST_RESOURCE_ERROR_NOT_FOUND, open_read = GST_RESOURCE_ERROR_OPEN_READ;
  g_mkdir(scratch("a-directory.yml").c_str(), 0755);
  const BadFile cases[] = {
      {"missing", "model", scratch("missing.yml"), not_found, "no such file"},
      {"directory", "model", scratch("a-directory.yml"), open_read, "is a directory"},
      {"empty", "model", write_file("empty.yml", ""), open_read, "the file is empty"},
      {"random bytes", "model", write_file("random.yml", random_bytes(4096, 1)), open_read,
       "it is not YAML"},
      {"binary after a YAML start", "model",
       write_file("binary.yml", "%YAML:1.0\n---\n" + random_bytes(4096, 4) + std::string(1, '\0')),
       open_read, "line 3 is not what a flagmask model holds"},
      // OpenCV 4.6's XML reader dereferences a null pointer on this, its YAML reader never returns
      // on the next (both found by fuzz-model).
      {"XML that crashed OpenCV", "model", write_file("crash.xml", "<?xml version="), open_read,
       "it is not YAML"},
      {"YAML that hung OpenCV", "model", write_file("hang.yml", "%YAML:1.0\n---Y:0\n--x-\n"),
       open_read, "line 2 is not what a flagmask model holds"},
      {"truncated", "model", write_file("truncated.yml", good.substr(0, good.size() / 2)),
       open_read, "cut short"},
      {"truncated gzip", "model", write_file("truncated.yml.gz", gz.substr(0, gz.size() / 2)),
       open_read, "gzip data is cut short"},
      {"an image", "model", seed_path, open_read, "it is not YAML"},
      {"another format", "model",
       write_file("camera.yml", "%YAML:1.0\n---\nformat: camera-calibration\nversion: 1\n"),
       open_read, "is not a flagmask model"},
      {"future version", "model", write_file("future.yml", model_yaml("flagmask-model", 2, 8, 512)),
       open_read, "has version 2"},
      {"sizes disagree", "model", write_file("short.yml", model_yaml("flagmask-model", 1, 8, 500)),
       open_read, "should hold 512"},
      {"forged shape", "model",
       write_file("forged.yml",
                  model_yaml("flagmask-model", 1, 8, 512, "rows: 100000\n   cols: 100000\n")),
       open_read, "declares 100000x100000"},
      {"not finite", "model",
       write_file("nan.yml", model_yaml("flagmask-model", 1, 8, 512, "", ".Nan")), open_read,
       "negative or non-finite"},
      {"oversized", "model", sparse_file("huge.yml", gint64(65) << 20), open_read,
       "more than the 64.0 MB"},
  };
  for (const BadFile &c : cases)
    expect_refused(c);
}
GST_END_TEST;

GST_START_TEST(test_bad_seed_files) {
  const std::string png = read_file(seed_path);
  const gint not_found = GST_RESOURCE_ERROR_NOT_FOUND, open_read = GST_RESOURCE_ERROR_OPEN_READ;
  g_mkdir(scratch("a-directory.png").c_str(), 0755);
  const BadFile cases[] = {
      {"missing", "seed-mask", scratch("missing.png"), not_found, "no such file"},
      {"directory", "seed-mask", scratch("a-directory.png"), open_read, "is a directory"},
      {"empty", "seed-mask", write_file("empty.png", ""), open_read, "the file is empty"},
      {"random bytes", "seed-mask", write_file("random.png", random_bytes(4096, 2)), open_read,
       "not an image in a format flagmask reads"},
      {"truncated", "seed-mask", write_file("truncated.png", png.substr(0, png.size() / 2)),
       open_read, "damaged, truncated"},
      {"a model", "seed-mask", model_path, open_read, "not an image in a format flagmask reads"},
      {"no object pixel", "seed-mask", write_image("black.png", cv::Mat::zeros(kSize, CV_8U)),
       open_read, "has no object pixel"},
      {"forged size", "seed-mask", write_file("huge.png", forged_png(20000, 20000)), open_read,
       "declares 20000x20000"},
  };
  for (const BadFile &c : cases)
    expect_refused(c);
}
GST_END_TEST;

// The 20000x20000 header is refused from the header: the process never grows by the 400 MB a
// decoder would have allocated.
GST_START_TEST(test_huge_mask_is_not_allocated) {
  const std::string path = write_file("huge.png", forged_png(20000, 20000));
  struct rusage before, after;
  getrusage(RUSAGE_SELF, &before);
  start_error("seed-mask=" + path);
  getrusage(RUSAGE_SELF, &after);
  const long grown_kb = after.ru_maxrss - before.ru_maxrss;
  fail_unless(grown_kb < 64 * 1024, "peak RSS grew by %ld kB", grown_kb);
}
GST_END_TEST;

// Runs f with the effective user id of nobody when running as root (root reads any file), so
// that file permissions apply; returns false when they cannot be made to apply.
static bool as_unprivileged(const std::function<void()> &f) {
  if (geteuid() != 0) {
    f();
    return true;
  }
  const struct passwd *nobody = getpwnam("nobody");
  const uid_t uid = nobody ? nobody->pw_uid : 65534;
  if (seteuid(uid) != 0)
    return false;
  f();
  fail_unless(seteuid(0) == 0);
  return true;
}

GST_START_TEST(test_unreadable_files) {
  // The directories must be open to the unprivileged user; only the files are closed.
  g_chmod(scratch_dir().c_str(), 0755);
  for (const char *prop : {"model", "seed-mask"}) {
    const std::string path = write_file(std::string("unreadable-") + prop,
                                        read_file(prop[0] == 'm' ? model_path : seed_path));
    g_chmod(path.c_str(), 0);
    const bool applied = as_unprivileged([&] {
      FILE *f = fopen(path.c_str(), "rb");
      fail_unless(f == nullptr, "%s is readable", path.c_str());
      expect_refused({"unreadable", prop, path, GST_RESOURCE_ERROR_OPEN_READ, "Permission denied"});
    });
    if (!applied)
      g_print("test_unreadable_files: cannot drop root privileges, permissions not tested\n");
    fail_unless(applied || geteuid() == 0);
  }
  g_chmod(scratch_dir().c_str(), 0700);
}
GST_END_TEST;

/* ---- masks that load but are not what their author meant ---------------------------------- */

// Starts with the seed, expects one warning naming it, and returns the first frames' outputs.
static std::vector<cv::Mat> warned_start(const std::string &seed, const char *reason) {
  const GstVideoInfo info = video_info("BGR", kSize);
  GstBus *bus = gst_bus_new();
  GstHarness *h = harness_new("seed-mask=" + seed, &info, bus);
  std::vector<cv::Mat> outputs;
  for (int x = kSeedX; x <= kSeedX + 6; x += 3) {
    GstBuffer *out = push_pull(h, scene(kSize, x), &info);
    outputs.push_back(to_bgr(out, &info));
    gst_buffer_unref(out);
  }
  const Posted p = pop_posted(bus);
  fail_unless(p.type == GST_MESSAGE_WARNING, "no warning for %s", seed.c_str());
  fail_unless(p.says("'" + seed + "'") && p.says(reason), "%s", p.message.c_str());
  fail_unless(pop_posted(bus).type == GST_MESSAGE_UNKNOWN, "more than one message");
  fmtest::harness_teardown(h, bus);
  return outputs;
}

// Every pixel is the object: there is no background, so cutout keeps whole frames.
GST_START_TEST(test_mask_covering_the_frame) {
  const std::string full = write_image("full.png", cv::Mat(kSize, CV_8U, cv::Scalar(255)));
  const std::vector<cv::Mat> outputs = warned_start(full, "marks every pixel as the object");
  for (size_t i = 0; i < outputs.size(); ++i)
    fail_unless_equals_int(differing(outputs[i], scene(kSize, kSeedX + 3 * int(i))), 0);
}
GST_END_TEST;

// A colour photograph as the seed: every pixel that is not black is the object, as for any mask;
// the element says so and goes on.
GST_START_TEST(test_photo_as_mask) {
  cv::Mat photo(kSize, CV_8UC3);
  cv::RNG(5).fill(photo, cv::RNG::UNIFORM, 0, 256);
  photo(cv::Rect(0, 0, 40, 40)).setTo(cv::Scalar::all(0));
  const std::string path = write_image("photo.png", photo);
  flagmask::MaskInfo info;
  flagmask::loadMask(path, true, &info);
  fail_unless(info.coverage < 1.0 && info.distinct_values == 256);
  const std::vector<cv::Mat> outputs = warned_start(path, "does not look like a mask");
  fail_unless_equals_int(int(outputs.size()), 3);
}
GST_END_TEST;

/* ---- swapping files while playing ---------------------------------------------------------- */

// The tracker's own mask, without the hysteresis that holds the shown mask still: these tests
// compare what the tracker does right after a swap, frame by frame.
// The tracker alone (network=none): these cases compare the element with the core's tracker.
static const std::string kMaskProps = " mode=mask hysteresis=0 network=none";
static flagmask::SegmenterParams trackerParams() {
  flagmask::SegmenterParams params;
  params.hysteresis = 0;
  return params;
}

// Frames with the square moving right by 3 pixels each.
static cv::Mat moving(int t) {
  return scene(kSize, kSeedX + 3 * t);
}

GST_START_TEST(test_seed_swapped_while_playing) {
  const GstVideoInfo info = video_info("BGR", kSize);
  GstHarness *h = harness_new("seed-mask=" + seed_path + kMaskProps, &info);
  BusWatch watch(h->element);
  for (int t = 0; t < 3; ++t)
    push_mask(h, moving(t), &info);
  g_object_set(h->element, "seed-mask", other_seed_path.c_str(), nullptr);
  // The next frame is a first frame for the new seed: its answer is that seed.
  const cv::Mat expected = flagmask::resizeMask(flagmask::loadMask(other_seed_path), kSize);
  fail_unless_equals_int(differing(push_mask(h, moving(3), &info), expected), 0);
  fail_unless(pop_posted(watch.bus).type == GST_MESSAGE_UNKNOWN);
  // Naming a file and the old one again between two frames changes nothing.
  g_object_set(h->element, "seed-mask", seed_path.c_str(), nullptr);
  g_object_set(h->element, "seed-mask", other_seed_path.c_str(), nullptr);
  fail_unless(differing(push_mask(h, moving(4), &info), expected) > 0);
  gst_harness_teardown(h);
}
GST_END_TEST;

// The element with a model swapped before frame `swap` gives what the core gives when its model is
// replaced there: the change takes effect exactly at that frame boundary.
GST_START_TEST(test_model_swapped_while_playing) {
  const GstVideoInfo info = video_info("BGR", kSize);
  GstHarness *h =
      harness_new("seed-mask=" + seed_path + " model=" + model_path + kMaskProps, &info);
  BusWatch watch(h->element);
  flagmask::Segmenter core(trackerParams());
  core.setModel(flagmask::loadModel(model_path));
  const int swap = 3;
  bool differs_from_unswapped = false;
  flagmask::Segmenter unswapped(trackerParams());
  unswapped.setModel(flagmask::loadModel(model_path));
  for (int t = 0; t < 8; ++t) {
    if (t == swap) {
      g_object_set(h->element, "model", other_model_path.c_str(), nullptr);
      core.setModel(flagmask::loadModel(other_model_path));
    }
    const cv::Mat seed = flagmask::loadMask(seed_path);
    const cv::Mat expected = (t == 0 ? core.seed(moving(t), seed) : core.process(moving(t))).mask;
    const cv::Mat old =
        (t == 0 ? unswapped.seed(moving(t), seed) : unswapped.process(moving(t))).mask;
    const cv::Mat got = push_mask(h, moving(t), &info);
    fail_unless_equals_int(differing(got, expected), 0);
    differs_from_unswapped |= differing(got, old) > 0;
  }
  fail_unless(differs_from_unswapped, "the new model made no difference: the test proves nothing");
  fail_unless(pop_posted(watch.bus).type == GST_MESSAGE_UNKNOWN);
  gst_harness_teardown(h);
}
GST_END_TEST;

// A bad file while playing: a warning naming it at the next frame (not before), and the stream
// goes on with the files it had, exactly as if nothing had been set.
static void expect_kept_after_bad_swap(const char *prop, const std::string &bad,
                                       const char *reason) {
  const GstVideoInfo info = video_info("BGR", kSize);
  const std::string props = "seed-mask=" + seed_path + kMaskProps;
  GstHarness *h = harness_new(props, &info), *reference = harness_new(props, &info);
  BusWatch watch(h->element);
  for (int t = 0; t < 6; ++t) {
    if (t == 3) {
      g_object_set(h->element, prop, bad.c_str(), nullptr);
      fail_unless(pop_posted(watch.bus).type == GST_MESSAGE_UNKNOWN, "loaded outside a frame");
    }
    const cv::Mat got = push_mask(h, moving(t), &info);
    fail_unless_equals_int(differing(got, push_mask(reference, moving(t), &info)), 0);
    if (t == 3) {
      const Posted p = pop_posted(watch.bus);
      fail_unless(p.type == GST_MESSAGE_WARNING, "no warning for %s=%s", prop, bad.c_str());
      fail_unless(p.says("'" + bad + "'") && p.says(reason), "%s", p.message.c_str());
    }
  }
  fail_unless(pop_posted(watch.bus).type == GST_MESSAGE_UNKNOWN, "warned more than once");
  gst_harness_teardown(h);
  gst_harness_teardown(reference);
}

GST_START_TEST(test_bad_files_while_playing) {
  expect_kept_after_bad_swap("seed-mask", scratch("missing.png"), "no such file");
  expect_kept_after_bad_swap("seed-mask", write_file("noise.png", random_bytes(999, 3)),
                             "not an image");
  expect_kept_after_bad_swap("model", scratch("missing.yml"), "no such file");
  expect_kept_after_bad_swap(
      "model", write_file("future.yml", model_yaml("flagmask-model", 7, 8, 512)), "has version 7");
}
GST_END_TEST;

GST_START_TEST(test_inputs_cleared_while_playing) {
  const GstVideoInfo info = video_info("BGR", kSize);
  GstHarness *h = harness_new("seed-mask=" + seed_path + kMaskProps, &info);
  BusWatch watch(h->element);
  push_mask(h, moving(0), &info);
  g_object_set(h->element, "seed-mask", nullptr, nullptr);
  const cv::Mat mask = push_mask(h, moving(1), &info);
  fail_unless(mask.at<guint8>(55, kSeedX + 3 + 20) == 255); // still tracking
  const Posted p = pop_posted(watch.bus);
  fail_unless(p.type == GST_MESSAGE_WARNING && p.says("needs a seed-mask or a model") &&
                  p.says(seed_path),
              "%s", p.message.c_str());
  gst_harness_teardown(h);
}
GST_END_TEST;

static Suite *hostile_suite(void) {
  Suite *s = suite_create("flagmask-hostile");
  TCase *tc = tcase_create("general");
  tcase_set_timeout(tc, 120);
  tcase_add_unchecked_fixture(tc, write_fixtures, remove_scratch_dir);
  suite_add_tcase(s, tc);
  tcase_add_test(tc, test_bad_model_files);
  tcase_add_test(tc, test_bad_seed_files);
  tcase_add_test(tc, test_huge_mask_is_not_allocated);
  tcase_add_test(tc, test_unreadable_files);
  tcase_add_test(tc, test_mask_covering_the_frame);
  tcase_add_test(tc, test_photo_as_mask);
  tcase_add_test(tc, test_seed_swapped_while_playing);
  tcase_add_test(tc, test_model_swapped_while_playing);
  tcase_add_test(tc, test_bad_files_while_playing);
  tcase_add_test(tc, test_inputs_cleared_while_playing);
  return s;
}

GST_CHECK_MAIN(hostile);
