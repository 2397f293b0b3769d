// flagmask-synth: writes the synthetic waving flag (frames, exact masks) as numbered PNG files, the
// default input of the demo and a fixture anyone can regenerate.
#include "cli.h"
#include "eval/synthetic.h"
#include "flagmask.h"

#include <opencv2/imgcodecs.hpp>

#include <cstdio>
#include <filesystem>
#include <iostream>
#include <optional>

namespace {

constexpr const char *kUsage =
    "usage: flagmask-synth -o DIR [--frames N] [--width W] [--height H]\n"
    "                      [--hard | --dusk | --lookalike] [--seq NAME]\n"
    "                      [--background IMAGE] [--pan PX] [--zoom Z] [--exposure-drift E]\n"
    "                      [--white-balance-drift W]\n"
    "\n"
    "Writes a synthetic sequence in the DAVIS layout: DIR/JPEGImages/480p/flag/%05d.jpg (a\n"
    "striped flag waving on a pole over a panning textured background) and\n"
    "DIR/Annotations/480p/flag/%05d.png (the cloth's exact mask, 255 = flag), so that\n"
    "flagmask-eval --davis DIR --seq flag scores it. Defaults: 120 frames of 640x360.\n"
    "\n"
    "--hard writes the harder scene instead: the camera pans and zooms, the exposure drifts\n"
    "up by 25% and a tree trunk passes in front of the flag from ~30% to ~60% of the frames\n"
    "(the masks leave out the cloth it hides). Its effects are spread over --frames.\n"
    "--dusk is the harder scene with the light failing instead: the exposure falls to half and\n"
    "the white balance warms (red up, blue down by 30%) over the clip.\n"
    "--lookalike is the harder scene over a background painted in the flag's own colours.\n"
    "--seq NAME names the sequence folder (default flag).\n"
    "\n"
    "With --hard, --dusk or --lookalike, these change the scene's knobs:\n"
    "  --background IMAGE   a photo behind the flag (scaled to cover the scene) instead of the\n"
    "                       procedural texture (--lookalike paints over it)\n"
    "  --pan PX             camera pan per frame in pixels (default 1.5; negative: the other way)\n"
    "  --zoom Z             zoom per frame: frame t is magnified 1 + Z t (default 0.002)\n"
    "  --exposure-drift E   gain ramp from 1 to 1 + E over the clip (--hard 0.25, --dusk -0.5)\n"
    "  --white-balance-drift W  red up, blue down by W by the last frame (--dusk 0.3)\n";

std::string numbered(const std::filesystem::path &dir, int i, const char *ext) {
  char name[32];
  std::snprintf(name, sizeof name, "%05d.%s", i, ext);
  return (dir / name).string();
}

struct Options {
  std::string out;
  int frames = 120, width = 640, height = 360;
  std::string scene; // "", "hard", "dusk" or "lookalike"
  std::string seq = "flag";
  std::string background;
  // The knobs given on the command line; unset ones keep the scene's value.
  std::optional<double> pan, zoom, exposure_drift, white_balance_drift;
};

Options parse(int argc, char **argv) {
  namespace cli = flagmask::cli;
  Options o;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    cli::answerHelp(a, kUsage);
    if (a == "-o" || a == "--output") {
      o.out = cli::value(argc, argv, i);
    } else if (a == "--frames") {
      o.frames = static_cast<int>(cli::number(a, cli::value(argc, argv, i)));
    } else if (a == "--width") {
      o.width = static_cast<int>(cli::number(a, cli::value(argc, argv, i)));
    } else if (a == "--height") {
      o.height = static_cast<int>(cli::number(a, cli::value(argc, argv, i)));
    } else if (a == "--hard" || a == "--dusk" || a == "--lookalike") {
      o.scene = a.substr(2);
    } else if (a == "--seq") {
      o.seq = cli::value(argc, argv, i);
    } else if (a == "--background") {
      o.background = cli::value(argc, argv, i);
    } else if (a == "--pan") {
      o.pan = cli::number(a, cli::value(argc, argv, i));
    } else if (a == "--zoom") {
      o.zoom = cli::number(a, cli::value(argc, argv, i));
    } else if (a == "--exposure-drift") {
      o.exposure_drift = cli::number(a, cli::value(argc, argv, i));
    } else if (a == "--white-balance-drift") {
      o.white_balance_drift = cli::number(a, cli::value(argc, argv, i));
    } else {
      throw cli::unknownArgument(a);
    }
  }
  if (o.out.empty())
    throw cli::UsageError("give the output folder with -o");
  if (o.frames < 1 || o.width < 16 || o.height < 16 || o.width > 8192 || o.height > 8192)
    throw cli::UsageError("--frames must be >= 1 and the size between 16 and 8192");
  const bool knobs =
      !o.background.empty() || o.pan || o.zoom || o.exposure_drift || o.white_balance_drift;
  if (knobs && o.scene.empty())
    throw cli::UsageError("--background, --pan, --zoom and the drifts change the harder scene: "
                          "give --hard, --dusk or --lookalike");
  if (o.exposure_drift && *o.exposure_drift <= -1)
    throw cli::UsageError("--exposure-drift must be above -1 (the light cannot go below none)");
  return o;
}

// The harder scene (every effect on, procedural background), or one of its variants.
flagmask::FlagScene sceneFor(const Options &o) {
  flagmask::FlagScene scene;
  scene.frames = o.frames;
  if (o.scene == "dusk") {
    scene.exposure_drift = -0.5;
    scene.white_balance_drift = 0.3;
  } else if (o.scene == "lookalike") {
    scene.lookalike_background = true;
  }
  if (!o.background.empty())
    scene.background = flagmask::loadFrame(o.background);
  scene.pan_speed = o.pan.value_or(scene.pan_speed);
  scene.zoom = o.zoom.value_or(scene.zoom);
  scene.exposure_drift = o.exposure_drift.value_or(scene.exposure_drift);
  scene.white_balance_drift = o.white_balance_drift.value_or(scene.white_balance_drift);
  return scene;
}

int run(const Options &o) {
  const std::filesystem::path root(o.out);
  const std::filesystem::path frames_dir = root / "JPEGImages/480p" / o.seq;
  const std::filesystem::path masks_dir = root / "Annotations/480p" / o.seq;
  std::filesystem::create_directories(frames_dir);
  std::filesystem::create_directories(masks_dir);
  const flagmask::FlagScene scene = sceneFor(o);
  const cv::Size size(o.width, o.height);
  for (int t = 0; t < o.frames; ++t) {
    const flagmask::SyntheticFrame f = o.scene.empty() ? flagmask::syntheticFlag(t, size)
                                                       : flagmask::syntheticFlag(t, size, scene);
    if (!cv::imwrite(numbered(frames_dir, t, "jpg"), f.frame, {cv::IMWRITE_JPEG_QUALITY, 92}) ||
        !cv::imwrite(numbered(masks_dir, t, "png"), f.mask))
      throw flagmask::Error("could not write into '" + o.out + "'");
  }
  std::cerr << "wrote " << o.frames << " frames to " << o.out << "\n";
  return 0;
}

} // namespace

int main(int argc, char **argv) {
  return flagmask::cli::runTool("flagmask-synth", argc, argv, parse, run);
}
