// MessageStore: the chat state (accounts, messages, the applied log position) as the commit
// log applies it and the service reads it. The node's is an ArchivedStore: the state machine
// in memory answers at once, and SQLite is brought up to date behind it (archived_store.h);
// tests also use InMemoryMessageStore.
//
// Thread contract: apply() is called by one thread at a time (the commit thread); the read
// methods may be called from any thread concurrently with apply(). Usernames compare
// case-insensitively (ASCII); the stored spelling is kept.
#ifndef CHAT_STORAGE_MESSAGE_STORE_H_
#define CHAT_STORAGE_MESSAGE_STORE_H_

#include <cstdint>
#include <functional>
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
  // Moves on at every logout (EndSessionsOp): a session token names the generation it was
  // issued in and is worthless once the account's has moved on.
  uint64_t tokenGeneration = 0;
};

// A room as readers see it (ChatState holds it; operation.h has the records that change it).
struct RoomMember {
  uint64_t uid = 0;
  std::string name;
  int64_t lastSeenMillis = 0;
  bool operator==(const RoomMember&) const = default;
};

struct RoomInfo {
  uint64_t id = 0;  // the index of the record that created it
  std::string name;  // "#name" as created
  uint64_t ownerUid = 0;
  std::string owner;
  RoomPolicy policy = RoomPolicy::kOpen;
  int64_t createdAtMillis = 0;
  std::vector<RoomMember> members;  // in the order they joined
  bool hasMember(uint64_t uid) const {
    for (const auto& m : members) {
      if (m.uid == uid) {
        return true;
      }
    }
    return false;
  }
};

struct RoomSummary {
  std::string name;
  RoomPolicy policy = RoomPolicy::kOpen;
  uint32_t members = 0;
  bool isMember = false;  // the account that asked is a member
  std::string owner;
  bool operator==(const RoomSummary&) const = default;
};

struct RoomPage {
  uint32_t total = 0;  // matching rooms in all
  std::vector<RoomSummary> rooms;
};

// One of an account's conversations (a private one, or a room it is in), as its list shows
// it. Unread counts messages from others above the account's read marker, among the
// conversation's newest kUnreadWindow messages.
struct ConversationSummary {
  std::string peer;  // the other account's name, or the room's ("#name")
  bool isRoom = false;
  uint64_t id = 0;      // the peer's uid or the room's id
  uint64_t lastId = 0;  // the newest message's id; 0 for a room nobody wrote in yet
  uint32_t unread = 0;
  bool moreUnread = false;  // older unread messages may exist beyond the window
  uint64_t readUpTo = 0;
  bool operator==(const ConversationSummary&) const = default;
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

  // Applies `entries` in order and records the last one's position. Returns one result per
  // entry. An error means the store can no longer follow the log (its disk failed): the
  // node must stop serving; the log, which holds the entries, rebuilds it at restart.
  // REQUIRES: entries[0].index == appliedPosition().index + 1 and indices are dense.
  virtual Result<std::vector<ApplyResult>> apply(std::span<const Command> entries) = 0;

  virtual Result<AppliedPosition> appliedPosition() = 0;
  virtual Result<std::optional<Account>> findAccount(std::string_view username) = 0;
  // Accounts whose lower-cased name matches the lower-cased `pattern` ('*' and '?'; empty
  // matches all), ordered by name, `limit` of them from `offset`.
  virtual Result<AccountPage> listAccounts(std::string_view pattern, uint32_t offset,
                                           uint32_t limit) = 0;
  // Reads of message bodies (pendingMessages, history, messagesAfter) may come from a store
  // that is brought up to date behind apply(). Runs `fn` once such reads see everything
  // applied when this was called: at once, or on the store's own thread later; with an
  // error if the store failed. `fn` must not block.
  virtual void whenReadable(std::function<void(Status)> fn) { fn(Status::ok()); }
  // Undelivered messages addressed to `username`, oldest first, at most `limit` (0 = all) and
  // no more than fit in `maxBodyBytes` of bodies (the first always comes): a reply's budget
  // bounds what is read, however much waits.
  virtual Result<std::vector<protocol::ChatMessage>> pendingMessages(
      std::string_view username, uint32_t limit, uint64_t maxBodyBytes = UINT64_MAX) = 0;
  virtual Result<uint32_t> pendingCount(std::string_view username) = 0;
  // The room named `room` ("#name", any case), if it exists.
  virtual Result<std::optional<RoomInfo>> findRoom(std::string_view room) = 0;
  // `username`'s conversations, newest first (rooms without messages last, newest first).
  virtual Result<std::vector<ConversationSummary>> conversations(std::string_view username) = 0;
  // The stored messages with these ids, in the order given (missing ones skipped); read as
  // the bodies of pendingMessages are.
  virtual Result<std::vector<protocol::ChatMessage>> messagesById(
      std::span<const uint64_t> ids) = 0;
  // Rooms `viewerUid` may see (open rooms and those it is in) whose name matches `pattern`
  // ('*' and '?', a leading '#' optional; empty matches all), ordered by name.
  virtual Result<RoomPage> listRooms(std::string_view pattern, uint32_t offset, uint32_t limit,
                                     uint64_t viewerUid) = 0;
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
  // An index up to which the state is durable on its own, so that the log may drop entries
  // up to there; a store that lags may start a sync and report a lower index meanwhile.
  virtual Result<uint64_t> syncedIndex() {
    auto position = appliedPosition();
    if (!position) {
      return position.error();
    }
    return position->index;
  }
};

// ASCII lower-casing used for the case-insensitive name key.
std::string nameKey(std::string_view name);

}  // namespace chat::storage

#endif  // CHAT_STORAGE_MESSAGE_STORE_H_
