// ArchivedStore: the node's MessageStore. apply() runs the state machine in memory
// (ChatState) and returns at once, so an acknowledgement never waits for SQLite; the entries
// and their results then go to the archive (MessageArchive: SQLite) on a writer thread of
// the store's own, many per transaction. Reads of accounts and of the waiting set come from
// memory; reads of message bodies (deliver, history) from the archive once it has caught up
// with what was applied when they were asked (read your writes), through whenReadable().
//
// Backpressure: apply() waits while maxQueued entries wait for the archive, so a slow disk
// slows commits rather than growing memory. A failed archive write is sticky: apply() and
// whenReadable() fail from then on and the node stops; at restart the log is applied again
// from what the archive holds.
//
// Thread contract: as MessageStore. The writer thread runs whenReadable() callbacks.
#ifndef CHAT_STORAGE_ARCHIVED_STORE_H_
#define CHAT_STORAGE_ARCHIVED_STORE_H_

#include <chrono>
#include <condition_variable>
#include <deque>
#include <map>
#include <memory>
#include <thread>

#include "chat/common/mutex.h"
#include "chat/storage/chat_state.h"
#include "chat/storage/message_archive.h"

namespace chat::storage {

struct ArchiveOptions {
  // Record on a writer thread (the node), or inside apply() (tests and the simulation, for
  // determinism).
  bool background = true;
  size_t maxBatch = 16384;   // entries per archive transaction
  // The writer lets entries gather for up to `gatherFor` (unless `gatherEntries` are queued,
  // a read waits, or the store stops): a few large transactions cost far less per entry than
  // many small ones, and a delivery mark that arrives within the window spares its message
  // an UPDATE and an index entry (it is inserted delivered).
  std::chrono::milliseconds gatherFor{100};
  size_t gatherEntries = 16384;
  size_t maxQueued = 65536;  // apply() waits while this many entries wait for the archive
  // The archive is synced (so the log may be trimmed up to it) once this many entries were
  // recorded since the last sync, or when the log asks (syncedIndex()).
  uint64_t syncEvery = 50000;
};

class ArchivedStore : public MessageStore {
 public:
  // Loads the state the archive holds into memory and starts the writer.
  // Errors: those of the archive.
  static Result<std::unique_ptr<ArchivedStore>> open(std::unique_ptr<MessageArchive> archive,
                                                     ArchiveOptions options = {});
  ~ArchivedStore() override;  // records what is queued, then stops the writer
  ArchivedStore(const ArchivedStore&) = delete;  // owns a thread
  ArchivedStore& operator=(const ArchivedStore&) = delete;

  Result<std::vector<ApplyResult>> apply(std::span<const Command> entries) override
      EXCLUDES(mu_);
  Result<AppliedPosition> appliedPosition() override { return state_.applied(); }
  Result<std::optional<Account>> findAccount(std::string_view username) override {
    return state_.findAccount(username);
  }
  Result<AccountPage> listAccounts(std::string_view pattern, uint32_t offset,
                                   uint32_t limit) override {
    return state_.listAccounts(pattern, offset, limit);
  }
  Result<uint32_t> pendingCount(std::string_view username) override {
    return state_.pendingCount(username);
  }
  Result<uint64_t> pendingTotal() override { return state_.pendingTotal(); }
  Result<std::optional<RoomInfo>> findRoom(std::string_view room) override {
    return state_.findRoom(room);
  }
  Result<RoomPage> listRooms(std::string_view pattern, uint32_t offset, uint32_t limit,
                             uint64_t viewerUid) override {
    return state_.listRooms(pattern, offset, limit, viewerUid);
  }
  Result<std::vector<ConversationSummary>> conversations(std::string_view username) override {
    return state_.conversations(username);
  }
  Result<std::vector<protocol::ChatMessage>> messagesById(std::span<const uint64_t> ids) override
      EXCLUDES(mu_);
  void whenReadable(std::function<void(Status)> fn) override EXCLUDES(mu_);
  // The archived reads wait until the archive holds what was applied when they were called
  // (not when called from a whenReadable() callback, which runs once it does).
  Result<std::vector<protocol::ChatMessage>> pendingMessages(
      std::string_view username, uint32_t limit, uint64_t maxBodyBytes = UINT64_MAX) override
      EXCLUDES(mu_);
  Result<HistoryPage> history(std::string_view username, std::string_view peer, uint64_t beforeId,
                              uint32_t limit) override EXCLUDES(mu_);
  Result<std::vector<protocol::ChatMessage>> messagesAfter(uint64_t afterId,
                                                           uint32_t limit) override EXCLUDES(mu_);
  bool supportsSnapshots() const override { return archive_->supportsSnapshots(); }
  // A copy of the archive, at the position it has reached (which may trail apply()).
  Result<AppliedPosition> writeSnapshot(const std::string& path) override;
  // Waits for the writer to finish what is queued, restores the archive and reloads memory.
  Result<AppliedPosition> restoreSnapshot(const std::string& path) override EXCLUDES(mu_);
  Result<uint64_t> syncedIndex() override EXCLUDES(mu_);

  // The index the archive has recorded; for status and tests.
  uint64_t archivedIndex() const EXCLUDES(mu_);
  // A digest of the state in memory (ChatState::digest).
  uint64_t stateDigest() const { return state_.digest(); }

 protected:
  // A store whose archive starts empty (nothing to load). REQUIRES: `archive` is empty.
  ArchivedStore(std::unique_ptr<MessageArchive> archive, ArchiveOptions options);

 private:
  struct Queued {
    Command entry;
    ApplyResult result;
  };
  void run(const std::stop_token& stop);
  // Waits until the archive holds `index` (or failed). REQUIRES: not on the writer thread.
  Status waitArchived(uint64_t index) EXCLUDES(mu_);
  bool onWriterThread() const { return std::this_thread::get_id() == writer_.get_id(); }

  // Immutable after construction
  const ArchiveOptions options_;
  std::unique_ptr<MessageArchive> archive_;
  ChatState state_;  // thread-safe on its own

  // Serialises what writes the archive: the writer's record() and a snapshot restore.
  Mutex archiveMu_;

  mutable Mutex mu_;
  std::condition_variable_any cv_;
  std::deque<Queued> queue_ GUARDED_BY(mu_);
  std::multimap<uint64_t, std::function<void(Status)>> waiters_ GUARDED_BY(mu_);
  uint64_t archived_ GUARDED_BY(mu_) = 0;
  uint64_t synced_ GUARDED_BY(mu_) = 0;
  bool syncWanted_ GUARDED_BY(mu_) = false;
  bool busy_ GUARDED_BY(mu_) = false;  // the writer is recording a batch
  size_t blockedReaders_ GUARDED_BY(mu_) = 0;  // waitArchived() callers
  Status failed_ GUARDED_BY(mu_);
  bool stopping_ GUARDED_BY(mu_) = false;

  std::jthread writer_;  // last: starts once everything above exists
};

// The archive in memory behind the state machine, recorded inline: what unit tests and the
// simulation use where the node uses SQLite.
class InMemoryMessageStore final : public ArchivedStore {
 public:
  InMemoryMessageStore()
      : ArchivedStore(std::make_unique<InMemoryArchive>(), ArchiveOptions{false}) {}
};

}  // namespace chat::storage

#endif  // CHAT_STORAGE_ARCHIVED_STORE_H_
