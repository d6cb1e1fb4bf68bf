// Draws the user list (F2 toggles it): every conversation first (private ones and rooms), in
// Alt+number order, then rooms known from /rooms that the user is not in, then the other
// known users; an online marker (● online, ○ offline), the unread count, and for
// offline users how long ago they were last seen. The active conversation is highlighted.
// Thread contract: pure drawing.
#ifndef CHAT_TUI_USER_LIST_VIEW_H_
#define CHAT_TUI_USER_LIST_VIEW_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "chat/tui/canvas.h"
#include "chat/tui/chat_model.h"
#include "chat/tui/conversation_view.h"

namespace chat::tui {

// "now", "5m", "3h", "2d": how long ago `thenMillis` was; empty for 0 (never).
std::string agoText(int64_t thenMillis, int64_t nowMillis);

// The names in the list, top to bottom: conversations, then the other users that match
// `filter` (all when empty; '*' and '?' as /list takes them, case-insensitive). A click on row i selects entry i.
std::vector<std::string> userListOrder(const ChatModel& model, const std::string& filter);

void drawUserList(Canvas& canvas, const ChatModel& model, Rect area, int64_t nowMillis,
                  const std::string& filter = "");

}  // namespace chat::tui

#endif  // CHAT_TUI_USER_LIST_VIEW_H_
