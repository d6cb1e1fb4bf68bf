#include "chat/protocol/message_codec.h"

#include <type_traits>

#include "chat/common/overloaded.h"
#include "chat/protocol/byte_io.h"
#include "message_opcodes.h"

namespace chat::protocol {

namespace {

// Reads fields in order and remembers the first failure, so decoders read like the format.
class FieldReader {
 public:
  FieldReader(std::span<const uint8_t> bytes, const Limits& limits)
      : reader_(bytes), limits_(limits) {}

  uint8_t u8() { return take(reader_.u8(), uint8_t{0}); }
  uint16_t u16() { return take(reader_.u16(), uint16_t{0}); }
  bool flag() { return u8() != 0; }
  uint32_t u32() { return take(reader_.u32(), uint32_t{0}); }
  uint64_t u64() { return take(reader_.u64(), uint64_t{0}); }
  int64_t i64() { return take(reader_.i64(), int64_t{0}); }
  // Strings are capped by the frame limit here; semantic limits are the service's job.
  std::string str(std::string_view what) {
    return take(reader_.str(limits_.maxFrameBytes, what), std::string());
  }
  // A u32 count followed by that many items; refuses counts the remaining bytes cannot hold.
  uint32_t count(size_t minItemBytes, uint32_t maxItems) {
    uint32_t n = u32();
    if (failed_) {
      return 0;
    }
    if (n > maxItems || size_t{n} * minItemBytes > reader_.remaining()) {
      fail("list of " + std::to_string(n) + " items does not fit the frame");
      return 0;
    }
    return n;
  }
  void fail(std::string message) {
    if (!failed_) {
      failed_ = true;
      error_ = std::move(message);
    }
  }
  // The failure, if any field failed or bytes are left over.
  std::optional<DecodeFailure> finish() {
    if (!failed_) {
      Status end = reader_.expectEnd();
      if (!end.isOk()) {
        fail(end.message());
      }
    }
    if (failed_) {
      return DecodeFailure{ErrorCode::kMalformed, error_};
    }
    return std::nullopt;
  }
  bool failed() const { return failed_; }
  const Limits& limits() const { return limits_; }

 private:
  template <typename T>
  T take(Result<T> r, T fallback) {
    if (failed_) {
      return fallback;
    }
    if (!r) {
      fail(r.error().message());
      return fallback;
    }
    return std::move(r).value();
  }

  ByteReader reader_;
  const Limits& limits_;
  bool failed_ = false;
  std::string error_;
};

constexpr size_t kMinMessageBytes = 8 + 4 + 4 + 4 + 8 + 1;

void putMessage(ByteWriter& w, const ChatMessage& m) {
  w.u64(m.id);
  w.str(m.sender);
  w.str(m.recipient);
  w.str(m.body);
  w.i64(m.sentAtMillis);
  w.u8(m.delivered ? 1 : 0);
}

ChatMessage getMessage(FieldReader& r) {
  ChatMessage m;
  m.id = r.u64();
  m.sender = r.str("sender");
  m.recipient = r.str("recipient");
  m.body = r.str("body");
  m.sentAtMillis = r.i64();
  m.delivered = r.flag();
  return m;
}

void putMessages(ByteWriter& w, const std::vector<ChatMessage>& messages) {
  w.u32(static_cast<uint32_t>(messages.size()));
  for (const auto& m : messages) {
    putMessage(w, m);
  }
}

std::vector<ChatMessage> getMessages(FieldReader& r) {
  uint32_t n = r.count(kMinMessageBytes, UINT32_MAX);
  std::vector<ChatMessage> out;
  out.reserve(n);
  for (uint32_t i = 0; i < n && !r.failed(); ++i) {
    out.push_back(getMessage(r));
  }
  return out;
}

void putStatus(ByteWriter& w, const NodeStatus& s) {
  w.u32(s.nodeId);
  w.str(s.role);
  w.u64(s.epoch);
  w.u64(s.commitIndex);
  w.u64(s.appliedIndex);
  w.i64(s.uptimeMillis);
  w.u32(s.sessions);
  w.u32(s.connections);
  w.u64(s.residentBytes);
  w.str(s.leaderAddress);
  w.str(s.lastElection);
  w.u32(static_cast<uint32_t>(s.peers.size()));
  for (const auto& p : s.peers) {
    w.u32(p.id);
    w.str(p.clientAddress);
    w.str(p.role);
    w.u64(p.matchIndex);
    w.u8(p.reachable ? 1 : 0);
  }
}

NodeStatus getStatus(FieldReader& r) {
  NodeStatus s;
  s.nodeId = r.u32();
  s.role = r.str("role");
  s.epoch = r.u64();
  s.commitIndex = r.u64();
  s.appliedIndex = r.u64();
  s.uptimeMillis = r.i64();
  s.sessions = r.u32();
  s.connections = r.u32();
  s.residentBytes = r.u64();
  s.leaderAddress = r.str("leader address");
  s.lastElection = r.str("last election");
  uint32_t n = r.count(4 + 4 + 4 + 8 + 1, 1024);
  for (uint32_t i = 0; i < n && !r.failed(); ++i) {
    PeerStatus p;
    p.id = r.u32();
    p.clientAddress = r.str("peer address");
    p.role = r.str("peer role");
    p.matchIndex = r.u64();
    p.reachable = r.flag();
    s.peers.push_back(std::move(p));
  }
  return s;
}

void putRoomEntry(ByteWriter& w, const RoomEntry& e) {
  w.str(e.name);
  w.u8(static_cast<uint8_t>(e.access));
  w.u32(e.members);
  w.u8(e.joined ? 1 : 0);
  w.str(e.owner);
}

constexpr size_t kMinRoomEntryBytes = 4 + 1 + 4 + 1 + 4;

RoomAccess getAccess(FieldReader& r) {
  uint8_t v = r.u8();
  if (v > static_cast<uint8_t>(RoomAccess::kInviteByOwner)) {
    r.fail("unknown room access " + std::to_string(v));
  }
  return static_cast<RoomAccess>(v);
}

RoomEntry getRoomEntry(FieldReader& r) {
  RoomEntry e;
  e.name = r.str("room");
  e.access = getAccess(r);
  e.members = r.u32();
  e.joined = r.flag();
  e.owner = r.str("owner");
  return e;
}

void putUser(ByteWriter& w, const UserEntry& u) {
  w.str(u.name);
  w.u8(u.online ? 1 : 0);
  w.i64(u.lastSeenMillis);
}

std::vector<UserEntry> getUsers(FieldReader& r) {
  uint32_t n = r.count(4 + 1 + 8, UINT32_MAX);
  std::vector<UserEntry> users;
  for (uint32_t i = 0; i < n && !r.failed(); ++i) {
    UserEntry u;
    u.name = r.str("name");
    u.online = r.flag();
    u.lastSeenMillis = r.i64();
    users.push_back(std::move(u));
  }
  return users;
}

void putRequest(ByteWriter& w, const Request& request) {
  std::visit(Overloaded{
                 [&](const CreateRequest& r) {
                   w.str(r.username);
                   w.str(r.password);
                 },
                 [&](const ListRequest& r) {
                   w.str(r.pattern);
                   w.u32(r.offset);
                   w.u32(r.limit);
                 },
                 [&](const LoginRequest& r) {
                   w.str(r.username);
                   w.str(r.password);
                 },
                 [&](const SendRequest& r) {
                   w.str(r.recipient);
                   w.str(r.body);
                 },
                 [&](const DeleteAccountRequest& r) {
                   w.str(r.username);
                   w.str(r.password);
                 },
                 [&](const DeliverRequest& r) { w.u32(r.max); },
                 [&](const HelpRequest&) {},
                 [&](const LogoutRequest&) {},
                 [&](const HistoryRequest& r) {
                   w.str(r.peer);
                   w.u64(r.beforeId);
                   w.u32(r.limit);
                 },
                 [&](const AckRequest& r) {
                   w.u32(static_cast<uint32_t>(r.ids.size()));
                   for (uint64_t id : r.ids) {
                     w.u64(id);
                   }
                 },
                 [&](const StatusRequest&) {},
                 [&](const PingRequest& r) { w.u64(r.nonce); },
                 [&](const ResumeRequest& r) { w.str(r.token); },
                 [&](const TypingRequest& r) { w.str(r.peer); },
                 [&](const CreateRoomRequest& r) {
                   w.str(r.room);
                   w.u8(static_cast<uint8_t>(r.access));
                 },
                 [&](const JoinRoomRequest& r) { w.str(r.room); },
                 [&](const LeaveRoomRequest& r) { w.str(r.room); },
                 [&](const InviteToRoomRequest& r) {
                   w.str(r.room);
                   w.str(r.user);
                 },
                 [&](const ListRoomsRequest& r) {
                   w.str(r.pattern);
                   w.u32(r.offset);
                   w.u32(r.limit);
                 },
                 [&](const RoomMembersRequest& r) { w.str(r.room); },
                 [&](const ConversationsRequest& r) {
                   w.u32(r.offset);
                   w.u32(r.limit);
                 },
                 [&](const MarkReadRequest& r) {
                   w.str(r.peer);
                   w.u64(r.upToId);
                 },
             },
             request);
}

Request getRequest(Opcode op, FieldReader& r) {
  switch (op) {
    case Opcode::kCreate: {
      CreateRequest q;
      q.username = r.str("username");
      q.password = r.str("password");
      return q;
    }
    case Opcode::kList: {
      ListRequest q;
      q.pattern = r.str("pattern");
      q.offset = r.u32();
      q.limit = r.u32();
      return q;
    }
    case Opcode::kLogin: {
      LoginRequest q;
      q.username = r.str("username");
      q.password = r.str("password");
      return q;
    }
    case Opcode::kSend: {
      SendRequest q;
      q.recipient = r.str("recipient");
      q.body = r.str("body");
      return q;
    }
    case Opcode::kDeleteAccount: {
      DeleteAccountRequest q;
      q.username = r.str("username");
      q.password = r.str("password");
      return q;
    }
    case Opcode::kDeliver: {
      DeliverRequest q;
      q.max = r.u32();
      return q;
    }
    case Opcode::kHelp:
      return HelpRequest{};
    case Opcode::kLogout:
      return LogoutRequest{};
    case Opcode::kHistory: {
      HistoryRequest q;
      q.peer = r.str("peer");
      q.beforeId = r.u64();
      q.limit = r.u32();
      return q;
    }
    case Opcode::kAck: {
      AckRequest q;
      uint32_t n = r.count(8, r.limits().maxAckIds);
      q.ids.reserve(n);
      for (uint32_t i = 0; i < n && !r.failed(); ++i) {
        q.ids.push_back(r.u64());
      }
      return q;
    }
    case Opcode::kStatus:
      return StatusRequest{};
    case Opcode::kPing: {
      PingRequest q;
      q.nonce = r.u64();
      return q;
    }
    case Opcode::kResume: {
      ResumeRequest q;
      q.token = r.str("session token");
      return q;
    }
    case Opcode::kTyping: {
      TypingRequest q;
      q.peer = r.str("peer");
      return q;
    }
    case Opcode::kCreateRoom: {
      CreateRoomRequest q;
      q.room = r.str("room");
      q.access = getAccess(r);
      return q;
    }
    case Opcode::kJoinRoom:
      return JoinRoomRequest{r.str("room")};
    case Opcode::kLeaveRoom:
      return LeaveRoomRequest{r.str("room")};
    case Opcode::kInviteToRoom: {
      InviteToRoomRequest q;
      q.room = r.str("room");
      q.user = r.str("user");
      return q;
    }
    case Opcode::kListRooms: {
      ListRoomsRequest q;
      q.pattern = r.str("pattern");
      q.offset = r.u32();
      q.limit = r.u32();
      return q;
    }
    case Opcode::kRoomMembers:
      return RoomMembersRequest{r.str("room")};
    case Opcode::kConversations: {
      ConversationsRequest q;
      q.offset = r.u32();
      q.limit = r.u32();
      return q;
    }
    case Opcode::kMarkRead: {
      MarkReadRequest q;
      q.peer = r.str("peer");
      q.upToId = r.u64();
      return q;
    }
    default:
      break;
  }
  r.fail("opcode is not a request");
  return HelpRequest{};
}

void putReply(ByteWriter& w, const ReplyBody& body) {
  std::visit(Overloaded{
                 [&](const EmptyReply&) {},
                 [&](const ListReply& b) {
                   w.u32(b.total);
                   w.u32(static_cast<uint32_t>(b.users.size()));
                   for (const auto& u : b.users) {
                     putUser(w, u);
                   }
                 },
                 [&](const LoginReply& b) {
                   w.u32(b.waiting);
                   w.str(b.sessionToken);
                 },
                 [&](const SendReply& b) {
                   w.u64(b.messageId);
                   w.u8(b.recipientOnline ? 1 : 0);
                   w.i64(b.sentAtMillis);
                   w.u32(b.recipients);
                   w.u32(b.recipientsOnline);
                 },
                 [&](const DeleteAccountReply& b) { w.u32(b.discarded); },
                 [&](const DeliverReply& b) {
                   putMessages(w, b.messages);
                   w.u32(b.remaining);
                 },
                 [&](const HelpReply& b) { w.str(b.text); },
                 [&](const HistoryReply& b) {
                   putMessages(w, b.messages);
                   w.u8(b.hasMore ? 1 : 0);
                 },
                 [&](const AckReply& b) { w.u32(b.acked); },
                 [&](const StatusReply& b) { putStatus(w, b.status); },
                 [&](const PingReply& b) { w.u64(b.nonce); },
                 [&](const NotLeaderReply& b) {
                   w.u32(b.nodeId);
                   w.str(b.address);
                 },
                 [&](const RoomListReply& b) {
                   w.u32(b.total);
                   w.u32(static_cast<uint32_t>(b.rooms.size()));
                   for (const auto& e : b.rooms) {
                     putRoomEntry(w, e);
                   }
                 },
                 [&](const RoomMembersReply& b) {
                   putRoomEntry(w, b.room);
                   w.u32(static_cast<uint32_t>(b.members.size()));
                   for (const auto& u : b.members) {
                     putUser(w, u);
                   }
                 },
                 [&](const ConversationsReply& b) {
                   w.u32(b.total);
                   w.u32(static_cast<uint32_t>(b.conversations.size()));
                   for (const auto& c : b.conversations) {
                     w.str(c.peer);
                     w.u8(c.isRoom ? 1 : 0);
                     w.u64(c.lastId);
                     w.str(c.lastSender);
                     w.i64(c.lastAtMillis);
                     w.str(c.firstLine);
                     w.u32(c.unread);
                     w.u8(c.moreUnread ? 1 : 0);
                     w.u64(c.readUpTo);
                   }
                 },
             },
             body);
}

ReplyBody getReply(Opcode op, FieldReader& r) {
  switch (op) {
    case Opcode::kList: {
      ListReply b;
      b.total = r.u32();
      b.users = getUsers(r);
      return b;
    }
    case Opcode::kListRooms: {
      RoomListReply b;
      b.total = r.u32();
      uint32_t n = r.count(kMinRoomEntryBytes, UINT32_MAX);
      for (uint32_t i = 0; i < n && !r.failed(); ++i) {
        b.rooms.push_back(getRoomEntry(r));
      }
      return b;
    }
    case Opcode::kRoomMembers: {
      RoomMembersReply b;
      b.room = getRoomEntry(r);
      b.members = getUsers(r);
      return b;
    }
    case Opcode::kConversations: {
      ConversationsReply b;
      b.total = r.u32();
      uint32_t n = r.count(4 + 1 + 8 + 4 + 8 + 4 + 4 + 1 + 8, UINT32_MAX);
      for (uint32_t i = 0; i < n && !r.failed(); ++i) {
        ConversationEntry c;
        c.peer = r.str("peer");
        c.isRoom = r.flag();
        c.lastId = r.u64();
        c.lastSender = r.str("last sender");
        c.lastAtMillis = r.i64();
        c.firstLine = r.str("first line");
        c.unread = r.u32();
        c.moreUnread = r.flag();
        c.readUpTo = r.u64();
        b.conversations.push_back(std::move(c));
      }
      return b;
    }
    case Opcode::kLogin:
    case Opcode::kResume: {
      LoginReply b;
      b.waiting = r.u32();
      b.sessionToken = r.str("session token");
      return b;
    }
    case Opcode::kSend: {
      SendReply b;
      b.messageId = r.u64();
      b.recipientOnline = r.flag();
      b.sentAtMillis = r.i64();
      b.recipients = r.u32();
      b.recipientsOnline = r.u32();
      return b;
    }
    case Opcode::kDeleteAccount:
      return DeleteAccountReply{r.u32()};
    case Opcode::kDeliver: {
      DeliverReply b;
      b.messages = getMessages(r);
      b.remaining = r.u32();
      return b;
    }
    case Opcode::kHelp:
      return HelpReply{r.str("help text")};
    case Opcode::kHistory: {
      HistoryReply b;
      b.messages = getMessages(r);
      b.hasMore = r.flag();
      return b;
    }
    case Opcode::kAck:
      return AckReply{r.u32()};
    case Opcode::kStatus:
      return StatusReply{getStatus(r)};
    case Opcode::kPing:
      return PingReply{r.u64()};
    default:
      return EmptyReply{};
  }
}

Push getPush(Opcode op, FieldReader& r) {
  switch (op) {
    case Opcode::kPushMessage:
      return MessagePush{getMessage(r)};
    case Opcode::kPushPresence: {
      PresencePush p;
      p.user = r.str("user");
      p.online = r.flag();
      p.atMillis = r.i64();
      return p;
    }
    case Opcode::kPushLeader: {
      LeaderPush p;
      p.nodeId = r.u32();
      p.clientAddress = r.str("leader address");
      p.epoch = r.u64();
      return p;
    }
    case Opcode::kPushSessionEnded:
      return SessionEndedPush{r.str("reason")};
    case Opcode::kPushTyping: {
      TypingPush p;
      p.user = r.str("user");
      p.room = r.str("room");
      return p;
    }
    case Opcode::kPushRoom: {
      RoomPush p;
      p.room = r.str("room");
      p.user = r.str("user");
      uint8_t event = r.u8();
      if (event > static_cast<uint8_t>(RoomEvent::kOwner)) {
        r.fail("unknown room event " + std::to_string(event));
      }
      p.event = static_cast<RoomEvent>(event);
      p.by = r.str("by");
      p.atMillis = r.i64();
      return p;
    }
    default: {
      DeliveredPush p;
      p.messageId = r.u64();
      p.recipient = r.str("recipient");
      p.atMillis = r.i64();
      return p;
    }
  }
}

}  // namespace

Opcode requestOpcode(const Request& request) {
  return opcodeOf(request);
}

Opcode pushOpcode(const Push& push) {
  return opcodeOf(push);
}

void appendRequestFrame(uint64_t requestId, const Request& request, std::vector<uint8_t>& out) {
  ByteWriter w;
  putRequest(w, request);
  encodeFrame(static_cast<uint16_t>(requestOpcode(request)), requestId, w.bytes(), out);
}

void appendResponseFrame(const Response& response, std::vector<uint8_t>& out) {
  ByteWriter w;
  w.u16(static_cast<uint16_t>(response.code));
  w.str(response.error);
  if (response.isOk()) {
    putReply(w, response.body);
  } else if (response.code == ErrorCode::kNotLeader) {
    // Always a NotLeaderReply after this code, so that clients can rely on it.
    const auto* hint = std::get_if<NotLeaderReply>(&response.body);
    putReply(w, hint != nullptr ? ReplyBody{*hint} : ReplyBody{NotLeaderReply{}});
  }
  encodeFrame(static_cast<uint16_t>(response.opcode), response.requestId, w.bytes(), out);
}

void appendPushFrame(const Push& push, std::vector<uint8_t>& out) {
  ByteWriter w;
  std::visit(Overloaded{
                 [&](const MessagePush& p) { putMessage(w, p.message); },
                 [&](const PresencePush& p) {
                   w.str(p.user);
                   w.u8(p.online ? 1 : 0);
                   w.i64(p.atMillis);
                 },
                 [&](const LeaderPush& p) {
                   w.u32(p.nodeId);
                   w.str(p.clientAddress);
                   w.u64(p.epoch);
                 },
                 [&](const DeliveredPush& p) {
                   w.u64(p.messageId);
                   w.str(p.recipient);
                   w.i64(p.atMillis);
                 },
                 [&](const SessionEndedPush& p) { w.str(p.reason); },
                 [&](const TypingPush& p) {
                   w.str(p.user);
                   w.str(p.room);
                 },
                 [&](const RoomPush& p) {
                   w.str(p.room);
                   w.str(p.user);
                   w.u8(static_cast<uint8_t>(p.event));
                   w.str(p.by);
                   w.i64(p.atMillis);
                 },
             },
             push);
  encodeFrame(static_cast<uint16_t>(pushOpcode(push)), 0, w.bytes(), out);
}

Decoded<Request> decodeRequest(const Frame& frame, const Limits& limits) {
  auto op = opcodeFromWire(frame.opcode);
  if (!op || isPush(*op)) {
    return DecodeFailure{ErrorCode::kUnknownOpcode,
                         "opcode " + std::to_string(frame.opcode) +
                             " is not a request this server knows; send opcode 6 for help"};
  }
  FieldReader r(frame.payload, limits);
  Request request = getRequest(*op, r);
  if (auto failure = r.finish()) {
    failure->message =
        std::string("malformed ") + opcodeName(*op) + " request: " + failure->message;
    return *failure;
  }
  return request;
}

Decoded<ServerMessage> decodeServerFrame(const Frame& frame, const Limits& limits) {
  auto op = opcodeFromWire(frame.opcode);
  if (!op && frame.opcode >= static_cast<uint16_t>(Opcode::kPushMessage)) {
    return DecodeFailure{ErrorCode::kUnknownOpcode,
                         "server sent unknown push opcode " + std::to_string(frame.opcode)};
  }
  // A reply to a request with an opcode the server did not know echoes that opcode: it can
  // only be an error, which reads like any other.
  if (!op) {
    op = static_cast<Opcode>(frame.opcode);
  }
  FieldReader r(frame.payload, limits);
  if (isPush(*op)) {
    Push push = getPush(*op, r);
    if (auto failure = r.finish()) {
      return *failure;
    }
    return Decoded<ServerMessage>(std::in_place_index<0>, std::in_place_index<1>, std::move(push));
  }
  Response response;
  response.requestId = frame.requestId;
  response.opcode = *op;
  response.code = errorCodeFromWire(r.u16());
  response.error = r.str("error text");
  if (response.isOk()) {
    response.body = getReply(*op, r);
  } else if (response.code == ErrorCode::kNotLeader) {
    NotLeaderReply hint;
    hint.nodeId = r.u32();
    hint.address = r.str("leader address");
    response.body = std::move(hint);
  }
  if (auto failure = r.finish()) {
    return *failure;
  }
  return Decoded<ServerMessage>(std::in_place_index<0>, std::in_place_index<0>,
                                std::move(response));
}

}  // namespace chat::protocol
