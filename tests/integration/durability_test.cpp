// Durability: SIGKILL the node in the middle of a burst of sends, restart it on the same
// data folder, and check that every send the node acknowledged is stored exactly once and in
// each sender's order, also when chat.db lagged far behind the log at the kill (another
// writer held its lock: what the node acknowledged was only in the log).
#include <sqlite3.h>

#include <atomic>
#include <functional>
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

// Four senders pipeline sends to "sink" until the node dies; `beforeKill` runs once 500 are
// acknowledged, `afterKill` right after the SIGKILL. After a restart, every acknowledged send must be waiting for sink exactly
// once, and each sender's messages in the order it sent them.
void burstKillAndCheck(testing::NodeProcess& node, const std::function<void()>& beforeKill,
                       const std::function<void()>& afterKill) {
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
  beforeKill();
  node.kill(SIGKILL);
  afterKill();
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
  std::map<std::string, int> lastSeq;  // per sender, in message id order
  for (const auto& m : std::get<protocol::DeliverReply>(delivered->body).messages) {
    ++stored[m.body];
    auto dash = m.body.find('-');
    std::string sender = m.body.substr(0, dash);
    int seq = std::stoi(m.body.substr(dash + 1));
    auto [it, first] = lastSeq.emplace(sender, seq);
    if (!first) {
      EXPECT_GT(seq, it->second) << m.body << " stored after a later send of " << sender;
      it->second = seq;
    }
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

TEST(DurabilityTest, EveryAcknowledgedSendSurvivesSigkill) {
  testing::TempDir dir;
  testing::NodeProcess node(dir.file("node"));
  ASSERT_TRUE(node.start());
  burstKillAndCheck(node, [] {}, [] {});
}

TEST(DurabilityTest, EveryAcknowledgedSendSurvivesSigkillWhileChatDbLagsFarBehind) {
  testing::TempDir dir;
  testing::NodeProcess node(dir.file("node"));
  ASSERT_TRUE(node.start());
  // Another writer takes chat.db's write lock: the node goes on acknowledging from its log
  // and memory while its archive waits.
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open((dir.file("node") + "/chat.db").c_str(), &db), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(db, "BEGIN IMMEDIATE", nullptr, nullptr, nullptr), SQLITE_OK);
  sqlite3_int64 archivedAtKill = -1;
  burstKillAndCheck(node, [&] {
    sqlite3_stmt* stmt = nullptr;
    sqlite3_prepare_v2(db, "SELECT count(*) FROM messages", -1, &stmt, nullptr);
    if (sqlite3_step(stmt) == SQLITE_ROW) {
      archivedAtKill = sqlite3_column_int64(stmt, 0);
    }
    sqlite3_finalize(stmt);
  }, [&] {
    // The node died with the lock still held elsewhere; let go before it restarts.
    sqlite3_exec(db, "ROLLBACK", nullptr, nullptr, nullptr);
    sqlite3_close(db);
  });
  EXPECT_EQ(archivedAtKill, 0) << "chat.db was not behind: the test proves nothing";
}

}  // namespace
}  // namespace chat
