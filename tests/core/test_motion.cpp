// Motion evidence: pixels moving unlike the camera are object-like only when the object does.
#include "motion.h"

#include <gtest/gtest.h>

namespace {

const cv::Size kSize(160, 120);
const cv::Rect kObject(60, 40, 40, 30);

// Flow (current -> previous) of a camera panning by pan, with the object moving by object_shift.
cv::Mat panningFlow(cv::Point2f pan, cv::Point2f object_shift) {
  cv::Mat flow(kSize, CV_32FC2, cv::Scalar(pan.x, pan.y));
  flow(kObject).setTo(cv::Scalar(object_shift.x, object_shift.y));
  return flow;
}

cv::Mat carriedObject() {
  cv::Mat carried = cv::Mat::zeros(kSize, CV_32F);
  carried(kObject).setTo(1.0);
  return carried;
}

} // namespace

TEST(Motion, ObjectMovingAgainstTheCameraIsObjectLike) {
  const cv::Mat e = flagmask::motionEvidence(panningFlow({2, 0}, {-3, 1}), carriedObject(), 0.6);
  ASSERT_FALSE(e.empty());
  ASSERT_EQ(e.type(), CV_32F);
  EXPECT_GT(cv::mean(e(kObject))[0], 0.7);
  EXPECT_LT(e.at<float>(5, 5), 0.3);
  double lo, hi;
  cv::minMaxLoc(e, &lo, &hi);
  EXPECT_GE(lo, 0.5 - 0.3 - 1e-6); // strength bounds the evidence
  EXPECT_LE(hi, 0.5 + 0.3 + 1e-6);
}

TEST(Motion, ObjectMovingWithTheCameraIsNeutral) {
  const cv::Mat e = flagmask::motionEvidence(panningFlow({2, 0}, {2, 0}), carriedObject(), 0.6);
  ASSERT_FALSE(e.empty());
  EXPECT_NEAR(cv::mean(e(kObject))[0], 0.5, 0.05);
  EXPECT_NEAR(e.at<float>(5, 5), 0.5, 0.05);
}

TEST(Motion, ZeroStrengthGivesNoEvidence) {
  EXPECT_TRUE(flagmask::motionEvidence(panningFlow({2, 0}, {-3, 1}), carriedObject(), 0.0).empty());
}

TEST(Motion, ObjectFillingTheFrameGivesNoEvidence) {
  const cv::Mat carried = cv::Mat::ones(kSize, CV_32F); // no background to fit the camera on
  EXPECT_TRUE(flagmask::motionEvidence(panningFlow({2, 0}, {-3, 1}), carried, 0.6).empty());
}
