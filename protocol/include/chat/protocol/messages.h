// The typed view of every request, response and push of the protocol. These are plain
// values; message_codec.h turns them into frame payloads and back, line_mode.h into text.
// Thread contract: plain values.
#ifndef CHAT_PROTOCOL_MESSAGES_H_
#define CHAT_PROTOCOL_MESSAGES_H_

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "chat/protocol/wire_types.h"

namespace chat::protocol {

// A stored message as clients see it. `id` is the server's sequence: unique and increasing in
// commit order, so clients order by it and drop duplicates by it. A room message has the
// room's name ("#name") as its recipient.
struct ChatMessage {
  uint64_t id = 0;
  std::string sender;
  std::string recipient;
  std::string body;
  int64_t sentAtMillis = 0;
  bool delivered = false;
  bool operator==(const ChatMessage&) const = default;
};

struct UserEntry {
  std::string name;
  bool online = false;
  int64_t lastSeenMillis = 0;  // 0 = never logged in
  bool operator==(const UserEntry&) const = default;
};

struct RoomEntry {
  std::string name;  // "#name"
  RoomAccess access = RoomAccess::kOpen;
  uint32_t members = 0;
  bool joined = false;  // the caller is a member
  std::string owner;
  bool operator==(const RoomEntry&) const = default;
};

// One node of the cluster as the answering node sees it.
struct PeerStatus {
  uint32_t id = 0;
  std::string clientAddress;  // host:port clients connect to
  std::string role;           // leader, follower, candidate, unreachable
  uint64_t matchIndex = 0;
  bool reachable = false;
  bool operator==(const PeerStatus&) const = default;
};

struct NodeStatus {
  uint32_t nodeId = 0;
  std::string role;  // leader, follower, candidate, standalone
  uint64_t epoch = 0;
  uint64_t commitIndex = 0;
  uint64_t appliedIndex = 0;
  int64_t uptimeMillis = 0;
  uint32_t sessions = 0;
  uint32_t connections = 0;
  uint64_t residentBytes = 0;  // the node process's resident memory
  std::string leaderAddress;   // host:port of the leader, empty when unknown
  std::string lastElection;    // when and why, empty when none
  std::vector<PeerStatus> peers;
  bool operator==(const NodeStatus&) const = default;
};

// ---- Requests (client -> server) ----
struct CreateRequest {
  std::string username;
  std::string password;
};
struct ListRequest {
  std::string pattern;  // empty lists everybody
  uint32_t offset = 0;
  uint32_t limit = 100;
};
struct LoginRequest {
  std::string username;
  std::string password;
};
struct SendRequest {
  std::string recipient;
  std::string body;
};
struct DeleteAccountRequest {
  std::string username;
  std::string password;
};
// Hands over waiting messages of the logged-in account; max 0 means all.
// Line mode carries credentials instead of a session (the original protocol did).
struct DeliverRequest {
  uint32_t max = 0;
  std::string username;  // line mode only; empty in binary mode
  std::string password;  // line mode only
};
struct HelpRequest {};
struct LogoutRequest {};
// Messages between the logged-in account and `peer`, newest page first: ids below
// `beforeId` (0 = from the newest), at most `limit`, returned oldest first.
struct HistoryRequest {
  std::string peer;
  uint64_t beforeId = 0;
  uint32_t limit = 50;
};
struct AckRequest {
  std::vector<uint64_t> ids;
};
struct StatusRequest {};
struct PingRequest {
  uint64_t nonce = 0;
};
// Takes up a session again on a new connection (after a failover or a broken connection)
// with the token of an earlier login reply, without the password. Binary mode only.
struct ResumeRequest {
  std::string token;
};
// The user is typing to `peer`: the server tells the peer (a typing push) if it is online.
// Not stored, not replicated; a client sends it at most every few seconds while typing.
struct TypingRequest {
  std::string peer;
};

// Rooms. A send, a history or a typing notice whose peer starts with '#' is about a room.
struct CreateRoomRequest {
  std::string room;
  RoomAccess access = RoomAccess::kOpen;
};
struct JoinRoomRequest {
  std::string room;
};
struct LeaveRoomRequest {
  std::string room;
};
struct InviteToRoomRequest {
  std::string room;
  std::string user;
};
// Rooms the caller may see (open ones and its own), by name.
struct ListRoomsRequest {
  std::string pattern;  // '*' and '?'; a leading '#' optional; empty lists all
  uint32_t offset = 0;
  uint32_t limit = 100;
};
struct RoomMembersRequest {
  std::string room;
};
// The caller's conversations (private ones and its rooms), newest first.
struct ConversationsRequest {
  uint32_t offset = 0;
  uint32_t limit = 100;
};
// The caller has seen its conversation with `peer` (a user or "#room") up to message
// `upToId`: its read marker moves there (never back), on every node. Clients coalesce these.
struct MarkReadRequest {
  std::string peer;
  uint64_t upToId = 0;
};

using Request = std::variant<CreateRequest, ListRequest, LoginRequest, SendRequest,
                             DeleteAccountRequest, DeliverRequest, HelpRequest, LogoutRequest,
                             HistoryRequest, AckRequest, StatusRequest, PingRequest,
                             ResumeRequest, TypingRequest, CreateRoomRequest, JoinRoomRequest,
                             LeaveRoomRequest, InviteToRoomRequest, ListRoomsRequest,
                             RoomMembersRequest, ConversationsRequest, MarkReadRequest>;

Opcode requestOpcode(const Request& request);

// ---- Replies (server -> client), one per request, carrying its request id ----
struct EmptyReply {};
struct ListReply {
  uint32_t total = 0;  // matches in all, for paging
  std::vector<UserEntry> users;
};
// The reply to login and to resume.
struct LoginReply {
  uint32_t waiting = 0;
  // Opaque; resumes this session on any node of the cluster until it expires (binary mode
  // only; empty in line mode). Clients keep it in memory only.
  std::string sessionToken;
};
struct SendReply {
  uint64_t messageId = 0;
  bool recipientOnline = false;  // pushed at once (a room: to at least one member)
  int64_t sentAtMillis = 0;
  // How many it waits for (1 for a private message; a room's other members), and how many of
  // them were online when it was stored. 0 and 0 for a retried send stored before.
  uint32_t recipients = 0;
  uint32_t recipientsOnline = 0;
};
struct DeleteAccountReply {
  uint32_t discarded = 0;  // waiting messages that went with the account
};
struct DeliverReply {
  std::vector<ChatMessage> messages;
  uint32_t remaining = 0;
};
struct HelpReply {
  std::string text;
};
struct HistoryReply {
  std::vector<ChatMessage> messages;
  bool hasMore = false;
};
struct AckReply {
  uint32_t acked = 0;
};
struct StatusReply {
  NodeStatus status;
};
struct PingReply {
  uint64_t nonce = 0;
};
struct RoomListReply {
  uint32_t total = 0;  // matches in all, for paging
  std::vector<RoomEntry> rooms;
};
struct RoomMembersReply {
  RoomEntry room;
  std::vector<UserEntry> members;  // in the order they joined
};
struct ConversationEntry {
  std::string peer;  // a user, or "#room"
  bool isRoom = false;
  uint64_t lastId = 0;  // 0: a room nobody wrote in yet (then the next three are empty)
  std::string lastSender;
  int64_t lastAtMillis = 0;
  std::string firstLine;  // of the last message, at most 80 bytes ("…" when cut)
  uint32_t unread = 0;     // from others, above the read marker, among the newest 100
  bool moreUnread = false;  // there may be more ("99+")
  uint64_t readUpTo = 0;
  bool operator==(const ConversationEntry&) const = default;
};
struct ConversationsReply {
  uint32_t total = 0;
  std::vector<ConversationEntry> conversations;
};

// The body of a "not leader" error (code 13): where to go instead. nodeId 0 and an empty
// address mean no leader is known (an election is under way): retry shortly.
struct NotLeaderReply {
  uint32_t nodeId = 0;
  std::string address;  // the leader's client host:port
};

using ReplyBody =
    std::variant<EmptyReply, ListReply, LoginReply, SendReply, DeleteAccountReply, DeliverReply,
                 HelpReply, HistoryReply, AckReply, StatusReply, PingReply, NotLeaderReply,
                 RoomListReply, RoomMembersReply, ConversationsReply>;

struct Response {
  uint64_t requestId = 0;
  Opcode opcode = Opcode::kPing;
  ErrorCode code = ErrorCode::kOk;
  std::string error;  // a sentence for people when code != kOk: what went wrong, what to do
  ReplyBody body;     // EmptyReply on errors
  bool isOk() const { return code == ErrorCode::kOk; }

  static Response failure(uint64_t requestId, Opcode opcode, ErrorCode code, std::string error) {
    return Response{requestId, opcode, code, std::move(error), EmptyReply{}};
  }
};

// ---- Pushes (server -> client, request id 0) ----
struct MessagePush {
  ChatMessage message;
};
struct PresencePush {
  std::string user;
  bool online = false;
  int64_t atMillis = 0;
};
struct LeaderPush {
  uint32_t nodeId = 0;
  std::string clientAddress;
  uint64_t epoch = 0;
};
// Tells a sender that the recipient acknowledged its message.
struct DeliveredPush {
  uint64_t messageId = 0;
  std::string recipient;
  int64_t atMillis = 0;
};

// The server ended this session (the account logged in elsewhere or was deleted); the
// connection closes after it. Clients should not log back in by themselves.
struct SessionEndedPush {
  std::string reason;
};
// `user` is typing to this client's user, or in `room` when set (for a few seconds from now).
struct TypingPush {
  std::string user;
  std::string room;
};
// A room's membership changed: `user` joined, left, was invited by `by` (added), or became
// its owner. Sent to the room's online members (and to the one invited).
enum class RoomEvent : uint8_t { kJoined = 0, kLeft = 1, kInvited = 2, kOwner = 3 };
struct RoomPush {
  std::string room;
  std::string user;
  RoomEvent event = RoomEvent::kJoined;
  std::string by;  // who invited (kInvited); else empty
  int64_t atMillis = 0;
  bool operator==(const RoomPush&) const = default;
};

using Push = std::variant<MessagePush, PresencePush, LeaderPush, DeliveredPush, SessionEndedPush,
                          TypingPush, RoomPush>;

Opcode pushOpcode(const Push& push);

}  // namespace chat::protocol

#endif  // CHAT_PROTOCOL_MESSAGES_H_
