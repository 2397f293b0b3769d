// Unit tests for the seed mask made from a box with grabCut.
#include "error.h"
#include "eval/metrics.h"
#include "eval/synthetic.h"
#include "seed_box.h"

#include <gtest/gtest.h>
#include <opencv2/core.hpp>
#include <opencv2/imgproc.hpp>

#include <chrono>
#include <functional>
#include <string>

namespace {

const cv::Size kSize(320, 240);
const cv::Point kCentre(150, 130);
const int kRadius = 50;

// A red disc on a seeded, textured grey-green background: blotches of colour and noise, so that
// grabCut has to tell the object from a background that is not one colour.
struct Scene {
  cv::Mat frame;
  cv::Mat truth; // 255 = disc
};

Scene discScene() {
  cv::RNG rng(7);
  cv::Mat frame(kSize, CV_8UC3, cv::Scalar(90, 120, 100));
  for (int i = 0; i < 60; ++i) {
    const cv::Point at(rng.uniform(0, kSize.width), rng.uniform(0, kSize.height));
    const cv::Scalar colour(rng.uniform(40, 160), rng.uniform(80, 180), rng.uniform(40, 140));
    cv::circle(frame, at, rng.uniform(5, 25), colour, cv::FILLED, cv::LINE_AA);
  }
  Scene s;
  s.truth = cv::Mat::zeros(kSize, CV_8U);
  cv::circle(s.truth, kCentre, kRadius, cv::Scalar(255), cv::FILLED);
  frame.setTo(cv::Scalar(40, 40, 200), s.truth);
  cv::Mat noise(kSize, CV_16SC3);
  rng.fill(noise, cv::RNG::NORMAL, 0, 6);
  cv::add(frame, noise, s.frame, cv::noArray(), CV_8UC3);
  return s;
}

// The disc's bounding box with a margin, as a user would draw it.
cv::Rect boxAroundDisc(int margin = 10) {
  return cv::Rect(kCentre.x - kRadius - margin, kCentre.y - kRadius - margin,
                  2 * (kRadius + margin), 2 * (kRadius + margin));
}

// Runs f, expects a flagmask::Error whose message holds every one of words.
void expectErrorSaying(const std::function<void()> &f, std::initializer_list<std::string> words) {
  try {
    f();
    ADD_FAILURE() << "no flagmask::Error thrown";
  } catch (const flagmask::Error &e) {
    for (const auto &w : words)
      EXPECT_NE(std::string(e.what()).find(w), std::string::npos)
          << "message lacks '" << w << "': " << e.what();
  }
}

TEST(MaskFromBox, CutsTheDiscOutOfItsBox) {
  const Scene s = discScene();
  const cv::Mat mask = flagmask::maskFromBox(s.frame, boxAroundDisc());
  ASSERT_EQ(mask.size(), kSize);
  ASSERT_EQ(mask.type(), CV_8U);
  EXPECT_EQ(cv::countNonZero((mask != 0) & (mask != 255)), 0) << "mask is not 0/255";
  // The box alone scores (pi r^2) / (2(r+10))^2 = 0.55: the cut must do far better.
  EXPECT_GT(flagmask::jaccard(mask, s.truth), 0.9);
}

TEST(MaskFromBox, NothingOutsideTheBox) {
  const Scene s = discScene();
  const cv::Rect box = boxAroundDisc(20);
  cv::Mat outside = flagmask::maskFromBox(s.frame, box).clone();
  outside(box).setTo(0);
  EXPECT_EQ(cv::countNonZero(outside), 0);
}

TEST(MaskFromBox, SameMaskEveryTime) {
  const Scene s = discScene();
  const cv::Mat a = flagmask::maskFromBox(s.frame, boxAroundDisc());
  const cv::Mat b = flagmask::maskFromBox(s.frame, boxAroundDisc());
  EXPECT_EQ(cv::countNonZero(a != b), 0);
}

TEST(MaskFromBox, CutsTheSyntheticFlag) {
  const flagmask::SyntheticFrame f = flagmask::syntheticFlag(0, cv::Size(480, 270));
  cv::Rect box = cv::boundingRect(f.mask);
  box = cv::Rect(box.x - 6, box.y - 6, box.width + 12, box.height + 12) &
        cv::Rect(cv::Point(0, 0), f.mask.size());
  EXPECT_GT(flagmask::jaccard(flagmask::maskFromBox(f.frame, box), f.mask), 0.8);
}

// A large frame is cut at the bounded working size and brought back to the frame's size.
TEST(MaskFromBox, LargeFrameAtFrameSize) {
  const Scene s = discScene();
  cv::Mat frame, truth;
  cv::resize(s.frame, frame, kSize * 4, 0, 0, cv::INTER_LINEAR);
  cv::resize(s.truth, truth, kSize * 4, 0, 0, cv::INTER_NEAREST);
  const cv::Rect b = boxAroundDisc();
  const cv::Rect box(b.x * 4, b.y * 4, b.width * 4, b.height * 4);
  const auto start = std::chrono::steady_clock::now();
  const cv::Mat mask = flagmask::maskFromBox(frame, box);
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  ASSERT_EQ(mask.size(), frame.size());
  EXPECT_GT(flagmask::jaccard(mask, truth), 0.9);
  EXPECT_LT(seconds, 5.0) << "the working size should bound grabCut's cost";
}

TEST(MaskFromBox, BoxOutsideTheFrame) {
  const Scene s = discScene();
  expectErrorSaying([&] { flagmask::maskFromBox(s.frame, cv::Rect(300, 100, 40, 40)); },
                    {"300,100,40,40", "320x240", "not inside the frame"});
  expectErrorSaying([&] { flagmask::maskFromBox(s.frame, cv::Rect(-5, 10, 40, 40)); },
                    {"-5,10,40,40", "not inside the frame"});
  expectErrorSaying([&] { flagmask::maskFromBox(s.frame, cv::Rect(10, 10, 0, 40)); },
                    {"not inside the frame"});
}

TEST(MaskFromBox, BoxTooSmall) {
  const Scene s = discScene();
  expectErrorSaying([&] { flagmask::maskFromBox(s.frame, cv::Rect(100, 100, 5, 40)); },
                    {"100,100,5,40", "too small", "8x8"});
}

TEST(MaskFromBox, BoxLeavingNoBackground) {
  const Scene s = discScene();
  expectErrorSaying([&] { flagmask::maskFromBox(s.frame, cv::Rect(cv::Point(0, 0), kSize)); },
                    {"0,0,320,240", "background", "margin"});
}

TEST(MaskFromBox, NoObjectInTheBox) {
  // A plain frame: grabCut has nothing in the box that differs from around it.
  const cv::Mat plain(kSize, CV_8UC3, cv::Scalar(100, 100, 100));
  expectErrorSaying([&] { flagmask::maskFromBox(plain, cv::Rect(100, 80, 60, 60)); },
                    {"no object", "100,80,60,60", "mask instead"});
}

TEST(MaskFromBox, FrameNotBgr) {
  const cv::Mat grey(kSize, CV_8U, cv::Scalar(0));
  expectErrorSaying([&] { flagmask::maskFromBox(grey, boxAroundDisc()); },
                    {"8-bit BGR", "1 channel"});
  expectErrorSaying([&] { flagmask::maskFromBox(cv::Mat(), boxAroundDisc()); }, {"empty"});
}

// Which warnings a user gets: none for a box with a margin whose cut-out fills less than half of
// it; the edges a box touches, named; a cut-out filling more than half of its box.
TEST(BoxSeedWarnings, NoneForAMarginedBoxMostlyBackground) {
  const Scene s = discScene();
  const cv::Rect box = boxAroundDisc(30); // the disc fills pi 50^2 / 160^2 = 31 % of it
  EXPECT_TRUE(flagmask::boxSeedWarnings(box, kSize, flagmask::maskFromBox(s.frame, box)).empty());
}

TEST(BoxSeedWarnings, NamesTheEdgesTheBoxTouches) {
  const cv::Mat none = cv::Mat::zeros(kSize, CV_8U);
  const auto top = flagmask::boxSeedWarnings(cv::Rect(100, 0, 80, 60), kSize, none);
  ASSERT_EQ(top.size(), 1u);
  EXPECT_NE(top[0].find("100,0,80,60"), std::string::npos) << top[0];
  EXPECT_NE(top[0].find("top edge"), std::string::npos) << top[0];
  const auto corner = flagmask::boxSeedWarnings(cv::Rect(250, 200, 70, 40), kSize, none);
  ASSERT_EQ(corner.size(), 1u);
  EXPECT_NE(corner[0].find("bottom and right edges"), std::string::npos) << corner[0];
}

TEST(BoxSeedWarnings, ACutOutFillingMostOfItsBox) {
  const cv::Rect box(100, 60, 80, 60);
  cv::Mat mask = cv::Mat::zeros(kSize, CV_8U);
  mask(cv::Rect(104, 64, 72, 52)).setTo(255); // 78 % of the box
  const auto warnings = flagmask::boxSeedWarnings(box, kSize, mask);
  ASSERT_EQ(warnings.size(), 1u);
  EXPECT_NE(warnings[0].find("78 %"), std::string::npos) << warnings[0];
  mask(cv::Rect(104, 64, 72, 52)).setTo(0);
  mask(cv::Rect(110, 70, 40, 40)).setTo(255); // 33 %
  EXPECT_TRUE(flagmask::boxSeedWarnings(box, kSize, mask).empty());
}

TEST(ParseBox, ReadsXYWH) {
  EXPECT_EQ(flagmask::parseBox("120,40,200,150"), cv::Rect(120, 40, 200, 150));
  EXPECT_EQ(flagmask::boxText(cv::Rect(1, 2, 3, 4)), "1,2,3,4");
}

TEST(ParseBox, RefusesOtherText) {
  for (const char *bad : {"", "1,2,3", "1,2,3,4,5", "1,2,3,x", "-1,2,3,4", "1, 2,3,4", "1,2,3,4 ",
                          "99999999999,1,1,1", "1x2"})
    expectErrorSaying([&] { flagmask::parseBox(bad); }, {"'" + std::string(bad) + "'", "x,y,w,h"});
}

} // namespace
