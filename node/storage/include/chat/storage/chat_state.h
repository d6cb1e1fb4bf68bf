// ChatState: the chat state machine in memory, and the one place where the rules of applying
// an operation record live. Applied from the log in commit order on every node, it holds
// what a reply needs at once: accounts and their password hashes, rooms and their members, the
// waiting set (which messages wait for whom, without their bodies; a room message waits for
// each member on its own), and the request ids of recent sends (so a retried send is stored
// once). Message bodies and history live in the archive behind it
// (message_archive.h), which records what this state decided.
//
// Thread contract: apply() and the load functions from one thread at a time (the commit
// thread); the read functions from any thread, concurrently with apply() (one mutex).
#ifndef CHAT_STORAGE_CHAT_STATE_H_
#define CHAT_STORAGE_CHAT_STATE_H_

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "chat/common/mutex.h"
#include "chat/storage/message_store.h"
#include "chat/storage/recent_requests.h"

namespace chat::storage {

// Retried sends are recognised while their first message is among the newest this many log
// entries (the client retries within its 30 s request timeout, far inside this window).
inline constexpr uint64_t kRequestWindow = 1 << 18;
// At most this many messages wait for one recipient; a send beyond it is refused
// (kRecipientFull) until the recipient reads some. One account cannot fill another's disk
// and the memory its next login takes. A rule of the state machine, so the same on every
// node (never a setting).
inline constexpr size_t kMaxWaitingPerRecipient = 10000;
// And at most this many body bytes (a full count of the largest bodies would be 40 MB).
inline constexpr uint64_t kMaxWaitingBytesPerRecipient = uint64_t{16} << 20;
// Rooms: at most this many members in one room, and rooms one account may be in (rules of the
// state machine too). A room message is one record whatever the room's size; these bound the
// fan-out of one send and what one account's login has to load.
inline constexpr size_t kMaxRoomMembers = 1000;
inline constexpr size_t kMaxRoomsPerAccount = 100;
// Unread counts look at a conversation's newest this many messages (a list shows "99+"
// beyond); the window is a function of the log, so every node counts alike.
inline constexpr size_t kUnreadWindow = 100;

class ChatState {
 public:
  explicit ChatState(uint64_t requestWindow = kRequestWindow) : recent_(requestWindow) {}

  // Applies `entries` in order; one result each, the same on every node for the same log.
  // REQUIRES: entries[0].index == applied().index + 1 and indices are dense.
  std::vector<ApplyResult> apply(std::span<const Command> entries) EXCLUDES(mu_);

  AppliedPosition applied() const EXCLUDES(mu_);
  std::optional<Account> findAccount(std::string_view username) const EXCLUDES(mu_);
  // As MessageStore::listAccounts.
  AccountPage listAccounts(std::string_view pattern, uint32_t offset, uint32_t limit) const
      EXCLUDES(mu_);
  uint32_t pendingCount(std::string_view username) const EXCLUDES(mu_);
  // The ids of the messages waiting for `username`, oldest first, at most `limit` (0: all),
  // and no more than fit in `maxBytes` of body (the first always counts, whatever its size).
  std::vector<uint64_t> pendingIds(std::string_view username, uint32_t limit,
                                   uint64_t maxBytes = UINT64_MAX) const EXCLUDES(mu_);
  uint64_t pendingTotal() const EXCLUDES(mu_);
  // As MessageStore::findRoom and listRooms.
  std::optional<RoomInfo> findRoom(std::string_view name) const EXCLUDES(mu_);
  RoomPage listRooms(std::string_view pattern, uint32_t offset, uint32_t limit,
                     uint64_t viewerUid) const EXCLUDES(mu_);
  // As MessageStore::conversations.
  std::vector<ConversationSummary> conversations(std::string_view username) const EXCLUDES(mu_);
  // A digest of the whole state (FNV-1a over a canonical listing): equal on nodes that
  // applied the same log to the same index.
  uint64_t digest() const EXCLUDES(mu_);

  // Loading the state an archive holds (MessageArchive::loadInto), after clear().
  void clear() EXCLUDES(mu_);
  void loadAccount(const Account& account) EXCLUDES(mu_);
  // A room, then its members (in joining order: `joinedAt` is the index of the record that
  // added it). REQUIRES: the accounts are loaded.
  void loadRoom(uint64_t id, const std::string& name, uint64_t ownerUid, RoomPolicy policy,
                int64_t createdAtMillis) EXCLUDES(mu_);
  void loadRoomMember(uint64_t roomId, uint64_t uid, uint64_t joinedAt) EXCLUDES(mu_);
  // A message (of room `roomId`, 0: private) that waits for one recipient. REQUIRES: the
  // recipient's account is loaded.
  void loadWaiting(uint64_t id, const std::string& sender, uint64_t recipientUid,
                   uint32_t bodyBytes, uint64_t roomId = 0) EXCLUDES(mu_);
  // A recent send's request id. REQUIRES: loaded in increasing message id order.
  void loadRequest(uint64_t senderUid, uint64_t requestId, uint64_t messageId,
                   uint64_t recipientUid) EXCLUDES(mu_);
  // The conversation state: an account's read marker of one conversation (the peer's uid or
  // the room's id), and a conversation's newest messages (up to kUnreadWindow, oldest first:
  // (message id, sender uid)) between two accounts or in a room.
  // REQUIRES: the accounts and rooms are loaded.
  void loadReadMarker(uint64_t uid, uint64_t conversation, uint64_t upTo) EXCLUDES(mu_);
  void loadPairRecent(uint64_t uidA, uint64_t uidB,
                      const std::vector<std::pair<uint64_t, uint64_t>>& recent) EXCLUDES(mu_);
  void loadRoomRecent(uint64_t roomId, const std::vector<std::pair<uint64_t, uint64_t>>& recent)
      EXCLUDES(mu_);
  void setApplied(AppliedPosition position) EXCLUDES(mu_);

 private:
  struct AccountState {
    Account account;
    std::set<uint64_t> waiting;  // ids of the messages waiting for it
    uint64_t waitingBytes = 0;   // their bodies' bytes
    std::set<uint64_t> rooms;    // ids of the rooms it is in
    std::set<uint64_t> peers;    // uids it has exchanged private messages with
    std::map<uint64_t, uint64_t> readUpTo;  // conversation (peer uid, room id) -> marker
  };
  // A conversation's newest messages, oldest first, at most kUnreadWindow.
  struct Recent {
    uint64_t id = 0;
    uint64_t senderUid = 0;
  };
  using RecentWindow = std::vector<Recent>;
  // A stored message some recipients have not acknowledged yet.
  struct Waiting {
    std::string sender;  // display name, kept: the sender's account may be gone
    uint32_t bodyBytes = 0;
    uint64_t roomId = 0;                // 0: a private message
    std::vector<uint64_t> recipients;  // uids it still waits for (one, for a private message)
  };
  struct RoomState {
    uint64_t id = 0;
    std::string name;
    uint64_t ownerUid = 0;
    RoomPolicy policy = RoomPolicy::kOpen;
    int64_t createdAtMillis = 0;
    std::map<uint64_t, uint64_t> members;  // uid -> index of the record that added it
    RecentWindow recent;
  };
  using AccountIt = std::map<std::string, AccountState>::iterator;
  using RoomIt = std::map<std::string, RoomState>::iterator;

  ApplyResult applyOne(const Command& entry) REQUIRES(mu_);
  // The records that change accounts and private messages, one function each.
  ApplyResult createAccount(const Command& entry, const CreateAccountOp& op) REQUIRES(mu_);
  ApplyResult deleteAccount(const DeleteAccountOp& op) REQUIRES(mu_);
  ApplyResult storeMessage(const Command& entry, const StoreMessageOp& op) REQUIRES(mu_);
  ApplyResult setLastSeen(const SetLastSeenOp& op) REQUIRES(mu_);
  ApplyResult endSessions(const EndSessionsOp& op) REQUIRES(mu_);
  ApplyResult applyRoomRecord(const Command& entry) REQUIRES(mu_);
  // The room records, one function each, and what they share.
  ApplyResult createRoom(const Command& entry, const CreateRoomOp& op) REQUIRES(mu_);
  ApplyResult joinRoom(const Command& entry, const JoinRoomOp& op) REQUIRES(mu_);
  ApplyResult leaveRoom(const LeaveRoomOp& op) REQUIRES(mu_);
  ApplyResult inviteToRoom(const Command& entry, const InviteToRoomOp& op) REQUIRES(mu_);
  // The account a record acts for and the room it names; nullopt after setting `refusal`.
  std::optional<std::pair<AccountIt, RoomIt>> actingIn(const std::string& name, uint64_t uid,
                                                       const std::string& roomName,
                                                       ApplyResult& refusal) REQUIRES(mu_);
  // Adds `who` to `room` (a join, an invitation): a member already changes nothing and
  // nobody is told; the limits refuse with their sentence.
  ApplyResult admit(const Command& entry, RoomState& room, AccountState& who) REQUIRES(mu_);
  // What a membership change tells: the room, who, and the members after it.
  ApplyResult membershipChanged(const RoomState& room, const AccountState& who) const REQUIRES(mu_);
  // The refusal when `who` is in as many rooms as an account may be, or `room` is full.
  static std::optional<ApplyResult> atRoomLimit(const AccountState& who);
  static std::optional<ApplyResult> roomFull(const RoomState& room);
  ApplyResult storeRoomMessage(const Command& entry, const StoreRoomMessageOp& op) REQUIRES(mu_);
  // The account named `name`, if it is the account `uid` (0: whichever has the name).
  AccountIt findActing(const std::string& name, uint64_t uid) REQUIRES(mu_);
  AccountState* accountByUid(uint64_t uid) REQUIRES(mu_);
  const AccountState* accountByUid(uint64_t uid) const REQUIRES(mu_);
  // Adds `uid`'s copy of waiting message `id`, unless its quota is full (then false).
  bool addWaiting(AccountState& recipient, uint64_t id, const std::string& sender,
                  uint32_t bodyBytes, uint64_t roomId) REQUIRES(mu_);
  // Drops `recipient`'s copy of message `id`; true if it was waiting.
  bool dropWaiting(AccountState& recipient, uint64_t id) REQUIRES(mu_);
  // Takes `member` out of the room; the owner's role passes on, an empty room goes.
  // Returns the change, if the owner changed or the room went.
  std::optional<RoomChange> removeMember(RoomIt room, AccountState& member) REQUIRES(mu_);
  std::vector<uint64_t> memberUids(const RoomState& room) const REQUIRES(mu_);
  static void remember(RecentWindow& window, uint64_t id, uint64_t senderUid);
  ConversationSummary summarize(const AccountState& who, const std::string& peer, bool isRoom,
                                uint64_t id, const RecentWindow& recent) const REQUIRES(mu_);
  static std::pair<uint64_t, uint64_t> pairKey(uint64_t a, uint64_t b) {
    return a < b ? std::pair{a, b} : std::pair{b, a};
  }
  ApplyResult setReadMarker(const SetReadMarkerOp& op) REQUIRES(mu_);
  // Marks `ids` delivered to the account `name` (uid 0: by name) acts for; appends what
  // became delivered to `out` and returns how many, or nullopt when the account is gone.
  std::optional<uint32_t> markDelivered(const std::string& name, uint64_t uid,
                                        const std::vector<uint64_t>& ids,
                                        std::vector<Delivery>& out) REQUIRES(mu_);

  mutable Mutex mu_;
  std::map<std::string, AccountState> accounts_ GUARDED_BY(mu_);  // by name key, in list order
  std::unordered_map<uint64_t, std::string> keyByUid_ GUARDED_BY(mu_);
  std::unordered_map<uint64_t, Waiting> waiting_ GUARDED_BY(mu_);  // by message id
  std::map<std::string, RoomState> rooms_ GUARDED_BY(mu_);  // by name key ("#name", lower case)
  std::unordered_map<uint64_t, std::string> roomKeyById_ GUARDED_BY(mu_);
  // Private conversations by (smaller uid, larger uid): their newest messages.
  std::map<std::pair<uint64_t, uint64_t>, RecentWindow> pairs_ GUARDED_BY(mu_);
  RecentRequests recent_ GUARDED_BY(mu_);
  AppliedPosition applied_ GUARDED_BY(mu_);
};

}  // namespace chat::storage

#endif  // CHAT_STORAGE_CHAT_STATE_H_
