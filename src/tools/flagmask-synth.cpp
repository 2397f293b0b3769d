// flagmask-synth: writes the synthetic waving flag (frames, exact masks) as numbered PNG files, the
// default input of the demo and a fixture anyone can regenerate.
#include "cli.h"
#include "flagmask.h"

#include <opencv2/imgcodecs.hpp>

#include <cstdio>
#include <filesystem>
#include <iostream>

namespace {

constexpr const char *kUsage =
    "usage: flagmask-synth -o DIR [--frames N] [--width W] [--height H] [--hard]\n"
    "\n"
    "Writes a synthetic sequence in the DAVIS layout: DIR/JPEGImages/480p/flag/%05d.jpg (a\n"
    "striped flag waving on a pole over a panning textured background) and\n"
    "DIR/Annotations/480p/flag/%05d.png (the cloth's exact mask, 255 = flag), so that\n"
    "flagmask-eval --davis DIR --seq flag scores it. Defaults: 120 frames of 640x360.\n"
    "\n"
    "--hard writes the harder scene instead: the camera pans and zooms, the exposure drifts\n"
    "up by 25% and a tree trunk passes in front of the flag from ~30% to ~60% of the frames\n"
    "(the masks leave out the cloth it hides). Its effects are spread over --frames.\n";

std::string numbered(const std::filesystem::path &dir, int i, const char *ext) {
  char name[32];
  std::snprintf(name, sizeof name, "%05d.%s", i, ext);
  return (dir / name).string();
}

} // namespace

int main(int argc, char **argv) {
  namespace cli = flagmask::cli;
  std::string out;
  int frames = 120, width = 640, height = 360;
  bool hard = false;
  try {
    for (int i = 1; i < argc; ++i) {
      const std::string a = argv[i];
      if (a == "-h" || a == "--help") {
        std::cout << kUsage;
        return 0;
      } else if (a == "-o" || a == "--output") {
        out = cli::value(argc, argv, i);
      } else if (a == "--frames") {
        frames = static_cast<int>(cli::number(a, cli::value(argc, argv, i)));
      } else if (a == "--width") {
        width = static_cast<int>(cli::number(a, cli::value(argc, argv, i)));
      } else if (a == "--height") {
        height = static_cast<int>(cli::number(a, cli::value(argc, argv, i)));
      } else if (a == "--hard") {
        hard = true;
      } else {
        throw cli::UsageError("unknown argument '" + a + "'");
      }
    }
    if (out.empty())
      throw cli::UsageError("give the output folder with -o");
    if (frames < 1 || width < 16 || height < 16 || width > 8192 || height > 8192)
      throw cli::UsageError("--frames must be >= 1 and the size between 16 and 8192");
  } catch (const cli::UsageError &e) {
    std::cerr << "flagmask-synth: " << e.what() << "\n(see flagmask-synth --help)\n";
    return 2;
  }
  try {
    const std::filesystem::path root(out);
    const std::filesystem::path frames_dir = root / "JPEGImages/480p/flag";
    const std::filesystem::path masks_dir = root / "Annotations/480p/flag";
    std::filesystem::create_directories(frames_dir);
    std::filesystem::create_directories(masks_dir);
    flagmask::FlagScene scene; // every effect on, procedural background
    scene.frames = frames;
    for (int t = 0; t < frames; ++t) {
      const cv::Size size(width, height);
      const flagmask::SyntheticFrame f =
          hard ? flagmask::syntheticFlag(t, size, scene) : flagmask::syntheticFlag(t, size);
      if (!cv::imwrite(numbered(frames_dir, t, "jpg"), f.frame, {cv::IMWRITE_JPEG_QUALITY, 92}) ||
          !cv::imwrite(numbered(masks_dir, t, "png"), f.mask))
        throw flagmask::Error("could not write into '" + out + "'");
    }
    std::cerr << "wrote " << frames << " frames to " << out << "\n";
  } catch (const std::exception &e) {
    std::cerr << "flagmask-synth: " << e.what() << "\n";
    return 1;
  }
  return 0;
}
