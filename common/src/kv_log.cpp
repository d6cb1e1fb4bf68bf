#include "chat/common/kv_log.h"

#include <cstdio>

#include <Poco/DateTimeFormat.h>
#include <Poco/DateTimeFormatter.h>

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
    if (c <= ' ' || c == '"' || c == '=' || c == '\\' || c == 0x7f) {
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
  for (char ch : value) {
    auto c = static_cast<unsigned char>(ch);
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      default:
        if (c < ' ' || c == 0x7f) {
          char buf[8];
          std::snprintf(buf, sizeof buf, "\\x%02x", c);
          out += buf;
        } else {
          out += static_cast<char>(c);
        }
    }
  }
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
