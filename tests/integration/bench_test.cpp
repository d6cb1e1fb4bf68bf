// chat-bench against a real node: it must see every message exactly once and say so, in
// both output formats, and refuse bad options with a clear error.
#include <cstdio>
#include <string>

#include <gtest/gtest.h>

#include "support/json_object.h"
#include "support/node_process.h"
#include "support/process_cluster.h"
#include "support/run_command.h"
#include "support/temp_dir.h"

namespace chat {
namespace {

using BenchRun = testing::CommandResult;

BenchRun runBench(const std::string& args) {
  return testing::runCommand(std::string(CHAT_BENCH_BINARY) + " " + args);
}

TEST(ChatBenchTest, CountsEveryMessageOnceAndReportsJson) {
  testing::TempDir dir;
  testing::NodeProcess node(dir.file("node"));
  ASSERT_TRUE(node.start());
  BenchRun run = runBench("--servers " + node.address() +
                          " --pairs 3 --messages 200 --window 4 --size 64 --json");
  ASSERT_EQ(run.status, 0) << run.output;
  auto result = testing::parseJsonObject(run.output);
  EXPECT_EQ(result->getValue<int64_t>("sent"), 600) << run.output;
  EXPECT_EQ(result->getValue<int64_t>("received"), 600) << run.output;
  EXPECT_EQ(result->getValue<int64_t>("missing"), 0) << run.output;
  EXPECT_EQ(result->getValue<int>("pairs"), 3) << run.output;
  EXPECT_GT(result->getValue<double>("messagesPerSecond"), 0) << run.output;
  EXPECT_TRUE(result->getValue<bool>("ok")) << run.output;

  BenchRun text = runBench("--servers " + node.address() + " --pairs 2 --rate 200 --duration 1");
  ASSERT_EQ(text.status, 0) << text.output;
  EXPECT_NE(text.output.find("OK: every message arrived exactly once"), std::string::npos)
      << text.output;

  BenchRun waited = runBench("--servers " + node.address() + " --await 5");
  ASSERT_EQ(waited.status, 0) << waited.output;
  EXPECT_NE(waited.output.find("the node answered"), std::string::npos) << waited.output;
  node.kill(SIGKILL);
  BenchRun gone = runBench("--servers " + node.address() + " --await 0.3");
  EXPECT_EQ(WEXITSTATUS(gone.status), 1);
  EXPECT_NE(gone.output.find("did not answer within 0.3 s"), std::string::npos) << gone.output;
}

// --room: every member gets every room message once, whether the load is a window or a rate.
TEST(ChatBenchTest, ARoomRunCountsEveryMembersCopy) {
  testing::TempDir dir;
  testing::NodeProcess node(dir.file("node"));
  ASSERT_TRUE(node.start());
  BenchRun run = runBench("--servers " + node.address() +
                          " --room 6 --senders 2 --messages 50 --window 4 --json");
  ASSERT_EQ(run.status, 0) << run.output;
  auto result = testing::parseJsonObject(run.output);
  EXPECT_EQ(result->getValue<int64_t>("messages"), 100) << run.output;
  EXPECT_EQ(result->getValue<int64_t>("deliveries"), 500) << run.output;
  EXPECT_EQ(result->getValue<int64_t>("missing"), 0) << run.output;
  EXPECT_EQ(result->getValue<int>("room"), 6) << run.output;
  EXPECT_TRUE(result->getValue<bool>("ok")) << run.output;
  BenchRun text = runBench("--servers " + node.address() + " --room 4 --rate 40 --duration 1");
  ASSERT_EQ(text.status, 0) << text.output;
  EXPECT_NE(text.output.find("send to the last member's push: p50"), std::string::npos)
      << text.output;
  EXPECT_NE(text.output.find("OK: every member got every message exactly once"),
            std::string::npos)
      << text.output;
  BenchRun bad = runBench("--servers " + node.address() + " --room 1001");
  EXPECT_EQ(WEXITSTATUS(bad.status), 2);
  EXPECT_NE(bad.output.find("--room takes a number from 2 to 1000, not '1001'"), std::string::npos) << bad.output;
  BenchRun irc = runBench("--servers " + node.address() + " --protocol irc --room 5");
  EXPECT_EQ(WEXITSTATUS(irc.status), 2);
  EXPECT_NE(irc.output.find("--room against irc or redis needs --rate"), std::string::npos)
      << irc.output;
}

TEST(ChatBenchTest, FailoverModeKillsTheLeaderAndLosesNothing) {
  testing::ProcessCluster cluster(3);  // only its cluster file: chat-bench starts the nodes
  BenchRun run = runBench("--failover 2 --cluster " + cluster.clusterFile() + " --node-binary " +
                          CHAT_NODE_BINARY + " --run-dir " + cluster.file("run"));
  ASSERT_EQ(run.status, 0) << run.output;
  EXPECT_NE(run.output.find("failover over 2 kills"), std::string::npos) << run.output;
  EXPECT_NE(run.output.find("OK: every acknowledged message arrived exactly once"),
            std::string::npos)
      << run.output;
  // And the nodes it started are gone with it.
  EXPECT_FALSE(cluster.status(1).has_value());
}

TEST(ChatBenchTest, BadOptionsAreRefusedClearly) {
  BenchRun noServer = runBench("--pairs 2");
  EXPECT_NE(WEXITSTATUS(noServer.status), 0);
  EXPECT_NE(noServer.output.find("--servers is required"), std::string::npos);
  BenchRun badNumber = runBench("--servers 127.0.0.1:1 --window lots");
  EXPECT_NE(WEXITSTATUS(badNumber.status), 0);
  EXPECT_NE(badNumber.output.find("--window takes a number from 1 to 100000, not 'lots'"), std::string::npos);
  BenchRun noCluster = runBench("--failover 3");
  EXPECT_NE(WEXITSTATUS(noCluster.status), 0);
  EXPECT_NE(noCluster.output.find("--failover needs --cluster FILE"), std::string::npos);
  BenchRun unreachable = runBench("--servers 127.0.0.1:1 --pairs 1 --messages 1");
  EXPECT_NE(WEXITSTATUS(unreachable.status), 0);
  EXPECT_NE(unreachable.output.find("cannot connect"), std::string::npos) << unreachable.output;
  BenchRun badProtocol = runBench("--servers 127.0.0.1:1 --protocol xmpp");
  EXPECT_EQ(WEXITSTATUS(badProtocol.status), 2);
  EXPECT_NE(badProtocol.output.find("--protocol must be chat, irc or redis"), std::string::npos);
  BenchRun badOper = runBench("--servers 127.0.0.1:1 --protocol irc --irc-oper nopassword");
  EXPECT_EQ(WEXITSTATUS(badOper.status), 2);
  EXPECT_NE(badOper.output.find("NAME:PASSWORD"), std::string::npos);
  BenchRun ircUnreachable = runBench("--servers 127.0.0.1:1 --protocol irc --pairs 1");
  EXPECT_EQ(WEXITSTATUS(ircUnreachable.status), 1);
  EXPECT_NE(ircUnreachable.output.find("cannot connect"), std::string::npos);
}

}  // namespace
}  // namespace chat
