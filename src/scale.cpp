#include "scale.h"

#include <opencv2/imgproc.hpp>

#include <algorithm>
#include <cmath>

namespace flagmask {

std::string sizeText(cv::Size size) {
  return std::to_string(size.width) + "x" + std::to_string(size.height);
}

namespace {

cv::Size reducedSize(cv::Size frame, int max_side) {
  const int longer = std::max(frame.width, frame.height);
  if (longer <= max_side || longer == 0)
    return frame;
  const double scale = static_cast<double>(max_side) / longer;
  return cv::Size(std::max(1, static_cast<int>(std::lround(frame.width * scale))),
                  std::max(1, static_cast<int>(std::lround(frame.height * scale))));
}

} // namespace

cv::Size workingSize(cv::Size frame, int max_side) {
  const cv::Size reduced = reducedSize(frame, max_side);
  return cv::Size(std::max(reduced.width, kMinWorkingSide),
                  std::max(reduced.height, kMinWorkingSide));
}

cv::Mat reduceToWorking(const cv::Mat &image, cv::Size working) {
  if (image.size() == working)
    return image;
  cv::Mat small;
  cv::resize(image, small, working, 0, 0, cv::INTER_AREA);
  return small;
}

cv::Rect scaleRect(const cv::Rect &r, cv::Size from, cv::Size to) {
  if (r.empty())
    return {};
  const double sx = static_cast<double>(to.width) / from.width;
  const double sy = static_cast<double>(to.height) / from.height;
  const int x0 = static_cast<int>(std::floor(r.x * sx)),
            y0 = static_cast<int>(std::floor(r.y * sy));
  const int x1 = static_cast<int>(std::ceil(r.br().x * sx)),
            y1 = static_cast<int>(std::ceil(r.br().y * sy));
  return cv::Rect(x0, y0, x1 - x0, y1 - y0) & cv::Rect(0, 0, to.width, to.height);
}

cv::Mat resizeMask(const cv::Mat &mask, cv::Size size) {
  cv::Mat binary = mask != 0;
  if (binary.size() == size)
    return binary;
  cv::Mat out;
  cv::resize(binary, out, size, 0, 0, cv::INTER_NEAREST);
  return out;
}

cv::Mat upscaleMask(const cv::Mat &mask, cv::Size size) {
  if (mask.size() == size)
    return mask > 127;
  cv::Mat up;
  cv::resize(mask, up, size, 0, 0, cv::INTER_LINEAR);
  return up > 127;
}

} // namespace flagmask
