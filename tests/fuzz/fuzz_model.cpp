// libFuzzer target: the model loader (modelFromBytes, what loadModel runs on a file's bytes).
// Any input must either give a usable model or throw flagmask::Error: a crash, a sanitizer report,
// any other exception, or a model whose predictions leave [0, 1] is a finding.
#include "error.h"
#include "model.h"
#include "model_file.h"

#include <opencv2/core.hpp>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <vector>

namespace {

// A loaded model must predict on a frame like any trained one.
void checkUsable(const flagmask::Model &model) {
  cv::Mat frame(4, 4, CV_8UC3);
  cv::randu(frame, 0, 256);
  cv::Mat probability;
  model.predict(frame, probability);
  double lowest = 0, highest = 0;
  cv::minMaxLoc(probability, &lowest, &highest);
  if (!(lowest >= 0 && highest <= 1))
    std::abort();
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t *data, std::size_t size) {
  const std::vector<std::uint8_t> bytes(data, data + size);
  try {
    checkUsable(flagmask::modelFromBytes(bytes, "fuzz-input.yml"));
  } catch (const flagmask::Error &) {
    // Refused with a message: what the loader is for.
  }
  return 0;
}
