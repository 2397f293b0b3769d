// Writes the fuzzers' seed corpus: valid model files (YAML, gzip-compressed YAML) and small masks
// in every format the mask loader reads, so that fuzzing starts from inputs that get past the first
// checks. Usage: fuzz-corpus DIR (writes DIR/model and DIR/mask).
#include "model.h"
#include "model_file.h"

#include <opencv2/core.hpp>
#include <opencv2/imgcodecs.hpp>

#include <filesystem>
#include <fstream>
#include <iostream>
#include <string>

namespace fs = std::filesystem;

namespace {

void writeModels(const fs::path &dir) {
  cv::Mat frame(12, 16, CV_8UC3, cv::Scalar(30, 40, 50));
  frame(cv::Rect(4, 3, 6, 5)).setTo(cv::Scalar(40, 140, 240));
  cv::Mat mask = cv::Mat::zeros(frame.size(), CV_8U);
  mask(cv::Rect(4, 3, 6, 5)).setTo(255);
  flagmask::Model small(4), larger(8); // few values per histogram: small seeds mutate faster
  small.add(frame, mask);
  larger.add(frame, mask);
  flagmask::saveModel(small, (dir / "model.yml").string());
  flagmask::saveModel(small, (dir / "model.yml.gz").string());
  flagmask::saveModel(larger, (dir / "model-8.yml").string());
}

void writeMasks(const fs::path &dir) {
  cv::Mat grey = cv::Mat::zeros(6, 8, CV_8U);
  grey(cv::Rect(2, 1, 3, 3)).setTo(255);
  cv::Mat colour;
  cv::merge(std::vector<cv::Mat>{grey, grey / 2, grey / 3}, colour);
  cv::Mat deep;
  grey.convertTo(deep, CV_16U, 200);
  cv::Mat real;
  grey.convertTo(real, CV_32F, 1.0 / 255);
  const std::pair<const char *, cv::Mat> images[] = {
      {"grey.png", grey},  {"colour.png", colour}, {"deep.png", deep}, {"grey.jpg", grey},
      {"grey.bmp", grey},  {"colour.bmp", colour}, {"grey.pgm", grey}, {"colour.ppm", colour},
      {"grey.pbm", grey},  {"grey.pam", grey},     {"real.pfm", real}, {"grey.tiff", grey},
      {"deep.tiff", deep}, {"grey.webp", grey},
  };
  for (const auto &[name, image] : images)
    if (!cv::imwrite((dir / name).string(), image))
      std::cerr << "fuzz-corpus: this OpenCV cannot write " << name << "\n";
}

} // namespace

int main(int argc, char **argv) {
  if (argc != 2) {
    std::cerr << "usage: fuzz-corpus DIR\n";
    return 2;
  }
  const fs::path root(argv[1]);
  fs::create_directories(root / "model");
  fs::create_directories(root / "mask");
  writeModels(root / "model");
  writeMasks(root / "mask");
  return 0;
}
