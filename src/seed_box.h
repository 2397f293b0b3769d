// flagmask: a seed mask from a box around the object, for users who cannot paint a mask.
#pragma once

#include <opencv2/core.hpp>

#include <string>
#include <vector>

namespace flagmask {

// A box narrower or lower than this gives grabCut too few pixels to model the object's colours.
constexpr int kMinBoxSide = 8;
// Pixels of background the box must leave around it (inside the frame) for grabCut to learn the
// background's colours from.
constexpr int kMinBackgroundPixels = 256;
// grabCut runs on the box and its surroundings scaled so that their longer side is at most this:
// it bounds the cost on large frames; the mask is scaled back with smooth edges.
constexpr int kBoxSeedMaxSide = 640;
constexpr int kDefaultBoxSeedIterations = 5;

// Cuts the object out of box on an 8-bit BGR frame with cv::grabCut (GC_INIT_WITH_RECT) and returns
// its mask at the frame's size: CV_8U, 255 = object, 0 = background.
//
// Why grabCut: a box is exactly its input, it needs no trained model or data (it learns colour
// mixtures of the object inside the box and of the background outside it), and its graph cut
// follows the image's edges, so the mask hugs the object rather than the box. It is in OpenCV's
// imgproc, which the core already needs. It is slow for a per-frame filter (the GStreamer
// `grabcut` element shows it) but it runs here once, on the seed frame.
//
// Cost: it runs on the box grown by a quarter of its size on every side (at least 16 pixels),
// scaled down to kBoxSeedMaxSide; each iteration refits the mixtures and solves one max-flow.
// Measured with 5 iterations on the synthetic flag (one core of a 2-core machine): 0.1 s for a
// 252x117 box on a 480x270 frame, 0.3 s for a 1008x471 box on 1920x1080 (worked at 640 pixels);
// beyond that the cost no longer grows with the frame or the box.
//
// Throws Error, saying what to do, when the frame is not 8-bit BGR, the box is not inside the
// frame, is smaller than kMinBoxSide, leaves fewer than kMinBackgroundPixels of the frame around
// it, or grabCut finds no object in it.
cv::Mat maskFromBox(const cv::Mat &frame_bgr, const cv::Rect &box,
                    int iterations = kDefaultBoxSeedIterations);

// A cut-out covering more of its box than this share may have taken background with the object.
constexpr double kMaxCutoutShare = 0.5;

// What the user should check in a seed mask maskFromBox cut from box on a frame of the given size,
// one sentence each (empty when nothing): a box touching the frame's edge (grabCut learns the
// background only from around the box, so background the edge cuts off, such as the sea under a
// kite in a box on the top edge, can be taken for the object), and a cut-out covering more than
// kMaxCutoutShare of the box.
std::vector<std::string> boxSeedWarnings(const cv::Rect &box, cv::Size frame, const cv::Mat &mask);

// Reads a box written "x,y,w,h" (pixels, non-negative integers). Throws Error quoting text.
cv::Rect parseBox(const std::string &text);

// "x,y,w,h", the form parseBox reads, for messages.
std::string boxText(const cv::Rect &box);

} // namespace flagmask
