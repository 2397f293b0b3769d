// flagmask tools: finding the sequences, frames and masks of a DAVIS-layout folder.
#pragma once

#include "cli.h"
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

// The sequence an image-set line names by its first word: "/JPEGImages/480p/SEQ/00000.jpg" (DAVIS
// 2016) or a bare "SEQ" (2017).
inline std::string sequenceOf(const std::string &first_word) {
  const fs::path p(first_word);
  return p.has_parent_path() ? p.parent_path().filename().string() : first_word;
}

// Sequence names from a DAVIS image set, in order of first appearance.
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
    const std::string name = sequenceOf(first);
    if (seen.insert(name).second)
      names.push_back(name);
  }
  return names;
}

// Every tool refuses a folder without frames the same way, before looking for sequences in it.
inline void requireLayout(const fs::path &root) {
  if (!fs::is_directory(root / "JPEGImages/480p"))
    throw Error("'" + root.string() + "' is not a DAVIS-layout folder: it has no JPEGImages/480p");
}

// Every sequence folder, sorted by name: the choice when no image set says otherwise.
inline std::vector<std::string> sequenceFolders(const fs::path &root) {
  std::vector<std::string> names;
  for (const auto &entry : fs::directory_iterator(root / "JPEGImages/480p"))
    if (entry.is_directory())
      names.push_back(entry.path().filename().string());
  std::sort(names.begin(), names.end());
  return names;
}

// The sequences to run: those named, else those of the image set (default ImageSets/480p/dev.txt
// when present), else every sequence folder.
inline std::vector<std::string> chooseSequences(const fs::path &root, const fs::path &imageset,
                                                const std::vector<std::string> &named) {
  requireLayout(root);
  if (!named.empty())
    return named;
  fs::path set = imageset.empty() ? fs::path("ImageSets/480p/dev.txt") : imageset;
  if (set.is_relative())
    set = root / set;
  if (fs::exists(set) || !imageset.empty())
    return readImageSet(set);
  return sequenceFolders(root);
}

// The sequences a tool is pointed at, by the options flagmask-eval and flagmask-fit-fusion share:
// --davis ROOT, --imageset FILE, --seq NAME (repeatable). flagmask-bench's --davis and --seq are
// not these: there both are optional and --seq names one sequence.
struct Selection {
  fs::path root, imageset;
  std::vector<std::string> sequences;

  // Takes argv[i] and its value when it is one of the three options; false leaves i as it was.
  bool take(int argc, char **argv, int &i) {
    const std::string a = argv[i];
    if (a == "--davis")
      root = cli::value(argc, argv, i);
    else if (a == "--imageset")
      imageset = cli::value(argc, argv, i);
    else if (a == "--seq")
      sequences.push_back(cli::value(argc, argv, i));
    else
      return false;
    return true;
  }

  // Once the command line is read: the data folder has no default.
  void check() const {
    if (root.empty())
      throw cli::UsageError("give the data folder with --davis");
  }

  // The sequences to run, as chooseSequences picks them. None is an error rather than a run over
  // nothing; `verb` says what the tool would have done with them.
  std::vector<std::string> choose(const std::string &verb) const {
    std::vector<std::string> names = chooseSequences(root, imageset, sequences);
    if (names.empty())
      throw Error("no sequence to " + verb + " under '" + root.string() + "'");
    return names;
  }
};

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
