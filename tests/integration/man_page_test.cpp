// Every program has a man page (docs/man/<program>.1) that names every option its --help
// prints, so the two cannot drift apart unnoticed.
#include <gtest/gtest.h>

#include <fstream>
#include <regex>
#include <set>
#include <sstream>

#include "support/help_options.h"
#include "support/run_command.h"

namespace chat {
namespace {

// The page's text with roff's escaped hyphens made plain.
std::string manPage(const std::string& program) {
  std::ifstream in(std::string(CHAT_DOCS_DIR) + "/man/" + program + ".1");
  std::stringstream text;
  text << in.rdbuf();
  std::string s = text.str();
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '\\' && i + 1 < s.size() && s[i + 1] == '-') {
      continue;  // "\-" is a hyphen
    }
    out += s[i];
  }
  return out;
}

void expectEveryOptionDocumented(const std::string& program, const std::string& binary) {
  std::string page = manPage(program);
  ASSERT_FALSE(page.empty()) << "no docs/man/" << program << ".1";
  EXPECT_NE(page.find(".TH " + [&] {
              std::string upper;
              for (char c : program) {
                upper += static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
              }
              return upper;
            }()),
            std::string::npos);
  auto help = testing::runCommand(binary + " --help");
  EXPECT_EQ(help.exitCode, 0) << help.output;
  std::set<std::string> options = testing::documentedOptions(help.output);
  EXPECT_GE(options.size(), 3u) << help.output;
  for (const auto& o : options) {
    EXPECT_NE(page.find(o), std::string::npos) << program << ".1 does not mention " << o;
  }
}

TEST(ManPageTest, EveryProgramsPageNamesEveryOptionOfItsHelp) {
  expectEveryOptionDocumented("chat-node", CHAT_NODE_BINARY);
  expectEveryOptionDocumented("chat-supervisor", CHAT_SUPERVISOR_BINARY);
  expectEveryOptionDocumented("chat-tui", CHAT_TUI_BINARY);
  expectEveryOptionDocumented("chat-bench", CHAT_BENCH_BINARY);
  expectEveryOptionDocumented("chat-chaos", CHAT_CHAOS_BINARY);
  expectEveryOptionDocumented("chat-hostile", CHAT_HOSTILE_BINARY);
}

}  // namespace
}  // namespace chat
