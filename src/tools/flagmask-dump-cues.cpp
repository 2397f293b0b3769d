// flagmask-dump-cues: writes what the tracker sees on every frame of sequences with ground truth,
// at the working resolution: the image, the cues before they are fused, the naive-Bayes fusion of
// them and the true mask. scripts/train_network.py learns the refinement network from these. The
// network only changes what a frame shows, never what the tracker carries on with, so the cues
// are the same with or without one.
#include "cli.h"
#include "flagmask.h"
#include "selection.h"

#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include <cstdio>
#include <iostream>
#include <string>
#include <vector>

namespace fs = std::filesystem;

namespace {

constexpr const char *kUsage =
    "usage: flagmask-dump-cues --davis ROOT [--imageset FILE | --seq NAME ...] -o DIR [options]\n"
    "\n"
    "Runs the tracker on each sequence of a DAVIS-layout folder from its first mask and writes,\n"
    "for every later frame, into DIR/SEQUENCE/: NNNNN.png the working-resolution image,\n"
    "NNNNN_cues.png the carried mask, the colour model, the motion evidence and the naive-Bayes\n"
    "fusion as the four 8-bit channels (B, G, R, A), and NNNNN_truth.png the true mask.\n"
    "\n"
    "  --davis ROOT        the data folder\n"
    "  --imageset FILE     DAVIS image set listing the sequences (default ImageSets/480p/dev.txt)\n"
    "  --seq NAME          a sequence to dump (repeatable; overrides --imageset)\n"
    "  -o, --output DIR    the folder to write\n"
    "  -h, --help          this text\n";

struct Options {
  flagmask::davis::Selection data;
  fs::path output;
};

Options parse(int argc, char **argv) {
  namespace cli = flagmask::cli;
  Options o;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    cli::answerHelp(a, kUsage);
    if (o.data.take(argc, argv, i))
      continue;
    if (a == "-o" || a == "--output")
      o.output = cli::value(argc, argv, i);
    else
      throw cli::unknownArgument(a);
  }
  o.data.check();
  if (o.output.empty())
    throw cli::UsageError("give the folder to write with -o");
  return o;
}

cv::Mat toByte(const cv::Mat &plane, cv::Size size) {
  cv::Mat out;
  if (plane.empty())
    return cv::Mat::zeros(size, CV_8U);
  plane.convertTo(out, CV_8U, 255.0);
  return out;
}

// The four cues of a frame as one BGRA image.
cv::Mat packCues(const flagmask::FusionCues &cues, double temporal_weight) {
  const cv::Size size = cues.carried.size();
  const cv::Mat fused = flagmask::Fusion::naiveBayes(temporal_weight).probability(cues);
  std::vector<cv::Mat> planes = {toByte(cues.carried, size), toByte(cues.appearance, size),
                                 toByte(cues.motion, size), toByte(fused, size)};
  cv::Mat packed;
  cv::merge(planes, packed);
  return packed;
}

void dumpSequence(const Options &o, const std::string &name) {
  const flagmask::davis::Sequence sequence = flagmask::davis::openSequence(o.data.root, name);
  const fs::path folder = o.output / name;
  fs::create_directories(folder);
  flagmask::Segmenter segmenter;
  const double temporal_weight = segmenter.params().temporal_weight;
  cv::Mat cues;
  segmenter.setCueObserver(
      [&](const flagmask::FusionCues &c) { cues = packCues(c, temporal_weight); });
  for (size_t i = 0; i < sequence.frames.size(); ++i) {
    const cv::Mat frame = flagmask::loadFrame(sequence.frames[i].string());
    const cv::Mat truth =
        flagmask::resizeMask(flagmask::loadMask(sequence.masks[i].string(), false), frame.size());
    if (i == 0) {
      segmenter.seed(frame, truth);
      continue;
    }
    cues.release();
    segmenter.process(frame);
    if (cues.empty()) // lost: re-detection sees no carried mask
      continue;
    const cv::Size working = cues.size();
    char stem[24];
    std::snprintf(stem, sizeof stem, "%05zu", i);
    const fs::path base = folder / stem;
    cv::imwrite(base.string() + ".png", flagmask::reduceToWorking(frame, working));
    cv::imwrite(base.string() + "_cues.png", cues);
    cv::imwrite(base.string() + "_truth.png", flagmask::resizeMask(truth, working));
  }
}

int run(const Options &o) {
  const std::vector<std::string> names = o.data.choose("dump");
  for (size_t k = 0; k < names.size(); ++k) {
    std::cerr << "[" << k + 1 << "/" << names.size() << "] " << names[k] << "\n";
    dumpSequence(o, names[k]);
  }
  return 0;
}

} // namespace

int main(int argc, char **argv) {
  return flagmask::cli::runTool("flagmask-dump-cues", argc, argv, parse, run);
}
