// One program's command line as every program of the suite reads it: options are
// "--name VALUE" or "--name=VALUE" (the same), flags are a bare "--name", "--help"/"-h" and
// "--version" are answered by the parser, and anything else (an unknown option, a stray word,
// a value that does not parse) is refused with a sentence naming it. Values are checked as
// they are read, left to right, so the first bad argument is the one reported.
// Thread contract: a CommandLine is built and parsed on one thread; pure (no I/O).
#ifndef CHAT_COMMON_COMMAND_LINE_H_
#define CHAT_COMMON_COMMAND_LINE_H_

#include <charconv>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

#include "chat/common/status.h"

namespace chat {

class CommandLine {
 public:
  // What the caller does after a successful parse.
  enum class Outcome { kRun, kHelp, kVersion };

  // `program` names the program in messages ("chat-bench", "chat-supervisor ctl").
  explicit CommandLine(std::string program);

  // A bare --name that sets `out` (an alias spelling may be given: --no-color).
  CommandLine& flag(std::string name, bool& out, std::string alias = {});
  // A bare --name that runs `on` (e.g. adds a word to a request).
  CommandLine& flag(std::string name, std::function<void()> on);
  // --name VALUE into `out`; an empty value is refused.
  CommandLine& text(std::string name, std::string& out);
  // --name VALUE handed to `on`, whose error (a sentence) refuses the command line.
  // Repeatable options append in `on`.
  CommandLine& option(std::string name, std::function<Status(const std::string&)> on);
  // --name N, an integer or floating-point number within [lo, hi].
  template <typename T>
  CommandLine& number(std::string name, T& out, T lo, T hi);
  // Words that are not options (ctl's command). Without this, a word is refused.
  CommandLine& words(std::vector<std::string>& out);

  // Parses argv[first..argc). kInvalidArgument with a sentence naming the argument.
  Result<Outcome> parse(int argc, const char* const* argv, int first = 1) const;
  Result<Outcome> parse(const std::vector<std::string>& args) const;

  // Every option's and flag's name ("--pairs"), in the order defined.
  std::vector<std::string> names() const;

 private:
  struct Spec {
    std::string name;
    std::string alias;
    bool takesValue = false;
    std::function<void()> onFlag;
    std::function<Status(const std::string&)> onValue;
  };
  const Spec* find(const std::string& name) const;
  Status numberError(const std::string& name, const std::string& text, const std::string& lo,
                     const std::string& hi) const;

  std::string program_;
  std::vector<Spec> specs_;
  std::vector<std::string>* words_ = nullptr;
};

// What a main does with a parse: nullopt to go on and run; otherwise the exit code, after
// printing `usage` (help: stdout, 0), `version` (stdout, 0) or "program: error" and the usage
// (stderr, 2).
std::optional<int> finishCommandLine(const std::string& program,
                                     const Result<CommandLine::Outcome>& parsed,
                                     const std::string& usage, const std::string& version);

// `text`, all of it, as a number of type T within [lo, hi]; nullopt otherwise. The one rule by
// which the suite reads numbers, from its command lines and from chat-node's settings (no
// sign on unsigned types, no spaces, nothing after the digits).
template <typename T>
std::optional<T> numberIn(std::string_view text, T lo, T hi) {
  static_assert(std::is_arithmetic_v<T>);
  T v{};
  const char* end = text.data() + text.size();
  auto [p, ec] = std::from_chars(text.data(), end, v);
  if (ec != std::errc() || p != end || v < lo || v > hi) {
    return std::nullopt;
  }
  return v;
}

template <typename T>
CommandLine& CommandLine::number(std::string name, T& out, T lo, T hi) {
  static_assert(std::is_arithmetic_v<T>);
  std::string shown = name;
  return option(std::move(name), [this, shown, &out, lo, hi](const std::string& text) {
    std::optional<T> v = numberIn(text, lo, hi);
    if (!v) {
      auto show = [](T x) {
        std::string s = std::to_string(x);
        if constexpr (std::is_floating_point_v<T>) {
          s.erase(s.find_last_not_of('0') + 1);  // 2.500000 -> 2.5, 3.000000 -> 3.
          if (!s.empty() && s.back() == '.') {
            s.pop_back();
          }
        }
        return s;
      };
      return numberError(shown, text, show(lo), show(hi));
    }
    out = *v;
    return Status::ok();
  });
}

}  // namespace chat

#endif  // CHAT_COMMON_COMMAND_LINE_H_
