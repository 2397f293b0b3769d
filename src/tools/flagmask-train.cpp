// flagmask-train: learns the appearance model from (frame, mask) pairs and writes the model file
// that the element's `model` property loads.
#include "cli.h"
#include "flagmask.h"

#include <iostream>
#include <string>
#include <vector>

namespace {

constexpr const char *kUsage =
    "usage: flagmask-train --frame F --mask M [--frame F2 --mask M2 ...] [--bins N] -o MODEL\n"
    "\n"
    "Trains a flagmask appearance model from one or more frames and their object masks\n"
    "(non-zero = object; a mask of any size is scaled to its frame) and writes it as YAML\n"
    "(MODEL ending in .gz is compressed). Load it with: flagmask model=MODEL\n"
    "\n"
    "  --frame F   a video frame (any image format OpenCV reads)\n"
    "  --mask M    the object's mask on the preceding --frame\n"
    "  --bins N    colour histogram bins per Lab channel (default 32)\n"
    "  -o, --output MODEL   where to write the model\n"
    "  -h, --help  this text\n";

struct Options {
  std::vector<std::string> frames, masks;
  std::string output;
  int bins = flagmask::Model::kDefaultBins;
};

Options parse(int argc, char **argv) {
  namespace cli = flagmask::cli;
  Options o;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "-h" || a == "--help") {
      std::cout << kUsage;
      std::exit(0);
    } else if (a == "--frame") {
      o.frames.push_back(cli::value(argc, argv, i));
    } else if (a == "--mask") {
      o.masks.push_back(cli::value(argc, argv, i));
    } else if (a == "--bins") {
      o.bins = static_cast<int>(cli::number(a, cli::value(argc, argv, i)));
    } else if (a == "-o" || a == "--output") {
      o.output = cli::value(argc, argv, i);
    } else {
      throw cli::UsageError("unknown argument '" + a + "'");
    }
  }
  if (o.frames.empty())
    throw cli::UsageError("give at least one --frame and --mask");
  if (o.frames.size() != o.masks.size())
    throw cli::UsageError("every --frame needs exactly one --mask");
  if (o.output.empty())
    throw cli::UsageError("give the output model file with -o");
  return o;
}

} // namespace

int main(int argc, char **argv) {
  Options o;
  try {
    o = parse(argc, argv);
  } catch (const flagmask::cli::UsageError &e) {
    std::cerr << "flagmask-train: " << e.what() << "\n(see flagmask-train --help)\n";
    return 2;
  }
  try {
    flagmask::Model model(o.bins);
    for (size_t i = 0; i < o.frames.size(); ++i) {
      const cv::Mat frame = flagmask::loadFrame(o.frames[i]);
      const cv::Mat mask = flagmask::loadMask(o.masks[i]);
      model.add(frame, mask);
      std::cerr << "trained on " << o.frames[i] << " (" << frame.cols << "x" << frame.rows << ")\n";
    }
    model.save(o.output);
    std::cerr << "wrote " << o.output << "\n";
  } catch (const std::exception &e) {
    std::cerr << "flagmask-train: " << e.what() << "\n";
    return 1;
  }
  return 0;
}
