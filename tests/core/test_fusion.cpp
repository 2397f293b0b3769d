// Fusion: the naive Bayes the tracker ships with, and the learned fusion's fit and file format.
#include "fusion.h"
#include "test_support.h"

#include <opencv2/core.hpp>

#include <cmath>
#include <fstream>
#include <random>

namespace {

const cv::Size kSize(8, 4);

flagmask::FusionCues uniformCues(float carried, float distance, float appearance) {
  flagmask::FusionCues cues;
  cues.carried = cv::Mat(kSize, CV_32F, cv::Scalar(carried));
  cues.distance = cv::Mat(kSize, CV_32F, cv::Scalar(distance));
  cues.appearance = cv::Mat(kSize, CV_32F, cv::Scalar(appearance));
  cues.edges = cv::Mat::zeros(kSize, CV_32F);
  return cues;
}

float at(const cv::Mat &m) {
  return m.at<float>(0, 0);
}

// Samples whose label follows a known logistic law over the features.
void syntheticSamples(const std::vector<double> &truth, cv::Mat &samples, cv::Mat &labels) {
  std::mt19937 random(7);
  std::normal_distribution<float> value(0.0f, 1.5f);
  std::uniform_real_distribution<double> coin(0.0, 1.0);
  const int n = flagmask::Fusion::featureCount();
  samples.create(20000, n, CV_32F);
  labels.create(20000, 1, CV_32F);
  for (int r = 0; r < samples.rows; ++r) {
    double z = truth.back();
    for (int f = 0; f < n; ++f) {
      samples.at<float>(r, f) = value(random);
      z += truth[f] * samples.at<float>(r, f);
    }
    labels.at<float>(r) = coin(random) < 1.0 / (1.0 + std::exp(-z)) ? 1.0f : 0.0f;
  }
}

class FusionFile : public flagmask::testing::TempDirTest {};

} // namespace

TEST(Fusion, NaiveBayesTrustsTheCarriedMaskFarFromItsBoundary) {
  const flagmask::Fusion f = flagmask::Fusion::naiveBayes(0.5);
  // Deep inside the carried object, an unsure colour does not remove a pixel...
  EXPECT_GT(at(f.probability(uniformCues(1.0f, 3.0f, 0.3f))), 0.5f);
  // ...at the boundary, where trust is lowest, the same colour does.
  EXPECT_LT(at(f.probability(uniformCues(0.6f, 0.0f, 0.3f))), 0.5f);
}

TEST(Fusion, NaiveBayesMultipliesTheExperts) {
  flagmask::FusionCues cues = uniformCues(1.0f, 1.0f, 0.5f);
  cues.motion = cv::Mat(kSize, CV_32F, cv::Scalar(0.8f));
  // Full trust: prior 0.95; appearance neutral; motion 0.8 -> 0.95*0.8 / (0.95*0.8 + 0.05*0.2).
  EXPECT_NEAR(at(flagmask::Fusion::naiveBayes(0.85).probability(cues)), 0.76 / 0.77, 1e-5);
}

TEST(Fusion, FitRecoversTheWeightsOfALogisticLaw) {
  const int n = flagmask::Fusion::featureCount();
  std::vector<double> truth(n + 1);
  for (int f = 0; f <= n; ++f)
    truth[f] = (f % 3 == 0 ? 1.0 : -0.5) * (1 + f % 2);
  cv::Mat samples, labels;
  syntheticSamples(truth, samples, labels);
  const flagmask::Fusion fit = flagmask::fitFusion(samples, labels);
  ASSERT_TRUE(fit.learned());
  for (int f = 0; f <= n; ++f)
    EXPECT_NEAR(fit.weights()[f], truth[f], 0.15) << "weight " << f;
}

TEST_F(FusionFile, SavedWeightsLoadBack) {
  std::vector<double> weights(flagmask::Fusion::featureCount() + 1);
  for (size_t i = 0; i < weights.size(); ++i)
    weights[i] = 0.25 * i - 1;
  flagmask::Fusion::fromWeights(weights).save(path("f.yml"));
  const flagmask::Fusion loaded = flagmask::Fusion::load(path("f.yml"));
  ASSERT_EQ(loaded.weights().size(), weights.size());
  for (size_t i = 0; i < weights.size(); ++i)
    EXPECT_DOUBLE_EQ(loaded.weights()[i], weights[i]);
}

TEST_F(FusionFile, LoadedWeightsGiveTheSameProbability) {
  std::vector<double> weights(flagmask::Fusion::featureCount() + 1, 0.1);
  const flagmask::Fusion f = flagmask::Fusion::fromWeights(weights);
  f.save(path("f.yml"));
  const flagmask::FusionCues cues = uniformCues(0.7f, 0.4f, 0.6f);
  EXPECT_FLOAT_EQ(at(flagmask::Fusion::load(path("f.yml")).probability(cues)),
                  at(f.probability(cues)));
}

TEST_F(FusionFile, RefusesFilesItCannotUse) {
  flagmask::testing::expectErrorNaming([&] { flagmask::Fusion::load(path("missing.yml")); },
                                       path("missing.yml"));
  std::ofstream(path("other.yml")) << "%YAML:1.0\n---\nformat: flagmask-model\nversion: 1\n";
  flagmask::testing::expectErrorNaming([&] { flagmask::Fusion::load(path("other.yml")); },
                                       path("other.yml"));
  std::ofstream(path("short.yml"))
      << "%YAML:1.0\n---\nformat: flagmask-fusion\nversion: 1\nfeatures: [carried]\n"
         "weights: [1, 2]\n";
  flagmask::testing::expectErrorNaming([&] { flagmask::Fusion::load(path("short.yml")); },
                                       path("short.yml"));
  std::ofstream(path("junk.yml")) << "\x01\x02 not yaml {{{";
  flagmask::testing::expectErrorNaming([&] { flagmask::Fusion::load(path("junk.yml")); },
                                       path("junk.yml"));
}
