// Unit tests for the synthetic flag generators: the classic scene is frozen, the harder scene is
// deterministic and each of its effects (camera, exposure, occluder) does what it says.
#include "error.h"
#include "eval/synthetic.h"

#include <gtest/gtest.h>
#include <opencv2/core.hpp>
#include <opencv2/imgproc.hpp>

#include <cstdint>
#include <vector>

namespace {

const cv::Size kSize(480, 270);

// FNV-1a over the frame's bytes, then the mask's: a fingerprint of one generated frame.
std::uint64_t fingerprint(const flagmask::SyntheticFrame &f) {
  std::uint64_t h = 14695981039346656037ull;
  for (const cv::Mat *m : {&f.frame, &f.mask})
    for (int y = 0; y < m->rows; ++y) {
      const uchar *p = m->ptr(y);
      for (size_t i = 0; i < m->cols * m->elemSize(); ++i) {
        h ^= p[i];
        h *= 1099511628211ull;
      }
    }
  return h;
}

bool identical(const cv::Mat &a, const cv::Mat &b) {
  return a.size() == b.size() && a.type() == b.type() && cv::norm(a, b, cv::NORM_INF) == 0;
}

int visible(const flagmask::SyntheticFrame &f) {
  return cv::countNonZero(f.mask);
}

// The first and last frames of the occluder's stretch for a scene of n frames (~30% .. ~60%).
int occluderFirst(int n) {
  return static_cast<int>(std::lround(0.3 * n));
}
int occluderLast(int n) {
  return static_cast<int>(std::lround(0.6 * n));
}

// --- the classic scene --------------------------------------------------------------------------

// Fingerprints recorded from syntheticFlag(t, size) before the harder scene was added: existing
// tests, the demo and the pictures depend on these exact pixels.
TEST(SyntheticFlag, ClassicSceneIsUnchanged) {
  struct Case {
    cv::Size size;
    int t;
    std::uint64_t fingerprint;
  };
  const Case cases[] = {
      {{320, 240}, 0, 0x07d23b8684b4104eull},  {{320, 240}, 1, 0xd14d728adb07c858ull},
      {{320, 240}, 17, 0xe4327d803bd4a182ull}, {{320, 240}, 59, 0xcdc9f5ac526d438bull},
      {{640, 360}, 0, 0x7ac7a69a84d68164ull},  {{640, 360}, 119, 0xfe7b573d8c35d01dull},
      {{480, 270}, 17, 0xb06b87d8e5f319b2ull},
  };
  for (const Case &c : cases)
    EXPECT_EQ(fingerprint(flagmask::syntheticFlag(c.t, c.size)), c.fingerprint)
        << c.size << " t=" << c.t;
}

// --- the harder scene ---------------------------------------------------------------------------

TEST(SyntheticFlag, HardSceneIsDeterministic) {
  const flagmask::FlagScene scene;
  for (int t : {0, 40, 89}) {
    const flagmask::SyntheticFrame a = flagmask::syntheticFlag(t, kSize, scene);
    const flagmask::SyntheticFrame b = flagmask::syntheticFlag(t, kSize, scene);
    EXPECT_TRUE(identical(a.frame, b.frame)) << "t=" << t;
    EXPECT_TRUE(identical(a.mask, b.mask)) << "t=" << t;
  }
}

TEST(SyntheticFlag, HardSceneHasFrameSizeTypesAndABinaryMask) {
  const flagmask::FlagScene scene;
  for (int t = 0; t < scene.frames; t += 11) {
    const flagmask::SyntheticFrame f = flagmask::syntheticFlag(t, kSize, scene);
    ASSERT_EQ(f.frame.type(), CV_8UC3);
    ASSERT_EQ(f.mask.type(), CV_8UC1);
    ASSERT_EQ(f.frame.size(), kSize);
    ASSERT_EQ(f.mask.size(), kSize);
    EXPECT_EQ(cv::countNonZero((f.mask != 0) & (f.mask != 255)), 0) << "t=" << t;
    // The cloth is in view and well inside the frame on every frame of the sequence.
    EXPECT_GT(visible(f), kSize.area() / 20) << "t=" << t;
    EXPECT_LT(visible(f), kSize.area() / 2) << "t=" << t;
  }
}

// The camera moves: consecutive frames differ even where the cloth is not.
TEST(SyntheticFlag, CameraMovesTheBackground) {
  flagmask::FlagScene scene;
  scene.exposure_drift = 0;
  scene.occluder = false;
  const flagmask::SyntheticFrame a = flagmask::syntheticFlag(10, kSize, scene);
  const flagmask::SyntheticFrame b = flagmask::syntheticFlag(11, kSize, scene);
  const cv::Mat background = (a.mask == 0) & (b.mask == 0);
  cv::Mat diff;
  cv::absdiff(a.frame, b.frame, diff);
  EXPECT_GT(cv::mean(diff, background)[1], 0.5);

  // And with the camera still and no other effect, everything but the cloth (and the pixels its
  // edge blends into) is still.
  scene.pan_speed = 0;
  scene.zoom = 0;
  const flagmask::SyntheticFrame c = flagmask::syntheticFlag(10, kSize, scene);
  const flagmask::SyntheticFrame d = flagmask::syntheticFlag(11, kSize, scene);
  cv::Mat near_cloth;
  cv::dilate(c.mask | d.mask, near_cloth, cv::Mat::ones(5, 5, CV_8U));
  cv::absdiff(c.frame, d.frame, diff);
  EXPECT_EQ(cv::norm(diff, cv::NORM_INF, near_cloth == 0), 0.0);
}

TEST(SyntheticFlag, ExposureDriftBrightensTheSequence) {
  flagmask::FlagScene drifting;
  flagmask::FlagScene steady;
  steady.exposure_drift = 0;
  const int last = drifting.frames - 1;
  const double first_mean = cv::mean(flagmask::syntheticFlag(0, kSize, drifting).frame)[1];
  const double last_mean = cv::mean(flagmask::syntheticFlag(last, kSize, drifting).frame)[1];
  const double steady_last = cv::mean(flagmask::syntheticFlag(last, kSize, steady).frame)[1];
  // A gain of ~1.25 (less where bright pixels saturate).
  EXPECT_GT(last_mean, 1.15 * steady_last);
  EXPECT_GT(last_mean, 1.1 * first_mean);
  // The drift never changes the mask.
  EXPECT_TRUE(identical(flagmask::syntheticFlag(last, kSize, drifting).mask,
                        flagmask::syntheticFlag(last, kSize, steady).mask));
}

TEST(SyntheticFlag, OccluderHidesPartOfTheClothForAStretch) {
  const flagmask::FlagScene scene;
  flagmask::FlagScene clear = scene;
  clear.occluder = false;
  const int first = occluderFirst(scene.frames), last = occluderLast(scene.frames);
  for (int t = 0; t < scene.frames; t += 3) {
    const flagmask::SyntheticFrame f = flagmask::syntheticFlag(t, kSize, scene);
    const flagmask::SyntheticFrame g = flagmask::syntheticFlag(t, kSize, clear);
    // The hidden cloth is left out of the mask, never added.
    EXPECT_EQ(cv::countNonZero(f.mask & ~g.mask), 0) << "t=" << t;
    if (t > first + 2 && t < last - 2) {
      EXPECT_LT(visible(f), visible(g) * 0.95) << "t=" << t; // a good part is hidden
    } else if (t < first || t > last) {
      EXPECT_TRUE(identical(f.frame, g.frame)) << "t=" << t; // no occluder at all
    }
  }
  // Mid-stretch, less cloth is visible than just before and just after it.
  const int mid = (first + last) / 2;
  const int mid_area = visible(flagmask::syntheticFlag(mid, kSize, scene));
  EXPECT_LT(mid_area, visible(flagmask::syntheticFlag(first - 1, kSize, scene)));
  EXPECT_LT(mid_area, visible(flagmask::syntheticFlag(last + 1, kSize, scene)));
}

TEST(SyntheticFlag, RealPhotoBackgroundIsFilmed) {
  // A photo-like background: a gradient with a checker, not the size of the output.
  cv::Mat photo(300, 500, CV_8UC3);
  for (int y = 0; y < photo.rows; ++y)
    for (int x = 0; x < photo.cols; ++x)
      photo.at<cv::Vec3b>(y, x) = cv::Vec3b(static_cast<uchar>(x / 2), static_cast<uchar>(y / 2),
                                            ((x / 25 + y / 25) % 2) ? 200 : 40);
  flagmask::FlagScene scene;
  scene.background = photo;
  const flagmask::FlagScene procedural;
  const flagmask::SyntheticFrame f = flagmask::syntheticFlag(5, kSize, scene);
  const flagmask::SyntheticFrame g = flagmask::syntheticFlag(5, kSize, procedural);
  EXPECT_FALSE(identical(f.frame, g.frame));
  EXPECT_TRUE(identical(f.mask, g.mask)); // the background never changes the cloth
  // Grey photos are accepted; other types are refused plainly.
  cv::Mat grey;
  cv::extractChannel(photo, grey, 0);
  scene.background = grey;
  EXPECT_NO_THROW(flagmask::syntheticFlag(5, kSize, scene));
  scene.background = cv::Mat(10, 10, CV_32FC3, cv::Scalar(0.5, 0.5, 0.5));
  EXPECT_THROW(flagmask::syntheticFlag(5, kSize, scene), flagmask::Error);
}

TEST(SyntheticFlag, HardSceneRefusesBadArguments) {
  flagmask::FlagScene scene;
  EXPECT_THROW(flagmask::syntheticFlag(0, cv::Size(8, 8), scene), flagmask::Error);
  scene.frames = 0;
  EXPECT_THROW(flagmask::syntheticFlag(0, kSize, scene), flagmask::Error);
}

} // namespace
