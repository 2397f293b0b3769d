// Unit tests for reading masks and frames.
#include "error.h"
#include "image_io.h"

#include "test_support.h"

#include <gtest/gtest.h>
#include <opencv2/core.hpp>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

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

// --- image headers and hostile masks --------------------------------------------------------

std::vector<uint8_t> fileBytes(const std::string &p) {
  std::ifstream f(p, std::ios::binary);
  return std::vector<uint8_t>((std::istreambuf_iterator<char>(f)),
                              std::istreambuf_iterator<char>());
}

std::string decodeError(const std::vector<uint8_t> &bytes) {
  try {
    flagmask::decodeMask(bytes, "forged");
  } catch (const flagmask::Error &e) {
    return e.what();
  }
  return "";
}

// The size read from the header is the size OpenCV decodes, in every format flagmask reads.
TEST_F(ImageIoTest, HeaderSizeMatchesTheDecodedImageInEveryFormat) {
  const cv::Size odd(37, 23);
  cv::Mat grey = cv::Mat::zeros(odd, CV_8U);
  grey(cv::Rect(3, 4, 10, 6)).setTo(255);
  cv::Mat colour, real;
  cv::cvtColor(grey, colour, cv::COLOR_GRAY2BGR);
  grey.convertTo(real, CV_32F, 1.0 / 255);
  const std::pair<const char *, const char *> files[] = {
      {"m.png", "PNG"}, {"m.jpg", "JPEG"}, {"m.bmp", "BMP"}, {"m.pgm", "PNM"},   {"m.ppm", "PNM"},
      {"m.pbm", "PNM"}, {"m.pam", "PAM"},  {"m.pfm", "PFM"}, {"m.tiff", "TIFF"}, {"m.webp", "WebP"},
  };
  for (const auto &[name, format] : files) {
    const cv::Mat &image = std::string(name) == "m.pfm"   ? real
                           : std::string(name) == "m.ppm" ? colour
                                                          : grey;
    if (!cv::imwrite(path(name), image))
      continue; // this OpenCV cannot write the format
    const flagmask::ImageHeader h = flagmask::readImageHeader(fileBytes(path(name)));
    ASSERT_NE(h.format, nullptr) << name;
    EXPECT_STREQ(h.format, format) << name;
    EXPECT_EQ(h.width, odd.width) << name;
    EXPECT_EQ(h.height, odd.height) << name;
    EXPECT_EQ(flagmask::loadMask(path(name)).size(), odd) << name;
  }
}

void putBe(std::vector<uint8_t> &b, size_t at, uint32_t v, int bytes) {
  for (int i = 0; i < bytes; ++i)
    b[at + i] = static_cast<uint8_t>(v >> (8 * (bytes - 1 - i)));
}
void putLe(std::vector<uint8_t> &b, size_t at, uint32_t v, int bytes) {
  for (int i = 0; i < bytes; ++i)
    b[at + i] = static_cast<uint8_t>(v >> (8 * i));
}

// A header that declares a huge image is refused from the header, in every format: no decoder
// gets to allocate it.
TEST_F(ImageIoTest, ForgedHugeHeadersAreRefusedBeforeDecoding) {
  const cv::Mat grey(20, 30, CV_8U, cv::Scalar(255));
  ASSERT_TRUE(cv::imwrite(path("m.png"), grey));
  std::vector<uint8_t> png = fileBytes(path("m.png"));
  putBe(png, 16, 20000, 4);
  putBe(png, 20, 20000, 4);

  ASSERT_TRUE(cv::imwrite(path("m.bmp"), grey));
  std::vector<uint8_t> bmp = fileBytes(path("m.bmp"));
  putLe(bmp, 18, 20000, 4);
  putLe(bmp, 22, static_cast<uint32_t>(-20000), 4); // top-down

  ASSERT_TRUE(cv::imwrite(path("m.jpg"), grey));
  std::vector<uint8_t> jpg = fileBytes(path("m.jpg"));
  for (size_t i = 2; i + 9 < jpg.size(); ++i)
    if (jpg[i] == 0xFF && jpg[i + 1] == 0xC0) {
      putBe(jpg, i + 5, 20000, 2);
      putBe(jpg, i + 7, 20000, 2);
      break;
    }

  const std::string pgm_text = "P5\n# a comment\n20000 20000\n255\n" + std::string(600, '\xff');
  const std::vector<uint8_t> pgm(pgm_text.begin(), pgm_text.end());

  // Classic TIFF, little-endian: one directory with ImageWidth and ImageLength as LONG.
  std::vector<uint8_t> tiff = {'I', 'I', 42, 0, 8, 0, 0, 0, 2, 0};
  for (uint16_t tag : {256, 257}) {
    const uint8_t entry[12] = {
        uint8_t(tag), uint8_t(tag >> 8), 4, 0, 1, 0, 0, 0, 0x20, 0x4e, 0, 0}; // 20000
    tiff.insert(tiff.end(), entry, entry + 12);
  }
  tiff.insert(tiff.end(), {0, 0, 0, 0});

  // WebP lossless: 14-bit sizes, 16000x16000.
  std::vector<uint8_t> webp = {'R', 'I', 'F', 'F', 0, 0, 0, 0,    'W', 'E', 'B', 'P', 'V',
                               'P', '8', 'L', 0,   0, 0, 0, 0x2f, 0,   0,   0,   0};
  putLe(webp, 21, (16000 - 1) | ((16000 - 1) << 14), 4);

  const std::pair<const char *, std::vector<uint8_t>> forged[] = {
      {"20000x20000", png}, {"20000x20000", bmp},  {"20000x20000", jpg},
      {"20000x20000", pgm}, {"20000x20000", tiff}, {"16000x16000", webp},
  };
  for (const auto &[size, bytes] : forged) {
    const std::string error = decodeError(bytes);
    EXPECT_NE(error.find(std::string("declares ") + size), std::string::npos) << error;
  }
}

TEST_F(ImageIoTest, UnknownFormatsAndCutHeadersAreRefusedNamingTheReason) {
  const std::string gif = "GIF89a\x10\x00\x10\x00"; // OpenCV 4.6 has no GIF decoder
  EXPECT_NE(decodeError(std::vector<uint8_t>(gif.begin(), gif.end()))
                .find("not an image in a format flagmask reads"),
            std::string::npos);
  const std::string ras = "\x59\xa6\x6a\x95\x00\x00\x00\x08\x00\x00\x00\x08"; // Sun raster
  EXPECT_NE(decodeError(std::vector<uint8_t>(ras.begin(), ras.end()))
                .find("not an image in a format flagmask reads"),
            std::string::npos);
  const std::vector<uint8_t> cut_png = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n', 0, 0};
  EXPECT_NE(decodeError(cut_png).find("PNG header is cut short"), std::string::npos);
  EXPECT_NE(decodeError({}).find("not an image"), std::string::npos);
}

TEST_F(ImageIoTest, EmptyFileAndDirectoryAreNamedAsSuch) {
  { std::ofstream f(path("empty.png")); }
  expectErrorNaming([&] { flagmask::loadMask(path("empty.png")); }, "the file is empty");
  fs::create_directories(path("dir.png"));
  expectErrorNaming([&] { flagmask::loadMask(path("dir.png")); }, "is a directory");
}

TEST_F(ImageIoTest, MaskInfoTellsAMaskFromAPhoto) {
  flagmask::MaskInfo info;
  cv::Mat mask = cv::Mat::zeros(kSize, CV_8U);
  mask(kObject).setTo(255);
  ASSERT_TRUE(cv::imwrite(path("mask.png"), mask));
  flagmask::loadMask(path("mask.png"), true, &info);
  EXPECT_EQ(info.distinct_values, 2);
  EXPECT_NEAR(info.coverage, kObject.area() / double(kSize.area()), 1e-9);
  cv::Mat photo(kSize, CV_8UC3);
  cv::RNG(3).fill(photo, cv::RNG::UNIFORM, 0, 256);
  ASSERT_TRUE(cv::imwrite(path("photo.png"), photo));
  flagmask::loadMask(path("photo.png"), true, &info);
  EXPECT_GT(info.distinct_values, 200);
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
