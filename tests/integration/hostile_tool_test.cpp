// chat-hostile's attacks on a cluster's leader — the queue flood, the peer-port flood and the
// slow admin client — while a good client chats: the cluster keeps its leader and serves,
// what the flood stored stays within the victim's quota, and /health answers.
#include <thread>

#include <gtest/gtest.h>

#include "chat/client/connection.h"
#include "support/http_get.h"
#include "support/process_cluster.h"
#include "support/run_command.h"

namespace chat {
namespace {

using namespace std::chrono_literals;
using client::Connection;

TEST(HostileToolTest, QueuePeerAndSlowAdminFloodsLeaveTheClusterServing) {
  testing::ClusterTimings timings;
  timings.adminPorts = true;
  testing::ProcessCluster cluster(3, timings);
  ASSERT_TRUE(cluster.startAll());
  size_t leader = cluster.waitForLeader();
  ASSERT_NE(leader, 0u);
  testing::CommandResult attack;
  std::thread attacker([&] {
    attack = testing::runCommand(
        std::string(CHAT_HOSTILE_BINARY) + " --server " + cluster.address(leader) +
        " --kind queue,peer,slow-admin --rate 300 --seconds 3 --connections 40 --peer 127.0.0.1:" +
        std::to_string(cluster.peerPort(leader)) +
        " --admin 127.0.0.1:" + std::to_string(cluster.adminPort(leader)));
  });
  auto alice = Connection::connect(cluster.address(leader), 5000ms);
  auto bob = Connection::connect(cluster.address(leader), 5000ms);
  ASSERT_TRUE(alice.has_value() && bob.has_value());
  for (auto* c : {&alice, &bob}) {
    std::string name = c == &alice ? "alice" : "bob";
    (void)(**c)->call(protocol::CreateRequest{name, "pw"}, 10s);
    auto login = (**c)->call(protocol::LoginRequest{name, "pw"}, 10s);
    ASSERT_TRUE(login.has_value() && login->isOk());
  }
  int delivered = 0;
  auto until = std::chrono::steady_clock::now() + 3s;
  while (std::chrono::steady_clock::now() < until) {
    auto sent = (*alice)->call(protocol::SendRequest{"bob", "hi " + std::to_string(delivered)}, 5s);
    ASSERT_TRUE(sent.has_value() && sent->isOk()) << "alice's send failed under attack";
    auto push = (*bob)->waitPush(5s);
    ASSERT_TRUE(push.has_value() && push->has_value()) << "bob's push did not come";
    ++delivered;
    EXPECT_EQ(testing::httpRequest(cluster.adminPort(leader), "/health").status, 200);
    std::this_thread::sleep_for(100ms);
  }
  attacker.join();
  ASSERT_EQ(attack.status, 0) << attack.output;
  EXPECT_NE(attack.output.find("stored"), std::string::npos) << attack.output;
  EXPECT_GT(delivered, 5);
  // The same leader throughout: the peer flood cost it no election.
  EXPECT_EQ(cluster.waitForLeader(), leader);
}

TEST(HostileToolTest, BadOptionsAreRefusedWithUsage) {
  auto run = testing::runCommand(std::string(CHAT_HOSTILE_BINARY) +
                                 " --server 127.0.0.1:1 --kind peer");
  EXPECT_EQ(WEXITSTATUS(run.status), 2);
  EXPECT_NE(run.output.find("peer needs --peer HOST:PORT"), std::string::npos) << run.output;
  run = testing::runCommand(std::string(CHAT_HOSTILE_BINARY) +
                            " --server 127.0.0.1:1 --kind nonsense");
  EXPECT_EQ(WEXITSTATUS(run.status), 2);
  EXPECT_NE(run.output.find("unknown kind 'nonsense'"), std::string::npos) << run.output;
}

}  // namespace
}  // namespace chat
