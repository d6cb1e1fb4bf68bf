// Three real chat-node processes from one cluster file on loopback: the first in order leads,
// what it commits reaches the others, followers refuse writes naming the leader, and after
// SIGKILL of the leader the next in line takes over with every acknowledged message intact.

#include <gtest/gtest.h>

#include "chat/client/connection.h"
#include "support/process_cluster.h"

namespace chat {
namespace {

using namespace std::chrono_literals;
using client::Connection;

class ClusterNodeTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_TRUE(cluster_.startAll()); }
  std::string address(int id) { return cluster_.address(static_cast<size_t>(id)); }
  std::unique_ptr<Connection> connect(int id) {
    auto c = Connection::connect(address(id), 5000ms);
    EXPECT_TRUE(c.has_value()) << c.error().toString();
    return std::move(c).value();
  }
  bool waitForRole(int id, const std::string& role) {
    return cluster_.waitForRole(static_cast<size_t>(id), role);
  }

  testing::ProcessCluster cluster_{3};
};

TEST_F(ClusterNodeTest, TheNextInLineTakesOverAndNothingAcknowledgedIsLost) {
  ASSERT_TRUE(waitForRole(1, "leader"));
  auto leader = connect(1);
  ASSERT_TRUE(leader->call(protocol::CreateRequest{"alice", "pw"}, 10s)->isOk());
  ASSERT_TRUE(leader->call(protocol::CreateRequest{"bob", "pw"}, 10s)->isOk());
  ASSERT_TRUE(leader->call(protocol::LoginRequest{"alice", "pw"}, 10s)->isOk());
  for (int i = 0; i < 20; ++i) {
    auto r = leader->call(protocol::SendRequest{"bob", "before " + std::to_string(i)}, 10s);
    ASSERT_TRUE(r.has_value() && r->isOk());
  }
  // The leader's status shows both followers caught up.
  auto status = leader->call(protocol::StatusRequest{}, 10s);
  ASSERT_TRUE(status.has_value() && status->isOk());
  const auto& s = std::get<protocol::StatusReply>(status->body).status;
  ASSERT_EQ(s.peers.size(), 2u);
  for (const auto& p : s.peers) {
    EXPECT_TRUE(p.reachable) << p.id;
    EXPECT_EQ(p.role, "follower");
    EXPECT_GE(p.matchIndex + 5, s.commitIndex) << p.id;  // a heartbeat or two behind at most
  }
  // A follower redirects everything but status, ping and help to the leader.
  auto follower = connect(2);
  auto refused = follower->call(protocol::CreateRequest{"carol", "pw"}, 10s);
  ASSERT_TRUE(refused.has_value());
  EXPECT_EQ(refused->code, protocol::ErrorCode::kNotLeader);
  EXPECT_NE(refused->error.find("node 1 at " + address(1)), std::string::npos) << refused->error;
  const auto& hint = std::get<protocol::NotLeaderReply>(refused->body);
  EXPECT_EQ(hint.nodeId, 1u);
  EXPECT_EQ(hint.address, address(1));
  EXPECT_EQ(follower->call(protocol::ListRequest{}, 10s)->code, protocol::ErrorCode::kNotLeader);
  EXPECT_TRUE(follower->call(protocol::PingRequest{1}, 10s)->isOk());

  cluster_.node(1).kill(SIGKILL);
  ASSERT_TRUE(waitForRole(2, "leader")) << "node 2, next in line, did not take over";
  auto next = connect(2);
  ASSERT_TRUE(next->call(protocol::LoginRequest{"alice", "pw"}, 10s)->isOk());
  for (int i = 0; i < 5; ++i) {
    auto r = next->call(protocol::SendRequest{"bob", "after " + std::to_string(i)}, 10s);
    ASSERT_TRUE(r.has_value() && r->isOk()) << (r ? r->error : r.error().toString());
  }
  auto bob = connect(2);
  auto login = bob->call(protocol::LoginRequest{"bob", "pw"}, 10s);
  ASSERT_TRUE(login.has_value() && login->isOk());
  EXPECT_EQ(std::get<protocol::LoginReply>(login->body).waiting, 25u);
}

}  // namespace
}  // namespace chat
