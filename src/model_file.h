// flagmask: model files on disk. The model reads and writes its own fields through
// cv::FileStorage (Model::read, Model::write); this layer is what lies around that: YAML text only,
// gzip-compressed when the name ends in .gz, bounded in size, and checked line by line before
// OpenCV parses it, so that no file can crash or hang the reader.
#pragma once

#include "model.h"

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace flagmask {

// The largest model is 64 bins: two histograms of 262144 floats, about 9 MB of YAML. A file, or
// its text once decompressed, may not be larger than this.
constexpr std::size_t kMaxModelFileBytes = std::size_t(64) << 20;

// Writes model to path as YAML (gzip-compressed when the name ends in .gz), whatever the name's
// extension otherwise says. Throws Error naming the file when it cannot be written.
void saveModel(const Model &model, const std::string &path);

// Throws Error naming the file and the reason for anything that is not a valid model: a missing,
// unreadable, empty or oversized file, not YAML text, a parse error, another format or version,
// or histograms of the wrong shape or with invalid counts.
Model loadModel(const std::string &path);

// The same from the bytes of a model file (text, or gzip-compressed text, recognised by its magic
// bytes); name stands for the file in messages.
Model modelFromBytes(const std::vector<std::uint8_t> &bytes, const std::string &name);

} // namespace flagmask
