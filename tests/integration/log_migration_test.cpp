// Data folders of older versions move to the log on first start: a cluster node's raft.db
// (its log and vote) is copied into the segment log and state file, and what its chat.db had
// not applied yet is applied from there; a single node's chat.db becomes the log's start.
#include <filesystem>
#include <fstream>

#include <gtest/gtest.h>

#include "chat/replication/sqlite_raft_storage.h"
#include "chat/storage/sqlite_archive.h"
#include "support/cluster_secret.h"
#include "support/free_ports.h"
#include "support/line_client.h"
#include "support/node_process.h"
#include "support/temp_dir.h"

namespace chat {
namespace {

namespace fs = std::filesystem;

storage::Command entry(uint64_t epoch, uint64_t index, storage::Operation op) {
  return storage::Command{epoch, index, std::move(op)};
}

TEST(LogMigrationTest, AClusterNodesRaftDbMovesToTheLogAndItsUnappliedEntriesApply) {
  testing::TempDir dir;
  std::string data = dir.file("node1");
  fs::create_directories(data);
  // First let a current node make the accounts, so that their password hashes are real.
  {
    testing::NodeProcess maker(dir.file("maker"));
    ASSERT_TRUE(maker.start());
    testing::LineClient c(maker.port());
    ASSERT_NE(c.request("1 0 alice pw").find("OK"), std::string::npos);
    ASSERT_NE(c.request("1 0 bob pw").find("OK"), std::string::npos);
    maker.kill(SIGTERM);  // a clean stop brings chat.db up to date with the log
  }
  std::vector<storage::Account> accounts;
  {
    auto made = storage::openSqliteStore(dir.file("maker") + "/chat.db", {});
    ASSERT_TRUE(made.has_value());
    for (const char* name : {"alice", "bob"}) {
      auto a = (*made)->findAccount(name);
      ASSERT_TRUE(a.has_value() && a->has_value());
      accounts.push_back(**a);
    }
  }
  // The older version's folder: raft.db holds four entries in epoch 2 and a vote; chat.db
  // applied the first three.
  std::vector<storage::Command> log = {
      entry(2, 1, storage::NoOp{}),
      entry(2, 2, storage::CreateAccountOp{"alice", accounts[0].passwordHash, 1}),
      entry(2, 3, storage::CreateAccountOp{"bob", accounts[1].passwordHash, 1}),
      entry(2, 4, storage::StoreMessageOp{"alice", "bob", "sent before the upgrade", 5, 7}),
  };
  {
    auto raft = replication::SqliteRaftStorage::open(data + "/raft.db");
    ASSERT_TRUE(raft.has_value());
    replication::Ready ready;
    ready.hardState = replication::HardState{2, 1};
    for (const auto& c : log) {
      ready.append.push_back(log::Entry{c.epoch, c.index, storage::encodeOperation(c.op)});
    }
    ASSERT_TRUE((*raft)->persist(ready).isOk());
    auto chat = storage::openSqliteStore(data + "/chat.db", {});
    ASSERT_TRUE(chat.has_value());
    ASSERT_TRUE((*chat)->apply(std::span(log.data(), 3)).has_value());
  }
  auto ports = testing::freePorts(2);
  std::string cluster = dir.file("cluster.ini");
  {
    std::ofstream out(cluster);
    out << "[cluster]\nsecret = " << testing::randomSecret() << "\n[node.1]\n"
        << "host = 127.0.0.1\nclient_port = " << ports[0] << "\npeer_port = " << ports[1]
        << "\ndata_dir = " << data << "\n";
  }
  testing::NodeProcess node(data, {"--cluster", cluster, "--id", "1"});
  ASSERT_TRUE(node.start());
  EXPECT_TRUE(fs::exists(data + "/raft-state"));
  EXPECT_TRUE(fs::exists(data + "/log/0000000000000001.seg"));
  EXPECT_FALSE(fs::exists(data + "/raft.db"));
  EXPECT_TRUE(fs::exists(data + "/raft.db.migrated"));
  testing::LineClient c(ports[0]);
  std::string login = c.request("1 2 bob pw");
  EXPECT_NE(login.find("1 message waiting"), std::string::npos) << login;
  std::string rest = c.readUntil("\r\n\r\n");
  EXPECT_NE(rest.find("From alice: Message: sent before the upgrade"), std::string::npos) << rest;
  // The vote and epoch came along: the node leads in a later epoch than raft.db's.
  c.write("1 10\n");
  std::string status = c.readUntil("uptime");
  EXPECT_NE(status.find("epoch 3"), std::string::npos) << status;
}

TEST(LogMigrationTest, ASingleNodesChatDbBecomesTheStartOfItsLog) {
  testing::TempDir dir;
  std::string data = dir.file("node");
  {
    testing::NodeProcess maker(dir.file("maker"));
    ASSERT_TRUE(maker.start());
    testing::LineClient c(maker.port());
    ASSERT_NE(c.request("1 0 alice pw").find("OK"), std::string::npos);
    maker.kill(SIGTERM);
  }
  // An older single node committed straight into chat.db (epoch 1): copy it alone.
  fs::create_directories(data);
  {
    auto made = storage::openSqliteStore(dir.file("maker") + "/chat.db", {});
    ASSERT_TRUE(made.has_value());
    auto alice = (*made)->findAccount("alice");
    ASSERT_TRUE(alice.has_value() && alice->has_value());
    auto chat = storage::openSqliteStore(data + "/chat.db", {});
    ASSERT_TRUE(chat.has_value());
    std::vector<storage::Command> old = {
        entry(1, 1, storage::CreateAccountOp{"alice", (*alice)->passwordHash, 1}),
        entry(1, 2, storage::CreateAccountOp{"carol", (*alice)->passwordHash, 1}),
        entry(1, 3, storage::StoreMessageOp{"alice", "carol", "kept", 5, 0}),
    };
    ASSERT_TRUE((*chat)->apply(old).has_value());
  }
  testing::NodeProcess node(data);
  ASSERT_TRUE(node.start());
  testing::LineClient c(node.port());
  std::string login = c.request("1 2 carol pw");
  EXPECT_NE(login.find("1 message waiting"), std::string::npos) << login;
  EXPECT_NE(c.readUntil("\r\n\r\n").find("kept"), std::string::npos);
  ASSERT_NE(c.request("1 0 dave pw").find("OK"), std::string::npos);
  node.kill(SIGKILL);
  ASSERT_TRUE(node.start());  // and it restarts from the log
  testing::LineClient again(node.port());
  std::string daveLogin = again.request("1 2 dave pw");
  EXPECT_NE(daveLogin.find("OK logged in as dave"), std::string::npos) << daveLogin;
}

}  // namespace
}  // namespace chat
