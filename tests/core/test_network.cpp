// The refinement network: loading, where it may change the fusion, and that it changes what a frame
// shows but never what the tracker carries on with.
#include "eval/synthetic.h"
#include "flagmask.h"
#include "test_support.h"

#include <gtest/gtest.h>
#include <opencv2/imgproc.hpp>

#include <cstdlib>
#include <fstream>

namespace flagmask {
namespace {

using testing::shippedNetwork;
using testing::TempDirTest;

class NetworkTest : public TempDirTest {
protected:
  void SetUp() override {
    TempDirTest::SetUp();
    if (shippedNetwork().empty())
      GTEST_SKIP() << "FLAGMASK_NETWORK is not set (run through meson test)";
    network_ = Network::load(shippedNetwork());
  }
  Network network_;
};

// A frame with a disc on a textured background, the cues a tracker would give for it.
struct Scene {
  cv::Mat image, fused;
  FusionCues cues;
};

Scene discScene(cv::Size size = cv::Size(160, 120)) {
  Scene s;
  s.image = cv::Mat(size, CV_8UC3);
  cv::randu(s.image, 60, 120);
  cv::Mat disc = cv::Mat::zeros(size, CV_32F);
  cv::circle(disc, {size.width / 2, size.height / 2}, size.height / 4, cv::Scalar(1), cv::FILLED);
  s.image.setTo(cv::Scalar(40, 40, 220), disc > 0.5);
  s.cues.carried = disc.clone();
  s.cues.appearance = disc * 0.8 + 0.1;
  s.cues.motion = cv::Mat::zeros(size, CV_32F);
  cv::GaussianBlur(disc, s.fused, cv::Size(9, 9), 0);
  return s;
}

using NetworkFileTest = TempDirTest;

TEST_F(NetworkFileTest, LoadingNamesTheFileAndTheReason) {
  testing::expectErrorNaming([&] { Network::load(path("missing.onnx")); }, path("missing.onnx"));
  std::ofstream(path("empty.onnx")).close();
  testing::expectErrorNaming([&] { Network::load(path("empty.onnx")); }, path("empty.onnx"));
  std::ofstream(path("text.onnx")) << "not a network at all";
  testing::expectErrorNaming([&] { Network::load(path("text.onnx")); }, path("text.onnx"));
  testing::expectErrorNaming(
      [&] {
        Network::fromBytes({0x08, 0x07, 0xff, 0x00}, "bytes");
      },
      "bytes");
}

TEST(NetworkDefault, FollowsTheEnvironment) {
  const char *before = std::getenv("FLAGMASK_NETWORK");
  const std::string saved = before ? before : "";
  setenv("FLAGMASK_NETWORK", "/some/where.onnx", 1);
  EXPECT_EQ(defaultNetworkPath(), "/some/where.onnx");
  setenv("FLAGMASK_NETWORK", "", 1);
  EXPECT_EQ(defaultNetworkPath(), "");
  if (before)
    setenv("FLAGMASK_NETWORK", saved.c_str(), 1);
  else
    unsetenv("FLAGMASK_NETWORK");
}

TEST_F(NetworkTest, ChangesOnlyItsRegionAndStaysAProbability) {
  const Scene s = discScene();
  const cv::Rect region(40, 20, 80, 80);
  const cv::Mat out = network_.refine(s.image, s.cues, s.fused, region);
  ASSERT_EQ(out.size(), s.fused.size());
  ASSERT_EQ(out.type(), CV_32F);
  cv::Mat outside = cv::Mat(out.size(), CV_8U, cv::Scalar(255));
  outside(region).setTo(0);
  cv::Mat diff;
  cv::absdiff(out, s.fused, diff);
  double most = 0;
  cv::minMaxLoc(diff, nullptr, &most, nullptr, nullptr, outside);
  EXPECT_EQ(most, 0.0);
  double low = 0, high = 0;
  cv::minMaxLoc(out, &low, &high);
  EXPECT_GE(low, 0.0);
  EXPECT_LE(high, 1.0);
}

// The correction is bounded: what the fusion is sure of stays decided the same way.
TEST_F(NetworkTest, DoesNotOverturnASureFusion) {
  Scene s = discScene();
  s.fused = cv::Mat(s.fused.size(), CV_32F, cv::Scalar(0.001f));
  s.fused(cv::Rect(60, 40, 40, 40)).setTo(0.999f);
  const cv::Mat out = network_.refine(s.image, s.cues, s.fused, cv::Rect(0, 0, 160, 120));
  EXPECT_EQ(cv::countNonZero((out > 0.5) != (s.fused > 0.5)), 0);
}

TEST_F(NetworkTest, TinyAndOddRegionsAreHandled) {
  const Scene s = discScene(cv::Size(37, 23));
  for (const cv::Rect r : {cv::Rect(0, 0, 37, 23), cv::Rect(3, 5, 1, 1), cv::Rect(1, 1, 5, 7),
                           cv::Rect(30, 20, 40, 40), cv::Rect()}) {
    const cv::Mat out = network_.refine(s.image, s.cues, s.fused, r);
    EXPECT_EQ(out.size(), s.fused.size()) << r;
  }
}

TEST_F(NetworkTest, ACopyAnswersTheSame) {
  const Scene s = discScene();
  const Network copy = network_;
  const cv::Rect all(0, 0, 160, 120);
  cv::Mat a = network_.refine(s.image, s.cues, s.fused, all);
  cv::Mat b = copy.refine(s.image, s.cues, s.fused, all);
  EXPECT_EQ(cv::norm(a, b, cv::NORM_INF), 0.0);
}

// m grown to size by repeating its last block of Network::kReduction rows and columns: its
// reduction is the reduction of m with the last row and column repeated.
cv::Mat blockPadded(const cv::Mat &m, cv::Size size) {
  constexpr int k = Network::kReduction;
  cv::Mat map_x(size, CV_32F), map_y(size, CV_32F);
  for (int y = 0; y < size.height; ++y)
    for (int x = 0; x < size.width; ++x) {
      map_x.at<float>(y, x) = static_cast<float>(x < m.cols ? x : m.cols - k + (x - m.cols) % k);
      map_y.at<float>(y, x) = static_cast<float>(y < m.rows ? y : m.rows - k + (y - m.rows) % k);
    }
  cv::Mat out;
  cv::remap(m, out, map_x, map_y, cv::INTER_NEAREST);
  return out;
}

// The reduced input is padded to the network's alignment by repeating its edge: a frame whose
// reduction needs padding gets the answer of the same frame grown to the aligned size by repeating
// its edge, whatever the network's buffers held before.
TEST_F(NetworkTest, InputIsPaddedByRepeatingTheEdge) {
  const Scene s = discScene(cv::Size(164, 116)); // reduced 41x29, padded to 48x32
  const cv::Size aligned(192, 128);
  Scene grown;
  grown.image = blockPadded(s.image, aligned);
  grown.fused = blockPadded(s.fused, aligned);
  grown.cues.carried = blockPadded(s.cues.carried, aligned);
  grown.cues.appearance = blockPadded(s.cues.appearance, aligned);
  grown.cues.motion = blockPadded(s.cues.motion, aligned);
  const cv::Rect frame(cv::Point(), s.image.size());
  // Leaves other values in the network's buffers first.
  network_.refine(grown.image, grown.cues, 1.0 - grown.fused, cv::Rect(cv::Point(), aligned));
  const cv::Mat padded = network_.refine(s.image, s.cues, s.fused, frame);
  const cv::Mat explicit_ = network_.refine(grown.image, grown.cues, grown.fused, frame);
  EXPECT_LT(cv::norm(padded, explicit_(frame), cv::NORM_INF), 1e-5);
  EXPECT_GT(cv::norm(padded, s.fused, cv::NORM_INF), 0.01); // the network did change something
}

// The network corrects what a frame shows; the tracker goes on from its own decision, so the cues
// of every frame are the same with and without it.
TEST_F(NetworkTest, LeavesTheTrackedStateAlone) {
  auto carriedPlanes = [](const Network *network) {
    Segmenter segmenter;
    if (network)
      segmenter.setNetwork(*network);
    std::vector<cv::Mat> carried;
    segmenter.setCueObserver([&](const FusionCues &c) { carried.push_back(c.carried.clone()); });
    for (int t = 0; t < 12; ++t) {
      const SyntheticFrame f = syntheticFlag(t);
      if (t == 0)
        segmenter.seed(f.frame, f.mask);
      else
        segmenter.process(f.frame);
    }
    return carried;
  };
  const std::vector<cv::Mat> with = carriedPlanes(&network_), without = carriedPlanes(nullptr);
  ASSERT_EQ(with.size(), without.size());
  ASSERT_FALSE(with.empty());
  for (size_t i = 0; i < with.size(); ++i)
    EXPECT_EQ(cv::norm(with[i], without[i], cv::NORM_INF), 0.0) << "frame " << i + 1;
}

} // namespace
} // namespace flagmask
