#include "worker.h"

#include <utility>

namespace flagmask {

Worker::Worker() : thread_([this] { loop(); }) {}

Worker::~Worker() {
  {
    const std::lock_guard<std::mutex> guard(lock_);
    quit_ = true;
  }
  wake_.notify_one();
  thread_.join();
}

// Hands work to the thread and waits until it has run (the caller's future then holds its result).
void Worker::post(std::function<void()> work) {
  const std::lock_guard<std::mutex> one_call(call_);
  std::unique_lock<std::mutex> guard(lock_);
  pending_ = std::move(work);
  wake_.notify_one();
  wake_.wait(guard, [this] { return !pending_; });
}

void Worker::loop() {
  std::unique_lock<std::mutex> guard(lock_);
  for (;;) {
    wake_.wait(guard, [this] { return quit_ || pending_; });
    if (pending_) {
      pending_(); // a packaged task: it keeps its exception for the caller
      pending_ = nullptr;
      wake_.notify_all();
    } else if (quit_) {
      return;
    }
  }
}

} // namespace flagmask
