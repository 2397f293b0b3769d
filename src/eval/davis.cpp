#include "eval/davis.h"

#include "error.h"

#include <algorithm>
#include <fstream>
#include <sstream>

namespace flagmask::davis {

namespace fs = std::filesystem;

std::string sequenceOf(const std::string &first_word) {
  const fs::path p(first_word);
  return p.has_parent_path() ? p.parent_path().filename().string() : first_word;
}

std::vector<std::string> readImageSet(const fs::path &file) {
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

void requireLayout(const fs::path &root) {
  if (!fs::is_directory(root / "JPEGImages/480p"))
    throw Error("'" + root.string() + "' is not a DAVIS-layout folder: it has no JPEGImages/480p");
}

std::vector<std::string> sequenceFolders(const fs::path &root) {
  std::vector<std::string> names;
  for (const auto &entry : fs::directory_iterator(root / "JPEGImages/480p"))
    if (entry.is_directory())
      names.push_back(entry.path().filename().string());
  std::sort(names.begin(), names.end());
  return names;
}

std::vector<std::string> chooseSequences(const fs::path &root, const fs::path &imageset,
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

std::vector<fs::path> filesIn(const fs::path &dir, const std::set<std::string> &extensions) {
  if (!fs::is_directory(dir))
    throw Error("no folder '" + dir.string() + "'");
  std::vector<fs::path> files;
  for (const auto &entry : fs::directory_iterator(dir))
    if (extensions.count(entry.path().extension().string()))
      files.push_back(entry.path());
  std::sort(files.begin(), files.end());
  return files;
}

Sequence openSequence(const fs::path &root, const std::string &name) {
  Sequence s;
  s.frames = filesIn(root / "JPEGImages/480p" / name, {".jpg", ".jpeg", ".png"});
  s.masks = filesIn(root / "Annotations/480p" / name, {".png"});
  if (s.frames.empty() || s.frames.size() != s.masks.size())
    throw Error("sequence '" + name + "' has " + std::to_string(s.frames.size()) + " frames and " +
                std::to_string(s.masks.size()) + " masks");
  return s;
}

} // namespace flagmask::davis
