// Every program of the suite reads its command line the same way (common/command_line.h, and
// chat-node through Poco's option processor checked first): each option its --help documents
// is taken as --name VALUE and as --name=VALUE with the same effect, an unknown option or a
// stray word is refused with the usage and exit 2, and --version names the suite's release
// and protocol versions. Options are read left to right and the first bad one is reported, so
// "--name VALUE --not-an-option" is refused for --not-an-option exactly when --name VALUE
// was taken: that is how each option is seen to parse without running the program.
#include <gtest/gtest.h>

#include <map>
#include <regex>
#include <set>
#include <string>
#include <vector>

#include "chat/protocol/wire_types.h"
#include "support/help_options.h"
#include "support/run_command.h"
#include "support/temp_dir.h"
#include "support/test_ca.h"

namespace chat {
namespace {

constexpr const char* kFlag = "";  // the option takes no value

struct Program {
  std::string name;     // as it names itself in messages
  std::string command;  // binary and any leading words ("chat-supervisor ctl")
  // Every option --help documents, with a value it accepts (kFlag for a flag).
  std::map<std::string, std::string> samples;
};

void expectRefused(const Program& p, const std::string& args, const std::string& what) {
  auto r = testing::runCommand(p.command + " " + args);
  EXPECT_EQ(r.exitCode, 2) << p.command << " " << args << "\n" << r.output;
  EXPECT_NE(r.output.find(p.name + ": " + what), std::string::npos)
      << p.command << " " << args << "\n" << r.output;
  EXPECT_NE(r.output.find("usage:"), std::string::npos)
      << "the refusal shows the usage: " << p.command << " " << args << "\n" << r.output;
}

void checkProgram(const Program& p) {
  SCOPED_TRACE(p.command);
  auto help = testing::runCommand(p.command + " --help");
  ASSERT_EQ(help.exitCode, 0) << help.output;
  std::set<std::string> documented = testing::documentedOptions(help.output);
  ASSERT_GE(documented.size(), 3u) << help.output;
  for (const auto& o : documented) {
    if (o != "--help" && o != "--version") {
      EXPECT_TRUE(p.samples.count(o) == 1) << o << " is documented but not tried by this test";
    }
  }
  for (const auto& [option, value] : p.samples) {
    EXPECT_TRUE(documented.count(option) == 1) << option << " is not in --help:\n" << help.output;
    const std::string bogus = "--not-an-option";
    if (value == kFlag) {
      expectRefused(p, option + " " + bogus, "unknown option " + bogus);
      continue;
    }
    auto twoWords = testing::runCommand(p.command + " " + option + " " + value + " " + bogus);
    auto oneWord = testing::runCommand(p.command + " " + option + "=" + value + " " + bogus);
    EXPECT_NE(twoWords.output.find(p.name + ": unknown option " + bogus), std::string::npos)
        << option << " " << value << " was not taken:\n" << twoWords.output;
    EXPECT_EQ(twoWords.exitCode, 2) << option;
    EXPECT_EQ(oneWord.output, twoWords.output) << option << "=" << value;
    EXPECT_EQ(oneWord.exitCode, twoWords.exitCode) << option << "=" << value;
    // Without its value, at the end of the line, the option is refused by name.
    expectRefused(p, option, option + " needs a value");
  }
  expectRefused(p, "stray-word", "unexpected argument 'stray-word'");
  expectRefused(p, "--frobnicate=1", "unknown option --frobnicate");
  auto version = testing::runCommand(p.command + " --version");
  EXPECT_EQ(version.exitCode, 0) << version.output;
  std::string program = p.command.substr(p.command.rfind('/') + 1);
  program = program.substr(0, program.find(' '));
  std::regex expected("^" + program + R"( \d+\.\d+\.\d+ \(chat suite; binary protocol )" +
                      std::to_string(protocol::kBinaryVersion) + ", line protocol " +
                      std::to_string(protocol::kLineVersion) + R"(\)\n$)");
  EXPECT_TRUE(std::regex_match(version.output, expected)) << version.output;
}

const std::string kCluster = std::string(CHAT_SOURCE_DIR) + "/etc/cluster-3.ini";

TEST(CommandLineTest, ChatNodeTakesEveryDocumentedOptionInBothForms) {
  checkProgram({"chat-node", CHAT_NODE_BINARY,
                {{"--daemon", kFlag},
                 {"--check", kFlag},
                 {"--umask", "027"},
                 {"--pidfile", "/nonexistent/chat-node.pid"},
                 {"--config", "/nonexistent/chat-node.properties"},
                 {"--cluster", kCluster},
                 {"--id", "2"},
                 {"--port", "7001"},
                 {"--host", "127.0.0.1"},
                 {"--data-dir", "/nonexistent/node"},
                 {"--port-file", "/nonexistent/port"},
                 {"--log-level", "warning"},
                 {"--password-hash", "min"},
                 {"--sync", "full"},
                 {"--loops", "2"},
                 {"--idle-timeout", "600"},
                 {"--login-timeout", "30"},
                 {"--max-connections", "1000"},
                 {"--max-connections-per-address", "16"},
                 {"--sign-ups-per-minute", "0"},
                 {"--sends-per-second", "0"},
                 {"--max-frame-bytes", "65536"},
                 {"--max-output-bytes", "1048576"},
                 {"--admin-port", "0"},
                 {"--admin-host", "127.0.0.1"},
                 {"--tls-cert", "/nonexistent/node.pem"},
                 {"--tls-key", "/nonexistent/node.key"},
                 {"--log-file", "/nonexistent/node.log"},
                 {"--log-rotation", "daily"},
                 {"--log-keep", "3"}}});
}

TEST(CommandLineTest, ChatSupervisorAndItsCtlTakeEveryDocumentedOptionInBothForms) {
  checkProgram({"chat-supervisor", CHAT_SUPERVISOR_BINARY,
                {{"--cluster", kCluster},
                 {"--run-dir", "/nonexistent/run"},
                 {"--headless", kFlag},
                 {"--demo", kFlag},
                 {"--detach", kFlag},
                 {"--watch", kFlag},
                 {"--restart", "never"},
                 {"--max-restarts", "3"},
                 {"--restart-period", "30"},
                 {"--node-binary", "/nonexistent/chat-node"},
                 {"--node-arg", "--loops=2"}}});
  // ctl's options are in its own usage line; the command words after them are its argument,
  // so a stray word is a command, sent to the supervisor of --run-dir (none here).
  const std::string ctl = std::string(CHAT_SUPERVISOR_BINARY) + " ctl";
  for (const char* flag : {"--json", "--force"}) {
    auto r = testing::runCommand(ctl + " " + flag + " --not-an-option");
    EXPECT_EQ(r.exitCode, 2) << r.output;
    EXPECT_NE(r.output.find("chat-supervisor ctl: unknown option --not-an-option"),
              std::string::npos)
        << r.output;
  }
  auto both = testing::runCommand(ctl + " --run-dir=/nonexistent/run status --json");
  auto split = testing::runCommand(ctl + " --run-dir /nonexistent/run status --json");
  EXPECT_EQ(both.output, split.output);
  EXPECT_EQ(both.exitCode, 1) << both.output;
  EXPECT_NE(both.output.find("/nonexistent/run/control.sock"), std::string::npos) << both.output;
}

TEST(CommandLineTest, ChatTuiTakesEveryDocumentedOptionInBothForms) {
  checkProgram({"chat-tui", CHAT_TUI_BINARY,
                {{"--config", "/nonexistent/tui.ini"},
                 {"--cluster", kCluster},
                 {"--servers", "127.0.0.1:7001,127.0.0.1:7002"},
                 {"--user", "alice"},
                 {"--tls-ca", "/nonexistent/ca.pem"},
                 {"--mouse", kFlag},
                 {"--no-colour", kFlag},
                 {"--no-bell", kFlag}}});
}

TEST(CommandLineTest, ChatBenchTakesEveryDocumentedOptionInBothForms) {
  testing::TestCa ca;  // --tls-ca loads the CA as it is read
  ASSERT_TRUE(ca.ok()) << ca.error();
  checkProgram({"chat-bench", CHAT_BENCH_BINARY,
                {{"--servers", "127.0.0.1:7001"},
                 {"--pairs", "5"},
                 {"--messages", "10"},
                 {"--size", "100"},
                 {"--window", "4"},
                 {"--rate", "100.5"},
                 {"--duration", "2"},
                 {"--threads", "2"},
                 {"--room", "10"},
                 {"--senders", "3"},
                 {"--idle", "10"},
                 {"--hold", "1"},
                 {"--json", kFlag},
                 {"--tls-ca", ca.caFile()},
                 {"--await", "1.5"},
                 {"--protocol", "irc"},
                 {"--irc-oper", "oper:secret"},
                 {"--failover", "2"},
                 {"--cluster", kCluster},
                 {"--node-binary", CHAT_NODE_BINARY},
                 {"--run-dir", "/nonexistent/run"},
                 {"--supervisor", "/nonexistent/run"},
                 {"--node-log-level", "information"},
                 {"--campaign", kFlag}}});
}

TEST(CommandLineTest, ChatChaosTakesEveryDocumentedOptionInBothForms) {
  checkProgram({"chat-chaos", CHAT_CHAOS_BINARY,
                {{"--nodes", "5"},
                 {"--seed", "42"},
                 {"--seconds", "10"},
                 {"--rate", "200"},
                 {"--users", "4"},
                 {"--fault-every-ms", "500"},
                 {"--partitions", kFlag},
                 {"--request-timeout-ms", "1000"},
                 {"--room-percent", "0"},
                 {"--run-dir", "/nonexistent/run"},
                 {"--keep", kFlag},
                 {"--json", kFlag},
                 {"--quiet", kFlag},
                 {"--supervisor", "/nonexistent/chat-supervisor"},
                 {"--node-binary", "/nonexistent/chat-node"}}});
}

TEST(CommandLineTest, ChatHostileAndStoreBenchTakeEveryDocumentedOptionInBothForms) {
  checkProgram({"chat-hostile", CHAT_HOSTILE_BINARY,
                {{"--server", "127.0.0.1:7001"},
                 {"--kind", "garbage,churn"},
                 {"--rate", "10"},
                 {"--seconds", "1"},
                 {"--connections", "10"},
                 {"--peer", "127.0.0.1:7101"},
                 {"--admin", "127.0.0.1:7201"},
                 {"--from", "127.0.0.2"}}});
  checkProgram({"store-bench", CHAT_STORE_BENCH_BINARY,
                {{"--batch", "10"},
                 {"--batches", "2"},
                 {"--sync", "full"},
                 {"--page", "8192"},
                 {"--checkpoint", "100"},
                 {"--dir", "/nonexistent/store"}}});
}

// A value that does not parse is refused the same way in both forms, naming the option.
TEST(CommandLineTest, ABadValueIsRefusedByNameInBothForms) {
  for (const std::string& command :
       {std::string(CHAT_BENCH_BINARY) + " --pairs", std::string(CHAT_CHAOS_BINARY) + " --nodes",
        std::string(CHAT_SUPERVISOR_BINARY) + " --max-restarts",
        std::string(CHAT_HOSTILE_BINARY) + " --rate",
        std::string(CHAT_STORE_BENCH_BINARY) + " --batch"}) {
    auto split = testing::runCommand(command + " lots");
    auto joined = testing::runCommand(command + "=lots");
    EXPECT_EQ(split.exitCode, 2) << command << "\n" << split.output;
    EXPECT_EQ(split.output, joined.output) << command;
    std::string option = command.substr(command.rfind(' ') + 1);
    EXPECT_NE(split.output.find(option + " takes a number from"), std::string::npos)
        << split.output;
    EXPECT_NE(split.output.find("not 'lots'"), std::string::npos) << split.output;
  }  // chat-node reads its settings after the options (they may come from a config file too),
  // and names the setting both ways.
  const std::string node = std::string(CHAT_NODE_BINARY) + " --data-dir /nonexistent/node --loops";
  auto split = testing::runCommand(node + " lots");
  auto joined = testing::runCommand(node + "=lots");
  EXPECT_EQ(split.exitCode, 78) << split.output;
  EXPECT_EQ(split.output, joined.output);
  EXPECT_NE(split.output.find(
                "--loops (loops in a config file) takes a whole number from 1 to 64, not 'lots'"),
            std::string::npos)
      << split.output;
}

// A whole number out of its range is refused by name with the range, before anything starts,
// rather than wrapping (a negative frame limit read as a huge one) or failing in Poco's words.
TEST(CommandLineTest, ChatNodeRefusesWholeNumbersOutOfRangeByName) {
  testing::TempDir dir;
  struct Case {
    const char* option;
    const char* value;
    const char* says;
  };
  for (const auto& [option, value, says] : std::vector<Case>{
           {"--port", "99999999999",
            "--port (port in a config file) takes a whole number from 0 to 65535"},
           {"--max-frame-bytes", "-5",
            "--max-frame-bytes (max_frame_bytes in a config file) takes a whole number from 1024 "
            "to 16777215"},
           {"--max-frame-bytes", "0", "from 1024 to 16777215, not '0'"},
           {"--idle-timeout", "-1",
            "--idle-timeout (idle_timeout in a config file) takes a whole number from 1 to"},
           {"--max-output-bytes", "-1",
            "--max-output-bytes (max_output_bytes in a config file) takes a whole number from "
            "16384"},
           {"--admin-port", "70000",
            "--admin-port (admin_port in a config file) takes a whole number from 0 to 65535"},
           {"--loops", "0", "from 1 to 64, not '0'"},
           {"--sends-per-second", "-3", "from 0 to 1000000, not '-3'"},
       }) {
    auto r = testing::runCommand(std::string(CHAT_NODE_BINARY) + " --check --data-dir " +
                                 dir.file("node") + " " + option + " " + value);
    EXPECT_EQ(r.exitCode, 78) << option << " " << value << "\n" << r.output;
    EXPECT_EQ(r.output.rfind("chat-node: --", 0), 0u) << r.output;
    EXPECT_NE(r.output.find(says), std::string::npos)
        << option << " " << value << "\n"
        << r.output;
  }
  // In range, the same options pass the check.
  auto fine = testing::runCommand(std::string(CHAT_NODE_BINARY) + " --check --data-dir " +
                                  dir.file("node") +
                                  " --port 0 --max-frame-bytes 1024 --idle-timeout 1 --loops 64"
                                  " --admin-port 0 --sends-per-second 0");
  EXPECT_EQ(fine.exitCode, 0) << fine.output;
}

}  // namespace
}  // namespace chat
