// flagmask: key masks, the object's masks on later frames that correct a drift. The element's
// key-masks property names them as a folder of masks named by frame number or as a list of stream
// times and files; this reads the names (not the files).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace flagmask {

// Where one key mask belongs and its file: by frame number (counted from 0 at the start of the
// media) or by stream time in nanoseconds; exactly one of the two is set.
struct KeyMaskName {
  std::optional<std::int64_t> frame{};
  std::optional<std::int64_t> time{};
  std::string path;
};

// Reads a key-masks value: the path of a folder, whose files NNNNN.png (digits only, as DAVIS and
// image sequence tools name them) are the masks of frame NNNNN, or a list TIME:FILE[,TIME:FILE...]
// with TIME in seconds (the first ':' ends the time, so a file name may hold one). Sorted by frame
// or time. Empty text gives none. Throws Error quoting the value and saying what is wrong: a folder
// with no such file, an entry that is not TIME:FILE, a negative time, two masks for one frame or
// time.
std::vector<KeyMaskName> keyMaskNames(const std::string &text);

// The stream time of frame `frame` at frame rate num/den (frames per second), in nanoseconds.
std::int64_t frameTime(std::int64_t frame, int num, int den);

} // namespace flagmask
