// A client that stops reading must not stall anyone else, and must not make the node lose
// or grow without bound: it is disconnected, and what it never acked waits for it.
#include <thread>

#include <gtest/gtest.h>

#include "chat/client/connection.h"
#include "support/line_client.h"
#include "support/node_process.h"
#include "support/temp_dir.h"

namespace chat {
namespace {

using namespace std::chrono_literals;
using client::Connection;

std::unique_ptr<Connection> loggedIn(const std::string& address, const std::string& name) {
  auto c = Connection::connect(address, 5000ms);
  EXPECT_TRUE(c.has_value());
  (void)(*c)->call(protocol::CreateRequest{name, "pw"}, 10s);
  auto login = (*c)->call(protocol::LoginRequest{name, "pw"}, 10s);
  EXPECT_TRUE(login.has_value() && login->isOk());
  return std::move(c).value();
}

TEST(SlowClientTest, AClientThatStopsReadingIsCutOffAndOthersCarryOn) {
  testing::TempDir dir;
  testing::NodeProcess node(dir.file("node"), {"--max-output-bytes", "65536"});
  ASSERT_TRUE(node.start());
  auto sleeper = loggedIn(node.address(), "sleeper");  // never reads from here on
  auto sender = loggedIn(node.address(), "sender");
  auto alice = loggedIn(node.address(), "alice");
  auto bob = loggedIn(node.address(), "bob");

  // 16 MB of pushes for a client that reads none of them: far past its 64 KiB allowance
  // and past what the kernel's socket buffers can hide. Sent pipelined, 64 at a time.
  constexpr int kMessages = 4000;
  std::string body(4000, 'z');
  int stored = 0;
  int sent = 0;
  while (stored < kMessages) {
    while (sent < kMessages && sent - stored < 64) {
      sender->queueRequest(sender->nextRequestId(), protocol::SendRequest{"sleeper", body});
      ++sent;
    }
    ASSERT_TRUE(sender->flush(5000ms).isOk());
    auto m = sender->receive(10s);
    ASSERT_TRUE(m.has_value() && m->has_value()) << "the node stopped answering the sender";
    if (auto* r = std::get_if<protocol::Response>(&**m)) {
      ASSERT_TRUE(r->isOk()) << r->error;
      ++stored;
    }
    // Meanwhile alice and bob chat without delay.
    if (stored % 500 == 0) {
      auto hi = alice->call(protocol::SendRequest{"bob", "still here"}, 5s);
      ASSERT_TRUE(hi.has_value() && hi->isOk());
      auto push = bob->waitPush(5s);
      ASSERT_TRUE(push.has_value() && push->has_value());
    }
  }
  // The sleeper was cut off: reading now yields what the kernel had buffered, then the end.
  int received = 0;
  bool closed = false;
  while (!closed) {
    auto m = sleeper->receive(5s);
    if (!m) {
      closed = true;
    } else if (!m->has_value()) {
      break;  // silence without a close: the node kept the connection
    } else if (std::holds_alternative<protocol::Push>(**m)) {
      ++received;
    }
  }
  EXPECT_TRUE(closed);
  EXPECT_LT(received, kMessages);
  // Everything it never acked waits for it.
  auto again = Connection::connect(node.address(), 5000ms);
  ASSERT_TRUE(again.has_value());
  auto login = (*again)->call(protocol::LoginRequest{"sleeper", "pw"}, 10s);
  ASSERT_TRUE(login.has_value() && login->isOk());
  EXPECT_EQ(std::get<protocol::LoginReply>(login->body).waiting, static_cast<uint32_t>(kMessages));
  // And comes in replies that fit its allowance.
  auto deliver = (*again)->call(protocol::DeliverRequest{0, "", ""}, 30s);
  ASSERT_TRUE(deliver.has_value() && deliver->isOk());
  const auto& reply = std::get<protocol::DeliverReply>(deliver->body);
  EXPECT_FALSE(reply.messages.empty());
  EXPECT_LT(reply.messages.size() * body.size(), 65536u);
  EXPECT_EQ(reply.remaining + reply.messages.size(), static_cast<size_t>(kMessages));
}

TEST(IdleTimeoutTest, IdleConnectionsAreClosedWithAReason) {
  testing::TempDir dir;
  testing::NodeProcess node(dir.file("node"), {"--idle-timeout", "1"});
  ASSERT_TRUE(node.start());
  auto c = Connection::connect(node.address(), 5000ms);
  ASSERT_TRUE(c.has_value());
  ASSERT_TRUE((*c)->call(protocol::PingRequest{1}, 5s).has_value());
  // The node checks once a second, so an idle second ends within about three.
  auto push = (*c)->waitPush(10s);
  ASSERT_TRUE(push.has_value() && push->has_value());
  auto* ended = std::get_if<protocol::SessionEndedPush>(&**push);
  ASSERT_NE(ended, nullptr);
  EXPECT_NE(ended->reason.find("idle"), std::string::npos);
  testing::LineClient line(node.port());
  EXPECT_EQ(line.request("1 11"), "OK pong\r\n");
  EXPECT_EQ(line.readUntil("\r\n", 10s).rfind("ERROR 14: idle for too long", 0), 0u);
}

}  // namespace
}  // namespace chat
