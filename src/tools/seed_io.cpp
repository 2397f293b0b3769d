#include "seed_io.h"

#include "error.h"

#include <opencv2/core/utils/logger.hpp>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>
#include <opencv2/videoio.hpp>

#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>

namespace flagmask::seedio {
namespace {

// OpenCV's video backends log every probe that fails; the one error the tool gives says it better.
class QuietOpenCvLog {
public:
  QuietOpenCvLog()
      : saved_(cv::utils::logging::setLogLevel(cv::utils::logging::LOG_LEVEL_SILENT)) {}
  ~QuietOpenCvLog() { cv::utils::logging::setLogLevel(saved_); }
  QuietOpenCvLog(const QuietOpenCvLog &) = delete;
  QuietOpenCvLog &operator=(const QuietOpenCvLog &) = delete;

private:
  cv::utils::logging::LogLevel saved_;
};

void checkReadableFile(const std::string &path, const char *what) {
  std::error_code ec;
  if (!std::filesystem::exists(path, ec))
    throw flagmask::Error(std::string(what) + " '" + path + "' does not exist");
  if (!std::filesystem::is_regular_file(path, ec))
    throw flagmask::Error(std::string(what) + " '" + path + "' is not a regular file");
  if (!std::ifstream(path, std::ios::binary))
    throw flagmask::Error(std::string("cannot read ") + what + " '" + path +
                          "' (check its permissions)");
}

} // namespace

// FFmpeg first: given a path it only ever opens a file, where the GStreamer backend reads some
// strings as pipeline descriptions; GStreamer second, for the formats only it decodes. Frames stay
// as stored (no rotation from metadata), as decodebin hands them to the element, so a mask written
// from them fits the element's frames.
cv::Mat videoFrameAt(const std::string &path, double seconds) {
  checkReadableFile(path, "video");
  cv::Mat frame;
  double length = 0; // seconds, when a backend knows
  {
    const QuietOpenCvLog quiet;
    for (const int api : {cv::CAP_FFMPEG, cv::CAP_GSTREAMER}) {
      cv::VideoCapture capture;
      if (!capture.open(path, api))
        continue;
      capture.set(cv::CAP_PROP_ORIENTATION_AUTO, 0);
      const double frames = capture.get(cv::CAP_PROP_FRAME_COUNT);
      const double fps = capture.get(cv::CAP_PROP_FPS);
      if (frames > 0 && fps > 0)
        length = frames / fps;
      if (length > 0 && seconds >= length)
        break; // no frame there; the other backend would only say so less clearly
      if (seconds > 0)
        capture.set(cv::CAP_PROP_POS_MSEC, 1000 * seconds);
      if (capture.read(frame) && !frame.empty())
        break;
      frame.release();
    }
  }
  if (frame.empty() && seconds > 0) {
    std::ostringstream text;
    text << "video '" << path << "' has no frame at " << seconds << " s";
    if (length > 0)
      text << ": it lasts " << length << " s";
    throw flagmask::Error(text.str());
  }
  if (frame.empty())
    throw flagmask::Error("could not decode a frame of video '" + path +
                          "': OpenCV's FFmpeg and GStreamer backends cannot read it (is it a "
                          "video file?)");
  if (frame.type() == CV_8UC1)
    cv::cvtColor(frame, frame, cv::COLOR_GRAY2BGR);
  if (frame.type() != CV_8UC3)
    throw flagmask::Error("video '" + path + "' decodes to frames that are not 8-bit colour");
  return frame;
}

void writeMask(const cv::Mat &mask, const std::string &path) {
  const std::filesystem::path folder = std::filesystem::path(path).parent_path();
  std::error_code ec;
  if (!folder.empty() && !std::filesystem::is_directory(folder, ec))
    throw flagmask::Error("could not write mask '" + path + "': folder '" + folder.string() +
                          "' does not exist");
  bool written = false;
  std::string reason = "the file could not be created (check the folder's permissions)";
  try {
    written = cv::imwrite(path, mask);
  } catch (const cv::Exception &e) {
    reason = e.err;
  }
  if (!written)
    throw flagmask::Error("could not write mask '" + path + "': " + reason);
  std::cerr << "wrote " << path << "\n";
}

} // namespace flagmask::seedio
