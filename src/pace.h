// flagmask: which of a live stream's frames are analysed when the element cannot keep up. A frame
// that is not analysed gets the last answer carried along the object's motion (Segmenter::carry),
// at a small part of the cost, so every frame still goes out instead of being dropped late. Two
// rules, both driven by downstream's reports of lateness (GStreamer's QoS); without reports (files,
// offline work) every frame is analysed:
// - a frame already due by what downstream reported (its running time at or before the reported
//   frame's plus its lateness, the rule by which GstBaseTransform drops frames) is carried, as the
//   stream catches up, but never more than kMaxAnalysisInterval - 1 frames in a row;
// - when frames are late and the element's own cost per frame is what does not fit in the frame
//   period, only one frame in `interval` is analysed. Once there is time again the interval comes
//   back down, one step at a time, waiting longer after each step that had to be undone.
#pragma once

#include <cstdint>
#include <optional>

namespace flagmask {

// The widest interval: beyond one analysed frame in four the carried mask drifts too far from the
// object (docs/performance.md, "Under load").
constexpr int kMaxAnalysisInterval = 4;

class Pacer {
public:
  // What downstream last said (a QoS event): how late it rendered a frame, in nanoseconds
  // (negative: early), and that frame's running time when known.
  void reportLateness(std::int64_t late_ns, std::optional<std::int64_t> at_ns = std::nullopt);
  // Whether the next frame is analysed (true) or carried (false). period_ns is the frame period and
  // running_ns the frame's running time (each none when the stream does not say).
  bool analyseNext(std::optional<std::int64_t> period_ns,
                   std::optional<std::int64_t> running_ns = std::nullopt);
  // How long the frame just decided took to process (wall time), and whether it was analysed.
  void finished(double seconds, bool analysed);
  // One frame in interval() is analysed; 1: every frame.
  int interval() const { return interval_; }
  // The last report was later than the widest interval's frames: carrying alone will not catch
  // up soon, and dropping frames (the last resort) is left to GStreamer's QoS.
  bool farBehind() const { return far_behind_; }
  // Every frame is analysed again (a new stream, a seek).
  void reset();

private:
  double meanCost(int interval) const;
  void raise(double period);
  void lower();

  int interval_ = 1;
  int phase_ = 0;        // frames since the last analysed one
  int since_change_ = 0; // frames since interval_ last changed
  int since_late_ = 0;   // frames since the last report of a late frame
  bool late_ = false;    // a late report came since the last decision
  bool lowered_ = false; // the last change lowered the interval
  // Frames without a late report before the interval comes down, at first.
  static constexpr int kFirstCalm = 30;
  int calm_needed_ = kFirstCalm; // frames without a late report before the interval may come down
  double analysed_cost_ = 0, carried_cost_ = 0; // moving averages of the cost, seconds
  bool carried_known_ = false;
  int analysed_frames_ = 0;
  std::optional<std::int64_t> earliest_ns_; // frames due at or before this running time are late
  int carried_in_row_ = 0;
  std::int64_t last_late_ns_ = 0;
  bool far_behind_ = false;
};

} // namespace flagmask
