#include "segmenter.h"

#include "error.h"
#include "scale.h"

namespace flagmask {

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
  if (mask.empty() || mask.type() != CV_8UC1)
    throw Error("flagmask: the seed mask must be a non-empty 8-bit single-channel image");
  begin(frame.size());
  const cv::Mat full_seed = resizeMask(mask, frame_size_);
  Result r =
      tracker_.seed(workingImage(frame, working_size_), upscaleMask(full_seed, working_size_));
  r.mask = full_seed; // the seed frame's answer is the seed, exactly
  r.box = scaleRect(r.box, working_size_, frame_size_);
  return r;
}

Result Segmenter::process(const FrameView &frame) {
  if (started() && frame.size() != frame_size_)
    throw Error("flagmask: the frame size changed from " + sizeText(frame_size_) + " to " +
                sizeText(frame.size()) + " without a reset");
  if (!started())
    begin(frame.size());
  const bool upsampled = guidedBack();
  Result r =
      tracker_.process(workingImage(frame, working_size_, upsampled ? &guide_small_ : nullptr));
  r.mask = fullMask(r.mask, frame);
  r.box = scaleRect(r.box, working_size_, frame_size_);
  return r;
}

Result Segmenter::seed(const cv::Mat &frame_bgr, const cv::Mat &mask) {
  return seed(FrameView::fromBgr(frame_bgr), mask);
}

Result Segmenter::process(const cv::Mat &frame_bgr) {
  return process(FrameView::fromBgr(frame_bgr));
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
