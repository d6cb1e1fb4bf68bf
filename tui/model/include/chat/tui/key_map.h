// KeyMap: which key runs which named action ("send", "window 3", "page-up"), as data, so the
// bindings are testable and listed in the help overlay from the same table (WeeChat binds
// every key to a command the same way). Keys are addressed by keyName() ("C-n", "M-1").
// Thread contract: immutable after construction.
#ifndef CHAT_TUI_KEY_MAP_H_
#define CHAT_TUI_KEY_MAP_H_

#include <map>
#include <string>
#include <vector>

#include "chat/tui/key_input.h"

namespace chat::tui {

struct Binding {
  std::string keys;    // key names, as shown in help: "C-n M-Right"
  std::string action;  // what it runs
  std::string help;    // one line for the help overlay
};

class KeyMap {
 public:
  // The bindings of ../shared/TUI.md (Alt+1..0, Ctrl+N/P, Alt+A, PgUp/PgDn, Alt+U, readline
  // editing, F1/F2/F3, Ctrl+F, ...).
  static KeyMap defaults();

  // The action bound to `key`; empty when none (a printable key is then typed).
  std::string actionFor(const Key& key) const;
  // Every binding, in help order.
  const std::vector<Binding>& bindings() const { return bindings_; }

 private:
  void bind(std::string keys, std::string action, std::string help);

  std::vector<Binding> bindings_;
  std::map<std::string, std::string> byName_;
};

}  // namespace chat::tui

#endif  // CHAT_TUI_KEY_MAP_H_
