#include "chat/protocol/line_mode.h"

#include <Poco/JSON/Array.h>
#include <Poco/JSON/Object.h>

#include <charconv>
#include <cstdio>
#include <sstream>
#include <vector>

#include "chat/common/terminal_text.h"
#include "chat/protocol/byte_io.h"

namespace chat::protocol {

namespace {

constexpr const char* kEol = "\r\n";

// Splits off the next space-separated token; `rest` keeps what follows (leading spaces dropped).
std::string_view nextToken(std::string_view& rest) {
  size_t start = rest.find_first_not_of(' ');
  if (start == std::string_view::npos) {
    rest = {};
    return {};
  }
  rest.remove_prefix(start);
  size_t end = rest.find(' ');
  std::string_view token = rest.substr(0, end);
  rest = end == std::string_view::npos ? std::string_view{} : rest.substr(end + 1);
  return token;
}

// A whole token as an unsigned number of type T, or nullopt.
template <typename T>
std::optional<T> parseNumber(std::string_view s) {
  T v = 0;
  auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || ptr != s.data() + s.size() || s.empty()) {
    return std::nullopt;
  }
  return v;
}

std::optional<uint32_t> parseU32(std::string_view s) {
  return parseNumber<uint32_t>(s);
}

LineError usage(std::string_view text) {
  return LineError{ErrorCode::kMalformed, "usage: " + std::string(text), false};
}

std::string plural(uint64_t n, std::string_view one, std::string_view many) {
  return std::to_string(n) + " " + std::string(n == 1 ? one : many);
}

std::string messagesBlock(const std::vector<ChatMessage>& messages) {
  std::string out;
  for (const auto& m : messages) {
    out += formatLineMessage(m);
  }
  return out;
}

}  // namespace

std::optional<std::variant<LineRequest, LineError>> parseLine(std::string_view line) {
  if (!line.empty() && line.back() == '\r') {
    line.remove_suffix(1);
  }
  std::string_view rest = line;
  std::string_view version = nextToken(rest);
  if (version.empty()) {
    return std::nullopt;
  }
  if (version != "1") {
    return LineError{ErrorCode::kUnsupportedVersion,
                     "protocol version " + std::string(version.substr(0, 16)) +
                         " is not supported; text lines start with version 1, e.g. '1 6' for "
                         "help (binary clients use version " +
                         std::to_string(kBinaryVersion) + ")",
                     true};
  }
  if (!isValidUtf8(line)) {
    return LineError{ErrorCode::kMalformed, "the line is not valid UTF-8", false};
  }
  std::string_view opText = nextToken(rest);
  auto opValue = parseU32(opText);
  if (!opValue) {
    return usage("1 <opcode> <arguments>; send '1 6' for the list of opcodes");
  }
  auto op = opcodeFromWire(static_cast<uint16_t>(*opValue));
  if (!op || isPush(*op) || *opValue > 0xFFFF) {
    return LineError{ErrorCode::kUnknownOpcode,
                     "unknown opcode " + std::string(opText.substr(0, 16)) +
                         "; send '1 6' for the list of opcodes",
                     false};
  }
  std::vector<std::string_view> args;
  auto twoArgs = [&](std::string_view what) -> std::optional<LineError> {
    std::string_view a = nextToken(rest);
    std::string_view b = nextToken(rest);
    if (a.empty() || b.empty() || !nextToken(rest).empty()) {
      return usage(what);
    }
    args = {a, b};
    return std::nullopt;
  };
  LineRequest out;
  switch (*op) {
    case Opcode::kCreate:
      if (auto e = twoArgs("1 0 <username> <password>")) {
        return *e;
      }
      out.request = CreateRequest{std::string(args[0]), std::string(args[1])};
      break;
    case Opcode::kList: {
      std::string_view pattern = nextToken(rest);
      if (!nextToken(rest).empty()) {
        return usage("1 1 [pattern]   (pattern may use * and ?)");
      }
      ListRequest q;
      q.pattern = std::string(pattern);
      q.limit = 500;
      out.request = q;
      break;
    }
    case Opcode::kLogin:
      if (auto e = twoArgs("1 2 <username> <password>")) {
        return *e;
      }
      out.request = LoginRequest{std::string(args[0]), std::string(args[1])};
      break;
    case Opcode::kSend: {
      std::string_view recipient = nextToken(rest);
      if (recipient.empty() || rest.empty()) {
        return usage("1 3 <recipient> <text...>");
      }
      out.request = SendRequest{std::string(recipient), std::string(rest)};
      break;
    }
    case Opcode::kDeleteAccount:
      if (auto e = twoArgs("1 4 <username> <password>")) {
        return *e;
      }
      out.request = DeleteAccountRequest{std::string(args[0]), std::string(args[1])};
      break;
    case Opcode::kDeliver: {
      std::string_view user = nextToken(rest);
      std::string_view password = nextToken(rest);
      std::string_view count = nextToken(rest);
      if (user.empty() || password.empty() || !nextToken(rest).empty()) {
        return usage("1 5 <username> <password> [max messages]");
      }
      DeliverRequest q;
      q.username = std::string(user);
      q.password = std::string(password);
      if (!count.empty()) {
        auto n = parseU32(count);
        if (!n) {
          return usage("1 5 <username> <password> [max messages]; max is a number");
        }
        q.max = *n;
      }
      out.request = q;
      break;
    }
    case Opcode::kHelp:
      out.request = HelpRequest{};
      break;
    case Opcode::kLogout:
      out.request = LogoutRequest{};
      break;
    case Opcode::kHistory: {
      std::string_view peer = nextToken(rest);
      std::string_view count = nextToken(rest);
      if (peer.empty() || !nextToken(rest).empty()) {
        return usage("1 8 <user|#room> [count]");
      }
      HistoryRequest q;
      q.peer = std::string(peer);
      if (!count.empty()) {
        auto n = parseU32(count);
        if (!n) {
          return usage("1 8 <user> [count]; count is a number");
        }
        q.limit = *n;
      }
      out.request = q;
      break;
    }
    case Opcode::kAck:
      return LineError{ErrorCode::kNotSupported,
                       "ack is for binary clients; in line mode a message counts as delivered "
                       "once written to your connection",
                       false};
    case Opcode::kStatus: {
      std::string_view format = nextToken(rest);
      if (!format.empty() && format != "json" && format != "text") {
        return usage("1 10 [text|json]");
      }
      out.request = StatusRequest{};
      out.wantsJson = format == "json";
      break;
    }
    case Opcode::kPing:
      out.request = PingRequest{};
      break;
    case Opcode::kResume:
      return LineError{ErrorCode::kNotSupported,
                       "resume is for binary clients; in line mode log in again with '1 2 "
                       "<user> <password>'",
                       false};
    case Opcode::kTyping:
      return LineError{ErrorCode::kNotSupported,
                       "typing notices are for binary clients (chat-tui)", false};
    case Opcode::kCreateRoom: {
      std::string_view room = nextToken(rest);
      std::string_view access = nextToken(rest);
      constexpr const char* kUsage = "1 14 <#room> [open|invite|owner-invites]";
      if (room.empty() || !nextToken(rest).empty()) {
        return usage(kUsage);
      }
      CreateRoomRequest q{std::string(room), RoomAccess::kOpen};
      if (!access.empty()) {
        auto a = roomAccessFromName(access);
        if (!a) {
          return usage(std::string(kUsage) + "; open: anyone may join, invite: members invite, "
                                             "owner-invites: only you invite");
        }
        q.access = *a;
      }
      out.request = q;
      break;
    }
    case Opcode::kJoinRoom:
    case Opcode::kLeaveRoom:
    case Opcode::kRoomMembers: {
      std::string_view room = nextToken(rest);
      if (room.empty() || !nextToken(rest).empty()) {
        return usage("1 " + std::to_string(*opValue) + " <#room>");
      }
      if (*op == Opcode::kJoinRoom) {
        out.request = JoinRoomRequest{std::string(room)};
      } else if (*op == Opcode::kLeaveRoom) {
        out.request = LeaveRoomRequest{std::string(room)};
      } else {
        out.request = RoomMembersRequest{std::string(room)};
      }
      break;
    }
    case Opcode::kInviteToRoom:
      if (auto e = twoArgs("1 17 <#room> <user>")) {
        return *e;
      }
      out.request = InviteToRoomRequest{std::string(args[0]), std::string(args[1])};
      break;
    case Opcode::kConversations:
      if (!nextToken(rest).empty()) {
        return usage("1 20");
      }
      out.request = ConversationsRequest{0, 500};
      break;
    case Opcode::kMarkRead: {
      std::string_view peer = nextToken(rest);
      auto upTo = parseNumber<uint64_t>(nextToken(rest));
      if (peer.empty() || !upTo || !nextToken(rest).empty()) {
        return usage("1 21 <user|#room> <message id>");
      }
      out.request = MarkReadRequest{std::string(peer), *upTo};
      break;
    }
    case Opcode::kListRooms: {
      std::string_view pattern = nextToken(rest);
      if (!nextToken(rest).empty()) {
        return usage("1 18 [pattern]   (pattern may use * and ?)");
      }
      ListRoomsRequest q;
      q.pattern = std::string(pattern);
      q.limit = 500;
      out.request = q;
      break;
    }
    default:
      return LineError{ErrorCode::kUnknownOpcode, "unknown opcode", false};
  }
  return out;
}

std::string formatLineError(ErrorCode code, std::string_view message) {
  // Messages may quote what a client sent (a name that is not one): never raw.
  return "ERROR " + std::to_string(static_cast<uint16_t>(code)) + ": " +
         terminalSafe(message) + kEol;
}

namespace {

// A body as one line of a terminal: newlines become spaces (a line client cannot tell them
// apart), escapes, C1 and bidi controls are made visible (terminal_text.h), tabs kept.
std::string lineText(const ChatMessage& message) {
  std::string body = message.body;
  for (char& c : body) {
    if (c == '\n' || c == '\r') {
      c = ' ';
    }
  }
  return terminalSafe(body, "\t");
}

std::string roomLine(const RoomEntry& e) {
  return e.name + " " + roomAccessName(e.access) + ", " + plural(e.members, "member", "members") +
         ", owner " + e.owner + (e.joined ? " (joined)" : "");
}

}  // namespace

std::string formatLineMessage(const ChatMessage& message) {
  std::string room = isRoomName(message.recipient) ? " in " + message.recipient : "";
  return "From " + terminalSafe(message.sender) + room + ": Message: " + lineText(message) + kEol;
}

std::string formatLinePush(const Push& push) {
  if (const auto* m = std::get_if<MessagePush>(&push)) {
    return formatLineMessage(m->message);
  }
  return {};
}

std::string formatLineReply(const LineRequest& line, const Response& response) {
  const bool endsWithBlank = response.opcode == Opcode::kLogin ||
                             response.opcode == Opcode::kDeleteAccount ||
                             response.opcode == Opcode::kDeliver;
  if (!response.isOk()) {
    std::string out = formatLineError(response.code, response.error);
    return endsWithBlank ? out + kEol : out;
  }
  std::string out;
  const Request& request = line.request;
  switch (response.opcode) {
    case Opcode::kCreate:
      out = "OK account " + std::get<CreateRequest>(request).username +
            " created; log in with '1 2 <username> <password>'" + kEol;
      break;
    case Opcode::kList: {
      const auto& b = std::get<ListReply>(response.body);
      out = "OK " + plural(b.total, "user", "users") + kEol;
      for (const auto& u : b.users) {
        out += u.name + (u.online ? " (online)" : " (offline)") + kEol;
      }
      break;
    }
    case Opcode::kLogin: {
      // Line-mode login hands the waiting messages over in the same reply.
      const auto* d = std::get_if<DeliverReply>(&response.body);
      size_t n = d ? d->messages.size() : 0;
      out = "OK logged in as " + std::get<LoginRequest>(request).username + "; " +
            plural(n, "message", "messages") + " waiting" + kEol;
      if (d) {
        out += messagesBlock(d->messages);
      }
      out += kEol;
      break;
    }
    case Opcode::kSend: {
      const auto& b = std::get<SendReply>(response.body);
      const auto& recipient = std::get<SendRequest>(request).recipient;
      if (isRoomName(recipient)) {
        out = "OK sent to " + recipient + ": " + plural(b.recipients, "member", "members") +
              ", " + std::to_string(b.recipientsOnline) + " online" + kEol;
        break;
      }
      out = b.recipientOnline
                ? "OK delivered to " + recipient + kEol
                : "OK stored; " + recipient + " is offline and gets it at next login" + kEol;
      break;
    }
    case Opcode::kDeleteAccount: {
      const auto* d = std::get_if<DeliverReply>(&response.body);
      out = "OK account " + std::get<DeleteAccountRequest>(request).username + " deleted" + kEol;
      if (d) {
        out += messagesBlock(d->messages);
      }
      out += kEol;
      break;
    }
    case Opcode::kDeliver: {
      const auto& b = std::get<DeliverReply>(response.body);
      out = "OK " + plural(b.messages.size(), "message", "messages") + ", " +
            std::to_string(b.remaining) + " still waiting" + kEol;
      out += messagesBlock(b.messages);
      out += kEol;
      break;
    }
    case Opcode::kHelp: {
      out = std::string("OK commands:") + kEol;
      std::istringstream lines(std::get<HelpReply>(response.body).text);
      std::string l;
      while (std::getline(lines, l)) {
        out += l + kEol;
      }
      break;
    }
    case Opcode::kLogout:
      out = std::string("OK logged out") + kEol;
      break;
    case Opcode::kHistory: {
      const auto& b = std::get<HistoryReply>(response.body);
      out = "OK " + plural(b.messages.size(), "message", "messages") +
            (b.hasMore ? " (older ones exist)" : "") + kEol;
      for (const auto& m : b.messages) {
        out += '#' + std::to_string(m.id) + ' ' + terminalSafe(m.sender) + " -> " +
               terminalSafe(m.recipient) + ": " + lineText(m) + kEol;
      }
      break;
    }
    case Opcode::kStatus: {
      const auto& s = std::get<StatusReply>(response.body).status;
      if (line.wantsJson) {
        out = "OK " + formatStatusJson(s) + kEol;
      } else {
        out = std::string("OK status") + kEol;
        std::istringstream lines(formatStatusText(s));
        std::string l;
        while (std::getline(lines, l)) {
          out += l + kEol;
        }
      }
      break;
    }
    case Opcode::kPing:
      out = std::string("OK pong") + kEol;
      break;
    case Opcode::kCreateRoom: {
      const auto& q = std::get<CreateRoomRequest>(request);
      out = "OK room " + q.room + " created (" + roomAccessName(q.access) +
            "); invite with '1 17 " + q.room + " <user>', send with '1 3 " + q.room +
            " <text>'" + kEol;
      break;
    }
    case Opcode::kJoinRoom: {
      const auto& room = std::get<JoinRoomRequest>(request).room;
      out = "OK you are in " + room + "; send with '1 3 " + room + " <text>'" + kEol;
      break;
    }
    case Opcode::kLeaveRoom:
      out = "OK you left " + std::get<LeaveRoomRequest>(request).room + kEol;
      break;
    case Opcode::kInviteToRoom: {
      const auto& q = std::get<InviteToRoomRequest>(request);
      out = "OK " + q.user + " is in " + q.room + kEol;
      break;
    }
    case Opcode::kListRooms: {
      const auto& b = std::get<RoomListReply>(response.body);
      out = "OK " + plural(b.total, "room", "rooms") + kEol;
      for (const auto& e : b.rooms) {
        out += roomLine(e) + kEol;
      }
      break;
    }
    case Opcode::kConversations: {
      const auto& b = std::get<ConversationsReply>(response.body);
      out = "OK " + plural(b.total, "conversation", "conversations") + kEol;
      for (const auto& c : b.conversations) {
        out += c.peer + ": " + (c.unread == 0 ? "read" : std::to_string(c.unread) +
                                                              (c.moreUnread ? "+" : "") + " unread");
        if (c.lastId != 0) {
          out += "; last #" + std::to_string(c.lastId) + " " + terminalSafe(c.lastSender) + ": " +
                 terminalSafe(c.firstLine);
        }
        out += kEol;
      }
      break;
    }
    case Opcode::kMarkRead: {
      const auto& q = std::get<MarkReadRequest>(request);
      out = "OK " + q.peer + " read up to #" + std::to_string(q.upToId) + kEol;
      break;
    }
    case Opcode::kRoomMembers: {
      const auto& b = std::get<RoomMembersReply>(response.body);
      out = "OK " + roomLine(b.room) + kEol;
      for (const auto& u : b.members) {
        out += u.name + (u.online ? " (online)" : " (offline)") + kEol;
      }
      break;
    }
    default:
      out = std::string("OK") + kEol;
      break;
  }
  return out;
}

std::string helpText() {
  return "0 create <username> <password>\n"
         "1 list [pattern]            wildcards * and ?\n"
         "2 login <username> <password>\n"
         "3 send <recipient> <text...>\n"
         "4 delete <username> <password>\n"
         "5 deliver <username> <password> [max]\n"
         "6 help\n"
         "7 logout\n"
         "8 history <user> [count]\n"
         "9 ack <ids...>              binary clients only\n"
         "10 status [text|json]\n"
         "11 ping\n"
         "14 create-room <#room> [open|invite|owner-invites]\n"
         "15 join <#room>\n"
         "16 leave <#room>\n"
         "17 invite <#room> <user>\n"
         "18 rooms [pattern]\n"
         "19 members <#room>\n"
         "20 conversations            newest first, with unread counts\n"
         "21 read <user|#room> <id>   you have seen that conversation up to message id\n"
         "Send to a room with 3 <#room> <text...>; its history with 8 <#room> [count].\n"
         "Each line starts with the version: 1 <opcode> <arguments>, e.g. '1 2 alice secret'.\n";
}

std::string formatStatusText(const NodeStatus& s) {
  std::ostringstream o;
  o << "node " << s.nodeId << " role " << s.role << " epoch " << s.epoch << "\n"
    << "commit index " << s.commitIndex << " applied index " << s.appliedIndex << "\n"
    << "uptime " << s.uptimeMillis / 1000 << "s sessions " << s.sessions << " connections "
    << s.connections << " memory " << s.residentBytes / (1024 * 1024) << " MiB\n"
    << "leader " << (s.leaderAddress.empty() ? "unknown" : s.leaderAddress) << "\n";
  if (!s.lastElection.empty()) {
    o << "last election " << s.lastElection << "\n";
  }
  for (const auto& p : s.peers) {
    o << "  node " << p.id << " " << p.clientAddress << " " << p.role << " match " << p.matchIndex
      << " lag " << (s.commitIndex > p.matchIndex ? s.commitIndex - p.matchIndex : 0)
      << (p.reachable || p.role == "unknown" ? "" : " unreachable") << "\n";
  }
  return o.str();
}

std::string formatStatusJson(const NodeStatus& s) {
  Poco::JSON::Object o(Poco::JSON_PRESERVE_KEY_ORDER);
  o.set("node", s.nodeId);
  o.set("role", s.role);
  o.set("epoch", s.epoch);
  o.set("commitIndex", s.commitIndex);
  o.set("appliedIndex", s.appliedIndex);
  o.set("uptimeMillis", s.uptimeMillis);
  o.set("sessions", s.sessions);
  o.set("connections", s.connections);
  o.set("residentBytes", s.residentBytes);
  o.set("leader", s.leaderAddress);
  o.set("lastElection", s.lastElection);
  Poco::JSON::Array peers;
  for (const auto& p : s.peers) {
    Poco::JSON::Object peer(Poco::JSON_PRESERVE_KEY_ORDER);
    peer.set("id", p.id);
    peer.set("address", p.clientAddress);
    peer.set("role", p.role);
    peer.set("matchIndex", p.matchIndex);
    peer.set("reachable", p.reachable);
    peers.add(peer);
  }
  o.set("peers", peers);
  std::ostringstream out;
  o.stringify(out);
  return out.str();
}

}  // namespace chat::protocol
