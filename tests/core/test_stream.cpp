// Unit tests for the stream controller's policy, without a pipeline: what start accepts and
// reports, which seed or model applies to which frame, changes of the inputs while playing,
// restarts, frame size changes, the learned model, and the reports instead of messages.
#include "image_io.h"
#include "model_file.h"
#include "seed_box.h"
#include "stream.h"
#include "test_support.h"

#include <gtest/gtest.h>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include <filesystem>
#include <fstream>

namespace {

using flagmask::FrameFacts;
using flagmask::FrameStatus;
using flagmask::Report;
using flagmask::Reports;
using flagmask::StreamController;
using flagmask::StreamInputs;
using flagmask::testing::shippedNetwork;

const cv::Size kSize(160, 120);
constexpr std::int64_t kPeriod = 33'333'333; // ns: 30 frames a second

// A flat orange square on dark noise, its left edge at x; the camera still.
cv::Rect squareAt(int x) {
  return cv::Rect(x, kSize.height / 3, kSize.width / 4, kSize.width / 4);
}

cv::Mat scene(int x) {
  cv::Mat bgr(kSize, CV_8UC3);
  cv::RNG rng(4242);
  rng.fill(bgr, cv::RNG::NORMAL, cv::Scalar(60, 40, 30), cv::Scalar::all(8));
  bgr(squareAt(x)).setTo(cv::Scalar(40, 140, 240));
  return bgr;
}

cv::Mat squareMask(int x) {
  cv::Mat mask = cv::Mat::zeros(kSize, CV_8U);
  mask(squareAt(x)).setTo(255);
  return mask;
}

// How many pixels two masks disagree on.
int differing(const cv::Mat &a, const cv::Mat &b) {
  return cv::countNonZero((a != 0) != (b != 0));
}

bool has(const Reports &reports, Report::Level level, Report::Kind kind, const std::string &text) {
  for (const Report &r : reports)
    if (r.level == level && r.kind == kind && r.text.find(text) != std::string::npos)
      return true;
  return false;
}

// Errors and warnings only: the informational reports go to the debug log.
int userReports(const Reports &reports) {
  int n = 0;
  for (const Report &r : reports)
    n += r.level != Report::Level::Info;
  return n;
}

class StreamTest : public flagmask::testing::TempDirTest {
protected:
  void SetUp() override {
    TempDirTest::SetUp();
    seed_path = writeMask("seed.png", squareMask(20));
    flagmask::Model model;
    model.add(scene(20), squareMask(20));
    model_path = path("model.yml");
    flagmask::saveModel(model, model_path);
  }

  std::string writeMask(const std::string &name, const cv::Mat &mask) const {
    EXPECT_TRUE(cv::imwrite(path(name), mask));
    return path(name);
  }

  bool start(const StreamInputs &in) {
    inputs = in;
    reports.clear();
    return stream.start(inputs, flagmask::kDefaultWorkingSize, reports) &&
           stream.setFrameSize(kSize, reports);
  }

  // Runs a frame of the scene with the square at x in mask mode; returns the mask written.
  cv::Mat frame(int x, FrameStatus expected = FrameStatus::Done) { return run(scene(x), expected); }

  // Frame i of a clip at 30 frames a second, its time known, the square at x.
  cv::Mat timedFrame(int i, int x) {
    time = {i * kPeriod, kPeriod};
    return frame(x);
  }

  // Runs this BGR frame in mask mode; returns the mask written.
  cv::Mat run(cv::Mat bgr, FrameStatus expected = FrameStatus::Done) {
    flagmask::FrameView view = flagmask::FrameView::fromBgr(bgr);
    flagmask::OutputStyle output;
    output.mode = flagmask::Mode::Mask;
    reports.clear();
    EXPECT_EQ(stream.process(view, time, inputs, params, output, facts, reports), expected);
    cv::Mat mask;
    cv::extractChannel(bgr, mask, 0);
    return mask;
  }

  StreamController stream;
  flagmask::FrameTime time; // unknown unless a test sets it
  StreamInputs inputs;
  flagmask::SegmenterParams params;
  Reports reports;
  FrameFacts facts;
  std::string seed_path, model_path;
};

// --- start ----------------------------------------------------------------------------------

TEST_F(StreamTest, StartNeedsAnInput) {
  EXPECT_FALSE(start({}));
  EXPECT_TRUE(has(reports, Report::Level::Error, Report::Kind::Settings, "needs a seed-mask"));
  EXPECT_FALSE(stream.started());
}

TEST_F(StreamTest, StartReportsMissingAndBadFiles) {
  EXPECT_FALSE(start({path("missing.yml"), "", "", ""}));
  EXPECT_TRUE(has(reports, Report::Level::Error, Report::Kind::NotFound, "missing.yml"));
  std::ofstream(path("bad.yml")) << "not a model\n";
  EXPECT_FALSE(start({path("bad.yml"), "", "", ""}));
  EXPECT_TRUE(has(reports, Report::Level::Error, Report::Kind::OpenRead, "bad.yml"));
  EXPECT_FALSE(start({"", path("missing.png"), "", ""}));
  EXPECT_TRUE(has(reports, Report::Level::Error, Report::Kind::NotFound, "missing.png"));
}

TEST_F(StreamTest, ANetworkThatCannotBeLoadedStopsTheStartAndNotAStreamPlaying) {
  EXPECT_FALSE(start({"", seed_path, "", path("missing.onnx")}));
  EXPECT_TRUE(has(reports, Report::Level::Error, Report::Kind::NotFound, "missing.onnx"));
  std::ofstream(path("bad.onnx")) << "not a network\n";
  EXPECT_FALSE(start({"", seed_path, "", path("bad.onnx")}));
  EXPECT_TRUE(has(reports, Report::Level::Error, Report::Kind::OpenRead, "bad.onnx"));

  ASSERT_TRUE(start({"", seed_path, "", ""}));
  frame(20);
  inputs.network_path = path("bad.onnx");
  const cv::Mat mask = frame(22);
  EXPECT_TRUE(has(reports, Report::Level::Warning, Report::Kind::OpenRead, "bad.onnx"));
  EXPECT_GT(cv::countNonZero(mask), 0);
}

// The started report names the network in use.
bool startedWith(const Reports &reports, const std::string &network) {
  return has(reports, Report::Level::Info, Report::Kind::Failed, "network '" + network + "'");
}

class StreamNetworkTest : public StreamTest {
protected:
  void SetUp() override {
    StreamTest::SetUp();
    if (shippedNetwork().empty())
      GTEST_SKIP() << "FLAGMASK_NETWORK is not set (run through meson test)";
  }

  // A copy of the model that names network; returns its path.
  std::string modelNaming(const std::string &network, const std::string &name) const {
    flagmask::Model model = flagmask::loadModel(model_path);
    model.setNetwork(network);
    flagmask::saveModel(model, path(name));
    return path(name);
  }
};

TEST_F(StreamNetworkTest, AModelNamingANetworkReplacesTheDefaultNetworkOnly) {
  StreamInputs in{modelNaming(shippedNetwork(), "with.yml"), seed_path, "", "", true}; // unset
  ASSERT_TRUE(start(in));
  EXPECT_TRUE(startedWith(reports, shippedNetwork()));
  in.network_default = false; // network set to none: the user's choice wins
  ASSERT_TRUE(start(in));
  EXPECT_TRUE(startedWith(reports, ""));
  // A network the model names that cannot be loaded is an error naming both files.
  EXPECT_FALSE(start({modelNaming(path("gone.onnx"), "gone.yml"), seed_path, "", "", true}));
  EXPECT_TRUE(has(reports, Report::Level::Error, Report::Kind::NotFound, "gone.onnx"));
  EXPECT_TRUE(has(reports, Report::Level::Error, Report::Kind::NotFound, path("gone.yml")));
}

TEST_F(StreamNetworkTest, ANewModelWhilePlayingBringsTheNetworkItNames) {
  ASSERT_TRUE(start({"", seed_path, "", "", true}));
  frame(20);
  inputs.model_path = modelNaming(shippedNetwork(), "with.yml");
  EXPECT_GT(cv::countNonZero(frame(22)), 0);
  EXPECT_TRUE(has(reports, Report::Level::Info, Report::Kind::Failed,
                  "network now '" + shippedNetwork() + "'"));
}

TEST_F(StreamTest, StartRefusesAMalformedBoxEvenWhenTheMaskWins) {
  EXPECT_FALSE(start({"", seed_path, "1,2,3", ""}));
  EXPECT_TRUE(has(reports, Report::Level::Error, Report::Kind::Settings, "'1,2,3'"));
}

TEST_F(StreamTest, StartWarnsAboutSeedsThatAreNotMasks) {
  EXPECT_TRUE(start({"", writeMask("all.png", cv::Mat(kSize, CV_8U, cv::Scalar(255))), "", ""}));
  EXPECT_TRUE(has(reports, Report::Level::Warning, Report::Kind::Settings, "every pixel"));
  cv::Mat photo(kSize, CV_8U);
  cv::randu(photo, 0, 256);
  EXPECT_TRUE(start({"", writeMask("photo.png", photo), "", ""}));
  EXPECT_TRUE(has(reports, Report::Level::Warning, Report::Kind::Settings, "distinct values"));
}

TEST_F(StreamTest, FramesBeforeStartAreRefused) {
  frame(20, FrameStatus::NotStarted);
  EXPECT_TRUE(reports.empty());
}

// --- which seed applies to which frame ---------------------------------------------------------

TEST_F(StreamTest, SeedIsTheFirstFramesAnswerThenTracks) {
  ASSERT_TRUE(start({"", seed_path, "", ""}));
  EXPECT_EQ(differing(frame(20), squareMask(20)), 0);
  EXPECT_EQ(facts.box, squareAt(20));
  for (int x = 22; x <= 30; x += 2)
    EXPECT_LT(differing(frame(x), squareMask(x)), kSize.area() / 100) << x;
  EXPECT_EQ(userReports(reports), 0);
}

TEST_F(StreamTest, ModelAloneFindsTheObject) {
  ASSERT_TRUE(start({model_path, "", "", ""}));
  EXPECT_LT(differing(frame(40), squareMask(40)), kSize.area() / 100);
  EXPECT_TRUE(facts.found());
}

TEST_F(StreamTest, RestartAppliesTheSeedAgain) {
  ASSERT_TRUE(start({"", seed_path, "", ""}));
  for (int x = 20; x <= 40; x += 4)
    frame(x);
  ASSERT_TRUE(stream.restart(reports));
  EXPECT_EQ(differing(frame(44), squareMask(20)), 0); // the seed, as on a first frame
}

TEST_F(StreamTest, AStartAfterAStopTracksAsAFirstStart) {
  // The tracker, its thread and its working memory outlive a stop; nothing it learned may.
  ASSERT_TRUE(start({"", seed_path, "", ""}));
  std::vector<cv::Mat> first;
  for (int x = 20; x <= 40; x += 4)
    first.push_back(frame(x));
  stream.stop();
  EXPECT_FALSE(stream.learnedModel());
  ASSERT_TRUE(start({model_path, "", "", ""})); // another stream, another model, between the two
  for (int x = 60; x >= 40; x -= 4)
    frame(x);
  stream.stop();
  ASSERT_TRUE(start({"", seed_path, "", ""}));
  for (std::size_t i = 0; i < first.size(); ++i)
    EXPECT_EQ(differing(frame(20 + 4 * static_cast<int>(i)), first[i]), 0) << i;
}

// --- seeks: a flush, then a frame somewhere in the stream ---------------------------------------

// The square moves 4 pixels a frame from x = 20 (the seed's place) on frame 0.
int clipX(int i) {
  return 20 + 4 * i;
}

TEST_F(StreamTest, FlushBackToTheSeedsFrameGivesTheFirstRunsMasks) {
  ASSERT_TRUE(start({"", seed_path, "", ""}));
  std::vector<cv::Mat> first;
  for (int i = 0; i < 6; ++i)
    first.push_back(timedFrame(i, clipX(i)));
  stream.flush();
  for (int i = 0; i < 6; ++i)
    EXPECT_EQ(differing(timedFrame(i, clipX(i)), first[i]), 0) << i;
}

TEST_F(StreamTest, FlushElsewhereLooksForTheObjectByTheModelNotTheSeed) {
  ASSERT_TRUE(start({"", seed_path, "", ""}));
  for (int i = 0; i < 6; ++i)
    timedFrame(i, clipX(i));
  stream.flush();
  const cv::Mat mask = timedFrame(20, clipX(20)); // the seed's square is 80 pixels away
  EXPECT_LT(differing(mask, squareMask(clipX(20))), kSize.area() / 100);
  EXPECT_TRUE(facts.found());
  EXPECT_LT(differing(timedFrame(21, clipX(21)), squareMask(clipX(21))), kSize.area() / 100);
  EXPECT_EQ(userReports(reports), 0);
}

TEST_F(StreamTest, FlushBeforeFramesWithoutTimestampsStartsAfresh) {
  ASSERT_TRUE(start({"", seed_path, "", ""}));
  for (int x = 20; x <= 40; x += 4)
    frame(x);
  stream.flush(); // nothing tells where the next frame lies: as on a first frame
  EXPECT_EQ(differing(frame(44), squareMask(20)), 0);
}

TEST_F(StreamTest, SeedAppliesToTheFrameAtSeedTime) {
  StreamInputs in{"", seed_path, "", ""};
  in.seed_time = 3 * kPeriod;
  ASSERT_TRUE(start(in));
  const auto x = [](int i) { return 8 + 4 * i; }; // at the seed's place on frame 3
  for (int i = 0; i < 3; ++i) {                   // nothing to look for the object by yet
    EXPECT_EQ(cv::countNonZero(timedFrame(i, x(i))), 0) << i;
    EXPECT_FALSE(facts.found());
  }
  EXPECT_EQ(differing(timedFrame(3, x(3)), squareMask(20)), 0);
  for (int i = 4; i < 8; ++i)
    EXPECT_LT(differing(timedFrame(i, x(i)), squareMask(x(i))), kSize.area() / 100) << i;
  EXPECT_EQ(userReports(reports), 0);
}

TEST_F(StreamTest, ASeekBackBeforeTheSeedsFrameAppliesItAgainWhenItComes) {
  StreamInputs in{"", seed_path, "", ""};
  in.seed_time = 3 * kPeriod;
  ASSERT_TRUE(start(in));
  const auto x = [](int i) { return 8 + 4 * i; };
  for (int i = 0; i < 8; ++i)
    timedFrame(i, x(i));
  stream.flush();
  // The model has learned the square by now: found before the seed's frame.
  EXPECT_LT(differing(timedFrame(1, x(1)), squareMask(x(1))), kSize.area() / 100);
  timedFrame(2, x(2));
  EXPECT_EQ(differing(timedFrame(3, x(3)), squareMask(20)), 0); // the seed, on its own frame
}

// --- key masks
// ------------------------------------------------------------------------------------

// A key mask the tracker could not have made: the square at x, a little larger.
cv::Mat keyMask(int x) {
  cv::Mat mask = cv::Mat::zeros(kSize, CV_8U);
  mask(squareAt(x) + cv::Size(6, 6)).setTo(255);
  return mask;
}

TEST_F(StreamTest, AKeyMaskByTimeIsItsFramesAnswerAndTrackingGoesOnFromIt) {
  StreamInputs in{"", seed_path, "", ""};
  in.key_masks = "0.1:" + writeMask("key.png", keyMask(100)); // frame 3 at 30 frames a second
  ASSERT_TRUE(start(in));
  for (int i = 0; i < 3; ++i)
    EXPECT_GT(differing(timedFrame(i, 20 + 2 * i), keyMask(100)), 1000) << i;
  EXPECT_EQ(differing(timedFrame(3, 100), keyMask(100)), 0); // the square jumped: the key says so
  EXPECT_LT(differing(timedFrame(4, 102), squareMask(102)), kSize.area() / 50);
  EXPECT_EQ(stream.learnedModel()->frames(), 2); // the seed's frame and the key's
  EXPECT_EQ(userReports(reports), 0);
}

TEST_F(StreamTest, KeyMasksByFrameNumberUseTheFrameRate) {
  std::filesystem::create_directories(path("keys"));
  writeMask("keys/00003.png", keyMask(100));
  StreamInputs in{"", seed_path, "", ""};
  in.key_masks = path("keys");
  ASSERT_TRUE(start(in));
  const auto at = [&](int i, int x) {
    time = {i * kPeriod, kPeriod};
    time.rate_num = 30, time.rate_den = 1;
    return frame(x);
  };
  at(0, 20);
  at(1, 22);
  at(2, 24);
  EXPECT_EQ(differing(at(3, 100), keyMask(100)), 0);
}

TEST_F(StreamTest, KeyMasksByFrameNumberWithoutAFrameRateAreSaidOnce) {
  std::filesystem::create_directories(path("keys"));
  writeMask("keys/00003.png", keyMask(100));
  StreamInputs in{"", seed_path, "", ""};
  in.key_masks = path("keys");
  ASSERT_TRUE(start(in));
  timedFrame(0, 20);
  EXPECT_TRUE(has(reports, Report::Level::Warning, Report::Kind::Format, "fixed frame rate"));
  for (int i = 1; i < 5; ++i) {
    EXPECT_LT(differing(timedFrame(i, 20 + 2 * i), squareMask(20 + 2 * i)), kSize.area() / 100);
    EXPECT_EQ(userReports(reports), 0) << i;
  }
}

TEST_F(StreamTest, KeyMasksAloneStartTrackingAtTheFirst) {
  StreamInputs in;
  in.key_masks = "0.0667:" + writeMask("key.png", squareMask(24)); // frame 2
  ASSERT_TRUE(start(in));
  EXPECT_EQ(cv::countNonZero(timedFrame(0, 20)), 0);
  EXPECT_EQ(cv::countNonZero(timedFrame(1, 22)), 0);
  EXPECT_EQ(differing(timedFrame(2, 24), squareMask(24)), 0);
  EXPECT_LT(differing(timedFrame(3, 26), squareMask(26)), kSize.area() / 100);
  EXPECT_EQ(userReports(reports), 0);
}

TEST_F(StreamTest, AKeyMaskAppliesAgainAfterASeekBackOverIt) {
  StreamInputs in{"", seed_path, "", ""};
  in.key_masks = "0.1:" + writeMask("key.png", keyMask(100));
  ASSERT_TRUE(start(in));
  for (int i = 0; i < 6; ++i)
    timedFrame(i, i < 3 ? 20 + 2 * i : 100);
  stream.flush();
  timedFrame(2, 24);
  EXPECT_EQ(differing(timedFrame(3, 100), keyMask(100)), 0);
}

TEST_F(StreamTest, KeyMasksSetWhilePlayingApplyAtTheirFrames) {
  ASSERT_TRUE(start({"", seed_path, "", ""}));
  timedFrame(0, 20);
  inputs.key_masks = "0.1:" + writeMask("key.png", keyMask(100));
  timedFrame(1, 22);
  EXPECT_EQ(userReports(reports), 0);
  timedFrame(2, 24);
  EXPECT_EQ(differing(timedFrame(3, 100), keyMask(100)), 0);
  inputs.key_masks = "0.2:" + path("missing.png");
  timedFrame(4, 102);
  EXPECT_TRUE(has(reports, Report::Level::Warning, Report::Kind::NotFound, "missing.png"));
  inputs.key_masks = "nonsense";
  timedFrame(5, 104);
  EXPECT_TRUE(has(reports, Report::Level::Warning, Report::Kind::Settings, "'nonsense'"));
}

TEST_F(StreamTest, StartRefusesKeyMasksThatCannotBeRead) {
  StreamInputs in{"", seed_path, "", ""};
  in.key_masks = "2:" + path("missing.png");
  EXPECT_FALSE(start(in));
  EXPECT_TRUE(has(reports, Report::Level::Error, Report::Kind::NotFound, "missing.png"));
  in.key_masks = "fix.png";
  EXPECT_FALSE(start(in));
  EXPECT_TRUE(has(reports, Report::Level::Error, Report::Kind::Settings, "TIME:FILE"));
}

TEST_F(StreamTest, AnEmptyKeyMaskIsRefusedNamingIt) {
  StreamInputs in{"", seed_path, "", ""};
  in.key_masks = "0.0667:" + writeMask("empty.png", cv::Mat::zeros(kSize, CV_8U));
  EXPECT_FALSE(start(in));
  EXPECT_TRUE(has(reports, Report::Level::Error, Report::Kind::OpenRead, "empty.png"));
}

// --- a live stream that falls behind -------------------------------------------------------------

TEST_F(StreamTest, LateFramesAreCarriedAlongTheObjectAndStillWritten) {
  ASSERT_TRUE(start({"", seed_path, "", ""}));
  constexpr std::int64_t kTinyPeriod = 1000; // 1 us: no frame's analysis fits in it
  int carried = 0;
  for (int i = 0; i < 12; ++i) {
    time = {i * kTinyPeriod, kTinyPeriod, i * kTinyPeriod, 5'000'000, std::nullopt};
    const cv::Mat mask = frame(clipX(i));
    EXPECT_LT(differing(mask, squareMask(clipX(i))), kSize.area() / 50) << i;
    if (i == 0) {
      EXPECT_TRUE(facts.analysed); // a seed is always analysed
    }
    carried += !facts.analysed;
  }
  EXPECT_GT(carried, 4);
  EXPECT_EQ(userReports(reports), 0);
  stream.flush(); // a seek: the next frames start over, every one analysed
  time = {12 * kTinyPeriod, kTinyPeriod};
  frame(clipX(12));
  EXPECT_TRUE(facts.analysed);
}

TEST_F(StreamTest, FramesAlreadyLateAreCarriedEvenWhenTheAnalysisFits) {
  ASSERT_TRUE(start({"", seed_path, "", ""}));
  std::string decisions;
  for (int i = 0; i < 10; ++i) {
    time = {i * kPeriod, kPeriod, i * kPeriod};
    if (i == 2) // downstream rendered frame 1 120 ms late: frames 2..4 are due already
      time.late_by = 120'000'000, time.late_at = kPeriod;
    EXPECT_LT(differing(frame(clipX(i)), squareMask(clipX(i))), kSize.area() / 50) << i;
    decisions += facts.analysed ? 'A' : 'c';
  }
  EXPECT_EQ(decisions, "AAcccAAAAA");
}

TEST_F(StreamTest, WithoutLateReportsEveryFrameIsAnalysed) {
  ASSERT_TRUE(start({"", seed_path, "", ""}));
  for (int i = 0; i < 8; ++i) {
    time = {i * 1000, 1000}; // however short the period
    frame(clipX(i));
    EXPECT_TRUE(facts.analysed) << i;
  }
}

// --- frame size changes --------------------------------------------------------------------------

TEST_F(StreamTest, NewFrameSizeGoesOnFromTheLastMaskScaled) {
  // A second square of the object's colour: the model alone cannot tell which one is the object.
  const cv::Rect decoy(110, 10, 40, 40);
  const auto withDecoy = [&](int x, cv::Size size) {
    cv::Mat bgr = scene(x);
    bgr(decoy).setTo(cv::Scalar(40, 140, 240));
    cv::resize(bgr, bgr, size, 0, 0, cv::INTER_NEAREST);
    return bgr;
  };
  ASSERT_TRUE(start({"", seed_path, "", ""}));
  for (int x = 20; x <= 28; x += 2)
    run(withDecoy(x, kSize));
  const cv::Size big(320, 240);
  ASSERT_TRUE(stream.setFrameSize(big, reports));
  for (int x = 30; x <= 36; x += 2) {
    cv::Mat truth;
    cv::resize(squareMask(x), truth, big, 0, 0, cv::INTER_NEAREST);
    EXPECT_LT(differing(run(withDecoy(x, big)), truth), big.area() / 100) << x;
  }
}

TEST_F(StreamTest, NewFrameSizeGoesOnFromTheLearnedModel) {
  ASSERT_TRUE(start({"", seed_path, "", ""}));
  frame(20);
  frame(22);
  ASSERT_TRUE(stream.setFrameSize(cv::Size(320, 240), reports));
  ASSERT_TRUE(stream.setFrameSize(kSize, reports)); // back: no seed, the model finds the square
  EXPECT_LT(differing(frame(60), squareMask(60)), kSize.area() / 100);
}

TEST_F(StreamTest, NewFrameSizeReseedsWhenNothingWasLearned) {
  const cv::Mat all(kSize, CV_8U, cv::Scalar(255));
  ASSERT_TRUE(start({"", writeMask("all.png", all), "", ""}));
  frame(20);
  ASSERT_TRUE(stream.setFrameSize(cv::Size(320, 240), reports));
  ASSERT_TRUE(stream.setFrameSize(kSize, reports));
  EXPECT_EQ(differing(frame(60), all), 0);
}

// --- inputs changed while playing ------------------------------------------------------------

TEST_F(StreamTest, NewSeedMaskAppliesToTheNextFrame) {
  ASSERT_TRUE(start({"", seed_path, "", ""}));
  frame(20);
  inputs.seed_path = writeMask("later.png", squareMask(70));
  EXPECT_EQ(differing(frame(24), squareMask(70)), 0);
}

TEST_F(StreamTest, BadFileWhilePlayingWarnsOnceAndGoesOn) {
  ASSERT_TRUE(start({"", seed_path, "", ""}));
  frame(20);
  inputs.model_path = path("missing.yml");
  EXPECT_LT(differing(frame(22), squareMask(22)), kSize.area() / 100);
  EXPECT_TRUE(has(reports, Report::Level::Warning, Report::Kind::NotFound, "missing.yml"));
  frame(24);
  EXPECT_EQ(userReports(reports), 0); // said once
}

TEST_F(StreamTest, ClearingEveryInputWarnsAndChangesNothing) {
  ASSERT_TRUE(start({"", seed_path, "", ""}));
  frame(20);
  inputs = {};
  EXPECT_LT(differing(frame(22), squareMask(22)), kSize.area() / 100);
  EXPECT_TRUE(has(reports, Report::Level::Warning, Report::Kind::Settings, "going on with"));
}

TEST_F(StreamTest, MaskWinsWhenMaskAndBoxChangeTogether) {
  ASSERT_TRUE(start({"", seed_path, "", ""}));
  frame(20);
  inputs.seed_path = writeMask("later.png", squareMask(70));
  inputs.seed_box = "10,30,60,60";
  EXPECT_EQ(differing(frame(24), squareMask(70)), 0);
}

TEST_F(StreamTest, BoxOutsideTheFrameWhilePlayingIsNotTaken) {
  ASSERT_TRUE(start({"", seed_path, "", ""}));
  frame(20);
  inputs.seed_box = "900,900,10,10";
  EXPECT_LT(differing(frame(22), squareMask(22)), kSize.area() / 100);
  EXPECT_TRUE(has(reports, Report::Level::Warning, Report::Kind::Settings, "'900,900,10,10'"));
}

// --- seeding from a box ----------------------------------------------------------------------

TEST_F(StreamTest, BoxSeedIsGrabCutsAnswer) {
  ASSERT_TRUE(start({"", "", "10,30,60,60", ""}));
  const cv::Mat expected = flagmask::maskFromBox(scene(20), cv::Rect(10, 30, 60, 60));
  EXPECT_EQ(differing(frame(20), expected), 0);
}

TEST_F(StreamTest, BoxThatGivesNoSeedIsAnErrorWithoutAModel) {
  ASSERT_TRUE(start({"", "", "500,500,20,20", ""}));
  frame(20, FrameStatus::Failed);
  EXPECT_TRUE(has(reports, Report::Level::Error, Report::Kind::Settings, "outside"));
}

TEST_F(StreamTest, BoxThatGivesNoSeedIsAWarningWithAModel) {
  ASSERT_TRUE(start({model_path, "", "500,500,20,20", ""}));
  EXPECT_LT(differing(frame(20), squareMask(20)), kSize.area() / 100);
  EXPECT_TRUE(has(reports, Report::Level::Warning, Report::Kind::Settings, "outside"));
}

// --- the output format -------------------------------------------------------------------------

TEST_F(StreamTest, AlphaOnAFormatWithoutAlphaNamesTheFix) {
  ASSERT_TRUE(start({"", seed_path, "", ""}));
  cv::Mat bgr = scene(20);
  flagmask::FrameView view = flagmask::FrameView::fromBgr(bgr);
  flagmask::OutputStyle output;
  output.mode = flagmask::Mode::Alpha;
  EXPECT_EQ(stream.process(view, time, inputs, params, output, facts, reports),
            FrameStatus::Failed);
  EXPECT_TRUE(has(reports, Report::Level::Error, Report::Kind::Format, "BGR"));
  EXPECT_TRUE(has(reports, Report::Level::Error, Report::Kind::Format, "videoconvert"));
}

// --- the learned model -----------------------------------------------------------------------

TEST_F(StreamTest, UnsavedModelOnlyAfterFrames) {
  ASSERT_TRUE(start({"", seed_path, "", ""}));
  EXPECT_FALSE(stream.takeUnsavedModel());
  frame(20);
  EXPECT_TRUE(stream.takeUnsavedModel());
  EXPECT_FALSE(stream.takeUnsavedModel());
  EXPECT_TRUE(stream.learnedModel());
}

TEST_F(StreamTest, SavingTheModelSaysWhyItCouldNot) {
  EXPECT_EQ(flagmask::saveLearnedModel("", std::nullopt)->kind, Report::Kind::OpenWrite);
  EXPECT_NE(flagmask::saveLearnedModel(path("m.yml"), std::nullopt)->text.find("nothing"),
            std::string::npos);
  ASSERT_TRUE(start({"", seed_path, "", ""}));
  frame(20);
  const auto model = stream.learnedModel();
  const auto no_dir = flagmask::saveLearnedModel(path("no/such/m.yml"), model);
  ASSERT_TRUE(no_dir);
  EXPECT_NE(no_dir->text.find("does not exist"), std::string::npos) << no_dir->text;
  EXPECT_NE(flagmask::saveLearnedModel(dir_.string(), model)->text.find("directory"),
            std::string::npos);
  EXPECT_FALSE(flagmask::saveLearnedModel(path("m.yml"), model));
  EXPECT_TRUE(flagmask::loadModel(path("m.yml")).trained());
}

} // namespace
