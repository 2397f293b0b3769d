// flagmask: DAVIS 2016 region (J) and boundary (F) measures.
#pragma once

#include <opencv2/core.hpp>

#include <vector>

namespace flagmask {

// Intersection over union of two masks (non-zero = object); 1 when both are empty.
double jaccard(const cv::Mat &prediction, const cv::Mat &truth);

// Boundary F-measure: boundary pixels match within ceil(bound_th * image diagonal) pixels.
double boundaryF(const cv::Mat &prediction, const cv::Mat &truth, double bound_th = 0.008);

// The mean of per-frame values as DAVIS takes it: without the first frame (the seed) and the last.
double sequenceMean(const std::vector<double> &per_frame);

// Mean J over the first quarter of the evaluated frames minus the last quarter.
double decay(const std::vector<double> &per_frame_j);

} // namespace flagmask
