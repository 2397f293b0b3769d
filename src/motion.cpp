#include "motion.h"

#include "parallel.h"

#include <opencv2/calib3d.hpp>

#include <algorithm>
#include <array>
#include <cmath>
#include <numeric>
#include <vector>

namespace flagmask {
namespace {

// Background samples for the homography, every N pixels (6 cost 0.7 ms more a frame at 480x270
// for the same J&F on the dev split).
constexpr int kSampleStep = 8;
constexpr int kMinSamples = 20;                  // fewer background samples: no evidence
constexpr double kInlierPixels = 1.0;            // inlier tolerance of the homography
constexpr int kBins = 16;                        // residual histogram bins over [0, kMaxResidual)
constexpr float kMaxResidual = 8.f;              // pixels; larger residuals share the last bin
constexpr float kInside = 0.9f, kOutside = 0.1f; // carried probability that counts as in / out

int residualBin(float r) {
  return std::min(kBins - 1, static_cast<int>(r * (kBins / kMaxResidual)));
}

// The camera's motion: a homography mapping current pixels to where the background came from.
// USAC_FAST rather than the classic RANSAC: 0.3 ms instead of 1.3 ms a frame at 480x270 (the
// classic one spent most of a frame's motion evidence here). On the dev split only boat moves
// (0.520 -> 0.507); the mean goes 0.7506 -> 0.7501, flicker 0.0052 -> 0.0053.
cv::Mat backgroundHomography(const cv::Mat &flow, const cv::Mat &carried) {
  std::vector<cv::Point2f> from, to;
  for (int y = kSampleStep / 2; y < carried.rows; y += kSampleStep)
    for (int x = kSampleStep / 2; x < carried.cols; x += kSampleStep)
      if (carried.at<float>(y, x) < kOutside) {
        const cv::Point2f f = flow.at<cv::Point2f>(y, x);
        from.emplace_back(static_cast<float>(x), static_cast<float>(y));
        to.emplace_back(x + f.x, y + f.y);
      }
  if (static_cast<int>(from.size()) < kMinSamples)
    return cv::Mat();
  return cv::findHomography(from, to, cv::USAC_FAST, kInlierPixels);
}

// Distance between each pixel's flow and the camera's motion, in pixels. Written as plain float
// arithmetic: with std::hypot and double division per pixel this loop took over half of
// motionEvidence's time.
cv::Mat residualMotion(const cv::Mat &flow, const cv::Mat &homography) {
  cv::Matx33f h;
  homography.convertTo(h, CV_32F);
  cv::Mat residual(flow.size(), CV_32F);
  forRows(flow.rows, [&](int y) {
    const cv::Point2f *f = flow.ptr<cv::Point2f>(y);
    float *r = residual.ptr<float>(y);
    const float fy = static_cast<float>(y);
    for (int x = 0; x < flow.cols; ++x) {
      const float fx = static_cast<float>(x);
      const float w = 1.0f / (h(2, 0) * fx + h(2, 1) * fy + h(2, 2));
      const float dx = fx + f[x].x - (h(0, 0) * fx + h(0, 1) * fy + h(0, 2)) * w;
      const float dy = fy + f[x].y - (h(1, 0) * fx + h(1, 1) * fy + h(1, 2)) * w;
      r[x] = std::sqrt(dx * dx + dy * dy);
    }
  });
  return residual;
}

// P(object | residual bin) from residual histograms inside and outside the carried object, pulled
// towards 0.5 by strength.
std::array<float, kBins> residualPosterior(const cv::Mat &residual, const cv::Mat &carried,
                                           double strength) {
  std::array<double, kBins> inside, outside;
  inside.fill(1.0); // one pseudo-count per bin: an empty bin is neutral
  outside.fill(1.0);
  for (int y = 0; y < carried.rows; y += 2)
    for (int x = 0; x < carried.cols; x += 2) {
      const float c = carried.at<float>(y, x);
      if (c > kInside)
        inside[residualBin(residual.at<float>(y, x))] += 1;
      else if (c < kOutside)
        outside[residualBin(residual.at<float>(y, x))] += 1;
    }
  const double ni = std::accumulate(inside.begin(), inside.end(), 0.0);
  const double no = std::accumulate(outside.begin(), outside.end(), 0.0);
  std::array<float, kBins> posterior;
  for (int i = 0; i < kBins; ++i) {
    const double pi = inside[i] / ni, po = outside[i] / no;
    posterior[i] = static_cast<float>(0.5 + (pi / (pi + po) - 0.5) * strength);
  }
  return posterior;
}

} // namespace

cv::Mat motionEvidence(const cv::Mat &flow, const cv::Mat &carried, double strength) {
  CV_Assert(flow.type() == CV_32FC2 && carried.type() == CV_32F && flow.size() == carried.size());
  if (strength <= 0)
    return cv::Mat();
  const cv::Mat homography = backgroundHomography(flow, carried);
  if (homography.empty())
    return cv::Mat();
  const cv::Mat residual = residualMotion(flow, homography);
  const std::array<float, kBins> posterior = residualPosterior(residual, carried, strength);
  cv::Mat evidence(carried.size(), CV_32F);
  forRows(residual.rows, [&](int y) {
    const float *r = residual.ptr<float>(y);
    float *e = evidence.ptr<float>(y);
    for (int x = 0; x < residual.cols; ++x)
      e[x] = posterior[residualBin(r[x])];
  });
  return evidence;
}

} // namespace flagmask
