// A node assembled in-process (node/app/node.h), the same code chat-node runs: it serves on
// a free port, keeps what it acknowledged across a stop and a start, refuses a second node on
// the same data folder, and says which step failed when one does.
#include "node.h"

#include <gtest/gtest.h>

#include "chat/client/connection.h"
#include "support/temp_dir.h"

namespace chat::node {
namespace {

using namespace std::chrono_literals;

NodeSettings settingsFor(const std::string& dataDir) {
  NodeSettings s;
  s.dataDir = dataDir;
  s.port = 0;
  s.passwordHash = service::HashCost::kMin;
  return s;
}

std::unique_ptr<client::Connection> connectTo(const Node& node) {
  auto c = client::Connection::connect("127.0.0.1:" + std::to_string(node.port()), 5000ms);
  EXPECT_TRUE(c.has_value()) << c.error().toString();
  return c ? std::move(c).value() : nullptr;
}

TEST(NodeAssemblyTest, ServesAndKeepsWhatItAcknowledgedAcrossARestart) {
  chat::testing::TempDir dir;
  uint64_t sent = 0;
  {
    auto node = Node::start(settingsFor(dir.path()));
    ASSERT_TRUE(node.has_value()) << node.error().toString();
    auto c = connectTo(**node);
    ASSERT_TRUE(c->call(protocol::CreateRequest{"alice", "pw"}, 10s)->isOk());
    ASSERT_TRUE(c->call(protocol::CreateRequest{"bob", "pw"}, 10s)->isOk());
    ASSERT_TRUE(c->call(protocol::LoginRequest{"alice", "pw"}, 10s)->isOk());
    auto reply = c->call(protocol::SendRequest{"bob", "kept"}, 10s);
    ASSERT_TRUE(reply.has_value() && reply->isOk());
    sent = std::get<protocol::SendReply>(reply->body).messageId;
    EXPECT_GE((*node)->appliedIndex(), sent);
  }
  auto node = Node::start(settingsFor(dir.path()));
  ASSERT_TRUE(node.has_value()) << node.error().toString();
  auto c = connectTo(**node);
  auto login = c->call(protocol::LoginRequest{"bob", "pw"}, 10s);
  ASSERT_TRUE(login.has_value() && login->isOk());
  EXPECT_EQ(std::get<protocol::LoginReply>(login->body).waiting, 1u);
  auto delivered = c->call(protocol::DeliverRequest{}, 10s);
  ASSERT_TRUE(delivered.has_value() && delivered->isOk());
  const auto& messages = std::get<protocol::DeliverReply>(delivered->body).messages;
  ASSERT_EQ(messages.size(), 1u);
  EXPECT_EQ(messages[0].id, sent);
  EXPECT_EQ(messages[0].body, "kept");
}

TEST(NodeAssemblyTest, ASecondNodeOnTheSameDataFolderIsRefused) {
  chat::testing::TempDir dir;
  auto first = Node::start(settingsFor(dir.path()));
  ASSERT_TRUE(first.has_value()) << first.error().toString();
  auto second = Node::start(settingsFor(dir.path()));
  ASSERT_FALSE(second.has_value());
  EXPECT_EQ(second.error().code(), StatusCode::kUnavailable);
  EXPECT_NE(second.error().message().find("opening the log"), std::string::npos)
      << second.error().message();
  EXPECT_NE(second.error().message().find("another"), std::string::npos);
  EXPECT_EQ(exitCodeFor(second.error()), 69);  // EX_UNAVAILABLE
}

TEST(NodeAssemblyTest, ABadTlsSettingNamesTheStepAndStartsNothing) {
  chat::testing::TempDir dir;
  NodeSettings s = settingsFor(dir.path());
  s.tlsCert = dir.file("missing-cert.pem");
  s.tlsKey = dir.file("missing-key.pem");
  auto node = Node::start(s);
  ASSERT_FALSE(node.has_value());
  EXPECT_EQ(node.error().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(node.error().message().find("opening the client port"), std::string::npos)
      << node.error().message();
  EXPECT_EQ(exitCodeFor(node.error()), 78);  // EX_CONFIG
  // Everything it had started was stopped: the folder is free for the next node.
  auto next = Node::start(settingsFor(dir.path()));
  EXPECT_TRUE(next.has_value()) << next.error().toString();
}

}  // namespace
}  // namespace chat::node
