#include "frame.h"

#include "error.h"
#include "parallel.h"
#include "scale.h"

#include <opencv2/imgproc.hpp>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstring>
#include <string>

namespace flagmask {
namespace {

constexpr double kNeutralChroma = 128.0;

struct Argb {
  uint8_t a, r, g, b;
};

Argb unpackArgb(uint32_t argb) {
  return {static_cast<uint8_t>(argb >> 24), static_cast<uint8_t>(argb >> 16),
          static_cast<uint8_t>(argb >> 8), static_cast<uint8_t>(argb)};
}

double lumaBlack(const YuvMatrix &m) {
  return m.full_range ? 0.0 : 16.0;
}
double lumaWhite(const YuvMatrix &m) {
  return m.full_range ? 255.0 : 235.0;
}

void checkLayout(const cv::Mat &plane, const PackedLayout &layout) {
  if (plane.depth() != CV_8U || plane.channels() != layout.channels ||
      (layout.channels != 3 && layout.channels != 4))
    throw Error("flagmask: a packed plane must be 8-bit with the layout's 3 or 4 bytes per pixel");
}

void checkMask(const cv::Mat &mask, cv::Size frame) {
  if (mask.type() != CV_8UC1 || mask.size() != frame)
    throw Error("flagmask: the mask must be 8-bit single-channel at the frame size " +
                sizeText(frame));
}

void checkLuma(const cv::Mat &y) {
  if (y.type() != CV_8UC1)
    throw Error("flagmask: the luma plane must be 8-bit single-channel");
}

void checkChroma(const cv::Mat &chroma, cv::Size frame, int channels) {
  const cv::Size expected((frame.width + 1) / 2, (frame.height + 1) / 2);
  if (chroma.depth() != CV_8U || chroma.channels() != channels || chroma.size() != expected)
    throw Error("flagmask: a 4:2:0 chroma plane must be 8-bit at " + sizeText(expected) +
                " for a " + sizeText(frame) + " frame");
}

// A per-pixel value in the layout's byte order; padding bytes get `fill`.
cv::Scalar layoutScalar(const PackedLayout &l, double r, double g, double b, double a,
                        double fill = 255.0) {
  cv::Scalar s = cv::Scalar::all(fill);
  s[l.r] = r;
  s[l.g] = g;
  s[l.b] = b;
  if (l.hasAlpha())
    s[l.a] = a;
  return s;
}

// Writes value on the background pixels just outside the object, the outline's width. The work
// stays inside the object's box: the outline cannot be anywhere else.
void drawOutline(cv::Mat &plane, const cv::Mat &mask, int thickness, const cv::Scalar &value) {
  if (thickness <= 0)
    return;
  const cv::Rect box = cv::boundingRect(mask);
  if (box.empty())
    return;
  const cv::Rect roi = grownBox(box, thickness, mask.size());
  const cv::Mat kernel =
      cv::getStructuringElement(cv::MORPH_RECT, cv::Size(2 * thickness + 1, 2 * thickness + 1));
  cv::Mat grown;
  cv::dilate(mask(roi), grown, kernel);
  plane(roi).setTo(value, grown & ~mask(roi));
}

// ---- YUV conversion ---------------------------------------------------------------------------

// 3x4 matrix taking (Y, U, V, 1) code values to (B, G, R) in 0..255.
cv::Matx34d yuvToBgrMatrix(const YuvMatrix &m) {
  const double kg = 1.0 - m.kr - m.kb;
  const double ys = m.full_range ? 1.0 : 255.0 / 219.0;
  const double cs = m.full_range ? 1.0 : 255.0 / 224.0;
  const double y0 = lumaBlack(m);
  const double bu = cs * 2.0 * (1.0 - m.kb);
  const double rv = cs * 2.0 * (1.0 - m.kr);
  const double gu = -cs * 2.0 * m.kb * (1.0 - m.kb) / kg;
  const double gv = -cs * 2.0 * m.kr * (1.0 - m.kr) / kg;
  const double c = kNeutralChroma;
  return cv::Matx34d(ys, bu, 0.0, -ys * y0 - bu * c,       // B
                     ys, gu, gv, -ys * y0 - (gu + gv) * c, // G
                     ys, 0.0, rv, -ys * y0 - rv * c);      // R
}

cv::Mat bgrFromYuv(const cv::Mat &yuv, const YuvMatrix &matrix) {
  cv::Mat bgr;
  cv::transform(yuv, bgr, cv::Mat(yuvToBgrMatrix(matrix)));
  return bgr;
}

// ---- What a mode writes ------------------------------------------------------------------------

// What a byte (or a whole 4-byte pixel) becomes: (value & keep) | set, with one pair for the
// object and one for the background. Chosen without a branch, so that the compiler vectorises the
// loops that apply it; a conditional store kept them scalar (cutout into a 1080p I420 frame: 4.1
// ms, against 0.5).
template <typename Value> struct KeepSetRule {
  Value object_keep, object_set, background_keep, background_set;

  Value apply(Value v, bool object) const {
    const Value in = static_cast<Value>((v & object_keep) | object_set);
    const Value out = static_cast<Value>((v & background_keep) | background_set);
    const Value pick = static_cast<Value>(0u - static_cast<unsigned>(object));
    return static_cast<Value>((in & pick) | (out & ~pick));
  }
};

// ---- Modes on planar YUV ----------------------------------------------------------------------

// The colour of the cutout background in the chroma plane's sample order (U, V, or U,V for NV12).
cv::Vec2b chromaColour(const YuvColor &c, int channels, bool v_plane) {
  if (channels == 2)
    return cv::Vec2b(c.u, c.v);
  return cv::Vec2b(v_plane ? c.v : c.u, 0);
}

// The planar modes write every pixel in one pass over the planes and the mask, without images of
// their own: a background mask and a reduced chroma mask allocated anew each frame cost more than
// the writing itself at 1080p (fresh pages from the kernel, each faulted in).

using ByteRule = KeepSetRule<uint8_t>;

// rules[k] on byte k of each of count pixels of N bytes from p, pixel i being object where
// object[i] is non-zero. The rules are copied into locals: a byte written through p may alias
// anything, so the compiler would read them again after every store and not vectorise the loop.
template <int N>
void applyRulesToRun(uint8_t *p, const uint8_t *object, int count, const ByteRule (&rules)[N]) {
  ByteRule r[N];
  std::copy(rules, rules + N, r);
  for (int i = 0; i < count; ++i) {
    const bool in = object[i] != 0;
    for (int k = 0; k < N; ++k)
      p[N * i + k] = r[k].apply(p[N * i + k], in);
  }
}

// rules on every pixel of an N-byte-per-pixel plane, rows in parallel.
template <int N> void applyRules(cv::Mat &plane, const cv::Mat &mask, const ByteRule (&rules)[N]) {
  forRows(plane.rows, [&](int y) {
    applyRulesToRun(plane.ptr<uint8_t>(y), mask.ptr<uint8_t>(y), plane.cols, rules);
  });
}

// op(pixel, object) on every pixel of a 1-channel plane, rows in parallel.
template <typename PixelOp>
void forEachLumaPixel(cv::Mat &plane, const cv::Mat &mask, const PixelOp &op) {
  forRows(plane.rows, [&](int y) {
    uint8_t *p = plane.ptr<uint8_t>(y);
    const uint8_t *m = mask.ptr<uint8_t>(y);
    for (int x = 0; x < plane.cols; ++x)
      op(p[x], m[x] != 0);
  });
}

// A 4:2:0 chroma sample is object where the mask reduced to the chroma size (INTER_AREA: the
// rounded mean of its 2x2 luma block on an even frame) is above 127, that is where at least half
// the block is. object receives that reduced mask (0 or 1) for samples x0 to x0 + count - 1 of
// row cy.
void chromaObject(const cv::Mat &mask, const cv::Mat &odd_object, int cy, int x0, int count,
                  uint8_t *object) {
  if (odd_object.empty()) {
    const uint8_t *m0 = mask.ptr<uint8_t>(2 * cy) + 2 * x0;
    const uint8_t *m1 = mask.ptr<uint8_t>(2 * cy + 1) + 2 * x0;
    for (int i = 0; i < count; ++i) {
      const int sum = m0[2 * i] + m0[2 * i + 1] + m1[2 * i] + m1[2 * i + 1];
      object[i] = (sum + 2) / 4 > 127;
    }
    return;
  }
  const uint8_t *o = odd_object.ptr<uint8_t>(cy) + x0;
  for (int i = 0; i < count; ++i)
    object[i] = o[i] != 0;
}

// op(x0, count, object) over a row of chroma samples in chunks, object holding the chunk's
// reduced mask (chromaObject): a buffer on the stack instead of one allocated per row.
template <typename ChunkOp>
void forChromaChunks(const cv::Mat &mask, const cv::Mat &odd_object, int cy, int cols,
                     const ChunkOp &op) {
  constexpr int kChunk = 256;
  uint8_t object[kChunk];
  for (int x0 = 0; x0 < cols; x0 += kChunk) {
    const int count = std::min(kChunk, cols - x0);
    chromaObject(mask, odd_object, cy, x0, count, object);
    op(x0, count, object);
  }
}

// The mask reduced to the chroma plane's size, for an odd frame only (partial blocks); an even
// frame's is read block by block as the planes are written.
cv::Mat oddChromaObject(const cv::Mat &mask, cv::Size chroma) {
  if (mask.cols == 2 * chroma.width && mask.rows == 2 * chroma.height)
    return cv::Mat();
  return chromaMask(mask, chroma);
}

// op(sample, object) on every sample of a 4:2:0 chroma plane (sample points at its channels).
template <typename SampleOp>
void forEachChromaSample(cv::Mat &chroma, const cv::Mat &mask, const SampleOp &op) {
  const int channels = chroma.channels();
  const cv::Mat odd = oddChromaObject(mask, chroma.size());
  forRows(chroma.rows, [&](int cy) {
    uint8_t *c = chroma.ptr<uint8_t>(cy);
    forChromaChunks(mask, odd, cy, chroma.cols, [&](int x0, int count, const uint8_t *object) {
      for (int i = 0; i < count; ++i)
        op(c + (x0 + i) * channels, object[i] != 0);
    });
  });
}

// rules[k] on channel k of every sample of a 4:2:0 chroma plane of N channels (U, V or
// interleaved U,V).
template <int N>
void applyChromaRules(cv::Mat &chroma, const cv::Mat &mask, const ByteRule (&rules)[N]) {
  CV_Assert(chroma.channels() == N);
  const cv::Mat odd = oddChromaObject(mask, chroma.size());
  forRows(chroma.rows, [&](int cy) {
    forChromaChunks(mask, odd, cy, chroma.cols, [&](int x0, int count, const uint8_t *object) {
      applyRulesToRun(chroma.ptr<uint8_t>(cy) + x0 * N, object, count, rules);
    });
  });
}

// The table of v -> saturate(v * scale + offset), rounded as Mat::convertTo rounds it.
std::array<uint8_t, 256> scaledTable(double scale, double offset) {
  cv::Mat ramp(1, 256, CV_8U), scaled;
  for (int v = 0; v < 256; ++v)
    ramp.at<uint8_t>(v) = static_cast<uint8_t>(v);
  ramp.convertTo(scaled, -1, scale, offset);
  std::array<uint8_t, 256> table;
  std::copy(scaled.begin<uint8_t>(), scaled.end<uint8_t>(), table.begin());
  return table;
}

void applyLuma(cv::Mat &y, const cv::Mat &mask, Mode mode, const YuvMatrix &m, const YuvColor &bg,
               const ModeStyle &style) {
  switch (mode) {
  case Mode::Cutout:
    applyRules<1>(y, mask, {{0xff, 0, 0, bg.y}});
    break;
  case Mode::Mask:
    applyRules<1>(y, mask,
                  {{0, static_cast<uint8_t>(lumaWhite(m)), 0, static_cast<uint8_t>(lumaBlack(m))}});
    break;
  case Mode::Overlay: {
    // Darkens towards the black level (not 0: limited-range black is 16).
    const auto dim = scaledTable(style.overlay_dim, lumaBlack(m) * (1.0 - style.overlay_dim));
    forEachLumaPixel(y, mask, [&](uint8_t &p, bool object) {
      if (!object)
        p = dim[p];
    });
    drawOutline(y, mask, style.overlay_outline, cv::Scalar(lumaWhite(m)));
    break;
  }
  case Mode::Alpha:
    break; // refused before
  }
}

// bg: the cutout's chroma in the plane's sample order (U, V or U,V).
void applyChroma(cv::Mat &c, const cv::Mat &mask, Mode mode, const cv::Vec2b &bg,
                 const ModeStyle &style) {
  const int channels = c.channels();
  switch (mode) {
  case Mode::Cutout: {
    const ByteRule u_or_uv[2] = {{0xff, 0, 0, bg[0]}, {0xff, 0, 0, bg[1]}};
    if (channels == 1)
      applyChromaRules<1>(c, mask, {u_or_uv[0]});
    else
      applyChromaRules(c, mask, u_or_uv);
    break;
  }
  case Mode::Mask:
    c.setTo(cv::Scalar::all(kNeutralChroma));
    break;
  case Mode::Overlay: {
    // Pulls chroma towards neutral by the same factor, so the dimmed background loses colour too.
    const auto dim = scaledTable(style.overlay_dim, kNeutralChroma * (1.0 - style.overlay_dim));
    forEachChromaSample(c, mask, [&](uint8_t *sample, bool object) {
      if (!object)
        for (int k = 0; k < channels; ++k)
          sample[k] = dim[sample[k]];
    });
    break;
  }
  case Mode::Alpha:
    break;
  }
}

void refuseAlphaForYuv(Mode mode) {
  if (mode == Mode::Alpha)
    throw Error("flagmask: mode alpha needs a format with an alpha channel (RGBA, BGRA, ARGB or "
                "ABGR); YUV formats have none");
}

YuvColor backgroundYuv(const ModeStyle &style, const YuvMatrix &matrix) {
  const Argb c = unpackArgb(style.background_argb);
  return rgbToYuv(c.r, c.g, c.b, matrix);
}

// ---- Modes on packed RGB ----------------------------------------------------------------------

// ---- 4-byte layouts: whole pixels as 32-bit words, a branch-free select the compiler vectorises.

// A word with the given byte values at the layout's positions (memory order), 0 elsewhere.
uint32_t layoutWord(const PackedLayout &l, int r, int g, int b, int a) {
  uint8_t bytes[4] = {0, 0, 0, 0};
  bytes[l.r] = static_cast<uint8_t>(r);
  bytes[l.g] = static_cast<uint8_t>(g);
  bytes[l.b] = static_cast<uint8_t>(b);
  if (l.hasAlpha())
    bytes[l.a] = static_cast<uint8_t>(a);
  uint32_t word;
  std::memcpy(&word, bytes, 4);
  return word;
}

using WordRule = KeepSetRule<uint32_t>;

// The rule and the row's length are locals for the reason given at applyRulesToRun.
void applyWordRule(cv::Mat &plane, const cv::Mat &mask, const WordRule &rule) {
  cv::parallel_for_(cv::Range(0, plane.rows), [&](const cv::Range &rows) {
    const WordRule r = rule;
    const int cols = plane.cols;
    for (int y = rows.start; y < rows.end; ++y) {
      uint8_t *p = plane.ptr<uint8_t>(y);
      const uint8_t *m = mask.ptr<uint8_t>(y);
      for (int x = 0; x < cols; ++x) {
        uint32_t w;
        std::memcpy(&w, p + 4 * x, 4);
        w = r.apply(w, m[x] != 0);
        std::memcpy(p + 4 * x, &w, 4);
      }
    }
  });
}

// ---- Overlay (any layout) and 3-byte layouts.

// op(pixel, mask value) on every pixel, rows in parallel.
template <typename PixelOp>
void forEachPixel(cv::Mat &plane, const cv::Mat &mask, const PixelOp &op) {
  const int channels = plane.channels();
  cv::parallel_for_(cv::Range(0, plane.rows), [&](const cv::Range &rows) {
    for (int y = rows.start; y < rows.end; ++y) {
      uint8_t *p = plane.ptr<uint8_t>(y);
      const uint8_t *m = mask.ptr<uint8_t>(y);
      for (int x = 0; x < plane.cols; ++x, p += channels)
        op(p, m[x]);
    }
  });
}

void cutoutPacked(cv::Mat &plane, const PackedLayout &l, const cv::Mat &mask,
                  const ModeStyle &style) {
  const Argb c = unpackArgb(style.background_argb);
  if (l.channels == 4) {
    const uint32_t alpha = l.hasAlpha() ? layoutWord(l, 0, 0, 0, 255) : 0;
    applyWordRule(plane, mask, {~alpha, alpha, 0, layoutWord(l, c.r, c.g, c.b, c.a)});
    return;
  }
  ByteRule rules[3];
  rules[l.r] = {0xff, 0, 0, c.r};
  rules[l.g] = {0xff, 0, 0, c.g};
  rules[l.b] = {0xff, 0, 0, c.b};
  applyRules(plane, mask, rules);
}

void alphaPacked(cv::Mat &plane, const PackedLayout &l, const cv::Mat &mask) {
  const uint32_t alpha = layoutWord(l, 0, 0, 0, 255);
  applyWordRule(plane, mask, {~alpha, alpha, ~alpha, 0});
}

void maskPacked(cv::Mat &plane, const PackedLayout &l, const cv::Mat &mask) {
  if (l.channels == 4) {
    const uint32_t alpha = l.hasAlpha() ? layoutWord(l, 0, 0, 0, 255) : 0;
    applyWordRule(plane, mask, {0, layoutWord(l, 255, 255, 255, 255), 0, alpha});
    return;
  }
  const ByteRule white_on_black{0, 0xff, 0, 0};
  const ByteRule rules[3] = {white_on_black, white_on_black, white_on_black};
  applyRules(plane, mask, rules);
}

// Alpha keeps its value: the overlay changes colour, not coverage.
void overlayPacked(cv::Mat &plane, const PackedLayout &l, const cv::Mat &mask,
                   const ModeStyle &style) {
  uint8_t dim[256];
  for (int v = 0; v < 256; ++v)
    dim[v] = cv::saturate_cast<uint8_t>(v * style.overlay_dim);
  forEachPixel(plane, mask, [&](uint8_t *p, uint8_t object) {
    if (!object) {
      p[l.r] = dim[p[l.r]];
      p[l.g] = dim[p[l.g]];
      p[l.b] = dim[p[l.b]];
    }
  });
  drawOutline(plane, mask, style.overlay_outline, layoutScalar(l, 255, 255, 255, 255));
}

// ---- Soft masks ------------------------------------------------------------------------------

// dst = mix of object and background renders by alpha, where 0 < alpha < 255; every byte of a
// pixel (alpha and padding too). Elsewhere dst keeps what the plain mode wrote.
void mixByAlpha(cv::Mat dst, const cv::Mat &object, const cv::Mat &background,
                const cv::Mat &alpha) {
  const int channels = dst.channels();
  forRows(dst.rows, [&](int y) {
    uint8_t *d = dst.ptr<uint8_t>(y);
    const uint8_t *o = object.ptr<uint8_t>(y), *b = background.ptr<uint8_t>(y);
    const uint8_t *a = alpha.ptr<uint8_t>(y);
    for (int x = 0; x < dst.cols; ++x) {
      const int w = a[x];
      if (w == 0 || w == 255)
        continue;
      for (int c = x * channels; c < (x + 1) * channels; ++c)
        d[c] = static_cast<uint8_t>((o[c] * w + b[c] * (255 - w) + 127) / 255);
    }
  });
}

void checkSoftMask(const SoftMask &mask, cv::Size frame) {
  checkMask(mask.alpha, frame);
  if ((mask.band & cv::Rect(cv::Point(0, 0), frame)) != mask.band)
    throw Error("flagmask: the soft mask's band is not inside the " + sizeText(frame) + " frame");
}

// Plain 0/255 masks of a size, for rendering a band as all object or all background.
cv::Mat filled(cv::Size size, int value) {
  return cv::Mat(size, CV_8UC1, cv::Scalar(value));
}

// The band grown to even coordinates (or to the frame's edge), so that it covers whole 4:2:0
// chroma samples and its chroma planes have the size the YUV functions expect.
cv::Rect evenBand(const cv::Rect &band, cv::Size frame) {
  const int x0 = band.x & ~1, y0 = band.y & ~1;
  const int x1 = std::min(frame.width, (band.br().x + 1) & ~1);
  const int y1 = std::min(frame.height, (band.br().y + 1) & ~1);
  return cv::Rect(x0, y0, x1 - x0, y1 - y0);
}

cv::Rect chromaBand(const cv::Rect &even_band) {
  return cv::Rect(even_band.x / 2, even_band.y / 2, (even_band.width + 1) / 2,
                  (even_band.height + 1) / 2);
}

cv::Mat chromaAlpha(const cv::Mat &alpha, cv::Size chroma) {
  cv::Mat small;
  cv::resize(alpha, small, chroma, 0, 0, cv::INTER_AREA);
  return small;
}

} // namespace

SoftMask featherMask(const cv::Mat &mask, int radius) {
  if (mask.type() != CV_8UC1)
    throw Error("flagmask: the mask to feather must be 8-bit single-channel");
  SoftMask out{mask, cv::Rect()};
  if (radius <= 0) // the common case: no scan of the frame-sized mask
    return out;
  const cv::Rect box = cv::boundingRect(mask);
  if (box.empty())
    return out;
  const cv::Rect band = grownBox(box, radius, mask.size());
  // Outside the band the mask is 0 (the band holds the whole object): only the band is computed.
  // Its own edges are replicated: inside the frame they are background, at the frame's edge the
  // object goes on.
  cv::Mat soft;
  cv::blur(mask(band) != 0, soft, cv::Size(2 * radius + 1, 2 * radius + 1), cv::Point(-1, -1),
           cv::BORDER_REPLICATE);
  out.alpha = cv::Mat::zeros(mask.size(), CV_8UC1);
  soft.copyTo(out.alpha(band));
  out.band = band;
  return out;
}

SoftMask invertMask(const SoftMask &mask) {
  SoftMask out{cv::Mat(), mask.band};
  cv::bitwise_not(mask.alpha, out.alpha);
  return out;
}

YuvColor rgbToYuv(uint8_t r, uint8_t g, uint8_t b, const YuvMatrix &m) {
  const double kg = 1.0 - m.kr - m.kb;
  const double y = (m.kr * r + kg * g + m.kb * b) / 255.0;
  const double pb = (b / 255.0 - y) / (2.0 * (1.0 - m.kb));
  const double pr = (r / 255.0 - y) / (2.0 * (1.0 - m.kr));
  const double ys = m.full_range ? 255.0 : 219.0;
  const double cs = m.full_range ? 255.0 : 224.0;
  const double cmin = m.full_range ? 0.0 : 16.0, cmax = m.full_range ? 255.0 : 240.0;
  auto code = [](double v, double lo, double hi) {
    return static_cast<uint8_t>(std::clamp(std::lround(v), std::lround(lo), std::lround(hi)));
  };
  return {code(lumaBlack(m) + ys * y, lumaBlack(m), lumaWhite(m)),
          code(kNeutralChroma + cs * pb, cmin, cmax), code(kNeutralChroma + cs * pr, cmin, cmax)};
}

bool modeSupported(Mode mode, const PackedLayout &layout) {
  return mode != Mode::Alpha || layout.hasAlpha();
}

cv::Mat workingFromPacked(const cv::Mat &plane, const PackedLayout &layout, cv::Size working) {
  checkLayout(plane, layout);
  const cv::Mat small = reduceToWorking(plane, working);
  cv::Mat bgr(working, CV_8UC3);
  const int from_to[] = {layout.b, 0, layout.g, 1, layout.r, 2};
  cv::mixChannels(&small, 1, &bgr, 1, from_to, 3);
  return bgr;
}

cv::Mat workingFromYuv(const cv::Mat &y, const cv::Mat &u, const cv::Mat &v,
                       const YuvMatrix &matrix, cv::Size working, cv::Mat *luma) {
  checkLuma(y);
  checkChroma(u, y.size(), 1);
  checkChroma(v, y.size(), 1);
  const cv::Mat y_small = reduceToWorking(y, working);
  if (luma)
    *luma = y_small;
  cv::Mat yuv;
  cv::merge(std::vector<cv::Mat>{y_small, reduceToWorking(u, working), reduceToWorking(v, working)},
            yuv);
  return bgrFromYuv(yuv, matrix);
}

cv::Mat workingFromNv12(const cv::Mat &y, const cv::Mat &uv, const YuvMatrix &matrix,
                        cv::Size working, cv::Mat *luma) {
  checkLuma(y);
  checkChroma(uv, y.size(), 2);
  const cv::Mat y_small = reduceToWorking(y, working);
  if (luma)
    *luma = y_small;
  cv::Mat yuv;
  cv::merge(std::vector<cv::Mat>{y_small, reduceToWorking(uv, working)}, yuv);
  return bgrFromYuv(yuv, matrix);
}

FrameView FrameView::fromPacked(const cv::Mat &plane, const PackedLayout &layout,
                                const std::string &format) {
  checkLayout(plane, layout);
  FrameView view;
  view.layout = Layout::Packed;
  view.packed = layout;
  view.planes[0] = plane;
  view.format = format;
  return view;
}

FrameView FrameView::fromBgr(const cv::Mat &image) {
  if (image.empty() || image.type() != CV_8UC3)
    throw Error("flagmask: a frame must be a non-empty 8-bit 3-channel BGR image");
  return fromPacked(image, PackedLayout::bgr(), "BGR");
}

namespace {

// A 4:2:0 view: the luma plane, then the chroma planes, each checked against the luma's size.
FrameView yuvView(FrameView::Layout layout, const YuvMatrix &matrix, const std::string &format,
                  std::initializer_list<cv::Mat> planes) {
  FrameView view;
  view.layout = layout;
  view.matrix = matrix;
  view.format = format;
  std::copy(planes.begin(), planes.end(), view.planes);
  checkLuma(view.planes[0]);
  const int chroma_channels = layout == FrameView::Layout::Nv12 ? 2 : 1;
  for (std::size_t i = 1; i < planes.size(); ++i)
    checkChroma(view.planes[i], view.planes[0].size(), chroma_channels);
  return view;
}

} // namespace

FrameView FrameView::fromI420(const cv::Mat &y, const cv::Mat &u, const cv::Mat &v,
                              const YuvMatrix &matrix, const std::string &format) {
  return yuvView(Layout::I420, matrix, format, {y, u, v});
}

FrameView FrameView::fromNv12(const cv::Mat &y, const cv::Mat &uv, const YuvMatrix &matrix,
                              const std::string &format) {
  return yuvView(Layout::Nv12, matrix, format, {y, uv});
}

std::string FrameView::formatName() const {
  if (!format.empty())
    return format;
  switch (layout) {
  case Layout::I420:
    return "I420";
  case Layout::Nv12:
    return "NV12";
  case Layout::Packed:
    break;
  }
  return std::to_string(packed.channels * 8) + "-bit packed RGB" +
         (packed.hasAlpha() ? " with alpha" : " without alpha");
}

cv::Mat workingImage(const FrameView &frame, cv::Size working, cv::Mat *guide) {
  switch (frame.layout) {
  case FrameView::Layout::I420:
    return workingFromYuv(frame.planes[0], frame.planes[1], frame.planes[2], frame.matrix, working,
                          guide);
  case FrameView::Layout::Nv12:
    return workingFromNv12(frame.planes[0], frame.planes[1], frame.matrix, working, guide);
  case FrameView::Layout::Packed:
    break;
  }
  cv::Mat bgr = workingFromPacked(frame.planes[0], frame.packed, working);
  if (guide)
    cv::extractChannel(bgr, *guide, 1);
  return bgr;
}

cv::Mat workingGuide(const FrameView &frame, cv::Size working, const cv::Rect &region) {
  if (frame.layout == FrameView::Layout::Packed)
    checkLayout(frame.planes[0], frame.packed);
  else
    checkLuma(frame.planes[0]);
  const cv::Rect part =
      scaleRect(region, working, frame.size()) & cv::Rect(cv::Point(), frame.size());
  if (part.empty())
    throw Error("flagmask: the region of the working image lies outside the frame");
  const cv::Mat plane = frame.planes[0](part);
  cv::Mat small;
  cv::resize(plane, small, region.size(), 0, 0, cv::INTER_AREA);
  if (frame.layout != FrameView::Layout::Packed)
    return small;
  cv::Mat green;
  cv::extractChannel(small, green, frame.packed.g);
  return green;
}

Guide fullGuide(const FrameView &frame) {
  if (frame.layout == FrameView::Layout::Packed)
    return {frame.planes[0], frame.packed.g};
  return {frame.planes[0], 0};
}

void applyMode(FrameView &frame, const SoftMask &mask, Mode mode, const ModeStyle &style) {
  cv::Mat *p = frame.planes;
  switch (frame.layout) {
  case FrameView::Layout::I420:
    return applyI420(p[0], p[1], p[2], mask, mode, frame.matrix, style);
  case FrameView::Layout::Nv12:
    return applyNv12(p[0], p[1], mask, mode, frame.matrix, style);
  case FrameView::Layout::Packed:
    return applyPacked(p[0], frame.packed, mask, mode, style);
  }
}

cv::Mat chromaMask(const cv::Mat &mask, cv::Size chroma) {
  cv::Mat small;
  cv::resize(mask, small, chroma, 0, 0, cv::INTER_AREA);
  return small > 127;
}

void applyPacked(cv::Mat &plane, const PackedLayout &layout, const cv::Mat &mask, Mode mode,
                 const ModeStyle &style) {
  checkLayout(plane, layout);
  checkMask(mask, plane.size());
  if (!modeSupported(mode, layout))
    throw Error("flagmask: mode alpha needs a format with an alpha channel (RGBA, BGRA, ARGB or "
                "ABGR)");
  switch (mode) {
  case Mode::Cutout:
    cutoutPacked(plane, layout, mask, style);
    break;
  case Mode::Alpha:
    alphaPacked(plane, layout, mask);
    break;
  case Mode::Mask:
    maskPacked(plane, layout, mask);
    break;
  case Mode::Overlay:
    overlayPacked(plane, layout, mask, style);
    break;
  }
}

void applyI420(cv::Mat &y, cv::Mat &u, cv::Mat &v, const cv::Mat &mask, Mode mode,
               const YuvMatrix &matrix, const ModeStyle &style) {
  refuseAlphaForYuv(mode);
  checkMask(mask, y.size());
  checkChroma(u, y.size(), 1);
  checkChroma(v, y.size(), 1);
  const YuvColor bg = backgroundYuv(style, matrix);
  applyLuma(y, mask, mode, matrix, bg, style);
  applyChroma(u, mask, mode, chromaColour(bg, 1, false), style);
  applyChroma(v, mask, mode, chromaColour(bg, 1, true), style);
}

void applyNv12(cv::Mat &y, cv::Mat &uv, const cv::Mat &mask, Mode mode, const YuvMatrix &matrix,
               const ModeStyle &style) {
  refuseAlphaForYuv(mode);
  checkMask(mask, y.size());
  checkChroma(uv, y.size(), 2);
  const YuvColor bg = backgroundYuv(style, matrix);
  applyLuma(y, mask, mode, matrix, bg, style);
  applyChroma(uv, mask, mode, chromaColour(bg, 2, false), style);
}

// The band is rendered twice from its original pixels, as all object and as all background, then
// the plain mode runs on the whole frame and the band's soft pixels get the mix of the two renders.

void applyPacked(cv::Mat &plane, const PackedLayout &layout, const SoftMask &mask, Mode mode,
                 const ModeStyle &style) {
  checkLayout(plane, layout);
  checkSoftMask(mask, plane.size());
  if (mask.band.empty()) {
    applyPacked(plane, layout, mask.alpha, mode, style);
    return;
  }
  const cv::Rect &band = mask.band;
  cv::Mat object = plane(band).clone(), background = plane(band).clone();
  applyPacked(object, layout, filled(band.size(), 255), mode, style);
  applyPacked(background, layout, filled(band.size(), 0), mode, style);
  applyPacked(plane, layout, mask.alpha, mode, style);
  mixByAlpha(plane(band), object, background, mask.alpha(band));
}

void applyI420(cv::Mat &y, cv::Mat &u, cv::Mat &v, const SoftMask &mask, Mode mode,
               const YuvMatrix &matrix, const ModeStyle &style) {
  checkSoftMask(mask, y.size());
  if (mask.band.empty()) {
    applyI420(y, u, v, mask.alpha, mode, matrix, style);
    return;
  }
  refuseAlphaForYuv(mode);
  checkChroma(u, y.size(), 1);
  checkChroma(v, y.size(), 1);
  const cv::Rect band = evenBand(mask.band, y.size()), cband = chromaBand(band);
  cv::Mat yo = y(band).clone(), uo = u(cband).clone(), vo = v(cband).clone();
  cv::Mat yb = y(band).clone(), ub = u(cband).clone(), vb = v(cband).clone();
  applyI420(yo, uo, vo, filled(band.size(), 255), mode, matrix, style);
  applyI420(yb, ub, vb, filled(band.size(), 0), mode, matrix, style);
  applyI420(y, u, v, mask.alpha, mode, matrix, style);
  const cv::Mat alpha = mask.alpha(band), calpha = chromaAlpha(alpha, cband.size());
  mixByAlpha(y(band), yo, yb, alpha);
  mixByAlpha(u(cband), uo, ub, calpha);
  mixByAlpha(v(cband), vo, vb, calpha);
}

void applyNv12(cv::Mat &y, cv::Mat &uv, const SoftMask &mask, Mode mode, const YuvMatrix &matrix,
               const ModeStyle &style) {
  checkSoftMask(mask, y.size());
  if (mask.band.empty()) {
    applyNv12(y, uv, mask.alpha, mode, matrix, style);
    return;
  }
  refuseAlphaForYuv(mode);
  checkChroma(uv, y.size(), 2);
  const cv::Rect band = evenBand(mask.band, y.size()), cband = chromaBand(band);
  cv::Mat yo = y(band).clone(), uvo = uv(cband).clone();
  cv::Mat yb = y(band).clone(), uvb = uv(cband).clone();
  applyNv12(yo, uvo, filled(band.size(), 255), mode, matrix, style);
  applyNv12(yb, uvb, filled(band.size(), 0), mode, matrix, style);
  applyNv12(y, uv, mask.alpha, mode, matrix, style);
  const cv::Mat alpha = mask.alpha(band);
  mixByAlpha(y(band), yo, yb, alpha);
  mixByAlpha(uv(cband), uvo, uvb, chromaAlpha(alpha, cband.size()));
}

// ---- Backdrop -----------------------------------------------------------------------------------

namespace {

// 3x4 matrix taking (B, G, R, 1) in 0..255 to (Y, U, V) code values: the inverse of
// yuvToBgrMatrix, rgbToYuv's arithmetic as one transform.
cv::Matx34d bgrToYuvMatrix(const YuvMatrix &m) {
  const double kg = 1.0 - m.kr - m.kb;
  const double ys = m.full_range ? 1.0 : 219.0 / 255.0;
  const double cs = m.full_range ? 1.0 : 224.0 / 255.0;
  const double u = cs / (2.0 * (1.0 - m.kb)), v = cs / (2.0 * (1.0 - m.kr));
  const double c = kNeutralChroma;
  return cv::Matx34d(ys * m.kb, ys * kg, ys * m.kr, lumaBlack(m), // Y
                     u * (1.0 - m.kb), -u * kg, -u * m.kr, c,     // U
                     -v * m.kb, -v * kg, v * (1.0 - m.kr), c);    // V
}

int planeCount(const FrameView &frame) {
  switch (frame.layout) {
  case FrameView::Layout::I420:
    return 3;
  case FrameView::Layout::Nv12:
    return 2;
  case FrameView::Layout::Packed:
    break;
  }
  return 1;
}

// A plane blurred by a Gaussian of about radius pixels: reduced so that the radius is about 4
// pixels there, blurred, brought back bilinearly (a full-size kernel 2 radius wide would cost
// hundreds of times more at 1080p and look the same).
cv::Mat blurredPlane(const cv::Mat &plane, double radius) {
  if (radius < 1)
    return plane.clone();
  const double factor = std::max(1.0, radius / 4.0);
  const cv::Size reduced(std::max(1, cvRound(plane.cols / factor)),
                         std::max(1, cvRound(plane.rows / factor)));
  cv::Mat small, out;
  cv::resize(plane, small, reduced, 0, 0, cv::INTER_AREA);
  cv::GaussianBlur(small, small, cv::Size(), radius / factor / 2.0, 0, cv::BORDER_REFLECT);
  cv::resize(small, out, plane.size(), 0, 0, cv::INTER_LINEAR);
  return out;
}

// Chroma planes are half the size: half the radius.
std::vector<cv::Mat> blurredPlanes(const std::vector<cv::Mat> &planes, int blur) {
  std::vector<cv::Mat> out;
  for (std::size_t i = 0; i < planes.size(); ++i)
    out.push_back(blurredPlane(planes[i], i == 0 ? blur : blur / 2.0));
  return out;
}

// A BGR picture as the planes of a frame of this layout, scaled to its size.
std::vector<cv::Mat> pictureAsPlanes(const cv::Mat &bgr, const FrameView &frame) {
  const cv::Size size = frame.size();
  cv::Mat scaled;
  const bool smaller = size.width < bgr.cols || size.height < bgr.rows;
  cv::resize(bgr, scaled, size, 0, 0, smaller ? cv::INTER_AREA : cv::INTER_LINEAR);
  if (frame.layout == FrameView::Layout::Packed) {
    const PackedLayout &l = frame.packed;
    cv::Mat packed(size, CV_8UC(l.channels), cv::Scalar::all(255)); // alpha and padding opaque
    const int from_to[] = {0, l.b, 1, l.g, 2, l.r};
    cv::mixChannels(&scaled, 1, &packed, 1, from_to, 3);
    return {packed};
  }
  cv::Mat yuv, channels[3];
  cv::transform(scaled, yuv, cv::Mat(bgrToYuvMatrix(frame.matrix)));
  cv::split(yuv, channels);
  const cv::Size chroma = frame.planes[1].size();
  cv::Mat u, v;
  cv::resize(channels[1], u, chroma, 0, 0, cv::INTER_AREA);
  cv::resize(channels[2], v, chroma, 0, 0, cv::INTER_AREA);
  if (frame.layout == FrameView::Layout::I420)
    return {channels[0], u, v};
  cv::Mat uv;
  cv::merge(std::vector<cv::Mat>{u, v}, uv);
  return {channels[0], uv};
}

// plane = the backdrop where it is behind the object (alpha below half), mixed with the object
// where alpha is soft (inside band), left where it is the object.
void backdropPlane(cv::Mat &plane, const cv::Mat &backdrop, const cv::Mat &behind,
                   const cv::Mat &alpha, const cv::Rect &band) {
  cv::Mat object;
  if (!band.empty())
    object = plane(band).clone();
  backdrop.copyTo(plane, behind);
  if (!band.empty())
    mixByAlpha(plane(band), object, backdrop(band), alpha(band));
}

} // namespace

Backdrop::Backdrop(const cv::Mat &picture, int blur) : picture_(picture), blur_(blur) {
  if (!picture.empty() && picture.type() != CV_8UC3)
    throw Error("flagmask: a background picture must be 8-bit BGR");
  if (blur < 0 || blur > kMaxBackgroundBlur)
    throw Error("flagmask: the background blur must be 0.." + std::to_string(kMaxBackgroundBlur) +
                " pixels, got " + std::to_string(blur));
}

const std::vector<cv::Mat> &Backdrop::pictureFor(const FrameView &frame) {
  const bool same =
      !prepared_.empty() && prepared_size_ == frame.size() && prepared_layout_ == frame.layout &&
      (frame.layout != FrameView::Layout::Packed ||
       (prepared_packed_.channels == frame.packed.channels &&
        prepared_packed_.r == frame.packed.r && prepared_packed_.a == frame.packed.a &&
        prepared_packed_.b == frame.packed.b)) &&
      (frame.layout == FrameView::Layout::Packed ||
       (prepared_matrix_.kr == frame.matrix.kr && prepared_matrix_.kb == frame.matrix.kb &&
        prepared_matrix_.full_range == frame.matrix.full_range));
  if (!same) {
    prepared_ = blurredPlanes(pictureAsPlanes(picture_, frame), blur_);
    prepared_size_ = frame.size();
    prepared_layout_ = frame.layout;
    prepared_packed_ = frame.packed;
    prepared_matrix_ = frame.matrix;
  }
  return prepared_;
}

void Backdrop::apply(FrameView &frame, const SoftMask &mask) {
  checkSoftMask(mask, frame.size());
  const int count = planeCount(frame);
  std::vector<cv::Mat> own;
  if (picture_.empty()) {
    for (int i = 0; i < count; ++i)
      own.push_back(frame.planes[i]);
    own = blurredPlanes(own, blur_);
  }
  const std::vector<cv::Mat> &backdrop = picture_.empty() ? own : pictureFor(frame);
  backdropPlane(frame.planes[0], backdrop[0], mask.alpha < 128, mask.alpha, mask.band);
  if (count == 1)
    return;
  // 4:2:0 chroma: the alpha reduced as the soft modes reduce it, over whole chroma samples; one
  // mask of what is behind the object for both chroma planes.
  const cv::Size chroma = frame.planes[1].size();
  const cv::Mat calpha = chromaAlpha(mask.alpha, chroma), cbehind = calpha < 128;
  const cv::Rect cband =
      mask.band.empty() ? cv::Rect() : chromaBand(evenBand(mask.band, frame.size()));
  for (int i = 1; i < count; ++i)
    backdropPlane(frame.planes[i], backdrop[i], cbehind, calpha, cband);
}

} // namespace flagmask
