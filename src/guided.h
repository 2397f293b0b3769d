// flagmask: the colour guided filter (He, Sun and Tang), and a guided upsampling of a mask.
#pragma once

#include <opencv2/core.hpp>

#include <array>
#include <vector>

namespace flagmask {

// Filters a probability map (CV_32F) guided by a colour image (CV_8UC3 of the same size): the
// output follows the guide's edges. Gives the same result as cv::ximgproc::guidedFilter, but
// keeps its working images from call to call: a tracker filters a frame of the same size every
// time, and allocating the twenty-odd images anew each frame cost as much again as the filtering
// (fresh pages from the kernel, each faulted in).
class GuidedFilter {
public:
  // radius: of the window; eps: regularisation in the guide's units squared (8-bit levels).
  // subsample: 1 for the exact filter; 2 fits the local models on the images halved (with the
  // radius halved) and brings them back: He and Sun's fast guided filter, which approximates the
  // exact one.
  GuidedFilter(int radius, double eps, int subsample = 1);

  void filter(const cv::Mat &guide_bgr, const cv::Mat &p, cv::Mat &out);
  // Two maps filtered by the same guide: each gives what filter() gives, and the guide's
  // statistics are computed once (about a third of the work of a second filter()).
  void filterPair(const cv::Mat &guide_bgr, const cv::Mat &p, const cv::Mat &q, cv::Mat &out_p,
                  cv::Mat &out_q);

private:
  struct Workspace {
    cv::Mat backing;
    cv::Mat view(cv::Size size, int type);
  };
  static constexpr int kMaxInputs = 2;
  using Inputs = std::vector<const cv::Mat *>;
  void filterInputs(const cv::Mat &guide_bgr, const Inputs &inputs,
                    const std::vector<cv::Mat *> &outputs);
  void filterReduced(const cv::Mat &guide_bgr, const Inputs &inputs,
                     const std::vector<cv::Mat *> &outputs);
  void fitCoefficients(const cv::Mat &guide, const Inputs &inputs, int radius,
                       std::array<cv::Mat, kMaxInputs> &ab);

  // The window means: the guide's 9 in three images (4, 4 and 1 channels), then 4 per input.
  static constexpr int kGuideStacks = 3;
  static constexpr int kStacks = kGuideStacks + kMaxInputs;

  int radius_;
  int subsample_;
  float eps_; // in units of (1/255)^2: the guide is scaled to [0, 1]
  // Working images, kept from call to call.
  Workspace guide_, reduced_bgr_;
  std::array<Workspace, kMaxInputs> reduced_inputs_, ab_, mean_ab_, full_ab_;
  std::array<Workspace, kStacks> stacks_, means_;
};

// Brings a mask decided at working resolution to the full frame with its boundary following the
// full-resolution image: a grey guided filter's local linear models (guide ~ mask) are fitted at
// working resolution and applied to the full-resolution guide (He and Sun's fast guided filter),
// then cut at half. Only pixels near the mask's boundary are computed this way; the rest take the
// mask's value, so the cost grows with the boundary's length, not the frame's area.
class GuidedUpsampler {
public:
  // The defaults measured best on the DAVIS dev split (radius 1-2, eps 0.0002-0.001: J&F 0.740;
  // eps 0.01: 0.738-0.739; radius 3: 0.734).
  explicit GuidedUpsampler(int radius = 1, double eps = 0.001 * 255 * 255);

  // mask: CV_8U at working resolution (non-zero = object). guide_small: CV_8U, the guide channel
  // reduced to the mask's size. guide_full: the full-resolution image (CV_8UC1..4); channel says
  // which of its channels is the guide (e.g. the Y plane, or G of a packed RGB frame). out:
  // CV_8U at guide_full's size, 255 = object.
  void upsample(const cv::Mat &mask, const cv::Mat &guide_small, const cv::Mat &guide_full,
                int channel, cv::Mat &out);

private:
  void fitCoefficients(const cv::Mat &mask, const cv::Mat &guide_small);
  void refineRow(int yw, int y_begin, int y_end, cv::Point origin, const cv::Mat &guide_full,
                 int channel, cv::Mat &out) const;

  int radius_;
  float eps_;
  // Working images of the region around the boundary, kept from call to call.
  cv::Mat p_, i_, mean_i_, mean_p_, mean_ii_, mean_ip_, a_, b_, mean_a_, mean_b_, product_;
  cv::Mat grown_, shrunk_;
  // Where full-resolution pixel i of a line falls between working-resolution pixels: the two
  // neighbours and the weight of the second (centres aligned, clamped at the border).
  struct Tap {
    int lo, hi;
    float w;
  };
  static std::vector<Tap> taps(int full, int small);
  // The taps of every full-resolution column and row, kept while the sizes stay the same.
  std::vector<Tap> col_taps_, row_taps_;
  cv::Size taps_for_;
};

} // namespace flagmask
