// jsonText: an object's JSON on one line, for every JSON the programs print or serve (line
// mode's status, /health, ctl status --json, chat-bench and chat-chaos reports). Built with
// Poco::JSON (JSON_PRESERVE_KEY_ORDER keeps the fields in the order they were set).
// Thread contract: pure.
#ifndef CHAT_PROTOCOL_JSON_TEXT_H_
#define CHAT_PROTOCOL_JSON_TEXT_H_

#include <sstream>
#include <string>

#include <Poco/JSON/Object.h>

namespace chat::protocol {

inline std::string jsonText(const Poco::JSON::Object& object) {
  std::ostringstream out;
  object.stringify(out);
  return out.str();
}

}  // namespace chat::protocol

#endif  // CHAT_PROTOCOL_JSON_TEXT_H_
