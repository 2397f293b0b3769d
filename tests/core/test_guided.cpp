// GuidedFilter: the colour guided filter the tracker refines its probability with.
#include "guided.h"

#include <gtest/gtest.h>
#include <opencv2/imgproc.hpp>
#ifdef FLAGMASK_HAVE_XIMGPROC
#include <opencv2/ximgproc/edge_filter.hpp>
#endif

namespace {

constexpr int kRadius = 4;
constexpr double kEps = 0.005 * 255 * 255;

// A colour image with a sharp-edged disc, and a blurry, shifted probability of that disc.
void discScene(cv::Size size, cv::Mat &guide, cv::Mat &probability) {
  guide.create(size, CV_8UC3);
  cv::randu(guide, cv::Scalar::all(40), cv::Scalar::all(90));
  const cv::Point centre(size.width / 2, size.height / 2);
  const int radius = std::min(size.width, size.height) / 4;
  cv::circle(guide, centre, radius, cv::Scalar(30, 200, 220), cv::FILLED);
  probability = cv::Mat::zeros(size, CV_32F);
  cv::circle(probability, centre + cv::Point(3, 2), radius, cv::Scalar(1.0), cv::FILLED);
  cv::GaussianBlur(probability, probability, cv::Size(0, 0), 4.0);
}

double disagreement(const cv::Mat &a, const cv::Mat &b) {
  return cv::norm(a, b, cv::NORM_INF);
}

} // namespace

TEST(GuidedFilter, SnapsABlurryProbabilityToTheGuidesEdge) {
  cv::Mat guide, probability, out;
  discScene(cv::Size(160, 120), guide, probability);
  flagmask::GuidedFilter(kRadius, kEps).filter(guide, probability, out);
  cv::Mat truth = cv::Mat::zeros(guide.size(), CV_8U);
  cv::circle(truth, cv::Point(80, 60), 30, cv::Scalar(255), cv::FILLED);
  const auto wrong = [&](const cv::Mat &p) { return cv::countNonZero((p > 0.5) != truth); };
  EXPECT_LT(wrong(out), wrong(probability) / 2);
}

TEST(GuidedFilter, ReusedForSmallerRegionsGivesWhatAFreshFilterGives) {
  cv::Mat guide, probability;
  discScene(cv::Size(200, 150), guide, probability);
  flagmask::GuidedFilter reused(kRadius, kEps);
  cv::Mat out;
  reused.filter(guide, probability, out); // leaves its workspace full of this frame's values
  for (const cv::Rect region : {cv::Rect(20, 10, 120, 90), cv::Rect(50, 40, 61, 47)}) {
    cv::Mat again, fresh;
    reused.filter(guide(region), probability(region), again);
    flagmask::GuidedFilter(kRadius, kEps)
        .filter(guide(region).clone(), probability(region).clone(), fresh);
    EXPECT_EQ(disagreement(again, fresh), 0.0) << region;
  }
}

TEST(GuidedFilter, PairGivesWhatTwoFiltersGive) {
  cv::Mat guide, p, q;
  discScene(cv::Size(160, 120), guide, p);
  cv::GaussianBlur(1.0 - p, q, cv::Size(0, 0), 2.0); // another map over the same guide
  flagmask::GuidedFilter pair(kRadius, kEps), single(kRadius, kEps);
  cv::Mat out_p, out_q, alone_p, alone_q;
  pair.filterPair(guide, p, q, out_p, out_q);
  single.filter(guide, p, alone_p);
  single.filter(guide, q, alone_q);
  EXPECT_EQ(disagreement(out_p, alone_p), 0.0);
  EXPECT_EQ(disagreement(out_q, alone_q), 0.0);
  EXPECT_GT(disagreement(out_p, out_q), 0.5); // two results, not one twice
}

#ifdef FLAGMASK_HAVE_XIMGPROC
TEST(GuidedFilter, MatchesOpenCVContribGuidedFilter) {
  cv::Mat guide, probability, ours, theirs;
  discScene(cv::Size(160, 120), guide, probability);
  flagmask::GuidedFilter(kRadius, kEps).filter(guide, probability, ours);
  cv::ximgproc::guidedFilter(guide, probability, theirs, kRadius, kEps);
  EXPECT_LT(disagreement(ours, theirs), 1e-3);
}
#endif

namespace {

// A full-resolution frame split by a vertical edge at edge_x, and the working-resolution mask of
// its right side (as a tracker at a quarter of the size would decide it).
void edgeScene(int edge_x, cv::Mat &full, cv::Mat &mask, cv::Mat &guide_small) {
  full.create(120, 160, CV_8U);
  cv::randu(full, cv::Scalar(30), cv::Scalar(50));
  full.colRange(edge_x, full.cols) += cv::Scalar(150);
  cv::resize(full, guide_small, cv::Size(40, 30), 0, 0, cv::INTER_AREA);
  mask = guide_small > 110;
}

int wrongPixels(const cv::Mat &out, int edge_x) {
  cv::Mat truth = cv::Mat::zeros(out.size(), CV_8U);
  truth.colRange(edge_x, out.cols).setTo(255);
  return cv::countNonZero(out != truth);
}

} // namespace

TEST(GuidedUpsampler, PutsTheBoundaryOnTheFullResolutionEdge) {
  // An edge between two working pixels' worth of full-resolution columns: the plain upscale puts
  // the boundary on the working grid, the guided one on the edge itself.
  for (int edge_x : {81, 82, 83}) {
    cv::Mat full, mask, guide_small, guided;
    edgeScene(edge_x, full, mask, guide_small);
    flagmask::GuidedUpsampler().upsample(mask, guide_small, full, 0, guided);
    cv::Mat plain;
    cv::resize(mask, plain, full.size(), 0, 0, cv::INTER_LINEAR);
    plain = plain > 127;
    EXPECT_EQ(wrongPixels(guided, edge_x), 0) << "edge at " << edge_x;
    EXPECT_GT(wrongPixels(plain, edge_x), 0) << "edge at " << edge_x;
  }
}

TEST(GuidedUpsampler, ReadsTheGuideFromTheChannelItIsGiven) {
  cv::Mat full, mask, guide_small, from_plane, from_packed;
  edgeScene(82, full, mask, guide_small);
  flagmask::GuidedUpsampler().upsample(mask, guide_small, full, 0, from_plane);
  // The same guide as the green channel of a BGRx frame whose other channels say otherwise.
  cv::Mat noise(full.size(), CV_8U), packed;
  cv::randu(noise, cv::Scalar(0), cv::Scalar(256));
  cv::merge(std::vector<cv::Mat>{noise, full, noise, noise}, packed);
  flagmask::GuidedUpsampler().upsample(mask, guide_small, packed, 1, from_packed);
  EXPECT_EQ(cv::countNonZero(from_plane != from_packed), 0);
}

TEST(GuidedUpsampler, AtTheSameSizeGivesTheMask) {
  cv::Mat full, mask, guide_small, out;
  edgeScene(82, full, mask, guide_small);
  flagmask::GuidedUpsampler().upsample(mask, guide_small, guide_small, 0, out);
  EXPECT_EQ(cv::countNonZero(out != mask), 0);
}

// The fast guided filter: the models fitted at half resolution, as the tracker runs it.
TEST(GuidedFilter, SubsampledSnapsToTheEdgeLikeTheExactFilter) {
  cv::Mat guide, probability, fast, exact;
  discScene(cv::Size(160, 120), guide, probability);
  flagmask::GuidedFilter(2, kEps, 2).filter(guide, probability, fast);
  flagmask::GuidedFilter(2, kEps).filter(guide, probability, exact);
  cv::Mat truth = cv::Mat::zeros(guide.size(), CV_8U);
  cv::circle(truth, cv::Point(80, 60), 30, cv::Scalar(255), cv::FILLED);
  const auto wrong = [&](const cv::Mat &p) { return cv::countNonZero((p > 0.5) != truth); };
  // On this noisy guide a radius of 2 mends less than the radius 4 above does, the fast filter no
  // less than the exact one of its radius, and it stays close to it.
  EXPECT_LT(wrong(fast), wrong(probability) * 3 / 4);
  EXPECT_LE(wrong(fast), wrong(exact));
  EXPECT_LT(cv::norm(fast, exact, cv::NORM_L1) / fast.total(), 0.01);
}

TEST(GuidedFilter, SubsampledHandlesOddSizesAndPairs) {
  cv::Mat guide, p, q;
  discScene(cv::Size(121, 77), guide, p);
  cv::GaussianBlur(1.0 - p, q, cv::Size(0, 0), 2.0);
  flagmask::GuidedFilter pair(2, kEps, 2), single(2, kEps, 2);
  cv::Mat out_p, out_q, alone_p, alone_q;
  pair.filterPair(guide, p, q, out_p, out_q);
  single.filter(guide, p, alone_p);
  single.filter(guide, q, alone_q);
  ASSERT_EQ(out_p.size(), guide.size());
  EXPECT_EQ(disagreement(out_p, alone_p), 0.0);
  EXPECT_EQ(disagreement(out_q, alone_q), 0.0);
  cv::Mat exact; // the odd last column and row are reduced like the rest
  flagmask::GuidedFilter(2, kEps).filter(guide, p, exact);
  EXPECT_LT(cv::norm(out_p, exact, cv::NORM_L1) / exact.total(), 0.01);
  EXPECT_LT(cv::norm(out_p.col(120), exact.col(120), cv::NORM_L1) / exact.rows, 0.02);
  EXPECT_LT(cv::norm(out_p.row(76), exact.row(76), cv::NORM_L1) / exact.cols, 0.02);
}
