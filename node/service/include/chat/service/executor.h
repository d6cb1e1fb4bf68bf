// Executor: where the service runs slow, CPU-bound work (Argon2id hashing) so that it never
// stalls a network loop. ThreadPoolExecutor runs tasks on its own threads, with a bounded
// queue: a flood of logins or sign-ups is refused ("busy, try again") instead of queueing
// without end and delaying everyone behind it; InlineExecutor runs them at once, for
// deterministic tests.
// Thread contract: post() is thread-safe.
#ifndef CHAT_SERVICE_EXECUTOR_H_
#define CHAT_SERVICE_EXECUTOR_H_

#include <condition_variable>
#include <deque>
#include <functional>
#include <thread>
#include <vector>

#include "chat/common/mutex.h"

namespace chat::service {

class Executor {
 public:
  virtual ~Executor() = default;
  // Queues `task`; false (and `task` dropped, never run) when the queue is full.
  [[nodiscard]] virtual bool post(std::function<void()> task) = 0;
};

class InlineExecutor final : public Executor {
 public:
  bool post(std::function<void()> task) override {
    task();
    return true;
  }
};

class ThreadPoolExecutor final : public Executor {
 public:
  ThreadPoolExecutor(int threads, size_t maxQueued);
  ~ThreadPoolExecutor() override;                          // runs what is queued, then joins
  ThreadPoolExecutor(const ThreadPoolExecutor&) = delete;  // owns threads
  ThreadPoolExecutor& operator=(const ThreadPoolExecutor&) = delete;
  bool post(std::function<void()> task) override EXCLUDES(mu_);

 private:
  void run();
  const size_t maxQueued_;
  Mutex mu_;
  std::condition_variable_any cv_;
  std::deque<std::function<void()>> tasks_ GUARDED_BY(mu_);
  bool stopping_ GUARDED_BY(mu_) = false;
  std::vector<std::jthread> threads_;
};

}  // namespace chat::service

#endif  // CHAT_SERVICE_EXECUTOR_H_
