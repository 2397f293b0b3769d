// flagmask: sizes, boxes and masks between a frame's resolution and the working resolution the
// analysis runs at. The bottom layer of the core: everything above reduces, scales and brings back
// through these, so the element, the tools and the tests agree pixel for pixel.
#pragma once

#include <opencv2/core.hpp>

#include <string>

namespace flagmask {

// An image size as messages write it: WxH.
std::string sizeText(cv::Size size);

// box grown by margin pixels on every side, cut to an image of the given size.
inline cv::Rect grownBox(const cv::Rect &box, int margin, cv::Size size) {
  return (box + cv::Size(2 * margin, 2 * margin) - cv::Point(margin, margin)) &
         cv::Rect(cv::Point(0, 0), size);
}

// The shortest side the analysis runs at. OpenCV 4.6's DIS optical flow refuses images under 12
// pixels on a side and crashes on wide images only 12 to 15 pixels high; from 16 it works at any
// width.
constexpr int kMinWorkingSide = 16;

// The working-resolution size for a frame: the longer side scaled to at most max_side (never up
// otherwise), then each side at least kMinWorkingSide (a tiny frame is analysed enlarged).
cv::Size workingSize(cv::Size frame, int max_side);

// An image (or one plane) brought down to the working size with area averaging; the image itself
// when it is that size already. Everything that feeds the tracker reduces through this one.
cv::Mat reduceToWorking(const cv::Mat &image, cv::Size working);

// A box in an image of size from, scaled to the same place in an image of size to: the smallest
// box there that covers it, clipped to the image (empty stays empty).
cv::Rect scaleRect(const cv::Rect &r, cv::Size from, cv::Size to);

// Scales a mask (non-zero = object) to size with nearest-neighbour sampling: CV_8U 0/255.
cv::Mat resizeMask(const cv::Mat &mask, cv::Size size);

// Brings a working-resolution mask (CV_8U, 255 = object) to size with smooth edges: bilinear
// interpolation, then a cut at half. The seed mask reaches the working size through it.
cv::Mat upscaleMask(const cv::Mat &mask, cv::Size size);

} // namespace flagmask
