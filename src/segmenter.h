// flagmask: the one entry point for a video frame. A frame's planes go in (packed RGB with or
// without alpha, I420 or NV12, with their strides); the object's mask at the frame's size, its box
// in frame pixels and the frame's facts come out. Reducing the frame to the working size, scaling
// the seed to it and bringing the mask back along the frame's own edges all happen here, so the
// element, flagmask-eval and the benchmarks run one and the same frame path.
#pragma once

#include "frame.h"
#include "guided.h"
#include "params.h"
#include "tracker.h"

#include <opencv2/core.hpp>

#include <functional>
#include <optional>
#include <vector>

namespace flagmask {

// Owns the temporal state of one stream. The frame size may not change between seed()/process()
// calls without reset(). Not thread-safe: one instance per stream.
class Segmenter {
public:
  explicit Segmenter(const SegmenterParams &params = {});

  // Replaces the appearance model (e.g. one loaded from a file). Keeps the temporal state.
  void setModel(const Model &model) { tracker_.setModel(model); }
  const Model &model() const { return tracker_.model(); }
  // See Tracker::setFusion and Tracker::setCueObserver (experiments and fitting).
  void setFusion(const Fusion &fusion) { tracker_.setFusion(fusion); }
  void setNetwork(const Network &network) { tracker_.setNetwork(network); }
  void setCueObserver(std::function<void(const FusionCues &)> observer) {
    tracker_.setCueObserver(std::move(observer));
  }
  // Throws Error for a parameter out of its range (params.h). While a stream is tracked the
  // working size stays what it was (the state lives at that size).
  void setParams(const SegmenterParams &params);
  const SegmenterParams &params() const { return params_; }

  // Starts tracking from a known mask (any size, scaled to the frame; non-zero = object). Trains
  // the model on this frame when it has none. The result's mask is the seed itself at the frame's
  // size. Throws Error for a mask with no object pixel at the working resolution.
  Result seed(const FrameView &frame, const cv::Mat &mask);
  // A key mask on a later frame (any size, non-zero = object): tracking starts again from it as
  // from a seed, and the frame is added to the model (see Tracker::key).
  Result key(const FrameView &frame, const cv::Mat &mask);
  // Segments the next frame. Without a seed, starts from the model alone; throws Error when there
  // is neither a seed nor a trained model, or when the frame size changed without a reset.
  Result process(const FrameView &frame);
  // A frame left unanalysed because the stream is behind: the last analysed frame's answer moved
  // by how far corners on the object moved since (Lucas-Kanade at the working size), or, when the
  // object has too few corners, by its motion over the last analysed frames; at a small part of
  // process()'s cost. The tracker does not see the frame (the next process() follows on from the
  // last analysed one).
  // Throws Error before any frame was seeded or processed, or for a frame of another size.
  Result carry(const FrameView &frame);
  // A frame was seeded or processed since the last reset: carry() has an answer to move.
  bool canCarry() const { return !last_.mask.empty(); }
  // The same for 8-bit BGR images, as OpenCV decodes them (the tools and tests).
  Result seed(const cv::Mat &frame_bgr, const cv::Mat &mask);
  Result key(const cv::Mat &frame_bgr, const cv::Mat &mask);
  Result process(const cv::Mat &frame_bgr);
  Result carry(const cv::Mat &frame_bgr);

  // Forgets the temporal state (not the model): the next frame starts afresh.
  void reset() {
    tracker_.reset();
    forgetLast();
  }
  // See Tracker::restartFromModel (a seek).
  void restartFromModel() {
    tracker_.restartFromModel();
    forgetLast();
  }
  bool started() const { return tracker_.started(); }

private:
  Result startFrom(const FrameView &frame, const cv::Mat &mask, bool key);
  bool guidedBack() const;
  cv::Mat fullMask(const cv::Mat &mask, const FrameView &frame);
  void begin(cv::Size frame);
  void checkSameSize(const FrameView &frame) const;
  void forgetLast() {
    last_ = Result();
    last_luma_.release();
    last_small_mask_.release();
    corners_.clear();
    corners_found_ = false;
    has_centre_ = false;
  }
  std::optional<cv::Point2d> objectMotion(const FrameView &frame);
  void remember(const Result &r, std::optional<cv::Point2d> centre, bool seeded);

  SegmenterParams params_;
  Tracker tracker_;
  GuidedUpsampler upsampler_;
  cv::Mat guide_small_; // the upsampler's guide plane at the working size
  cv::Size frame_size_, working_size_;

  // For carry(): the last analysed frame's answer at the frame's size, its grey image and mask at
  // the working size, the object's centre on it (frame pixels), its motion per frame between the
  // last two analysed frames, and the frames since the last analysed one.
  Result last_;
  cv::Mat last_luma_, last_small_mask_; // the last analysed frame's grey and mask, working size
  std::vector<cv::Point2f> corners_;    // corners on its object, once looked for
  bool corners_found_ = false;
  cv::Point2d centre_, velocity_;
  bool has_centre_ = false;
  int since_analysed_ = 0;
};

} // namespace flagmask
