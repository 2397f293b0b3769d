// flagmask benchmarks: what the pipeline row and the core timing share, so that both name sizes,
// read numbers and walk a clip the same way.
#pragma once

#include "tools/cli.h"

#include <cstddef>
#include <sstream>
#include <string>
#include <vector>

// The DAVIS folder the build was configured with (meson option davis), when none is given.
#ifndef FLAGMASK_DEFAULT_DAVIS
#define FLAGMASK_DEFAULT_DAVIS ""
#endif

namespace flagmask::bench {

// The frame sizes a run is asked for by name. All are even, as 4:2:0 formats need.
struct SizePreset {
  const char *name;
  int width, height;
};
constexpr SizePreset kSizes[] = {{"480p", 854, 480}, {"720p", 1280, 720}, {"1080p", 1920, 1080}};

inline const SizePreset &sizePreset(const std::string &name) {
  for (const SizePreset &s : kSizes)
    if (name == s.name)
      return s;
  throw cli::UsageError("unknown size '" + name + "' (480p, 720p or 1080p)");
}

// "a,b,,c" -> a, b, c: an empty list ('') is a way to ask for none.
inline std::vector<std::string> splitList(const std::string &text) {
  std::vector<std::string> items;
  std::istringstream in(text);
  for (std::string item; std::getline(in, item, ',');)
    if (!item.empty())
      items.push_back(item);
  return items;
}

// Counts of frames and runs: whole and bounded, so that a typo cannot start a run of days.
inline int positive(const std::string &option, const std::string &text) {
  const double v = cli::number(option, text);
  if (v < 1 || v > 1e6 || v != static_cast<int>(v))
    throw cli::UsageError("option " + option + " needs a whole number from 1 to 1e6");
  return static_cast<int>(v);
}

// Frame k of a run: the clip forward, then backward, and so on. Looping back to the start would
// be a scene cut that a tracker does not see in real video.
inline std::size_t pingPong(std::size_t k, std::size_t n) {
  if (n < 2)
    return 0;
  const std::size_t period = 2 * n - 2, i = k % period;
  return i < n ? i : period - i;
}

} // namespace flagmask::bench
