// flagmask: a thread of one's own to run work on, the caller waiting for each piece.
#pragma once

#include <condition_variable>
#include <functional>
#include <future>
#include <mutex>
#include <thread>
#include <type_traits>

namespace flagmask {

// Runs each call's work on one long-lived thread while the caller waits, and hands back its result
// or rethrows its exception. Memory a thread frees stays with that thread's allocator arena
// (glibc), so work that a warm-up ran on the same thread finds its memory already there, where on
// another thread every page of it would be new. One call at a time; calls from several threads
// queue.
class Worker {
public:
  Worker();
  ~Worker();
  Worker(const Worker &) = delete;
  Worker &operator=(const Worker &) = delete;

  template <typename F> std::invoke_result_t<F &> run(F &&work) {
    std::packaged_task<std::invoke_result_t<F &>()> task(std::ref(work));
    auto result = task.get_future();
    post([&task] { task(); });
    return result.get();
  }

private:
  void post(std::function<void()> work);
  void loop();

  std::mutex call_; // one call at a time
  std::mutex lock_;
  std::condition_variable wake_;
  std::function<void()> pending_;
  bool quit_ = false;
  std::thread thread_;
};

} // namespace flagmask
