// flagmask: the colour guided filter (He, Sun and Tang), optionally in its fast subsampled form.
#pragma once

#include <opencv2/core.hpp>

#include <array>

namespace flagmask {

// Filters a probability map (CV_32F) guided by a colour image (CV_8UC3 of the same size): the
// output follows the guide's edges. Gives the same result as cv::ximgproc::guidedFilter, but
// keeps its working images from call to call: a tracker filters a frame of the same size every
// time, and allocating the twenty-odd images anew each frame cost as much again as the filtering
// (fresh pages from the kernel, each faulted in).
class GuidedFilter {
public:
  // radius: of the window; eps: regularisation in the guide's units squared (8-bit levels);
  // subsample: the local linear models are fitted on images reduced by this factor and applied to
  // the full-resolution guide (He and Sun's fast guided filter; 1 = the exact filter).
  GuidedFilter(int radius, double eps, int subsample = 1);

  void filter(const cv::Mat &guide_bgr, const cv::Mat &p, cv::Mat &out);

private:
  struct Workspace {
    cv::Mat backing;
    cv::Mat view(cv::Size size, int type);
  };
  void fitCoefficients(const cv::Mat &guide, const cv::Mat &p, int radius, cv::Mat &a, cv::Mat &b);

  int radius_, subsample_;
  float eps_; // in units of (1/255)^2: the guide is scaled to [0, 1]
  // Working images, kept from call to call.
  Workspace guide_, guide_small_, p_small_, channels_[3], product_, a_, b_, mean_a_, mean_b_,
      a_full_, b_full_;
  std::array<Workspace, 13> means_;
};

} // namespace flagmask
