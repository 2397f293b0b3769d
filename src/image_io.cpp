#include "image_io.h"

#include "error.h"

#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <memory>
#include <system_error>
#include <unordered_set>

namespace flagmask {
namespace {

using Bytes = std::vector<std::uint8_t>;

std::string sizeText(std::uintmax_t bytes) {
  if (bytes < (1u << 20))
    return std::to_string(bytes) + " bytes";
  char text[32];
  std::snprintf(text, sizeof text, "%.1f MB", static_cast<double>(bytes) / (1 << 20));
  return text;
}

// ---- Image headers: the declared size, read without decoding --------------------------------

bool has(const Bytes &b, std::size_t at, std::size_t n) {
  return at <= b.size() && n <= b.size() - at;
}

bool startsWith(const Bytes &b, const char *magic, std::size_t n, std::size_t at = 0) {
  return has(b, at, n) && std::memcmp(b.data() + at, magic, n) == 0;
}

std::uint32_t be16(const Bytes &b, std::size_t at) {
  return (b[at] << 8) | b[at + 1];
}
std::uint32_t be32(const Bytes &b, std::size_t at) {
  return (be16(b, at) << 16) | be16(b, at + 2);
}
std::uint32_t le16(const Bytes &b, std::size_t at) {
  return b[at] | (b[at + 1] << 8);
}
std::uint32_t le24(const Bytes &b, std::size_t at) {
  return le16(b, at) | (b[at + 2] << 16);
}
std::uint32_t le32(const Bytes &b, std::size_t at) {
  return le16(b, at) | (le16(b, at + 2) << 16);
}
std::uint64_t le64(const Bytes &b, std::size_t at) {
  return le32(b, at) | (std::uint64_t(le32(b, at + 4)) << 32);
}

ImageHeader header(const char *format, std::int64_t width = 0, std::int64_t height = 0) {
  ImageHeader h;
  h.format = format;
  h.width = width;
  h.height = height;
  return h;
}

// Signature, then the IHDR chunk: length, "IHDR", width, height (big-endian).
ImageHeader pngHeader(const Bytes &b) {
  if (!has(b, 0, 24) || !startsWith(b, "IHDR", 4, 12))
    return header("PNG");
  return header("PNG", be32(b, 16), be32(b, 20));
}

bool isJpegFrameMarker(std::uint8_t m) {
  // SOF0..SOF15, except DHT (C4), JPG (C8) and DAC (CC), which share the range.
  return m >= 0xC0 && m <= 0xCF && m != 0xC4 && m != 0xC8 && m != 0xCC;
}

// Walks the marker segments up to the first start-of-frame, which holds height then width.
ImageHeader jpegHeader(const Bytes &b) {
  std::size_t at = 2;
  while (has(b, at, 2)) {
    if (b[at] != 0xFF)
      break;
    const std::uint8_t marker = b[at + 1];
    at += 2;
    if (marker == 0xFF) { // fill byte: the marker follows
      --at;
      continue;
    }
    if (marker == 0x01 || (marker >= 0xD0 && marker <= 0xD8))
      continue; // markers without a segment
    if (marker == 0xD9 || marker == 0xDA || !has(b, at, 2))
      break; // image data before any frame header
    if (isJpegFrameMarker(marker))
      return has(b, at, 7) ? header("JPEG", be16(b, at + 5), be16(b, at + 3)) : header("JPEG");
    at += be16(b, at);
  }
  return header("JPEG");
}

// BITMAPCOREHEADER has 16-bit sizes; later headers signed 32-bit ones (negative height: top-down).
ImageHeader bmpHeader(const Bytes &b) {
  if (!has(b, 14, 4))
    return header("BMP");
  if (le32(b, 14) == 12)
    return has(b, 18, 4) ? header("BMP", le16(b, 18), le16(b, 20)) : header("BMP");
  if (!has(b, 18, 8))
    return header("BMP");
  const auto width = static_cast<std::int32_t>(le32(b, 18));
  const auto height = static_cast<std::int32_t>(le32(b, 22));
  return header("BMP", std::llabs(width), std::llabs(height));
}

// The first image file directory's ImageWidth (256) and ImageLength (257) tags, in classic TIFF
// (32-bit offsets) or BigTIFF (64-bit offsets), either byte order.
ImageHeader tiffHeader(const Bytes &b) {
  const bool little = b[0] == 'I';
  const bool big_tiff = (little ? le16(b, 2) : be16(b, 2)) == 43;
  auto u16 = [&](std::size_t at) { return little ? le16(b, at) : be16(b, at); };
  auto u32 = [&](std::size_t at) { return little ? le32(b, at) : be32(b, at); };
  auto u64 = [&](std::size_t at) {
    return little ? le64(b, at) : (std::uint64_t(be32(b, at)) << 32) | be32(b, at + 4);
  };
  const std::size_t offset_size = big_tiff ? 8 : 4, entry_size = big_tiff ? 20 : 12;
  if (!has(b, 4, big_tiff ? 12 : 4))
    return header("TIFF");
  const std::uint64_t ifd = big_tiff ? u64(8) : u32(4);
  const std::size_t count_size = big_tiff ? 8 : 2;
  if (ifd >= b.size() || !has(b, ifd, count_size))
    return header("TIFF");
  const std::uint64_t entries = big_tiff ? u64(ifd) : u16(ifd);
  std::int64_t width = 0, height = 0;
  for (std::uint64_t i = 0; i < entries; ++i) {
    const std::size_t entry = ifd + count_size + i * entry_size;
    if (!has(b, entry, entry_size))
      break;
    const std::uint32_t tag = u16(entry), type = u16(entry + 2);
    const std::size_t value = entry + 4 + offset_size;
    std::int64_t v = type == 3 ? u16(value) : type == 4 ? u32(value) : 0;
    if (type == 16 && big_tiff) // LONG8
      v = static_cast<std::int64_t>(std::min<std::uint64_t>(u64(value), INT64_MAX));
    if (tag == 256)
      width = v;
    else if (tag == 257)
      height = v;
  }
  return header("TIFF", width, height);
}

// RIFF container; the first chunk is the lossy (VP8), lossless (VP8L) or extended (VP8X) header.
ImageHeader webpHeader(const Bytes &b) {
  if (startsWith(b, "VP8 ", 4, 12) && has(b, 26, 4))
    return header("WebP", le16(b, 26) & 0x3fff, le16(b, 28) & 0x3fff);
  if (startsWith(b, "VP8L", 4, 12) && has(b, 21, 4)) {
    const std::uint32_t bits = le32(b, 21);
    return header("WebP", (bits & 0x3fff) + 1, ((bits >> 14) & 0x3fff) + 1);
  }
  if (startsWith(b, "VP8X", 4, 12) && has(b, 24, 6))
    return header("WebP", std::int64_t(le24(b, 24)) + 1, std::int64_t(le24(b, 27)) + 1);
  return header("WebP");
}

// The next whitespace-separated token of a Netpbm header, skipping # comments.
std::string pnmToken(const Bytes &b, std::size_t &at) {
  while (at < b.size()) {
    if (b[at] == '#')
      while (at < b.size() && b[at] != '\n')
        ++at;
    else if (std::isspace(b[at]))
      ++at;
    else
      break;
  }
  std::string token;
  while (at < b.size() && !std::isspace(b[at]) && token.size() < 32)
    token += static_cast<char>(b[at++]);
  return token;
}

std::int64_t pnmNumber(const std::string &token) {
  if (token.empty() || token.size() > 12 ||
      !std::all_of(token.begin(), token.end(), [](char c) { return c >= '0' && c <= '9'; }))
    return 0;
  return std::stoll(token);
}

// P1..P6 and PF/Pf: magic, width, height. P7 (PAM): WIDTH and HEIGHT lines up to ENDHDR.
ImageHeader pnmHeader(const Bytes &b) {
  const bool pfm = b[1] == 'F' || b[1] == 'f';
  const char *format = pfm ? "PFM" : b[1] == '7' ? "PAM" : "PNM";
  std::size_t at = 2;
  if (b[1] != '7') {
    const std::int64_t width = pnmNumber(pnmToken(b, at));
    return header(format, width, pnmNumber(pnmToken(b, at)));
  }
  std::int64_t width = 0, height = 0;
  for (std::string token = pnmToken(b, at); !token.empty() && token != "ENDHDR";
       token = pnmToken(b, at)) {
    if (token == "WIDTH")
      width = pnmNumber(pnmToken(b, at));
    else if (token == "HEIGHT")
      height = pnmNumber(pnmToken(b, at));
  }
  return header(format, width, height);
}

bool isPnm(const Bytes &b) {
  return has(b, 0, 3) && b[0] == 'P' && std::isspace(b[2]) &&
         ((b[1] >= '1' && b[1] <= '7') || b[1] == 'F' || b[1] == 'f');
}

// ---- Decoding -----------------------------------------------------------------------------

std::string cannot(const char *verb, const char *what, const std::string &name) {
  return std::string("flagmask: could not ") + verb + " " + what + " '" + name + "': ";
}

// Refuses what is not a known format, declares no size or declares more than kMaxImagePixels,
// before the decoder allocates anything.
void checkHeader(const Bytes &bytes, const std::string &name, const char *what) {
  const ImageHeader h = readImageHeader(bytes);
  if (!h.format)
    throw Error(cannot("read", what, name) + "not an image in a format flagmask reads (" +
                kImageFormats + ")");
  if (h.width <= 0 || h.height <= 0)
    throw Error(cannot("read", what, name) + "its " + h.format +
                " header is cut short or declares no size");
  if (h.width > kMaxImagePixels || h.height > kMaxImagePixels ||
      h.width * h.height > kMaxImagePixels)
    throw Error(cannot("read", what, name) + "its " + h.format + " header declares " +
                std::to_string(h.width) + "x" + std::to_string(h.height) +
                " pixels, more than the " + std::to_string(kMaxImagePixels) +
                " flagmask reads; scale it down");
}

cv::Mat decodeImage(const Bytes &bytes, const std::string &name, int flags, const char *what) {
  checkHeader(bytes, name, what);
  const cv::Mat encoded(1, static_cast<int>(bytes.size()), CV_8U,
                        const_cast<std::uint8_t *>(bytes.data()));
  cv::Mat image;
  try {
    image = cv::imdecode(encoded, flags);
  } catch (const cv::Exception &e) {
    throw Error(cannot("decode", what, name) + e.err);
  }
  if (image.empty())
    throw Error(cannot("decode", what, name) + "the " + readImageHeader(bytes).format +
                " data is damaged, truncated or of a kind OpenCV does not decode");
  return image;
}

cv::Mat readImage(const std::string &path, int flags, const char *what) {
  return decodeImage(readFileBytes(path, what, kMaxImageFileBytes), path, flags, what);
}

// Any non-zero colour channel marks the object; alpha is ignored (DAVIS ships a grey+alpha mask).
// Compared at the image's own depth, so a 16-bit label of 1 is an object too.
cv::Mat objectPixels(const cv::Mat &image) {
  if (image.channels() == 1)
    return image != 0;
  std::vector<cv::Mat> planes;
  cv::split(image, planes);
  cv::Mat any = planes[0] != 0;
  for (int c = 1; c < std::min(3, image.channels()); ++c)
    any |= planes[c] != 0;
  return any;
}

// Distinct values of one plane, counted up to 256: a mask has a few, a photograph hundreds.
int distinctValues(const cv::Mat &plane) {
  constexpr std::size_t kEnough = 256;
  if (plane.depth() == CV_8U) {
    const int size = 256;
    const float range[] = {0, 256};
    const float *ranges[] = {range};
    cv::Mat hist;
    cv::calcHist(&plane, 1, nullptr, cv::Mat(), hist, 1, &size, ranges);
    return cv::countNonZero(hist);
  }
  cv::Mat values;
  plane.convertTo(values, CV_64F);
  std::unordered_set<double> seen;
  for (int y = 0; y < values.rows && seen.size() < kEnough; ++y)
    for (int x = 0; x < values.cols && seen.size() < kEnough; ++x)
      seen.insert(values.at<double>(y, x));
  return static_cast<int>(seen.size());
}

MaskInfo describeMask(const cv::Mat &image, const cv::Mat &mask) {
  MaskInfo info;
  info.size = image.size();
  info.coverage = cv::countNonZero(mask) / static_cast<double>(mask.total());
  std::vector<cv::Mat> planes;
  cv::split(image, planes);
  for (int c = 0; c < std::min(3, image.channels()); ++c)
    info.distinct_values = std::max(info.distinct_values, distinctValues(planes[c]));
  return info;
}

} // namespace

std::vector<std::uint8_t> readFileBytes(const std::string &path, const char *what,
                                        std::size_t max_bytes) {
  namespace fs = std::filesystem;
  const std::string prefix = cannot("read", what, path);
  std::error_code ec;
  const fs::file_status status = fs::status(path, ec);
  if (status.type() == fs::file_type::not_found)
    throw Error(prefix + "no such file");
  if (ec)
    throw Error(prefix + ec.message());
  if (fs::is_directory(status))
    throw Error(prefix + "it is a directory, not a file");
  if (!fs::is_regular_file(status))
    throw Error(prefix + "it is not a regular file");
  const std::uintmax_t size = fs::file_size(path, ec);
  if (ec)
    throw Error(prefix + ec.message());
  if (size == 0)
    throw Error(prefix + "the file is empty");
  if (size > max_bytes)
    throw Error(prefix + "the file is " + sizeText(size) + ", more than the " +
                sizeText(max_bytes) + " a " + what + " may have");
  errno = 0;
  const std::unique_ptr<std::FILE, int (*)(std::FILE *)> file(std::fopen(path.c_str(), "rb"),
                                                              &std::fclose);
  if (!file)
    throw Error(prefix + (errno ? std::generic_category().message(errno) : "it cannot be opened"));
  Bytes bytes(static_cast<std::size_t>(size));
  if (std::fread(bytes.data(), 1, bytes.size(), file.get()) != bytes.size())
    throw Error(prefix + "it could not be read to the end (" +
                std::generic_category().message(errno) + ")");
  return bytes;
}

ImageHeader readImageHeader(const std::vector<std::uint8_t> &b) {
  if (startsWith(b, "\x89PNG\r\n\x1a\n", 8))
    return pngHeader(b);
  if (startsWith(b, "\xff\xd8\xff", 3))
    return jpegHeader(b);
  if (startsWith(b, "BM", 2))
    return bmpHeader(b);
  if (startsWith(b, "II*\0", 4) || startsWith(b, "MM\0*", 4) || startsWith(b, "II+\0", 4) ||
      startsWith(b, "MM\0+", 4))
    return tiffHeader(b);
  if (startsWith(b, "RIFF", 4) && startsWith(b, "WEBP", 4, 8))
    return webpHeader(b);
  if (isPnm(b))
    return pnmHeader(b);
  return {};
}

cv::Mat decodeMask(const std::vector<std::uint8_t> &bytes, const std::string &name,
                   bool require_object, MaskInfo *info) {
  const cv::Mat image = decodeImage(bytes, name, cv::IMREAD_UNCHANGED, "mask");
  cv::Mat mask = objectPixels(image);
  if (require_object && cv::countNonZero(mask) == 0)
    throw Error("flagmask: mask '" + name +
                "' has no object pixel (every pixel is zero): draw the object in a non-zero value");
  if (info)
    *info = describeMask(image, mask);
  return mask;
}

cv::Mat loadMask(const std::string &path, bool require_object, MaskInfo *info) {
  return decodeMask(readFileBytes(path, "mask", kMaxImageFileBytes), path, require_object, info);
}

cv::Mat loadFrame(const std::string &path) {
  return readImage(path, cv::IMREAD_COLOR, "frame");
}

} // namespace flagmask
