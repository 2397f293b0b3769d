// compare-masks: mean IoU between two folders of same-named mask PNGs (non-zero = object), so a
// test can check that the element through gst-launch-1.0 gives the masks flagmask-eval gives.
#include "eval/metrics.h"
#include "flagmask.h"

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <vector>

namespace fs = std::filesystem;

int main(int argc, char **argv) {
  if (argc != 3) {
    std::cerr << "usage: compare-masks DIR_A DIR_B\nprints 'frames=N mean_iou=X min_iou=Y'\n";
    return 2;
  }
  try {
    std::vector<fs::path> names;
    for (const auto &e : fs::directory_iterator(argv[1]))
      if (e.path().extension() == ".png")
        names.push_back(e.path().filename());
    std::sort(names.begin(), names.end());
    if (names.empty())
      throw flagmask::Error(std::string("no PNG in '") + argv[1] + "'");
    double sum = 0, low = 1;
    for (const auto &n : names) {
      const cv::Mat a = flagmask::loadMask((fs::path(argv[1]) / n).string(), false);
      cv::Mat b = flagmask::loadMask((fs::path(argv[2]) / n).string(), false);
      b = flagmask::resizeMask(b, a.size());
      const double j = flagmask::jaccard(a, b);
      sum += j;
      low = std::min(low, j);
    }
    std::printf("frames=%zu mean_iou=%.4f min_iou=%.4f\n", names.size(), sum / names.size(), low);
  } catch (const std::exception &e) {
    std::cerr << "compare-masks: " << e.what() << "\n";
    return 1;
  }
  return 0;
}
