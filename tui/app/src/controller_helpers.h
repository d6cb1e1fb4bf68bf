// Small helpers shared by the two halves of TuiController (keys, cluster events).
// Thread contract: pure functions.
#ifndef CHAT_TUI_APP_CONTROLLER_HELPERS_H_
#define CHAT_TUI_APP_CONTROLLER_HELPERS_H_

#include <string>
#include <variant>

#include "chat/protocol/messages.h"
#include "chat/tui/chat_model.h"
#include "chat/tui/user_list_view.h"

namespace chat::tui {

template <typename T>
const T* bodyAs(const protocol::Response& r) {
  return std::get_if<T>(&r.body);
}

// "1 message", "3 messages".
inline std::string countOf(uint64_t n, const char* one, const char* many) {
  return std::to_string(n) + " " + (n == 1 ? one : many);
}

// "online", "offline, last seen 5m ago", "offline, never logged in".
inline std::string lastSeenText(const User& u, int64_t now) {
  if (u.online) {
    return "online";
  }
  std::string ago = agoText(u.lastSeenMillis, now);
  if (ago.empty()) {
    return "offline, never logged in";
  }
  return "offline, last seen " + (ago == "now" ? std::string("just now") : ago + " ago");
}

}  // namespace chat::tui

#endif  // CHAT_TUI_APP_CONTROLLER_HELPERS_H_
