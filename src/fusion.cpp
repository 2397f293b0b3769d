#include "fusion.h"

#include "error.h"
#include "parallel.h"

#include <opencv2/imgproc.hpp>

#include <cmath>
#include <fstream>
#include <sstream>

namespace flagmask {
namespace {

constexpr const char *kFormatName = "flagmask-fusion";
constexpr int kFormatVersion = 1;

// The carried mask is never taken as certain, so strong appearance and motion evidence can still
// remove a piece that leaked into the background: its probability is pulled into
// [0.5 - kCarriedCertainty / 2, 0.5 + kCarriedCertainty / 2].
constexpr double kCarriedCertainty = 0.9;
// Appearance is clipped likewise: one colour histogram is never sure.
constexpr float kAppearanceFloor = 0.02f;
// Logits of the carried mask are taken from probabilities clipped to this distance from 0 and 1.
constexpr float kCarriedFloor = 0.01f;
// Side of the box over which appearance is averaged for the local-appearance feature.
constexpr int kLocalSide = 9;

const char *const kFeatureNames[] = {
    "carried",
    "carried_far",
    "distance",
    "appearance",
    "appearance_near",
    "motion",
    "motion_near",
    "edges",
    "edges_near",
    "appearance_local",
    "carried_x_appearance",
    "naive_bayes",
};
constexpr int kFeatures = sizeof kFeatureNames / sizeof kFeatureNames[0];

cv::Mat clipped(const cv::Mat &p, float floor) {
  cv::Mat out;
  cv::min(cv::max(p, floor), 1.0f - floor, out);
  return out;
}

cv::Mat logit(const cv::Mat &p, float floor) {
  const cv::Mat q = clipped(p, floor);
  cv::Mat odds, out;
  cv::divide(q, 1.0 - q, odds);
  cv::log(odds, out);
  return out;
}

cv::Mat sigmoid(const cv::Mat &z) {
  cv::Mat e;
  cv::exp(-z, e);
  cv::Mat out;
  cv::divide(1.0, 1.0 + e, out);
  return out;
}

// How far a pixel is from the carried boundary, 0 at the boundary, 1 a band's width away or more.
cv::Mat farness(const cv::Mat &distance) {
  cv::Mat t = cv::abs(distance);
  cv::min(t, 1.0, t);
  return t;
}

std::string describe(const std::string &origin) {
  return "fusion file '" + origin + "'";
}

} // namespace

Fusion Fusion::naiveBayes(double temporal_weight) {
  Fusion f;
  f.temporal_weight_ = temporal_weight;
  return f;
}

Fusion Fusion::fromWeights(std::vector<double> weights) {
  if (static_cast<int>(weights.size()) != kFeatures + 1)
    throw Error("flagmask: a fusion needs " + std::to_string(kFeatures + 1) + " weights");
  Fusion f;
  f.weights_ = std::move(weights);
  return f;
}

Fusion Fusion::load(const std::string &path) {
  std::ifstream in(path, std::ios::binary);
  if (!in)
    throw Error("flagmask: could not read fusion file '" + path +
                "': the file does not exist or cannot be opened");
  std::stringstream text;
  text << in.rdbuf();
  return parse(text.str(), path);
}

Fusion Fusion::parse(const std::string &yaml, const std::string &origin) {
  const std::string what = describe(origin);
  try {
    cv::FileStorage fs(yaml, cv::FileStorage::READ | cv::FileStorage::MEMORY |
                                 cv::FileStorage::FORMAT_YAML);
    const std::string format = fs["format"].isString() ? fs["format"].string() : "";
    if (format != kFormatName)
      throw Error("flagmask: " + what + " is not a flagmask fusion (format '" + format + "')");
    const int version = fs["version"].isInt() ? static_cast<int>(fs["version"]) : -1;
    if (version != kFormatVersion)
      throw Error("flagmask: " + what + " has version " + std::to_string(version) +
                  ", this build reads version " + std::to_string(kFormatVersion));
    std::vector<std::string> names;
    fs["features"] >> names;
    if (names != featureNames())
      throw Error("flagmask: " + what + " was fitted on other features than this build computes");
    std::vector<double> weights;
    fs["weights"] >> weights;
    if (static_cast<int>(weights.size()) != kFeatures + 1)
      throw Error("flagmask: " + what + " is malformed: it needs " + std::to_string(kFeatures + 1) +
                  " weights");
    for (double w : weights)
      if (!std::isfinite(w))
        throw Error("flagmask: " + what + " is malformed: a weight is not finite");
    return fromWeights(std::move(weights));
  } catch (const cv::Exception &e) {
    throw Error("flagmask: could not read " + what + ": " + e.err);
  }
}

void Fusion::save(const std::string &path) const {
  if (!learned())
    throw Error("flagmask: the naive-Bayes fusion has no weights to save");
  cv::FileStorage fs;
  try {
    fs.open(path, cv::FileStorage::WRITE | cv::FileStorage::FORMAT_YAML);
  } catch (const cv::Exception &e) {
    throw Error("flagmask: could not write fusion file '" + path + "': " + e.err);
  }
  if (!fs.isOpened())
    throw Error("flagmask: could not write fusion file '" + path + "'");
  fs << "format" << kFormatName << "version" << kFormatVersion;
  fs << "features" << featureNames();
  fs << "weights" << weights_;
}

int Fusion::featureCount() {
  return kFeatures;
}

std::vector<std::string> Fusion::featureNames() {
  return std::vector<std::string>(kFeatureNames, kFeatureNames + kFeatures);
}

// The features, in the order of kFeatureNames. "far" weighs a cue by the distance from the carried
// boundary, "near" by its closeness: how much each expert counts depends on where the pixel is.
std::vector<cv::Mat> Fusion::features(const FusionCues &cues) {
  const cv::Mat far = farness(cues.distance), near = 1.0 - far;
  const cv::Mat carried = logit(cues.carried, kCarriedFloor);
  const cv::Mat appearance = logit(cues.appearance, kAppearanceFloor);
  const cv::Mat motion = cues.motion.empty() ? cv::Mat::zeros(cues.carried.size(), CV_32F)
                                             : logit(cues.motion, kAppearanceFloor);
  cv::Mat distance, local;
  cv::min(cv::max(cues.distance, -1.0), 1.0, distance);
  cv::blur(appearance, local, cv::Size(kLocalSide, kLocalSide));
  return {carried,
          carried.mul(far),
          distance,
          appearance,
          appearance.mul(near),
          motion,
          motion.mul(near),
          cues.edges,
          cues.edges.mul(near),
          local,
          carried.mul(appearance) * (1.0 / 4),
          logit(naiveBayes(0.85).probability(cues), 1e-4f)};
}

// Naive Bayes over three experts: the carried mask (the prior, trusted more the farther a pixel is
// from the carried boundary), appearance, and motion against the camera's. One pass per pixel: as
// a chain of whole-image expressions it made a dozen frame-sized temporaries.
cv::Mat Fusion::naiveBayesProbability(const FusionCues &cues) const {
  const float w0 = static_cast<float>(temporal_weight_);
  const float certainty = static_cast<float>(kCarriedCertainty);
  const bool has_motion = !cues.motion.empty();
  cv::Mat fused(cues.carried.size(), CV_32F);
  forRows(fused.rows, [&](int y) {
    const float *carried = cues.carried.ptr<float>(y), *distance = cues.distance.ptr<float>(y);
    const float *appearance = cues.appearance.ptr<float>(y);
    const float *motion = has_motion ? cues.motion.ptr<float>(y) : nullptr;
    float *out = fused.ptr<float>(y);
    for (int x = 0; x < fused.cols; ++x) {
      const float trust = std::min(std::abs(distance[x]), 1.0f) * (1.0f - w0) + w0;
      const float prior = 0.5f + (carried[x] - 0.5f) * trust * certainty;
      const float app =
          std::min(std::max(appearance[x], kAppearanceFloor), 1.0f - kAppearanceFloor);
      float object = prior * app, background = (1.0f - prior) * (1.0f - app);
      if (has_motion) {
        object *= motion[x];
        background *= 1.0f - motion[x];
      }
      out[x] = object / (object + background);
    }
  });
  return fused;
}

cv::Mat Fusion::probability(const FusionCues &cues) const {
  if (!learned())
    return naiveBayesProbability(cues);
  const std::vector<cv::Mat> planes = features(cues);
  cv::Mat z(cues.carried.size(), CV_32F, cv::Scalar(weights_.back()));
  for (int i = 0; i < kFeatures; ++i)
    cv::scaleAdd(planes[i], weights_[i], z, z);
  return sigmoid(z);
}

// Newton's method (iteratively reweighted least squares) for the logistic regression: with a dozen
// features each step is one small linear solve, and it converges in a few steps where OpenCV's
// cv::ml::LogisticRegression, which only offers fixed-step gradient descent, had not converged
// after 3000 steps (log-loss 0.134 against Newton's lower optimum on the same samples).
Fusion fitFusion(const cv::Mat &samples, const cv::Mat &labels) {
  CV_Assert(samples.type() == CV_32F && samples.cols == kFeatures && labels.type() == CV_32F &&
            labels.rows == samples.rows && labels.cols == 1 && samples.rows > kFeatures);
  constexpr int kSteps = 25;
  constexpr double kRidge = 1e-3; // keeps the solve defined when a feature is constant
  cv::Mat x;
  cv::hconcat(samples, cv::Mat::ones(samples.rows, 1, CV_32F), x);
  x.convertTo(x, CV_64F);
  cv::Mat y;
  labels.convertTo(y, CV_64F);
  cv::Mat w = cv::Mat::zeros(x.cols, 1, CV_64F);
  for (int step = 0; step < kSteps; ++step) {
    const cv::Mat p = sigmoid(x * w);
    const cv::Mat curvature = p.mul(1.0 - p);
    cv::Mat weighted = x.clone();
    for (int r = 0; r < x.rows; ++r)
      weighted.row(r) *= curvature.at<double>(r);
    const cv::Mat hessian = x.t() * weighted + cv::Mat::eye(x.cols, x.cols, CV_64F) * kRidge;
    const cv::Mat gradient = x.t() * (y - p);
    cv::Mat delta;
    if (!cv::solve(hessian, gradient, delta, cv::DECOMP_CHOLESKY))
      throw Error("flagmask: fitting the fusion failed: the features are degenerate");
    w += delta;
    if (cv::norm(delta, cv::NORM_INF) < 1e-6)
      break;
  }
  if (!cv::checkRange(w))
    throw Error("flagmask: fitting the fusion failed: the weights diverged");
  return Fusion::fromWeights(std::vector<double>(w.begin<double>(), w.end<double>()));
}

} // namespace flagmask
