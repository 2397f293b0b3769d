#include "key_masks.h"

#include "error.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <sstream>

namespace flagmask {
namespace {

namespace fs = std::filesystem;

// Frame numbers beyond this are not a video's (a day at 1000 fps is 8.6e7 frames).
constexpr int kMaxFrameDigits = 9;

bool isFrameName(const fs::path &file) {
  std::string ext = file.extension().string();
  std::transform(ext.begin(), ext.end(), ext.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  const std::string stem = file.stem().string();
  return ext == ".png" && !stem.empty() && stem.size() <= kMaxFrameDigits &&
         std::all_of(stem.begin(), stem.end(), [](unsigned char c) { return std::isdigit(c); });
}

std::vector<KeyMaskName> namesInFolder(const std::string &folder) {
  std::vector<KeyMaskName> names;
  std::error_code error;
  for (const fs::directory_entry &entry : fs::directory_iterator(folder, error)) {
    if (entry.is_regular_file(error) && isFrameName(entry.path()))
      names.push_back(
          {std::stoll(entry.path().stem().string()), std::nullopt, entry.path().string()});
  }
  if (error)
    throw Error("flagmask: key-masks folder '" + folder + "' cannot be read: " + error.message());
  if (names.empty())
    throw Error("flagmask: key-masks folder '" + folder +
                "' holds no mask named by its frame number (NNNNN.png, as 00042.png for frame 42)");
  return names;
}

// Seconds as written (a decimal number, no sign), in nanoseconds.
std::optional<std::int64_t> parseSeconds(const std::string &text) {
  if (text.empty() || !(std::isdigit(static_cast<unsigned char>(text[0])) || text[0] == '.'))
    return std::nullopt;
  char *end = nullptr;
  const double seconds = std::strtod(text.c_str(), &end);
  if (end != text.c_str() + text.size() || !std::isfinite(seconds) || seconds > 9e9)
    return std::nullopt;
  return std::llround(seconds * 1e9);
}

std::vector<KeyMaskName> namesInList(const std::string &text) {
  std::vector<KeyMaskName> names;
  std::istringstream list(text);
  std::string entry;
  while (std::getline(list, entry, ',')) {
    const size_t colon = entry.find(':');
    const std::optional<std::int64_t> time =
        colon == std::string::npos ? std::nullopt : parseSeconds(entry.substr(0, colon));
    if (!time || colon + 1 == entry.size())
      throw Error("flagmask: key-masks '" + text + "': '" + entry +
                  "' is not TIME:FILE (the stream time in seconds, then the mask file), and the "
                  "value is not a folder either");
    names.push_back({std::nullopt, time, entry.substr(colon + 1)});
  }
  if (names.empty())
    throw Error("flagmask: key-masks '" + text + "' names no mask");
  return names;
}

std::int64_t placeOf(const KeyMaskName &name) {
  return name.frame ? *name.frame : *name.time;
}

} // namespace

std::vector<KeyMaskName> keyMaskNames(const std::string &text) {
  if (text.empty())
    return {};
  std::error_code error;
  std::vector<KeyMaskName> names =
      fs::is_directory(text, error) ? namesInFolder(text) : namesInList(text);
  std::sort(names.begin(), names.end(),
            [](const KeyMaskName &a, const KeyMaskName &b) { return placeOf(a) < placeOf(b); });
  const auto twice = std::adjacent_find(
      names.begin(), names.end(),
      [](const KeyMaskName &a, const KeyMaskName &b) { return placeOf(a) == placeOf(b); });
  if (twice != names.end())
    throw Error("flagmask: key-masks '" + text + "' gives two masks for one frame: '" +
                twice->path + "' and '" + (twice + 1)->path + "'");
  return names;
}

std::int64_t frameTime(std::int64_t frame, int num, int den) {
  return std::llround(static_cast<long double>(frame) * 1e9L * den / num);
}

} // namespace flagmask
