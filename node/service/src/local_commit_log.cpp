#include "chat/service/local_commit_log.h"

#include <vector>

#include "chat/common/process_info.h"

namespace chat::service {

Result<std::unique_ptr<LocalCommitLog>> LocalCommitLog::open(storage::MessageStore& store,
                                                             size_t maxBatch,
                                                             std::chrono::milliseconds lazyDelay) {
  auto position = store.appliedPosition();
  if (!position) {
    return position.error();
  }
  return std::unique_ptr<LocalCommitLog>(
      new LocalCommitLog(store, maxBatch, lazyDelay, position->index));
}

LocalCommitLog::LocalCommitLog(storage::MessageStore& store, size_t maxBatch,
                               std::chrono::milliseconds lazyDelay, uint64_t applied)
    : store_(store),
      maxBatch_(maxBatch),
      lazyDelay_(lazyDelay),
      applied_(applied),
      thread_([this](const std::stop_token& stop) { run(stop); }) {}

LocalCommitLog::~LocalCommitLog() {
  {
    MutexLock lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  thread_.request_stop();
  thread_.join();
  std::deque<Pending> left;
  {
    MutexLock lock(mu_);
    left.swap(queue_);
  }
  for (auto& p : left) {
    p.done(Status::unavailable("the node is shutting down; the operation was not stored"));
  }
}

void LocalCommitLog::propose(storage::Operation op, Done done, Urgency urgency, Gate gate) {
  {
    MutexLock lock(mu_);
    if (!stopping_) {
      // Wake the commit thread for urgent records, and for the first lazy one so that it
      // starts waiting for the lazy deadline.
      bool wake = urgency == Urgency::kUrgent || queue_.empty();
      if (urgency == Urgency::kUrgent) {
        ++urgentQueued_;
      } else if (queue_.empty()) {
        lazyDeadline_ = std::chrono::steady_clock::now() + lazyDelay_;
      }
      queue_.push_back(Pending{std::move(op), std::move(done), urgency, std::move(gate)});
      if (wake) {
        cv_.notify_one();
      }
      return;
    }
  }
  done(Status::unavailable("the node is shutting down; the operation was not stored"));
}

void LocalCommitLog::run(const std::stop_token& stop) {
  setThreadName("chat-commit");
  std::vector<Pending> batch;
  std::vector<storage::LogEntry> entries;
  while (!stop.stop_requested()) {
    batch.clear();
    {
      MutexLock lock(mu_);
      for (;;) {
        if (stopping_) {
          return;
        }
        if (urgentQueued_ > 0 ||
            (!queue_.empty() && std::chrono::steady_clock::now() >= lazyDeadline_)) {
          break;
        }
        if (queue_.empty()) {
          cv_.wait(mu_);
        } else {
          cv_.wait_until(mu_, lazyDeadline_);
        }
      }
      // Everything that queued up during the previous commit goes into this one.
      while (!queue_.empty() && batch.size() < maxBatch_) {
        if (queue_.front().urgency == Urgency::kUrgent) {
          --urgentQueued_;
        }
        batch.push_back(std::move(queue_.front()));
        queue_.pop_front();
      }
      if (!queue_.empty() && urgentQueued_ == 0) {
        lazyDeadline_ = std::chrono::steady_clock::now() + lazyDelay_;
      }
    }
    // A failed earlier batch may have closed a proposer's gate after it queued more.
    std::erase_if(batch, [](Pending& p) {
      if (!p.gate || p.gate()) {
        return false;
      }
      p.done(Status::unavailable(kGateClosed));
      return true;
    });
    if (batch.empty()) {
      continue;
    }
    entries.clear();
    uint64_t next = applied_.load() + 1;
    for (auto& p : batch) {
      entries.push_back(storage::LogEntry{kEpoch, next++, std::move(p.op)});
    }
    auto results = store_.apply(entries);
    if (!results) {
      // Nothing of the batch was stored: fail each proposal so no client hears "stored".
      Status why =
          Status::unavailable("storage failed, nothing was stored: " + results.error().message());
      for (auto& p : batch) {
        p.done(why);
      }
      continue;
    }
    applied_.store(entries.back().index);
    batches_.fetch_add(1);
    for (size_t i = 0; i < batch.size(); ++i) {
      if (auto* observer = observer_.load()) {
        observer->onApplied(entries[i], (*results)[i]);
      }
      batch[i].done(std::move((*results)[i]));
    }
  }
}

}  // namespace chat::service
