// documentedOptions: the options a program's --help documents, read from its option table.
// A row starts with the option ("  --pairs N ...", Poco's "--port=P ..." and "-h, --help");
// continuation lines and prose are indented deeper, so options named in explanations (the
// node's, in the supervisor's help) do not count.
#ifndef CHAT_TESTS_SUPPORT_HELP_OPTIONS_H_
#define CHAT_TESTS_SUPPORT_HELP_OPTIONS_H_

#include <regex>
#include <set>
#include <string>

namespace chat::testing {

inline std::set<std::string> documentedOptions(const std::string& help) {
  std::set<std::string> out;
  std::regex row(R"((?:^|\n) {0,2}(?:-[a-zA-Z]\S*, )?(--[a-z][a-z0-9-]*))");
  for (auto it = std::sregex_iterator(help.begin(), help.end(), row);
       it != std::sregex_iterator(); ++it) {
    out.insert((*it)[1].str());
  }
  return out;
}

}  // namespace chat::testing

#endif  // CHAT_TESTS_SUPPORT_HELP_OPTIONS_H_
