// Peer transport over loopback TCP: messages flow between nodes that know the secret, a
// node that does not is refused, and three replicated logs elect and commit over it.
#include "chat/replication/socket_peer_transport.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <condition_variable>
#include <future>
#include <thread>

#include <gtest/gtest.h>

#include "chat/replication/replicated_commit_log.h"
#include "chat/storage/archived_store.h"
#include "support/eventually.h"
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

// Something listening where a peer should be (a local user on a stopped node's port) that
// does not know the secret: it sends a challenge like a node, takes the answer and replies
// with a made-up proof. The transport must send it no message and take no snapshot from it.
class ImpostorAcceptor {
 public:
  ImpostorAcceptor(uint16_t port, uint32_t claimedId) : claimedId_(claimedId) {
    fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    int one = 1;
    ::setsockopt(fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(port);
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    EXPECT_EQ(::bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
    EXPECT_EQ(::listen(fd_, 8), 0);
    thread_ = std::thread([this] { serve(); });
  }
  ~ImpostorAcceptor() {
    stop_ = true;
    ::shutdown(fd_, SHUT_RDWR);
    ::close(fd_);
    thread_.join();
  }
  // Bytes received after the handshake's answer, over every connection.
  size_t bytesAfterHandshake() const { return after_.load(); }
  size_t connections() const { return connections_.load(); }

 private:
  void serve() {
    while (!stop_) {
      int c = ::accept4(fd_, nullptr, nullptr, SOCK_CLOEXEC);
      if (c < 0) {
        return;
      }
      ++connections_;
      timeval tv{0, 300 * 1000};
      ::setsockopt(c, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
      uint8_t hello[36] = {};
      for (int i = 0; i < 4; ++i) {
        hello[i] = static_cast<uint8_t>(claimedId_ >> (24 - 8 * i));
      }
      (void)::send(c, hello, sizeof hello, MSG_NOSIGNAL);
      uint8_t answer[4 + 32 + 32];
      size_t got = 0;
      while (got < sizeof answer) {
        ssize_t n = ::recv(c, answer + got, sizeof answer - got, 0);
        if (n <= 0) {
          break;
        }
        got += static_cast<size_t>(n);
      }
      uint8_t fake[32] = {1, 2, 3};
      (void)::send(c, fake, sizeof fake, MSG_NOSIGNAL);
      uint8_t rest[256];
      for (int i = 0; i < 3; ++i) {
        ssize_t n = ::recv(c, rest, sizeof rest, 0);
        if (n > 0) {
          after_ += static_cast<size_t>(n);
        } else if (n == 0) {
          break;
        }
      }
      ::close(c);
    }
  }
  int fd_ = -1;
  uint32_t claimedId_;
  std::atomic<bool> stop_{false};
  std::atomic<size_t> after_{0};
  std::atomic<size_t> connections_{0};
  std::thread thread_;
};

TEST(SocketPeerTransportTest, AnImpostorOnAPeersPortGetsNothingAndGivesNothing) {
  auto ports = chat::testing::freePorts(2);
  ImpostorAcceptor impostor(ports[1], 2);  // where node 2 should be
  auto node = SocketPeerTransport::start(options(1, ports, "the-shared-cluster-secret"));
  ASSERT_TRUE(node.has_value());
  for (int i = 0; i < 10; ++i) {
    (*node)->send(Envelope{1, 2, AppendRequest{3, 1, 0, 0, {{3, 1, {'s', 'e', 'c', 'r', 'e', 't'}}}, 0}});
    std::this_thread::sleep_for(50ms);
  }
  auto fetched = (*node)->fetchSnapshot(2, ::testing::TempDir() + "/impostor.db", {});
  EXPECT_FALSE(fetched.isOk());
  EXPECT_NE(fetched.message().find("proof"), std::string::npos) << fetched.message();
  EXPECT_GE(impostor.connections(), 2u);
  EXPECT_EQ(impostor.bytesAfterHandshake(), 0u) << "the node sent to an unproven acceptor";
}

TEST(SocketPeerTransportTest, ANodeDialledAsAnotherIsRefusedBeforeItsProofIsAsked) {
  auto ports = chat::testing::freePorts(2);
  ImpostorAcceptor impostor(ports[1], 3);  // says it is node 3 on node 2's port
  auto node = SocketPeerTransport::start(options(1, ports, "the-shared-cluster-secret"));
  ASSERT_TRUE(node.has_value());
  auto fetched = (*node)->fetchSnapshot(2, ::testing::TempDir() + "/impostor.db", {});
  EXPECT_FALSE(fetched.isOk());
  EXPECT_NE(fetched.message().find("not node 2"), std::string::npos) << fetched.message();
  EXPECT_EQ(impostor.bytesAfterHandshake(), 0u);
}

// Idle connections that never answer the challenge: each is closed after the handshake's
// deadline, beyond a cap they are refused at once, and a real peer still gets through.
TEST(SocketPeerTransportTest, AFloodOfSilentConnectionsNeitherStopsPeersNorTheNode) {
  auto ports = chat::testing::freePorts(2);
  auto a = SocketPeerTransport::start(options(1, ports, "the-shared-cluster-secret"));
  auto b = SocketPeerTransport::start(options(2, ports, "the-shared-cluster-secret"));
  ASSERT_TRUE(a.has_value() && b.has_value());
  std::vector<int> silent;
  for (int i = 0; i < 300; ++i) {
    int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(ports[1]);
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ASSERT_EQ(::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
    silent.push_back(fd);
  }
  std::this_thread::sleep_for(300ms);
  EXPECT_GE((*b)->refusedConnections(), 200u) << "beyond the cap they are refused at once";
  // Within the deadline (2 s) the strangers are gone and a real peer's messages flow.
  Inbox atB;
  (*b)->setHandler([&](Envelope e) { atB(std::move(e)); });
  for (int i = 0; i < 100 && atB.size() == 0; ++i) {
    (*a)->send(Envelope{1, 2, TimeoutNow{4}});
    atB.waitFor(1, 100ms);
  }
  EXPECT_GE(atB.size(), 1u);
  // Every silent connection was closed by the node: reading gives end of file.
  // (All within one deadline: a connection left open fails the test, it does not stall it.)
  size_t closed = 0;
  auto deadline = std::chrono::steady_clock::now() + 5s;
  for (int fd : silent) {
    auto left = std::max<int64_t>(1000, std::chrono::duration_cast<std::chrono::microseconds>(
                                            deadline - std::chrono::steady_clock::now())
                                            .count());
    timeval tv{static_cast<time_t>(left / 1000000), static_cast<suseconds_t>(left % 1000000)};
    ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    uint8_t buf[64];
    ssize_t n = 0;
    do {
      n = ::recv(fd, buf, sizeof buf, 0);
    } while (n > 0);
    closed += n == 0 || (n < 0 && errno == ECONNRESET) ? 1 : 0;
    ::close(fd);
  }
  EXPECT_EQ(closed, silent.size());
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
  ASSERT_TRUE(
      testing::eventually([&] { return nodes[1].log->role() == Role::kLeader; }, 10s, 5ms));
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
