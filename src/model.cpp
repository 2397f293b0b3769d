#include "model.h"

#include "error.h"
#include "scale.h"

#include <opencv2/imgproc.hpp>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

namespace flagmask {
namespace {

constexpr int kMinBins = 4;
constexpr int kMaxBins = 64;
// More training frames than any video has: a larger count in a file is a corrupt one.
constexpr int kMaxTrainingFrames = 10000000;
// Added to every bin's density so that a colour never seen in training gets a neutral, not a
// certain, answer; and a colour seen a few times in one class and never in the other only a
// leaning one. At 1e-6 a brown trunk popping up beside the hard synthetic flag scored 0.98 object
// from a few JPEG-blurred pixels of the flag's dark red shading, and was tracked as flag for 28
// frames (hard flag J&F 0.886). On the dev split: 1e-6 0.752, 5e-6 0.751, 1e-5 0.751, 2e-5
// 0.750, 4e-5 0.747; hard flag 0.886, 0.888, 0.961, 0.992, 0.992.
constexpr float kSmoothing = 1e-5f;

cv::Mat toLab(cv::InputArray frame_bgr) {
  cv::Mat frame = frame_bgr.getMat();
  if (frame.empty() || frame.type() != CV_8UC3)
    throw Error("flagmask: a frame must be a non-empty 8-bit 3-channel BGR image");
  cv::Mat lab;
  cv::cvtColor(frame, lab, cv::COLOR_BGR2Lab);
  return lab;
}

cv::Mat maskAtSize(cv::InputArray mask, cv::Size size, const char *what) {
  cv::Mat m = mask.getMat();
  if (m.empty())
    return cv::Mat::zeros(size, CV_8U);
  if (m.type() != CV_8UC1)
    throw Error(std::string("flagmask: the ") + what + " must be an 8-bit single-channel image");
  return resizeMask(m, size);
}

cv::Mat joinedHistogram(const cv::Mat &lab, const cv::Mat &mask, int bins) {
  const int channels[] = {0, 1, 2};
  const int sizes[] = {bins, bins, bins};
  const float range[] = {0, 256};
  const float *ranges[] = {range, range, range};
  cv::Mat hist;
  cv::calcHist(&lab, 1, channels, mask, hist, 3, sizes, ranges, true, false);
  return hist; // CV_32F, bins x bins x bins
}

// A stored matrix is read by OpenCV only once its declared shape matches what the model needs:
// OpenCV allocates rows x cols before it looks at the data, so a forged header could otherwise
// make it allocate gigabytes.
void checkHistogramShape(const cv::FileNode &hist, const std::string &path, const char *name,
                         int expected) {
  const auto malformed = [&](const std::string &reason) {
    return Error("flagmask: model file '" + path + "' is malformed: '" + name + "' " + reason);
  };
  if (hist.empty() || !hist.isMap())
    throw malformed("is missing or not a matrix");
  const cv::FileNode rows = hist["rows"], cols = hist["cols"], dt = hist["dt"], data = hist["data"];
  if (!rows.isInt() || !cols.isInt() || !dt.isString() || !data.isSeq())
    throw malformed("is not a matrix (rows, cols, dt and data are needed)");
  const std::int64_t declared = std::int64_t(static_cast<int>(rows)) * static_cast<int>(cols);
  if (declared != expected || dt.string() != "f" || data.size() != std::size_t(expected))
    throw malformed("should hold " + std::to_string(expected) + " float values, but declares " +
                    std::to_string(static_cast<int>(rows)) + "x" +
                    std::to_string(static_cast<int>(cols)) + " of type '" + dt.string() +
                    "' with " + std::to_string(data.size()) + " values");
}

void checkHistogram(const cv::FileNode &node, const std::string &path, const char *name, int bins,
                    cv::Mat &out) {
  const int expected = bins * bins * bins;
  checkHistogramShape(node[name], path, name, expected);
  cv::Mat flat;
  node[name] >> flat;
  if (flat.empty() || flat.type() != CV_32F || static_cast<int>(flat.total()) != expected)
    throw Error("flagmask: model file '" + path + "' is malformed: '" + name + "' should hold " +
                std::to_string(expected) + " float values");
  if (cv::checkRange(flat, true, nullptr, 0.0, 1e12) == false)
    throw Error("flagmask: model file '" + path + "' is malformed: '" + name +
                "' has negative or non-finite counts");
  const int sizes[] = {bins, bins, bins};
  out = flat.reshape(1, 3, sizes).clone();
}

// The object's box grown by this fraction of its size on every side is where background samples
// come from by default: the colours next to the object are the ones to tell apart (+0.05 J&F on
// the DAVIS dev split over sampling the whole frame).
constexpr double kSurroundings = 0.25;

// The optional `frames` field: absent (files written before it existed) counts as one frame.
int trainingFrames(const cv::FileNode &node, const std::string &path) {
  if (node.empty())
    return 1;
  const int frames = node.isInt() ? static_cast<int>(node) : 0;
  if (frames < 1 || frames > kMaxTrainingFrames)
    throw Error("flagmask: model file '" + path +
                "' is malformed: frames must be an integer in [1, " +
                std::to_string(kMaxTrainingFrames) + "]");
  return frames;
}

// The optional network field: a non-empty string.
std::string networkNamed(const cv::FileNode &node, const std::string &path) {
  if (node.empty())
    return "";
  if (!node.isString() || node.string().empty())
    throw Error("flagmask: model file '" + path +
                "' is malformed: network must be the path of an ONNX file");
  return node.string();
}

cv::Mat surroundings(const cv::Mat &mask) {
  const cv::Rect box = cv::boundingRect(mask);
  const int dx = static_cast<int>(kSurroundings * box.width);
  const int dy = static_cast<int>(kSurroundings * box.height);
  const cv::Rect region =
      cv::Rect(box.x - dx, box.y - dy, box.width + 2 * dx, box.height + 2 * dy) &
      cv::Rect(0, 0, mask.cols, mask.rows);
  cv::Mat out = cv::Mat::zeros(mask.size(), CV_8U);
  out(region).setTo(255);
  return out;
}

} // namespace

Model::Model(int bins_per_channel) : bins_(bins_per_channel) {
  if (bins_ < kMinBins || bins_ > kMaxBins)
    throw Error("flagmask: model bins per channel must be in [" + std::to_string(kMinBins) + ", " +
                std::to_string(kMaxBins) + "], got " + std::to_string(bins_));
  const int sizes[] = {bins_, bins_, bins_};
  object_hist_ = cv::Mat::zeros(3, sizes, CV_32F);
  background_hist_ = cv::Mat::zeros(3, sizes, CV_32F);
  updatePosterior();
}

Model::Model(const Model &other)
    : bins_(other.bins_), object_hist_(other.object_hist_.clone()),
      background_hist_(other.background_hist_.clone()), object_count_(other.object_count_),
      background_count_(other.background_count_), object_fraction_(other.object_fraction_),
      frames_(other.frames_), network_(other.network_), posterior_(other.posterior_.clone()) {}

Model &Model::operator=(const Model &other) {
  if (this != &other)
    *this = Model(other);
  return *this;
}

void Model::histograms(const cv::Mat &lab, const cv::Mat &object, const cv::Mat &background,
                       cv::Mat &object_hist, cv::Mat &background_hist) const {
  object_hist = joinedHistogram(lab, object, bins_);
  background_hist = joinedHistogram(lab, background, bins_);
}

void Model::add(cv::InputArray frame_bgr, cv::InputArray mask, cv::InputArray region) {
  const cv::Mat lab = toLab(frame_bgr);
  const cv::Mat object = maskAtSize(mask, lab.size(), "training mask");
  if (cv::countNonZero(object) == 0)
    throw Error("flagmask: the training mask has no object pixel");
  cv::Mat background = object == 0;
  background &=
      region.empty() ? surroundings(object) : maskAtSize(region, lab.size(), "training region");
  if (cv::countNonZero(background) == 0)
    background = object == 0; // the object fills its surroundings: take the rest of the frame
  cv::Mat oh, bh;
  histograms(lab, object, background, oh, bh);
  object_hist_ += oh;
  background_hist_ += bh;
  object_count_ += cv::sum(oh)[0];
  background_count_ += cv::sum(bh)[0];
  const double fraction = cv::countNonZero(object) / static_cast<double>(object.total());
  object_fraction_ = (object_fraction_ * frames_ + fraction) / (frames_ + 1);
  ++frames_;
  updatePosterior();
}

void Model::adapt(cv::InputArray frame_bgr, cv::InputArray mask, cv::InputArray ignore,
                  double rate) {
  if (!(rate > 0 && rate <= 1) || !trained())
    return;
  adaptLab(toLab(frame_bgr), mask, ignore, rate);
}

void Model::adaptLab(cv::InputArray lab_in, cv::InputArray mask, cv::InputArray ignore,
                     double rate) {
  if (!(rate > 0 && rate <= 1) || !trained())
    return;
  const cv::Mat lab = lab_in.getMat();
  if (lab.empty() || lab.type() != CV_8UC3)
    throw Error("flagmask: adaptLab needs an 8-bit 3-channel Lab image");
  const cv::Mat object = maskAtSize(mask, lab.size(), "adaptation mask");
  cv::Mat background = object == 0;
  if (!ignore.empty()) {
    const cv::Mat skip = maskAtSize(ignore, lab.size(), "ignore mask");
    background.setTo(0, skip);
  }
  cv::Mat oh, bh;
  histograms(lab, object, background, oh, bh);
  const double n_object = cv::sum(oh)[0], n_background = cv::sum(bh)[0];
  // Blend normalised shapes, keeping each histogram's mass: the model forgets old frames at `rate`
  // per frame whatever the object's size.
  if (n_object > 0)
    object_hist_ = object_hist_ * (1 - rate) + oh * (rate * object_count_ / n_object);
  if (n_background > 0)
    background_hist_ =
        background_hist_ * (1 - rate) + bh * (rate * background_count_ / n_background);
  updatePosterior();
}

void Model::updatePosterior() {
  // Likelihoods with equal priors: the spatial prior (where the object was) comes from tracking,
  // not from how big the object happened to be in training.
  const double no = std::max(object_count_, 1.0), nb = std::max(background_count_, 1.0);
  cv::Mat po = object_hist_ / no + kSmoothing;
  cv::Mat pb = background_hist_ / nb + kSmoothing;
  posterior_ = po / (po + pb);
}

void Model::predictLab(cv::InputArray lab_in, cv::OutputArray probability) const {
  cv::Mat lab = lab_in.getMat();
  if (lab.empty() || lab.type() != CV_8UC3)
    throw Error("flagmask: predictLab needs an 8-bit 3-channel Lab image");
  const int channels[] = {0, 1, 2};
  const float range[] = {0, 256};
  const float *ranges[] = {range, range, range};
  // The back projection has the image's 8-bit depth: scale the posterior to 0..255 so it keeps
  // 256 levels instead of being rounded to 0 or 1.
  cv::Mat out;
  cv::calcBackProject(&lab, 1, channels, posterior_, out, ranges, 255.0, true);
  out.convertTo(probability, CV_32F, 1.0 / 255);
}

void Model::predict(cv::InputArray frame_bgr, cv::OutputArray probability) const {
  predictLab(toLab(frame_bgr), probability);
}

void Model::write(cv::FileStorage &fs) const {
  fs << "format" << kFormatName << "version" << kFormatVersion;
  fs << "colour_space"
     << "Lab"
     << "bins" << bins_;
  fs << "object_count" << object_count_ << "background_count" << background_count_;
  fs << "object_fraction" << object_fraction_ << "frames" << frames_;
  if (!network_.empty())
    fs << "network" << network_;
  fs << "object_hist" << object_hist_.reshape(1, 1) << "background_hist"
     << background_hist_.reshape(1, 1);
}

Model Model::read(const cv::FileNode &fs, const std::string &path) {
  const std::string format = fs["format"].isString() ? fs["format"].string() : "";
  if (format != kFormatName)
    throw Error("flagmask: model file '" + path + "' is not a flagmask model (format '" + format +
                "', expected '" + kFormatName + "')");
  const int version = fs["version"].isInt() ? static_cast<int>(fs["version"]) : -1;
  if (version != kFormatVersion)
    throw Error("flagmask: model file '" + path + "' has version " + std::to_string(version) +
                ", this build reads version " + std::to_string(kFormatVersion));
  const int bins = fs["bins"].isInt() ? static_cast<int>(fs["bins"]) : -1;
  if (bins < kMinBins || bins > kMaxBins)
    throw Error("flagmask: model file '" + path + "' is malformed: bins " + std::to_string(bins) +
                " is out of range");
  Model model(bins);
  checkHistogram(fs, path, "object_hist", bins, model.object_hist_);
  checkHistogram(fs, path, "background_hist", bins, model.background_hist_);
  const double fraction =
      fs["object_fraction"].isReal() ? static_cast<double>(fs["object_fraction"]) : -1.0;
  if (!(fraction > 0 && fraction <= 1))
    throw Error("flagmask: model file '" + path +
                "' is malformed: object_fraction must be in (0, 1]");
  model.object_fraction_ = fraction;
  model.frames_ = trainingFrames(fs["frames"], path);
  model.network_ = networkNamed(fs["network"], path);
  model.object_count_ = cv::sum(model.object_hist_)[0];
  model.background_count_ = cv::sum(model.background_hist_)[0];
  if (!model.trained())
    throw Error("flagmask: model file '" + path + "' is malformed: it holds no training pixels");
  model.updatePosterior();
  return model;
}

} // namespace flagmask
