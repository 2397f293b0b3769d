// Unit tests for the pacer: when a live stream's frames are analysed and when they are carried.
#include "pace.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <string>

namespace {

using flagmask::Pacer;

constexpr std::int64_t kPeriod = 33'333'333; // ns: 30 frames a second
constexpr double kSlow = 0.050;              // s: an analysed frame that does not fit the period
constexpr double kCheap = 0.004;             // s: a carried frame
constexpr std::int64_t kLate = 15'000'000;   // ns: downstream rendered a frame this late

// Runs n frames, each analysed one costing analysed seconds and each carried one carried seconds,
// with a late report before each when late; returns the decisions as a string ('A' analysed,
// 'c' carried).
std::string run(Pacer &pacer, int n, double analysed, double carried, bool late,
                std::optional<std::int64_t> period = kPeriod) {
  std::string decisions;
  for (int i = 0; i < n; ++i) {
    if (late)
      pacer.reportLateness(kLate);
    const bool analyse = pacer.analyseNext(period);
    pacer.finished(analyse ? analysed : carried, analyse);
    decisions += analyse ? 'A' : 'c';
  }
  return decisions;
}

TEST(Pacer, WithoutLateReportsEveryFrameIsAnalysed) {
  Pacer pacer;
  EXPECT_EQ(run(pacer, 60, kSlow, kCheap, false), std::string(60, 'A'));
  EXPECT_EQ(pacer.interval(), 1);
}

TEST(Pacer, EarlyReportsAreNotLate) {
  Pacer pacer;
  for (int i = 0; i < 60; ++i) {
    pacer.reportLateness(-kLate);
    ASSERT_TRUE(pacer.analyseNext(kPeriod));
    pacer.finished(kSlow, true);
  }
}

TEST(Pacer, LateAndTooSlowForThePeriodAnalysesFewerFrames) {
  Pacer pacer;
  const std::string decisions = run(pacer, 30, kSlow, kCheap, true);
  // 50 ms analysed and 4 ms carried: one in two costs 27 ms, over 80 % of 33 ms; one in three 19.
  EXPECT_EQ(pacer.interval(), 3);
  const std::string last = decisions.substr(decisions.size() - 9);
  EXPECT_EQ(std::count(last.begin(), last.end(), 'A'), 3) << decisions;
  EXPECT_EQ(last.find("AA"), std::string::npos) << decisions;
  EXPECT_EQ(last.find("ccc"), std::string::npos) << decisions;
}

TEST(Pacer, LateButFastEnoughIsNotTheElementsDoing) {
  Pacer pacer; // downstream is late for reasons of its own: analysing less would not help
  EXPECT_EQ(run(pacer, 60, 0.010, kCheap, true), std::string(60, 'A'));
}

TEST(Pacer, WithoutAFramePeriodEveryFrameIsAnalysed) {
  Pacer pacer;
  EXPECT_EQ(run(pacer, 30, kSlow, kCheap, true, std::nullopt), std::string(30, 'A'));
}

TEST(Pacer, NeverWiderThanTheWidestInterval) {
  Pacer pacer;
  run(pacer, 60, 1.0, kCheap, true);
  EXPECT_EQ(pacer.interval(), flagmask::kMaxAnalysisInterval);
}

// Frames until the interval comes back to 1 once the frames fit and nothing is late.
int framesToComeBack(Pacer &pacer) {
  for (int i = 1; i <= 2000; ++i) {
    run(pacer, 1, 0.012, 0.002, false);
    if (pacer.interval() == 1)
      return i;
  }
  return -1;
}

TEST(Pacer, ComesBackToEveryFrameOnceThereIsTime) {
  Pacer pacer;
  run(pacer, 30, kSlow, kCheap, true);
  ASSERT_GT(pacer.interval(), 1);
  const int frames = framesToComeBack(pacer);
  EXPECT_GT(frames, 0);
  EXPECT_GE(frames, 30); // not at the first quiet frame
}

TEST(Pacer, AStepDownThatHadToBeUndoneWaitsLongerNextTime) {
  Pacer pacer;
  constexpr double kHalfSlow = 0.040; // one frame in two fits: (40 + 4) / 2 ms
  run(pacer, 30, kHalfSlow, kCheap, true);
  ASSERT_EQ(pacer.interval(), 2);
  const int first = framesToComeBack(pacer);
  run(pacer, 30, kHalfSlow, kCheap, true); // too soon: the step down did not fit
  ASSERT_EQ(pacer.interval(), 2);
  const int second = framesToComeBack(pacer);
  EXPECT_GT(second, first);
}

TEST(Pacer, FramesAlreadyDueAreCarriedButNotMoreThanThreeInARow) {
  Pacer pacer;
  pacer.reportLateness(200'000'000, 0); // the frame at 0 was rendered 200 ms late
  std::string decisions;
  for (int i = 1; i <= 10; ++i) { // frames 1..6 are due by 200 ms: their time has passed
    const bool analyse = pacer.analyseNext(kPeriod, i * kPeriod);
    pacer.finished(analyse ? 0.010 : 0.002, analyse);
    decisions += analyse ? 'A' : 'c';
  }
  EXPECT_EQ(decisions, "cccAccAAAA");
}

TEST(Pacer, AnEarlyReportLeavesNoFrameDue) {
  Pacer pacer;
  pacer.reportLateness(-5'000'000, 0);
  for (int i = 1; i <= 5; ++i)
    EXPECT_TRUE(pacer.analyseNext(kPeriod, i * kPeriod)) << i;
}

TEST(Pacer, FarBehindIsLaterThanTheWidestIntervalsFrames) {
  Pacer pacer;
  pacer.reportLateness(3 * kPeriod, 0);
  pacer.analyseNext(kPeriod, kPeriod);
  EXPECT_FALSE(pacer.farBehind());
  pacer.reportLateness(5 * kPeriod, 0);
  pacer.analyseNext(kPeriod, 2 * kPeriod);
  EXPECT_TRUE(pacer.farBehind());
  pacer.reportLateness(-kPeriod, 0);
  pacer.analyseNext(kPeriod, 3 * kPeriod);
  EXPECT_FALSE(pacer.farBehind());
}

TEST(Pacer, ResetAnalysesEveryFrameAgain) {
  Pacer pacer;
  run(pacer, 30, kSlow, kCheap, true);
  pacer.reset();
  EXPECT_EQ(pacer.interval(), 1);
  EXPECT_EQ(run(pacer, 10, kSlow, kCheap, false), std::string(10, 'A'));
}

} // namespace
