// Both RaftStorage implementations keep the hard state and log across a reload, apply
// truncations, and the SQLite one survives reopening its file.
#include "chat/replication/raft_storage.h"

#include <gtest/gtest.h>

#include "chat/replication/sqlite_raft_storage.h"
#include "chat/storage/operation.h"
#include "support/message_entry.h"
#include "support/temp_dir.h"

namespace chat::replication {
namespace {

using testing::messageEntry;

void exercise(RaftStorage& store) {
  Ready first;
  first.hardState = HardState{3, 2};
  first.append = {messageEntry(1, 1), messageEntry(2, 2), messageEntry(3, 3)};
  ASSERT_TRUE(store.persist(first).isOk());
  Ready second;  // a new leader's log diverged at index 2
  second.hardState = HardState{4, kNoNode};
  second.truncateFrom = 2;
  second.append = {messageEntry(4, 2, "replacement")};
  ASSERT_TRUE(store.persist(second).isOk());
  auto loaded = store.load();
  ASSERT_TRUE(loaded.has_value()) << loaded.error().toString();
  EXPECT_EQ(loaded->hard, (HardState{4, kNoNode}));
  ASSERT_EQ(loaded->log.size(), 2u);
  EXPECT_EQ(loaded->log[0], messageEntry(1, 1));
  EXPECT_EQ(loaded->log[1], messageEntry(4, 2, "replacement"));
  EXPECT_TRUE(store.persist(Ready{}).isOk());  // nothing to do is fine
}

TEST(RaftStorageTest, InMemoryKeepsStateAndTruncates) {
  InMemoryRaftStorage store;
  exercise(store);
}

TEST(RaftStorageTest, SqliteKeepsStateAndTruncatesAcrossReopen) {
  chat::testing::TempDir dir;
  std::string path = dir.file("raft.db");
  {
    auto store = SqliteRaftStorage::open(path);
    ASSERT_TRUE(store.has_value()) << store.error().toString();
    exercise(**store);
  }
  auto reopened = SqliteRaftStorage::open(path);
  ASSERT_TRUE(reopened.has_value());
  auto loaded = (*reopened)->load();
  ASSERT_TRUE(loaded.has_value());
  EXPECT_EQ(loaded->hard.epoch, 4u);
  ASSERT_EQ(loaded->log.size(), 2u);
  EXPECT_EQ(loaded->log[1].epoch, 4u);
}

TEST(RaftStorageTest, SqliteRefusesAMissingFolder) {
  auto store = SqliteRaftStorage::open("/nonexistent-folder/raft.db");
  ASSERT_FALSE(store.has_value());
  EXPECT_EQ(store.error().code(), StatusCode::kIoError);
}

}  // namespace
}  // namespace chat::replication
