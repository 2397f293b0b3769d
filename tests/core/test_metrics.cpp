// Unit tests for the DAVIS region (J) and boundary (F) measures.
#include "eval/metrics.h"

#include <gtest/gtest.h>
#include <opencv2/core.hpp>

#include <vector>

namespace {

// A w x h all-zero mask with the rectangle r set to 255.
cv::Mat rectMask(cv::Size size, const cv::Rect &r) {
  cv::Mat m = cv::Mat::zeros(size, CV_8U);
  m(r & cv::Rect(0, 0, size.width, size.height)).setTo(255);
  return m;
}

const cv::Size kSize(200, 200);

TEST(Jaccard, IdenticalMasksScoreOne) {
  const cv::Mat a = rectMask(kSize, cv::Rect(40, 50, 80, 60));
  EXPECT_DOUBLE_EQ(flagmask::jaccard(a, a.clone()), 1.0);
}

TEST(Jaccard, DisjointMasksScoreZero) {
  const cv::Mat a = rectMask(kSize, cv::Rect(0, 0, 50, 50));
  const cv::Mat b = rectMask(kSize, cv::Rect(100, 100, 50, 50));
  EXPECT_DOUBLE_EQ(flagmask::jaccard(a, b), 0.0);
}

TEST(Jaccard, PredictionCoveringTwiceTheTruthScoresHalf) {
  const cv::Mat prediction = rectMask(kSize, cv::Rect(20, 20, 100, 100));
  const cv::Mat truth = rectMask(kSize, cv::Rect(20, 20, 50, 100));
  EXPECT_DOUBLE_EQ(flagmask::jaccard(prediction, truth), 0.5);
}

TEST(Jaccard, HalfOverlappingEqualMasksScoreOneThird) {
  // Two 100x100 squares sharing a 50x100 strip: 5000 / 15000.
  const cv::Mat a = rectMask(kSize, cv::Rect(0, 50, 100, 100));
  const cv::Mat b = rectMask(kSize, cv::Rect(50, 50, 100, 100));
  EXPECT_NEAR(flagmask::jaccard(a, b), 1.0 / 3.0, 1e-12);
}

TEST(Jaccard, AnyNonZeroValueIsObject) {
  cv::Mat a = rectMask(kSize, cv::Rect(10, 10, 30, 30));
  cv::Mat b = a.clone();
  b.setTo(1, b); // 1 instead of 255
  EXPECT_DOUBLE_EQ(flagmask::jaccard(a, b), 1.0);
}

TEST(Jaccard, BothEmptyScoreOne) {
  const cv::Mat empty = cv::Mat::zeros(kSize, CV_8U);
  EXPECT_DOUBLE_EQ(flagmask::jaccard(empty, empty.clone()), 1.0);
}

TEST(Jaccard, OneEmptyScoresZero) {
  const cv::Mat empty = cv::Mat::zeros(kSize, CV_8U);
  const cv::Mat a = rectMask(kSize, cv::Rect(10, 10, 30, 30));
  EXPECT_DOUBLE_EQ(flagmask::jaccard(a, empty), 0.0);
  EXPECT_DOUBLE_EQ(flagmask::jaccard(empty, a), 0.0);
}

TEST(BoundaryF, IdenticalMasksScoreOne) {
  const cv::Mat a = rectMask(kSize, cv::Rect(40, 50, 80, 60));
  EXPECT_DOUBLE_EQ(flagmask::boundaryF(a, a.clone()), 1.0);
}

TEST(BoundaryF, OneEmptyScoresZero) {
  const cv::Mat empty = cv::Mat::zeros(kSize, CV_8U);
  const cv::Mat a = rectMask(kSize, cv::Rect(40, 50, 80, 60));
  EXPECT_DOUBLE_EQ(flagmask::boundaryF(a, empty), 0.0);
  EXPECT_DOUBLE_EQ(flagmask::boundaryF(empty, a), 0.0);
}

TEST(BoundaryF, BothEmptyScoreOne) {
  const cv::Mat empty = cv::Mat::zeros(kSize, CV_8U);
  EXPECT_DOUBLE_EQ(flagmask::boundaryF(empty, empty.clone()), 1.0);
}

TEST(BoundaryF, OnePixelShiftIsWithinTolerance) {
  // The tolerance on a 200x200 image is ceil(0.008 * 283) = 3 px.
  const cv::Mat truth = rectMask(kSize, cv::Rect(40, 50, 80, 60));
  const cv::Mat shifted = rectMask(kSize, cv::Rect(41, 51, 80, 60));
  EXPECT_DOUBLE_EQ(flagmask::boundaryF(shifted, truth), 1.0);
}

TEST(BoundaryF, ThirtyPixelShiftScoresLow) {
  const cv::Mat truth = rectMask(kSize, cv::Rect(40, 50, 80, 60));
  const cv::Mat shifted = rectMask(kSize, cv::Rect(70, 80, 80, 60));
  EXPECT_LT(flagmask::boundaryF(shifted, truth), 0.3);
}

TEST(BoundaryF, IsSymmetric) {
  const cv::Mat a = rectMask(kSize, cv::Rect(40, 50, 80, 60));
  const cv::Mat b = rectMask(kSize, cv::Rect(50, 45, 70, 90));
  EXPECT_DOUBLE_EQ(flagmask::boundaryF(a, b), flagmask::boundaryF(b, a));
}

TEST(SequenceMean, SkipsFirstAndLastFrame) {
  const std::vector<double> v = {0.0, 0.8, 0.6, 1.0, 0.0};
  EXPECT_DOUBLE_EQ(flagmask::sequenceMean(v), 0.8);
}

TEST(SequenceMean, ShortSequenceTakesEveryValue) {
  EXPECT_DOUBLE_EQ(flagmask::sequenceMean({0.2, 0.6}), 0.4);
  EXPECT_DOUBLE_EQ(flagmask::sequenceMean({0.7}), 0.7);
  EXPECT_DOUBLE_EQ(flagmask::sequenceMean({}), 0.0);
}

TEST(Decay, DecreasingSeriesIsPositive) {
  std::vector<double> j;
  for (int i = 0; i < 20; ++i)
    j.push_back(1.0 - 0.03 * i);
  EXPECT_GT(flagmask::decay(j), 0.0);
}

TEST(Decay, ConstantSeriesIsZero) {
  EXPECT_DOUBLE_EQ(flagmask::decay(std::vector<double>(12, 0.75)), 0.0);
}

TEST(Decay, IncreasingSeriesIsNegative) {
  std::vector<double> j;
  for (int i = 0; i < 20; ++i)
    j.push_back(0.4 + 0.02 * i);
  EXPECT_LT(flagmask::decay(j), 0.0);
}

} // namespace
