#include "chat/common/kv_log.h"

#include <cstdio>

#include <Poco/DateTimeFormat.h>
#include <Poco/DateTimeFormatter.h>

#include "chat/common/terminal_text.h"

namespace chat {

namespace {

const char* levelName(Poco::Message::Priority p) {
  switch (p) {
    case Poco::Message::PRIO_FATAL: return "fatal";
    case Poco::Message::PRIO_CRITICAL: return "critical";
    case Poco::Message::PRIO_ERROR: return "error";
    case Poco::Message::PRIO_WARNING: return "warning";
    case Poco::Message::PRIO_NOTICE: return "notice";
    case Poco::Message::PRIO_INFORMATION: return "information";
    case Poco::Message::PRIO_DEBUG: return "debug";
    case Poco::Message::PRIO_TRACE: return "trace";
  }
  return "unknown";
}

bool plainWord(std::string_view v) {
  if (v.empty()) {
    return false;
  }
  for (char ch : v) {
    auto c = static_cast<unsigned char>(ch);
    // Non-ASCII goes quoted, through terminalSafe (C1 and bidi controls are non-ASCII).
    if (c <= ' ' || c == '"' || c == '=' || c == '\\' || c >= 0x7f) {
      return false;
    }
  }
  return true;
}

}  // namespace

std::string kvValue(std::string_view value) {
  if (plainWord(value)) {
    return std::string(value);
  }
  std::string out = "\"";
  // Quotes, backslashes and the usual whitespace escapes as in C; every other terminal
  // control (C0, DEL, C1, bidi; terminal_text.h) made visible, so that a value from a
  // client can never act on the terminal of whoever reads the log.
  size_t runStart = 0;
  auto flushRun = [&](size_t end) {
    out += terminalSafe(value.substr(runStart, end - runStart));
  };
  for (size_t i = 0; i < value.size(); ++i) {
    const char* escape = nullptr;
    switch (value[i]) {
      case '"': escape = "\\\""; break;
      case '\\': escape = "\\\\"; break;
      case '\n': escape = "\\n"; break;
      case '\r': escape = "\\r"; break;
      case '\t': escape = "\\t"; break;
      default: break;
    }
    if (escape != nullptr) {
      flushRun(i);
      out += escape;
      runStart = i + 1;
    }
  }
  flushRun(value.size());
  out += '"';
  return out;
}

std::string kvEvent(std::string_view event, std::initializer_list<LogField> fields,
                    std::string_view text) {
  std::string out = "event=" + kvValue(event);
  for (const auto& [key, value] : fields) {
    out += ' ';
    out += key;
    out += '=';
    out += kvValue(value);
  }
  if (!text.empty()) {
    out += " msg=" + kvValue(text);
  }
  return out;
}

void logEvent(Poco::Logger& logger, Poco::Message::Priority priority, std::string_view event,
              std::initializer_list<LogField> fields, std::string_view text) {
  if (logger.is(priority)) {
    logger.log(Poco::Message(logger.name(), kvEvent(event, fields, text), priority));
  }
}

void KeyValueFormatter::format(const Poco::Message& msg, std::string& text) {
  text = "time=" + Poco::DateTimeFormatter::format(msg.getTime(), "%Y-%m-%dT%H:%M:%S.%iZ") +
         " level=" + levelName(msg.getPriority()) + " logger=" + kvValue(msg.getSource()) + " ";
  const std::string& body = msg.getText();
  if (body.rfind("event=", 0) == 0) {
    text += body;
  } else {
    text += "msg=" + kvValue(body);
  }
}

}  // namespace chat
