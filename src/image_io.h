// flagmask: reading masks and frames with errors a user can act on.
#pragma once

#include "scale.h"

#include <opencv2/core.hpp>

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace flagmask {

// Bounds on what the readers accept, so that a mistaken or hostile file cannot make them allocate
// without limit. An image may declare at most kMaxImagePixels pixels (8192x4096; an 8K UHD frame
// fits): the size is read from the file's header and checked before anything is decoded.
constexpr std::int64_t kMaxImagePixels = std::int64_t(1) << 25;
constexpr std::size_t kMaxImageFileBytes = std::size_t(256) << 20;

// The formats whose header flagmask reads to check the size before decoding. Other formats are
// refused: their size would only be known once OpenCV had allocated it (and OpenCV 4.6 reads grey
// Sun raster images as all zero).
constexpr const char *kImageFormats = "PNG, JPEG, BMP, TIFF, WebP or PNM/PAM/PFM";

// Reads a whole file. Throws Error naming the file and the reason when it is missing, not a
// regular file, unreadable (e.g. permissions), empty, or larger than max_bytes. what names the
// file's role in messages ("mask", "model file").
std::vector<std::uint8_t> readFileBytes(const std::string &path, const char *what,
                                        std::size_t max_bytes);

// What an encoded image's header declares, read without decoding it.
struct ImageHeader {
  const char *format = nullptr;       // "PNG", "JPEG", ...; nullptr when not one of kImageFormats
  std::int64_t width = 0, height = 0; // as declared; 0 when the header is cut short
};
ImageHeader readImageHeader(const std::vector<std::uint8_t> &bytes);

// What a mask file held beyond its object pixels, for the warnings a caller may give.
struct MaskInfo {
  cv::Size size;           // of the image
  double coverage = 0;     // object pixels / pixels
  int distinct_values = 0; // the most distinct values in one channel (2 for a 0/255 mask), <= 256
};

// Reads a mask image: any of kImageFormats, grey, colour or with alpha; a pixel is object
// when any colour channel is non-zero. Result: CV_8U, 255 = object, 0 = background.
// Throws Error naming the file when it is missing, unreadable, not an image, too large or (when
// require_object) has no object pixel. Ground-truth masks may be empty: pass false.
cv::Mat loadMask(const std::string &path, bool require_object = true, MaskInfo *info = nullptr);

// The same from the bytes of a mask file; name stands for the file in messages.
cv::Mat decodeMask(const std::vector<std::uint8_t> &bytes, const std::string &name,
                   bool require_object = true, MaskInfo *info = nullptr);

// Reads an 8-bit BGR frame; throws Error naming the file when it cannot.
cv::Mat loadFrame(const std::string &path);

} // namespace flagmask
