// flagmask-train: learns the appearance model from (frame, mask) pairs and writes the model file
// that the element's `model` property loads. A frame may be an image or a video's first frame; a
// mask may be a file or be cut out of a box with grabCut.
#include "cli.h"
#include "flagmask.h"
#include "seed_io.h"

#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include <cctype>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <string>
#include <vector>

namespace {

// The usage, with the model's default bins.
std::string usage() {
  return "usage: flagmask-train (--frame F | --video V) (--mask M | --box x,y,w,h) [...]\n"
         "                      [--write-mask OUT.png ...] [--bins N] [--network NET] -o MODEL\n"
         "\n"
         "Trains a flagmask appearance model from one or more frames and the object on each, and\n"
         "writes it as YAML (MODEL ending in .gz is compressed). Load it with: flagmask "
         "model=MODEL\n"
         "The n-th --mask or --box belongs to the n-th --frame or --video. Frames where the\n"
         "object looks different help most; the tracker adapts a model trained on N frames N "
         "times\n"
         "more slowly, since it already knows those looks.\n"
         "\n"
         "  --frame F       a video frame (any image format OpenCV reads)\n"
         "  --video V       a video file: its first frame (decoded by OpenCV, FFmpeg backend)\n"
         "  --mask M        the object's mask on that frame (non-zero = object; any size, scaled)\n"
         "  --box x,y,w,h   a box around the object on that frame, in pixels: the mask is cut out\n"
         "                  of it with grabCut (leave a little background inside and around it)\n"
         "  --write-mask OUT.png  write the mask made from a --box (the n-th --write-mask gets "
         "the\n"
         "                  n-th --box's mask); usable as the element's seed-mask. Without -o, "
         "only\n"
         "                  the masks are written\n"
         "  --bins N        colour histogram bins per Lab channel (default " +
         std::to_string(flagmask::Model::kDefaultBins) +
         ")\n"
         "  --network NET   a refinement network (ONNX) the model asks for: the element uses it\n"
         "                  when its network property is unset (written as an absolute path)\n"
         "  -o, --output MODEL   where to write the model\n"
         "  -h, --help      this text\n"
         "\n"
         "Exit status: 0 written, 1 failure (a file or a box that does not work), 2 usage.\n";
}

// Where a training frame comes from.
struct Source {
  enum Kind { Image, Video } kind;
  std::string path;
};

// How the object is given on it.
struct Seed {
  enum Kind { MaskFile, Box } kind;
  std::string path; // MaskFile
  cv::Rect box;     // Box
};

struct Options {
  std::vector<Source> sources;
  std::vector<Seed> seeds;
  std::vector<std::string> write_masks;
  std::string output;
  std::string network; // absolute
  int bins = flagmask::Model::kDefaultBins;
};

Seed boxSeed(const std::string &text) {
  try {
    return Seed{Seed::Box, {}, flagmask::parseBox(text)};
  } catch (const flagmask::Error &e) {
    throw flagmask::cli::UsageError(std::string("--box: ") + e.what());
  }
}

// Masks are read back as "non-zero = object": a lossy format's ringing would add object pixels.
void checkMaskName(const std::string &path) {
  std::string extension = std::filesystem::path(path).extension().string();
  for (char &c : extension)
    c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (extension != ".png")
    throw flagmask::cli::UsageError("--write-mask '" + path +
                                    "': write masks as .png (lossy formats would add stray "
                                    "object pixels)");
}

void check(const Options &o) {
  namespace cli = flagmask::cli;
  if (o.sources.empty())
    throw cli::UsageError("give at least one --frame or --video, each with a --mask or --box");
  if (o.sources.size() != o.seeds.size())
    throw cli::UsageError("every --frame or --video needs exactly one --mask or --box");
  size_t boxes = 0;
  for (const Seed &s : o.seeds)
    boxes += s.kind == Seed::Box;
  if (o.write_masks.size() > boxes)
    throw cli::UsageError("--write-mask writes the mask made from a --box: give one --box per "
                          "--write-mask");
  if (o.output.empty() && o.write_masks.empty())
    throw cli::UsageError("give the output model file with -o");
}

Options parse(int argc, char **argv) {
  namespace cli = flagmask::cli;
  Options o;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    cli::answerHelp(a, usage());
    if (a == "--frame") {
      o.sources.push_back({Source::Image, cli::value(argc, argv, i)});
    } else if (a == "--video") {
      o.sources.push_back({Source::Video, cli::value(argc, argv, i)});
    } else if (a == "--mask") {
      o.seeds.push_back({Seed::MaskFile, cli::value(argc, argv, i), {}});
    } else if (a == "--box") {
      o.seeds.push_back(boxSeed(cli::value(argc, argv, i)));
    } else if (a == "--write-mask") {
      o.write_masks.push_back(cli::value(argc, argv, i));
      checkMaskName(o.write_masks.back());
    } else if (a == "--bins") {
      o.bins = static_cast<int>(cli::number(a, cli::value(argc, argv, i)));
    } else if (a == "--network") {
      o.network = std::filesystem::absolute(cli::value(argc, argv, i)).lexically_normal().string();
    } else if (a == "-o" || a == "--output") {
      o.output = cli::value(argc, argv, i);
    } else {
      throw cli::unknownArgument(a);
    }
  }
  check(o);
  return o;
}

cv::Mat loadSource(const Source &source) {
  return source.kind == Source::Video ? flagmask::seedio::videoFrameAt(source.path, 0)
                                      : flagmask::loadFrame(source.path);
}

// The mask cut from box on the source's frame; what the user should check in it is said on stderr.
cv::Mat maskFromBoxOn(const cv::Mat &frame, const Source &source, const cv::Rect &box) {
  cv::Mat mask;
  try {
    mask = flagmask::maskFromBox(frame, box);
  } catch (const flagmask::Error &e) {
    throw flagmask::Error(source.path + ": " + e.what());
  }
  for (const std::string &warning : flagmask::boxSeedWarnings(box, frame.size(), mask))
    std::cerr << "flagmask-train: warning: " << source.path << ": " << warning << "\n";
  return mask;
}

std::string percent(const cv::Mat &mask) {
  return std::to_string(static_cast<int>(100.0 * cv::countNonZero(mask) / mask.total() + 0.5)) +
         "%";
}

int run(const Options &o) {
  flagmask::Model model(o.bins);
  if (!o.network.empty()) {
    flagmask::Network::load(o.network); // a file the element could not load is refused here
    model.setNetwork(o.network);
  }
  size_t next_write = 0;
  for (size_t i = 0; i < o.sources.size(); ++i) {
    const Source &source = o.sources[i];
    const Seed &seed = o.seeds[i];
    const cv::Mat frame = loadSource(source);
    cv::Mat mask;
    if (seed.kind == Seed::Box) {
      mask = maskFromBoxOn(frame, source, seed.box);
      if (next_write < o.write_masks.size())
        flagmask::seedio::writeMask(mask, o.write_masks[next_write++]);
    } else {
      mask = flagmask::loadMask(seed.path);
    }
    if (o.output.empty())
      continue;
    model.add(frame, mask);
    std::cerr << "trained on " << source.path
              << (source.kind == Source::Video ? " (first frame, " : " (") << frame.cols << "x"
              << frame.rows << ", object " << percent(flagmask::resizeMask(mask, frame.size()))
              << ")\n";
  }
  if (o.output.empty())
    return 0;
  flagmask::saveModel(model, o.output);
  std::cerr << "wrote " << o.output << "\n";
  return 0;
}

} // namespace

int main(int argc, char **argv) {
  return flagmask::cli::runTool("flagmask-train", argc, argv, parse, run);
}
