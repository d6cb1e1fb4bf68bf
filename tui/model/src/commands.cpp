#include "chat/tui/commands.h"

#include <algorithm>

namespace chat::tui {

namespace {

std::string trim(std::string_view s) {
  size_t a = s.find_first_not_of(" \t\n");
  if (a == std::string_view::npos) {
    return "";
  }
  size_t b = s.find_last_not_of(" \t\n");
  return std::string(s.substr(a, b - a + 1));
}

// Optimal string alignment distance: insertions, deletions, substitutions and swaps of two
// neighbours ("/qiut" is one step from "/quit"), the typos people make.
size_t editDistance(std::string_view a, std::string_view b) {
  std::vector<std::vector<size_t>> d(a.size() + 1, std::vector<size_t>(b.size() + 1));
  for (size_t i = 0; i <= a.size(); ++i) {
    d[i][0] = i;
  }
  for (size_t j = 0; j <= b.size(); ++j) {
    d[0][j] = j;
  }
  for (size_t i = 1; i <= a.size(); ++i) {
    for (size_t j = 1; j <= b.size(); ++j) {
      size_t cost = a[i - 1] == b[j - 1] ? 0 : 1;
      d[i][j] = std::min({d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost});
      if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1]) {
        d[i][j] = std::min(d[i][j], d[i - 2][j - 2] + 1);
      }
    }
  }
  return d[a.size()][b.size()];
}

}  // namespace

const std::vector<CommandSpec>& commandTable() {
  static const std::vector<CommandSpec> table = {
      {"/msg", "/msg user|#room [text]", "open a conversation with user (or room), send text"},
      {"/query", "/query user", "open a conversation with user"},
      {"/close", "/close", "close the conversation shown"},
      {"/join", "/join #room", "join an open room (and show it)"},
      {"/leave", "/leave [#room]", "leave the room (the one shown if none named)"},
      {"/invite", "/invite user [#room]", "add user to the room (the one shown if none named)"},
      {"/members", "/members [#room]", "who is in the room, and who of them is online"},
      {"/rooms", "/rooms [pattern]", "list rooms you can join or are in (* and ? as wildcards)"},
      {"/create", "/create #room [open|invite|owner-invites]",
       "create a room: open (anyone joins), invite (members invite), owner-invites"},
      {"/receipts", "/receipts", "who has your last message in this room, and who not yet"},
      {"/list", "/list [pattern]", "list users (* and ? as wildcards); filters the user list"},
      {"/whois", "/whois user", "is user online, and when were they last seen"},
      {"/deliver", "/deliver [n]", "fetch up to n messages that waited for you (all if no n)"},
      {"/search", "/search text", "find text in the conversation (Ctrl+F: next match)"},
      {"/cluster", "/cluster", "cluster panel: every node's role, epoch and lag (F3)"},
      {"/reconnect", "/reconnect", "drop the connection and find the leader again"},
      {"/retry", "/retry", "re-send the last failed message (Alt+R)"},
      {"/login", "/login", "log in as someone else"},
      {"/register", "/register", "create a new account"},
      {"/logout", "/logout", "log out and return to the login form"},
      {"/delete-account", "/delete-account", "delete your account for good (asks the password)"},
      {"/mouse", "/mouse", "mouse mode on/off (Alt+M)"},
      {"/help", "/help [command]", "keys and commands (F1)"},
      {"/quit", "/quit", "leave chat-tui"},
  };
  return table;
}

const CommandSpec* findCommand(std::string_view name) {
  for (const auto& c : commandTable()) {
    if (name == c.name) {
      return &c;
    }
  }
  return nullptr;
}

std::optional<ParsedCommand> parseCommand(std::string_view line) {
  std::string text = trim(line);
  if (text.empty() || text[0] != '/' || (text.size() > 1 && text[1] == '/')) {
    return std::nullopt;
  }
  ParsedCommand c;
  size_t space = text.find_first_of(" \t\n");
  c.name = text.substr(0, space);
  std::transform(c.name.begin(), c.name.end(), c.name.begin(),
                 [](char ch) { return ch >= 'A' && ch <= 'Z' ? static_cast<char>(ch + 32) : ch; });
  if (space == std::string::npos) {
    return c;
  }
  c.all = trim(std::string_view(text).substr(space));
  size_t argEnd = c.all.find_first_of(" \t\n");
  c.arg = c.all.substr(0, argEnd);
  if (argEnd != std::string::npos) {
    c.rest = trim(std::string_view(c.all).substr(argEnd));
  }
  return c;
}

std::string messageText(std::string_view line) {
  if (line.size() >= 2 && line[0] == '/' && line[1] == '/') {
    return std::string(line.substr(1));
  }
  return std::string(line);
}

std::string nearestCommand(std::string_view name) {
  std::string best;
  size_t bestDistance = 3;
  std::vector<std::string> prefixed;
  for (const auto& c : commandTable()) {
    std::string_view candidate = c.name;
    if (name.size() > 1 && candidate.substr(0, name.size()) == name) {
      prefixed.emplace_back(candidate);
    }
    size_t d = editDistance(name, candidate);
    if (d < bestDistance) {
      bestDistance = d;
      best = c.name;
    }
  }
  if (best.empty() && prefixed.size() == 1) {
    return prefixed.front();
  }
  return best;
}

}  // namespace chat::tui
