// flagmask: the one exception type the core throws for bad input.
#pragma once

#include <stdexcept>
#include <string>

namespace flagmask {

// Thrown for every input the core refuses (bad file, wrong image type, empty mask).
// The message is meant for a user: it names the file or argument and the reason.
class Error : public std::runtime_error {
public:
  explicit Error(const std::string &what) : std::runtime_error(what) {}
};

} // namespace flagmask
