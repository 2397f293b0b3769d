// flagmask: the trained appearance model.
#pragma once

#include <opencv2/core.hpp>

#include <string>

namespace flagmask {

// A Bayes colour classifier over quantised CIE Lab: one joint histogram for the object and one for
// the background, learned from (frame, mask) pairs. A histogram is the non-parametric form of the
// seed's "classify by Lab colour" idea, and evaluates in one table look-up per pixel, which is
// what real time on a CPU needs. The model can be adapted online (adapt()).
class Model {
public:
  static constexpr const char *kFormatName = "flagmask-model";
  static constexpr int kFormatVersion = 1;
  static constexpr int kDefaultBins = 32;

  explicit Model(int bins_per_channel = kDefaultBins);
  // Copies are deep: cv::Mat shares its pixels on copy, and a tracker adapting its model must not
  // change the model it was given (the element restarts from that one after a flush).
  Model(const Model &other);
  Model &operator=(const Model &other);
  Model(Model &&) noexcept = default;
  Model &operator=(Model &&) noexcept = default;

  // Adds the pixels of one frame (8-bit BGR) to the statistics; mask: 8-bit, non-zero = object,
  // any size (scaled to the frame). Throws Error on wrong types or a mask with no object pixel.
  // Background samples come from region (8-bit mask) when given, else from the object's
  // surroundings: its bounding box grown by a quarter of its size on every side.
  void add(cv::InputArray frame_bgr, cv::InputArray mask, cv::InputArray region = cv::noArray());

  // Mixes in the statistics of a new (frame, mask) pair with weight rate in (0, 1]: online
  // adaptation. ignore: optional 8-bit mask of pixels that are neither object nor background
  // (uncertain).
  void adapt(cv::InputArray frame_bgr, cv::InputArray mask, cv::InputArray ignore, double rate);
  // The same from a Lab image, to share the conversion made for predictLab.
  void adaptLab(cv::InputArray lab, cv::InputArray mask, cv::InputArray ignore, double rate);

  // Per-pixel object probability of an 8-bit BGR frame, CV_32F in [0, 1].
  void predict(cv::InputArray frame_bgr, cv::OutputArray probability) const;
  // The same from a Lab image (as from cv::cvtColor(..., COLOR_BGR2Lab)), to share one conversion.
  void predictLab(cv::InputArray lab, cv::OutputArray probability) const;

  bool trained() const { return object_count_ > 0 && background_count_ > 0; }
  int bins() const { return bins_; }
  // Mean fraction of a training frame the object covered: a size prior for a start without a seed.
  double objectFraction() const { return object_fraction_; }
  // How many (frame, mask) pairs the model was trained on (add() calls; online adaptation does not
  // count). A model file that does not record it counts as one.
  int frames() const { return frames_; }
  // The refinement network this model asks for (see the network property): a path, empty when it
  // names none. loadModel makes a relative one relative to the model file's folder.
  const std::string &network() const { return network_; }
  void setNetwork(const std::string &path) { network_ = path; }

  // Writes the model's fields (format name and version first) into an open storage.
  void write(cv::FileStorage &fs) const;
  // Reads a model from the root of a storage written by write(), checking the format name, the
  // version and every field; throws Error naming `name` (the file) and the reason: another format
  // or version, histograms of the wrong shape or with invalid counts. Parse errors of OpenCV
  // itself come as cv::Exception.
  static Model read(const cv::FileNode &root, const std::string &name);

private:
  void histograms(const cv::Mat &lab, const cv::Mat &object, const cv::Mat &background,
                  cv::Mat &object_hist, cv::Mat &background_hist) const;
  void updatePosterior();

  int bins_;
  cv::Mat object_hist_;     // CV_32F, bins^3, counts (possibly fractional after adaptation)
  cv::Mat background_hist_; // CV_32F, bins^3
  double object_count_ = 0;
  double background_count_ = 0;
  double object_fraction_ = 0; // mean over training frames of object pixels / frame pixels
  int frames_ = 0;             // training frames behind object_fraction_
  std::string network_;        // the network the model asks for, empty = none
  cv::Mat posterior_;          // CV_32F, bins^3: P(object | colour), cached
};

} // namespace flagmask
