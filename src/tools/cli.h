// flagmask tools: the small command-line conventions the programs share.
#pragma once

#include <cstdlib>
#include <iostream>
#include <stdexcept>
#include <string>

namespace flagmask::cli {

// Thrown for a bad command line; main() prints it with the usage hint and exits with 2.
struct UsageError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// The value after option argv[i]; advances i.
inline std::string value(int argc, char **argv, int &i) {
  if (i + 1 >= argc)
    throw UsageError(std::string("option ") + argv[i] + " needs a value");
  return argv[++i];
}

inline double number(const std::string &option, const std::string &text) {
  try {
    size_t used = 0;
    const double v = std::stod(text, &used);
    if (used == text.size())
      return v;
  } catch (const std::exception &) {
  }
  throw UsageError("option " + option + " needs a number, got '" + text + "'");
}

} // namespace flagmask::cli
