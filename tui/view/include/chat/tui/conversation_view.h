// Draws one conversation into a rectangle of a Canvas: newest message at the bottom, each
// message as "HH:MM sender: body" with its body wrapped under itself, the sender in a colour
// of its own (stable: the same name always gets the same colour), a delivery mark after
// each own message (… sending, ✓ stored, ◷ waiting for an offline recipient, ✓✓ delivered,
// ✗ failed) and a "delivered while you were away" rule before the first such message.
// Thread contract: pure drawing.
#ifndef CHAT_TUI_CONVERSATION_VIEW_H_
#define CHAT_TUI_CONVERSATION_VIEW_H_

#include <functional>
#include <string>

#include "chat/tui/canvas.h"
#include "chat/tui/chat_model.h"

namespace chat::tui {

struct Rect {
  int x = 0;
  int y = 0;
  int width = 0;
  int height = 0;
};

struct ConversationViewOptions {
  // Wall-clock milliseconds to "HH:MM"; local time when unset.
  std::function<std::string(int64_t)> formatTime;
  int scrollBack = 0;  // lines scrolled up from the newest
  uint64_t highlightId = 0;  // a message drawn reversed (a search match, the first unread)
};

// The colour a user's name is drawn in.
Colour colourOf(const std::string& name);
// The mark after an own message; empty for incoming ones.
std::string deliveryMark(Delivery d);

// Draws `c` into `area`. Returns how many lines the whole conversation takes at this width
// (for scrolling).
// The line (from 0, counting the wrapped lines of every message) where message `id` starts
// at this width; -1 when it is not there. For scrolling a message into view.
int messageLine(const Conversation& c, uint64_t id, int width,
                const ConversationViewOptions& options = {});

// How many lines the whole conversation takes at this width.
int conversationLineCount(const Conversation& c, int width,
                          const ConversationViewOptions& options = {});

int drawConversation(Canvas& canvas, const Conversation& c, const std::string& self, Rect area,
                     const ConversationViewOptions& options = {});

}  // namespace chat::tui

#endif  // CHAT_TUI_CONVERSATION_VIEW_H_
