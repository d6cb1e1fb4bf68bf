// The admin HTTP port of real chat-node processes: /metrics parses as Prometheus text and its
// counters move with traffic (received, queued, delivered, commit latency, replication lag,
// elections), /health says who can serve, and anything else gets a clear refusal.

#include <atomic>
#include <cstdio>
#include <fstream>
#include <sstream>
#include <thread>

#include <gtest/gtest.h>

#include "chat/client/connection.h"
#include "support/eventually.h"
#include "support/http_get.h"
#include "support/json_object.h"
#include "support/line_client.h"
#include "support/process_cluster.h"
#include "support/prometheus_text.h"

namespace chat {
namespace {

using namespace std::chrono_literals;
using client::Connection;
using testing::PrometheusSamples;

class AdminPortTest : public ::testing::Test {
 protected:
  static testing::ClusterTimings timings() {
    testing::ClusterTimings t;
    t.adminPorts = true;
    return t;
  }
  void SetUp() override { ASSERT_TRUE(cluster_.startAll()); }

  PrometheusSamples metrics(size_t id) {
    auto reply = testing::httpRequest(cluster_.adminPort(id), "/metrics");
    EXPECT_EQ(reply.status, 200);
    EXPECT_EQ(reply.contentType, "text/plain; version=0.0.4; charset=utf-8");
    auto parsed = testing::parsePrometheusText(reply.body);
    if (auto* error = std::get_if<std::string>(&parsed)) {
      ADD_FAILURE() << "node " << id << ": " << *error;
      return {};
    }
    return std::get<PrometheusSamples>(parsed);
  }
  // Waits (up to 10 s) until node `id` reports `key` at `value` or more.
  bool waitForAtLeast(size_t id, const std::string& key, double value) {
    return testing::eventually([&] { return metrics(id).at(key) >= value; }, 10s);
  }

  testing::ProcessCluster cluster_{3, timings()};
};

TEST_F(AdminPortTest, MetricsParseAndMoveWithTraffic) {
  size_t leader = cluster_.waitForLeader();
  ASSERT_NE(leader, 0u);
  size_t follower = leader == 1 ? 2 : 1;
  PrometheusSamples before = metrics(leader);
  EXPECT_EQ(before.types["chat_commit_latency_seconds"], "histogram");
  EXPECT_EQ(before.at("chat_is_leader"), 1);
  EXPECT_EQ(before.at("chat_role{role=\"leader\"}"), 1);
  EXPECT_GE(before.at("chat_elections_total"), 1);
  EXPECT_GE(before.at("chat_epoch"), 1);
  EXPECT_EQ(metrics(follower).at("chat_is_leader"), 0);

  auto c = Connection::connect(cluster_.address(leader), 5000ms);
  ASSERT_TRUE(c.has_value());
  auto& alice = **c;
  ASSERT_TRUE(alice.call(protocol::CreateRequest{"alice", "pw"}, 10s)->isOk());
  ASSERT_TRUE(alice.call(protocol::CreateRequest{"bob", "pw"}, 10s)->isOk());
  ASSERT_TRUE(alice.call(protocol::LoginRequest{"alice", "pw"}, 10s)->isOk());
  for (int i = 0; i < 5; ++i) {
    ASSERT_TRUE(alice.call(protocol::SendRequest{"bob", "m" + std::to_string(i)}, 10s)->isOk());
  }
  PrometheusSamples during = metrics(leader);
  EXPECT_EQ(during.at("chat_messages_received_total"),
            before.at("chat_messages_received_total") + 5);
  EXPECT_EQ(during.at("chat_messages_queued"), 5);  // bob is offline
  EXPECT_EQ(during.at("chat_commit_latency_seconds_count"),
            before.at("chat_commit_latency_seconds_count") + 5);
  EXPECT_GT(during.at("chat_commit_latency_seconds_sum"), 0);
  EXPECT_GE(during.at("chat_connected_clients"), 1);
  EXPECT_EQ(during.at("chat_sessions"), 1);
  // The leader reports each follower's lag; both are a heartbeat behind at most.
  for (size_t id = 1; id <= 3; ++id) {
    if (id == leader) {
      continue;
    }
    std::string lag = "chat_replication_lag_entries{peer=\"" + std::to_string(id) + "\"}";
    ASSERT_GE(during.at(lag), 0) << lag << " missing";
    EXPECT_LE(during.at(lag), 5);
    EXPECT_EQ(during.at("chat_replication_peer_reachable{peer=\"" + std::to_string(id) + "\"}"), 1);
  }
  // Followers apply the same records and count them too.
  EXPECT_TRUE(waitForAtLeast(follower, "chat_messages_received_total", 5));
  // chat.db follows the commit index behind the answers, and catches up.
  EXPECT_LE(during.at("chat_chatdb_applied_index"), during.at("chat_commit_index"));
  EXPECT_TRUE(waitForAtLeast(leader, "chat_chatdb_applied_index", during.at("chat_commit_index")));

  auto b = Connection::connect(cluster_.address(leader), 5000ms);
  ASSERT_TRUE(b.has_value());
  auto& bob = **b;
  ASSERT_TRUE(bob.call(protocol::LoginRequest{"bob", "pw"}, 10s)->isOk());
  auto delivered = bob.call(protocol::DeliverRequest{0, "", ""}, 10s);
  ASSERT_TRUE(delivered.has_value() && delivered->isOk());
  std::vector<uint64_t> ids;
  for (const auto& m : std::get<protocol::DeliverReply>(delivered->body).messages) {
    ids.push_back(m.id);
  }
  ASSERT_EQ(ids.size(), 5u);
  ASSERT_TRUE(bob.call(protocol::AckRequest{ids}, 10s)->isOk());
  EXPECT_TRUE(waitForAtLeast(leader, "chat_messages_delivered_total",
                             before.at("chat_messages_delivered_total") + 5));
  EXPECT_EQ(metrics(leader).at("chat_messages_queued"), 0);

  // A wrong password is counted.
  auto g = Connection::connect(cluster_.address(leader), 5000ms);
  ASSERT_TRUE(g.has_value());
  EXPECT_EQ((*g)->call(protocol::LoginRequest{"bob", "guess"}, 10s)->code,
            protocol::ErrorCode::kWrongPassword);
  EXPECT_EQ(metrics(leader).at("chat_logins_refused_total"),
            before.at("chat_logins_refused_total") + 1);
}

TEST_F(AdminPortTest, HealthFollowsTheClusterAndOtherPagesAreRefusedClearly) {
  size_t leader = cluster_.waitForLeader();
  ASSERT_NE(leader, 0u);
  for (size_t id = 1; id <= 3; ++id) {
    // A follower knows the leader from its first heartbeat, which may still be on its way.
    testing::HttpReply health;
    testing::eventually(
        [&] {
          health = testing::httpRequest(cluster_.adminPort(id), "/health");
          return health.status == 200;
        },
        5s);
    EXPECT_EQ(health.status, 200) << health.body;
    EXPECT_EQ(health.contentType, "application/json");
    auto body = testing::parseJsonObject(health.body);
    EXPECT_EQ(body->getValue<std::string>("status"), "ok") << health.body;
    EXPECT_EQ(body->getValue<size_t>("leader"), leader) << health.body;
    EXPECT_EQ(body->getValue<size_t>("node"), id) << health.body;
    EXPECT_FALSE(body->has("reason")) << health.body;
  }
  auto missing = testing::httpRequest(cluster_.adminPort(leader), "/nope");
  EXPECT_EQ(missing.status, 404);
  EXPECT_NE(missing.body.find("/metrics and /health"), std::string::npos);
  auto post = testing::httpRequest(cluster_.adminPort(leader), "/metrics",
                                   Poco::Net::HTTPRequest::HTTP_POST);
  EXPECT_EQ(post.status, 405);
  EXPECT_NE(post.body.find("only GET and HEAD"), std::string::npos);

  // Kill the leader: a survivor counts the new election, and once one leads, both say so.
  size_t survivor = leader == 1 ? 2 : 1;
  double elections = metrics(survivor).at("chat_elections_total");
  cluster_.node(leader).kill(SIGKILL);
  EXPECT_EQ(testing::httpRequest(cluster_.adminPort(leader), "/health").status, 0);
  EXPECT_TRUE(waitForAtLeast(survivor, "chat_elections_total", elections + 1));
  std::vector<size_t> rest = cluster_.othersThan(leader);
  size_t next = cluster_.waitForLeader(rest);
  ASSERT_NE(next, 0u);
  std::string body;
  testing::eventually(
      [&] {
        auto h = testing::httpRequest(cluster_.adminPort(survivor), "/health");
        body = h.body;
        return h.status == 200 &&
               body.find("\"leader\":" + std::to_string(next)) != std::string::npos;
      },
      10s);
  EXPECT_NE(body.find("\"leader\":" + std::to_string(next)), std::string::npos) << body;
}

TEST(AdminPortAloneTest, ALoneNodeWithoutAClusterIsHealthyAndHasNoReplicationFigures) {
  testing::TempDir dir;
  uint16_t adminPort = testing::freePorts(1).front();
  testing::NodeProcess node(dir.file("node"), {"--admin-port", std::to_string(adminPort)});
  ASSERT_TRUE(node.start());
  auto health = testing::httpRequest(adminPort, "/health");
  EXPECT_EQ(health.status, 200);
  EXPECT_NE(health.body.find("\"role\":\"standalone\""), std::string::npos) << health.body;
  auto reply = testing::httpRequest(adminPort, "/metrics");
  auto parsed = testing::parsePrometheusText(reply.body);
  ASSERT_TRUE(std::holds_alternative<PrometheusSamples>(parsed)) << std::get<std::string>(parsed);
  const auto& s = std::get<PrometheusSamples>(parsed);
  EXPECT_EQ(s.at("chat_role{role=\"standalone\"}"), 1);
  EXPECT_FALSE(s.types.contains("chat_replication_lag_entries"));
}

// /metrics and /health have no authentication: a node serving clients on every address
// still keeps its admin port on loopback unless told otherwise.
TEST(AdminPortAloneTest, TheAdminPortListensOnLoopbackUnlessToldOtherwise) {
  testing::TempDir dir;
  uint16_t adminPort = testing::freePorts(1).front();
  testing::NodeProcess node(dir.file("node"),
                            {"--host", "0.0.0.0", "--admin-port", std::to_string(adminPort)});
  ASSERT_TRUE(node.start());
  // The kernel's table of TCP sockets: local address as hex ip:port, state 0A = listening.
  char wanted[16];
  std::snprintf(wanted, sizeof wanted, ":%04X", adminPort);
  std::ifstream tcp("/proc/net/tcp");
  std::string line;
  std::string local;
  while (std::getline(tcp, line)) {
    std::istringstream fields(line);
    std::string slot, address, remote, state;
    fields >> slot >> address >> remote >> state;
    if (state == "0A" && address.size() > 5 && address.substr(address.size() - 5) == wanted) {
      local = address;
    }
  }
  EXPECT_EQ(local, std::string("0100007F") + wanted) << "the admin port listens on " << local;
  EXPECT_EQ(testing::httpRequest(adminPort, "/health").status, 200);
}

// Slow clients (a header trickled a byte at a time) hold nothing the admin port needs: it
// reads request heads on an event loop, so /health answers at once beside two hundred of
// them, and each is cut off 2 s (plus a tick) after its accept.
TEST(AdminPortAloneTest, ClientsTricklingTheirRequestsAreCutOffAndHealthStillAnswers) {
  testing::TempDir dir;
  uint16_t adminPort = testing::freePorts(1).front();
  testing::NodeProcess node(dir.file("node"), {"--admin-port", std::to_string(adminPort)});
  ASSERT_TRUE(node.start());
  std::vector<std::unique_ptr<testing::LineClient>> slow;
  for (int i = 0; i < 200; ++i) {
    slow.push_back(std::make_unique<testing::LineClient>(adminPort));
    ASSERT_TRUE(slow.back()->connected());
    slow.back()->write("GET /health HTTP/1.1\r\nX-Slow: ");
  }
  std::atomic<bool> trickling{true};
  std::thread trickle([&] {
    while (trickling) {
      for (auto& c : slow) {
        c->write("a");
      }
      std::this_thread::sleep_for(200ms);
    }
  });
  std::this_thread::sleep_for(300ms);
  auto asked = std::chrono::steady_clock::now();
  auto health = testing::httpRequest(adminPort, "/health");
  auto took = std::chrono::steady_clock::now() - asked;
  EXPECT_EQ(health.status, 200);
  // Behind the slow clients it would wait for their 2 s deadline at least.
  EXPECT_LT(took, 1500ms) << "/health waited behind the slow clients";
  // Every slow client was cut off: the node closed them (a read sees the end).
  for (auto& c : slow) {
    EXPECT_TRUE(c->closedByServer(4000ms)) << "a trickling client still holds a connection";
  }
  trickling = false;
  trickle.join();
}

}  // namespace
}  // namespace chat
