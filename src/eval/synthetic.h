// flagmask: a synthetic waving flag with an exact mask, for tests and the demo.
#pragma once

#include <opencv2/core.hpp>

namespace flagmask {

struct SyntheticFrame {
  cv::Mat frame; // CV_8UC3 BGR
  cv::Mat mask;  // CV_8U, 255 = flag cloth, 0 = rest (the pole is background)
};

// Frame t of a deterministic scene: a striped flag on a pole waving in front of a textured
// background that drifts slowly (a panning camera). Same t, same pixels.
SyntheticFrame syntheticFlag(int t, cv::Size size = cv::Size(320, 240));

// The harder scene's knobs. The defaults have every effect on; zero (or false) turns one off.
struct FlagScene {
  // Optional real photo behind the flag (8-bit BGR or grey, any size; scaled to cover the scene).
  // Empty = the procedural texture.
  cv::Mat background;
  // Camera pan per frame in scene pixels (output pixels at zoom 1), to the right and 0.3 as much
  // down; negative = the other way. Absolute, so small frames pan relatively faster.
  double pan_speed = 1.5;
  // Camera zoom per frame: frame t is magnified 1 + zoom * t (negative = zooming out).
  double zoom = 0.002;
  // Brightness change over the whole sequence: a gain ramp from 1 to 1 + exposure_drift, with a
  // small deterministic flicker on top.
  double exposure_drift = 0.25;
  // White balance change over the sequence: red gains and blue loses up to this fraction of
  // itself by the last frame (positive = warmer light), as when the sun goes down or auto white
  // balance drifts. Applied with the exposure gain, after the camera.
  double white_balance_drift = 0.0;
  // The background painted in the cloth's own colours (red, white and blue blotches that drift
  // with the camera, with the procedural texture's detail in them) instead of the procedural
  // texture or the photo: a look-alike background, which no colour model can tell from the flag.
  bool lookalike_background = false;
  // A tree-trunk-coloured bar that passes in front of the flag from about 30% to 60% of the
  // sequence; the mask leaves out the cloth it hides.
  bool occluder = true;
  // Length of the sequence the effects are spread over (frames 0 .. frames-1).
  int frames = 90;
};

// Frame t of the harder scene: the flag of syntheticFlag() filmed by a camera that pans and zooms
// (background, pole and flag move together), with exposure drift over the whole frame and a
// passing occluder. mask = visible cloth only. Same t and scene, same pixels.
SyntheticFrame syntheticFlag(int t, cv::Size size, const FlagScene &scene);

} // namespace flagmask
