#include "eval/metrics.h"

#include <opencv2/imgproc.hpp>

#include <cmath>
#include <numeric>

namespace flagmask {
namespace {

// One-pixel-wide inner boundary: object pixels with a background 8-neighbour (or the image edge).
cv::Mat boundary(const cv::Mat &mask) {
  cv::Mat m = mask != 0, eroded;
  cv::erode(m, eroded, cv::Mat::ones(3, 3, CV_8U), cv::Point(-1, -1), 1, cv::BORDER_CONSTANT,
            cv::Scalar(0));
  return m & ~eroded;
}

double mean(std::vector<double>::const_iterator begin, std::vector<double>::const_iterator end) {
  if (begin == end)
    return 0.0;
  return std::accumulate(begin, end, 0.0) / static_cast<double>(end - begin);
}

} // namespace

double jaccard(const cv::Mat &prediction, const cv::Mat &truth) {
  CV_Assert(prediction.size() == truth.size());
  const cv::Mat p = prediction != 0, t = truth != 0;
  const int inter = cv::countNonZero(p & t);
  const int uni = cv::countNonZero(p | t);
  return uni == 0 ? 1.0 : static_cast<double>(inter) / uni;
}

double boundaryF(const cv::Mat &prediction, const cv::Mat &truth, double bound_th) {
  CV_Assert(prediction.size() == truth.size());
  const int r =
      std::max(1, static_cast<int>(std::ceil(bound_th * std::hypot(truth.rows, truth.cols))));
  const cv::Mat disk = cv::getStructuringElement(cv::MORPH_ELLIPSE, cv::Size(2 * r + 1, 2 * r + 1));
  const cv::Mat bp = boundary(prediction), bt = boundary(truth);
  const int np = cv::countNonZero(bp), nt = cv::countNonZero(bt);
  if (np == 0 && nt == 0)
    return 1.0;
  if (np == 0 || nt == 0)
    return 0.0;
  cv::Mat bp_near, bt_near;
  cv::dilate(bt, bt_near, disk);
  cv::dilate(bp, bp_near, disk);
  const double precision = static_cast<double>(cv::countNonZero(bp & bt_near)) / np;
  const double recall = static_cast<double>(cv::countNonZero(bt & bp_near)) / nt;
  return precision + recall == 0 ? 0.0 : 2 * precision * recall / (precision + recall);
}

double sequenceMean(const std::vector<double> &v) {
  if (v.size() <= 2)
    return mean(v.begin(), v.end());
  return mean(v.begin() + 1, v.end() - 1);
}

double decay(const std::vector<double> &per_frame_j) {
  std::vector<double> ev = per_frame_j;
  if (ev.size() > 2)
    ev = std::vector<double>(per_frame_j.begin() + 1, per_frame_j.end() - 1);
  if (ev.empty())
    return 0.0;
  const long q = std::max<long>(1, static_cast<long>(ev.size()) / 4);
  return mean(ev.begin(), ev.begin() + q) - mean(ev.end() - q, ev.end());
}

} // namespace flagmask
