// chat-node's log: one key=value event per line, in a file that rotates as configured and
// keeps only as many old files as asked; bad log settings are refused at start.

#include <filesystem>
#include <fstream>
#include <regex>
#include <thread>

#include <Poco/Net/SocketAddress.h>
#include <Poco/Net/StreamSocket.h>
#include <gtest/gtest.h>

#include "support/eventually.h"
#include "support/node_process.h"
#include "support/run_command.h"
#include "support/temp_dir.h"

namespace chat {
namespace {

TEST(NodeLoggingTest, LogsAreKeyValueLinesAndRotateKeepingTheConfiguredNumber) {
  testing::TempDir dir;
  std::string data = dir.file("node");
  testing::NodeProcess node(data, {"--log-rotation", "2 K", "--log-keep", "2"}, "debug");
  ASSERT_TRUE(node.start());
  // Each connection that opens and closes is a debug event: enough to rotate many times.
  for (int i = 0; i < 300; ++i) {
    Poco::Net::StreamSocket s(
        Poco::Net::SocketAddress("127.0.0.1", static_cast<uint16_t>(node.port())));
    s.sendBytes("1 10\n", 5);  // a status request in line mode, then hang up
    s.close();
  }
  // The node logs each as its loop gets to it: wait (on a loaded machine) for a rotation.
  auto rotated = [&] {
    for (const auto& entry : std::filesystem::directory_iterator(data)) {
      if (entry.path().filename().string().rfind("chat-node.log.", 0) == 0) {
        return true;
      }
    }
    return false;
  };
  testing::eventually(rotated, std::chrono::seconds(20));  // the files are checked below
  node.kill(SIGTERM);                                      // and waits for it
  std::vector<std::string> files;
  for (const auto& entry : std::filesystem::directory_iterator(data)) {
    std::string name = entry.path().filename().string();
    if (name.rfind("chat-node.log", 0) == 0) {
      files.push_back(name);
    }
  }
  std::sort(files.begin(), files.end());
  // The current file and one or two old ones, never more than the two kept (the node may
  // stop before it has logged every connection, on a slow sanitized build). Which numbers
  // survive is Poco's choice: it purges the oldest by modification time, which it reads to
  // the second, and this test rotates many times a second.
  ASSERT_GE(files.size(), 2u) << "the log never rotated at 2 KB";
  ASSERT_LE(files.size(), 3u) << "more than two old files kept";
  EXPECT_EQ(files[0], "chat-node.log");
  for (size_t i = 1; i < files.size(); ++i) {
    EXPECT_TRUE(std::regex_match(files[i], std::regex(R"(chat-node\.log\.\d+)"))) << files[i];
  }
  const std::regex line(R"(time=\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z level=[a-z]+ logger=[\w.]+ )"
                        R"((event=\w+( \w+=([^" ]+|"([^"\\]|\\.)*"))*|msg="([^"\\]|\\.)*"))");
  size_t lines = 0;
  for (const auto& name : files) {
    std::ifstream in(data + "/" + name);
    std::string text;
    while (std::getline(in, text)) {
      ++lines;
      EXPECT_TRUE(std::regex_match(text, line)) << name << ": " << text;
    }
    EXPECT_LE(std::filesystem::file_size(data + "/" + name), 4096u) << name;
  }
  EXPECT_GT(lines, 10u);
  // The console gets the same lines (the supervisor keeps them as the node's output).
  std::ifstream console(data + "/stdout.log");
  std::string all((std::istreambuf_iterator<char>(console)), std::istreambuf_iterator<char>());
  EXPECT_NE(all.find("level=information logger=chat event=stopping"), std::string::npos) << all;
}

TEST(NodeLoggingTest, BadLogSettingsAreRefusedAtStartNamingTheSetting) {
  testing::TempDir dir;
  for (const auto& [flag, value] : std::vector<std::pair<std::string, std::string>>{
           {"--log-rotation", "sometimes"}, {"--log-keep", "many"}}) {
    auto r = testing::runCommand(std::string(CHAT_NODE_BINARY) + " --port 0 --data-dir " +
                                 dir.file("n") + " " + flag + " " + value);
    EXPECT_EQ(r.exitCode, 78) << r.output;  // EX_CONFIG
    std::string setting = flag.substr(2);
    std::replace(setting.begin(), setting.end(), '-', '_');
    EXPECT_NE(r.output.find(setting + " is not valid"), std::string::npos) << r.output;
  }
}

}  // namespace
}  // namespace chat
