// Durability: SIGKILL the node in the middle of a burst of sends, restart it on the same
// data folder, and check that every send the node acknowledged is stored exactly once.
#include <atomic>
#include <iostream>
#include <map>
#include <mutex>
#include <set>
#include <thread>

#include <gtest/gtest.h>

#include "chat/client/connection.h"
#include "support/node_process.h"
#include "support/temp_dir.h"

namespace chat {
namespace {

using namespace std::chrono_literals;

TEST(DurabilityTest, EveryAcknowledgedSendSurvivesSigkill) {
  testing::TempDir dir;
  testing::NodeProcess node(dir.file("node"));
  ASSERT_TRUE(node.start());
  {
    auto setup = client::Connection::connect(node.address(), 5000ms);
    ASSERT_TRUE(setup.has_value());
    for (int i = 0; i < 4; ++i) {
      ASSERT_TRUE(
          (*setup)->call(protocol::CreateRequest{"s" + std::to_string(i), "pw"}, 10s).has_value());
    }
    ASSERT_TRUE((*setup)->call(protocol::CreateRequest{"sink", "pw"}, 10s).has_value());
  }

  std::mutex mu;
  std::set<std::string> acknowledged;
  std::atomic<int> acks{0};
  std::vector<std::thread> senders;
  for (int s = 0; s < 4; ++s) {
    senders.emplace_back([&, s] {
      auto c = client::Connection::connect(node.address(), 5000ms);
      if (!c) {
        return;
      }
      std::string name = "s" + std::to_string(s);
      if (!(*c)->call(protocol::LoginRequest{name, "pw"}, 10s).has_value()) {
        return;
      }
      // Pipelined: up to 16 sends in flight, as a busy client would.
      std::map<uint64_t, std::string> inFlight;
      for (int seq = 0;;) {
        while (inFlight.size() < 16) {
          std::string body = name + "-" + std::to_string(seq++);
          uint64_t id = (*c)->nextRequestId();
          if (!(*c)->sendRequest(id, protocol::SendRequest{"sink", body}).isOk()) {
            return;
          }
          inFlight[id] = body;
        }
        auto m = (*c)->receive(5000ms);
        if (!m || !m->has_value()) {
          return;  // the node is gone
        }
        if (auto* r = std::get_if<protocol::Response>(&**m)) {
          auto it = inFlight.find(r->requestId);
          if (it != inFlight.end() && r->isOk()) {
            std::lock_guard lock(mu);
            acknowledged.insert(it->second);
            acks.fetch_add(1);
          }
          inFlight.erase(r->requestId);
        }
      }
    });
  }
  // Kill once the burst is well under way, while sends are certainly in flight.
  auto deadline = std::chrono::steady_clock::now() + 30s;
  while (acks.load() < 500 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(1ms);
  }
  node.kill(SIGKILL);
  for (auto& t : senders) {
    t.join();
  }
  ASSERT_GE(acknowledged.size(), 500u);

  ASSERT_TRUE(node.start());
  auto sink = client::Connection::connect(node.address(), 5000ms);
  ASSERT_TRUE(sink.has_value());
  ASSERT_TRUE((*sink)->call(protocol::LoginRequest{"sink", "pw"}, 10s)->isOk());
  auto delivered = (*sink)->call(protocol::DeliverRequest{0, "", ""}, 30s);
  ASSERT_TRUE(delivered.has_value()) << delivered.error().toString();
  ASSERT_TRUE(delivered->isOk()) << delivered->error;
  std::map<std::string, int> stored;
  for (const auto& m : std::get<protocol::DeliverReply>(delivered->body).messages) {
    ++stored[m.body];
  }
  std::cout << acknowledged.size() << " sends acknowledged before SIGKILL, " << stored.size()
            << " stored after restart\n";
  size_t missing = 0;
  for (const auto& body : acknowledged) {
    if (stored.find(body) == stored.end()) {
      ++missing;
    }
  }
  EXPECT_EQ(missing, 0u) << "of " << acknowledged.size() << " acknowledged sends";
  for (const auto& [body, count] : stored) {
    EXPECT_EQ(count, 1) << body << " stored more than once";
  }
}

}  // namespace
}  // namespace chat
