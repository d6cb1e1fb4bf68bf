#include "chat/storage/operation.h"

#include "chat/common/overloaded.h"
#include "chat/protocol/byte_io.h"

namespace chat::storage {

namespace {

using protocol::ByteReader;
using protocol::ByteWriter;

constexpr size_t kMaxField = 1 << 20;
constexpr uint32_t kMaxIds = 1 << 20;

// The first byte of an operation record, on disk (the log) and on the wire (peers): fixed
// values, never the variant's index, so that reordering the variant changes no file.
enum class OperationKind : uint8_t {
  kCreateAccount = 0,
  kDeleteAccount = 1,
  kStoreMessage = 2,
  kMarkDelivered = 3,
  kSetLastSeen = 4,
  kNoOp = 5,
  kEndSessions = 6,
  kCreateRoom = 7,
  kJoinRoom = 8,
  kLeaveRoom = 9,
  kInviteToRoom = 10,
  kStoreRoomMessage = 11,
  kSetReadMarker = 12,
  kAckBatch = 13,
};

OperationKind kindOf(const Operation& op) {
  return std::visit(Overloaded{
                        [](const CreateAccountOp&) { return OperationKind::kCreateAccount; },
                        [](const DeleteAccountOp&) { return OperationKind::kDeleteAccount; },
                        [](const StoreMessageOp&) { return OperationKind::kStoreMessage; },
                        [](const MarkDeliveredOp&) { return OperationKind::kMarkDelivered; },
                        [](const SetLastSeenOp&) { return OperationKind::kSetLastSeen; },
                        [](const NoOp&) { return OperationKind::kNoOp; },
                        [](const EndSessionsOp&) { return OperationKind::kEndSessions; },
                        [](const CreateRoomOp&) { return OperationKind::kCreateRoom; },
                        [](const JoinRoomOp&) { return OperationKind::kJoinRoom; },
                        [](const LeaveRoomOp&) { return OperationKind::kLeaveRoom; },
                        [](const InviteToRoomOp&) { return OperationKind::kInviteToRoom; },
                        [](const StoreRoomMessageOp&) { return OperationKind::kStoreRoomMessage; },
                        [](const SetReadMarkerOp&) { return OperationKind::kSetReadMarker; },
                        [](const AckBatchOp&) { return OperationKind::kAckBatch; },
                    },
                    op);
}
static_assert(std::variant_size_v<Operation> == 14,
              "a new operation needs an OperationKind of its own (and a decoder case)");

#define CHAT_TRY_ASSIGN(lhs, expr) \
  do {                             \
    auto r_ = (expr);              \
    if (!r_) {                     \
      return r_.error();           \
    }                              \
    lhs = std::move(r_).value();   \
  } while (false)

// A field added to a kind after its first release: absent (0) in records written before it.
Result<uint64_t> optionalU64(ByteReader& r) {
  if (r.atEnd()) {
    return uint64_t{0};
  }
  return r.u64();
}

// A u32 count, then that many u64 ids.
Result<std::vector<uint64_t>> readIds(ByteReader& r) {
  uint32_t n = 0;
  CHAT_TRY_ASSIGN(n, r.u32());
  if (n > kMaxIds || size_t{n} * 8 > r.remaining()) {
    return Status::corruption("id list of " + std::to_string(n) + " does not fit");
  }
  std::vector<uint64_t> ids;
  ids.reserve(n);
  for (uint32_t i = 0; i < n; ++i) {
    uint64_t id = 0;
    CHAT_TRY_ASSIGN(id, r.u64());
    ids.push_back(id);
  }
  return ids;
}

void putIds(ByteWriter& w, const std::vector<uint64_t>& ids) {
  w.u32(static_cast<uint32_t>(ids.size()));
  for (uint64_t id : ids) {
    w.u64(id);
  }
}

Result<Operation> decodeBody(uint8_t kind, ByteReader& r) {
  switch (static_cast<OperationKind>(kind)) {
    case OperationKind::kCreateAccount: {
      CreateAccountOp op;
      CHAT_TRY_ASSIGN(op.username, r.str(kMaxField, "username"));
      CHAT_TRY_ASSIGN(op.passwordHash, r.str(kMaxField, "password hash"));
      CHAT_TRY_ASSIGN(op.createdAtMillis, r.i64());
      return Operation{op};
    }
    case OperationKind::kDeleteAccount: {
      DeleteAccountOp op;
      CHAT_TRY_ASSIGN(op.username, r.str(kMaxField, "username"));
      CHAT_TRY_ASSIGN(op.uid, optionalU64(r));
      return Operation{op};
    }
    case OperationKind::kStoreMessage: {
      StoreMessageOp op;
      CHAT_TRY_ASSIGN(op.sender, r.str(kMaxField, "sender"));
      CHAT_TRY_ASSIGN(op.recipient, r.str(kMaxField, "recipient"));
      CHAT_TRY_ASSIGN(op.body, r.str(kMaxField, "body"));
      CHAT_TRY_ASSIGN(op.sentAtMillis, r.i64());
      CHAT_TRY_ASSIGN(op.requestId, r.u64());
      CHAT_TRY_ASSIGN(op.senderUid, optionalU64(r));
      return Operation{op};
    }
    case OperationKind::kMarkDelivered: {
      MarkDeliveredOp op;
      CHAT_TRY_ASSIGN(op.recipient, r.str(kMaxField, "recipient"));
      CHAT_TRY_ASSIGN(op.ids, readIds(r));
      CHAT_TRY_ASSIGN(op.atMillis, r.i64());
      CHAT_TRY_ASSIGN(op.recipientUid, optionalU64(r));
      return Operation{op};
    }
    case OperationKind::kSetLastSeen: {
      SetLastSeenOp op;
      CHAT_TRY_ASSIGN(op.username, r.str(kMaxField, "username"));
      CHAT_TRY_ASSIGN(op.atMillis, r.i64());
      CHAT_TRY_ASSIGN(op.uid, optionalU64(r));
      return Operation{op};
    }
    case OperationKind::kNoOp:
      return Operation{NoOp{}};
    case OperationKind::kEndSessions: {
      EndSessionsOp op;
      CHAT_TRY_ASSIGN(op.username, r.str(kMaxField, "username"));
      CHAT_TRY_ASSIGN(op.uid, r.u64());
      CHAT_TRY_ASSIGN(op.atMillis, r.i64());
      return Operation{op};
    }
    case OperationKind::kCreateRoom: {
      CreateRoomOp op;
      CHAT_TRY_ASSIGN(op.owner, r.str(kMaxField, "owner"));
      CHAT_TRY_ASSIGN(op.ownerUid, r.u64());
      CHAT_TRY_ASSIGN(op.room, r.str(kMaxField, "room"));
      uint8_t policy = 0;
      CHAT_TRY_ASSIGN(policy, r.u8());
      if (policy > static_cast<uint8_t>(RoomPolicy::kInviteByOwner)) {
        return Status::corruption("unknown room policy " + std::to_string(policy));
      }
      op.policy = static_cast<RoomPolicy>(policy);
      CHAT_TRY_ASSIGN(op.atMillis, r.i64());
      return Operation{op};
    }
    case OperationKind::kJoinRoom:
    case OperationKind::kLeaveRoom: {
      std::string username;
      uint64_t uid = 0;
      std::string room;
      int64_t at = 0;
      CHAT_TRY_ASSIGN(username, r.str(kMaxField, "username"));
      CHAT_TRY_ASSIGN(uid, r.u64());
      CHAT_TRY_ASSIGN(room, r.str(kMaxField, "room"));
      CHAT_TRY_ASSIGN(at, r.i64());
      if (static_cast<OperationKind>(kind) == OperationKind::kJoinRoom) {
        return Operation{JoinRoomOp{username, uid, room, at}};
      }
      return Operation{LeaveRoomOp{username, uid, room, at}};
    }
    case OperationKind::kInviteToRoom: {
      InviteToRoomOp op;
      CHAT_TRY_ASSIGN(op.inviter, r.str(kMaxField, "inviter"));
      CHAT_TRY_ASSIGN(op.inviterUid, r.u64());
      CHAT_TRY_ASSIGN(op.room, r.str(kMaxField, "room"));
      CHAT_TRY_ASSIGN(op.invitee, r.str(kMaxField, "invitee"));
      CHAT_TRY_ASSIGN(op.atMillis, r.i64());
      return Operation{op};
    }
    case OperationKind::kStoreRoomMessage: {
      StoreRoomMessageOp op;
      CHAT_TRY_ASSIGN(op.sender, r.str(kMaxField, "sender"));
      CHAT_TRY_ASSIGN(op.senderUid, r.u64());
      CHAT_TRY_ASSIGN(op.room, r.str(kMaxField, "room"));
      CHAT_TRY_ASSIGN(op.body, r.str(kMaxField, "body"));
      CHAT_TRY_ASSIGN(op.sentAtMillis, r.i64());
      CHAT_TRY_ASSIGN(op.requestId, r.u64());
      return Operation{op};
    }
    case OperationKind::kSetReadMarker: {
      SetReadMarkerOp op;
      CHAT_TRY_ASSIGN(op.username, r.str(kMaxField, "username"));
      CHAT_TRY_ASSIGN(op.uid, r.u64());
      CHAT_TRY_ASSIGN(op.peer, r.str(kMaxField, "peer"));
      CHAT_TRY_ASSIGN(op.upToId, r.u64());
      CHAT_TRY_ASSIGN(op.atMillis, r.i64());
      return Operation{op};
    }
    case OperationKind::kAckBatch: {
      AckBatchOp op;
      CHAT_TRY_ASSIGN(op.atMillis, r.i64());
      uint32_t n = 0;
      CHAT_TRY_ASSIGN(n, r.u32());
      // An entry is at least a name length, a uid and a count.
      if (n > kMaxIds || size_t{n} * 16 > r.remaining()) {
        return Status::corruption("ack batch of " + std::to_string(n) + " entries does not fit");
      }
      op.entries.resize(n);
      for (auto& e : op.entries) {
        CHAT_TRY_ASSIGN(e.recipient, r.str(kMaxField, "recipient"));
        CHAT_TRY_ASSIGN(e.recipientUid, r.u64());
        CHAT_TRY_ASSIGN(e.ids, readIds(r));
      }
      return Operation{op};
    }
  }
  return Status::corruption("unknown operation kind " + std::to_string(kind));
}

void putOperation(ByteWriter& w, const Operation& op) {
  w.u8(static_cast<uint8_t>(kindOf(op)));
  std::visit(Overloaded{
                 [&](const CreateAccountOp& o) {
                   w.str(o.username);
                   w.str(o.passwordHash);
                   w.i64(o.createdAtMillis);
                 },
                 [&](const DeleteAccountOp& o) {
                   w.str(o.username);
                   w.u64(o.uid);
                 },
                 [&](const StoreMessageOp& o) {
                   w.str(o.sender);
                   w.str(o.recipient);
                   w.str(o.body);
                   w.i64(o.sentAtMillis);
                   w.u64(o.requestId);
                   w.u64(o.senderUid);
                 },
                 [&](const MarkDeliveredOp& o) {
                   w.str(o.recipient);
                   putIds(w, o.ids);
                   w.i64(o.atMillis);
                   w.u64(o.recipientUid);
                 },
                 [&](const SetLastSeenOp& o) {
                   w.str(o.username);
                   w.i64(o.atMillis);
                   w.u64(o.uid);
                 },
                 [&](const NoOp&) {},
                 [&](const EndSessionsOp& o) {
                   w.str(o.username);
                   w.u64(o.uid);
                   w.i64(o.atMillis);
                 },
                 [&](const CreateRoomOp& o) {
                   w.str(o.owner);
                   w.u64(o.ownerUid);
                   w.str(o.room);
                   w.u8(static_cast<uint8_t>(o.policy));
                   w.i64(o.atMillis);
                 },
                 [&](const JoinRoomOp& o) {
                   w.str(o.username);
                   w.u64(o.uid);
                   w.str(o.room);
                   w.i64(o.atMillis);
                 },
                 [&](const LeaveRoomOp& o) {
                   w.str(o.username);
                   w.u64(o.uid);
                   w.str(o.room);
                   w.i64(o.atMillis);
                 },
                 [&](const InviteToRoomOp& o) {
                   w.str(o.inviter);
                   w.u64(o.inviterUid);
                   w.str(o.room);
                   w.str(o.invitee);
                   w.i64(o.atMillis);
                 },
                 [&](const StoreRoomMessageOp& o) {
                   w.str(o.sender);
                   w.u64(o.senderUid);
                   w.str(o.room);
                   w.str(o.body);
                   w.i64(o.sentAtMillis);
                   w.u64(o.requestId);
                 },
                 [&](const SetReadMarkerOp& o) {
                   w.str(o.username);
                   w.u64(o.uid);
                   w.str(o.peer);
                   w.u64(o.upToId);
                   w.i64(o.atMillis);
                 },
                 [&](const AckBatchOp& o) {
                   w.i64(o.atMillis);
                   w.u32(static_cast<uint32_t>(o.entries.size()));
                   for (const auto& e : o.entries) {
                     w.str(e.recipient);
                     w.u64(e.recipientUid);
                     putIds(w, e.ids);
                   }
                 },
             },
             op);
}

}  // namespace

std::vector<uint8_t> encodeOperation(const Operation& op) {
  ByteWriter w;
  putOperation(w, op);
  return w.take();
}

Result<Operation> decodeOperation(std::span<const uint8_t> bytes) {
  if (bytes.empty()) {
    return Operation{NoOp{}};  // what a new leader appends (RaftCore), encoded as nothing
  }
  ByteReader r(bytes);
  uint8_t kind = 0;
  CHAT_TRY_ASSIGN(kind, r.u8());
  auto op = decodeBody(kind, r);
  if (!op) {
    return op.error();
  }
  CHAT_RETURN_IF_ERROR(r.expectEnd());
  return op;
}

const char* operationName(const Operation& op) {
  switch (kindOf(op)) {
    case OperationKind::kCreateAccount:
      return "create-account";
    case OperationKind::kDeleteAccount:
      return "delete-account";
    case OperationKind::kStoreMessage:
      return "store-message";
    case OperationKind::kMarkDelivered:
      return "mark-delivered";
    case OperationKind::kSetLastSeen:
      return "set-last-seen";
    case OperationKind::kNoOp:
      return "no-op";
    case OperationKind::kEndSessions:
      return "end-sessions";
    case OperationKind::kCreateRoom:
      return "create-room";
    case OperationKind::kJoinRoom:
      return "join-room";
    case OperationKind::kLeaveRoom:
      return "leave-room";
    case OperationKind::kInviteToRoom:
      return "invite-to-room";
    case OperationKind::kStoreRoomMessage:
      return "store-room-message";
    case OperationKind::kSetReadMarker:
      return "set-read-marker";
    case OperationKind::kAckBatch:
      return "ack-batch";
  }
  return "unknown";
}

}  // namespace chat::storage
