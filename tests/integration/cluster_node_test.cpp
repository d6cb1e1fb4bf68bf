// Three real chat-node processes from one cluster file on loopback: the first in order leads,
// what it commits reaches the others, followers refuse writes naming the leader, and after
// SIGKILL of the leader the next in line takes over with every acknowledged message intact.
#include <fstream>
#include <thread>

#include <gtest/gtest.h>

#include "chat/client/connection.h"
#include "support/free_ports.h"
#include "support/node_process.h"
#include "support/temp_dir.h"

namespace chat {
namespace {

using namespace std::chrono_literals;
using client::Connection;

class ClusterNodeTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ports_ = testing::freePorts(6);
    std::ofstream file(dir_.file("cluster.ini"));
    file << "[cluster]\nsecret = integration-test-secret-42\nheartbeat_ms = 30\n"
            "election_timeout_ms = 200\nelection_step_ms = 100\n";
    for (size_t id = 1; id <= 3; ++id) {
      file << "[node." << id << "]\nhost = 127.0.0.1\nclient_port = " << ports_[id - 1]
           << "\npeer_port = " << ports_[id + 2]
           << "\ndata_dir = " << dir_.file("n" + std::to_string(id)) << "\n";
    }
    file.close();
    for (size_t id = 1; id <= 3; ++id) {
      nodes_.push_back(std::make_unique<testing::NodeProcess>(
          dir_.file("n" + std::to_string(id)),
          std::vector<std::string>{"--cluster", dir_.file("cluster.ini"), "--id",
                                   std::to_string(id)}));
      ASSERT_TRUE(nodes_.back()->start()) << "node " << id << " did not start";
    }
  }
  std::string address(int id) {
    return "127.0.0.1:" + std::to_string(ports_[static_cast<size_t>(id) - 1]);
  }
  std::unique_ptr<Connection> connect(int id) {
    auto c = Connection::connect(address(id), 5000ms);
    EXPECT_TRUE(c.has_value()) << c.error().toString();
    return std::move(c).value();
  }
  // Waits until node `id` reports `role`.
  bool waitForRole(int id, const std::string& role) {
    auto deadline = std::chrono::steady_clock::now() + 10s;
    while (std::chrono::steady_clock::now() < deadline) {
      auto c = Connection::connect(address(id), 1000ms);
      if (c) {
        auto r = (*c)->call(protocol::StatusRequest{}, 2000ms);
        if (r && r->isOk() && std::get<protocol::StatusReply>(r->body).status.role == role) {
          return true;
        }
      }
      std::this_thread::sleep_for(20ms);
    }
    return false;
  }

  testing::TempDir dir_;
  std::vector<uint16_t> ports_;
  std::vector<std::unique_ptr<testing::NodeProcess>> nodes_;
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

  nodes_[0]->kill(SIGKILL);
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
