// flagmask: evidence from motion, against the camera's own motion.
#pragma once

#include <opencv2/core.hpp>

namespace flagmask {

// Per-pixel object evidence in [0.5 - strength/2, 0.5 + strength/2] from how each pixel moves
// compared with the background. flow: CV_32FC2, current frame -> previous frame. carried: CV_32F,
// the object probability carried to the current frame (where the object is expected).
//
// The background's motion is fitted as one homography (the camera's motion, RANSAC over pixels
// outside the carried object); every pixel's residual from it is then scored by two histograms,
// inside and outside the carried object. When the object moves like the background the two agree
// and the evidence is neutral (0.5), so a still object costs nothing. Empty when the background
// gives too few samples or no homography.
cv::Mat motionEvidence(const cv::Mat &flow, const cv::Mat &carried, double strength);

} // namespace flagmask
