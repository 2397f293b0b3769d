// flagmask: how the tracker's cues are combined into one object probability per pixel.
#pragma once

#include <opencv2/core.hpp>

#include <string>
#include <vector>

namespace flagmask {

// What the tracker knows about each pixel of the current frame, all CV_32F at working size.
struct FusionCues {
  cv::Mat carried;    // object probability carried along the flow from the previous frame
  cv::Mat distance;   // signed distance to the carried boundary, in band widths (> 0 inside)
  cv::Mat appearance; // the colour model's object probability
  cv::Mat motion;     // motion-against-the-camera evidence in [0, 1]; empty when there is none
  cv::Mat edges;      // image gradient magnitude, about 0..1
};

// By default the hand-set naive Bayes over the carried mask, appearance and motion. With weights
// (fitted by flagmask-fit-fusion on sequences with ground truth), a logistic regression over
// features derived from the cues: the logits of each expert, their products with the distance to
// the carried boundary, edges, local appearance and the naive Bayes itself. Fitted this way it
// scored below the naive Bayes on held-out sequences (docs/quality.md), so the tracker ships with
// the naive Bayes and the learned fusion stays a tool for experiments.
class Fusion {
public:
  // The hand-set naive-Bayes fusion: temporal_weight is the trust in the carried mask at its
  // boundary, motion_weight scales the motion evidence (applied by motionEvidence already).
  static Fusion naiveBayes(double temporal_weight);
  // Weights from a file written by save(); throws Error naming the file and the reason.
  static Fusion load(const std::string &path);
  // Weights from the text of such a file.
  static Fusion parse(const std::string &yaml, const std::string &origin);
  void save(const std::string &path) const;

  bool learned() const { return !weights_.empty(); }
  const std::vector<double> &weights() const { return weights_; }
  static Fusion fromWeights(std::vector<double> weights);

  // The object probability per pixel (CV_32F at the cues' size).
  cv::Mat probability(const FusionCues &cues) const;

  // The learned fusion's features, one plane per feature (CV_32F at the cues' size).
  static std::vector<cv::Mat> features(const FusionCues &cues);
  static int featureCount();
  static std::vector<std::string> featureNames();

private:
  cv::Mat naiveBayesProbability(const FusionCues &cues) const;

  std::vector<double> weights_; // featureCount() weights then the bias; empty = naive Bayes
  double temporal_weight_ = 0.85;
};

// Fits the weights from sampled feature rows (CV_32F, one row per pixel, featureCount() columns)
// and labels (CV_32F column, 1 = object): a logistic regression fitted by Newton steps.
Fusion fitFusion(const cv::Mat &samples, const cv::Mat &labels);

} // namespace flagmask
