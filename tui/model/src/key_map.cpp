#include "chat/tui/key_map.h"

#include <sstream>

namespace chat::tui {

void KeyMap::bind(std::string keys, std::string action, std::string help) {
  std::istringstream names(keys);
  std::string name;
  while (names >> name) {
    byName_[name] = action;
  }
  bindings_.push_back(Binding{std::move(keys), std::move(action), std::move(help)});
}

KeyMap KeyMap::defaults() {
  KeyMap m;
  m.bind("Enter", "send", "send the message (or run the /command)");
  m.bind("M-Enter", "newline", "new line inside the message");
  for (int i = 1; i <= 9; ++i) {
    m.bind("M-" + std::to_string(i), "window " + std::to_string(i),
           i == 1 ? "go to conversation 1..9, Alt+0 the 10th" : "");
  }
  m.bind("M-0", "window 10", "");
  m.bind("C-n M-Right", "next", "next conversation");
  m.bind("C-p M-Left", "previous", "previous conversation");
  m.bind("M-a", "next-unread", "next conversation with unread messages");
  m.bind("M-u", "first-unread", "jump to the first unread message");
  m.bind("PageUp", "page-up", "scroll up a page (older history from the server)");
  m.bind("PageDown", "page-down", "scroll down a page");
  m.bind("M-Home", "scroll-start", "scroll to the start");
  m.bind("M-End", "scroll-end", "scroll to the newest message");
  m.bind("Up", "history-up", "previous input line");
  m.bind("Down", "history-down", "next input line");
  m.bind("Tab", "complete", "complete a user or command");
  m.bind("S-Tab", "complete-back", "complete, backwards");
  m.bind("C-a Home", "line-start", "start of line");
  m.bind("C-e End", "line-end", "end of line");
  m.bind("C-b Left", "char-left", "character left");
  m.bind("Right", "char-right", "character right");
  m.bind("M-b C-Left", "word-left", "word left");
  m.bind("M-f C-Right", "word-right", "word right");
  m.bind("Backspace C-h", "backspace", "delete the character before the cursor");
  m.bind("Delete C-d", "delete-char", "delete the character under the cursor");
  m.bind("C-w M-Backspace", "kill-word-back", "delete the word before the cursor");
  m.bind("M-d", "kill-word-forward", "delete the word after the cursor");
  m.bind("C-u", "kill-line-start", "delete to the start of the line");
  m.bind("C-k", "kill-line-end", "delete to the end of the line");
  m.bind("C-y", "yank", "paste the last deleted text");
  m.bind("C-f", "search", "search in the conversation (again: next match)");
  m.bind("M-r", "retry", "re-send the last failed message");
  m.bind("C-l", "redraw", "redraw the screen");
  m.bind("F1", "help", "this help");
  m.bind("F2", "toggle-users", "show or hide the user list");
  m.bind("F3", "cluster", "cluster panel: every node's role, epoch, lag");
  m.bind("M-m", "toggle-mouse", "mouse mode on/off (wheel scrolls, click selects)");
  m.bind("Escape", "escape", "close a panel, leave search");
  m.bind("C-c", "quit", "quit");
  return m;
}

std::string KeyMap::actionFor(const Key& key) const {
  auto it = byName_.find(keyName(key));
  return it == byName_.end() ? std::string() : it->second;
}

}  // namespace chat::tui
