// MessageStore: durable chat state (accounts, messages, the applied log position) behind an
// interface, so the service and replication run over SQLite in production and over the
// in-memory store or a fault-injecting wrapper in tests.
//
// Thread contract: apply() is called by one thread at a time (the commit thread); the read
// methods may be called from any thread concurrently with apply() and see only committed
// state. Usernames compare case-insensitively (ASCII); the stored spelling is kept.
#ifndef CHAT_STORAGE_MESSAGE_STORE_H_
#define CHAT_STORAGE_MESSAGE_STORE_H_

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "chat/common/status.h"
#include "chat/protocol/messages.h"
#include "chat/storage/operation.h"

namespace chat::storage {

struct Account {
  uint64_t uid = 0;
  std::string name;
  std::string passwordHash;
  int64_t createdAtMillis = 0;
  int64_t lastSeenMillis = 0;
};

struct AccountPage {
  uint32_t total = 0;  // matching accounts in all
  std::vector<Account> accounts;
};

struct HistoryPage {
  std::vector<protocol::ChatMessage> messages;  // oldest first
  bool hasMore = false;
};

struct AppliedPosition {
  uint64_t epoch = 0;
  uint64_t index = 0;
};

class MessageStore {
 public:
  virtual ~MessageStore() = default;

  // Applies `entries` in order in one transaction and records the last one's position.
  // Returns one result per entry. Either every entry is applied and durable when this
  // returns ok, or none is (the transaction rolled back) and the error says why.
  // REQUIRES: entries[0].index == appliedPosition().index + 1 and indices are dense.
  virtual Result<std::vector<ApplyResult>> apply(std::span<const LogEntry> entries) = 0;

  virtual Result<AppliedPosition> appliedPosition() = 0;
  virtual Result<std::optional<Account>> findAccount(std::string_view username) = 0;
  // Accounts whose lower-cased name matches the lower-cased `pattern` ('*' and '?'; empty
  // matches all), ordered by name, `limit` of them from `offset`.
  virtual Result<AccountPage> listAccounts(std::string_view pattern, uint32_t offset,
                                           uint32_t limit) = 0;
  // Undelivered messages addressed to `username`, oldest first, at most `limit` (0 = all).
  virtual Result<std::vector<protocol::ChatMessage>> pendingMessages(std::string_view username,
                                                                     uint32_t limit) = 0;
  virtual Result<uint32_t> pendingCount(std::string_view username) = 0;
  // Undelivered messages of every account: the queue depth /metrics reports.
  virtual Result<uint64_t> pendingTotal() = 0;
  // Messages between `username` and `peer` with id < beforeId (0 = no bound), newest `limit`.
  virtual Result<HistoryPage> history(std::string_view username, std::string_view peer,
                                      uint64_t beforeId, uint32_t limit) = 0;
  // Every message in id order; for checks in tests and tools (chat-chaos), paged by id.
  virtual Result<std::vector<protocol::ChatMessage>> messagesAfter(uint64_t afterId,
                                                                   uint32_t limit) = 0;

  // Snapshots, for a replicated log that trims itself (a follower too far behind gets the
  // whole state instead of the log). A store without them never lets its log be trimmed.
  virtual bool supportsSnapshots() const { return false; }
  // Writes a consistent copy of the whole state to the file `path` while applies go on;
  // returns the applied position it holds. Errors: kIoError.
  virtual Result<AppliedPosition> writeSnapshot(const std::string& path) {
    (void)path;
    return Status::unavailable("this store keeps no snapshots");
  }
  // Replaces the whole state with the snapshot in the file `path`, durably; readers see the
  // old state or the new, never a mix. Returns the snapshot's applied position.
  virtual Result<AppliedPosition> restoreSnapshot(const std::string& path) {
    (void)path;
    return Status::unavailable("this store keeps no snapshots");
  }
  // Makes everything applied so far durable (for stores that apply without syncing).
  virtual Status syncToDisk() { return Status::ok(); }
};

// ASCII lower-casing used for the case-insensitive name key.
std::string nameKey(std::string_view name);

}  // namespace chat::storage

#endif  // CHAT_STORAGE_MESSAGE_STORE_H_
