#include "chat/cluster/cluster_config.h"

#include <gtest/gtest.h>

namespace chat::cluster {
namespace {

const char* kGood = R"(
[cluster]
secret = 0123456789abcdef0123
heartbeat_ms = 40
election_timeout_ms = 250
[node.3]
host = 10.0.0.3
client_port = 7003
peer_port = 7103
data_dir = var/n3
[node.1]
host = 10.0.0.1
client_port = 7001
peer_port = 7101
data_dir = var/n1
)";

TEST(ClusterConfigTest, ReadsNodesInFileOrder) {
  auto c = parseClusterConfig(kGood, "test.ini");
  ASSERT_TRUE(c.has_value()) << c.error().toString();
  ASSERT_EQ(c->nodes.size(), 2u);
  EXPECT_EQ(c->nodes[0].id, 3u);  // succession order is the order of the sections
  EXPECT_EQ(c->nodes[1].clientAddress(), "10.0.0.1:7001");
  EXPECT_EQ(c->heartbeat.count(), 40);
  EXPECT_EQ(c->electionTimeout.count(), 250);
  EXPECT_EQ(c->electionStep.count(), 50);  // default
  EXPECT_EQ(c->maxLogEntries, 100000u);   // default
  EXPECT_EQ(c->compactEntries, 10000u);   // default
  ASSERT_NE(c->node(1), nullptr);
  EXPECT_EQ(c->node(1)->peerAddress(), "10.0.0.1:7101");
  EXPECT_EQ(c->node(2), nullptr);
}

TEST(ClusterConfigTest, ReadsTheSupervisorSection) {
  auto c = parseClusterConfig(std::string(kGood) +
                                  "[supervisor]\nrestart = never\nmax_restarts = 3\n"
                                  "restart_period_s = 30\n",
                              "test.ini");
  ASSERT_TRUE(c.has_value()) << c.error().toString();
  EXPECT_EQ(c->supervisor.restart, "never");
  EXPECT_EQ(c->supervisor.maxRestarts, 3);
  EXPECT_EQ(c->supervisor.restartPeriod.count(), 30);
  auto defaults = parseClusterConfig(kGood, "test.ini");
  EXPECT_EQ(defaults->supervisor.restart, "on-failure");
  EXPECT_EQ(defaults->supervisor.maxRestarts, 5);
  auto perNode = parseClusterConfig(
      std::string(kGood) + "[node.9]\nhost = 10.0.0.9\nclient_port = 7009\npeer_port = 7109\n"
                           "data_dir = n9\nrestart = never\n",
      "test.ini");
  ASSERT_TRUE(perNode.has_value()) << perNode.error().toString();
  EXPECT_EQ(perNode->node(9)->restart, "never");
  EXPECT_EQ(perNode->node(1)->restart, "");
  auto bad = parseClusterConfig(std::string(kGood) + "[supervisor]\nrestart = sometimes\n",
                                "bad.ini");
  ASSERT_FALSE(bad.has_value());
  EXPECT_NE(bad.error().message().find("[supervisor]: restart = 'sometimes'"), std::string::npos)
      << bad.error().message();
}

TEST(ClusterConfigTest, ReadsTheAdminPortAndHowTheSupervisorTreatsANode) {
  auto c = parseClusterConfig(
      std::string(kGood) + "[node.9]\nhost = 10.0.0.9\nclient_port = 7009\npeer_port = 7109\n"
                           "data_dir = n9\nadmin_port = 7209\nsupervise = watch\n",
      "test.ini");
  ASSERT_TRUE(c.has_value()) << c.error().toString();
  EXPECT_EQ(c->node(9)->adminPort, 7209);
  EXPECT_EQ(c->node(9)->supervise, "watch");
  EXPECT_EQ(c->node(1)->adminPort, 0);  // off
  EXPECT_EQ(c->node(1)->supervise, "spawn");
  auto bad = parseClusterConfig(
      std::string(kGood) + "[node.9]\nhost = 10.0.0.9\nclient_port = 7009\npeer_port = 7109\n"
                           "data_dir = n9\nsupervise = sometimes\n",
      "bad.ini");
  ASSERT_FALSE(bad.has_value());
  EXPECT_NE(bad.error().message().find("[node.9]: supervise = 'sometimes' is not spawn or watch"),
            std::string::npos)
      << bad.error().message();
  auto clash = parseClusterConfig(
      std::string(kGood) + "[node.9]\nhost = 10.0.0.9\nclient_port = 7009\npeer_port = 7109\n"
                           "data_dir = n9\nadmin_port = 7009\n",
      "bad.ini");
  ASSERT_FALSE(clash.has_value());
  EXPECT_NE(clash.error().message().find("10.0.0.9:7009 is used twice"), std::string::npos)
      << clash.error().message();
}

std::string errorOf(const std::string& text) {
  auto c = parseClusterConfig(text, "bad.ini");
  EXPECT_FALSE(c.has_value());
  return c.has_value() ? "" : c.error().message();
}

TEST(ClusterConfigTest, MistakesAreNamedWithTheirPlace) {
  std::string base = "[cluster]\nsecret = 0123456789abcdef0123\n";
  std::string node1 = "[node.1]\nhost = h\nclient_port = 1\npeer_port = 2\ndata_dir = d1\n";
  EXPECT_NE(errorOf("[cluster]\nsecret = x\nsecret_file = f\n" + node1).find("keep one"),
            std::string::npos);
  EXPECT_NE(errorOf(base).find("no [node.N]"), std::string::npos);
  EXPECT_NE(errorOf(base + "[node.x]\nhost = h\n").find("positive number"), std::string::npos);
  EXPECT_NE(errorOf(base + "[node.1]\nhost = h\nclient_port = 99999\npeer_port = 2\n"
                           "data_dir = d\n")
                .find("client_port = '99999'"),
            std::string::npos);
  EXPECT_NE(errorOf(base + node1 +
                    "[node.2]\nhost = h\nclient_port = 1\npeer_port = 3\n"
                    "data_dir = d2\n")
                .find("h:1 is used twice"),
            std::string::npos);
  EXPECT_NE(errorOf(base + node1 +
                    "[node.2]\nhost = h\nclient_port = 5\npeer_port = 6\n"
                    "data_dir = d1\n")
                .find("shared"),
            std::string::npos);
  EXPECT_NE(errorOf(base + node1 + node1).find("appears twice"), std::string::npos);
  EXPECT_NE(errorOf(base + "heartbeat_ms = 200\n" + node1).find("twice heartbeat_ms"),
            std::string::npos);
  EXPECT_NE(errorOf(base + node1 + "[nodes]\n").find("unknown section"), std::string::npos);
}

TEST(ClusterConfigTest, TheShippedFilesLoad) {
  for (const char* file : {"cluster.ini", "cluster-3.ini"}) {
    auto c = loadClusterConfig(std::string(CHAT_ETC_DIR) + "/" + file);
    ASSERT_TRUE(c.has_value()) << c.error().toString();
    EXPECT_EQ(c->nodes.size(), std::string(file) == "cluster.ini" ? 5u : 3u);
    EXPECT_EQ(c->nodes.front().id, 1u);
    // The secret is not in the file (nor in git): in a private file chat-supervisor makes.
    EXPECT_TRUE(c->secret.empty());
    EXPECT_EQ(c->secretFile, "var/cluster.secret");
  }
  EXPECT_EQ(loadClusterConfig("/nonexistent.ini").error().code(), StatusCode::kNotFound);
}

}  // namespace
}  // namespace chat::cluster
