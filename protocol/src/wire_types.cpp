#include "chat/protocol/wire_types.h"

#include <algorithm>

#include "chat/protocol/byte_io.h"

namespace chat::protocol {

std::optional<Opcode> opcodeFromWire(uint16_t value) {
  if (value <= static_cast<uint16_t>(Opcode::kMarkRead)) {
    return static_cast<Opcode>(value);
  }
  if (value >= static_cast<uint16_t>(Opcode::kPushMessage) &&
      value <= static_cast<uint16_t>(Opcode::kPushRoom)) {
    return static_cast<Opcode>(value);
  }
  return std::nullopt;
}

const char* opcodeName(Opcode op) {
  switch (op) {
    case Opcode::kCreate:
      return "create";
    case Opcode::kList:
      return "list";
    case Opcode::kLogin:
      return "login";
    case Opcode::kSend:
      return "send";
    case Opcode::kDeleteAccount:
      return "delete";
    case Opcode::kDeliver:
      return "deliver";
    case Opcode::kHelp:
      return "help";
    case Opcode::kLogout:
      return "logout";
    case Opcode::kHistory:
      return "history";
    case Opcode::kAck:
      return "ack";
    case Opcode::kStatus:
      return "status";
    case Opcode::kPing:
      return "ping";
    case Opcode::kResume:
      return "resume";
    case Opcode::kTyping:
      return "typing";
    case Opcode::kCreateRoom:
      return "create-room";
    case Opcode::kJoinRoom:
      return "join";
    case Opcode::kLeaveRoom:
      return "leave";
    case Opcode::kInviteToRoom:
      return "invite";
    case Opcode::kListRooms:
      return "rooms";
    case Opcode::kRoomMembers:
      return "members";
    case Opcode::kConversations:
      return "conversations";
    case Opcode::kMarkRead:
      return "read";
    case Opcode::kPushMessage:
      return "push-message";
    case Opcode::kPushPresence:
      return "push-presence";
    case Opcode::kPushLeader:
      return "push-leader";
    case Opcode::kPushDelivered:
      return "push-delivered";
    case Opcode::kPushSessionEnded:
      return "push-session-ended";
    case Opcode::kPushTyping:
      return "push-typing";
    case Opcode::kPushRoom:
      return "push-room";
  }
  return "unknown";
}

const char* errorCodeName(ErrorCode code) {
  switch (code) {
    case ErrorCode::kOk:
      return "ok";
    case ErrorCode::kMalformed:
      return "malformed request";
    case ErrorCode::kUnsupportedVersion:
      return "unsupported version";
    case ErrorCode::kNoSuchUser:
      return "no such user";
    case ErrorCode::kUsernameTaken:
      return "username taken";
    case ErrorCode::kWrongPassword:
      return "wrong password";
    case ErrorCode::kNotLoggedIn:
      return "not logged in";
    case ErrorCode::kAccountBusy:
      return "account busy";
    case ErrorCode::kInvalidUsername:
      return "invalid username";
    case ErrorCode::kInvalidPassword:
      return "invalid password";
    case ErrorCode::kInvalidMessage:
      return "invalid message";
    case ErrorCode::kUnknownOpcode:
      return "unknown opcode";
    case ErrorCode::kTooLarge:
      return "too large";
    case ErrorCode::kNotLeader:
      return "not leader";
    case ErrorCode::kUnavailable:
      return "unavailable";
    case ErrorCode::kInternal:
      return "internal error";
    case ErrorCode::kAlreadyLoggedIn:
      return "already logged in";
    case ErrorCode::kNotSupported:
      return "not supported";
    case ErrorCode::kSessionExpired:
      return "session expired";
    case ErrorCode::kTooManyAttempts:
      return "too many attempts";
    case ErrorCode::kRecipientFull:
      return "recipient full";
    case ErrorCode::kNoSuchRoom:
      return "no such room";
    case ErrorCode::kRoomNameTaken:
      return "room name taken";
    case ErrorCode::kNotMember:
      return "not a member";
    case ErrorCode::kInviteOnly:
      return "invite only";
    case ErrorCode::kRoomLimit:
      return "room limit";
  }
  return "unknown error";
}

const char* roomAccessName(RoomAccess access) {
  switch (access) {
    case RoomAccess::kOpen:
      return "open";
    case RoomAccess::kInviteByMembers:
      return "invite";
    case RoomAccess::kInviteByOwner:
      return "owner-invites";
  }
  return "unknown";
}

std::optional<RoomAccess> roomAccessFromName(std::string_view name) {
  for (auto access :
       {RoomAccess::kOpen, RoomAccess::kInviteByMembers, RoomAccess::kInviteByOwner}) {
    if (name == roomAccessName(access)) {
      return access;
    }
  }
  return std::nullopt;
}

ErrorCode errorCodeFromWire(uint16_t value) {
  if (value <= static_cast<uint16_t>(ErrorCode::kRoomLimit)) {
    return static_cast<ErrorCode>(value);
  }
  return ErrorCode::kInternal;
}

namespace {
bool isNameChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
         c == '.' || c == '-';
}
bool isAlnum(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}
}  // namespace

bool sameUsername(std::string_view a, std::string_view b) {
  auto lower = [](char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; };
  return a.size() == b.size() &&
         std::equal(a.begin(), a.end(), b.begin(), [&](char x, char y) { return lower(x) == lower(y); });
}

Status validateUsername(std::string_view name, const Limits& limits) {
  if (name.empty()) {
    return Status::invalidArgument("the username is empty; use 1 to " +
                                   std::to_string(limits.maxUsernameBytes) + " characters");
  }
  if (name.size() > limits.maxUsernameBytes) {
    return Status::invalidArgument("the username is " + std::to_string(name.size()) +
                                   " characters long; the limit is " +
                                   std::to_string(limits.maxUsernameBytes));
  }
  if (!isAlnum(name.front())) {
    return Status::invalidArgument("a username must start with a letter or a digit");
  }
  for (char c : name) {
    if (!isNameChar(c)) {
      return Status::invalidArgument("a username may hold only letters, digits, '_', '.' and '-'");
    }
  }
  return Status::ok();
}

Status validatePassword(std::string_view password, const Limits& limits) {
  if (password.empty()) {
    return Status::invalidArgument("the password is empty");
  }
  if (password.size() > limits.maxPasswordBytes) {
    return Status::invalidArgument("the password is longer than " +
                                   std::to_string(limits.maxPasswordBytes) + " bytes");
  }
  if (!isValidUtf8(password)) {
    return Status::invalidArgument("the password is not valid UTF-8");
  }
  for (char c : password) {
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) {
      return Status::invalidArgument("the password holds a control character");
    }
  }
  return Status::ok();
}

Status validateBody(std::string_view body, const Limits& limits) {
  if (body.empty()) {
    return Status::invalidArgument("the message is empty");
  }
  if (body.size() > limits.maxBodyBytes) {
    return Status::invalidArgument("the message is " + std::to_string(body.size()) +
                                   " bytes; the limit is " + std::to_string(limits.maxBodyBytes));
  }
  if (!isValidUtf8(body)) {
    return Status::invalidArgument("the message is not valid UTF-8");
  }
  if (body.find('\0') != std::string_view::npos) {
    return Status::invalidArgument("the message holds a NUL character");
  }
  return Status::ok();
}

std::string firstLineOf(std::string_view body, size_t maxBytes) {
  std::string_view line = body.substr(0, body.find('\n'));
  bool cut = line.size() < body.size();
  if (line.size() > maxBytes) {
    size_t end = maxBytes;
    // Back to the start of a UTF-8 sequence: continuation bytes are 10xxxxxx.
    while (end > 0 && (static_cast<unsigned char>(line[end]) & 0xC0) == 0x80) {
      --end;
    }
    line = line.substr(0, end);
    cut = true;
  }
  std::string out(line);
  if (!out.empty() && out.back() == '\r') {
    out.pop_back();
  }
  return cut ? out + "…" : out;
}

Status validateRoomName(std::string_view name, const Limits& limits) {
  if (!isRoomName(name)) {
    return Status::invalidArgument("a room name starts with '#', e.g. #general");
  }
  Status rest = validateUsername(name.substr(1), limits);
  if (!rest.isOk()) {
    std::string text = rest.message();
    // "the username ..." reads "the room name (after '#') ..." for a room.
    if (text.rfind("the username", 0) == 0) {
      text = "the room name after '#'" + text.substr(12);
    } else if (text.rfind("a username", 0) == 0) {
      text = "a room name after '#'" + text.substr(10);
    }
    return Status::invalidArgument(text);
  }
  return Status::ok();
}

Status validatePattern(std::string_view pattern, const Limits& limits) {
  if (pattern.size() > limits.maxPatternBytes) {
    return Status::invalidArgument("the pattern is longer than " +
                                   std::to_string(limits.maxPatternBytes) + " bytes");
  }
  if (isRoomName(pattern)) {
    pattern.remove_prefix(1);
  }
  for (char c : pattern) {
    if (!isNameChar(c) && c != '*' && c != '?') {
      return Status::invalidArgument("a pattern may hold only username characters, '*' and '?'");
    }
  }
  return Status::ok();
}

bool wildcardMatch(std::string_view pattern, std::string_view name) {
  // Iterative matcher with one backtrack point: linear in practice, never exponential.
  size_t p = 0;
  size_t n = 0;
  size_t starP = std::string_view::npos;
  size_t starN = 0;
  while (n < name.size()) {
    if (p < pattern.size() && (pattern[p] == '?' || pattern[p] == name[n])) {
      ++p;
      ++n;
    } else if (p < pattern.size() && pattern[p] == '*') {
      starP = p++;
      starN = n;
    } else if (starP != std::string_view::npos) {
      p = starP + 1;
      n = ++starN;
    } else {
      return false;
    }
  }
  while (p < pattern.size() && pattern[p] == '*') {
    ++p;
  }
  return p == pattern.size();
}

}  // namespace chat::protocol
