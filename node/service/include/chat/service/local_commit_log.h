// LocalCommitLog: the single-node CommitLog. Proposals queue up while the store commits the
// previous group; the commit thread then takes everything queued (up to a batch limit) and
// applies it in one transaction, so one fsync covers many messages (group commit). Nothing
// is acknowledged before its transaction commits.
// Thread contract: propose() from any thread; one internal commit thread runs the callbacks.
#ifndef CHAT_SERVICE_LOCAL_COMMIT_LOG_H_
#define CHAT_SERVICE_LOCAL_COMMIT_LOG_H_

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <memory>
#include <thread>

#include "chat/common/mutex.h"
#include "chat/service/commit_log.h"
#include "chat/storage/message_store.h"

namespace chat::service {

class LocalCommitLog final : public CommitLog {
 public:
  // Starts the commit thread. `store` must outlive this object.
  static Result<std::unique_ptr<LocalCommitLog>> open(
      storage::MessageStore& store, size_t maxBatch = 4096,
      std::chrono::milliseconds lazyDelay = std::chrono::milliseconds(20));
  ~LocalCommitLog() override;  // stops the thread; queued proposals fail with kUnavailable
  LocalCommitLog(const LocalCommitLog&) = delete;  // owns a thread
  LocalCommitLog& operator=(const LocalCommitLog&) = delete;

  void propose(storage::Operation op, Done done, Urgency urgency = Urgency::kUrgent,
               Gate gate = {}) override EXCLUDES(mu_);
  void setObserver(ApplyObserver* observer) override { observer_.store(observer); }
  uint64_t commitIndex() const override { return applied_.load(); }
  uint64_t epoch() const override { return kEpoch; }

  // Batches committed so far and the largest one; for benchmarks and tests.
  uint64_t batchesForTesting() const { return batches_.load(); }

  static constexpr uint64_t kEpoch = 1;

 private:
  LocalCommitLog(storage::MessageStore& store, size_t maxBatch, std::chrono::milliseconds lazyDelay,
                 uint64_t applied);
  void run(const std::stop_token& stop);

  struct Pending {
    storage::Operation op;
    Done done;
    Urgency urgency;
    Gate gate;
  };

  storage::MessageStore& store_;
  const size_t maxBatch_;
  const std::chrono::milliseconds lazyDelay_;
  // Set once by the service, read by the commit thread, which may already be running.
  std::atomic<ApplyObserver*> observer_{nullptr};
  std::atomic<uint64_t> applied_;
  std::atomic<uint64_t> batches_{0};

  Mutex mu_;
  std::condition_variable_any cv_;
  std::deque<Pending> queue_ GUARDED_BY(mu_);
  size_t urgentQueued_ GUARDED_BY(mu_) = 0;
  // When the oldest queued lazy record must be committed even without urgent company.
  std::chrono::steady_clock::time_point lazyDeadline_ GUARDED_BY(mu_);
  bool stopping_ GUARDED_BY(mu_) = false;

  std::jthread thread_;  // last: starts after every field above is ready
};

}  // namespace chat::service

#endif  // CHAT_SERVICE_LOCAL_COMMIT_LOG_H_
