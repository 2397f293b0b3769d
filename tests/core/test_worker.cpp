#include "worker.h"

#include <gtest/gtest.h>

#include <atomic>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

TEST(Worker, RunsTheWorkOnItsOwnThreadAndHandsBackTheResult) {
  flagmask::Worker worker;
  const std::thread::id caller = std::this_thread::get_id();
  std::thread::id first, second;
  EXPECT_EQ(worker.run([&] {
    first = std::this_thread::get_id();
    return 41 + 1;
  }),
            42);
  worker.run([&] { second = std::this_thread::get_id(); });
  EXPECT_NE(first, caller);
  EXPECT_EQ(first, second); // one thread for every call: its memory stays warm
}

TEST(Worker, RethrowsTheWorksExceptionToTheCaller) {
  flagmask::Worker worker;
  EXPECT_THROW(worker.run([]() -> int { throw std::runtime_error("no"); }), std::runtime_error);
  EXPECT_EQ(worker.run([] { return std::string("still there"); }), "still there");
}

TEST(Worker, CallsFromSeveralThreadsRunOneAtATime) {
  flagmask::Worker worker;
  std::atomic<int> inside{0}, most{0}, done{0};
  std::vector<std::thread> callers;
  for (int t = 0; t < 4; ++t)
    callers.emplace_back([&] {
      for (int k = 0; k < 50; ++k)
        worker.run([&] {
          most = std::max(most.load(), ++inside);
          std::this_thread::yield();
          --inside;
          ++done;
        });
    });
  for (std::thread &c : callers)
    c.join();
  EXPECT_EQ(done, 200);
  EXPECT_EQ(most, 1);
}
