// TuiController, the keys' side: editing, commands, conversations, scrolling, search and
// completion. The cluster's side is in tui_controller_events.cpp.
#include "chat/tui/tui_controller.h"

#include <algorithm>

#include "chat/tui/commands.h"
#include "chat/tui/screen_view.h"
#include "chat/tui/text_width.h"
#include "chat/tui/user_list_view.h"
#include "controller_helpers.h"

namespace chat::tui {

TuiController::TuiController(TuiSettings settings, Submit submit)
    : settings_(std::move(settings)), submit_(std::move(submit)) {
  state_.mouse = settings_.mouse;
  state_.colours = settings_.colours;
  state_.form.user.setText(settings_.user);
  state_.form.onPassword = !settings_.user.empty();
  state_.connection.nodesTotal = static_cast<int>(settings_.servers.size());
}

void TuiController::setScreenSize(int width, int height) {
  width_ = width;
  height_ = height;
}

Effects TuiController::takeEffects() {
  Effects e = effects_;
  effects_ = Effects{};
  return e;
}

uint64_t TuiController::request(protocol::Request r, PendingRequest p, uint64_t reuseId) {
  uint64_t id = submit_(std::move(r), reuseId);
  pending_[id] = std::move(p);
  return id;
}

// ---- keys ----

bool TuiController::edit(LineEditor& e, const Key& key, const std::string& action) {
  if (action == "line-start") {
    e.home();
  } else if (action == "line-end") {
    e.end();
  } else if (action == "char-left") {
    e.left();
  } else if (action == "char-right") {
    e.right();
  } else if (action == "word-left") {
    e.wordLeft();
  } else if (action == "word-right") {
    e.wordRight();
  } else if (action == "backspace") {
    e.backspace();
  } else if (action == "delete-char") {
    e.deleteForward();
  } else if (action == "kill-word-back") {
    e.killWordBack();
  } else if (action == "kill-word-forward") {
    e.killWordForward();
  } else if (action == "kill-line-start") {
    e.killToStart();
  } else if (action == "kill-line-end") {
    e.killToEnd();
  } else if (action == "yank") {
    e.yank();
  } else if (action.empty() && key.code == KeyCode::kText && !key.ctrl && !key.alt) {
    e.insert(key.text);
  } else {
    return false;
  }
  return true;
}

void TuiController::onKey(const Key& key, int64_t now) {
  std::string action = keys_.actionFor(key);
  if (action.empty() && key.alt && key.code == KeyCode::kText && !key.ctrl) {
    // Esc typed quickly before a key arrives as Alt+key; with nothing bound to that, it
    // was meant as Esc, then the key.
    Key plain = key;
    plain.alt = false;
    onKey(Key::of(KeyCode::kEscape), now);
    onKey(plain, now);
    return;
  }
  if (action == "quit") {
    effects_.quit = true;
    return;
  }
  if (action == "redraw") {
    effects_.redraw = true;
    return;
  }
  if (action == "toggle-mouse") {
    state_.mouse = !state_.mouse;
    effects_.mouseChanged = true;
    state_.notify(state_.mouse ? "mouse on: wheel scrolls, click picks a conversation "
                                 "(Alt+M again to select text)"
                               : "mouse off",
                  now);
    return;
  }
  if (state_.showHelp) {
    if (action == "page-up") {
      state_.helpScroll = std::max(0, state_.helpScroll - (height_ - 4));
    } else if (action == "page-down" || action == "history-down") {
      state_.helpScroll += action == "page-down" ? height_ - 4 : 1;
      int most = std::max(0, static_cast<int>(helpLines(keys_).size()) - (height_ - 4));
      state_.helpScroll = std::min(state_.helpScroll, most);
    } else if (action == "history-up") {
      state_.helpScroll = std::max(0, state_.helpScroll - 1);
    } else {
      state_.showHelp = false;  // any other key closes it
    }
    return;
  }
  if (action == "help") {
    state_.showHelp = true;
    state_.helpScroll = 0;
    state_.showCluster = false;
    return;
  }
  if (state_.showCluster && (action == "escape" || action == "cluster")) {
    state_.showCluster = false;
    return;
  }
  if (action == "cluster") {
    state_.showCluster = true;
    return;
  }
  if (key.code == KeyCode::kMouse) {
    onMouse(key.mouse);
    return;
  }
  if (state_.screen == Screen::kLogin) {
    onLoginKey(key, action, now);
  } else if (state_.inputMode != InputMode::kMessage) {
    onPromptKey(key, action, now);
  } else {
    onChatKey(key, action, now);
  }
}

void TuiController::onLoginKey(const Key& key, const std::string& action, int64_t now) {
  LoginForm& f = state_.form;
  if (key.code == KeyCode::kFunction && key.number == 5) {
    f.creating = !f.creating;
    f.message.clear();
    return;
  }
  if (action == "complete" || action == "complete-back" || action == "history-up" ||
      action == "history-down") {
    f.onPassword = !f.onPassword;
    return;
  }
  if (key.code == KeyCode::kPaste) {
    std::string line = key.text.substr(0, key.text.find('\n'));
    (f.onPassword ? f.password : f.user).insert(line);
    return;
  }
  if (action == "send") {
    if (f.busy) {
      return;
    }
    std::string user = f.user.text();
    if (user.empty()) {
      f.onPassword = false;
      f.message = "type a user name first";
      f.messageIsError = true;
      return;
    }
    if (!f.onPassword && f.password.empty()) {
      f.onPassword = true;
      return;
    }
    if (f.password.empty()) {
      f.message = "type the password, then Enter";
      f.messageIsError = true;
      return;
    }
    loginUser_ = user;
    f.busy = true;
    f.messageIsError = false;
    if (f.creating) {
      loginPassword_ = f.password.text();
      f.message = "creating " + user + "...";
      request(protocol::CreateRequest{user, f.password.text()},
              PendingRequest{Purpose::kCreate, 0, user, now});
    } else {
      f.message = "logging in as " + user + "...";
      request(protocol::LoginRequest{user, f.password.text()},
              PendingRequest{Purpose::kLogin, 0, user, now});
    }
    return;
  }
  edit(f.onPassword ? f.password : f.user, key, action);
}

void TuiController::onPromptKey(const Key& key, const std::string& action, int64_t now) {
  if (action == "escape") {
    state_.inputMode = InputMode::kMessage;
    state_.prompt.setText("");
    state_.highlightId = 0;
    state_.matches.clear();
    return;
  }
  if (state_.inputMode == InputMode::kSearch) {
    if (action == "send" || action == "search" || action == "history-up") {
      if (!state_.matches.empty()) {
        state_.match = (state_.match + state_.matches.size() - 1) % state_.matches.size();
        scrollToMessage(state_.matches[state_.match]);
      }
      return;
    }
    if (action == "history-down") {
      if (!state_.matches.empty()) {
        state_.match = (state_.match + 1) % state_.matches.size();
        scrollToMessage(state_.matches[state_.match]);
      }
      return;
    }
    if (key.code == KeyCode::kPaste) {
      state_.prompt.insert(key.text.substr(0, key.text.find('\n')));
    } else if (!edit(state_.prompt, key, action)) {
      return;
    }
    updateSearch();
    return;
  }
  // Confirming the deletion of the account with the password.
  if (action == "send") {
    std::string password = state_.prompt.text();
    state_.prompt.setText("");
    state_.inputMode = InputMode::kMessage;
    if (password.empty()) {
      state_.notify("not deleted: the password was empty", now);
      return;
    }
    request(protocol::DeleteAccountRequest{model_.self(), password},
            PendingRequest{Purpose::kDelete, 0, model_.self(), now});
    state_.notify("deleting the account " + model_.self() + "...", now);
    return;
  }
  edit(state_.prompt, key, action);
}

void TuiController::onChatKey(const Key& key, const std::string& action, int64_t now) {
  bool completing = action == "complete" || action == "complete-back";
  if (!completing) {
    completion_.active = false;
  }
  if (key.code == KeyCode::kPaste) {
    // One paste is one message: its newlines stay in the line until Enter.
    state_.input.insert(key.text);
    if (key.text.find('\n') != std::string::npos) {
      state_.notify("pasted " + std::to_string(std::count(key.text.begin(), key.text.end(), '\n') + 1) +
                        " lines: Enter sends them as one message",
                    now);
    }
    return;
  }
  if (action.rfind("window ", 0) == 0) {
    size_t n = static_cast<size_t>(std::stoi(action.substr(7)));
    if (n <= model_.conversations().size()) {
      model_.select(n - 1);
      selected();
    }
    return;
  }
  if (action == "send") {
    submitLine(now);
  } else if (action == "newline") {
    state_.input.insert("\n");
  } else if (action == "next") {
    model_.selectNext();
    selected();
  } else if (action == "previous") {
    model_.selectPrevious();
    selected();
  } else if (action == "next-unread") {
    if (model_.selectNextUnread()) {
      selected();
    } else {
      state_.notify("no unread messages", now);
    }
  } else if (action == "first-unread") {
    if (uint64_t id = model_.firstUnread(); id != 0) {
      scrollToMessage(id);
    } else {
      state_.notify("nothing was unread here", now);
    }
  } else if (action == "page-up") {
    scroll(std::max(1, paneLines() - 1));
  } else if (action == "page-down") {
    scroll(-std::max(1, paneLines() - 1));
  } else if (action == "scroll-end") {
    state_.scrollBack = 0;
    state_.highlightId = 0;
  } else if (action == "scroll-start") {
    scroll(1 << 20);
  } else if (action == "history-up") {
    state_.input.historyUp();
  } else if (action == "history-down") {
    state_.input.historyDown();
  } else if (completing) {
    complete(action == "complete-back");
  } else if (action == "search") {
    state_.inputMode = InputMode::kSearch;
    state_.prompt.setText("");
    state_.matches.clear();
  } else if (action == "retry") {
    retryLast(now);
  } else if (action == "toggle-users") {
    state_.showUsers = !state_.showUsers;
  } else if (action == "escape") {
    state_.highlightId = 0;
  } else if (edit(state_.input, key, action) && key.code == KeyCode::kText) {
    typed(now);
  }
}

void TuiController::typed(int64_t now) {
  const Conversation* c = model_.active();
  const std::string& text = state_.input.text();
  if (c == nullptr || text.empty() || text[0] == '/') {
    return;
  }
  int64_t& last = typingSentAt_[c->peer];
  if (now - last >= kTypingEveryMillis) {
    last = now;
    PendingRequest typing;
    typing.purpose = Purpose::kTyping;
    request(protocol::TypingRequest{c->peer}, typing);
  }
}

void TuiController::onMouse(const MouseEvent& m) {
  if (!state_.mouse || state_.screen != Screen::kChat) {
    return;
  }
  ScreenLayout l = screenLayout(width_, height_, state_);
  if (m.kind == MouseEvent::Kind::kWheelUp) {
    scroll(3);
  } else if (m.kind == MouseEvent::Kind::kWheelDown) {
    scroll(-3);
  } else if (m.kind == MouseEvent::Kind::kPress && m.button == 0 && l.users.width > 0 &&
             m.x < l.users.width && m.y >= l.users.y && m.y < l.users.y + l.users.height) {
    auto names = userListOrder(model_, state_.userFilter);
    size_t row = static_cast<size_t>(m.y - l.users.y);
    if (row < names.size()) {
      if (protocol::isRoomName(names[row]) && model_.find(names[row]) == nullptr) {
        runRoomCommand(*parseCommand("/join " + names[row]), 0);  // a room we are not in
      } else {
        openConversation(names[row]);
      }
    }
  }
}

// ---- lines and commands ----

void TuiController::submitLine(int64_t now) {
  std::string line = state_.input.take();
  if (line.find_first_not_of(" \t\n") == std::string::npos) {
    return;
  }
  if (parseCommand(line)) {
    runCommand(line, now);
    return;
  }
  const Conversation* c = model_.active();
  if (c == nullptr) {
    state_.notify("no conversation open: /msg user text, or /query user", now, true);
    return;
  }
  send(c->peer, messageText(line), now);
}

void TuiController::send(const std::string& peer, const std::string& text, int64_t now) {
  uint64_t localId = model_.beginSend(peer, text, now);
  sendRequestIds_[localId] =
      request(protocol::SendRequest{peer, text}, PendingRequest{Purpose::kSend, localId, peer, now});
  state_.scrollBack = 0;
  if (const User* u = model_.user(peer); u != nullptr && !u->online) {
    state_.notify(u->name + " is " + lastSeenText(*u, now) + ": it waits for them (◷)", now);
  }
}

void TuiController::retryLast(int64_t now) {
  const Conversation* c = model_.active();
  if (c == nullptr) {
    return;
  }
  for (auto it = c->messages.rbegin(); it != c->messages.rend(); ++it) {
    if (it->delivery == Delivery::kFailed) {
      auto again = model_.retry(it->localId);
      if (again) {
        // Under the first attempt's request id: if that one was stored after all (its reply
        // timed out), the cluster answers with it instead of storing a second copy.
        uint64_t& id = sendRequestIds_[again->localId];
        id = request(protocol::SendRequest{again->recipient, again->body},
                     PendingRequest{Purpose::kSend, again->localId, again->recipient, now}, id);
        state_.notify("re-sending to " + again->recipient, now);
      }
      return;
    }
  }
  state_.notify("no failed message to re-send here", now);
}

void TuiController::runCommand(const std::string& line, int64_t now) {
  ParsedCommand cmd = *parseCommand(line);
  if (runRoomCommand(cmd, now)) {
    return;
  }
  const std::string& n = cmd.name;
  auto usage = [&](const char* name) {
    state_.notify(std::string("usage: ") + findCommand(name)->usage, now, true);
  };
  if (n == "/msg" || n == "/query") {
    if (cmd.arg.empty()) {
      return usage(n.c_str());
    }
    if (protocol::sameUsername(cmd.arg, model_.self())) {
      state_.notify("that is you; pick someone else (/list shows who is there)", now, true);
      return;
    }
    openConversation(cmd.arg);
    if (n == "/msg" && !cmd.rest.empty()) {
      send(cmd.arg, cmd.rest, now);
    }
  } else if (n == "/close") {
    if (const Conversation* c = model_.active()) {
      std::string peer = c->peer;
      model_.close(peer);
      historyFetched_.erase(lowerName(peer));
      selected();
    }
  } else if (n == "/list") {
    state_.userFilter = cmd.arg;
    request(protocol::ListRequest{cmd.arg, 0, 200},
            PendingRequest{Purpose::kList, 0, cmd.arg, now});
  } else if (n == "/whois") {
    if (cmd.arg.empty()) {
      return usage("/whois");
    }
    request(protocol::ListRequest{cmd.arg, 0, 1}, PendingRequest{Purpose::kWhois, 0, cmd.arg, now});
  } else if (n == "/deliver") {
    uint32_t max = 0;
    if (!cmd.arg.empty()) {
      try {
        max = static_cast<uint32_t>(std::stoul(cmd.arg));
      } catch (const std::exception&) {
        return usage("/deliver");
      }
    }
    request(protocol::DeliverRequest{max, "", ""}, PendingRequest{Purpose::kDeliver, 0, "", now});
  } else if (n == "/search") {
    state_.inputMode = InputMode::kSearch;
    state_.prompt.setText(cmd.all);
    updateSearch();
  } else if (n == "/cluster") {
    state_.showCluster = true;
  } else if (n == "/reconnect") {
    effects_.reconnect = true;
  } else if (n == "/retry") {
    retryLast(now);
  } else if (n == "/login" || n == "/register") {
    if (loggedIn_) {
      request(protocol::LogoutRequest{}, PendingRequest{Purpose::kLogout, 0, "", now});
    }
    backToLogin(n == "/login" ? "log in as someone else" : "choose a name and a password", false);
    state_.form.creating = n == "/register";
    state_.form.user.setText("");
    state_.form.onPassword = false;
  } else if (n == "/logout") {
    request(protocol::LogoutRequest{}, PendingRequest{Purpose::kLogout, 0, "", now});
  } else if (n == "/delete-account") {
    state_.inputMode = InputMode::kConfirmDelete;
    state_.prompt.setText("");
  } else if (n == "/mouse") {
    state_.mouse = !state_.mouse;
    effects_.mouseChanged = true;
  } else if (n == "/help") {
    if (cmd.arg.empty()) {
      state_.showHelp = true;
      state_.helpScroll = 0;
    } else {
      std::string name = cmd.arg[0] == '/' ? cmd.arg : "/" + cmd.arg;
      if (const CommandSpec* spec = findCommand(name)) {
        state_.notify(std::string(spec->usage) + ": " + spec->help, now);
      } else {
        state_.notify("no command " + name + "; F1 lists them all", now, true);
      }
    }
  } else if (n == "/quit") {
    effects_.quit = true;
  } else {
    std::string near = nearestCommand(n);
    state_.notify("unknown command " + n + (near.empty() ? "" : "; did you mean " + near + "?") +
                      " (F1 lists every command; // sends a line starting with /)",
                  now, true);
  }
}

// ---- conversations, scrolling, search, completion ----

void TuiController::openConversation(const std::string& peer) {
  model_.open(peer);
  model_.select(peer);
  selected();
}

void TuiController::selected() {
  state_.scrollBack = 0;
  state_.highlightId = 0;
  if (const Conversation* c = model_.active()) {
    std::string key = lowerName(c->peer);
    if (historyFetched_.insert(key).second && loggedIn_) {
      fetchHistory(c->peer, 0);
    }
  }
}

void TuiController::fetchHistory(const std::string& peer, uint64_t beforeId) {
  request(protocol::HistoryRequest{peer, beforeId, 50},
          PendingRequest{Purpose::kHistory, 0, peer, 0});
}

int TuiController::paneLines() const {
  return screenLayout(width_, height_, state_).pane.height;
}

void TuiController::scroll(int lines) {
  const Conversation* c = model_.active();
  if (c == nullptr) {
    return;
  }
  ScreenLayout l = screenLayout(width_, height_, state_);
  int total = conversationLineCount(*c, l.pane.width);
  int most = std::max(0, total - l.pane.height);
  if (lines > 0 && state_.scrollBack + lines > most && c->hasOlder) {
    // At the top of what we hold: ask the server for the page before it.
    uint64_t oldest = 0;
    for (const auto& m : c->messages) {
      if (m.id != 0) {
        oldest = m.id;
        break;
      }
    }
    bool asked = std::any_of(pending_.begin(), pending_.end(), [&](const auto& p) {
      return p.second.purpose == Purpose::kHistory && p.second.name == c->peer;
    });
    if (!asked && oldest != 0) {
      fetchHistory(c->peer, oldest);
    }
  }
  state_.scrollBack = std::clamp(state_.scrollBack + lines, 0, most);
  if (state_.scrollBack == 0) {
    state_.highlightId = 0;
  }
}

void TuiController::scrollToMessage(uint64_t id) {
  const Conversation* c = model_.active();
  if (c == nullptr) {
    return;
  }
  ScreenLayout l = screenLayout(width_, height_, state_);
  int total = conversationLineCount(*c, l.pane.width);
  int line = messageLine(*c, id, l.pane.width);
  if (line < 0) {
    return;
  }
  int most = std::max(0, total - l.pane.height);
  state_.scrollBack = std::clamp(total - line - l.pane.height / 2, 0, most);
  state_.highlightId = id;
}

void TuiController::updateSearch() {
  state_.matches = model_.search(state_.prompt.text());
  state_.match = state_.matches.empty() ? 0 : state_.matches.size() - 1;
  if (state_.matches.empty()) {
    state_.highlightId = 0;
  } else {
    scrollToMessage(state_.matches[state_.match]);
  }
}

void TuiController::complete(bool backwards) {
  LineEditor& e = state_.input;
  if (!completion_.active) {
    std::string before = e.text().substr(0, e.cursor());
    size_t start = before.find_last_of(" \n");
    start = start == std::string::npos ? 0 : start + 1;
    std::string word = before.substr(start);
    bool commandPosition = start == 0 && !word.empty() && word[0] == '/';
    if (word.empty() && start != 0) {
      return;
    }
    auto candidates = model_.complete(word);
    if (!commandPosition) {
      candidates.erase(std::remove_if(candidates.begin(), candidates.end(),
                                      [](const std::string& s) { return !s.empty() && s[0] == '/'; }),
                       candidates.end());
    }
    if (candidates.empty()) {
      effects_.bell = true;
      return;
    }
    completion_.active = true;
    completion_.before = before.substr(0, start);
    completion_.after = e.text().substr(e.cursor());
    completion_.candidates = std::move(candidates);
    completion_.index = backwards ? completion_.candidates.size() - 1 : 0;
  } else {
    size_t n = completion_.candidates.size();
    completion_.index = backwards ? (completion_.index + n - 1) % n : (completion_.index + 1) % n;
  }
  std::string word = completion_.candidates[completion_.index];
  // A name at the start of a line addresses someone: "bob: "; elsewhere a space follows.
  bool lineStart = completion_.before.empty();
  std::string suffix = word[0] == '/' ? " " : (lineStart ? ": " : " ");
  e.setText(completion_.before + word + suffix + completion_.after);
  for (size_t i = 0; i < graphemes(completion_.after).size(); ++i) {
    e.left();
  }
}

void TuiController::backToLogin(std::string message, bool isError) {
  loggedIn_ = false;
  std::string self = model_.self();
  model_ = ChatModel{};
  historyFetched_.clear();
  pending_.clear();
  state_.screen = Screen::kLogin;
  state_.inputMode = InputMode::kMessage;
  state_.input.setText("");
  state_.scrollBack = 0;
  state_.highlightId = 0;
  state_.userFilter.clear();
  state_.form.busy = false;
  state_.form.password.setText("");
  state_.form.onPassword = !self.empty();
  if (!self.empty()) {
    state_.form.user.setText(self);
  }
  state_.form.message = std::move(message);
  state_.form.messageIsError = isError;
}

}  // namespace chat::tui
