#include "chat/service/executor.h"

#include <cstdio>
#include <exception>

#include "chat/common/process_info.h"

namespace chat::service {

ThreadPoolExecutor::ThreadPoolExecutor(int threads, size_t maxQueued) : maxQueued_(maxQueued) {
  for (int i = 0; i < threads; ++i) {
    threads_.emplace_back([this] { run(); });
  }
}

ThreadPoolExecutor::~ThreadPoolExecutor() {
  {
    MutexLock lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  threads_.clear();  // joins
}

bool ThreadPoolExecutor::post(std::function<void()> task) {
  {
    MutexLock lock(mu_);
    if (tasks_.size() >= maxQueued_) {
      return false;
    }
    tasks_.push_back(std::move(task));
  }
  cv_.notify_one();
  return true;
}

void ThreadPoolExecutor::run() {
  setThreadName("chat-worker");
  for (;;) {
    std::function<void()> task;
    {
      MutexLock lock(mu_);
      cv_.wait(mu_, [&]() REQUIRES(mu_) { return stopping_ || !tasks_.empty(); });
      if (tasks_.empty()) {
        return;  // stopping and drained
      }
      task = std::move(tasks_.front());
      tasks_.pop_front();
    }
    try {
      task();
    } catch (const std::exception& e) {
      // A task's failure ends that task only; the pool keeps serving.
      std::fprintf(stderr, "executor task failed: %s\n", e.what());
    }
  }
}

}  // namespace chat::service
