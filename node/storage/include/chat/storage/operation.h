// Operation records: every change the chat service makes to stored state is one of these,
// applied to the store in a transaction. Each is encoded once, when proposed, into the
// payload of a log entry (chat/log/entry.h), which the log stores and replication ships;
// the store decodes it back into a Command when the entry commits. Applying a record is
// deterministic: the same records in the same order give the same state and results on
// every node. The index of a StoreMessage record is the message id; that of a CreateAccount
// record is the account's uid.
//
// Encoding (docs/protocol.md, "Operation records"): u8 kind, then the kind's fields with the
// primitives of protocol/byte_io.h. An empty payload is a leader's no-op (NoOp). Fields added
// to a kind later go at its end and are optional: a record written before them (an older log)
// ends earlier and reads them as 0. A uid of 0 means "by name" (those older records).
//
// Sessions act for an account, not a name: records a session makes carry the account's uid,
// and a record whose uid no longer matches the name (the account was deleted, perhaps created
// again by someone else) is refused, identically on every node.
// Thread contract: plain values.
#ifndef CHAT_STORAGE_OPERATION_H_
#define CHAT_STORAGE_OPERATION_H_

#include <cstdint>
#include <span>
#include <string>
#include <variant>
#include <vector>

#include "chat/common/status.h"
#include "chat/protocol/wire_types.h"

namespace chat::storage {

struct CreateAccountOp {
  std::string username;
  std::string passwordHash;  // Argon2id string from libsodium; never the password
  int64_t createdAtMillis = 0;
  bool operator==(const CreateAccountOp&) const = default;
};

// Removes the account and every message addressed to it (waiting or delivered).
// Messages it sent stay with their recipients.
struct DeleteAccountOp {
  std::string username;
  uint64_t uid = 0;
  bool operator==(const DeleteAccountOp&) const = default;
};

// Stores a private message. `requestId` (non-zero) makes a retried send idempotent: a second
// record with the same sender and request id stores nothing and returns the first id.
struct StoreMessageOp {
  std::string sender;
  std::string recipient;
  std::string body;
  int64_t sentAtMillis = 0;
  uint64_t requestId = 0;
  uint64_t senderUid = 0;
  bool operator==(const StoreMessageOp&) const = default;
};

// Marks messages addressed to `recipient` delivered; ids of other recipients are ignored.
struct MarkDeliveredOp {
  std::string recipient;
  std::vector<uint64_t> ids;
  int64_t atMillis = 0;
  uint64_t recipientUid = 0;
  bool operator==(const MarkDeliveredOp&) const = default;
};

// The acknowledgements of many sessions in one record: each entry as a MarkDeliveredOp of its
// own (an entry whose account is gone changes nothing). The service gathers the acks that
// arrive while the previous batch commits, so a room's fan-out costs a record per commit
// round instead of one per member.
struct AckBatchOp {
  struct Entry {
    std::string recipient;
    uint64_t recipientUid = 0;
    std::vector<uint64_t> ids;
    bool operator==(const Entry&) const = default;
  };
  std::vector<Entry> entries;
  int64_t atMillis = 0;
  bool operator==(const AckBatchOp&) const = default;
};

// Records when an account was last seen online (a disconnect).
struct SetLastSeenOp {
  std::string username;
  int64_t atMillis = 0;
  uint64_t uid = 0;
  bool operator==(const SetLastSeenOp&) const = default;
};

// Ends every session of the account on every node and makes every session token issued so far
// worthless (its token generation moves on); records when it was last seen. A logout.
struct EndSessionsOp {
  std::string username;
  uint64_t uid = 0;
  int64_t atMillis = 0;
  bool operator==(const EndSessionsOp&) const = default;
};

// Rooms (docs/chat-semantics.md, "Rooms"). A room's id is the index of the record that created
// it, so a name removed and created again is a different room. Room names are `#` and the
// user-name rules; they compare case-insensitively.
using RoomPolicy = protocol::RoomAccess;

// Creates a room with its creator as owner and first member.
struct CreateRoomOp {
  std::string owner;
  uint64_t ownerUid = 0;
  std::string room;
  RoomPolicy policy = RoomPolicy::kOpen;
  int64_t atMillis = 0;
  bool operator==(const CreateRoomOp&) const = default;
};

// `username` joins an open room.
struct JoinRoomOp {
  std::string username;
  uint64_t uid = 0;
  std::string room;
  int64_t atMillis = 0;
  bool operator==(const JoinRoomOp&) const = default;
};

// `username` leaves the room. Messages already waiting for it stay (leaving stops later ones);
// the owner's role passes to the longest-standing member; a room left empty is removed.
struct LeaveRoomOp {
  std::string username;
  uint64_t uid = 0;
  std::string room;
  int64_t atMillis = 0;
  bool operator==(const LeaveRoomOp&) const = default;
};

// `inviter`, a member, adds `invitee` to the room (as the room's policy allows).
struct InviteToRoomOp {
  std::string inviter;
  uint64_t inviterUid = 0;
  std::string room;
  std::string invitee;
  int64_t atMillis = 0;
  bool operator==(const InviteToRoomOp&) const = default;
};

// Stores a message to a room: one record, one message id; a copy waits for every other
// member until that member acknowledges it. `requestId` as for StoreMessageOp.
struct StoreRoomMessageOp {
  std::string sender;
  uint64_t senderUid = 0;
  std::string room;
  std::string body;
  int64_t sentAtMillis = 0;
  uint64_t requestId = 0;
  bool operator==(const StoreRoomMessageOp&) const = default;
};

// `username` has seen its conversation with `peer` (a user, or "#room") up to message
// `upToId`: the read marker moves there (never back). Unread counts come from it.
struct SetReadMarkerOp {
  std::string username;
  uint64_t uid = 0;
  std::string peer;
  uint64_t upToId = 0;
  int64_t atMillis = 0;
  bool operator==(const SetReadMarkerOp&) const = default;
};

// Changes nothing. A new leader appends one so that it can commit entries of its
// predecessors (Raft commits only entries of the leader's own epoch by counting replicas).
struct NoOp {
  bool operator==(const NoOp&) const = default;
};

using Operation =
    std::variant<CreateAccountOp, DeleteAccountOp, StoreMessageOp, MarkDeliveredOp, SetLastSeenOp,
                 NoOp, EndSessionsOp, CreateRoomOp, JoinRoomOp, LeaveRoomOp, InviteToRoomOp,
                 StoreRoomMessageOp, SetReadMarkerOp, AckBatchOp>;

// An operation at the log position it committed at: what the store applies.
struct Command {
  uint64_t epoch = 0;
  uint64_t index = 0;  // 1-based, dense, increasing
  Operation op;
  bool operator==(const Command&) const = default;
};

// A message that became delivered to one recipient (MarkDelivered, AckBatch).
struct Delivery {
  uint64_t id = 0;
  std::string sender;  // display name, to tell the sender
  uint64_t roomId = 0;  // 0: a private message
  std::string recipient;  // who acknowledged it (display name), and its account
  uint64_t recipientUid = 0;
  bool operator==(const Delivery&) const = default;
};

// A room whose owner changed or that was removed (a leave, an account deletion).
struct RoomChange {
  uint64_t roomId = 0;
  std::string room;
  uint64_t ownerUid = 0;  // the new owner; 0 when removed
  bool removed = false;
  bool operator==(const RoomChange&) const = default;
};

// What applying one record did. Deterministic, so followers compute the same.
struct ApplyResult {
  protocol::ErrorCode code = protocol::ErrorCode::kOk;
  std::string error;
  // Message id (StoreMessage, StoreRoomMessage), uid (CreateAccount), room id (room records).
  uint64_t id = 0;
  // Messages discarded (DeleteAccount); members whose copy of a room message was refused
  // because they have too much waiting (StoreRoomMessage).
  uint32_t count = 0;
  bool duplicate = false;  // a send's request id seen before; `id` is the first message
  // MarkDelivered: each message that became delivered now.
  std::vector<Delivery> delivered;
  // Room records: the room's id and stored name; whose membership changed (join, leave,
  // invite: the joiner, leaver, invitee), and who to tell: the members a room message's copy
  // waits for, or the members after a membership change.
  uint64_t roomId = 0;
  std::string room;
  uint64_t memberUid = 0;
  std::string member;
  std::vector<uint64_t> recipients;
  std::vector<RoomChange> roomChanges;  // Leave, DeleteAccount
  // SetReadMarker: whose marker (memberUid), of which conversation (the peer's uid or the
  // room's id: both are log indexes, so they never collide), and where it stands now.
  uint64_t conversation = 0;
  uint64_t readUpTo = 0;
  // AckBatch: how many of each entry's ids became delivered now, in entry order.
  std::vector<uint32_t> deliveredPerEntry;
  bool isOk() const { return code == protocol::ErrorCode::kOk; }
};

std::vector<uint8_t> encodeOperation(const Operation& op);
Result<Operation> decodeOperation(std::span<const uint8_t> bytes);
const char* operationName(const Operation& op);

}  // namespace chat::storage

#endif  // CHAT_STORAGE_OPERATION_H_
