// Three real chat-node processes from one cluster file on loopback: the first in order leads,
// what it commits reaches the others, followers refuse writes naming the leader, and after
// SIGKILL of the leader the next in line takes over with every acknowledged message intact.

#include <sys/stat.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <thread>

#include <gtest/gtest.h>

#include "chat/client/connection.h"
#include "chat/replication/socket_peer_transport.h"
#include "chat/storage/sqlite_archive.h"
#include "support/cluster_secret.h"
#include "support/eventually.h"
#include "support/free_ports.h"
#include "support/process_cluster.h"
#include "support/run_command.h"
#include "support/temp_dir.h"

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
  // The leader's status shows both followers caught up: a heartbeat or two behind at most,
  // once a follower that started last has connected (on a loaded box that can take a moment;
  // the bound is generous, the point is that both get there).
  protocol::NodeStatus s;
  auto deadline = std::chrono::steady_clock::now() + 5s;
  bool caughtUp = false;
  while (!caughtUp && std::chrono::steady_clock::now() < deadline) {
    auto status = leader->call(protocol::StatusRequest{}, 10s);
    ASSERT_TRUE(status.has_value() && status->isOk());
    s = std::get<protocol::StatusReply>(status->body).status;
    ASSERT_EQ(s.peers.size(), 2u);
    caughtUp = true;
    for (const auto& p : s.peers) {
      caughtUp = caughtUp && p.reachable && p.matchIndex + 5 >= s.commitIndex;
    }
    if (!caughtUp) {
      std::this_thread::sleep_for(50ms);
    }
  }
  for (const auto& p : s.peers) {
    EXPECT_TRUE(p.reachable) << p.id;
    EXPECT_EQ(p.role, "follower");
    EXPECT_GE(p.matchIndex + 5, s.commitIndex) << p.id;
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
  // Status says when and why: node 2 stood because node 1 went silent.
  auto after = cluster_.status(2);
  ASSERT_TRUE(after.has_value());
  EXPECT_NE(after->lastElection.find("this node was elected: no heartbeat from leader node 1"),
            std::string::npos)
      << after->lastElection;
  auto third = cluster_.status(3);
  ASSERT_TRUE(third.has_value());
  EXPECT_NE(third->lastElection.find("node 2 was elected"), std::string::npos)
      << third->lastElection;
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

namespace chat {
namespace {

using namespace std::chrono_literals;

TEST(ClusterRowsTest, AfterABurstOfSendsEveryNodeHoldsTheSameRows) {
  testing::ProcessCluster cluster(3);
  ASSERT_TRUE(cluster.startAll());
  ASSERT_EQ(cluster.waitForLeader(), 1u);
  auto c = client::Connection::connect(cluster.address(1), 5000ms);
  ASSERT_TRUE(c.has_value());
  ASSERT_TRUE((*c)->call(protocol::CreateRequest{"fay", "pw"}, 10s)->isOk());
  ASSERT_TRUE((*c)->call(protocol::LoginRequest{"fay", "pw"}, 10s)->isOk());
  for (int i = 0; i < 300; ++i) {  // pipelined: a burst
    (*c)->queueRequest((*c)->nextRequestId(),
                       protocol::SendRequest{"fay", "burst " + std::to_string(i)});
  }
  ASSERT_TRUE((*c)->flush(10s).isOk());
  for (int answered = 0; answered < 300;) {
    auto m = (*c)->receive(10s);
    ASSERT_TRUE(m.has_value() && m->has_value());
    if (auto* r = std::get_if<protocol::Response>(&**m)) {
      ASSERT_TRUE(r->isOk()) << r->error;
      ++answered;
    }
  }
  auto leader = cluster.status(1);
  ASSERT_TRUE(leader.has_value());
  // Followers apply what the next heartbeat tells them is committed.
  for (size_t id = 2; id <= 3; ++id) {
    EXPECT_TRUE(testing::eventually(
        [&] {
          auto s = cluster.status(id);
          return s && s->appliedIndex >= leader->commitIndex;
        },
        10s))
        << "node " << id << " did not apply what the leader committed";
  }
  for (size_t id = 1; id <= 3; ++id) {
    cluster.node(id).kill(SIGTERM);  // clean stop, then read each node's database
  }
  std::vector<std::vector<protocol::ChatMessage>> rows;
  for (size_t id = 1; id <= 3; ++id) {
    auto store = storage::openSqliteStore(cluster.dataDir(id) + "/chat.db", {});
    ASSERT_TRUE(store.has_value()) << store.error().toString();
    auto all = (*store)->messagesAfter(0, 10000);
    ASSERT_TRUE(all.has_value());
    rows.push_back(std::move(all).value());
  }
  ASSERT_EQ(rows[0].size(), 300u);
  EXPECT_EQ(rows[1], rows[0]) << "node 2 differs from the leader";
  EXPECT_EQ(rows[2], rows[0]) << "node 3 differs from the leader";
}

TEST(ClusterCampaignTest, AnOperatorMakesTheNextInLineTakeOverWithoutWaitingForTheTimeout) {
  testing::ClusterTimings timings;
  timings.electionTimeoutMs = 3000;  // heartbeats alone would take 3 s or more
  timings.electionStepMs = 1000;
  testing::ProcessCluster cluster(3, timings);
  ASSERT_TRUE(cluster.startAll());
  ASSERT_EQ(cluster.waitForLeader({}, std::chrono::seconds(20)), 1u);
  std::string node2 = "127.0.0.1:" + std::to_string(cluster.peerPort(2));
  // The wrong secret is refused.
  EXPECT_FALSE(replication::askToCampaign(node2, testing::randomSecret(), 2000ms).isOk());
  EXPECT_TRUE(cluster.waitForRole(1, "leader", 100ms));

  cluster.node(1).kill(SIGKILL);
  auto killed = std::chrono::steady_clock::now();
  Status asked = replication::askToCampaign(node2, cluster.secret(), 2000ms);
  ASSERT_TRUE(asked.isOk()) << asked.toString();
  ASSERT_TRUE(cluster.waitForRole(2, "leader", 2000ms));
  auto took = std::chrono::steady_clock::now() - killed;
  EXPECT_LT(took, 2000ms) << "the election timeout, not the request, decided";
  auto status = cluster.status(2);
  ASSERT_TRUE(status.has_value());
  EXPECT_NE(status->lastElection.find("asked to stand at once"), std::string::npos)
      << status->lastElection;
}

TEST(ClusterSecretTest, ANodeWithTheWrongSecretIsRefusedAndNeverJoins) {
  testing::ProcessCluster cluster(3);
  ASSERT_TRUE(cluster.node(1).start());
  ASSERT_TRUE(cluster.node(2).start());
  std::string impostorFile = cluster.file("impostor.ini");
  cluster.writeClusterFile(impostorFile, testing::randomSecret());
  testing::NodeProcess impostor(cluster.dataDir(3), {"--cluster", impostorFile, "--id", "3"});
  ASSERT_TRUE(impostor.start());
  ASSERT_EQ(cluster.waitForLeader({1, 2}), 1u);
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  auto leader = cluster.status(1);
  ASSERT_TRUE(leader.has_value());
  for (const auto& p : leader->peers) {
    EXPECT_EQ(p.reachable, p.id == 2) << "node " << p.id;
  }
  // The impostor hears no leader and leads nobody.
  auto outside = cluster.status(3);
  ASSERT_TRUE(outside.has_value());
  EXPECT_NE(outside->role, "leader");
  EXPECT_TRUE(outside->leaderAddress.empty()) << outside->leaderAddress;
  // The cluster's nodes said why in their logs.
  std::ifstream log(cluster.dataDir(1) + "/stdout.log");
  std::string text((std::istreambuf_iterator<char>(log)), std::istreambuf_iterator<char>());
  EXPECT_NE(text.find("refused a peer connection"), std::string::npos) << text;
}

// The secret etc/cluster.ini once shipped opened every node: a node refuses it, any weak
// secret and a secret file that others may read, before it opens a port, saying what to do.
TEST(ClusterSecretTest, ANodeRefusesAKnownWeakOrExposedSecretWithWhatToDo) {
  testing::TempDir dir;
  auto ports = testing::freePorts(2);
  auto attempt = [&](const std::string& clusterSection) {
    std::string file = dir.file("cluster.ini");
    std::ofstream(file) << "[cluster]\n"
                        << clusterSection
                        << "[node.1]\nhost = 127.0.0.1\nclient_port = " << ports[0]
                        << "\npeer_port = " << ports[1] << "\ndata_dir = " << dir.file("n1")
                        << "\n";
    // `timeout`: a node that wrongly accepts the secret fails the test instead of hanging it.
    return testing::runCommand("timeout 10 " + std::string(CHAT_NODE_BINARY) + " --cluster " +
                               file + " --id 1");
  };
  auto shipped = attempt("secret = change-me-a-long-random-string\n");
  EXPECT_EQ(shipped.exitCode, 78) << shipped.output;  // EX_CONFIG
  EXPECT_NE(shipped.output.find("[cluster] secret"), std::string::npos) << shipped.output;
  EXPECT_NE(shipped.output.find("openssl rand -hex 32"), std::string::npos) << shipped.output;
  auto repeated = attempt("secret = " + std::string(40, 'a') + "\n");
  EXPECT_EQ(repeated.exitCode, 78) << repeated.output;
  EXPECT_NE(repeated.output.find("too weak"), std::string::npos) << repeated.output;

  std::string secretFile = dir.file("cluster.secret");
  ASSERT_TRUE(testing::writePrivateFile(secretFile, testing::randomSecret() + "\n"));
  ::chmod(secretFile.c_str(), 0644);
  auto exposed = attempt("secret_file = " + secretFile + "\n");
  EXPECT_EQ(exposed.exitCode, 78) << exposed.output;
  EXPECT_NE(exposed.output.find("chmod 600 " + secretFile), std::string::npos) << exposed.output;
  auto missing = attempt("secret_file = " + dir.file("nowhere.secret") + "\n");
  EXPECT_EQ(missing.exitCode, 78) << missing.output;
  EXPECT_NE(missing.output.find("nowhere.secret"), std::string::npos) << missing.output;
  // None of them ever listened.
  EXPECT_FALSE(std::filesystem::exists(dir.file("n1/chat.db")));
}

}  // namespace
}  // namespace chat
