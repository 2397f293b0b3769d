// libFuzzer target: the mask loader (decodeMask, what loadMask runs on a file's bytes), header
// checks and OpenCV's decoders behind them. Any input must either give a mask within the size
// limit or throw flagmask::Error: a crash, a sanitizer report, any other exception, an allocation
// beyond the limit (libFuzzer's -malloc_limit_mb) or a mask that is not 0/255 is a finding.
#include "error.h"
#include "image_io.h"

#include <opencv2/core.hpp>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t *data, std::size_t size) {
  const std::vector<std::uint8_t> bytes(data, data + size);
  try {
    flagmask::MaskInfo info;
    const cv::Mat mask = flagmask::decodeMask(bytes, "fuzz-input.png", false, &info);
    if (mask.type() != CV_8UC1 || mask.size() != info.size ||
        static_cast<std::int64_t>(mask.total()) > flagmask::kMaxImagePixels ||
        cv::countNonZero((mask != 0) & (mask != 255)) != 0)
      std::abort();
    flagmask::resizeMask(mask, cv::Size(7, 5));
  } catch (const flagmask::Error &) {
    // Refused with a message: what the loader is for.
  }
  return 0;
}
