// Pixel decisions of the element, on cv::Mat: working image conversion and the output modes.
#include "error.h"
#include "frame.h"

#include <gtest/gtest.h>
#include <opencv2/imgproc.hpp>

#include <cstdint>

using flagmask::Mode;
using flagmask::PackedLayout;
using flagmask::YuvMatrix;

namespace {

const cv::Rect kObject(10, 8, 20, 16); // inside a 64x48 or larger frame

// A plane of the given size inside a larger buffer, so rows are padded like a GstVideoFrame's.
cv::Mat paddedPlane(cv::Size size, int type, cv::Mat &storage, int pad = 3, uint8_t fill = 7) {
  storage = cv::Mat(size.height, size.width + pad, type, cv::Scalar::all(fill));
  return storage(cv::Rect(0, 0, size.width, size.height));
}

cv::Mat rectMask(cv::Size size, cv::Rect object = kObject) {
  cv::Mat mask = cv::Mat::zeros(size, CV_8U);
  mask(object).setTo(255);
  return mask;
}

// A smooth colour image: chroma subsampling loses little, so conversions compare tightly.
cv::Mat smoothBgr(cv::Size size) {
  cv::Mat bgr(size, CV_8UC3);
  cv::RNG rng(12345);
  rng.fill(bgr, cv::RNG::UNIFORM, 30, 220);
  cv::GaussianBlur(bgr, bgr, cv::Size(0, 0), 4);
  return bgr;
}

cv::Vec4b px4(const cv::Mat &m, int x, int y) {
  return m.at<cv::Vec4b>(y, x);
}
cv::Vec3b px3(const cv::Mat &m, int x, int y) {
  return m.at<cv::Vec3b>(y, x);
}

struct I420Frame {
  cv::Mat y, u, v, storage_y, storage_u, storage_v;
};

// Odd sizes round the chroma planes up, as GStreamer does.
I420Frame makeI420(cv::Size size, uint8_t y, uint8_t u, uint8_t v) {
  I420Frame f;
  const cv::Size c((size.width + 1) / 2, (size.height + 1) / 2);
  f.y = paddedPlane(size, CV_8UC1, f.storage_y);
  f.u = paddedPlane(c, CV_8UC1, f.storage_u);
  f.v = paddedPlane(c, CV_8UC1, f.storage_v);
  f.y.setTo(y);
  f.u.setTo(u);
  f.v.setTo(v);
  return f;
}

} // namespace

// ---- packed layouts ---------------------------------------------------------------------------

TEST(FramePacked, CutoutWithAlphaWritesColourAndAlpha) {
  cv::Mat storage;
  cv::Mat plane = paddedPlane({64, 48}, CV_8UC4, storage);
  plane.setTo(cv::Scalar(10, 20, 30, 40)); // RGBA: r=10 g=20 b=30 a=40
  flagmask::ModeStyle style;
  style.background_argb = 0x80112233;
  flagmask::applyPacked(plane, PackedLayout::rgba(), rectMask(plane.size()), Mode::Cutout, style);
  EXPECT_EQ(px4(plane, 15, 12), cv::Vec4b(10, 20, 30, 255));        // object: opaque, colour kept
  EXPECT_EQ(px4(plane, 50, 40), cv::Vec4b(0x11, 0x22, 0x33, 0x80)); // background colour
  EXPECT_EQ(storage.at<cv::Vec4b>(0, 64), cv::Vec4b(7, 7, 7, 7));   // row padding untouched
}

TEST(FramePacked, CutoutArgbUsesByteOffsets) {
  cv::Mat plane(48, 64, CV_8UC4, cv::Scalar(200, 1, 2, 3)); // ARGB
  flagmask::ModeStyle style;
  style.background_argb = 0xff0000ff; // opaque blue
  flagmask::applyPacked(plane, PackedLayout::argb(), rectMask(plane.size()), Mode::Cutout, style);
  EXPECT_EQ(px4(plane, 15, 12), cv::Vec4b(255, 1, 2, 3));
  EXPECT_EQ(px4(plane, 0, 0), cv::Vec4b(255, 0, 0, 255));
}

TEST(FramePacked, CutoutWithoutAlpha) {
  cv::Mat storage;
  cv::Mat plane = paddedPlane({63, 47}, CV_8UC3, storage);
  plane.setTo(cv::Scalar(10, 20, 30)); // BGR: b=10 g=20 r=30
  flagmask::ModeStyle style;
  style.background_argb = 0xff112233;
  flagmask::applyPacked(plane, PackedLayout::bgr(), rectMask(plane.size()), Mode::Cutout, style);
  EXPECT_EQ(px3(plane, 15, 12), cv::Vec3b(10, 20, 30));
  EXPECT_EQ(px3(plane, 62, 46), cv::Vec3b(0x33, 0x22, 0x11));
  EXPECT_EQ(storage.at<cv::Vec3b>(46, 63), cv::Vec3b(7, 7, 7));
}

TEST(FramePacked, AlphaModeLeavesColour) {
  cv::Mat plane(48, 64, CV_8UC4, cv::Scalar(10, 20, 30, 40)); // BGRA
  flagmask::applyPacked(plane, PackedLayout::bgra(), rectMask(plane.size()), Mode::Alpha);
  EXPECT_EQ(px4(plane, 15, 12), cv::Vec4b(10, 20, 30, 255));
  EXPECT_EQ(px4(plane, 50, 40), cv::Vec4b(10, 20, 30, 0));
}

TEST(FramePacked, AlphaModeOnLayoutWithoutAlphaThrows) {
  cv::Mat rgb(48, 64, CV_8UC3, cv::Scalar::all(9));
  cv::Mat rgbx(48, 64, CV_8UC4, cv::Scalar::all(9));
  const cv::Mat mask = rectMask(rgb.size());
  EXPECT_THROW(flagmask::applyPacked(rgb, PackedLayout::rgb(), mask, Mode::Alpha), flagmask::Error);
  EXPECT_THROW(flagmask::applyPacked(rgbx, PackedLayout::rgbx(), mask, Mode::Alpha),
               flagmask::Error);
  EXPECT_FALSE(flagmask::modeSupported(Mode::Alpha, PackedLayout::xbgr()));
  EXPECT_TRUE(flagmask::modeSupported(Mode::Alpha, PackedLayout::abgr()));
  EXPECT_EQ(rgb.at<cv::Vec3b>(0, 0), cv::Vec3b(9, 9, 9)); // nothing written before the refusal
}

TEST(FramePacked, MaskModeWhiteOnBlackOpaque) {
  cv::Mat rgba(48, 64, CV_8UC4, cv::Scalar(10, 20, 30, 40));
  flagmask::applyPacked(rgba, PackedLayout::rgba(), rectMask(rgba.size()), Mode::Mask);
  EXPECT_EQ(px4(rgba, 15, 12), cv::Vec4b(255, 255, 255, 255));
  EXPECT_EQ(px4(rgba, 50, 40), cv::Vec4b(0, 0, 0, 255));

  cv::Mat storage;
  cv::Mat rgb = paddedPlane({65, 49}, CV_8UC3, storage);
  rgb.setTo(cv::Scalar(10, 20, 30));
  flagmask::applyPacked(rgb, PackedLayout::rgb(), rectMask(rgb.size()), Mode::Mask);
  EXPECT_EQ(px3(rgb, 15, 12), cv::Vec3b(255, 255, 255));
  EXPECT_EQ(px3(rgb, 64, 48), cv::Vec3b(0, 0, 0));
  EXPECT_EQ(storage.at<cv::Vec3b>(48, 65), cv::Vec3b(7, 7, 7));
}

TEST(FramePacked, OverlayDimsBackgroundKeepsObject) {
  cv::Mat plane(48, 64, CV_8UC4, cv::Scalar(100, 200, 50, 255)); // xRGB
  flagmask::ModeStyle style;                                     // dim 0.4, outline 2
  flagmask::applyPacked(plane, PackedLayout::xrgb(), rectMask(plane.size()), Mode::Overlay, style);
  EXPECT_EQ(px4(plane, 15, 12), cv::Vec4b(100, 200, 50, 255)); // object unchanged
  const cv::Vec4b far = px4(plane, 55, 42);
  EXPECT_EQ(far[1], 80); // 200 * 0.4
  EXPECT_EQ(far[2], 20);
  EXPECT_EQ(far[3], 102);
  const cv::Vec4b outline = px4(plane, kObject.x - 1, kObject.y + 3);
  EXPECT_EQ(outline, cv::Vec4b(255, 255, 255, 255));
}

TEST(FramePacked, OverlayKeepsAlpha) {
  cv::Mat plane(48, 64, CV_8UC4, cv::Scalar(100, 100, 100, 77)); // RGBA
  flagmask::ModeStyle style;
  style.overlay_outline = 0;
  flagmask::applyPacked(plane, PackedLayout::rgba(), rectMask(plane.size()), Mode::Overlay, style);
  EXPECT_EQ(px4(plane, 50, 40), cv::Vec4b(40, 40, 40, 77));
  EXPECT_EQ(px4(plane, kObject.x - 1, kObject.y), cv::Vec4b(40, 40, 40, 77)); // no outline
}

TEST(FramePacked, WrongMaskSizeThrows) {
  cv::Mat plane(48, 64, CV_8UC3, cv::Scalar::all(0));
  EXPECT_THROW(flagmask::applyPacked(plane, PackedLayout::rgb(), rectMask({32, 24}, {1, 1, 4, 4}),
                                     Mode::Mask),
               flagmask::Error);
  EXPECT_THROW(
      flagmask::applyPacked(plane, PackedLayout::rgba(), rectMask(plane.size()), Mode::Mask),
      flagmask::Error);
}

TEST(FramePacked, WorkingImageIsReducedThenReordered) {
  const cv::Mat bgr = smoothBgr({161, 121});
  cv::Mat storage;
  cv::Mat rgba = paddedPlane(bgr.size(), CV_8UC4, storage);
  cv::cvtColor(bgr, rgba, cv::COLOR_BGR2RGBA); // writes into the padded view
  const cv::Size working(80, 60);
  const cv::Mat got = flagmask::workingFromPacked(rgba, PackedLayout::rgba(), working);
  cv::Mat expected;
  cv::resize(bgr, expected, working, 0, 0, cv::INTER_AREA);
  ASSERT_EQ(got.type(), CV_8UC3);
  EXPECT_EQ(cv::norm(got, expected, cv::NORM_INF), 0.0);

  const cv::Mat same = flagmask::workingFromPacked(bgr, PackedLayout::bgr(), bgr.size());
  EXPECT_EQ(cv::norm(same, bgr, cv::NORM_INF), 0.0);
}

// ---- YUV ---------------------------------------------------------------------------------------

TEST(FrameYuv, RgbToYuvKnownValues) {
  const YuvMatrix limited = YuvMatrix::bt601();
  const auto white = flagmask::rgbToYuv(255, 255, 255, limited);
  EXPECT_EQ(white.y, 235);
  EXPECT_EQ(white.u, 128);
  EXPECT_EQ(white.v, 128);
  const auto black = flagmask::rgbToYuv(0, 0, 0, limited);
  EXPECT_EQ(black.y, 16);
  const auto red = flagmask::rgbToYuv(255, 0, 0, limited);
  EXPECT_EQ(red.y, 81);
  EXPECT_EQ(red.u, 90);
  EXPECT_EQ(red.v, 240);
  const auto full_white = flagmask::rgbToYuv(255, 255, 255, YuvMatrix::bt601(true));
  EXPECT_EQ(full_white.y, 255);
}

TEST(FrameYuv, I420RoundTripMatchesOpenCv) {
  const cv::Mat bgr = smoothBgr({160, 120});
  cv::Mat i420;
  cv::cvtColor(bgr, i420, cv::COLOR_BGR2YUV_I420); // BT.601 limited range
  const cv::Mat y = i420.rowRange(0, 120);
  const cv::Mat u = i420.rowRange(120, 150).reshape(1, 60);
  const cv::Mat v = i420.rowRange(150, 180).reshape(1, 60);
  cv::Mat reference;
  cv::cvtColor(i420, reference, cv::COLOR_YUV2BGR_I420);

  const cv::Mat full = flagmask::workingFromYuv(y, u, v, YuvMatrix::bt601(), bgr.size());
  EXPECT_LT(cv::norm(full, reference, cv::NORM_INF), 6.0);
  EXPECT_LT(cv::norm(full, bgr, cv::NORM_L1) / full.total() / 3, 1.5);

  const cv::Size working(80, 60);
  cv::Mat reference_small;
  cv::resize(reference, reference_small, working, 0, 0, cv::INTER_AREA);
  const cv::Mat small = flagmask::workingFromYuv(y, u, v, YuvMatrix::bt601(), working);
  EXPECT_LT(cv::norm(small, reference_small, cv::NORM_INF), 4.0);
}

TEST(FrameYuv, Nv12EqualsI420) {
  const cv::Size size(161, 121), chroma(81, 61);
  cv::Mat y(size, CV_8U), u(chroma, CV_8U), v(chroma, CV_8U);
  cv::RNG rng(7);
  rng.fill(y, cv::RNG::UNIFORM, 16, 236);
  rng.fill(u, cv::RNG::UNIFORM, 16, 241);
  rng.fill(v, cv::RNG::UNIFORM, 16, 241);
  cv::Mat uv;
  cv::merge(std::vector<cv::Mat>{u, v}, uv);
  const YuvMatrix m = YuvMatrix::bt709(true);
  const cv::Mat a = flagmask::workingFromYuv(y, u, v, m, {100, 75});
  const cv::Mat b = flagmask::workingFromNv12(y, uv, m, {100, 75});
  EXPECT_EQ(cv::norm(a, b, cv::NORM_INF), 0.0);
}

TEST(FrameYuv, FullRangeGreyIsGrey) {
  I420Frame f = makeI420({33, 17}, 200, 128, 128);
  const cv::Mat full = flagmask::workingFromYuv(f.y, f.u, f.v, YuvMatrix::bt709(true), {33, 17});
  EXPECT_EQ(px3(full, 5, 5), cv::Vec3b(200, 200, 200));
  const cv::Mat limited = flagmask::workingFromYuv(f.y, f.u, f.v, YuvMatrix::bt601(), {33, 17});
  EXPECT_EQ(px3(limited, 5, 5), cv::Vec3b(214, 214, 214)); // (200 - 16) * 255 / 219
}

TEST(FrameYuv, WrongChromaSizeThrows) {
  cv::Mat y(121, 161, CV_8U), c(60, 80, CV_8U); // chroma of an odd frame must be 81x61
  EXPECT_THROW(flagmask::workingFromYuv(y, c, c, YuvMatrix(), {80, 60}), flagmask::Error);
}

TEST(FrameYuv, I420CutoutOddSize) {
  const cv::Size size(161, 121);
  I420Frame f = makeI420(size, 180, 100, 150);
  const cv::Rect object(40, 30, 41, 31);
  flagmask::ModeStyle style;
  style.background_argb = 0xffff0000; // red
  flagmask::applyI420(f.y, f.u, f.v, rectMask(size, object), Mode::Cutout, YuvMatrix::bt601(),
                      style);
  const auto red = flagmask::rgbToYuv(255, 0, 0, YuvMatrix::bt601());
  EXPECT_EQ(f.y.at<uint8_t>(45, 60), 180);
  EXPECT_EQ(f.u.at<uint8_t>(22, 30), 100);
  EXPECT_EQ(f.v.at<uint8_t>(22, 30), 150);
  EXPECT_EQ(f.y.at<uint8_t>(120, 160), red.y); // last pixel of the odd frame
  EXPECT_EQ(f.u.at<uint8_t>(60, 80), red.u);
  EXPECT_EQ(f.v.at<uint8_t>(60, 80), red.v);
  EXPECT_EQ(f.storage_y.at<uint8_t>(120, 161), 7); // padding untouched
  EXPECT_EQ(f.storage_u.at<uint8_t>(60, 81), 7);
}

TEST(FrameYuv, I420MaskLimitedAndFullRange) {
  const cv::Size size(63, 47);
  I420Frame f = makeI420(size, 90, 60, 200);
  flagmask::applyI420(f.y, f.u, f.v, rectMask(size), Mode::Mask, YuvMatrix::bt601());
  EXPECT_EQ(f.y.at<uint8_t>(12, 15), 235);
  EXPECT_EQ(f.y.at<uint8_t>(46, 62), 16);
  EXPECT_EQ(cv::countNonZero(f.u != 128), 0);
  EXPECT_EQ(cv::countNonZero(f.v != 128), 0);

  I420Frame g = makeI420(size, 90, 60, 200);
  flagmask::applyI420(g.y, g.u, g.v, rectMask(size), Mode::Mask, YuvMatrix::bt709(true));
  EXPECT_EQ(g.y.at<uint8_t>(12, 15), 255);
  EXPECT_EQ(g.y.at<uint8_t>(46, 62), 0);
}

TEST(FrameYuv, AlphaModeThrows) {
  I420Frame f = makeI420({64, 48}, 90, 60, 200);
  EXPECT_THROW(flagmask::applyI420(f.y, f.u, f.v, rectMask({64, 48}), Mode::Alpha, YuvMatrix()),
               flagmask::Error);
  cv::Mat uv(24, 32, CV_8UC2, cv::Scalar(60, 200));
  EXPECT_THROW(flagmask::applyNv12(f.y, uv, rectMask({64, 48}), Mode::Alpha, YuvMatrix()),
               flagmask::Error);
}

TEST(FrameYuv, Nv12CutoutMaskOverlayOddSize) {
  const cv::Size size(161, 121), chroma(81, 61);
  const cv::Rect object(40, 30, 41, 31);
  const cv::Mat mask = rectMask(size, object);
  cv::Mat ys, uvs;
  auto fresh = [&](cv::Mat &y, cv::Mat &uv) {
    y = paddedPlane(size, CV_8UC1, ys);
    uv = paddedPlane(chroma, CV_8UC2, uvs);
    y.setTo(180);
    uv.setTo(cv::Scalar(100, 150));
  };
  cv::Mat y, uv;
  fresh(y, uv);
  flagmask::ModeStyle style;
  style.background_argb = 0xff00ff00;
  flagmask::applyNv12(y, uv, mask, Mode::Cutout, YuvMatrix::bt709(), style);
  const auto green = flagmask::rgbToYuv(0, 255, 0, YuvMatrix::bt709());
  EXPECT_EQ(y.at<uint8_t>(120, 160), green.y);
  EXPECT_EQ(uv.at<cv::Vec2b>(60, 80), cv::Vec2b(green.u, green.v));
  EXPECT_EQ(uv.at<cv::Vec2b>(22, 30), cv::Vec2b(100, 150));
  EXPECT_EQ(uvs.at<cv::Vec2b>(60, 81), cv::Vec2b(7, 7));

  fresh(y, uv);
  flagmask::applyNv12(y, uv, mask, Mode::Mask, YuvMatrix::bt709());
  EXPECT_EQ(y.at<uint8_t>(45, 60), 235);
  EXPECT_EQ(y.at<uint8_t>(0, 0), 16);
  EXPECT_EQ(uv.at<cv::Vec2b>(22, 30), cv::Vec2b(128, 128));

  fresh(y, uv);
  flagmask::applyNv12(y, uv, mask, Mode::Overlay, YuvMatrix::bt709());
  EXPECT_EQ(y.at<uint8_t>(45, 60), 180);                    // object unchanged
  EXPECT_EQ(uv.at<cv::Vec2b>(22, 30), cv::Vec2b(100, 150)); // object chroma unchanged
  EXPECT_EQ(y.at<uint8_t>(110, 150), 82);                   // 16 + (180 - 16) * 0.4
  EXPECT_EQ(uv.at<cv::Vec2b>(55, 75), cv::Vec2b(117, 137)); // pulled towards 128
  EXPECT_EQ(y.at<uint8_t>(45, object.x - 1), 235);          // outline
}

TEST(FrameYuv, ChromaMaskFollowsMajority) {
  cv::Mat mask = cv::Mat::zeros(5, 5, CV_8U);
  mask(cv::Rect(0, 0, 2, 2)).setTo(255); // exactly chroma sample (0,0)
  mask.at<uint8_t>(2, 2) = 255;          // one of four pixels of sample (1,1): not object
  const cv::Mat c = flagmask::chromaMask(mask, {3, 3});
  EXPECT_EQ(c.at<uint8_t>(0, 0), 255);
  EXPECT_EQ(c.at<uint8_t>(1, 1), 0);
  EXPECT_EQ(cv::countNonZero(c), 1);
}

// The planar modes written as whole-image OpenCV operations (a background mask, the chroma mask
// of chromaMask, convertTo for the dimming): the single-pass writers must give the same bytes.
static void referenceI420(cv::Mat &y, cv::Mat &u, cv::Mat &v, const cv::Mat &mask, Mode mode,
                          const YuvMatrix &m, const flagmask::ModeStyle &style) {
  const flagmask::YuvColor bg =
      flagmask::rgbToYuv((style.background_argb >> 16) & 255, (style.background_argb >> 8) & 255,
                         style.background_argb & 255, m);
  const cv::Mat background = mask == 0;
  const cv::Mat cbackground = flagmask::chromaMask(mask, u.size()) == 0;
  const double black = m.full_range ? 0 : 16, white = m.full_range ? 255 : 235;
  cv::Mat dimmed;
  switch (mode) {
  case Mode::Cutout:
    y.setTo(bg.y, background);
    u.setTo(bg.u, cbackground);
    v.setTo(bg.v, cbackground);
    break;
  case Mode::Mask:
    y.setTo(black);
    y.setTo(white, mask);
    u.setTo(128);
    v.setTo(128);
    break;
  case Mode::Overlay:
    y.convertTo(dimmed, -1, style.overlay_dim, black * (1 - style.overlay_dim));
    dimmed.copyTo(y, background);
    for (cv::Mat *c : {&u, &v}) {
      c->convertTo(dimmed, -1, style.overlay_dim, 128 * (1 - style.overlay_dim));
      dimmed.copyTo(*c, cbackground);
    }
    break;
  case Mode::Alpha:
    break;
  }
}

TEST(FrameYuv, SinglePassModesMatchWholeImageOperations) {
  cv::RNG rng(7);
  for (const cv::Size size : {cv::Size(64, 48), cv::Size(161, 121), cv::Size(2, 2)}) {
    // Noisy masks with values other than 0 and 255, so that chroma blocks split every way.
    cv::Mat mask(size, CV_8U);
    rng.fill(mask, cv::RNG::UNIFORM, 0, 4);
    mask.setTo(0, mask == 3);
    mask.setTo(200, mask == 2);
    mask.setTo(255, mask == 1);
    cv::Mat image(size, CV_8U);
    rng.fill(image, cv::RNG::UNIFORM, 0, 256);
    for (const Mode mode : {Mode::Cutout, Mode::Mask, Mode::Overlay}) {
      flagmask::ModeStyle style;
      style.background_argb = 0xff30c040;
      style.overlay_outline = 0; // the outline is drawn by the same code in both
      I420Frame f = makeI420(size, 0, 0, 0), r = makeI420(size, 0, 0, 0);
      image.copyTo(f.y);
      image.copyTo(r.y);
      cv::resize(image, f.u, f.u.size());
      f.u.copyTo(r.u);
      cv::flip(f.u, f.v, 1);
      f.v.copyTo(r.v);
      cv::Mat ny = image.clone(), uv, planes[2];
      cv::merge(std::vector<cv::Mat>{f.u, f.v}, uv);
      flagmask::applyI420(f.y, f.u, f.v, mask, mode, YuvMatrix::bt601(), style);
      flagmask::applyNv12(ny, uv, mask, mode, YuvMatrix::bt601(), style);
      cv::split(uv, planes);
      referenceI420(r.y, r.u, r.v, mask, mode, YuvMatrix::bt601(), style);
      const std::string what = std::to_string(size.width) + "x" + std::to_string(size.height) +
                               " mode " + std::to_string(static_cast<int>(mode));
      EXPECT_EQ(cv::norm(f.y, r.y, cv::NORM_INF), 0) << what;
      EXPECT_EQ(cv::norm(f.u, r.u, cv::NORM_INF), 0) << what;
      EXPECT_EQ(cv::norm(f.v, r.v, cv::NORM_INF), 0) << what;
      EXPECT_EQ(cv::norm(ny, r.y, cv::NORM_INF), 0) << what << " NV12";
      EXPECT_EQ(cv::norm(planes[0], r.u, cv::NORM_INF), 0) << what << " NV12";
      EXPECT_EQ(cv::norm(planes[1], r.v, cv::NORM_INF), 0) << what << " NV12";
    }
  }
}

// ---- Soft edges (feather)
// ------------------------------------------------------------------------

TEST(FrameFeather, ZeroRadiusIsTheMaskItself) {
  const cv::Mat mask = rectMask({64, 48});
  const flagmask::SoftMask soft = flagmask::featherMask(mask, 0);
  EXPECT_EQ(soft.alpha.data, mask.data);
  EXPECT_TRUE(soft.band.empty());
}

TEST(FrameFeather, LinearRampAcrossTheBoundary) {
  const int r = 3;
  const flagmask::SoftMask soft = flagmask::featherMask(rectMask({64, 48}), r);
  EXPECT_EQ(soft.band,
            cv::Rect(kObject.x - r, kObject.y - r, kObject.width + 2 * r, kObject.height + 2 * r));
  const int y = kObject.y + kObject.height / 2, edge = kObject.x;
  EXPECT_EQ(soft.alpha.at<uint8_t>(y, edge - r - 1), 0);
  EXPECT_EQ(soft.alpha.at<uint8_t>(y, edge + r), 255);
  for (int x = edge - r; x < edge + r; ++x) {
    EXPECT_GT(soft.alpha.at<uint8_t>(y, x), 0) << x;
    EXPECT_LT(soft.alpha.at<uint8_t>(y, x), 255) << x;
    EXPECT_LT(soft.alpha.at<uint8_t>(y, x), soft.alpha.at<uint8_t>(y, x + 1)) << x;
  }
  // Nothing soft outside the band.
  cv::Mat outside = soft.alpha.clone();
  outside(soft.band).setTo(0);
  EXPECT_EQ(cv::countNonZero(outside), 0);
}

TEST(FrameFeather, FrameEdgeIsNotABoundaryAndHugeRadiusIsClipped) {
  const cv::Size size(20, 10);
  const flagmask::SoftMask soft = flagmask::featherMask(rectMask(size, {0, 0, 10, 10}), 64);
  EXPECT_EQ(soft.band, cv::Rect(0, 0, 20, 10));
  EXPECT_EQ(soft.alpha.at<uint8_t>(5, 0), soft.alpha.at<uint8_t>(0, 0));
  const flagmask::SoftMask inverted = flagmask::invertMask(soft);
  EXPECT_EQ(inverted.band, soft.band);
  EXPECT_EQ(inverted.alpha.at<uint8_t>(5, 3), 255 - soft.alpha.at<uint8_t>(5, 3));
}

// Mask mode writes the soft mask itself as grey; alpha mode writes it as the alpha channel.
TEST(FrameFeather, PackedModesMixByAlpha) {
  const cv::Size size(64, 48);
  const flagmask::SoftMask soft = flagmask::featherMask(rectMask(size), 4);
  cv::Mat storage;
  cv::Mat plane = paddedPlane(size, CV_8UC4, storage, 3, 90);
  flagmask::applyPacked(plane, PackedLayout::rgba(), soft, Mode::Mask);
  cv::Mat channels[4];
  cv::split(plane, channels);
  EXPECT_EQ(cv::countNonZero(channels[0] != soft.alpha), 0);
  plane.setTo(cv::Scalar::all(90));
  flagmask::applyPacked(plane, PackedLayout::rgba(), soft, Mode::Alpha);
  cv::split(plane, channels);
  EXPECT_EQ(cv::countNonZero(channels[3] != soft.alpha), 0);
  EXPECT_EQ(cv::countNonZero(channels[0] != 90), 0); // colour untouched
}

TEST(FrameFeather, YuvOddSizeMixesLumaAndChroma) {
  const cv::Size size(41, 31);
  const flagmask::SoftMask soft = flagmask::featherMask(rectMask(size, {5, 5, 20, 15}), 5);
  const YuvMatrix m;
  cv::Mat y(size, CV_8UC1, cv::Scalar(120)), u(16, 21, CV_8UC1, cv::Scalar(60)),
      v(16, 21, CV_8UC1, cv::Scalar(200)), uv(16, 21, CV_8UC2, cv::Scalar(60, 200));
  flagmask::applyI420(y, u, v, soft, Mode::Mask, m);
  for (int x = 0; x < size.width; ++x) { // luma is black + alpha * (white - black), rounded
    const int a = soft.alpha.at<uint8_t>(12, x);
    EXPECT_NEAR(y.at<uint8_t>(12, x), 16 + a * (235 - 16) / 255.0, 1.0) << x;
  }
  EXPECT_EQ(cv::countNonZero(u != 128), 0);
  cv::Mat y2(size, CV_8UC1, cv::Scalar(120));
  flagmask::ModeStyle style;
  style.background_argb = 0xff00ff00;
  flagmask::applyNv12(y2, uv, soft, Mode::Cutout, m, style);
  const flagmask::YuvColor green = flagmask::rgbToYuv(0, 255, 0, m);
  EXPECT_EQ(y2.at<uint8_t>(0, 40), green.y);           // far background
  EXPECT_EQ(y2.at<uint8_t>(12, 15), 120);              // deep inside
  EXPECT_GT(std::abs(y2.at<uint8_t>(12, 5) - 120), 0); // on the edge: a mix
  EXPECT_GT(std::abs(y2.at<uint8_t>(12, 5) - green.y), 0);
}

// ---- Backdrop: a cutout over a picture or a blur ------------------------------------------------

namespace {

// A picture of distinct colours per region, and a noisy frame (so that a blur shows).
cv::Mat colourfulPicture(cv::Size size) {
  cv::Mat picture(size, CV_8UC3);
  for (int y = 0; y < size.height; ++y)
    for (int x = 0; x < size.width; ++x)
      picture.at<cv::Vec3b>(y, x) = cv::Vec3b(static_cast<uint8_t>(40 + x * 3 % 180),
                                              static_cast<uint8_t>(60 + y * 5 % 150), 120);
  return picture;
}

cv::Mat noisyFrame(cv::Size size, int type) {
  cv::Mat frame(size, type);
  cv::RNG rng(11);
  rng.fill(frame, cv::RNG::UNIFORM, 0, 256);
  return frame;
}

double backgroundStdDev(const cv::Mat &plane, const cv::Mat &mask) {
  cv::Scalar mean, dev;
  cv::meanStdDev(plane, mean, dev, mask == 0);
  return dev[0];
}

} // namespace

TEST(FrameBackdrop, OnlyAPictureOrABlurIsActive) {
  EXPECT_FALSE(flagmask::Backdrop().active());
  EXPECT_TRUE(flagmask::Backdrop(cv::Mat(), 8).active());
  EXPECT_TRUE(flagmask::Backdrop(colourfulPicture({8, 8}), 0).active());
  EXPECT_THROW(flagmask::Backdrop(cv::Mat(), flagmask::kMaxBackgroundBlur + 1), flagmask::Error);
  EXPECT_THROW(flagmask::Backdrop(cv::Mat(8, 8, CV_8UC1), 0), flagmask::Error);
}

// A packed frame: the picture (scaled to the frame) in the layout's byte order behind the object,
// opaque; the object's pixels as they were.
TEST(FrameBackdrop, PictureBehindTheObjectInAPackedFrame) {
  const cv::Size size(64, 48);
  const cv::Mat mask = rectMask(size);
  const cv::Mat picture = colourfulPicture({32, 24});
  cv::Mat frame = noisyFrame(size, CV_8UC4), before = frame.clone();
  flagmask::FrameView view = flagmask::FrameView::fromPacked(frame, PackedLayout::rgba());
  flagmask::Backdrop backdrop(picture, 0);
  backdrop.apply(view, flagmask::featherMask(mask, 0));
  cv::Mat scaled;
  cv::resize(picture, scaled, size, 0, 0, cv::INTER_LINEAR);
  int wrong_background = 0, wrong_object = 0;
  for (int y = 0; y < size.height; ++y)
    for (int x = 0; x < size.width; ++x) {
      const cv::Vec4b p = frame.at<cv::Vec4b>(y, x);
      if (mask.at<uint8_t>(y, x)) {
        wrong_object += p != before.at<cv::Vec4b>(y, x);
      } else {
        const cv::Vec3b bgr = scaled.at<cv::Vec3b>(y, x);
        wrong_background += p != cv::Vec4b(bgr[2], bgr[1], bgr[0], 255);
      }
    }
  EXPECT_EQ(wrong_background, 0) << "background pixels not the picture's";
  EXPECT_EQ(wrong_object, 0) << "object pixels changed";
}

// An I420 frame: the picture converted with the stream's matrix; back in BGR the background is the
// picture within rounding and 4:2:0 chroma, away from the object's edge.
TEST(FrameBackdrop, PictureInI420ConvertsWithTheMatrix) {
  const cv::Size size(64, 48);
  cv::Mat mask = cv::Mat::zeros(size, CV_8U);
  mask(cv::Rect(40, 30, 16, 12)).setTo(255);
  const cv::Mat picture(size, CV_8UC3, cv::Scalar(40, 160, 220)); // one colour: no 4:2:0 blur
  for (const YuvMatrix m : {YuvMatrix::bt601(), YuvMatrix::bt709(true)}) {
    cv::Mat y(size, CV_8UC1, cv::Scalar(100)), u(24, 32, CV_8UC1, cv::Scalar(90)),
        v(24, 32, CV_8UC1, cv::Scalar(170));
    flagmask::FrameView view = flagmask::FrameView::fromI420(y, u, v, m);
    flagmask::Backdrop(picture, 0).apply(view, flagmask::featherMask(mask, 0));
    const flagmask::YuvColor expected = flagmask::rgbToYuv(220, 160, 40, m);
    EXPECT_NEAR(y.at<uint8_t>(5, 5), expected.y, 1);
    EXPECT_NEAR(u.at<uint8_t>(2, 2), expected.u, 1);
    EXPECT_NEAR(v.at<uint8_t>(2, 2), expected.v, 1);
    EXPECT_EQ(y.at<uint8_t>(35, 45), 100); // the object
    EXPECT_EQ(u.at<uint8_t>(17, 22), 90);
  }
}

// The frame's own background blurred: much smoother than the noise it was, the object untouched;
// NV12's interleaved chroma blurred too.
TEST(FrameBackdrop, BlurOfTheFramesOwnBackground) {
  const cv::Size size(96, 64);
  const cv::Mat mask = rectMask(size);
  cv::Mat y = noisyFrame(size, CV_8UC1), uv = noisyFrame({48, 32}, CV_8UC2);
  const cv::Mat y_before = y.clone();
  flagmask::FrameView view = flagmask::FrameView::fromNv12(y, uv, YuvMatrix());
  flagmask::Backdrop(cv::Mat(), 12).apply(view, flagmask::featherMask(mask, 0));
  EXPECT_LT(backgroundStdDev(y, mask), backgroundStdDev(y_before, mask) / 4);
  EXPECT_EQ(cv::countNonZero((y != y_before) & mask), 0);
  cv::Mat u;
  cv::extractChannel(uv, u, 0);
  cv::Scalar mean, dev;
  cv::meanStdDev(u(cv::Rect(0, 0, 48, 4)), mean, dev);
  EXPECT_LT(dev[0], 30); // uniform noise over 0..255 has about 74
}

// A soft edge mixes the object with the backdrop: between the two, not either.
TEST(FrameBackdrop, SoftEdgeMixesObjectAndBackdrop) {
  const cv::Size size(64, 48);
  const flagmask::SoftMask soft = flagmask::featherMask(rectMask(size), 4);
  cv::Mat frame(size, CV_8UC3, cv::Scalar(200, 200, 200));
  flagmask::FrameView view = flagmask::FrameView::fromBgr(frame);
  flagmask::Backdrop(cv::Mat(size, CV_8UC3, cv::Scalar(0, 0, 0)), 0).apply(view, soft);
  int mixed = 0;
  for (int yy = 0; yy < size.height; ++yy)
    for (int x = 0; x < size.width; ++x) {
      const int a = soft.alpha.at<uint8_t>(yy, x), b = frame.at<cv::Vec3b>(yy, x)[0];
      EXPECT_NEAR(b, 200 * a / 255.0, 1.0) << x << "," << yy;
      mixed += a > 0 && a < 255;
    }
  EXPECT_GT(mixed, 0);
}
