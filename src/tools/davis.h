// flagmask tools: finding the sequences, frames and masks of a DAVIS-layout folder.
#pragma once

#include "error.h"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <string>
#include <vector>

namespace flagmask::davis {

namespace fs = std::filesystem;

// Sequence names from a DAVIS image set: lines of "/JPEGImages/480p/SEQ/00000.jpg ..." (2016) or
// of bare sequence names (2017), in order of first appearance.
inline std::vector<std::string> readImageSet(const fs::path &file) {
  std::ifstream in(file);
  if (!in)
    throw Error("could not read image set '" + file.string() + "'");
  std::vector<std::string> names;
  std::set<std::string> seen;
  std::string line;
  while (std::getline(in, line)) {
    std::istringstream words(line);
    std::string first;
    if (!(words >> first))
      continue;
    const fs::path p(first);
    const std::string name = p.has_parent_path() ? p.parent_path().filename().string() : first;
    if (seen.insert(name).second)
      names.push_back(name);
  }
  return names;
}

// The sequences to run: those named, else those of the image set (default ImageSets/480p/dev.txt
// when present), else every sequence folder.
inline std::vector<std::string> chooseSequences(const fs::path &root, const fs::path &imageset,
                                                const std::vector<std::string> &named) {
  if (!fs::is_directory(root / "JPEGImages/480p"))
    throw Error("'" + root.string() + "' is not a DAVIS-layout folder: it has no JPEGImages/480p");
  if (!named.empty())
    return named;
  fs::path set = imageset.empty() ? fs::path("ImageSets/480p/dev.txt") : imageset;
  if (set.is_relative())
    set = root / set;
  if (fs::exists(set) || !imageset.empty())
    return readImageSet(set);
  std::vector<std::string> names;
  for (const auto &entry : fs::directory_iterator(root / "JPEGImages/480p"))
    if (entry.is_directory())
      names.push_back(entry.path().filename().string());
  std::sort(names.begin(), names.end());
  return names;
}

inline std::vector<fs::path> filesIn(const fs::path &dir, const std::set<std::string> &extensions) {
  if (!fs::is_directory(dir))
    throw Error("no folder '" + dir.string() + "'");
  std::vector<fs::path> files;
  for (const auto &entry : fs::directory_iterator(dir))
    if (extensions.count(entry.path().extension().string()))
      files.push_back(entry.path());
  std::sort(files.begin(), files.end());
  return files;
}

// A sequence's frames and ground-truth masks, in order, checked to pair up.
struct Sequence {
  std::vector<fs::path> frames, masks;
};

inline Sequence openSequence(const fs::path &root, const std::string &name) {
  Sequence s;
  s.frames = filesIn(root / "JPEGImages/480p" / name, {".jpg", ".jpeg", ".png"});
  s.masks = filesIn(root / "Annotations/480p" / name, {".png"});
  if (s.frames.empty() || s.frames.size() != s.masks.size())
    throw Error("sequence '" + name + "' has " + std::to_string(s.frames.size()) + " frames and " +
                std::to_string(s.masks.size()) + " masks");
  return s;
}

} // namespace flagmask::davis
