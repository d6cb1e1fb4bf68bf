// The slash commands of chat-tui: parsing a typed line into a command and its arguments,
// the table of commands with their usage (for /help and completion), and the suggestion of
// the nearest command for a typo ("/mgs" -> "/msg").
// Thread contract: pure functions over an immutable table.
#ifndef CHAT_TUI_COMMANDS_H_
#define CHAT_TUI_COMMANDS_H_

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace chat::tui {

struct CommandSpec {
  const char* name;   // "/msg"
  const char* usage;  // "/msg user [text]"
  const char* help;   // one line
};

// Every command, in help order.
const std::vector<CommandSpec>& commandTable();
const CommandSpec* findCommand(std::string_view name);

struct ParsedCommand {
  std::string name;  // "/msg", as typed (lower-cased)
  std::string arg;   // the first word after it, or empty
  std::string rest;  // everything after the first argument (the text of /msg), trimmed
  std::string all;   // everything after the name, trimmed (the text of /search)
};

// A line starting with one '/' is a command; "//text" sends "/text" as a message; anything
// else is a message (nullopt).
std::optional<ParsedCommand> parseCommand(std::string_view line);
// The message a line stands for: the line itself, or "//x" as "/x".
std::string messageText(std::string_view line);
// The known command closest to `name` (edit distance at most 2, or a unique prefix); empty
// when nothing is close.
std::string nearestCommand(std::string_view name);

}  // namespace chat::tui

#endif  // CHAT_TUI_COMMANDS_H_
