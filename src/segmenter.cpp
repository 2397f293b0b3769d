#include "segmenter.h"

#include "error.h"
#include "scale.h"

#include <opencv2/imgproc.hpp>
#include <opencv2/video/tracking.hpp>

#include <algorithm>
#include <optional>

namespace flagmask {

namespace {

// The centre of a working-size mask's object pixels, in the frame's pixels; none when it has none.
std::optional<cv::Point2d> objectCentre(const cv::Mat &mask, cv::Size frame) {
  const cv::Moments m = cv::moments(mask, true);
  if (m.m00 <= 0)
    return std::nullopt;
  return cv::Point2d((m.m10 / m.m00 + 0.5) * frame.width / mask.cols - 0.5,
                     (m.m01 / m.m00 + 0.5) * frame.height / mask.rows - 0.5);
}

// mask moved by shift whole pixels: what leaves the frame is lost, where nothing came is 0.
cv::Mat shiftedMask(const cv::Mat &mask, cv::Point shift) {
  cv::Mat out = cv::Mat::zeros(mask.size(), mask.type());
  const cv::Rect whole(cv::Point(), mask.size());
  const cv::Rect to = (whole + shift) & whole;
  if (!to.empty())
    mask(to - shift).copyTo(out(to));
  return out;
}

} // namespace

Segmenter::Segmenter(const SegmenterParams &params) : tracker_(params) {
  setParams(params);
}

void Segmenter::setParams(const SegmenterParams &params) {
  tracker_.setParams(params);
  const int keep_size = params_.working_size;
  params_ = params;
  if (started())
    params_.working_size = keep_size;
}

void Segmenter::begin(cv::Size frame) {
  frame_size_ = frame;
  working_size_ = workingSize(frame, params_.working_size);
}

Result Segmenter::seed(const FrameView &frame, const cv::Mat &mask) {
  return startFrom(frame, mask, false);
}

Result Segmenter::key(const FrameView &frame, const cv::Mat &mask) {
  return startFrom(frame, mask, true);
}

Result Segmenter::startFrom(const FrameView &frame, const cv::Mat &mask, bool key) {
  if (mask.empty() || mask.type() != CV_8UC1)
    throw Error("flagmask: the seed mask must be a non-empty 8-bit single-channel image");
  begin(frame.size());
  const cv::Mat full_seed = resizeMask(mask, frame_size_);
  const cv::Mat working_seed = upscaleMask(full_seed, working_size_);
  const cv::Mat small = workingImage(frame, working_size_, &last_luma_);
  Result r = key ? tracker_.key(small, working_seed) : tracker_.seed(small, working_seed);
  last_small_mask_ = working_seed;
  r.mask = full_seed; // the seed frame's answer is the seed, exactly
  r.box = scaleRect(r.box, working_size_, frame_size_);
  remember(r, objectCentre(working_seed, frame_size_), true);
  return r;
}

// The state lives at one frame size: another needs a reset first.
void Segmenter::checkSameSize(const FrameView &frame) const {
  if (frame.size() != frame_size_)
    throw Error("flagmask: the frame size changed from " + sizeText(frame_size_) + " to " +
                sizeText(frame.size()) + " without a reset");
}

Result Segmenter::process(const FrameView &frame) {
  if (started())
    checkSameSize(frame);
  if (!started())
    begin(frame.size());
  Result r = tracker_.process(workingImage(frame, working_size_, &guide_small_));
  last_luma_ = guide_small_; // shared: only the next analysed frame rewrites it, and replaces this
  last_small_mask_ = r.mask;
  const std::optional<cv::Point2d> centre = objectCentre(r.mask, frame_size_);
  r.mask = fullMask(r.mask, frame);
  r.box = scaleRect(r.box, working_size_, frame_size_);
  remember(r, centre, false);
  return r;
}

Result Segmenter::carry(const FrameView &frame) {
  if (last_.mask.empty())
    throw Error("flagmask: no frame was analysed yet, there is no mask to carry");
  checkSameSize(frame);
  ++since_analysed_;
  const cv::Point2d moved = objectMotion(frame).value_or(velocity_ * since_analysed_);
  const cv::Point shift(cvRound(moved.x), cvRound(moved.y));
  Result r = last_;
  r.probability = cv::Mat(); // nothing was analysed
  if (shift == cv::Point())
    return r;
  r.mask = shiftedMask(last_.mask, shift);
  r.box = (last_.box + shift) & cv::Rect(cv::Point(), frame_size_);
  r.area = r.box.empty() ? 0.0 : cv::countNonZero(r.mask(r.box)) / double(frame_size_.area());
  return r;
}

// How far the object moved from the last analysed frame to this one, in frame pixels: the median
// move of corners on the object, followed by pyramidal Lucas-Kanade at the working size (the
// median ignores the corners that slid onto the background). None when the object has too few
// corners to tell. A translation: a similarity fitted to the corners moved the mask worse on the
// dev sequences (docs/performance.md, "Under load").
std::optional<cv::Point2d> Segmenter::objectMotion(const FrameView &frame) {
  constexpr int kMostCorners = 80, kFewestCorners = 5, kPyramidLevels = 3, kReach = 24;
  constexpr double kCornerQuality = 0.01, kCornerSpacing = 4;
  const cv::Size kWindow(15, 15);
  if (!corners_found_) { // once per analysed frame, at its first carried one
    cv::goodFeaturesToTrack(last_luma_, corners_, kMostCorners, kCornerQuality, kCornerSpacing,
                            last_small_mask_);
    corners_found_ = true;
  }
  if (static_cast<int>(corners_.size()) < kFewestCorners)
    return std::nullopt;
  // Only the object's neighbourhood of the new frame is reduced and followed: the corners' box
  // grown by the farthest the object is followed (half its size, at least kReach pixels).
  const cv::Rect corners_box = cv::boundingRect(corners_);
  const int reach = std::max(kReach, std::max(corners_box.width, corners_box.height) / 2);
  const cv::Rect around = grownBox(corners_box, reach, working_size_);
  const cv::Mat luma = workingGuide(frame, working_size_, around);
  std::vector<cv::Point2f> from(corners_.size()), moved;
  for (size_t i = 0; i < corners_.size(); ++i)
    from[i] = corners_[i] - cv::Point2f(around.tl());
  std::vector<uchar> found;
  std::vector<float> error;
  cv::calcOpticalFlowPyrLK(last_luma_(around), luma, from, moved, found, error, kWindow,
                           kPyramidLevels);
  std::vector<float> dx, dy;
  for (size_t i = 0; i < corners_.size(); ++i)
    if (found[i]) {
      dx.push_back(moved[i].x - from[i].x);
      dy.push_back(moved[i].y - from[i].y);
    }
  if (static_cast<int>(dx.size()) < kFewestCorners)
    return std::nullopt;
  const auto median = [](std::vector<float> &v) {
    std::nth_element(v.begin(), v.begin() + v.size() / 2, v.end());
    return static_cast<double>(v[v.size() / 2]);
  };
  return cv::Point2d(median(dx) * frame_size_.width / working_size_.width,
                     median(dy) * frame_size_.height / working_size_.height);
}

// The object's motion per frame is the move of its centre between the last two analysed frames;
// a seed or a frame without the object starts it again from rest.
void Segmenter::remember(const Result &r, std::optional<cv::Point2d> centre, bool seeded) {
  velocity_ = !seeded && has_centre_ && centre
                  ? (*centre - centre_) / static_cast<double>(since_analysed_ + 1)
                  : cv::Point2d();
  has_centre_ = centre.has_value();
  if (centre)
    centre_ = *centre;
  since_analysed_ = 0;
  last_ = r;
  corners_.clear();
  corners_found_ = false;
}

Result Segmenter::seed(const cv::Mat &frame_bgr, const cv::Mat &mask) {
  return seed(FrameView::fromBgr(frame_bgr), mask);
}

Result Segmenter::key(const cv::Mat &frame_bgr, const cv::Mat &mask) {
  return key(FrameView::fromBgr(frame_bgr), mask);
}

Result Segmenter::process(const cv::Mat &frame_bgr) {
  return process(FrameView::fromBgr(frame_bgr));
}

Result Segmenter::carry(const cv::Mat &frame_bgr) {
  return carry(FrameView::fromBgr(frame_bgr));
}

// Only a mask from a reduced frame comes back along the frame's edges; a frame under
// kMinWorkingSide on a side was enlarged for the analysis, and its mask is simply scaled back.
bool Segmenter::guidedBack() const {
  return working_size_ != frame_size_ && working_size_.width <= frame_size_.width &&
         working_size_.height <= frame_size_.height;
}

// The working-resolution mask at the frame's size, its boundary following the frame's own edges.
cv::Mat Segmenter::fullMask(const cv::Mat &mask, const FrameView &frame) {
  if (mask.size() == frame_size_)
    return mask.clone(); // the tracker keeps its mask for the next frame
  if (!guidedBack())
    return upscaleMask(mask, frame_size_);
  cv::Mat out;
  const Guide guide = fullGuide(frame);
  upsampler_.upsample(mask, guide_small_, guide.plane, guide.channel, out);
  return out;
}

} // namespace flagmask
