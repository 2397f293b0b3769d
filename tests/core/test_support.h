// Shared by the core tests: a fixture giving each test a fresh directory of its own (removed
// afterwards), a check that an error names the file it is about, and the shipped network.
#pragma once

#include "error.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <exception>
#include <functional>

#include <filesystem>
#include <string>
#include <system_error>

#include <unistd.h>

namespace flagmask::testing {

class TempDirTest : public ::testing::Test {
protected:
  void SetUp() override {
    const auto *info = ::testing::UnitTest::GetInstance()->current_test_info();
    dir_ = std::filesystem::temp_directory_path() /
           ("flagmask-" + std::string(info->test_suite_name()) + "-" + info->name() + "-" +
            std::to_string(::getpid()));
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override {
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }
  std::string path(const std::string &name) const { return (dir_ / name).string(); }

  std::filesystem::path dir_;
};

// Runs f, expects a flagmask::Error whose message names path.
inline void expectErrorNaming(const std::function<void()> &f, const std::string &path) {
  try {
    f();
    ADD_FAILURE() << "no flagmask::Error thrown for " << path;
  } catch (const flagmask::Error &e) {
    EXPECT_NE(std::string(e.what()).find(path), std::string::npos)
        << "message does not name the file: " << e.what();
  } catch (const std::exception &e) {
    ADD_FAILURE() << "expected flagmask::Error, got another exception: " << e.what();
  }
}

// The network shipped in the tree; the test setup points $FLAGMASK_NETWORK at it. Empty when the
// test runs outside meson test.
inline std::string shippedNetwork() {
  const char *path = std::getenv("FLAGMASK_NETWORK");
  return path ? path : "";
}

} // namespace flagmask::testing
