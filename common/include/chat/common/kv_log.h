// Logs as one event per line of key=value fields, for grep, awk and log shippers alike:
//
//   time=2026-11-25T02:41:35.961Z level=information logger=chat.raft event=role role=leader
//   epoch=3 leader=1 log=263 commit=262
//
// KeyValueFormatter writes time, level and logger, then the text: a text made by logEvent()
// already is key=value fields (event=... first); any other text becomes msg="...".
//
// Thread contract: the formatter is stateless (Poco calls it from any thread); logEvent is
// thread-safe as Poco's loggers are.
#ifndef CHAT_COMMON_KV_LOG_H_
#define CHAT_COMMON_KV_LOG_H_

#include <initializer_list>
#include <string>
#include <string_view>
#include <utility>

#include <Poco/Formatter.h>
#include <Poco/Logger.h>
#include <Poco/Message.h>

namespace chat {

class KeyValueFormatter final : public Poco::Formatter {
 public:
  void format(const Poco::Message& msg, std::string& text) override;
};

// A value as it appears after "key=": bare when it is a plain word, else in double quotes
// with \" \\ \n \t escaped, so that one event is always one line.
std::string kvValue(std::string_view value);

using LogField = std::pair<std::string_view, std::string>;

// "event=<event> k=v ... msg=<text>"; the msg field is left out when `text` is empty.
std::string kvEvent(std::string_view event, std::initializer_list<LogField> fields,
                    std::string_view text = {});

// Logs kvEvent(...) at `priority` if the logger lets it through.
void logEvent(Poco::Logger& logger, Poco::Message::Priority priority, std::string_view event,
              std::initializer_list<LogField> fields, std::string_view text = {});

}  // namespace chat

#endif  // CHAT_COMMON_KV_LOG_H_
