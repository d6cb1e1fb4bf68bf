#include "chat/protocol/line_mode.h"

#include <Poco/JSON/Array.h>
#include <Poco/JSON/Object.h>

#include <charconv>
#include <cstdio>
#include <sstream>
#include <vector>

#include "chat/common/terminal_text.h"
#include "chat/protocol/byte_io.h"
#include "chat/protocol/json_text.h"

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

namespace {

using Parsed = std::variant<LineRequest, LineError>;

// The words after the opcode, taken in order.
class LineArguments {
 public:
  explicit LineArguments(std::string_view rest) : rest_(rest) {}
  std::string_view next() { return nextToken(rest_); }
  // True when nothing but spaces is left.
  bool atEnd() const {
    std::string_view copy = rest_;
    return nextToken(copy).empty();
  }
  // The rest of the line as it is (a message's text).
  std::string_view remainder() const { return rest_; }

 private:
  std::string_view rest_;
};

// `1 <op> <a> <b>`: two words, exactly, made into a request by `make`.
template <typename Make>
Parsed twoWords(LineArguments& a, std::string_view usageText, Make make) {
  std::string_view first = a.next();
  std::string_view second = a.next();
  if (first.empty() || second.empty() || !a.atEnd()) {
    return usage(usageText);
  }
  return LineRequest{make(std::string(first), std::string(second))};
}

// `1 <op> <room>`: one word, exactly.
template <typename Make>
Parsed oneWord(LineArguments& a, std::string_view usageText, Make make) {
  std::string_view word = a.next();
  if (word.empty() || !a.atEnd()) {
    return usage(usageText);
  }
  return LineRequest{make(std::string(word))};
}

// `1 1 [pattern]` and `1 18 [pattern]`: a page of 500 (a line client does not page).
template <typename ListOf>
Parsed patternList(LineArguments& a, std::string_view usageText) {
  std::string_view pattern = a.next();
  if (!a.atEnd()) {
    return usage(usageText);
  }
  ListOf q;
  q.pattern = std::string(pattern);
  q.limit = 500;
  return LineRequest{q};
}

Parsed sendRequest(LineArguments& a) {
  std::string_view recipient = a.next();
  if (recipient.empty() || a.remainder().empty()) {
    return usage("1 3 <recipient> <text...>");
  }
  return LineRequest{SendRequest{std::string(recipient), std::string(a.remainder())}};
}

Parsed deliverRequest(LineArguments& a) {
  constexpr std::string_view kUsage = "1 5 <username> <password> [max messages]";
  std::string_view user = a.next();
  std::string_view password = a.next();
  std::string_view count = a.next();
  if (user.empty() || password.empty() || !a.atEnd()) {
    return usage(kUsage);
  }
  DeliverRequest q;
  q.username = std::string(user);
  q.password = std::string(password);
  if (!count.empty()) {
    auto n = parseU32(count);
    if (!n) {
      return usage(std::string(kUsage) + "; max is a number");
    }
    q.max = *n;
  }
  return LineRequest{q};
}

Parsed historyRequest(LineArguments& a) {
  constexpr std::string_view kUsage = "1 8 <user|#room> [count]";
  std::string_view peer = a.next();
  std::string_view count = a.next();
  if (peer.empty() || !a.atEnd()) {
    return usage(kUsage);
  }
  HistoryRequest q;
  q.peer = std::string(peer);
  if (!count.empty()) {
    auto n = parseU32(count);
    if (!n) {
      return usage(std::string(kUsage) + "; count is a number");
    }
    q.limit = *n;
  }
  return LineRequest{q};
}

Parsed statusRequest(LineArguments& a) {
  std::string_view format = a.next();
  if (!format.empty() && format != "json" && format != "text") {
    return usage("1 10 [text|json]");
  }
  return LineRequest{StatusRequest{}, format == "json"};
}

Parsed createRoomRequest(LineArguments& a) {
  constexpr std::string_view kUsage = "1 14 <#room> [open|invite|owner-invites]";
  std::string_view room = a.next();
  std::string_view access = a.next();
  if (room.empty() || !a.atEnd()) {
    return usage(kUsage);
  }
  CreateRoomRequest q{std::string(room), RoomAccess::kOpen};
  if (!access.empty()) {
    auto named = roomAccessFromName(access);
    if (!named) {
      return usage(std::string(kUsage) +
                   "; open: anyone may join, invite: members invite, owner-invites: only you "
                   "invite");
    }
    q.access = *named;
  }
  return LineRequest{q};
}

Parsed markReadRequest(LineArguments& a) {
  std::string_view peer = a.next();
  auto upTo = parseNumber<uint64_t>(a.next());
  if (peer.empty() || !upTo || !a.atEnd()) {
    return usage("1 21 <user|#room> <message id>");
  }
  return LineRequest{MarkReadRequest{std::string(peer), *upTo}};
}

LineError binaryOnly(std::string what) {
  return LineError{ErrorCode::kNotSupported, std::move(what), false};
}

// The request a known, non-push opcode's arguments make, or what is wrong with them.
Parsed requestOf(Opcode op, LineArguments& a) {
  switch (op) {
    case Opcode::kCreate:
      return twoWords(a, "1 0 <username> <password>", [](std::string u, std::string p) {
        return CreateRequest{std::move(u), std::move(p)};
      });
    case Opcode::kList:
      return patternList<ListRequest>(a, "1 1 [pattern]   (pattern may use * and ?)");
    case Opcode::kLogin:
      return twoWords(a, "1 2 <username> <password>", [](std::string u, std::string p) {
        return LoginRequest{std::move(u), std::move(p)};
      });
    case Opcode::kSend:
      return sendRequest(a);
    case Opcode::kDeleteAccount:
      return twoWords(a, "1 4 <username> <password>", [](std::string u, std::string p) {
        return DeleteAccountRequest{std::move(u), std::move(p)};
      });
    case Opcode::kDeliver:
      return deliverRequest(a);
    case Opcode::kHelp:
      return LineRequest{HelpRequest{}};
    case Opcode::kLogout:
      return LineRequest{LogoutRequest{}};
    case Opcode::kHistory:
      return historyRequest(a);
    case Opcode::kAck:
      return binaryOnly(
          "ack is for binary clients; in line mode a message counts as delivered once written "
          "to your connection");
    case Opcode::kStatus:
      return statusRequest(a);
    case Opcode::kPing:
      return LineRequest{PingRequest{}};
    case Opcode::kResume:
      return binaryOnly(
          "resume is for binary clients; in line mode log in again with '1 2 <user> "
          "<password>'");
    case Opcode::kTyping:
      return binaryOnly("typing notices are for binary clients (chat-tui)");
    case Opcode::kCreateRoom:
      return createRoomRequest(a);
    case Opcode::kJoinRoom:
      return oneWord(a, "1 15 <#room>",
                     [](std::string room) { return JoinRoomRequest{std::move(room)}; });
    case Opcode::kLeaveRoom:
      return oneWord(a, "1 16 <#room>",
                     [](std::string room) { return LeaveRoomRequest{std::move(room)}; });
    case Opcode::kInviteToRoom:
      return twoWords(a, "1 17 <#room> <user>", [](std::string room, std::string user) {
        return InviteToRoomRequest{std::move(room), std::move(user)};
      });
    case Opcode::kListRooms:
      return patternList<ListRoomsRequest>(a, "1 18 [pattern]   (pattern may use * and ?)");
    case Opcode::kRoomMembers:
      return oneWord(a, "1 19 <#room>",
                     [](std::string room) { return RoomMembersRequest{std::move(room)}; });
    case Opcode::kConversations:
      if (!a.atEnd()) {
        return usage("1 20");
      }
      return LineRequest{ConversationsRequest{0, 500}};
    case Opcode::kMarkRead:
      return markReadRequest(a);
    default:
      return LineError{ErrorCode::kUnknownOpcode, "unknown opcode", false};
  }
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
  LineArguments arguments(rest);
  return requestOf(*op, arguments);
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

namespace {

// Each line of `text` as a reply line.
std::string replyLines(const std::string& text) {
  std::string out;
  std::istringstream lines(text);
  std::string l;
  while (std::getline(lines, l)) {
    out += l + kEol;
  }
  return out;
}

// "name (online)" per user: /list and a room's members.
template <typename Users>
std::string userLines(const Users& users) {
  std::string out;
  for (const auto& u : users) {
    out += u.name + (u.online ? " (online)" : " (offline)") + kEol;
  }
  return out;
}

// Login, delete and deliver hand the waiting messages over in the reply (when the body has
// them) and end with an empty line.
std::string withMessages(std::string first, const DeliverReply* messages) {
  if (messages != nullptr) {
    first += messagesBlock(messages->messages);
  }
  return first + kEol;
}

std::string sendLine(const std::string& recipient, const SendReply& b) {
  if (isRoomName(recipient)) {
    // The recipients of a room message are its other members.
    if (b.recipients == 0) {
      return "OK sent to " + recipient + "; nobody else is in it yet (invite with '1 17 " +
             recipient + " <user>')" + kEol;
    }
    return "OK sent to " + recipient + ": " +
           plural(b.recipients, "other member", "other members") + ", " +
           std::to_string(b.recipientsOnline) + " online" + kEol;
  }
  return b.recipientOnline
             ? "OK delivered to " + recipient + kEol
             : "OK stored; " + recipient + " is offline and gets it at next login" + kEol;
}

std::string historyLines(const HistoryReply& b) {
  std::string out = "OK " + plural(b.messages.size(), "message", "messages") +
                    (b.hasMore ? " (older ones exist)" : "") + kEol;
  for (const auto& m : b.messages) {
    out += '#' + std::to_string(m.id) + ' ' + terminalSafe(m.sender) + " -> " +
           terminalSafe(m.recipient) + ": " + lineText(m) + kEol;
  }
  return out;
}

std::string conversationLines(const ConversationsReply& b) {
  std::string out = "OK " + plural(b.total, "conversation", "conversations") + kEol;
  for (const auto& c : b.conversations) {
    out +=
        c.peer + ": " +
        (c.unread == 0 ? "read" : std::to_string(c.unread) + (c.moreUnread ? "+" : "") + " unread");
    if (c.lastId != 0) {
      out += "; last #" + std::to_string(c.lastId) + " " + terminalSafe(c.lastSender) + ": " +
             terminalSafe(c.firstLine);
    }
    out += kEol;
  }
  return out;
}

std::string roomListLines(const RoomListReply& b) {
  std::string out = "OK " + plural(b.total, "room", "rooms") + kEol;
  for (const auto& e : b.rooms) {
    out += roomLine(e) + kEol;
  }
  return out;
}

std::string statusLines(const NodeStatus& s, bool json) {
  return json ? "OK " + formatStatusJson(s) + kEol
              : std::string("OK status") + kEol + replyLines(formatStatusText(s));
}

}  // namespace

std::string formatLineReply(const LineRequest& request, const Response& response) {
  if (!response.isOk()) {
    const bool endsWithBlank = response.opcode == Opcode::kLogin ||
                               response.opcode == Opcode::kDeleteAccount ||
                               response.opcode == Opcode::kDeliver;
    std::string out = formatLineError(response.code, response.error);
    return endsWithBlank ? out + kEol : out;
  }
  const Request& q = request.request;
  const ReplyBody& body = response.body;
  switch (response.opcode) {
    case Opcode::kCreate:
      return "OK account " + std::get<CreateRequest>(q).username +
             " created; log in with '1 2 <username> <password>'" + kEol;
    case Opcode::kList: {
      const auto& b = std::get<ListReply>(body);
      return "OK " + plural(b.total, "user", "users") + kEol + userLines(b.users);
    }
    case Opcode::kLogin: {
      const auto* d = std::get_if<DeliverReply>(&body);
      return withMessages("OK logged in as " + std::get<LoginRequest>(q).username + "; " +
                              plural(d ? d->messages.size() : 0, "message", "messages") +
                              " waiting" + kEol,
                          d);
    }
    case Opcode::kSend:
      return sendLine(std::get<SendRequest>(q).recipient, std::get<SendReply>(body));
    case Opcode::kDeleteAccount:
      return withMessages(
          "OK account " + std::get<DeleteAccountRequest>(q).username + " deleted" + kEol,
          std::get_if<DeliverReply>(&body));
    case Opcode::kDeliver: {
      const auto& b = std::get<DeliverReply>(body);
      return withMessages("OK " + plural(b.messages.size(), "message", "messages") + ", " +
                              std::to_string(b.remaining) + " still waiting" + kEol,
                          &b);
    }
    case Opcode::kHelp:
      return std::string("OK commands:") + kEol + replyLines(std::get<HelpReply>(body).text);
    case Opcode::kLogout:
      return std::string("OK logged out") + kEol;
    case Opcode::kHistory:
      return historyLines(std::get<HistoryReply>(body));
    case Opcode::kStatus:
      return statusLines(std::get<StatusReply>(body).status, request.wantsJson);
    case Opcode::kPing:
      return std::string("OK pong") + kEol;
    case Opcode::kCreateRoom: {
      const auto& c = std::get<CreateRoomRequest>(q);
      return "OK room " + c.room + " created (" + roomAccessName(c.access) +
             "); invite with '1 17 " + c.room + " <user>', send with '1 3 " + c.room + " <text>'" +
             kEol;
    }
    case Opcode::kJoinRoom: {
      const auto& room = std::get<JoinRoomRequest>(q).room;
      return "OK you are in " + room + "; send with '1 3 " + room + " <text>'" + kEol;
    }
    case Opcode::kLeaveRoom:
      return "OK you left " + std::get<LeaveRoomRequest>(q).room + kEol;
    case Opcode::kInviteToRoom: {
      const auto& i = std::get<InviteToRoomRequest>(q);
      return "OK " + i.user + " is in " + i.room + kEol;
    }
    case Opcode::kListRooms:
      return roomListLines(std::get<RoomListReply>(body));
    case Opcode::kConversations:
      return conversationLines(std::get<ConversationsReply>(body));
    case Opcode::kMarkRead: {
      const auto& m = std::get<MarkReadRequest>(q);
      return "OK " + m.peer + " read up to #" + std::to_string(m.upToId) + kEol;
    }
    case Opcode::kRoomMembers: {
      const auto& b = std::get<RoomMembersReply>(body);
      return "OK " + roomLine(b.room) + kEol + userLines(b.members);
    }
    default:
      return std::string("OK") + kEol;
  }
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
         "8 history <user|#room> [count]\n"
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
    << s.connections << " memory " << s.residentBytes / (uint64_t{1} << 20) << " MiB\n"
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
  return jsonText(o);
}

}  // namespace chat::protocol
