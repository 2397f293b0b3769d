// Unit tests for the worker thread a stream's frames run on.
#include "worker.h"

#include <gtest/gtest.h>

#include <memory>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

namespace {

using flagmask::Worker;

TEST(Worker, RunsEveryJobOnOneThreadOfItsOwn) {
  Worker worker;
  const std::thread::id first = worker.run([] { return std::this_thread::get_id(); });
  EXPECT_NE(first, std::this_thread::get_id());
  for (int i = 0; i < 5; ++i)
    EXPECT_EQ(worker.run([] { return std::this_thread::get_id(); }), first);
}

TEST(Worker, HandsBackWhatTheJobReturns) {
  Worker worker;
  EXPECT_EQ(worker.run([] { return std::string("object"); }), "object");
  auto owned = worker.run([] { return std::make_unique<int>(7); }); // move-only results too
  ASSERT_TRUE(owned);
  EXPECT_EQ(*owned, 7);
  int touched = 0;
  worker.run([&] { touched = 1; });
  EXPECT_EQ(touched, 1); // a void job has finished when run() returns
}

TEST(Worker, RethrowsWhatTheJobThrowsAndGoesOn) {
  Worker worker;
  EXPECT_THROW(worker.run([]() -> int { throw std::runtime_error("no frame"); }),
               std::runtime_error);
  EXPECT_EQ(worker.run([] { return 3; }), 3);
}

TEST(Worker, AJobThatRunsAnotherRunsItInPlace) {
  Worker worker;
  const bool same = worker.run([&] {
    const auto outer = std::this_thread::get_id();
    return worker.run([] { return std::this_thread::get_id(); }) == outer;
  });
  EXPECT_TRUE(same);
}

TEST(Worker, CallersOnSeveralThreadsTakeTurns) {
  Worker worker;
  int count = 0; // not atomic: only the worker touches it, one job at a time
  std::vector<std::thread> callers;
  for (int t = 0; t < 4; ++t)
    callers.emplace_back([&] {
      for (int i = 0; i < 500; ++i)
        worker.run([&] { ++count; });
    });
  for (std::thread &caller : callers)
    caller.join();
  EXPECT_EQ(count, 2000);
}

} // namespace
