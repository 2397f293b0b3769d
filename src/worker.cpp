#include "worker.h"

namespace flagmask {

Worker::Worker() : thread_([this] { loop(); }) {}

Worker::~Worker() {
  {
    const std::lock_guard<std::mutex> guard(lock_);
    quit_ = true;
  }
  changed_.notify_all();
  thread_.join();
}

void Worker::runHere(const std::function<void()> &job) {
  if (onWorkerThread()) {
    job();
    return;
  }
  const std::lock_guard<std::mutex> turn(callers_);
  std::unique_lock<std::mutex> lock(lock_);
  job_ = &job;
  error_ = nullptr;
  changed_.notify_all();
  changed_.wait(lock, [this] { return job_ == nullptr; });
  if (error_)
    std::rethrow_exception(std::exchange(error_, nullptr));
}

void Worker::loop() {
  std::unique_lock<std::mutex> lock(lock_);
  for (;;) {
    changed_.wait(lock, [this] { return quit_ || job_ != nullptr; });
    if (job_ == nullptr) // quit with nothing in hand
      return;
    const std::function<void()> &job = *job_;
    lock.unlock();
    std::exception_ptr error;
    try {
      job();
    } catch (...) {
      error = std::current_exception();
    }
    lock.lock();
    error_ = error;
    job_ = nullptr;
    changed_.notify_all();
  }
}

} // namespace flagmask
