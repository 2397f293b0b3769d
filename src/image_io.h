// flagmask: reading masks and frames with errors a user can act on.
#pragma once

#include <opencv2/core.hpp>

#include <string>

namespace flagmask {

// Reads a mask image: any format cv::imread knows, grey, colour or with alpha; a pixel is object
// when any colour channel is non-zero. Result: CV_8U, 255 = object, 0 = background.
// Throws Error naming the file when it is missing, unreadable, not an image or (when
// require_object) has no object pixel. Ground-truth masks may be empty: pass false.
cv::Mat loadMask(const std::string &path, bool require_object = true);

// Reads an 8-bit BGR frame; throws Error naming the file when it cannot.
cv::Mat loadFrame(const std::string &path);

// Scales a mask (non-zero = object) to size with nearest-neighbour sampling: CV_8U 0/255.
cv::Mat resizeMask(const cv::Mat &mask, cv::Size size);

} // namespace flagmask
