// flagmask evaluation: finding the sequences, frames and masks of a DAVIS-layout folder
// (ROOT/JPEGImages/480p/SEQ/*.jpg, ROOT/Annotations/480p/SEQ/*.png, ROOT/ImageSets/480p/*.txt).
#pragma once

#include <filesystem>
#include <set>
#include <string>
#include <vector>

namespace flagmask::davis {

// The sequence an image-set line names by its first word: "/JPEGImages/480p/SEQ/00000.jpg" (DAVIS
// 2016) or a bare "SEQ" (2017).
std::string sequenceOf(const std::string &first_word);

// Sequence names from a DAVIS image set, in order of first appearance. Throws Error when the file
// cannot be read.
std::vector<std::string> readImageSet(const std::filesystem::path &file);

// Every tool refuses a folder without frames the same way, before looking for sequences in it.
void requireLayout(const std::filesystem::path &root);

// Every sequence folder, sorted by name: the choice when no image set says otherwise.
std::vector<std::string> sequenceFolders(const std::filesystem::path &root);

// The sequences to run: those named, else those of the image set (default ImageSets/480p/dev.txt
// when present), else every sequence folder.
std::vector<std::string> chooseSequences(const std::filesystem::path &root,
                                         const std::filesystem::path &imageset,
                                         const std::vector<std::string> &named);

// The files of dir whose extension is one of extensions, sorted by name. Throws Error when dir is
// not a folder.
std::vector<std::filesystem::path> filesIn(const std::filesystem::path &dir,
                                           const std::set<std::string> &extensions);

// A sequence's frames and ground-truth masks, in order, checked to pair up.
struct Sequence {
  std::vector<std::filesystem::path> frames, masks;
};

// Throws Error when the sequence has no frames or not one mask per frame.
Sequence openSequence(const std::filesystem::path &root, const std::string &name);

} // namespace flagmask::davis
