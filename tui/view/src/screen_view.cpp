#include "chat/tui/screen_view.h"

#include <algorithm>

#include "chat/tui/commands.h"
#include "chat/tui/text_width.h"
#include "chat/tui/user_list_view.h"

namespace chat::tui {

namespace {

constexpr int64_t kNoticeShownMillis = 10000;

Style stripStyle(const ScreenState& s) {
  Style st;
  if (s.connection.alarming() ||
      s.connection.state == ConnectionStatus::State::kFailedOver) {
    st.fg = Colour::kBlack;
    st.bg = Colour::kYellow;
    st.bold = true;
  } else {
    st.fg = Colour::kWhite;
    st.bg = Colour::kBlue;
  }
  if (!s.colours) {
    st = Style{};
    st.reverse = true;
  }
  return st;
}

std::string masked(const LineEditor& e) {
  std::string out;
  for (size_t i = 0; i < graphemes(e.text()).size(); ++i) {
    out += '*';
  }
  return out;
}

int maskedCursor(const LineEditor& e) {
  int n = 0;
  for (const auto& g : graphemes(e.text())) {
    if (g.offset >= e.cursor()) {
      break;
    }
    ++n;
  }
  return n;
}

// Draws a one-line field: the editor's visible slice (or stars) in `width` columns; returns
// the cursor's column in the field.
int drawField(Canvas& c, int x, int y, int width, const LineEditor& e, bool secret, Style style) {
  c.fill(x, y, width, 1, style);
  if (secret) {
    std::string stars = masked(e);
    int cursor = maskedCursor(e);
    int first = std::max(0, cursor - width + 1);
    c.put(x, y, stars.substr(static_cast<size_t>(first)), style, width);
    return cursor - first;
  }
  auto v = e.view(width);
  // A newline inside the message (Alt+Enter, a paste) shows as one column: ↵.
  std::string shown;
  for (char ch : v.visible) {
    shown += ch == '\n' ? std::string("↵") : std::string(1, ch);
  }
  c.put(x, y, shown, style, width);
  return v.cursorColumn;
}

void drawBox(Canvas& c, Rect r, const std::string& title) {
  Style border;
  border.bold = true;
  c.fill(r.x, r.y, r.width, r.height);
  for (int x = r.x + 1; x < r.x + r.width - 1; ++x) {
    c.put(x, r.y, "─", border);
    c.put(x, r.y + r.height - 1, "─", border);
  }
  for (int y = r.y + 1; y < r.y + r.height - 1; ++y) {
    c.put(r.x, y, "│", border);
    c.put(r.x + r.width - 1, y, "│", border);
  }
  c.put(r.x, r.y, "┌", border);
  c.put(r.x + r.width - 1, r.y, "┐", border);
  c.put(r.x, r.y + r.height - 1, "└", border);
  c.put(r.x + r.width - 1, r.y + r.height - 1, "┘", border);
  if (!title.empty()) {
    c.put(r.x + 2, r.y, " " + title + " ", border, r.width - 4);
  }
}

void drawTooSmall(Canvas& c) {
  std::string a = "terminal too small";
  std::string b = std::to_string(c.width()) + "x" + std::to_string(c.height()) + ", needs " +
                  std::to_string(kMinWidth) + "x" + std::to_string(kMinHeight);
  int y = std::max(0, c.height() / 2 - 1);
  c.put(std::max(0, (c.width() - displayWidth(a)) / 2), y, a, Style{.bold = true});
  c.put(std::max(0, (c.width() - displayWidth(b)) / 2), y + 1, b);
}

void drawStrip(Canvas& c, const ChatModel& model, const ScreenState& s, Rect r) {
  Style st = stripStyle(s);
  c.fill(r.x, r.y, r.width, 1, st);
  bool chat = s.screen == Screen::kChat;
  std::string self = chat && !model.self().empty() ? model.self() + " │ " : "";
  std::string right;
  if (uint32_t n = model.totalUnread(); n > 0 && chat) {
    right = std::to_string(n) + " unread ";
  }
  // The longest form that fits: everything; without the unread count (the user list has
  // it too); the compact status; without the user's name.
  struct Form {
    bool compact;
    bool unread;
    bool name;
  };
  static constexpr Form kForms[] = {
      {false, true, true}, {false, false, true}, {true, true, true}, {true, false, true},
      {true, false, false}};
  std::string left;
  std::string shownRight;
  for (const Form& f : kForms) {
    left = " " + (f.name ? self : "") + s.connection.text(f.compact);
    shownRight = f.unread ? right : "";
    if (displayWidth(left) + displayWidth(shownRight) + 2 <= r.width) {
      break;
    }
  }
  right = shownRight;
  int rightWidth = displayWidth(right);
  c.put(r.x, r.y, left, st, r.width - rightWidth);
  if (rightWidth > 0) {
    c.put(r.x + r.width - rightWidth, r.y, right, st);
  }
}

CursorPosition drawLogin(Canvas& c, const ScreenState& s, Rect area) {
  const LoginForm& f = s.form;
  int w = std::min(area.width - 2, 60);
  int h = 10;
  Rect box{area.x + (area.width - w) / 2, area.y + std::max(0, (area.height - h) / 2), w, h};
  drawBox(c, box, f.creating ? "create an account" : "log in");
  int labelWidth = 10;
  int fieldX = box.x + 2 + labelWidth;
  int fieldWidth = box.width - labelWidth - 4;
  Style field;
  field.reverse = true;
  c.put(box.x + 2, box.y + 2, "user", {}, labelWidth);
  int userCursor = drawField(c, fieldX, box.y + 2, fieldWidth, f.user, false, field);
  c.put(box.x + 2, box.y + 4, "password", {}, labelWidth);
  int passCursor = drawField(c, fieldX, box.y + 4, fieldWidth, f.password, true, field);
  std::string hint = f.creating ? "Enter creates it · F5: log in instead"
                                : "Enter logs in · F5: new account";
  Style dim;
  dim.dim = true;
  c.put(box.x + 2, box.y + 6, hint, dim, box.width - 4);
  c.put(box.x + 2, box.y + 7, "Tab: next field · Ctrl+C quits", dim, box.width - 4);
  if (!f.message.empty()) {
    Style m;
    m.fg = f.messageIsError ? Colour::kRed : Colour::kDefault;
    m.bold = f.messageIsError;
    auto lines = wrap(f.busy ? f.message : f.message, box.width - 4);
    int y = box.y + h;
    for (const auto& line : lines) {
      if (y >= area.y + area.height) {
        break;
      }
      c.put(box.x + 2, y++, line, m, box.width - 4);
    }
  }
  CursorPosition cur;
  cur.visible = !f.busy;
  cur.y = box.y + (f.onPassword ? 4 : 2);
  cur.x = fieldX + (f.onPassword ? passCursor : userCursor);
  return cur;
}

void drawTitle(Canvas& c, const ChatModel& model, const ScreenState& s, Rect r,
               int64_t nowMillis) {
  c.fill(r.x, r.y, r.width, 1);
  const Conversation* conv = model.active();
  Style bold;
  bold.bold = true;
  if (conv == nullptr) {
    c.put(r.x, r.y, "server notices · /msg user text starts a conversation", bold, r.width);
    return;
  }
  size_t index = 0;
  for (; index < model.conversations().size(); ++index) {
    if (&model.conversations()[index] == conv) {
      break;
    }
  }
  std::string title = "[" + std::to_string(index + 1) + "] " + conv->peer;
  int used = c.put(r.x, r.y, title, Style{.fg = colourOf(conv->peer), .bold = true}, r.width);
  const User* u = model.user(conv->peer);
  std::string state;
  Style st;
  if (nowMillis < conv->typingUntilMillis) {
    state = " · " + (conv->typingUser.empty() ? conv->peer : conv->typingUser) + " is typing…";
    st.fg = Colour::kGreen;
  } else if (conv->isRoom()) {
    size_t online = 0;
    for (const auto& m : conv->members) {
      online += m.online ? 1 : 0;
    }
    state = conv->members.empty()
                ? " · room (/members lists who is in it)"
                : " · room of " + std::to_string(conv->members.size()) + ", " +
                      std::to_string(online) + " online";
    st.dim = true;
  } else if (u == nullptr) {
    state = "";
  } else if (u->online) {
    state = " · online";
    st.fg = Colour::kGreen;
  } else {
    std::string ago = agoText(u->lastSeenMillis, nowMillis);
    state = " · offline" +
            (ago.empty() ? std::string(", never seen")
                         : ", last seen " + (ago == "now" ? std::string("just now") : ago + " ago")) +
            ": messages wait for them";
    st.dim = true;
  }
  if (s.scrollBack > 0) {
    state += " · scrolled up (Alt+End: newest)";
  }
  c.put(r.x + used, r.y, state, st, r.width - used);
}

void drawNotices(Canvas& c, const ScreenState& s, Rect r) {
  c.fill(r.x, r.y, r.width, r.height);
  std::vector<std::pair<std::string, bool>> lines;
  for (const auto& n : s.notices) {
    for (const auto& l : wrap(n.text, r.width)) {
      lines.emplace_back(l, n.isError);
    }
  }
  int first = std::max(0, static_cast<int>(lines.size()) - r.height);
  int y = r.y + r.height - (static_cast<int>(lines.size()) - first);
  for (size_t i = static_cast<size_t>(first); i < lines.size(); ++i, ++y) {
    Style st;
    st.fg = lines[i].second ? Colour::kRed : Colour::kDefault;
    c.put(r.x, y, lines[i].first, st, r.width);
  }
}

void drawNoticeLine(Canvas& c, const ScreenState& s, Rect r, int64_t nowMillis) {
  c.fill(r.x, r.y, r.width, 1);
  Style st;
  std::string text;
  if (s.inputMode == InputMode::kSearch) {
    text = s.matches.empty() ? (s.prompt.empty() ? "type to search · Enter or Ctrl+F: next · Esc: done"
                                                  : "no match in this conversation")
                             : "match " + std::to_string(s.match + 1) + " of " +
                                   std::to_string(s.matches.size()) +
                                   " · Enter or Ctrl+F: next · Esc: done";
  } else if (s.inputMode == InputMode::kConfirmDelete) {
    text = "deleting the account cannot be undone: type your password and Enter, Esc cancels";
    st.fg = Colour::kRed;
    st.bold = true;
  } else if (!s.notices.empty() && nowMillis - s.notices.back().atMillis < kNoticeShownMillis) {
    text = s.notices.back().text;
    st.fg = s.notices.back().isError ? Colour::kRed : Colour::kDefault;
    st.bold = s.notices.back().isError;
  } else {
    text = "F1 help · Alt+1..0 switch · Tab complete · PgUp history · /msg user text";
    st.dim = true;
  }
  c.put(r.x, r.y, text, st, r.width);
}

CursorPosition drawInput(Canvas& c, const ChatModel& model, const ScreenState& s, Rect r) {
  c.fill(r.x, r.y, r.width, 1);
  std::string prompt;
  const LineEditor* editor = &s.input;
  bool secret = false;
  switch (s.inputMode) {
    case InputMode::kSearch:
      prompt = "search: ";
      editor = &s.prompt;
      break;
    case InputMode::kConfirmDelete:
      prompt = "password: ";
      editor = &s.prompt;
      secret = true;
      break;
    case InputMode::kMessage:
      prompt = model.active() != nullptr ? "[" + model.active()->peer + "] " : "> ";
      break;
  }
  Style ps;
  ps.bold = true;
  int used = c.put(r.x, r.y, prompt, ps, std::max(r.width / 3, 1));
  int width = std::max(r.width - used, 1);
  int cursor = drawField(c, r.x + used, r.y, width, *editor, secret, Style{});
  return CursorPosition{r.x + used + cursor, r.y, true};
}

void drawHelp(Canvas& c, const ScreenState& s, const KeyMap& keys) {
  Rect box{0, 1, c.width(), c.height() - 2};
  drawBox(c, box, "help · PgUp/PgDn scroll · Esc or F1 closes");
  auto lines = helpLines(keys);
  int rows = box.height - 2;
  int first = std::clamp(s.helpScroll, 0, std::max(0, static_cast<int>(lines.size()) - rows));
  for (int i = 0; i < rows && first + i < static_cast<int>(lines.size()); ++i) {
    const std::string& l = lines[static_cast<size_t>(first + i)];
    Style st;
    st.bold = !l.empty() && l[0] != ' ';
    c.put(box.x + 2, box.y + 1 + i, l, st, box.width - 4);
  }
}

void drawCluster(Canvas& c, const ScreenState& s) {
  int h = std::min(c.height() - 2, static_cast<int>(s.nodes.size()) + 6);
  Rect box{0, std::max(1, (c.height() - h) / 2), c.width(), h};
  drawBox(c, box, "cluster · F3 or Esc closes");
  Style head;
  head.bold = true;
  char buf[160];
  std::snprintf(buf, sizeof buf, "%-4s %-21s %-9s %5s %7s %5s", "node", "address", "role",
                "epoch", "commit", "lag");
  c.put(box.x + 2, box.y + 1, buf, head, box.width - 4);
  int y = box.y + 2;
  std::string election;
  for (const auto& n : s.nodes) {
    if (y >= box.y + box.height - 2) {
      break;
    }
    Style st;
    if (!n.up) {
      st.fg = Colour::kRed;
      std::snprintf(buf, sizeof buf, "%-4u %-21s %-9s", n.id, n.address.c_str(), "down");
    } else {
      st.fg = n.role == "leader" ? Colour::kGreen : Colour::kDefault;
      st.bold = n.role == "leader";
      std::snprintf(buf, sizeof buf, "%-4u %-21s %-9s %5llu %7llu %5llu", n.id,
                    n.address.c_str(), n.role.c_str(), static_cast<unsigned long long>(n.epoch),
                    static_cast<unsigned long long>(n.commitIndex),
                    static_cast<unsigned long long>(n.lag));
      if (n.role == "leader") {
        election = n.lastElection;
      }
    }
    std::string line = buf;
    if (n.address == s.connection.node) {
      line += "  ◀ this client";
    }
    c.put(box.x + 2, y++, line, st, box.width - 4);
  }
  if (s.nodes.empty()) {
    c.put(box.x + 2, y++, "asking the nodes...", {}, box.width - 4);
  }
  Style dim;
  dim.dim = true;
  if (!election.empty()) {
    c.put(box.x + 2, box.y + box.height - 2, "last election: " + election, dim, box.width - 4);
  }
}

}  // namespace

std::vector<std::string> helpLines(const KeyMap& keys) {
  std::vector<std::string> out;
  out.push_back("Keys");
  for (const auto& b : keys.bindings()) {
    if (b.help.empty()) {
      continue;
    }
    std::string k = b.keys;
    if (b.action == "window 1") {
      k = "M-1..M-9 M-0";
    }
    std::string pad(static_cast<size_t>(std::max(0, 18 - displayWidth(k))), ' ');
    out.push_back("  " + k + pad + b.help);
  }
  out.push_back("");
  out.push_back("Commands");
  for (const auto& c : commandTable()) {
    std::string u = c.usage;
    std::string pad(static_cast<size_t>(std::max(1, 18 - displayWidth(u))), ' ');
    out.push_back("  " + u + pad + c.help);
  }
  out.push_back("");
  out.push_back("Marks: … sending  ✓ stored  ◷ waiting for an offline user  ✓✓ delivered  ✗ failed");
  out.push_back("M- is Alt (or Esc then the key); C- is Ctrl.");
  return out;
}

ScreenLayout screenLayout(int width, int height, const ScreenState& state) {
  ScreenLayout l;
  if (width < kMinWidth || height < kMinHeight) {
    l.tooSmall = true;
    return l;
  }
  l.strip = Rect{0, 0, width, 1};
  int bodyTop = 1;
  int bodyHeight = height - 3;  // strip, notice line, input line
  int usersWidth = state.showUsers && width >= 60 ? std::clamp(width / 5, 14, 24) : 0;
  if (usersWidth > 0) {
    l.users = Rect{0, bodyTop, usersWidth, bodyHeight};
  }
  int paneX = usersWidth > 0 ? usersWidth + 1 : 0;
  l.title = Rect{paneX, bodyTop, width - paneX, 1};
  l.pane = Rect{paneX, bodyTop + 1, width - paneX, bodyHeight - 1};
  l.notice = Rect{0, height - 2, width, 1};
  l.input = Rect{0, height - 1, width, 1};
  return l;
}

CursorPosition drawScreen(Canvas& canvas, const ChatModel& model, const ScreenState& state,
                          int64_t nowMillis, const ScreenOptions& options) {
  canvas.fill(0, 0, canvas.width(), canvas.height());
  ScreenLayout l = screenLayout(canvas.width(), canvas.height(), state);
  if (l.tooSmall) {
    drawTooSmall(canvas);
    return {};
  }
  drawStrip(canvas, model, state, l.strip);
  CursorPosition cursor;
  if (state.screen == Screen::kLogin) {
    cursor = drawLogin(canvas, state, Rect{0, 1, canvas.width(), canvas.height() - 1});
  } else {
    if (l.users.width > 0) {
      drawUserList(canvas, model, l.users, nowMillis, state.userFilter);
      Style sep;
      sep.dim = true;
      for (int y = l.users.y; y < l.users.y + l.users.height; ++y) {
        canvas.put(l.users.width, y, "│", sep);
      }
    }
    drawTitle(canvas, model, state, l.title, nowMillis);
    if (const Conversation* c = model.active()) {
      ConversationViewOptions o = options.conversation;
      o.scrollBack = state.scrollBack;
      o.highlightId = state.highlightId;
      drawConversation(canvas, *c, model.self(), l.pane, o);
    } else {
      drawNotices(canvas, state, l.pane);
    }
    drawNoticeLine(canvas, state, l.notice, nowMillis);
    cursor = drawInput(canvas, model, state, l.input);
  }
  KeyMap defaults;
  if (state.showHelp) {
    if (options.keys == nullptr) {
      defaults = KeyMap::defaults();
    }
    drawHelp(canvas, state, options.keys != nullptr ? *options.keys : defaults);
    cursor.visible = false;
  } else if (state.showCluster) {
    drawCluster(canvas, state);
    cursor.visible = false;
  }
  return cursor;
}

}  // namespace chat::tui
