// MessageArchive: where the chat state is kept for people and tools to query (SQLite through
// Poco Data in the node; memory in tests), brought up to date behind the in-memory state
// machine (chat_state.h). It never decides anything: it records what the state machine
// decided for each log entry, together with the index it reached, in one transaction per
// batch; after a crash the log is applied again from that index. It serves what memory does
// not hold: message bodies, history, and the state to rebuild memory from at start.
//
// Thread contract: record(), loadInto() and restoreSnapshot() from one thread at a time (the
// store's writer); the reads and writeSnapshot() from any thread, concurrently with it.
#ifndef CHAT_STORAGE_MESSAGE_ARCHIVE_H_
#define CHAT_STORAGE_MESSAGE_ARCHIVE_H_

#include <map>
#include <set>
#include <span>
#include <string>
#include <vector>

#include "chat/storage/chat_state.h"
#include "chat/storage/message_store.h"

namespace chat::storage {

class MessageArchive {
 public:
  virtual ~MessageArchive() = default;
  // Records the effects of `entries`, whose results (results[i] for entries[i]) the state
  // machine computed, and the last entry's position, all in one transaction.
  // Errors: kIoError; then nothing of the batch was recorded.
  virtual Status record(std::span<const Command> entries,
                        std::span<const ApplyResult> results) = 0;
  virtual Result<AppliedPosition> appliedPosition() = 0;
  // Fills a cleared `state` with the accounts, waiting messages, recent request ids and
  // position the archive holds.
  virtual Status loadInto(ChatState& state) = 0;
  // The messages with these ids, in the order given; ids it does not hold are skipped.
  virtual Result<std::vector<protocol::ChatMessage>> messagesById(
      std::span<const uint64_t> ids) = 0;
  // As MessageStore::history and messagesAfter.
  virtual Result<HistoryPage> history(std::string_view username, std::string_view peer,
                                      uint64_t beforeId, uint32_t limit) = 0;
  virtual Result<std::vector<protocol::ChatMessage>> messagesAfter(uint64_t afterId,
                                                                   uint32_t limit) = 0;
  // As MessageStore's snapshot functions.
  virtual bool supportsSnapshots() const { return false; }
  virtual Result<AppliedPosition> writeSnapshot(const std::string& path) {
    (void)path;
    return Status::unavailable("this archive keeps no snapshots");
  }
  virtual Result<AppliedPosition> restoreSnapshot(const std::string& path) {
    (void)path;
    return Status::unavailable("this archive keeps no snapshots");
  }
  // Makes everything recorded so far durable.
  virtual Status syncToDisk() { return Status::ok(); }
};

// The archive in memory: bodies in a map. For tests and the simulation.
class InMemoryArchive final : public MessageArchive {
 public:
  Status record(std::span<const Command> entries, std::span<const ApplyResult> results) override
      EXCLUDES(mu_);
  Result<AppliedPosition> appliedPosition() override EXCLUDES(mu_);
  Status loadInto(ChatState& state) override EXCLUDES(mu_);
  Result<std::vector<protocol::ChatMessage>> messagesById(std::span<const uint64_t> ids) override
      EXCLUDES(mu_);
  Result<HistoryPage> history(std::string_view username, std::string_view peer, uint64_t beforeId,
                              uint32_t limit) override EXCLUDES(mu_);
  Result<std::vector<protocol::ChatMessage>> messagesAfter(uint64_t afterId,
                                                           uint32_t limit) override EXCLUDES(mu_);

 private:
  struct StoredMessage {
    protocol::ChatMessage message;
    uint64_t senderUid = 0;
    uint64_t recipientUid = 0;  // 0 for a room message
    uint64_t requestId = 0;
    uint64_t roomId = 0;
  };
  struct StoredRoom {
    std::string name;
    uint64_t ownerUid = 0;
    RoomPolicy policy = RoomPolicy::kOpen;
    int64_t createdAtMillis = 0;
    std::map<uint64_t, uint64_t> members;  // uid -> joined at
  };
  void recordRoomChanges(const std::vector<RoomChange>& changes) REQUIRES(mu_);
  void recordDeliveries(const std::vector<Delivery>& deliveries) REQUIRES(mu_);
  Mutex mu_;
  std::map<uint64_t, Account> accounts_ GUARDED_BY(mu_);  // by uid
  std::map<uint64_t, StoredMessage> messages_ GUARDED_BY(mu_);
  std::map<uint64_t, StoredRoom> rooms_ GUARDED_BY(mu_);  // by id
  std::set<std::pair<uint64_t, uint64_t>> roomWaiting_ GUARDED_BY(mu_);  // (member, message)
  std::map<std::pair<uint64_t, uint64_t>, uint64_t> readMarkers_ GUARDED_BY(mu_);  // (uid, conv)
  AppliedPosition applied_ GUARDED_BY(mu_);
};

}  // namespace chat::storage

#endif  // CHAT_STORAGE_MESSAGE_ARCHIVE_H_
