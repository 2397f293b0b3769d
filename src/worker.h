// flagmask: a thread of its own for a stream's work. glibc gives each thread its own allocator
// arena, so memory a tracker warmed up on one thread is not the memory it finds when the frames
// come on another (GStreamer's streaming thread, which may change between two starts). Running the
// warm-up and every frame on one long-lived thread makes the first frames of a stream find their
// memory already mapped, as later frames do.
#pragma once

#include <condition_variable>
#include <exception>
#include <functional>
#include <mutex>
#include <optional>
#include <thread>
#include <type_traits>
#include <utility>

namespace flagmask {

class Worker {
public:
  Worker();
  // Waits for the job in hand, then ends the thread.
  ~Worker();
  Worker(const Worker &) = delete;
  Worker &operator=(const Worker &) = delete;

  // Runs job on the worker's thread and waits for it: returns what it returns, throws what it
  // throws. Callers on several threads take turns; a job that itself calls run() runs in place.
  template <typename Job> auto run(Job &&job) -> std::invoke_result_t<Job &> {
    using R = std::invoke_result_t<Job &>;
    if constexpr (std::is_void_v<R>) {
      runHere([&] { job(); });
    } else {
      std::optional<R> result;
      runHere([&] { result.emplace(job()); });
      return std::move(*result);
    }
  }

  bool onWorkerThread() const { return std::this_thread::get_id() == thread_.get_id(); }

private:
  void runHere(const std::function<void()> &job);
  void loop();

  std::mutex callers_; // one job at a time
  std::mutex lock_;    // guards what follows
  std::condition_variable changed_;
  const std::function<void()> *job_ = nullptr; // the job in hand, until it is done
  std::exception_ptr error_;                   // what it threw
  bool quit_ = false;
  std::thread thread_; // last: started once the rest is set up
};

} // namespace flagmask
