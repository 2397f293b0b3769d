#include "synthetic.h"

#include <opencv2/imgproc.hpp>

#include <cmath>

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

} // namespace

SyntheticFrame syntheticFlag(int t, cv::Size size) {
  SyntheticFrame out;
  out.frame.create(size, CV_8UC3);
  out.mask = cv::Mat::zeros(size, CV_8U);
  const double pan = 0.8 * t;
  for (int y = 0; y < size.height; ++y)
    for (int x = 0; x < size.width; ++x)
      out.frame.at<cv::Vec3b>(y, x) = backgroundAt(x + pan, y + 0.3 * pan);

  const double w = size.width, h = size.height;
  const int pole_x = static_cast<int>(0.22 * w), pole_w = std::max(2, static_cast<int>(0.015 * w));
  cv::rectangle(out.frame,
                cv::Rect(pole_x - pole_w, static_cast<int>(0.12 * h), pole_w, size.height),
                cv::Scalar(90, 90, 90), cv::FILLED);

  const double length = 0.5 * w, height = 0.32 * h, top = 0.15 * h;
  const double amplitude = 0.06 * h, wavelength = 0.45 * w, period = 24.0;
  for (int x = pole_x; x < std::min(size.width, static_cast<int>(pole_x + length)); ++x) {
    const double u = (x - pole_x) / length; // 0 at the pole, 1 at the free end
    const double phase = 2 * kPi * ((x - pole_x) / wavelength - t / period);
    const double lift = amplitude * u * std::sin(phase);
    const double shade = 0.75 + 0.25 * std::cos(phase); // folds catch the light
    const double y0 = top + lift, y1 = top + height + lift * 0.8;
    for (int y = std::max(0, static_cast<int>(std::ceil(y0)));
         y < std::min(size.height, static_cast<int>(std::ceil(y1))); ++y) {
      const cv::Vec3b c = clothColour((y - y0) / (y1 - y0));
      out.frame.at<cv::Vec3b>(y, x) =
          cv::Vec3b(cv::saturate_cast<uchar>(c[0] * shade), cv::saturate_cast<uchar>(c[1] * shade),
                    cv::saturate_cast<uchar>(c[2] * shade));
      out.mask.at<uchar>(y, x) = 255;
    }
  }
  return out;
}

} // namespace flagmask
