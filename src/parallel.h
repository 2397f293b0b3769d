// flagmask: the two ways the core spreads a frame's work over the cores.
#pragma once

#include <opencv2/core/utility.hpp>

namespace flagmask {

// Runs row(y) for every y in [0, rows), the rows split over the cores by cv::parallel_for_.
// Each row must write only its own output row: then the split needs no locking and the result
// does not depend on it.
template <typename RowFn> void forRows(int rows, const RowFn &row) {
  cv::parallel_for_(cv::Range(0, rows), [&](const cv::Range &range) {
    for (int y = range.start; y < range.end; ++y)
      row(y);
  });
}

// Runs two independent steps at the same time (each may split its own work further) and returns
// when both are done. An exception thrown by either reaches the caller.
template <typename First, typename Second> void runBoth(const First &first, const Second &second) {
  cv::parallel_for_(
      cv::Range(0, 2),
      [&](const cv::Range &range) {
        for (int i = range.start; i < range.end; ++i) {
          if (i == 0)
            first();
          else
            second();
        }
      },
      2);
}

} // namespace flagmask
