// flagmask: the tracker's knobs, each with its default and its range defined here once. The
// element's properties, the tools' options and the core's checks all read them from here.
#pragma once

namespace flagmask {

// A closed range of allowed values.
struct Limits {
  double min, max;
  bool contains(double v) const { return v >= min && v <= max; }
};

// Longer side of the analysis resolution, in pixels. Below 64 the flow and the colour model have
// too few pixels to follow an object; 4096 covers 4K frames analysed at full size.
constexpr int kDefaultWorkingSize = 480;
constexpr int kMinWorkingSize = 64;
constexpr int kMaxWorkingSize = 4096;

constexpr Limits kThresholdLimits{0.0, 1.0};
constexpr Limits kWeightLimits{0.0, 1.0}; // temporal weight, motion weight and adaptation rate
constexpr Limits kHysteresisLimits{0.0, 0.5};

struct SegmenterParams {
  // Probability above which a pixel is the object.
  double threshold = 0.5;
  // Analysis runs with the longer image side scaled down to this. Fixed while a stream is tracked.
  int working_size = kDefaultWorkingSize;
  // Trust in the mask carried along the flow, at the object's boundary (it grows to full trust a
  // band's width away from the boundary).
  double temporal_weight = 0.85;
  // How fast the appearance model follows the object (0 = never).
  double adapt_rate = 0.02;
  // Strength of the evidence from motion against the camera's motion (0 = off).
  double motion_weight = 0.3;
  // Steadiness of the mask shown, 0..0.5: a pixel shown as object stays so while its probability
  // is above threshold - hysteresis, and a new one needs more than threshold + hysteresis. Applied
  // to the output only; the tracker goes on from its own decision. On the dev split 0.2 takes the
  // flicker from 0.014 (off) to 0.005 for 0.012 J&F (0.764 ->
  // 0.752); 0.05 cuts it to 0.010 for 0.001 (docs/quality.md).
  double hysteresis = 0.2;
};

// Throws Error naming the first parameter out of its range.
void checkParams(const SegmenterParams &params);

} // namespace flagmask
