// A send whose reply never came (the node stalled past the client's timeout) and that the user
// then re-sends (chat-tui's Alt+R): re-sent under the first attempt's request id, it is stored
// once, whatever happened to the first attempt.
#include <csignal>
#include <thread>

#include <gtest/gtest.h>

#include "chat/client/cluster_client.h"
#include "support/node_process.h"
#include "support/temp_dir.h"

namespace chat {
namespace {

using namespace std::chrono_literals;

// Waits (up to `within`) for the response to request `id`.
std::optional<protocol::Response> responseTo(client::ClusterClient& c, uint64_t id,
                                             std::chrono::milliseconds within) {
  auto deadline = std::chrono::steady_clock::now() + within;
  while (std::chrono::steady_clock::now() < deadline) {
    auto e = c.waitEvent(20ms);
    if (!e) {
      continue;
    }
    if (auto* r = std::get_if<protocol::Response>(&*e); r != nullptr && r->requestId == id) {
      return *r;
    }
  }
  return std::nullopt;
}

TEST(SendRetryTest, ASendRetriedUnderItsFirstIdAfterATimeoutIsStoredOnce) {
  testing::TempDir dir;
  testing::NodeProcess node(dir.file("node"));
  ASSERT_TRUE(node.start());
  client::ClusterClientOptions o;
  o.servers = {node.address()};
  o.requestTimeout = 500ms;  // the first attempt's reply will not make it in time
  o.silenceTimeout = 10s;    // and the client stays on this node meanwhile
  client::ClusterClient alice(o);
  ASSERT_TRUE(alice.call(protocol::CreateRequest{"alice", "pw"}, 5s).has_value());
  ASSERT_TRUE(alice.call(protocol::CreateRequest{"bob", "pw"}, 5s).has_value());
  auto login = alice.call(protocol::LoginRequest{"alice", "pw"}, 5s);
  ASSERT_TRUE(login.has_value() && login->isOk());

  // The node stalls (SIGSTOP) and the send waits in its socket: the client gives up on it...
  node.kill(SIGSTOP);
  uint64_t first = alice.submit(protocol::SendRequest{"bob", "exactly once, please"});
  alice.flush();
  auto failed = responseTo(alice, first, 3s);
  ASSERT_TRUE(failed.has_value());
  EXPECT_EQ(failed->code, protocol::ErrorCode::kUnavailable) << failed->error;
  // ...then it goes on and stores the send after all; the user re-sends (Alt+R).
  node.kill(SIGCONT);
  std::this_thread::sleep_for(300ms);
  uint64_t again = alice.submitAs(first, protocol::SendRequest{"bob", "exactly once, please"});
  EXPECT_EQ(again, first);
  auto stored = responseTo(alice, again, 5s);
  ASSERT_TRUE(stored.has_value());
  ASSERT_TRUE(stored->isOk()) << stored->error;

  client::ClusterClient bob(o);
  ASSERT_TRUE(bob.call(protocol::LoginRequest{"bob", "pw"}, 5s)->isOk());
  auto history = bob.call(protocol::HistoryRequest{"alice", 0, 100}, 5s);
  ASSERT_TRUE(history.has_value() && history->isOk());
  const auto& messages = std::get<protocol::HistoryReply>(history->body).messages;
  ASSERT_EQ(messages.size(), 1u) << "the retried send was stored twice";
  EXPECT_EQ(messages[0].id, std::get<protocol::SendReply>(stored->body).messageId);
}

}  // namespace
}  // namespace chat
