// flagmask: the refinement network. A small convolutional network, trained across many videos
// (scripts/train_network.py), that looks at the working image and the tracker's cues around the
// object and corrects the fused object probability where one frame's colour statistics cannot
// tell: outlines, shadows, look-alike background. It runs through OpenCV's dnn module from an ONNX
// file; its input and output are described in docs/model-format.md.
#pragma once

#include "fusion.h"

#include <opencv2/core.hpp>

#include <memory>
#include <string>
#include <vector>

namespace flagmask {

// The network the element and the tools load unless told otherwise: $FLAGMASK_NETWORK when set
// (empty: none), else the one installed with the plugin when it is there, else none ("").
std::string defaultNetworkPath();

class Network {
public:
  // No network: refine() is not to be called. Copies share the loaded network (reading an ONNX
  // file again for every restart of a stream cost more than a frame), so a network and its copies
  // are used from one thread at a time; load the file once per stream for streams in parallel.
  Network();

  // Reads an ONNX file; throws Error naming the file and the reason.
  static Network load(const std::string &path);
  // The same from the file's bytes; origin names them in errors.
  static Network fromBytes(std::vector<unsigned char> bytes, const std::string &origin);

  bool loaded() const;
  const std::string &origin() const;

  // The corrected object probability (CV_32F in [0, 1] at the image's size): the network looks at
  // the working image (8-bit BGR), the cues (carried, appearance and motion; an empty motion
  // counts as none) and their fusion, and its correction is added to the fusion's logit within
  // region (the rest of the result is the fusion as it was). Not safe to call from two threads
  // at once, on this network or a copy of it.
  cv::Mat refine(const cv::Mat &image, const FusionCues &cues, const cv::Mat &fused,
                 const cv::Rect &region) const;

  // The network's input channels, in order, and the factor it works below the working size.
  static constexpr int kChannels = 7;
  static constexpr int kReduction = 4;
  // Its input's sides are padded to a multiple of this (its downsamplings).
  static constexpr int kAlignment = 8;

private:
  struct Impl;
  std::shared_ptr<Impl> impl_;
};

} // namespace flagmask
