// Several hosts, simulated: three chat-nodes in three network namespaces with addresses of
// their own on a bridge, and the client in a fourth. Chat works across them and survives a
// SIGKILL of the leader. Needs root (skipped with a message otherwise).
#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <thread>

#include <gtest/gtest.h>

#include "chat/client/connection.h"
#include "chat/launcher/node_launcher.h"
#include "netns_lab.h"
#include "support/cluster_secret.h"
#include "support/eventually.h"
#include "support/run_command.h"
#include "support/temp_dir.h"

namespace chat {
namespace {

using namespace std::chrono_literals;

TEST(NetnsClusterTest, ThreeNodesInThreeNamespacesChatAndFailOverForAClientInAFourth) {
  if (::geteuid() != 0) {
    GTEST_SKIP() << "needs root: each node runs in a network namespace of its own";
  }
  auto made = chaos::NetnsLab::create(3, 1);
  if (!made) {
    GTEST_SKIP() << made.error().message();
  }
  auto& lab = *made.value();
  testing::TempDir dir;
  std::string clusterFile = dir.file("cluster.ini");
  {
    std::ofstream f(clusterFile);
    f << "[cluster]\nsecret = " << testing::randomSecret()
      << "\nheartbeat_ms = 50\n"
         "election_timeout_ms = 300\nelection_step_ms = 100\n";
    for (int i = 1; i <= 3; ++i) {
      f << "[node." << i << "]\nhost = " << lab.address(i)
        << "\nclient_port = 7001\npeer_port = 7101\ndata_dir = "
        << dir.file("n" + std::to_string(i)) << "\n";
    }
  }
  std::vector<launcher::ChildProcess> nodes;
  for (int i = 1; i <= 3; ++i) {
    launcher::LaunchSpec spec;
    spec.binary = "/bin/sh";
    // exec keeps the pid, so signals reach the node itself.
    spec.args = {"-c", "exec ip netns exec " + lab.netns(i) + " " + CHAT_NODE_BINARY +
                           " --cluster " + clusterFile + " --id " + std::to_string(i) +
                           " --password-hash min --sign-ups-per-minute 0 --sends-per-second 0 "
                           "--log-level warning"};
    spec.logFile = dir.file("node" + std::to_string(i) + ".log");
    auto child = launcher::ChildProcess::spawn(spec);
    ASSERT_TRUE(child.has_value()) << child.error().message();
    nodes.push_back(std::move(child).value());
  }
  auto leaderOf = [&](int skip) {
    int leader = 0;
    testing::eventually(
        [&] {
          for (int i = 1; i <= 3; ++i) {
            auto s = i == skip ? std::nullopt
                               : client::fetchStatus(lab.address(i) + ":7001", 300ms, 500ms);
            if (s && s->role == "leader") {
              leader = i;
              return true;
            }
          }
          return false;
        },
        15s, 50ms);
    return leader;
  };
  int leader = leaderOf(0);
  ASSERT_NE(leader, 0) << "no leader across the namespaces; logs in " << dir.path();
  std::string servers =
      lab.address(1) + ":7001," + lab.address(2) + ":7001," + lab.address(3) + ":7001";
  auto bench = [&] {
    return testing::runCommand("ip netns exec " + lab.clientNetns(1) + " " + CHAT_BENCH_BINARY +
                               " --servers " + servers + " --pairs 4 --messages 200");
  };
  auto first = bench();
  EXPECT_EQ(first.exitCode, 0) << first.output;
  EXPECT_NE(first.output.find("OK: every message arrived exactly once"), std::string::npos)
      << first.output;

  (void)nodes[static_cast<size_t>(leader - 1)].signal(SIGKILL);
  int next = leaderOf(leader);
  ASSERT_NE(next, 0) << "no new leader after the kill; logs in " << dir.path();
  EXPECT_NE(next, leader);
  auto second = bench();
  EXPECT_EQ(second.exitCode, 0) << second.output;
  EXPECT_NE(second.output.find("OK: every message arrived exactly once"), std::string::npos)
      << second.output;
}

}  // namespace
}  // namespace chat
