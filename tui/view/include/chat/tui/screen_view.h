// The whole chat-tui screen drawn into a Canvas: the status strip (or the failover banner),
// the login form or the chat layout (user list, conversation title, conversation pane,
// notice line, input line), and the overlays (F1 help, F3 cluster panel). Below 40x12 it
// draws a "terminal too small" screen instead. screenLayout() gives the same geometry to
// the controller for scrolling by pages and mouse clicks.
// Thread contract: pure drawing.
#ifndef CHAT_TUI_SCREEN_VIEW_H_
#define CHAT_TUI_SCREEN_VIEW_H_

#include <cstdint>

#include "chat/tui/canvas.h"
#include "chat/tui/chat_model.h"
#include "chat/tui/conversation_view.h"
#include "chat/tui/key_map.h"
#include "chat/tui/screen_state.h"

namespace chat::tui {

constexpr int kMinWidth = 40;
constexpr int kMinHeight = 12;

struct ScreenLayout {
  bool tooSmall = false;
  Rect strip;
  Rect users;  // width 0 when hidden
  Rect title;
  Rect pane;   // the conversation's messages
  Rect notice;
  Rect input;
};
ScreenLayout screenLayout(int width, int height, const ScreenState& state);

// Where the terminal's cursor goes after drawing.
struct CursorPosition {
  int x = 0;
  int y = 0;
  bool visible = false;
};

struct ScreenOptions {
  ConversationViewOptions conversation;  // formatTime for golden tests
  const KeyMap* keys = nullptr;          // for the help overlay; the defaults when null
};

CursorPosition drawScreen(Canvas& canvas, const ChatModel& model, const ScreenState& state,
                          int64_t nowMillis, const ScreenOptions& options = {});

// The help overlay's lines (keys, then commands), for drawing and for paging.
std::vector<std::string> helpLines(const KeyMap& keys);

}  // namespace chat::tui

#endif  // CHAT_TUI_SCREEN_VIEW_H_
