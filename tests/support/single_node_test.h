// SingleNodeTest: a gtest fixture with one real chat-node (temp folder, a free port) and the
// helpers the node-level tests share: connect, call, and a logged-in client.
#ifndef CHAT_TESTS_SUPPORT_SINGLE_NODE_TEST_H_
#define CHAT_TESTS_SUPPORT_SINGLE_NODE_TEST_H_

#include <gtest/gtest.h>

#include <chrono>
#include <memory>
#include <string>

#include "chat/client/connection.h"
#include "support/node_process.h"
#include "support/temp_dir.h"

namespace chat::testing {

class SingleNodeTest : public ::testing::Test {
 protected:
  void SetUp() override {
    node_ = std::make_unique<NodeProcess>(dir_.file("node"));
    ASSERT_TRUE(node_->start()) << "chat-node did not start; see " << dir_.path();
  }
  std::unique_ptr<client::Connection> connect() {
    auto c = client::Connection::connect(node_->address(), std::chrono::milliseconds(5000));
    EXPECT_TRUE(c.has_value()) << c.error().toString();
    return c.has_value() ? std::move(c).value() : nullptr;
  }
  protocol::Response call(client::Connection& c, const protocol::Request& r) {
    auto response = c.call(r, std::chrono::milliseconds(10000));
    EXPECT_TRUE(response.has_value()) << response.error().toString();
    return response.has_value() ? *response : protocol::Response{};
  }
  // A connection logged in as `name` (password "pw-<name>"), the account created first.
  std::unique_ptr<client::Connection> loggedIn(const std::string& name) {
    auto c = connect();
    call(*c, protocol::CreateRequest{name, "pw-" + name});
    auto login = call(*c, protocol::LoginRequest{name, "pw-" + name});
    EXPECT_TRUE(login.isOk()) << login.error;
    return c;
  }

  TempDir dir_;
  std::unique_ptr<NodeProcess> node_;
};

}  // namespace chat::testing

#endif  // CHAT_TESTS_SUPPORT_SINGLE_NODE_TEST_H_
