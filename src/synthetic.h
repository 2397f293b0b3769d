// flagmask: a synthetic waving flag with an exact mask, for tests and the demo.
#pragma once

#include <opencv2/core.hpp>

namespace flagmask {

struct SyntheticFrame {
  cv::Mat frame; // CV_8UC3 BGR
  cv::Mat mask;  // CV_8U, 255 = flag cloth, 0 = rest (the pole is background)
};

// Frame t of a deterministic scene: a striped flag on a pole waving in front of a textured
// background that drifts slowly (a panning camera). Same t, same pixels.
SyntheticFrame syntheticFlag(int t, cv::Size size = cv::Size(320, 240));

} // namespace flagmask
