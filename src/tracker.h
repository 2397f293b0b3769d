// flagmask: the tracker that carries the object's mask from frame to frame, at the working
// resolution. It sees only images already reduced to that size; Segmenter (segmenter.h) brings
// video frames to it and its masks back to the frames.
#pragma once

#include "fusion.h"
#include "model.h"
#include "network.h"
#include "params.h"

#include <opencv2/core.hpp>

#include <functional>
#include <memory>

namespace flagmask {

enum class TrackState { Tracking, Lost };

// What a frame gave. From the Tracker everything is at the working resolution; Segmenter brings
// mask and box to the frame's.
struct Result {
  cv::Mat mask;          // CV_8U, 255 = object, 0 = background
  cv::Mat probability;   // CV_32F at working resolution, fused object probability in [0, 1]
  cv::Rect box;          // the object's bounding box in the mask's pixels (empty when lost)
  double area = 0;       // object pixels / frame pixels
  double confidence = 0; // 0..1, how decided the pixels around the object are
  TrackState state = TrackState::Lost;
};

// Owns the temporal state. Images are 8-bit BGR at the working resolution; their size may not
// change between seed()/process() calls without reset(). Not thread-safe: one instance per stream.
class Tracker {
public:
  explicit Tracker(const SegmenterParams &params = {});
  ~Tracker();
  Tracker(Tracker &&) noexcept;
  Tracker &operator=(Tracker &&) noexcept;

  // Replaces the appearance model (e.g. one loaded from a file). Keeps the temporal state.
  void setModel(const Model &model);
  const Model &model() const;
  // Fuses the cues with these fitted weights instead of the naive Bayes (for experiments; see
  // Fusion). temporal_weight applies to the naive Bayes only.
  void setFusion(const Fusion &fusion);
  // Corrects the fusion with this network around the object (none by default).
  void setNetwork(const Network &network);
  // Called with every frame's cues before they are fused (for fitting a fusion); none by default.
  void setCueObserver(std::function<void(const FusionCues &)> observer);
  // working_size is not read here (the images come at that size already).
  void setParams(const SegmenterParams &params);
  const SegmenterParams &params() const;

  // Starts tracking from a known mask: CV_8UC1 at the image's size, non-zero = object. Trains the
  // model on this image when it has none. Throws Error for an empty mask.
  Result seed(const cv::Mat &image, const cv::Mat &mask);
  // A key mask: the object's known mask on a later image, where tracking may have drifted.
  // Starts tracking again from it as seed() does, and adds the image to the model (as a model
  // trained on several frames holds them), so the object's look there is not forgotten.
  Result key(const cv::Mat &image, const cv::Mat &mask);
  // Segments the next image. Without a seed, starts from the model alone; throws Error when there
  // is neither a seed nor a trained model.
  Result process(const cv::Mat &image);
  // Forgets the temporal state (not the model): the next image starts afresh.
  void reset();
  // The next image does not follow the last one (a seek): forgets where the object was and what
  // was shown, keeps the model as adapted so far and the size the object had, so the next image
  // looks for it by the model.
  void restartFromModel();
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
