// The protocol's vocabulary: versions, opcodes, reply codes and limits. docs/protocol.md is
// the reference for each; numbers here are wire values and must never be renumbered.
// Thread contract: constants and pure functions.
#ifndef CHAT_PROTOCOL_WIRE_TYPES_H_
#define CHAT_PROTOCOL_WIRE_TYPES_H_

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "chat/common/status.h"

namespace chat::protocol {

inline constexpr uint8_t kBinaryVersion = 4;  // frames (3: resume, session tokens; 4: rooms)
inline constexpr uint8_t kLineVersion = 1;    // the original text protocol

// Requests keep the original numbering (0..6); later operations take the next numbers.
// Server pushes live at 128 and above and always carry request id 0.
enum class Opcode : uint16_t {
  kCreate = 0,
  kList = 1,
  kLogin = 2,
  kSend = 3,
  kDeleteAccount = 4,
  kDeliver = 5,
  kHelp = 6,
  kLogout = 7,
  kHistory = 8,
  kAck = 9,
  kStatus = 10,
  kPing = 11,
  kResume = 12,
  kTyping = 13,
  kCreateRoom = 14,
  kJoinRoom = 15,
  kLeaveRoom = 16,
  kInviteToRoom = 17,
  kListRooms = 18,
  kRoomMembers = 19,
  kConversations = 20,
  kMarkRead = 21,
  kPushMessage = 128,
  kPushPresence = 129,
  kPushLeader = 130,
  kPushDelivered = 131,
  kPushSessionEnded = 132,
  kPushTyping = 133,
  kPushRoom = 134,
};

// Known opcode for a wire value, or nullopt.
std::optional<Opcode> opcodeFromWire(uint16_t value);
const char* opcodeName(Opcode op);
constexpr bool isPush(Opcode op) {
  return static_cast<uint16_t>(op) >= 128;
}

// Reply codes: 0 is success; every other code comes with a human sentence.
enum class ErrorCode : uint16_t {
  kOk = 0,
  kMalformed = 1,
  kUnsupportedVersion = 2,
  kNoSuchUser = 3,
  kUsernameTaken = 4,
  kWrongPassword = 5,
  kNotLoggedIn = 6,
  kAccountBusy = 7,
  kInvalidUsername = 8,
  kInvalidPassword = 9,
  kInvalidMessage = 10,
  kUnknownOpcode = 11,
  kTooLarge = 12,
  kNotLeader = 13,
  kUnavailable = 14,
  kInternal = 15,
  kAlreadyLoggedIn = 16,
  kNotSupported = 17,
  kSessionExpired = 18,
  kTooManyAttempts = 19,  // password guessing slowed down: wait, then try again
  kRecipientFull = 20,    // the recipient has too many messages waiting: try again later
  kNoSuchRoom = 21,
  kRoomNameTaken = 22,
  kNotMember = 23,   // the request needs membership of the room
  kInviteOnly = 24,  // the room's policy refuses it (join without invitation, invite by a member)
  kRoomLimit = 25,   // members per room or rooms per account
};

// Who may join a room and who may invite to it (the wire value of the policy byte).
enum class RoomAccess : uint8_t {
  kOpen = 0,             // anyone may join; members may invite
  kInviteByMembers = 1,  // by invitation only; any member may invite
  kInviteByOwner = 2,    // by invitation only; only the owner may invite
};
// "open", "invite", "owner-invites"; and back (nullopt for other words).
const char* roomAccessName(RoomAccess access);
std::optional<RoomAccess> roomAccessFromName(std::string_view name);

const char* errorCodeName(ErrorCode code);
// Any wire value maps to a code; values we do not know read as kInternal.
ErrorCode errorCodeFromWire(uint16_t value);

// Limits enforced on input. Defaults are documented in docs/protocol.md; the frame limit is
// configurable on the node (max_frame_bytes).
struct Limits {
  size_t maxFrameBytes = size_t{64} * 1024;  // the length field's value, header included
  size_t maxUsernameBytes = 32;
  size_t maxPasswordBytes = 128;
  size_t maxBodyBytes = 4000;
  size_t maxPatternBytes = 64;
  size_t maxLineBytes = size_t{8} * 1024;
  uint32_t maxPageSize = 500;  // list and history pages
  uint32_t maxAckIds = 4096;
};

// Username: 1..maxUsernameBytes of [A-Za-z0-9_.-], starting with a letter or digit.
// Returns kInvalidArgument with a sentence saying which rule was broken.
Status validateUsername(std::string_view name, const Limits& limits);
// The first line of a message body for a list: up to the first newline, at most `maxBytes`
// bytes (cut on a UTF-8 boundary, "…" added when cut).
std::string firstLineOf(std::string_view body, size_t maxBytes = 80);
// Room name: '#' followed by a valid username (the same characters and length).
Status validateRoomName(std::string_view name, const Limits& limits);
// True when `name` names a room (starts with '#'), not a user.
inline bool isRoomName(std::string_view name) {
  return !name.empty() && name.front() == '#';
}
// Password: 1..maxPasswordBytes of UTF-8 with no control characters.
Status validatePassword(std::string_view password, const Limits& limits);
// Body: 1..maxBodyBytes of UTF-8; no NUL. Newlines and tabs are allowed (binary mode).
Status validateBody(std::string_view body, const Limits& limits);
// Pattern for list: empty (everything) or up to maxPatternBytes of username characters, '*', '?'
// (for rooms, a leading '#' too).
Status validatePattern(std::string_view pattern, const Limits& limits);
// Usernames are case-insensitive (ASCII): true when `a` and `b` name the same account.
bool sameUsername(std::string_view a, std::string_view b);
// Shell-style match of `name` against `pattern` with '*' (any run) and '?' (one character).
bool wildcardMatch(std::string_view pattern, std::string_view name);

}  // namespace chat::protocol

#endif  // CHAT_PROTOCOL_WIRE_TYPES_H_
