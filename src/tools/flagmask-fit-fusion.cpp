// flagmask-fit-fusion: fits the weights that fuse the tracker's cues, from sequences with ground
// truth. It runs the tracker on each sequence, samples pixels of every frame with their cues and
// their true label, and fits a logistic regression by Newton steps (see flagmask::fitFusion).
#include "cli.h"
#include "eval/metrics.h"
#include "flagmask.h"
#include "selection.h"

#include <opencv2/imgproc.hpp>

#include <cmath>
#include <iostream>
#include <random>
#include <string>
#include <vector>

namespace fs = std::filesystem;

namespace {

constexpr const char *kUsage =
    "usage: flagmask-fit-fusion --davis ROOT [--imageset FILE | --seq NAME ...] -o FILE [options]\n"
    "\n"
    "Runs the tracker on each sequence of a DAVIS-layout folder from its first mask, samples\n"
    "pixels of every frame with the cues the fusion sees and their ground-truth label, fits the\n"
    "fusion's weights to them and writes the fusion file. Prints the fit's log-loss.\n"
    "\n"
    "  --davis ROOT        the data folder\n"
    "  --imageset FILE     DAVIS image set listing the sequences (default ImageSets/480p/dev.txt)\n"
    "  --seq NAME          a sequence to use (repeatable; overrides --imageset)\n"
    "  -o, --output FILE   the fusion file to write (YAML)\n"
    "  --fusion FILE       run the tracker with this fusion while sampling (default: naive Bayes,\n"
    "                      so the fit does not depend on weights fitted before)\n"
    "  --samples N         pixels sampled per frame (default 1500)\n"
    "  --random-seed S     seed of the pixel sampling (default 1)\n"
    "  -h, --help          this text\n";

struct Options {
  flagmask::davis::Selection data;
  fs::path output;
  std::string fusion;
  int samples = 1500;
  unsigned random_seed = 1;
};

Options parse(int argc, char **argv) {
  namespace cli = flagmask::cli;
  Options o;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    cli::answerHelp(a, kUsage);
    if (o.data.take(argc, argv, i))
      continue;
    if (a == "-o" || a == "--output") {
      o.output = cli::value(argc, argv, i);
    } else if (a == "--fusion") {
      o.fusion = cli::value(argc, argv, i);
    } else if (a == "--samples") {
      o.samples = static_cast<int>(cli::number(a, cli::value(argc, argv, i)));
    } else if (a == "--random-seed") {
      o.random_seed = static_cast<unsigned>(cli::number(a, cli::value(argc, argv, i)));
    } else {
      throw cli::unknownArgument(a);
    }
  }
  o.data.check();
  if (o.output.empty())
    throw cli::UsageError("give the fusion file to write with -o");
  if (o.samples < 1)
    throw cli::UsageError("--samples must be at least 1");
  return o;
}

// Feature rows and labels gathered over all frames.
struct SampleSet {
  cv::Mat features; // CV_32F, one row per pixel
  cv::Mat labels;   // CV_32F column, 1 = object
};

// Draws pixels uniformly from one frame's cues, labelled by the truth at working size.
void sampleFrame(const flagmask::FusionCues &cues, const cv::Mat &truth, int count,
                 std::mt19937 &random, SampleSet &set) {
  const std::vector<cv::Mat> planes = flagmask::Fusion::features(cues);
  cv::Mat small;
  cv::resize(truth, small, cues.carried.size(), 0, 0, cv::INTER_AREA);
  std::uniform_int_distribution<int> xs(0, small.cols - 1), ys(0, small.rows - 1);
  cv::Mat row(1, static_cast<int>(planes.size()), CV_32F);
  for (int k = 0; k < count; ++k) {
    const int x = xs(random), y = ys(random);
    for (size_t f = 0; f < planes.size(); ++f)
      row.at<float>(0, static_cast<int>(f)) = planes[f].at<float>(y, x);
    set.features.push_back(row);
    set.labels.push_back(small.at<uchar>(y, x) > 127 ? 1.0f : 0.0f);
  }
}

void sampleSequence(const Options &o, const std::string &name, std::mt19937 &random,
                    SampleSet &set) {
  const flagmask::davis::Sequence sequence = flagmask::davis::openSequence(o.data.root, name);
  flagmask::Segmenter segmenter;
  if (!o.fusion.empty())
    segmenter.setFusion(flagmask::Fusion::load(o.fusion));
  cv::Mat truth;
  segmenter.setCueObserver(
      [&](const flagmask::FusionCues &cues) { sampleFrame(cues, truth, o.samples, random, set); });
  for (size_t i = 0; i < sequence.frames.size(); ++i) {
    const cv::Mat frame = flagmask::loadFrame(sequence.frames[i].string());
    truth =
        flagmask::resizeMask(flagmask::loadMask(sequence.masks[i].string(), false), frame.size());
    if (i == 0)
      segmenter.seed(frame, truth);
    else
      segmenter.process(frame);
  }
}

// Mean negative log-likelihood of the labels under the fusion.
double logLoss(const flagmask::Fusion &fusion, const SampleSet &set) {
  const std::vector<double> &w = fusion.weights();
  double loss = 0;
  for (int r = 0; r < set.features.rows; ++r) {
    double z = w.back();
    for (int f = 0; f < set.features.cols; ++f)
      z += w[f] * set.features.at<float>(r, f);
    const double p = 1.0 / (1.0 + std::exp(-z));
    const double q = set.labels.at<float>(r) > 0.5f ? p : 1.0 - p;
    loss -= std::log(std::max(q, 1e-9));
  }
  return loss / std::max(1, set.features.rows);
}

int run(const Options &o) {
  const std::vector<std::string> names = o.data.choose("sample");
  std::mt19937 random(o.random_seed);
  SampleSet set;
  for (size_t k = 0; k < names.size(); ++k) {
    std::cerr << "[" << k + 1 << "/" << names.size() << "] " << names[k] << "\n";
    sampleSequence(o, names[k], random, set);
  }
  std::cerr << "fitting on " << set.features.rows << " pixels\n";
  const flagmask::Fusion fusion = flagmask::fitFusion(set.features, set.labels);
  fusion.save(o.output.string());
  std::printf("sequences=%zu pixels=%d log-loss=%.4f\n", names.size(), set.features.rows,
              logLoss(fusion, set));
  return 0;
}

} // namespace

int main(int argc, char **argv) {
  return flagmask::cli::runTool("flagmask-fit-fusion", argc, argv, parse, run);
}
