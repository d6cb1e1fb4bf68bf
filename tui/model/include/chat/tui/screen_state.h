// ScreenState: everything chat-tui shows besides the chat model itself: which screen (the
// login form or the chat), the input line and its mode (message, search, the password that
// confirms deleting the account), the panels that are open, the scroll position, the
// notices, the connection strip and the cluster's nodes. The controller changes it; the
// renderer draws it. No curses, no sockets.
// Thread contract: plain values; the UI thread owns them.
#ifndef CHAT_TUI_SCREEN_STATE_H_
#define CHAT_TUI_SCREEN_STATE_H_

#include <cstdint>
#include <string>
#include <vector>

#include "chat/tui/connection_status.h"
#include "chat/tui/line_editor.h"

namespace chat::tui {

struct LoginForm {
  LineEditor user;
  LineEditor password;
  bool onPassword = false;  // which field has the cursor
  bool creating = false;    // create an account, then log in
  bool busy = false;        // waiting for the cluster's answer
  std::string message;      // what happened last (an error says what to do)
  bool messageIsError = false;
};

// One node of the cluster in the F3 panel.
struct NodeRow {
  uint32_t id = 0;
  std::string address;
  bool up = false;  // answered the last status poll
  std::string role;
  uint64_t epoch = 0;
  uint64_t commitIndex = 0;
  uint64_t lag = 0;  // entries behind the leader's commit
  std::string lastElection;
};

struct Notice {
  std::string text;
  bool isError = false;
  int64_t atMillis = 0;
};

enum class Screen { kLogin, kChat };
enum class InputMode { kMessage, kSearch, kConfirmDelete };

struct ScreenState {
  Screen screen = Screen::kLogin;
  LoginForm form;
  LineEditor input;
  InputMode inputMode = InputMode::kMessage;
  LineEditor prompt;  // the search text, or the password confirming a deletion

  bool showUsers = true;
  bool showHelp = false;
  int helpScroll = 0;
  bool showCluster = false;
  bool mouse = false;
  bool colours = true;

  int scrollBack = 0;      // lines scrolled up from the newest in the conversation
  uint64_t highlightId = 0;  // a message to show reversed (search match, first unread)
  std::string userFilter;  // /list pattern applied to the user list
  std::vector<uint64_t> matches;  // of the current search
  size_t match = 0;

  ConnectionStatus connection;
  std::vector<NodeRow> nodes;
  std::vector<Notice> notices;  // newest last; the server pane shows them

  void notify(std::string text, int64_t nowMillis, bool isError = false) {
    notices.push_back(Notice{std::move(text), isError, nowMillis});
    if (notices.size() > 500) {
      notices.erase(notices.begin());
    }
  }
};

}  // namespace chat::tui

#endif  // CHAT_TUI_SCREEN_STATE_H_
