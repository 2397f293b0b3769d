#include "eval/synthetic.h"

#include "error.h"

#include <opencv2/imgproc.hpp>

#include <algorithm>
#include <cmath>
#include <cstdint>

namespace flagmask {
namespace {

constexpr double kPi = 3.14159265358979323846;

// A smooth, non-repeating texture (sum of oblique waves plus seeded noise) so optical flow has
// something to hold on to, sampled at an offset that drifts with time like a panning camera.
cv::Vec3b backgroundAt(double x, double y) {
  const double a = std::sin(0.045 * x + 0.020 * y) + 0.6 * std::sin(0.013 * x - 0.051 * y + 1.3);
  const double b = std::cos(0.031 * x + 0.007 * y + 0.4) + 0.5 * std::sin(0.071 * y);
  const double c = std::sin(0.019 * (x + y) + 2.0);
  auto clip = [](double v) { return cv::saturate_cast<uchar>(v); };
  return cv::Vec3b(clip(120 + 30 * a + 10 * c), clip(140 + 25 * b + 10 * a), clip(95 + 20 * c));
}

// Stripes of the cloth, top to bottom: red, white, blue, white, red.
cv::Vec3b clothColour(double v) {
  static const cv::Vec3b stripes[] = {
      {40, 40, 200}, {235, 235, 235}, {160, 60, 30}, {235, 235, 235}, {40, 40, 200}};
  const int i = std::min(4, std::max(0, static_cast<int>(v * 5)));
  return stripes[i];
}

// Where the pole and the cloth sit and how the cloth waves, in the pixels of the image drawn into.
// Both scenes share the drawing code; only the layout differs.
struct FlagLayout {
  int pole_x = 0, pole_w = 2, pole_top = 0;            // the cloth hangs from pole_x to the right
  double length = 0, height = 0, top = 0;              // cloth extent and its top edge at rest
  double amplitude = 0, wavelength = 0, period = 24.0; // the travelling wave, in pixels / frames
};

// The classic scene's layout. The expressions are those the original code used, so its output stays
// bit-identical (a checksum test guards this).
FlagLayout classicLayout(cv::Size size) {
  const double w = size.width, h = size.height;
  FlagLayout l;
  l.pole_x = static_cast<int>(0.22 * w);
  l.pole_w = std::max(2, static_cast<int>(0.015 * w));
  l.pole_top = static_cast<int>(0.12 * h);
  l.length = 0.5 * w;
  l.height = 0.32 * h;
  l.top = 0.15 * h;
  l.amplitude = 0.06 * h;
  l.wavelength = 0.45 * w;
  l.period = 24.0;
  return l;
}

// A grey pole from pole_top down past the bottom of the image.
void drawPole(cv::Mat &frame, const FlagLayout &l) {
  cv::rectangle(frame, cv::Rect(l.pole_x - l.pole_w, l.pole_top, l.pole_w, frame.rows),
                cv::Scalar(90, 90, 90), cv::FILLED);
}

// The striped cloth at frame t: a wave travels from the pole to the free end, growing along the
// cloth, and its folds are shaded. Writes the cloth into frame and 255 into mask.
void drawCloth(cv::Mat &frame, cv::Mat &mask, const FlagLayout &l, int t) {
  const cv::Size size = frame.size();
  const int pole_x = l.pole_x;
  for (int x = pole_x; x < std::min(size.width, static_cast<int>(pole_x + l.length)); ++x) {
    const double u = (x - pole_x) / l.length; // 0 at the pole, 1 at the free end
    const double phase = 2 * kPi * ((x - pole_x) / l.wavelength - t / l.period);
    const double lift = l.amplitude * u * std::sin(phase);
    const double shade = 0.75 + 0.25 * std::cos(phase); // folds catch the light
    const double y0 = l.top + lift, y1 = l.top + l.height + lift * 0.8;
    for (int y = std::max(0, static_cast<int>(std::ceil(y0)));
         y < std::min(size.height, static_cast<int>(std::ceil(y1))); ++y) {
      const cv::Vec3b c = clothColour((y - y0) / (y1 - y0));
      frame.at<cv::Vec3b>(y, x) =
          cv::Vec3b(cv::saturate_cast<uchar>(c[0] * shade), cv::saturate_cast<uchar>(c[1] * shade),
                    cv::saturate_cast<uchar>(c[2] * shade));
      mask.at<uchar>(y, x) = 255;
    }
  }
}

// --- the harder scene ---------------------------------------------------------------------------
// The world is drawn on a canvas larger than the output, then filmed by a camera that pans and
// zooms over it, so background, pole, flag and occluder all move together as in real footage.

// The camera never magnifies less than this, which bounds the canvas for strongly negative zooms.
constexpr double kMinCameraScale = 0.25;

// Frame t's magnification.
double cameraScale(int t, const FlagScene &scene) {
  return std::max(kMinCameraScale, 1.0 + scene.zoom * t);
}

// The canvas and where things sit on it. origin is the top-left corner of the view at mid-sequence,
// where the flag sits much as in the classic scene; the camera passes over it half-way through.
struct SceneCanvas {
  cv::Size size;
  cv::Point origin;
  FlagLayout flag;
};

// The flag's layout for output size `size`, placed at origin. Shorter and lower than the classic
// one, so the whole cloth stays in view while the camera pans past it and zooms in.
FlagLayout hardLayout(cv::Size size, cv::Point origin) {
  const double w = size.width, h = size.height;
  FlagLayout l;
  l.pole_x = origin.x + static_cast<int>(0.27 * w);
  l.pole_w = std::max(2, static_cast<int>(0.015 * w));
  l.pole_top = origin.y + static_cast<int>(0.18 * h);
  l.length = 0.45 * w;
  l.height = 0.30 * h;
  l.top = origin.y + 0.24 * h;
  l.amplitude = 0.06 * h;
  l.wavelength = 0.45 * w;
  l.period = 24.0;
  return l;
}

// A canvas that holds every view of frames 0 .. frames-1: the mid-sequence view plus the pan on
// either side plus what the widest view sees beyond the output size.
SceneCanvas sceneCanvas(cv::Size size, const FlagScene &scene) {
  const double half_run = 0.5 * std::max(0, scene.frames - 1);
  const double min_scale =
      std::min(cameraScale(0, scene), cameraScale(std::max(0, scene.frames - 1), scene));
  const double widen = 0.5 * (1.0 / min_scale - 1.0); // per side, as a fraction of the output
  const int mx = static_cast<int>(std::ceil(std::abs(scene.pan_speed) * half_run +
                                            std::max(0.0, widen) * size.width)) +
                 2;
  const int my = static_cast<int>(std::ceil(0.3 * std::abs(scene.pan_speed) * half_run +
                                            std::max(0.0, widen) * size.height)) +
                 2;
  SceneCanvas c;
  c.size = cv::Size(size.width + 2 * mx, size.height + 2 * my);
  c.origin = cv::Point(mx, my);
  c.flag = hardLayout(size, c.origin);
  return c;
}

// The procedural texture over the whole canvas (the classic scene's, so optical flow has detail).
cv::Mat proceduralBackground(cv::Size size) {
  cv::Mat out(size, CV_8UC3);
  for (int y = 0; y < size.height; ++y)
    for (int x = 0; x < size.width; ++x)
      out.at<cv::Vec3b>(y, x) = backgroundAt(x, y);
  return out;
}

// The photo scaled (aspect kept) to cover size, centre-cropped: a static world the camera films.
cv::Mat photoBackground(const cv::Mat &photo, cv::Size size) {
  cv::Mat bgr;
  if (photo.type() == CV_8UC3)
    bgr = photo;
  else if (photo.type() == CV_8UC1)
    cv::cvtColor(photo, bgr, cv::COLOR_GRAY2BGR);
  else
    throw Error("synthetic flag: the background photo must be 8-bit BGR or grey");
  const double s = std::max(static_cast<double>(size.width) / bgr.cols,
                            static_cast<double>(size.height) / bgr.rows);
  const cv::Size scaled(std::max(size.width, static_cast<int>(std::ceil(bgr.cols * s))),
                        std::max(size.height, static_cast<int>(std::ceil(bgr.rows * s))));
  cv::Mat resized;
  cv::resize(bgr, resized, scaled, 0, 0, s < 1 ? cv::INTER_AREA : cv::INTER_LINEAR);
  const cv::Rect crop((scaled.width - size.width) / 2, (scaled.height - size.height) / 2,
                      size.width, size.height);
  return resized(crop).clone();
}

// The bar in front of the flag at frame t, in canvas pixels, or an empty rectangle when it is not
// in the scene. It crosses from just past the cloth's free end to just past the pole between ~30%
// and ~60% of the sequence, so it hides a different part of the cloth on every frame of the stretch
// and none outside it.
cv::Rect occluderAt(int t, const FlagScene &scene, const SceneCanvas &c) {
  const int first = static_cast<int>(std::lround(0.3 * scene.frames));
  const int last = static_cast<int>(std::lround(0.6 * scene.frames));
  if (!scene.occluder || last <= first || t < first || t > last)
    return cv::Rect();
  const FlagLayout &l = c.flag;
  const int width = std::max(4, static_cast<int>(std::lround(0.16 * l.length)));
  const double enter = l.pole_x + l.length + 2;         // left edge just clear of the free end
  const double leave = l.pole_x - l.pole_w - 2 - width; // right edge just clear of the pole
  const double p = static_cast<double>(t - first) / (last - first);
  const int x = static_cast<int>(std::lround(enter + p * (leave - enter)));
  return cv::Rect(x, 0, width, c.size.height) & cv::Rect(cv::Point(0, 0), c.size);
}

// A tree trunk: brown, darker towards its sides (it is round), with bark streaks that move with it.
void drawOccluder(cv::Mat &canvas, const cv::Rect &bar) {
  const cv::Vec3d bark(45, 70, 100); // BGR
  for (int y = bar.y; y < bar.y + bar.height; ++y)
    for (int x = bar.x; x < bar.x + bar.width; ++x) {
      const double across = (x - bar.x + 0.5) / bar.width;
      const double shade = (0.55 + 0.45 * std::sin(kPi * across)) *
                           (0.9 + 0.1 * std::sin(1.7 * (x - bar.x) + 0.05 * y));
      canvas.at<cv::Vec3b>(y, x) = cv::Vec3b(cv::saturate_cast<uchar>(bark[0] * shade),
                                             cv::saturate_cast<uchar>(bark[1] * shade),
                                             cv::saturate_cast<uchar>(bark[2] * shade));
    }
}

// Films the canvas: frame t's view is centred on the mid-sequence view moved by the pan, magnified
// about its centre. Returns the map from output pixels to canvas pixels.
cv::Mat cameraMap(int t, cv::Size size, const FlagScene &scene, const SceneCanvas &c) {
  const double dt = t - 0.5 * std::max(0, scene.frames - 1);
  const cv::Point2d half((size.width - 1) / 2.0, (size.height - 1) / 2.0);
  const cv::Point2d centre(c.origin.x + half.x + scene.pan_speed * dt,
                           c.origin.y + half.y + 0.3 * scene.pan_speed * dt);
  const double inv = 1.0 / cameraScale(t, scene);
  return (cv::Mat_<double>(2, 3) << inv, 0, centre.x - half.x * inv, 0, inv,
          centre.y - half.y * inv);
}

// The exposure gain of frame t: a ramp from 1 to 1 + drift over the sequence plus a flicker of
// 8% of the drift from an integer hash of t (deterministic, but uncorrelated between frames, like
// auto-exposure hunting).
double exposureGain(int t, const FlagScene &scene) {
  if (scene.exposure_drift == 0)
    return 1.0;
  const double ramp =
      scene.frames > 1 ? std::clamp(static_cast<double>(t) / (scene.frames - 1), 0.0, 1.0) : 0.0;
  std::uint32_t h = static_cast<std::uint32_t>(t) * 2654435761u;
  h ^= h >> 15;
  h *= 2246822519u;
  h ^= h >> 13;
  const double flicker = (h & 0xffff) / 32767.5 - 1.0; // in [-1, 1]
  return 1.0 + scene.exposure_drift * (ramp + 0.08 * flicker);
}

// Blotches of the cloth's colours over the canvas, each several stripes wide, modulated by the
// procedural texture so that the optical flow has detail to hold on to inside them.
cv::Mat lookalikeBackground(cv::Size size) {
  cv::Mat out(size, CV_8UC3);
  for (int y = 0; y < size.height; ++y)
    for (int x = 0; x < size.width; ++x) {
      const double n = 0.5 + 0.25 * std::sin(0.021 * x + 0.013 * y) +
                       0.25 * std::sin(0.017 * y - 0.009 * x + 0.7); // 0..1, smooth
      const cv::Vec3b c = clothColour(std::clamp(n, 0.0, 0.999));
      const double detail = backgroundAt(x, y)[1] / 140.0; // about 0.8..1.2
      out.at<cv::Vec3b>(y, x) = cv::Vec3b(cv::saturate_cast<uchar>(c[0] * detail),
                                          cv::saturate_cast<uchar>(c[1] * detail),
                                          cv::saturate_cast<uchar>(c[2] * detail));
    }
  return out;
}

// The light of frame t applied to the whole filmed frame, saturating: the exposure gain on every
// channel, and the white balance drift on red (up when positive) and blue (down).
void applyLight(cv::Mat &frame, int t, const FlagScene &scene) {
  const double gain = exposureGain(t, scene);
  if (scene.white_balance_drift == 0) {
    frame.convertTo(frame, CV_8U, gain);
    return;
  }
  const double ramp =
      scene.frames > 1 ? std::clamp(static_cast<double>(t) / (scene.frames - 1), 0.0, 1.0) : 0.0;
  const double warm = scene.white_balance_drift * ramp;
  cv::multiply(frame, cv::Scalar(gain * (1 - warm), gain, gain * (1 + warm)), frame);
}

} // namespace

SyntheticFrame syntheticFlag(int t, cv::Size size) {
  SyntheticFrame out;
  out.frame.create(size, CV_8UC3);
  out.mask = cv::Mat::zeros(size, CV_8U);
  const double pan = 0.8 * t;
  for (int y = 0; y < size.height; ++y)
    for (int x = 0; x < size.width; ++x)
      out.frame.at<cv::Vec3b>(y, x) = backgroundAt(x + pan, y + 0.3 * pan);

  const FlagLayout layout = classicLayout(size);
  drawPole(out.frame, layout);
  drawCloth(out.frame, out.mask, layout, t);
  return out;
}

SyntheticFrame syntheticFlag(int t, cv::Size size, const FlagScene &scene) {
  if (size.width < 16 || size.height < 16)
    throw Error("synthetic flag: the frame must be at least 16x16");
  if (scene.frames < 1)
    throw Error("synthetic flag: the scene needs at least one frame");
  const SceneCanvas c = sceneCanvas(size, scene);
  cv::Mat world = scene.lookalike_background ? lookalikeBackground(c.size)
                  : scene.background.empty() ? proceduralBackground(c.size)
                                             : photoBackground(scene.background, c.size);
  cv::Mat cloth = cv::Mat::zeros(c.size, CV_8U);
  drawPole(world, c.flag);
  drawCloth(world, cloth, c.flag, t);
  const cv::Rect bar = occluderAt(t, scene, c);
  if (!bar.empty()) {
    drawOccluder(world, bar);
    cloth(bar).setTo(0); // the mask is the cloth the camera sees
  }

  // Bilinear for both: the mask is cut at half, so its edge falls where the frame's edge blends.
  const cv::Mat map = cameraMap(t, size, scene, c);
  SyntheticFrame out;
  cv::warpAffine(world, out.frame, map, size, cv::INTER_LINEAR | cv::WARP_INVERSE_MAP,
                 cv::BORDER_REFLECT101);
  cv::Mat mask;
  cv::warpAffine(cloth, mask, map, size, cv::INTER_LINEAR | cv::WARP_INVERSE_MAP,
                 cv::BORDER_CONSTANT, cv::Scalar(0));
  out.mask = mask >= 128;
  applyLight(out.frame, t, scene);
  return out;
}

} // namespace flagmask
