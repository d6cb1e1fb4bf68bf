// Line mode: the original text protocol (version 1) on the same port as binary frames, for
// nc/telnet and old clients. A request is one line `1 <opcode> <args...>`; replies are text
// lines ending in \r\n whose first line starts with `OK` or `ERROR <code>:`. Replies to
// login, delete and deliver end with an empty line (so the reply ends with \r\n\r\n).
// Thread contract: pure functions.
#ifndef CHAT_PROTOCOL_LINE_MODE_H_
#define CHAT_PROTOCOL_LINE_MODE_H_

#include <optional>
#include <string>
#include <string_view>
#include <variant>

#include "chat/protocol/messages.h"

namespace chat::protocol {

// A parsed line: the request, plus how to render the answer.
struct LineRequest {
  Request request;
  bool wantsJson = false;  // `1 10 json`
};

// A line that cannot become a request. `closeConnection` is set for a version mismatch:
// the server writes the refusal and closes.
struct LineError {
  ErrorCode code = ErrorCode::kMalformed;
  std::string message;
  bool closeConnection = false;
};

// Parses one line (without its terminator; a trailing \r is ignored).
// Returns nullopt for a blank line, which is ignored.
std::optional<std::variant<LineRequest, LineError>> parseLine(std::string_view line);

// `ERROR <code>: <message>\r\n`
std::string formatLineError(ErrorCode code, std::string_view message);
// The full text reply to `request`. For login, delete and deliver the reply lists the
// handed-over messages (DeliverReply, when given) and ends with an empty line.
std::string formatLineReply(const LineRequest& request, const Response& response);
// The lines for messages handed over in line mode: `From <sender>: Message: <text>\r\n`.
// Newlines inside a body become spaces, since a line client cannot tell them apart.
std::string formatLineMessage(const ChatMessage& message);
// A push as a line; only message pushes are shown to line clients (others return "").
std::string formatLinePush(const Push& push);

// The help text shared by both modes: every opcode with its arguments.
std::string helpText();

// NodeStatus as readable lines, and as one JSON object.
std::string formatStatusText(const NodeStatus& status);
std::string formatStatusJson(const NodeStatus& status);

}  // namespace chat::protocol

#endif  // CHAT_PROTOCOL_LINE_MODE_H_
