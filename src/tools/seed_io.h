// flagmask tools: the frames the seeding tools (flagmask-train, flagmask-seed) read from videos and
// the masks they write.
#pragma once

#include <opencv2/core.hpp>

#include <string>

namespace flagmask::seedio {

// The frame of a video file at or just after `seconds` (0: the first frame) as 8-bit BGR. Throws
// Error naming the file and the reason when there is none.
cv::Mat videoFrameAt(const std::string &path, double seconds);

// Writes a mask image (any format OpenCV writes, by the extension) and says so on stderr. Throws
// Error naming the file and the reason when it cannot.
void writeMask(const cv::Mat &mask, const std::string &path);

} // namespace flagmask::seedio
