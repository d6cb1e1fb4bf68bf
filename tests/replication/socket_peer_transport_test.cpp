// Peer transport over loopback TCP: messages flow between nodes that know the secret, a
// node that does not is refused, and three replicated logs elect and commit over it.
#include "chat/replication/socket_peer_transport.h"

#include <condition_variable>
#include <future>
#include <thread>

#include <gtest/gtest.h>

#include "chat/replication/replicated_commit_log.h"
#include "chat/storage/archived_store.h"
#include "support/free_ports.h"

namespace chat::replication {
namespace {

using namespace std::chrono_literals;

class Inbox {
 public:
  void operator()(Envelope e) {
    std::lock_guard lock(mu_);
    got_.push_back(std::move(e));
    cv_.notify_all();
  }
  bool waitFor(size_t n, std::chrono::milliseconds timeout) {
    std::unique_lock lock(mu_);
    return cv_.wait_for(lock, timeout, [&] { return got_.size() >= n; });
  }
  size_t size() {
    std::lock_guard lock(mu_);
    return got_.size();
  }
  Envelope at(size_t i) {
    std::lock_guard lock(mu_);
    return got_.at(i);
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<Envelope> got_;
};

SocketTransportOptions options(NodeId self, const std::vector<uint16_t>& ports,
                               const std::string& secret) {
  SocketTransportOptions o;
  o.self = self;
  o.listenPort = ports[self - 1];
  for (NodeId id = 1; id <= ports.size(); ++id) {
    o.peers[id] = "127.0.0.1:" + std::to_string(ports[id - 1]);
  }
  o.secret = secret;
  return o;
}

TEST(SocketPeerTransportTest, MessagesFlowBetweenNodesThatKnowTheSecret) {
  auto ports = chat::testing::freePorts(2);
  auto a = SocketPeerTransport::start(options(1, ports, "the-shared-cluster-secret"));
  auto b = SocketPeerTransport::start(options(2, ports, "the-shared-cluster-secret"));
  ASSERT_TRUE(a.has_value() && b.has_value());
  Inbox atB;
  (*b)->setHandler([&](Envelope e) { atB(std::move(e)); });
  AppendRequest append{3, 1, 0, 0, {{3, 1, {}}}, 0};
  // The first sends may go before the connection is up (dropped, as Raft tolerates): resend.
  for (int i = 0; i < 50 && atB.size() == 0; ++i) {
    (*a)->send(Envelope{1, 2, append});
    atB.waitFor(1, 100ms);
  }
  ASSERT_GE(atB.size(), 1u);
  EXPECT_EQ(atB.at(0), (Envelope{1, 2, append}));
}

TEST(SocketPeerTransportTest, APeerWithTheWrongSecretIsRefused) {
  auto ports = chat::testing::freePorts(2);
  auto honest = SocketPeerTransport::start(options(2, ports, "the-shared-cluster-secret"));
  auto intruder = SocketPeerTransport::start(options(1, ports, "a-guessed-wrong-secret!!"));
  ASSERT_TRUE(honest.has_value() && intruder.has_value());
  Inbox got;
  (*honest)->setHandler([&](Envelope e) { got(std::move(e)); });
  for (int i = 0; i < 20 && (*honest)->refusedConnections() == 0; ++i) {
    (*intruder)->send(Envelope{1, 2, TimeoutNow{9}});
    std::this_thread::sleep_for(50ms);
  }
  EXPECT_GE((*honest)->refusedConnections(), 1u);
  EXPECT_EQ(got.size(), 0u);
}

TEST(SocketPeerTransportTest, ThreeReplicatedLogsElectAndCommitOverSockets) {
  auto ports = chat::testing::freePorts(3);
  SystemClock clock;
  struct Node {
    storage::InMemoryMessageStore store;
    InMemoryRaftStorage raft;
    std::unique_ptr<SocketPeerTransport> transport;
    std::unique_ptr<ReplicatedCommitLog> log;
  };
  std::map<NodeId, Node> nodes;
  for (NodeId id = 1; id <= 3; ++id) {
    auto t = SocketPeerTransport::start(options(id, ports, "the-shared-cluster-secret"));
    ASSERT_TRUE(t.has_value()) << t.error().toString();
    nodes[id].transport = std::move(t).value();
  }
  for (NodeId id = 1; id <= 3; ++id) {
    ReplicatedLogOptions o;
    o.raft.self = id;
    o.raft.members = {1, 2, 3};
    o.raft.heartbeat = 20ms;
    o.raft.electionTimeout = 150ms;
    o.raft.electionStep = 50ms;
    auto log =
        ReplicatedCommitLog::open(o, nodes[id].store, nodes[id].raft, *nodes[id].transport, clock);
    ASSERT_TRUE(log.has_value());
    nodes[id].log = std::move(log).value();
  }
  auto deadline = std::chrono::steady_clock::now() + 10s;
  while (nodes[1].log->role() != Role::kLeader && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(5ms);
  }
  ASSERT_EQ(nodes[1].log->role(), Role::kLeader);
  std::promise<Result<storage::ApplyResult>> done;
  nodes[1].log->propose(storage::CreateAccountOp{"alice", "h", 1},
                        [&](Result<storage::ApplyResult> r) { done.set_value(std::move(r)); });
  auto f = done.get_future();
  ASSERT_EQ(f.wait_for(10s), std::future_status::ready);
  ASSERT_TRUE(f.get().has_value());
  for (NodeId id = 2; id <= 3; ++id) {
    auto until = std::chrono::steady_clock::now() + 5s;
    while (!nodes[id].store.findAccount("alice")->has_value() &&
           std::chrono::steady_clock::now() < until) {
      std::this_thread::sleep_for(5ms);
    }
    EXPECT_TRUE(nodes[id].store.findAccount("alice")->has_value()) << "node " << id;
  }
  for (auto& [id, n] : nodes) {
    n.log.reset();
  }
}

}  // namespace
}  // namespace chat::replication
