// The client port's own limits against a running chat-node: connections from one address and
// in all are capped, refused with a line saying why (which the client library reports), and
// a connection that does not log in must keep completing requests or is closed — trickled
// bytes do not keep it. Well-behaved clients meanwhile are served.
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

TEST(ClientPortLimitsTest, OneAddressGetsNoMoreThanItsCapAndHearsWhy) {
  testing::TempDir dir;
  testing::NodeProcess node(dir.file("node"), {"--max-connections-per-address", "4"});
  ASSERT_TRUE(node.start());
  std::vector<std::unique_ptr<Connection>> held;
  for (int i = 0; i < 4; ++i) {
    auto c = Connection::connect(node.address(), 5000ms);
    ASSERT_TRUE(c.has_value()) << c.error().toString();
    auto ping = (*c)->call(protocol::PingRequest{1}, 5s);
    ASSERT_TRUE(ping.has_value() && ping->isOk());
    held.push_back(std::move(c).value());
  }
  // The fifth: a line client reads the reason; the client library reports it.
  testing::LineClient line(node.port());
  ASSERT_TRUE(line.connected());
  std::string refusal = line.readUntil("\n");
  EXPECT_NE(refusal.find("ERROR 14: your address 127.0.0.1 has 4 connections open, the most one "
                         "address may; close some and try again"),
            std::string::npos)
      << refusal;
  // The TCP connect succeeds; the first read says why the connection ends.
  auto fifth = Connection::connect(node.address(), 5000ms);
  ASSERT_TRUE(fifth.has_value()) << fifth.error().toString();
  auto refused = (*fifth)->call(protocol::PingRequest{1}, 5s);
  ASSERT_FALSE(refused.has_value());
  EXPECT_NE(refused.error().message().find("refused the connection: your address 127.0.0.1 has 4"),
            std::string::npos)
      << refused.error().message();
  // One closes: a new one is served again, and those held were never disturbed.
  held.pop_back();
  std::this_thread::sleep_for(200ms);
  auto again = Connection::connect(node.address(), 5000ms);
  ASSERT_TRUE(again.has_value());
  auto ping = (*again)->call(protocol::PingRequest{2}, 5s);
  ASSERT_TRUE(ping.has_value() && ping->isOk()) << (ping ? ping->error : ping.error().message());
  for (auto& c : held) {
    auto p = c->call(protocol::PingRequest{3}, 5s);
    EXPECT_TRUE(p.has_value() && p->isOk());
  }
}

TEST(ClientPortLimitsTest, TheNodeTakesNoMoreConnectionsThanItsTotalCap) {
  testing::TempDir dir;
  testing::NodeProcess node(dir.file("node"),
                            {"--max-connections", "3", "--max-connections-per-address", "0"});
  ASSERT_TRUE(node.start());
  std::vector<std::unique_ptr<testing::LineClient>> held;
  for (int i = 0; i < 3; ++i) {
    held.push_back(std::make_unique<testing::LineClient>(node.port()));
    held.back()->write("1 11\n");  // ping: served
    EXPECT_NE(held.back()->readUntil("\n").find("OK"), std::string::npos);
  }
  testing::LineClient extra(node.port());
  EXPECT_NE(extra.readUntil("\n").find("the server has 3 connections, the most it takes"),
            std::string::npos);
}

TEST(ClientPortLimitsTest, AConnectionThatDoesNotLogInMustKeepCompletingRequests) {
  testing::TempDir dir;
  testing::NodeProcess node(dir.file("node"), {"--login-timeout", "2"});
  ASSERT_TRUE(node.start());
  // A slowloris: a ping (so it is a line client, whose lines end in newlines), then one byte
  // of a never-finished line every 300 ms.
  testing::LineClient trickler(node.port());
  trickler.write("1 11\n");
  ASSERT_EQ(trickler.readUntil("\r\n").substr(0, 2), "OK");
  // A monitor: a ping a second, never logged in.
  testing::LineClient monitor(node.port());
  // A user: logged in, then silent.
  auto user = Connection::connect(node.address(), 5000ms);
  ASSERT_TRUE(user.has_value());
  (void)(*user)->call(protocol::CreateRequest{"alice", "pw"}, 10s);
  auto login = (*user)->call(protocol::LoginRequest{"alice", "pw"}, 10s);
  ASSERT_TRUE(login.has_value() && login->isOk());

  auto start = std::chrono::steady_clock::now();
  std::string heard;
  while (std::chrono::steady_clock::now() - start < 5s) {
    trickler.write("x");
    if (std::chrono::steady_clock::now() - start > 1s * static_cast<int>(heard.size() / 8)) {
      monitor.write("1 11\n");
      heard += monitor.readUntil("\n", 2000ms);
    }
    std::this_thread::sleep_for(300ms);
  }
  std::string closed = trickler.readUntil("\n", 1000ms);
  EXPECT_NE(closed.find("not logged in and no request for 2 s; connection closed"),
            std::string::npos)
      << closed;
  monitor.write("1 11\n");
  EXPECT_NE(monitor.readUntil("\n").find("OK"), std::string::npos) << "the monitor was cut off";
  auto ping = (*user)->call(protocol::PingRequest{9}, 5s);
  EXPECT_TRUE(ping.has_value() && ping->isOk()) << "the logged-in user was cut off";
}

}  // namespace
}  // namespace chat
