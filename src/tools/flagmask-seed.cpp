// flagmask-seed: makes the element's seed mask without a paint program. A frame of a video (at a
// given time) or an image is shown in a window; the user drags a box around the object, sees the
// object grabCut cuts out of it, draws again until it is right, and the mask is written. With
// --box, or where there is no display, the box is given on the command line instead.
#include "cli.h"
#include "flagmask.h"
#include "seed_io.h"

#include <opencv2/highgui.hpp>
#include <opencv2/imgproc.hpp>

#include <cstdlib>
#include <iostream>
#include <optional>
#include <string>
#include <vector>

namespace {

namespace cli = flagmask::cli;

const char *usage() {
  return "usage: flagmask-seed (--video V [--time SECONDS] | --frame F) [--box x,y,w,h] -o "
         "SEED.png\n"
         "\n"
         "Makes a seed mask for the flagmask element (seed-mask=SEED.png) from a box around the\n"
         "object: a window shows the frame; drag a box around the object with the mouse and press\n"
         "Enter; the object grabCut cuts out of the box is shown; Enter writes it, r draws the\n"
         "box again, Esc quits without writing. With --box there is no window: that box is cut\n"
         "and written. A box touching the frame's edge, or a cut-out filling more than half of\n"
         "the box, is warned about (check the mask then).\n"
         "\n"
         "  --video V       a video file: the frame at --time (any format OpenCV's FFmpeg or\n"
         "                  GStreamer backend decodes)\n"
         "  --time SECONDS  where in the video (default 0: the first frame); give the element\n"
         "                  the same time as seed-time (nanoseconds), which this tool prints\n"
         "  --frame F       an image instead of a video's frame\n"
         "  --box x,y,w,h   the box, in frame pixels: no window\n"
         "  -o, --output SEED.png  where to write the mask (255 = object)\n"
         "  -h, --help      this text\n"
         "\n"
         "Exit status: 0 written, 1 failure or quit without writing, 2 usage.\n";
}

struct Options {
  std::string video, frame, output;
  double seconds = 0;
  std::optional<cv::Rect> box;
};

Options parse(int argc, char **argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    cli::answerHelp(a, usage());
    if (a == "--video") {
      o.video = cli::value(argc, argv, i);
    } else if (a == "--frame") {
      o.frame = cli::value(argc, argv, i);
    } else if (a == "--time") {
      o.seconds = cli::number(a, cli::value(argc, argv, i));
    } else if (a == "--box") {
      const std::string text = cli::value(argc, argv, i);
      try {
        o.box = flagmask::parseBox(text);
      } catch (const flagmask::Error &e) {
        throw cli::UsageError(std::string("--box: ") + e.what());
      }
    } else if (a == "-o" || a == "--output") {
      o.output = cli::value(argc, argv, i);
    } else {
      throw cli::unknownArgument(a);
    }
  }
  if (o.video.empty() == o.frame.empty())
    throw cli::UsageError("give one --video or one --frame");
  if (o.seconds < 0)
    throw cli::UsageError("--time must be 0 or more seconds");
  if (!o.frame.empty() && o.seconds > 0)
    throw cli::UsageError("--time belongs with --video");
  if (o.output.empty())
    throw cli::UsageError("give the mask's file with -o");
  return o;
}

// The mask cut from box, with what the user should check in it said on stderr.
cv::Mat cut(const cv::Mat &frame, const cv::Rect &box, std::vector<std::string> &warnings) {
  const cv::Mat mask = flagmask::maskFromBox(frame, box);
  warnings = flagmask::boxSeedWarnings(box, frame.size(), mask);
  for (const std::string &w : warnings)
    std::cerr << "flagmask-seed: warning: " << w << "\n";
  return mask;
}

// Where a window can open: an X11 or Wayland display.
bool haveDisplay() {
  for (const char *name : {"DISPLAY", "WAYLAND_DISPLAY"}) {
    const char *v = std::getenv(name);
    if (v && *v)
      return true;
  }
  return false;
}

const char *kNoDisplay = "no display to open a window on (DISPLAY and WAYLAND_DISPLAY are unset): "
                         "give the box with --box x,y,w,h (frame pixels)";

// The frame with the cut-out: the background dimmed, the box drawn, the keys and the warnings.
cv::Mat preview(const cv::Mat &frame, const cv::Mat &mask, const cv::Rect &box,
                const std::vector<std::string> &warnings) {
  cv::Mat shown = frame * 0.3;
  frame.copyTo(shown, mask);
  cv::rectangle(shown, box, cv::Scalar(0, 200, 255), 2);
  const double scale = std::max(0.5, frame.cols / 1280.0);
  int y = static_cast<int>(24 * scale);
  const auto line = [&](const std::string &text, const cv::Scalar &colour) {
    cv::putText(shown, text, cv::Point(8, y), cv::FONT_HERSHEY_SIMPLEX, 0.6 * scale, colour,
                std::max(1, static_cast<int>(scale)), cv::LINE_AA);
    y += static_cast<int>(24 * scale);
  };
  line("Enter: write   r: draw the box again   Esc: quit", cv::Scalar(255, 255, 255));
  for (const std::string &w : warnings)
    line(w.substr(0, w.find(':')), cv::Scalar(0, 200, 255));
  return shown;
}

// Lets the user draw boxes until one's cut-out is accepted; none when the user quits.
std::optional<cv::Mat> chooseInWindow(const cv::Mat &frame) {
  const std::string title = "flagmask-seed";
  try {
    cv::namedWindow(title, cv::WINDOW_NORMAL | cv::WINDOW_KEEPRATIO);
  } catch (const cv::Exception &) {
    throw flagmask::Error(kNoDisplay);
  }
  std::optional<cv::Mat> chosen;
  for (bool drawing = true; drawing;) {
    const cv::Rect box = cv::selectROI(title, frame, true, false);
    if (box.empty())
      break; // Esc or c in selectROI
    std::vector<std::string> warnings;
    cv::Mat mask;
    try {
      mask = cut(frame, box, warnings);
    } catch (const flagmask::Error &e) {
      std::cerr << "flagmask-seed: " << e.what() << "\n";
      continue;
    }
    cv::imshow(title, preview(frame, mask, box, warnings));
    for (;;) {
      const int key = cv::waitKey(0) & 0xff;
      if (key == 13 || key == 10 || key == ' ') {
        chosen = mask;
        drawing = false;
        break;
      }
      if (key == 'r')
        break;
      if (key == 27 || key == 'q') {
        drawing = false;
        break;
      }
    }
  }
  cv::destroyWindow(title);
  return chosen;
}

int run(const Options &o) {
  const cv::Mat frame = o.video.empty() ? flagmask::loadFrame(o.frame)
                                        : flagmask::seedio::videoFrameAt(o.video, o.seconds);
  std::optional<cv::Mat> mask;
  if (o.box) {
    std::vector<std::string> warnings;
    mask = cut(frame, *o.box, warnings);
  } else {
    if (!haveDisplay())
      throw flagmask::Error(kNoDisplay);
    mask = chooseInWindow(frame);
    if (!mask) {
      std::cerr << "flagmask-seed: nothing written\n";
      return 1;
    }
  }
  flagmask::seedio::writeMask(*mask, o.output);
  std::cerr << "seed the element with: flagmask seed-mask=" << o.output;
  if (o.seconds > 0) {
    std::cerr << " seed-time=" << static_cast<long long>(o.seconds * 1e9 + 0.5) << "\n"
              << "or correct a drift with it: flagmask key-masks=" << o.seconds << ":"
              << o.output;
  }
  std::cerr << "\n";
  return 0;
}

} // namespace

int main(int argc, char **argv) {
  return cli::runTool("flagmask-seed", argc, argv, parse, run);
}
