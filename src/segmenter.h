// flagmask: the tracker that carries the object's mask from frame to frame.
#pragma once

#include "fusion.h"
#include "model.h"
#include "scale.h"

#include <opencv2/core.hpp>

#include <functional>
#include <memory>

namespace flagmask {

enum class TrackState { Tracking, Lost };

struct SegmenterParams {
  // Probability above which a pixel is the object.
  double threshold = 0.5;
  // Analysis runs with the longer image side scaled down to this.
  int working_size = 480;
  // Trust in the mask carried along the flow, at the object's boundary (it grows to full trust a
  // band's width away from the boundary).
  double temporal_weight = 0.85;
  // How fast the appearance model follows the object (0 = never).
  double adapt_rate = 0.02;
  // Strength of the evidence from motion against the camera's motion (0 = off).
  double motion_weight = 0.3;
  // Steadiness of the mask shown, 0..0.5: a pixel shown as object stays so while its probability
  // is above threshold - hysteresis, and a new one needs more than threshold + hysteresis. Applied
  // to the output only; the tracker goes on from its own decision. On the dev split 0.2 takes the
  // flicker from 0.014 (off) to 0.005, below the foundation's 0.006, for 0.012 J&F (0.764 ->
  // 0.752); 0.05 cuts it to 0.010 for 0.001 (docs/quality.md).
  double hysteresis = 0.2;
};

struct Result {
  cv::Mat mask;          // CV_8U at the frame's size, 255 = object, 0 = background
  cv::Mat probability;   // CV_32F at working resolution, fused object probability in [0, 1]
  cv::Rect box;          // the object's bounding box in frame coordinates (empty when lost)
  double area = 0;       // object pixels / frame pixels
  double confidence = 0; // 0..1, how decided the pixels around the object are
  TrackState state = TrackState::Lost;
};

// Owns the temporal state. Frames are 8-bit BGR of any size; the size may not change between
// seed()/process() calls without reset(). Not thread-safe: one instance per stream.
class Segmenter {
public:
  explicit Segmenter(const SegmenterParams &params = {});
  ~Segmenter();
  Segmenter(Segmenter &&) noexcept;
  Segmenter &operator=(Segmenter &&) noexcept;

  // Replaces the appearance model (e.g. one loaded from a file). Keeps the temporal state.
  void setModel(const Model &model);
  const Model &model() const;
  // Fuses the cues with these fitted weights instead of the naive Bayes (for experiments; see
  // Fusion). temporal_weight applies to the naive Bayes only.
  void setFusion(const Fusion &fusion);
  // Called with every frame's cues before they are fused (for fitting a fusion); none by default.
  void setCueObserver(std::function<void(const FusionCues &)> observer);
  void setParams(const SegmenterParams &params);
  const SegmenterParams &params() const;

  // Starts tracking from a known mask (any size, non-zero = object). Trains the model on this frame
  // when it has none. Returns the result for this frame (the seed itself, cleaned).
  Result seed(cv::InputArray frame_bgr, cv::InputArray mask);
  // Segments the next frame. Without a seed, starts from the model alone; throws Error when there
  // is neither a seed nor a trained model.
  Result process(cv::InputArray frame_bgr);
  // Forgets the temporal state (not the model): the next frame starts afresh.
  void reset();
  bool started() const;

private:
  struct State;
  std::unique_ptr<State> state_;
};

// The mask to show: pixels shown last frame (shown) stay object while their probability is above
// threshold - margin; pixels of this frame's mask become object only above threshold + margin.
// A pixel hovering around the threshold stops flickering. All CV_8U 255/0 but probability (CV_32F),
// all the same size.
cv::Mat steadyMask(const cv::Mat &mask, const cv::Mat &probability, const cv::Mat &shown,
                   double threshold, double margin);

} // namespace flagmask
