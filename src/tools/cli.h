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

// Answers -h and --help: the usage on stdout and exit status 0. Returns when `arg` is neither.
inline void answerHelp(const std::string &arg, const std::string &usage) {
  if (arg == "-h" || arg == "--help") {
    std::cout << usage;
    std::exit(0);
  }
}

// The one wording every tool uses for a word it does not know.
inline UsageError unknownArgument(const std::string &arg) {
  return UsageError("unknown argument '" + arg + "'");
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

// A tool's main(): parse(argc, argv) gives the options, work(options) does the job and gives the
// exit status. Every tool documents the same statuses: a UsageError while parsing prints
// "TOOL: message" with the --help hint and gives 2; any error while working prints "TOOL: message"
// and gives 1. The two phases stay apart because once the command line is accepted, an error is
// a failure of the work even when it is a UsageError (flagmask-bench-row given a bad --row by
// its driver).
template <typename Parse, typename Work>
int runTool(const char *tool, int argc, char **argv, Parse parse, Work work) {
  decltype(parse(argc, argv)) options;
  try {
    options = parse(argc, argv);
  } catch (const UsageError &e) {
    std::cerr << tool << ": " << e.what() << "\n(see " << tool << " --help)\n";
    return 2;
  }
  try {
    return work(options);
  } catch (const std::exception &e) {
    std::cerr << tool << ": " << e.what() << "\n";
    return 1;
  }
}

} // namespace flagmask::cli
