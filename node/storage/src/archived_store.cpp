#include "chat/storage/archived_store.h"

#include <algorithm>

#include "chat/common/process_info.h"

namespace chat::storage {

ArchivedStore::ArchivedStore(std::unique_ptr<MessageArchive> archive, ArchiveOptions options)
    : options_(options), archive_(std::move(archive)) {
  if (options_.background) {
    writer_ = std::jthread([this](const std::stop_token& stop) { run(stop); });
  }
}

Result<std::unique_ptr<ArchivedStore>> ArchivedStore::open(std::unique_ptr<MessageArchive> archive,
                                                           ArchiveOptions options) {
  auto position = archive->appliedPosition();
  if (!position) {
    return position.error();
  }
  std::unique_ptr<ArchivedStore> store(new ArchivedStore(std::move(archive), options));
  CHAT_RETURN_IF_ERROR(store->archive_->loadInto(store->state_));
  {
    MutexLock lock(store->mu_);
    store->archived_ = store->synced_ = position->index;
  }
  return store;
}

ArchivedStore::~ArchivedStore() {
  {
    MutexLock lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  if (writer_.joinable()) {
    writer_.join();  // records what is queued first
  }
  std::multimap<uint64_t, std::function<void(Status)>> left;
  {
    MutexLock lock(mu_);
    left.swap(waiters_);
  }
  for (auto& [index, fn] : left) {
    fn(Status::unavailable("the node is shutting down"));
  }
}

Result<std::vector<ApplyResult>> ArchivedStore::apply(std::span<const Command> entries) {
  if (entries.empty()) {
    return std::vector<ApplyResult>();
  }
  if (!options_.background) {
    std::vector<ApplyResult> results = state_.apply(entries);
    MutexLock archiving(archiveMu_);
    CHAT_RETURN_IF_ERROR(archive_->record(entries, results));
    MutexLock lock(mu_);
    archived_ = entries.back().index;
    return results;
  }
  {
    // Backpressure: a slow archive slows commits instead of growing the queue.
    MutexLock lock(mu_);
    cv_.wait(mu_, [&]() REQUIRES(mu_) {
      return !failed_.isOk() || stopping_ || queue_.size() < options_.maxQueued;
    });
    if (!failed_.isOk()) {
      return failed_;
    }
  }
  std::vector<ApplyResult> results = state_.apply(entries);
  {
    MutexLock lock(mu_);
    for (size_t i = 0; i < entries.size(); ++i) {
      queue_.push_back(Queued{entries[i], results[i]});
    }
  }
  cv_.notify_all();
  return results;
}

void ArchivedStore::run(const std::stop_token&) {
  setThreadName("chat-archive");
  std::vector<Command> entries;
  std::vector<ApplyResult> results;
  for (;;) {
    bool sync = false;
    {
      MutexLock lock(mu_);
      busy_ = false;
      cv_.notify_all();
      cv_.wait(mu_, [&]() REQUIRES(mu_) {
        return stopping_ || !queue_.empty() || (syncWanted_ && synced_ < archived_);
      });
      if (!failed_.isOk() || (stopping_ && queue_.empty())) {
        return;
      }
      // Let a batch gather, unless someone waits for it.
      auto gatherUntil = std::chrono::steady_clock::now() + options_.gatherFor;
      cv_.wait_until(mu_, gatherUntil, [&]() REQUIRES(mu_) {
        return stopping_ || syncWanted_ || !waiters_.empty() || blockedReaders_ > 0 ||
               queue_.size() >= options_.gatherEntries;
      });
      entries.clear();
      results.clear();
      while (!queue_.empty() && entries.size() < options_.maxBatch) {
        entries.push_back(std::move(queue_.front().entry));
        results.push_back(std::move(queue_.front().result));
        queue_.pop_front();
      }
      uint64_t reached = entries.empty() ? archived_ : entries.back().index;
      sync = (syncWanted_ || reached - synced_ >= options_.syncEvery) && reached > synced_;
      busy_ = true;
    }
    cv_.notify_all();  // room in the queue
    Status s;
    if (!entries.empty()) {
      MutexLock archiving(archiveMu_);
      s = archive_->record(entries, results);
      // Busy (another writer holds chat.db): try again until it lets go; the queue's bound
      // holds commits back if that takes long. At shutdown the log keeps what is left.
      while (s.code() == StatusCode::kUnavailable) {
        {
          MutexLock lock(mu_);
          if (stopping_) {
            return;
          }
          cv_.wait_for(mu_, std::chrono::milliseconds(50));
        }
        s = archive_->record(entries, results);
      }
    }
    if (s.isOk() && sync) {
      s = archive_->syncToDisk();
    }
    std::vector<std::function<void(Status)>> ready;
    {
      MutexLock lock(mu_);
      if (!s.isOk()) {
        failed_ = Status::ioError("the chat database could not be written (" + s.message() +
                                  "); the node stops serving and rebuilds it from its log when "
                                  "restarted");
        for (auto& [index, fn] : waiters_) {
          ready.push_back(std::move(fn));
        }
        waiters_.clear();
      } else {
        if (!entries.empty()) {
          archived_ = entries.back().index;
        }
        if (sync) {
          synced_ = archived_;
          syncWanted_ = false;
        }
        auto end = waiters_.upper_bound(archived_);
        for (auto it = waiters_.begin(); it != end; ++it) {
          ready.push_back(std::move(it->second));
        }
        waiters_.erase(waiters_.begin(), end);
      }
    }
    cv_.notify_all();
    Status outcome;
    {
      MutexLock lock(mu_);
      outcome = failed_;
    }
    for (auto& fn : ready) {
      fn(outcome);
    }
  }
}

void ArchivedStore::whenReadable(std::function<void(Status)> fn) {
  uint64_t target = state_.applied().index;
  Status outcome;
  {
    MutexLock lock(mu_);
    if (failed_.isOk() && archived_ < target) {
      waiters_.emplace(target, std::move(fn));
      cv_.notify_all();  // the writer stops gathering
      return;
    }
    outcome = failed_;
  }
  fn(outcome);
}

Status ArchivedStore::waitArchived(uint64_t index) {
  MutexLock lock(mu_);
  if (archived_ >= index) {
    return failed_;
  }
  ++blockedReaders_;
  cv_.notify_all();  // the writer stops gathering
  cv_.wait(mu_, [&]() REQUIRES(mu_) {
    return !failed_.isOk() || stopping_ || archived_ >= index;
  });
  --blockedReaders_;
  return failed_;
}

Result<std::vector<protocol::ChatMessage>> ArchivedStore::pendingMessages(
    std::string_view username, uint32_t limit, uint64_t maxBodyBytes) {
  std::vector<uint64_t> ids = state_.pendingIds(username, limit, maxBodyBytes);
  if (ids.empty()) {
    return std::vector<protocol::ChatMessage>();
  }
  if (!onWriterThread()) {
    CHAT_RETURN_IF_ERROR(waitArchived(ids.back()));
  }
  return archive_->messagesById(ids);
}

Result<std::vector<protocol::ChatMessage>> ArchivedStore::messagesById(
    std::span<const uint64_t> ids) {
  if (ids.empty()) {
    return std::vector<protocol::ChatMessage>();
  }
  if (!onWriterThread()) {
    CHAT_RETURN_IF_ERROR(waitArchived(*std::max_element(ids.begin(), ids.end())));
  }
  return archive_->messagesById(ids);
}

Result<HistoryPage> ArchivedStore::history(std::string_view username, std::string_view peer,
                                           uint64_t beforeId, uint32_t limit) {
  if (!onWriterThread()) {
    CHAT_RETURN_IF_ERROR(waitArchived(state_.applied().index));
  }
  return archive_->history(username, peer, beforeId, limit);
}

Result<std::vector<protocol::ChatMessage>> ArchivedStore::messagesAfter(uint64_t afterId,
                                                                        uint32_t limit) {
  if (!onWriterThread()) {
    CHAT_RETURN_IF_ERROR(waitArchived(state_.applied().index));
  }
  return archive_->messagesAfter(afterId, limit);
}

Result<AppliedPosition> ArchivedStore::writeSnapshot(const std::string& path) {
  if (!onWriterThread()) {
    // A fresher snapshot: one that holds what was applied when it was asked for.
    CHAT_RETURN_IF_ERROR(waitArchived(state_.applied().index));
  }
  return archive_->writeSnapshot(path);
}

Result<AppliedPosition> ArchivedStore::restoreSnapshot(const std::string& path) {
  {
    // Everything applied before goes to the archive first; the snapshot then replaces it.
    MutexLock lock(mu_);
    cv_.wait(mu_, [&]() REQUIRES(mu_) { return !failed_.isOk() || (queue_.empty() && !busy_); });
    if (!failed_.isOk()) {
      return failed_;
    }
  }
  MutexLock archiving(archiveMu_);
  auto restored = archive_->restoreSnapshot(path);
  if (!restored) {
    return restored;
  }
  state_.clear();
  CHAT_RETURN_IF_ERROR(archive_->loadInto(state_));
  MutexLock lock(mu_);
  archived_ = synced_ = restored->index;
  return restored;
}

Result<uint64_t> ArchivedStore::syncedIndex() {
  if (!options_.background) {
    MutexLock archiving(archiveMu_);
    CHAT_RETURN_IF_ERROR(archive_->syncToDisk());
    MutexLock lock(mu_);
    synced_ = archived_;
    return synced_;
  }
  uint64_t synced = 0;
  {
    MutexLock lock(mu_);
    if (!failed_.isOk()) {
      return failed_;
    }
    if (synced_ < archived_ || !queue_.empty()) {
      syncWanted_ = true;  // the writer syncs after its current batch
    }
    synced = synced_;
  }
  cv_.notify_all();
  return synced;
}

uint64_t ArchivedStore::archivedIndex() const {
  MutexLock lock(mu_);
  return archived_;
}

}  // namespace chat::storage
