// The bash completion the package installs (etc/bash-completion/chat-suite), run in a real
// bash against the programs of this build: options from each program's --help, values
// where they are a fixed set or a file, in both --name VALUE and --name=VALUE, and the
// commands of chat-supervisor ctl.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "support/help_options.h"
#include "support/run_command.h"
#include "support/temp_dir.h"

namespace chat {
namespace {

std::string dirOf(const std::string& path) {
  return path.substr(0, path.rfind('/'));
}

class CompletionTest : public ::testing::Test {
 protected:
  // What bash offers for the command line split into `words` as bash splits it (a '=' is a
  // word of its own), the cursor in the last word.
  std::set<std::string> complete(const std::vector<std::string>& words) {
    std::string script = dir_.file("complete.sh");
    std::ofstream out(script);
    out << "PATH=" << dirOf(CHAT_NODE_BINARY) << ":" << dirOf(CHAT_SUPERVISOR_BINARY) << ":"
        << dirOf(CHAT_TUI_BINARY) << ":" << dirOf(CHAT_BENCH_BINARY) << ":"
        << dirOf(CHAT_CHAOS_BINARY) << ":" << dirOf(CHAT_HOSTILE_BINARY) << ":$PATH\n"
        << ". " << CHAT_SOURCE_DIR << "/etc/bash-completion/chat-suite\n"
        << "COMP_WORDS=(";
    for (const auto& w : words) {
      out << "'" << w << "' ";
    }
    out << ")\nCOMP_CWORD=" << words.size() - 1 << "\n_chat_suite\n"
        << "printf '%s\\n' \"${COMPREPLY[@]}\"\n";
    out.close();
    auto r = testing::runCommand("bash " + script);
    EXPECT_EQ(r.exitCode, 0) << r.output;
    std::set<std::string> offered;
    std::istringstream lines(r.output);
    for (std::string line; std::getline(lines, line);) {
      if (!line.empty()) {
        offered.insert(line);
      }
    }
    return offered;
  }
  testing::TempDir dir_;
};

using Offered = std::set<std::string>;

TEST_F(CompletionTest, EveryDocumentedOptionIsOfferedForEachProgram) {
  for (const std::string binary : {CHAT_NODE_BINARY, CHAT_SUPERVISOR_BINARY, CHAT_TUI_BINARY,
                                   CHAT_BENCH_BINARY, CHAT_CHAOS_BINARY, CHAT_HOSTILE_BINARY}) {
    std::string program = binary.substr(binary.rfind('/') + 1);
    auto documented = testing::documentedOptions(testing::runCommand(binary + " --help").output);
    ASSERT_GE(documented.size(), 3u) << program;
    Offered offered = complete({program, "--"});
    for (const auto& o : documented) {
      EXPECT_EQ(offered.count(o), 1u) << program << " does not offer " << o;
    }
  }
  EXPECT_EQ(complete({"chat-bench", "--se"}), (Offered{"--senders", "--servers"}));
  EXPECT_EQ(complete({"chat-node", "--clu"}), (Offered{"--cluster"}));
  EXPECT_EQ(complete({"chat-chaos", "--node"}), (Offered{"--nodes", "--node-binary"}));
}

TEST_F(CompletionTest, ValuesAreAFixedSetOrFilesInBothForms) {
  EXPECT_EQ(complete({"chat-supervisor", "--restart", ""}), (Offered{"never", "on-failure"}));
  EXPECT_EQ(complete({"chat-supervisor", "--restart", "=", ""}), (Offered{"never", "on-failure"}));
  EXPECT_EQ(complete({"chat-bench", "--protocol", "r"}), (Offered{"redis"}));
  EXPECT_EQ(complete({"chat-hostile", "--kind", "garbage,ch"}), (Offered{"garbage,churn"}));
  std::ofstream(dir_.file("cluster-a.ini")) << "\n";
  std::ofstream(dir_.file("cluster-b.ini")) << "\n";
  Offered files{dir_.file("cluster-a.ini"), dir_.file("cluster-b.ini")};
  EXPECT_EQ(complete({"chat-tui", "--cluster", dir_.file("clus")}), files);
  EXPECT_EQ(complete({"chat-tui", "--cluster", "=", dir_.file("clus")}), files);
  EXPECT_EQ(complete({"chat-node", "--config", dir_.file("cluster-a")}),
            (Offered{dir_.file("cluster-a.ini")}));
  // A number is not completed with file names.
  EXPECT_TRUE(complete({"chat-bench", "--pairs", ""}).empty());
}

TEST_F(CompletionTest, SupervisorCtlCompletesItsCommands) {
  EXPECT_EQ(complete({"chat-supervisor", "c"}), (Offered{"ctl"}));
  EXPECT_EQ(complete({"chat-supervisor", "ctl", ""}),
            (Offered{"status", "kill", "pause", "resume", "restart", "stop"}));
  EXPECT_EQ(complete({"chat-supervisor", "ctl", "--run-dir", "/tmp", "k"}), (Offered{"kill"}));
  EXPECT_EQ(complete({"chat-supervisor", "ctl", "kill", "l"}), (Offered{"leader"}));
  EXPECT_EQ(complete({"chat-supervisor", "ctl", "restart", "a"}), (Offered{"all"}));
  EXPECT_TRUE(complete({"chat-supervisor", "ctl", "kill", "leader", ""}).empty());
  EXPECT_EQ(complete({"chat-supervisor", "ctl", "--j"}), (Offered{"--json"}));
  std::filesystem::create_directories(dir_.file("run-here"));
  EXPECT_EQ(complete({"chat-supervisor", "ctl", "--run-dir", dir_.file("run-h")}),
            (Offered{dir_.file("run-here")}));
}

}  // namespace
}  // namespace chat
