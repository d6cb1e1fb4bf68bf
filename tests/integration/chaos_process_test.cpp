// chat-chaos as a process: a 45-second run of faults under 1,000 messages a second on a
// three-node cluster under chat-supervisor must end with every acknowledged message
// delivered exactly once and in order (the tool's own check), and bad options are refused.
#include <gtest/gtest.h>

#include <Poco/JSON/Object.h>
#include <Poco/JSON/Parser.h>

#include <unistd.h>

#include <filesystem>
#include <string>

#include "support/run_command.h"
#include "support/temp_dir.h"

namespace chat {
namespace {

std::string chaos(const std::string& args) {
  return std::string(CHAT_CHAOS_BINARY) + " --supervisor " + CHAT_SUPERVISOR_BINARY +
         " --node-binary " + CHAT_NODE_BINARY + " " + args;
}

TEST(ChaosProcessTest, FaultsUnderLoadLoseDoubleAndReorderNothing) {
#if defined(__SANITIZE_THREAD__)
  // TSan's nodes manage well under a hundred messages a second and every fault takes
  // seconds to settle: a light load, so that this checks races and the history, not speed.
  const char* load = "--seconds 45 --rate 50 --fault-every-ms 1000";
  const int64_t expectAcked = 1000;
  const int expectFaults = 4;
#elif defined(CHAT_SANITIZED)
  // ASan's nodes manage about a quarter of the rate: stay below it, so that this checks
  // faults rather than overload (docs/reliability.md has an overloaded run).
  const char* load = "--seconds 45 --rate 200 --fault-every-ms 500";
  const int64_t expectAcked = 6000;
  const int expectFaults = 20;
#else
  const char* load = "--seconds 45 --rate 1000 --fault-every-ms 500";
  const int64_t expectAcked = 30000;
  const int expectFaults = 20;
#endif
  auto run = testing::runCommand(chaos(std::string(load) + " --quiet --json --seed 20261124"));
  ASSERT_EQ(run.exitCode, 0) << run.output;
  Poco::JSON::Parser parser;
  auto result = parser.parse(run.output).extract<Poco::JSON::Object::Ptr>();
  EXPECT_TRUE(result->getValue<bool>("ok")) << run.output;
  EXPECT_EQ(result->getValue<int64_t>("lost"), 0) << run.output;
  EXPECT_EQ(result->getValue<int64_t>("duplicated"), 0) << run.output;
  EXPECT_EQ(result->getValue<int64_t>("reordered"), 0) << run.output;
  EXPECT_EQ(result->getValue<int64_t>("neverSent"), 0) << run.output;
  EXPECT_GE(result->getValue<int>("faults"), expectFaults) << run.output;
  EXPECT_GE(result->getValue<int64_t>("acknowledged"), expectAcked) << run.output;
  EXPECT_GT(result->getValue<int64_t>("sessionsResumed"), 0) << "the clients rode through failovers";
  // A fifth of the sends went to a room of every user: each member got each once, in order.
  auto room = result->getObject("room");
  EXPECT_GE(room->getValue<int64_t>("copiesExpected"), expectAcked / 10) << run.output;
  EXPECT_EQ(room->getValue<int64_t>("lost"), 0) << run.output;
  EXPECT_EQ(room->getValue<int64_t>("duplicated"), 0) << run.output;
  EXPECT_EQ(room->getValue<int64_t>("reordered"), 0) << run.output;
  EXPECT_EQ(room->getValue<int64_t>("neverSent"), 0) << run.output;
}

TEST(ChaosProcessTest, TheLeaderCutOffFromItsReplicasLosesAndForksNothing) {
  if (::geteuid() != 0) {
    GTEST_SKIP() << "partitions need root (each node in a network namespace of its own)";
  }
  auto run = testing::runCommand(chaos(
      "--partitions --seconds 20 --rate 500 --fault-every-ms 600 --quiet --json --seed 7"));
  ASSERT_EQ(run.exitCode, 0) << run.output;
  Poco::JSON::Parser parser;
  auto result = parser.parse(run.output).extract<Poco::JSON::Object::Ptr>();
  EXPECT_TRUE(result->getValue<bool>("ok")) << run.output;
  auto byKind = result->getObject("faultsByKind");
  ASSERT_TRUE(byKind->has("partition-leader")) << run.output;
  EXPECT_GE(byKind->getValue<int>("partition-leader"), 1) << run.output;
}

TEST(ChaosProcessTest, BadOptionsAreRefusedWithTheReason) {
  auto run = testing::runCommand(chaos("--nodes 2"));
  EXPECT_EQ(run.exitCode, 2);
  EXPECT_NE(run.output.find("--nodes takes a number from 3 to 7, not '2'"), std::string::npos)
      << run.output;
  run = testing::runCommand(chaos("--frobnicate 1"));
  EXPECT_EQ(run.exitCode, 2);
  EXPECT_NE(run.output.find("unknown option --frobnicate"), std::string::npos) << run.output;
}

// Nodes that cannot start end the run at once, pointing at their logs, which are kept.
TEST(ChaosProcessTest, NodesThatCannotStartEndTheRunWithWhereToLook) {
  testing::TempDir dir;
  auto run = testing::runCommand(std::string(CHAT_CHAOS_BINARY) + " --supervisor " +
                                 CHAT_SUPERVISOR_BINARY + " --node-binary /bin/false --seconds 5" +
                                 " --run-dir " + dir.file("run"));
  EXPECT_EQ(run.exitCode, 2) << run.output;
  std::string says = "did not come up (down); see " + dir.file("run") + "/run/node";
  ASSERT_NE(run.output.find(says), std::string::npos) << run.output;
  EXPECT_TRUE(std::filesystem::exists(dir.file("run") + "/supervisor.log"));
}

}  // namespace
}  // namespace chat
