// flagmask tools: the options that point a tool at DAVIS-layout sequences.
#pragma once

#include "cli.h"
#include "error.h"
#include "eval/davis.h"

#include <filesystem>
#include <string>
#include <vector>

namespace flagmask::davis {

namespace fs = std::filesystem;

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

} // namespace flagmask::davis
