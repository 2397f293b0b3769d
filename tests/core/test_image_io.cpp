// Unit tests for reading masks and frames.
#include "error.h"
#include "image_io.h"

#include "test_support.h"

#include <gtest/gtest.h>
#include <opencv2/core.hpp>
#include <opencv2/imgcodecs.hpp>

#include <array>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <functional>
#include <string>
#include <vector>

#include <unistd.h>

namespace fs = std::filesystem;

namespace {

using flagmask::testing::expectErrorNaming;

// Each test reads and writes in a fresh directory of its own.
class ImageIoTest : public flagmask::testing::TempDirTest {};

// The object used in these tests: a rectangle in a 40x30 image.
const cv::Size kSize(40, 30);
const cv::Rect kObject(10, 5, 12, 8);

cv::Mat expectedMask() {
  cv::Mat m = cv::Mat::zeros(kSize, CV_8U);
  m(kObject).setTo(255);
  return m;
}

void expectSameMask(const cv::Mat &actual, const cv::Mat &expected) {
  ASSERT_EQ(actual.type(), CV_8UC1);
  ASSERT_EQ(actual.size(), expected.size());
  EXPECT_EQ(cv::countNonZero(actual != expected), 0);
}

// --- A minimal PNG writer for grey+alpha, which cv::imwrite cannot produce ----------------------

uint32_t crc32(const uint8_t *data, size_t n, uint32_t crc = 0) {
  crc = ~crc;
  for (size_t i = 0; i < n; ++i) {
    crc ^= data[i];
    for (int k = 0; k < 8; ++k)
      crc = (crc >> 1) ^ (0xEDB88320u & (0u - (crc & 1u)));
  }
  return ~crc;
}

void putBe32(std::vector<uint8_t> &out, uint32_t v) {
  for (int s = 24; s >= 0; s -= 8)
    out.push_back(static_cast<uint8_t>(v >> s));
}

void putChunk(std::vector<uint8_t> &out, const char *type, const std::vector<uint8_t> &data) {
  putBe32(out, static_cast<uint32_t>(data.size()));
  std::vector<uint8_t> body(type, type + 4);
  body.insert(body.end(), data.begin(), data.end());
  out.insert(out.end(), body.begin(), body.end());
  putBe32(out, crc32(body.data(), body.size()));
}

// Writes an 8-bit grey+alpha PNG (colour type 4) with stored (uncompressed) deflate blocks.
void writeGreyAlphaPng(const std::string &path, const cv::Mat &grey, const cv::Mat &alpha) {
  std::vector<uint8_t> raw;
  for (int y = 0; y < grey.rows; ++y) {
    raw.push_back(0); // filter: none
    for (int x = 0; x < grey.cols; ++x) {
      raw.push_back(grey.at<uint8_t>(y, x));
      raw.push_back(alpha.at<uint8_t>(y, x));
    }
  }
  std::vector<uint8_t> z = {0x78, 0x01};
  for (size_t pos = 0; pos < raw.size() || pos == 0;) {
    const size_t n = std::min<size_t>(65535, raw.size() - pos);
    const bool last = pos + n == raw.size();
    z.push_back(last ? 1 : 0);
    z.push_back(static_cast<uint8_t>(n & 0xff));
    z.push_back(static_cast<uint8_t>(n >> 8));
    z.push_back(static_cast<uint8_t>(~n & 0xff));
    z.push_back(static_cast<uint8_t>((~n >> 8) & 0xff));
    z.insert(z.end(), raw.begin() + pos, raw.begin() + pos + n);
    pos += n;
    if (last)
      break;
  }
  uint32_t a = 1, b = 0;
  for (uint8_t v : raw) {
    a = (a + v) % 65521;
    b = (b + a) % 65521;
  }
  putBe32(z, (b << 16) | a);

  std::vector<uint8_t> png = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
  std::vector<uint8_t> ihdr;
  putBe32(ihdr, static_cast<uint32_t>(grey.cols));
  putBe32(ihdr, static_cast<uint32_t>(grey.rows));
  ihdr.insert(ihdr.end(), {8, 4, 0, 0, 0}); // depth 8, grey+alpha, deflate, no filter, no interlace
  putChunk(png, "IHDR", ihdr);
  putChunk(png, "IDAT", z);
  putChunk(png, "IEND", {});
  std::ofstream f(path, std::ios::binary);
  f.write(reinterpret_cast<const char *>(png.data()), static_cast<std::streamsize>(png.size()));
}

// --- loadMask -----------------------------------------------------------------------------------

TEST_F(ImageIoTest, GreyMaskAnyNonZeroIsObject) {
  cv::Mat grey = cv::Mat::zeros(kSize, CV_8U);
  grey(kObject).setTo(1); // a label value, not 255
  ASSERT_TRUE(cv::imwrite(path("grey.png"), grey));
  expectSameMask(flagmask::loadMask(path("grey.png")), expectedMask());
}

TEST_F(ImageIoTest, ColourMaskAnyNonZeroChannelIsObject) {
  cv::Mat colour = cv::Mat::zeros(kSize, CV_8UC3);
  // Each third of the object has a different single non-zero channel.
  colour(cv::Rect(kObject.x, kObject.y, 4, kObject.height)).setTo(cv::Scalar(3, 0, 0));
  colour(cv::Rect(kObject.x + 4, kObject.y, 4, kObject.height)).setTo(cv::Scalar(0, 128, 0));
  colour(cv::Rect(kObject.x + 8, kObject.y, 4, kObject.height)).setTo(cv::Scalar(0, 0, 200));
  ASSERT_TRUE(cv::imwrite(path("colour.png"), colour));
  expectSameMask(flagmask::loadMask(path("colour.png")), expectedMask());
}

TEST_F(ImageIoTest, GreyAlphaMaskIgnoresAlpha) {
  // As DAVIS ships some masks: grey 0/255 with an opaque alpha channel everywhere.
  cv::Mat grey = cv::Mat::zeros(kSize, CV_8U);
  grey(kObject).setTo(255);
  const cv::Mat alpha(kSize, CV_8U, cv::Scalar(255));
  writeGreyAlphaPng(path("grey-alpha.png"), grey, alpha);
  expectSameMask(flagmask::loadMask(path("grey-alpha.png")), expectedMask());
}

TEST_F(ImageIoTest, ColourAlphaMaskIgnoresAlpha) {
  cv::Mat bgra(kSize, CV_8UC4, cv::Scalar(0, 0, 0, 255));
  bgra(kObject).setTo(cv::Scalar(0, 0, 255, 255));
  ASSERT_TRUE(cv::imwrite(path("bgra.png"), bgra));
  expectSameMask(flagmask::loadMask(path("bgra.png")), expectedMask());
}

TEST_F(ImageIoTest, SixteenBitMaskIsObjectWhereNonZero) {
  cv::Mat deep = cv::Mat::zeros(kSize, CV_16U);
  deep(kObject).setTo(1000);
  ASSERT_TRUE(cv::imwrite(path("deep.png"), deep));
  expectSameMask(flagmask::loadMask(path("deep.png")), expectedMask());
}

// A 16-bit label below 256 is an object too (it was once scaled by 1/256 to 0 and lost).
TEST_F(ImageIoTest, SixteenBitMaskWithSmallLabelIsObject) {
  cv::Mat deep = cv::Mat::zeros(kSize, CV_16U);
  deep(kObject).setTo(1);
  ASSERT_TRUE(cv::imwrite(path("deep-label.png"), deep));
  expectSameMask(flagmask::loadMask(path("deep-label.png")), expectedMask());
}

TEST_F(ImageIoTest, MissingFileThrowsNamingThePath) {
  const std::string p = path("does-not-exist.png");
  expectErrorNaming([&] { flagmask::loadMask(p); }, p);
}

TEST_F(ImageIoTest, NonImageFileThrowsNamingThePath) {
  const std::string p = path("not-an-image.png");
  {
    std::ofstream f(p, std::ios::binary);
    f << "this is plain text, not a PNG\n";
  }
  expectErrorNaming([&] { flagmask::loadMask(p); }, p);
}

TEST_F(ImageIoTest, AllZeroMaskThrowsNamingThePath) {
  const std::string p = path("empty.png");
  ASSERT_TRUE(cv::imwrite(p, cv::Mat::zeros(kSize, CV_8U)));
  expectErrorNaming([&] { flagmask::loadMask(p); }, p);
}

TEST_F(ImageIoTest, AllZeroMaskAcceptedWhenObjectNotRequired) {
  const std::string p = path("empty.png");
  ASSERT_TRUE(cv::imwrite(p, cv::Mat::zeros(kSize, CV_8U)));
  cv::Mat m;
  ASSERT_NO_THROW(m = flagmask::loadMask(p, false));
  expectSameMask(m, cv::Mat::zeros(kSize, CV_8U));
}

// --- loadFrame ----------------------------------------------------------------------------------

TEST_F(ImageIoTest, LoadFrameGivesBgr) {
  cv::RNG rng(7);
  cv::Mat frame(kSize, CV_8UC3);
  rng.fill(frame, cv::RNG::UNIFORM, 0, 256);
  ASSERT_TRUE(cv::imwrite(path("frame.png"), frame));
  const cv::Mat loaded = flagmask::loadFrame(path("frame.png"));
  ASSERT_EQ(loaded.type(), CV_8UC3);
  ASSERT_EQ(loaded.size(), kSize);
  EXPECT_EQ(cv::norm(loaded, frame, cv::NORM_INF), 0.0);
}

TEST_F(ImageIoTest, LoadFrameMissingFileThrowsNamingThePath) {
  const std::string p = path("no-frame.png");
  expectErrorNaming([&] { flagmask::loadFrame(p); }, p);
}

// --- resizeMask ---------------------------------------------------------------------------------

TEST(ResizeMask, GivesBinaryMaskAtRequestedSize) {
  cv::RNG rng(11);
  cv::Mat labels(30, 40, CV_8U);
  rng.fill(labels, cv::RNG::UNIFORM, 0, 4); // 0..3, three of four non-zero
  const cv::Size target(57, 23);
  const cv::Mat out = flagmask::resizeMask(labels, target);
  ASSERT_EQ(out.type(), CV_8UC1);
  ASSERT_EQ(out.size(), target);
  EXPECT_EQ(cv::countNonZero((out != 0) & (out != 255)), 0);
  EXPECT_GT(cv::countNonZero(out), 0);
  EXPECT_LT(cv::countNonZero(out), static_cast<int>(out.total()));
}

TEST(ResizeMask, ScalesABlockByNearestNeighbour) {
  cv::Mat m = cv::Mat::zeros(10, 10, CV_8U);
  m(cv::Rect(2, 4, 3, 5)).setTo(9);
  const cv::Mat out = flagmask::resizeMask(m, cv::Size(20, 20));
  cv::Mat expected = cv::Mat::zeros(20, 20, CV_8U);
  expected(cv::Rect(4, 8, 6, 10)).setTo(255);
  expectSameMask(out, expected);
}

TEST(ResizeMask, SameSizeBinarises) {
  cv::Mat m = cv::Mat::zeros(8, 8, CV_8U);
  m.at<uint8_t>(3, 3) = 17;
  const cv::Mat out = flagmask::resizeMask(m, m.size());
  EXPECT_EQ(out.at<uint8_t>(3, 3), 255);
  EXPECT_EQ(cv::countNonZero(out), 1);
}

} // namespace
