#include "chat/common/command_line.h"

#include <cstdio>

namespace chat {

CommandLine::CommandLine(std::string program) : program_(std::move(program)) {}

CommandLine& CommandLine::flag(std::string name, bool& out, std::string alias) {
  specs_.push_back({std::move(name), std::move(alias), false, [&out] { out = true; }, {}});
  return *this;
}

CommandLine& CommandLine::flag(std::string name, std::function<void()> on) {
  specs_.push_back({std::move(name), {}, false, std::move(on), {}});
  return *this;
}

CommandLine& CommandLine::text(std::string name, std::string& out) {
  return option(std::move(name), [&out](const std::string& v) {
    out = v;
    return Status::ok();
  });
}

CommandLine& CommandLine::option(std::string name,
                                 std::function<Status(const std::string&)> on) {
  specs_.push_back({std::move(name), {}, true, {}, std::move(on)});
  return *this;
}

CommandLine& CommandLine::words(std::vector<std::string>& out) {
  words_ = &out;
  return *this;
}

const CommandLine::Spec* CommandLine::find(const std::string& name) const {
  for (const auto& s : specs_) {
    if (s.name == name || (!s.alias.empty() && s.alias == name)) {
      return &s;
    }
  }
  return nullptr;
}

Status CommandLine::numberError(const std::string& name, const std::string& text,
                                const std::string& lo, const std::string& hi) const {
  return Status::invalidArgument(name + " takes a number from " + lo + " to " + hi + ", not '" +
                                 text + "'");
}

Result<CommandLine::Outcome> CommandLine::parse(int argc, const char* const* argv,
                                                int first) const {
  std::vector<std::string> args;
  for (int i = first; i < argc; ++i) {
    args.emplace_back(argv[i]);
  }
  return parse(args);
}

Result<CommandLine::Outcome> CommandLine::parse(const std::vector<std::string>& args) const {
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    if (a == "--help" || a == "-h") {
      return Outcome::kHelp;
    }
    if (a == "--version") {
      return Outcome::kVersion;
    }
    if (a.size() < 2 || a[0] != '-') {
      if (words_ == nullptr) {
        return Status::invalidArgument("unexpected argument '" + a +
                                       "' (every option starts with --)");
      }
      words_->push_back(a);
      continue;
    }
    size_t eq = a.find('=');
    std::string name = a.substr(0, eq);
    const Spec* spec = find(name);
    if (spec == nullptr) {
      return Status::invalidArgument("unknown option " + name);
    }
    if (!spec->takesValue) {
      if (eq != std::string::npos) {
        return Status::invalidArgument(name + " takes no value");
      }
      spec->onFlag();
      continue;
    }
    std::string value;
    if (eq != std::string::npos) {
      value = a.substr(eq + 1);
    } else if (i + 1 < args.size()) {
      value = args[++i];
    } else {
      return Status::invalidArgument(name + " needs a value");
    }
    if (value.empty()) {
      return Status::invalidArgument(name + " needs a value, not an empty one");
    }
    if (Status s = spec->onValue(value); !s.isOk()) {
      return s;
    }
  }
  return Outcome::kRun;
}

std::vector<std::string> CommandLine::names() const {
  std::vector<std::string> out;
  for (const auto& s : specs_) {
    out.push_back(s.name);
  }
  return out;
}

std::optional<int> finishCommandLine(const std::string& program,
                                     const Result<CommandLine::Outcome>& parsed,
                                     const std::string& usage, const std::string& version) {
  if (!parsed) {
    std::fprintf(stderr, "%s: %s\n%s", program.c_str(), parsed.error().message().c_str(),
                 usage.c_str());
    return 2;
  }
  switch (*parsed) {
    case CommandLine::Outcome::kHelp:
      std::fputs(usage.c_str(), stdout);
      return 0;
    case CommandLine::Outcome::kVersion:
      std::fputs(version.c_str(), stdout);
      return 0;
    case CommandLine::Outcome::kRun:
      break;
  }
  return std::nullopt;
}

}  // namespace chat
