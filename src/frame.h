// flagmask: the pixels of a video frame: converting it to the working image and writing the
// output mode into it, in place, for packed RGB and planar YUV layouts.
//
// This is where every pixel decision of the GStreamer element lives, so that it can be tested on
// cv::Mat without a pipeline. Planes are cv::Mat headers over the frame's memory with the real row
// stride (rows of odd-width frames are padded); nothing here converts a full-resolution frame.
#pragma once

#include "scale.h"

#include <opencv2/core.hpp>

#include <cstdint>
#include <string>
#include <vector>

namespace flagmask {

// What the element writes into the frame.
enum class Mode {
  Cutout,  // object unchanged, background replaced by a colour
  Alpha,   // object opaque, background transparent, colour untouched (layouts with alpha only)
  Mask,    // white object on black
  Overlay, // the frame with the background darkened and the object outlined
};

// Byte positions of the colour components inside one pixel of a packed RGB layout. Channels not
// named (the x of RGBx) are padding.
struct PackedLayout {
  int channels = 3;        // bytes per pixel: 3 or 4
  int r = 0, g = 1, b = 2; // byte offset of each colour component
  int a = -1;              // byte offset of alpha, -1 when the layout has none

  bool hasAlpha() const { return a >= 0; }

  static PackedLayout rgb() { return {3, 0, 1, 2, -1}; }
  static PackedLayout bgr() { return {3, 2, 1, 0, -1}; }
  static PackedLayout rgba() { return {4, 0, 1, 2, 3}; }
  static PackedLayout bgra() { return {4, 2, 1, 0, 3}; }
  static PackedLayout argb() { return {4, 1, 2, 3, 0}; }
  static PackedLayout abgr() { return {4, 3, 2, 1, 0}; }
  static PackedLayout rgbx() { return {4, 0, 1, 2, -1}; }
  static PackedLayout bgrx() { return {4, 2, 1, 0, -1}; }
  static PackedLayout xrgb() { return {4, 1, 2, 3, -1}; }
  static PackedLayout xbgr() { return {4, 3, 2, 1, -1}; }
};

// The YCbCr matrix of a stream: luma weights of red and blue, and whether the samples use the
// full 0..255 range or the limited (studio) 16..235 / 16..240 range.
struct YuvMatrix {
  double kr = 0.299; // BT.601
  double kb = 0.114;
  bool full_range = false;

  static YuvMatrix bt601(bool full = false) { return {0.299, 0.114, full}; }
  static YuvMatrix bt709(bool full = false) { return {0.2126, 0.0722, full}; }
};

// A Y'CbCr triple in the 8-bit code values of a YuvMatrix.
struct YuvColor {
  uint8_t y, u, v;
};

// Converts an 8-bit RGB colour to the code values of a matrix (rounded, clamped to its range).
YuvColor rgbToYuv(uint8_t r, uint8_t g, uint8_t b, const YuvMatrix &matrix);

// How the modes look. background_argb is 0xAARRGGBB, as the element's background-color property.
struct ModeStyle {
  uint32_t background_argb = 0xff000000; // cutout: colour (and alpha) behind the object
  double overlay_dim = 0.4;              // overlay: background brightness factor, 0..1
  int overlay_outline = 2;               // overlay: outline thickness in pixels, 0 = none
};

// ---- A video frame as it lies in memory
// ----------------------------------------------------------

// A view of one video frame's planes (nothing is copied): packed RGB with or without alpha in one
// plane, or 4:2:0 YUV as I420 (Y, U, V planes) or NV12 (Y, interleaved UV). Each plane is a
// cv::Mat header over the frame's memory with the plane's real row stride. The core reads frames
// and writes its output into them only through this.
struct FrameView {
  enum class Layout { Packed, I420, Nv12 };

  Layout layout = Layout::Packed;
  PackedLayout packed; // Packed: where each component lies in a pixel
  YuvMatrix matrix;    // I420, Nv12: the stream's YCbCr matrix and range
  // Packed: [0] CV_8UC3 or CV_8UC4 per packed.channels. I420: Y, U, V, CV_8UC1. Nv12: Y CV_8UC1,
  // UV CV_8UC2. Chroma planes are (w+1)/2 x (h+1)/2.
  cv::Mat planes[3];
  std::string format; // the format's name for messages ("I420", "BGRx"); empty when unknown

  static FrameView fromPacked(const cv::Mat &plane, const PackedLayout &layout,
                              const std::string &format = "");
  // An 8-bit BGR image, as OpenCV decodes one.
  static FrameView fromBgr(const cv::Mat &image);
  static FrameView fromI420(const cv::Mat &y, const cv::Mat &u, const cv::Mat &v,
                            const YuvMatrix &matrix, const std::string &format = "I420");
  static FrameView fromNv12(const cv::Mat &y, const cv::Mat &uv, const YuvMatrix &matrix,
                            const std::string &format = "NV12");

  cv::Size size() const { return planes[0].size(); }
  bool hasAlpha() const { return layout == Layout::Packed && packed.hasAlpha(); }
  // The format's name, or a description of the layout when none was given.
  std::string formatName() const;
};

// The frame at the working size as 8-bit BGR (each plane reduced before it is converted, so the
// cost does not grow with the frame's resolution). When guide is given it receives, at the
// working size, the plane the mask's upsampling follows (see fullGuide).
cv::Mat workingImage(const FrameView &frame, cv::Size working, cv::Mat *guide = nullptr);

// Region (working pixels, inside the working size) of the plane workingImage gives as its guide
// (luma for YUV, green for packed RGB), alone: reduced from the matching part of the frame, so the
// cost is that of the region and not of the colour.
cv::Mat workingGuide(const FrameView &frame, cv::Size working, const cv::Rect &region);

// The full-resolution plane a mask is brought back to the frame's size along, and which of its
// channels: luma for YUV, green for packed RGB (it carries most of the luminance). Planes the
// frame already has, so nothing is converted at full size.
struct Guide {
  cv::Mat plane;
  int channel = 0;
};
Guide fullGuide(const FrameView &frame);

// ---- The working image: 8-bit BGR at the analysis resolution ----------------------------------
// Each plane is first reduced with INTER_AREA to the working size and only then converted, so
// the cost does not grow with the frame's resolution.

// plane: CV_8UC3 or CV_8UC4 matching layout.channels. Returns CV_8UC3 BGR of size working.
cv::Mat workingFromPacked(const cv::Mat &plane, const PackedLayout &layout, cv::Size working);

// I420: y CV_8UC1 at frame size, u and v CV_8UC1 at chroma size ((w+1)/2 x (h+1)/2). When
// luma is given it receives the luma plane at working size, the reduction the image was made
// from (the element guides the mask's upsampling with it).
cv::Mat workingFromYuv(const cv::Mat &y, const cv::Mat &u, const cv::Mat &v,
                       const YuvMatrix &matrix, cv::Size working, cv::Mat *luma = nullptr);

// NV12: y CV_8UC1 at frame size, uv CV_8UC2 (U, V interleaved) at chroma size. luma as above.
cv::Mat workingFromNv12(const cv::Mat &y, const cv::Mat &uv, const YuvMatrix &matrix,
                        cv::Size working, cv::Mat *luma = nullptr);

// ---- Writing the mode into the frame, in place --------------------------------------------------
// mask: CV_8UC1 at the frame's size, 255 = object, 0 = background (as the element brings it back).
// All throw flagmask::Error for a mode the layout cannot show (alpha without an alpha channel) or
// planes that do not match the mask.

void applyPacked(cv::Mat &plane, const PackedLayout &layout, const cv::Mat &mask, Mode mode,
                 const ModeStyle &style = {});

void applyI420(cv::Mat &y, cv::Mat &u, cv::Mat &v, const cv::Mat &mask, Mode mode,
               const YuvMatrix &matrix, const ModeStyle &style = {});

void applyNv12(cv::Mat &y, cv::Mat &uv, const cv::Mat &mask, Mode mode, const YuvMatrix &matrix,
               const ModeStyle &style = {});

// ---- Soft edges ------------------------------------------------------------------------------

// A mask whose values between 0 and 255 mix the object's output with the background's, by
// value / 255, pixel by pixel (and by the mask reduced to chroma size on chroma planes). Every
// value strictly between 0 and 255 lies inside band, so the mixing is confined to it; an empty band
// means a plain 0/255 mask, applied exactly as the cv::Mat overloads above apply it.
struct SoftMask {
  cv::Mat alpha; // CV_8UC1 at the frame's size, 255 = object, 0 = background
  cv::Rect band; // bounds every value strictly between 0 and 255; empty when there are none
};

// The object's mask (CV_8UC1, 0/255) with an edge radius pixels wide on each side of its boundary:
// across a straight boundary alpha rises linearly over 2 * radius + 1 pixels, from 0 at radius + 1
// pixels outside to 255 at radius pixels inside (a (2 radius + 1)^2 box average of the mask, which
// costs the same whatever the radius). Only the object's box grown by radius is computed: nothing
// changes elsewhere. The frame's own edges do not count as a boundary (an object cut by the frame
// stays opaque up to it). radius 0 gives the mask itself, with an empty band.
SoftMask featherMask(const cv::Mat &mask, int radius);

// The background's soft mask: 255 - alpha, the same band.
SoftMask invertMask(const SoftMask &mask);

// The modes with a soft mask: where 0 < alpha < 255 the pixel is the mix of what the mode writes
// for the object (cutout: the pixel; alpha: the pixel, opaque; mask: white; overlay: the pixel)
// and for the background (cutout: background colour; alpha: transparent; mask: black; overlay:
// dimmed). The overlay outline runs just outside the soft edge. Work beyond the plain modes' is
// confined to the band.
void applyPacked(cv::Mat &plane, const PackedLayout &layout, const SoftMask &mask, Mode mode,
                 const ModeStyle &style = {});

void applyI420(cv::Mat &y, cv::Mat &u, cv::Mat &v, const SoftMask &mask, Mode mode,
               const YuvMatrix &matrix, const ModeStyle &style = {});

void applyNv12(cv::Mat &y, cv::Mat &uv, const SoftMask &mask, Mode mode, const YuvMatrix &matrix,
               const ModeStyle &style = {});

// The mode written into a frame of any layout (dispatches to the functions above).
void applyMode(FrameView &frame, const SoftMask &mask, Mode mode, const ModeStyle &style = {});

// The mask of a subsampled chroma plane: a chroma sample is object when most of the luma pixels it
// covers are (INTER_AREA reduction of the full mask, then a cut at half). Deriving it from the
// full mask, not from the working mask, keeps luma and chroma edges on the same pixels.
cv::Mat chromaMask(const cv::Mat &mask, cv::Size chroma);

// Whether a mode can be shown in a layout: alpha needs an alpha channel.
bool modeSupported(Mode mode, const PackedLayout &layout);

// ---- A cutout over something other than a solid colour

// The largest background blur radius: beyond it a background is a smear of colour at any size.
constexpr int kMaxBackgroundBlur = 200;

// What a cutout shows behind the object instead of a solid colour: a still picture scaled to the
// frame, or the frame itself, blurred when blur > 0 (a Gaussian about blur frame pixels wide,
// computed at a reduced size: its cost hardly depends on the radius). Keeps the picture converted
// to the layout and size of the frames it is applied to, until those change.
class Backdrop {
public:
  Backdrop() = default;
  // picture: 8-bit BGR, empty for the frame itself; blur: 0..kMaxBackgroundBlur.
  Backdrop(const cv::Mat &picture, int blur);
  // Whether there is anything behind the object but the solid colour.
  bool active() const { return !picture_.empty() || blur_ > 0; }
  // Writes the backdrop behind the object (the mask's alpha; mixed where it is soft), in the
  // frame's own layout; the object's pixels keep their values. Packed frames get an opaque alpha
  // behind the object.
  void apply(FrameView &frame, const SoftMask &mask);

private:
  cv::Mat picture_;
  int blur_ = 0;
  // The picture as planes of the frames it was last applied to, and what those frames were.
  std::vector<cv::Mat> prepared_;
  cv::Size prepared_size_;
  FrameView::Layout prepared_layout_ = FrameView::Layout::Packed;
  PackedLayout prepared_packed_;
  YuvMatrix prepared_matrix_;

  const std::vector<cv::Mat> &pictureFor(const FrameView &frame);
};

} // namespace flagmask
