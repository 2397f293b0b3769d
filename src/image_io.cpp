#include "image_io.h"

#include "error.h"

#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include <fstream>

namespace flagmask {
namespace {

void checkReadable(const std::string &path, const char *what) {
  std::ifstream f(path, std::ios::binary);
  if (!f)
    throw Error(std::string("flagmask: could not read ") + what + " '" + path +
                "': the file does not exist or cannot be opened");
}

cv::Mat readImage(const std::string &path, int flags, const char *what) {
  checkReadable(path, what);
  cv::Mat image;
  try {
    image = cv::imread(path, flags);
  } catch (const cv::Exception &e) {
    throw Error(std::string("flagmask: could not decode ") + what + " '" + path + "': " + e.err);
  }
  if (image.empty())
    throw Error(std::string("flagmask: could not decode ") + what + " '" + path +
                "': not an image in a format OpenCV reads, or truncated");
  return image;
}

// Any non-zero colour channel marks the object; alpha is ignored (DAVIS ships a grey+alpha mask).
// Compared at the image's own depth, so a 16-bit label of 1 is an object too.
cv::Mat objectPixels(const cv::Mat &image) {
  if (image.channels() == 1)
    return image != 0;
  std::vector<cv::Mat> planes;
  cv::split(image, planes);
  cv::Mat any = planes[0] != 0;
  for (int c = 1; c < std::min(3, image.channels()); ++c)
    any |= planes[c] != 0;
  return any;
}

} // namespace

cv::Mat loadMask(const std::string &path, bool require_object) {
  const cv::Mat image = readImage(path, cv::IMREAD_UNCHANGED, "mask");
  cv::Mat mask = objectPixels(image);
  if (require_object && cv::countNonZero(mask) == 0)
    throw Error("flagmask: mask '" + path +
                "' has no object pixel (every pixel is zero): draw the object in a non-zero value");
  return mask;
}

cv::Mat loadFrame(const std::string &path) {
  return readImage(path, cv::IMREAD_COLOR, "frame");
}

cv::Mat resizeMask(const cv::Mat &mask, cv::Size size) {
  cv::Mat binary = mask != 0;
  if (binary.size() == size)
    return binary;
  cv::Mat out;
  cv::resize(binary, out, size, 0, 0, cv::INTER_NEAREST);
  return out;
}

} // namespace flagmask
