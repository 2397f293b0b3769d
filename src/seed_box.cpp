#include "seed_box.h"

#include "error.h"
#include "scale.h"

#include <opencv2/imgproc.hpp>

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <sstream>

namespace flagmask {
namespace {

void checkFrame(const cv::Mat &frame) {
  if (frame.empty() || frame.type() != CV_8UC3)
    throw Error("maskFromBox: the frame must be an 8-bit BGR image (3 channels), got " +
                (frame.empty() ? std::string("an empty image")
                               : std::to_string(frame.channels()) + " channel(s) of depth " +
                                     std::to_string(frame.depth())));
}

void checkBox(const cv::Rect &box, cv::Size frame) {
  const std::string where = "box " + boxText(box) + " on the " + sizeText(frame) + " frame";
  if (box.x < 0 || box.y < 0 || box.width <= 0 || box.height <= 0 ||
      box.x + box.width > frame.width || box.y + box.height > frame.height)
    throw Error(where + " is not inside the frame: give x,y,w,h with x+w <= " +
                std::to_string(frame.width) + " and y+h <= " + std::to_string(frame.height));
  if (box.width < kMinBoxSide || box.height < kMinBoxSide)
    throw Error(where + " is too small: draw it around the whole object, at least " +
                std::to_string(kMinBoxSide) + "x" + std::to_string(kMinBoxSide) + " pixels");
}

// The box grown by a quarter of its size (at least 16 pixels) on every side, within the frame:
// grabCut learns the background from this ring, the surroundings most like what borders the object.
cv::Rect surroundings(const cv::Rect &box, cv::Size frame) {
  const int dx = std::max(16, box.width / 4), dy = std::max(16, box.height / 4);
  const cv::Rect grown(box.x - dx, box.y - dy, box.width + 2 * dx, box.height + 2 * dy);
  return grown & cv::Rect(cv::Point(0, 0), frame);
}

void checkBackground(const cv::Rect &box, const cv::Rect &region, cv::Size frame) {
  const int background = region.area() - box.area();
  if (background < kMinBackgroundPixels)
    throw Error("box " + boxText(box) + " on the " + sizeText(frame) + " frame leaves " +
                std::to_string(background) + " pixels of background around it; grabCut needs " +
                std::to_string(kMinBackgroundPixels) +
                " to learn the background: leave a margin between the box and the frame's edges");
}

// The scale that brings the region's longer side down to kBoxSeedMaxSide (never up).
double workingScale(const cv::Rect &region) {
  return std::min(1.0, double(kBoxSeedMaxSide) / std::max(region.width, region.height));
}

cv::Rect scaled(const cv::Rect &r, double s) {
  const int x = cvRound(r.x * s), y = cvRound(r.y * s);
  return cv::Rect(x, y, std::max(1, cvRound((r.x + r.width) * s) - x),
                  std::max(1, cvRound((r.y + r.height) * s) - y));
}

// grabCut on the (scaled) region; returns its mask, 255 = object, at the region's scaled size.
cv::Mat grabCutRegion(const cv::Mat &image, const cv::Rect &box, int iterations) {
  cv::Mat labels(image.size(), CV_8U, cv::Scalar(cv::GC_BGD));
  cv::Mat bgd_model, fgd_model;
  // A fixed seed: grabCut initialises its mixtures with k-means, which draws from cv::theRNG().
  const cv::RNG saved = cv::theRNG();
  cv::theRNG() = cv::RNG(0x5eed);
  cv::grabCut(image, labels, box, bgd_model, fgd_model, iterations, cv::GC_INIT_WITH_RECT);
  cv::theRNG() = saved;
  return (labels == cv::GC_FGD) | (labels == cv::GC_PR_FGD);
}

} // namespace

cv::Mat maskFromBox(const cv::Mat &frame_bgr, const cv::Rect &box, int iterations) {
  checkFrame(frame_bgr);
  checkBox(box, frame_bgr.size());
  if (iterations < 1)
    throw Error("maskFromBox: iterations must be at least 1, got " + std::to_string(iterations));
  const cv::Rect region = surroundings(box, frame_bgr.size());
  checkBackground(box, region, frame_bgr.size());

  const double s = workingScale(region);
  cv::Mat image = frame_bgr(region);
  if (s < 1)
    cv::resize(image, image, scaled(cv::Rect(cv::Point(0, 0), region.size()), s).size(), 0, 0,
               cv::INTER_AREA);
  const cv::Mat cut = grabCutRegion(image, scaled(box - region.tl(), s), iterations);
  if (cv::countNonZero(cut) == 0)
    throw Error("grabCut found no object in box " + boxText(box) +
                ": draw the box closer around the object, or give a mask instead");

  cv::Mat mask = cv::Mat::zeros(frame_bgr.size(), CV_8U);
  cv::Mat up;
  // Bilinear, then a cut at half: smooth edges instead of the blocks nearest-neighbour would give.
  cv::resize(cut, up, region.size(), 0, 0, cv::INTER_LINEAR);
  mask(region).setTo(255, up > 127);
  return mask;
}

std::vector<std::string> boxSeedWarnings(const cv::Rect &box, cv::Size frame, const cv::Mat &mask) {
  std::vector<std::string> warnings;
  std::vector<std::string> edges;
  if (box.y <= 0)
    edges.push_back("top");
  if (box.y + box.height >= frame.height)
    edges.push_back("bottom");
  if (box.x <= 0)
    edges.push_back("left");
  if (box.x + box.width >= frame.width)
    edges.push_back("right");
  if (!edges.empty()) {
    std::string which = edges[0];
    for (size_t i = 1; i < edges.size(); ++i)
      which += (i + 1 == edges.size() ? " and " : ", ") + edges[i];
    warnings.push_back("box " + boxText(box) + " touches the frame's " + which + " edge" +
                       (edges.size() > 1 ? "s" : "") +
                       ": grabCut learns the background only from around the box, so background "
                       "the edge cuts off may be taken for the object; check the mask, leave a "
                       "margin, or give a mask instead");
  }
  const cv::Rect inside = box & cv::Rect(cv::Point(0, 0), frame);
  if (!inside.empty() && !mask.empty() && mask.size() == frame) {
    const double share = cv::countNonZero(mask(inside)) / static_cast<double>(inside.area());
    if (share > kMaxCutoutShare)
      warnings.push_back("the cut-out covers " + std::to_string(cvRound(100 * share)) +
                         " % of box " + boxText(box) +
                         ": check that it took no background with the object; a box drawn with "
                         "more margin, or a mask, helps");
  }
  return warnings;
}

cv::Rect parseBox(const std::string &text) {
  int v[4];
  const char *p = text.c_str();
  for (int i = 0; i < 4; ++i) {
    char *end = nullptr;
    if (!std::isdigit(static_cast<unsigned char>(*p)))
      break;
    const long n = std::strtol(p, &end, 10);
    if (n > 1 << 20)
      break;
    v[i] = static_cast<int>(n);
    p = end;
    if (i < 3 && *p++ != ',')
      break;
    if (i == 3 && *p == '\0')
      return cv::Rect(v[0], v[1], v[2], v[3]);
  }
  throw Error("box '" + text + "' is not x,y,w,h (four non-negative integers in pixels, " +
              "e.g. 120,40,200,150)");
}

std::string boxText(const cv::Rect &box) {
  std::ostringstream s;
  s << box.x << "," << box.y << "," << box.width << "," << box.height;
  return s.str();
}

} // namespace flagmask
