// flagmask: rectangle arithmetic shared by the steps that work only around the object.
#pragma once

#include <opencv2/core.hpp>

namespace flagmask {

// box grown by margin pixels on every side, cut to an image of the given size.
inline cv::Rect grownBox(const cv::Rect &box, int margin, cv::Size size) {
  return (box + cv::Size(2 * margin, 2 * margin) - cv::Point(margin, margin)) &
         cv::Rect(cv::Point(0, 0), size);
}

} // namespace flagmask
