// LogRaftStorage keeps the hard state, the log start and the log across reopen and crashes:
// a vote is durable once persist returns, a crash during a Ready's write loses at most that
// Ready, and a snapshot's start survives while the segments before it go.
#include "chat/replication/log_raft_storage.h"

#include <gtest/gtest.h>

#include "chat/storage/operation.h"
#include "fakes/memory_file_system.h"
#include "support/message_entry.h"
#include "support/temp_dir.h"

namespace chat::replication {
namespace {

using chat::testing::MemoryFileSystem;

using testing::messageEntry;

log::LogOptions smallSegments() {
  log::LogOptions o;
  o.segmentBytes = 16 * 1024;
  o.maxPayloadBytes = 4 * 1024;
  o.prepareInBackground = false;
  return o;
}

std::unique_ptr<LogRaftStorage> openStorage(log::FileSystem& fs) {
  auto s = LogRaftStorage::open(fs, "/data", smallSegments());
  EXPECT_TRUE(s.has_value()) << s.error().toString();
  return s ? std::move(s).value() : nullptr;
}

TEST(LogRaftStorageTest, KeepsStateAndLogAndTruncationsAcrossReopen) {
  MemoryFileSystem fs;
  {
    auto s = openStorage(fs);
    auto loaded = s->load();
    ASSERT_TRUE(loaded.has_value());
    EXPECT_EQ(loaded->hard, HardState{});
    EXPECT_TRUE(loaded->log.empty());
    Ready first;
    first.hardState = HardState{3, 2};
    first.append = {messageEntry(1, 1), messageEntry(2, 2), messageEntry(3, 3)};
    ASSERT_TRUE(s->persist(first).isOk());
    Ready second;  // a new leader's log diverged at index 2
    second.hardState = HardState{4, kNoNode};
    second.truncateFrom = 2;
    second.append = {messageEntry(4, 2, "replacement")};
    ASSERT_TRUE(s->persist(second).isOk());
    ASSERT_TRUE(s->persist(Ready{}).isOk());
  }
  fs.crashDroppingUnsynced();  // everything persist returned for is on disk
  auto s = openStorage(fs);
  auto loaded = s->load();
  ASSERT_TRUE(loaded.has_value());
  EXPECT_EQ(loaded->hard, (HardState{4, kNoNode}));
  ASSERT_EQ(loaded->log.size(), 2u);
  EXPECT_EQ(loaded->log[0], messageEntry(1, 1));
  EXPECT_EQ(loaded->log[1], messageEntry(4, 2, "replacement"));
}

TEST(LogRaftStorageTest, ACrashDuringAReadyLosesAtMostThatReady) {
  MemoryFileSystem fs;
  {
    auto s = openStorage(fs);
    (void)s->load();
    Ready first;
    first.hardState = HardState{1, 1};
    first.append = {messageEntry(1, 1), messageEntry(1, 2)};
    ASSERT_TRUE(s->persist(first).isOk());
    Ready second;
    second.append = {messageEntry(1, 3), messageEntry(1, 4)};
    fs.failCall(MemoryFileSystem::Call::kSync, 1);
    EXPECT_FALSE(s->persist(second).isOk());
    EXPECT_FALSE(s->persist(Ready{}).isOk());  // sticky: the node must stop
  }
  fs.crashDroppingUnsynced();
  auto s = openStorage(fs);
  auto loaded = s->load();
  ASSERT_TRUE(loaded.has_value());
  EXPECT_EQ(loaded->hard, (HardState{1, 1}));
  ASSERT_EQ(loaded->log.size(), 2u);
  EXPECT_EQ(loaded->log[1], messageEntry(1, 2));
}

TEST(LogRaftStorageTest, AVoteThatCouldNotBeWrittenFailsThePersist) {
  MemoryFileSystem fs;
  auto s = openStorage(fs);
  (void)s->load();
  Ready vote;
  vote.hardState = HardState{7, 3};
  fs.failCall(MemoryFileSystem::Call::kRename, 1);
  EXPECT_FALSE(s->persist(vote).isOk());
}

TEST(LogRaftStorageTest, ACompactedStartSurvivesAndOldSegmentsGo) {
  MemoryFileSystem fs;
  size_t segmentsBefore = 0;
  {
    auto s = openStorage(fs);
    (void)s->load();
    Ready r;
    r.hardState = HardState{2, 1};
    for (uint64_t i = 1; i <= 300; ++i) {
      r.append.push_back(messageEntry(2, i, std::string(150, 'm')));
    }
    ASSERT_TRUE(s->persist(r).isOk());
    for (const auto& p : fs.paths()) {
      segmentsBefore += p.ends_with(".seg") ? 1U : 0U;
    }
    Ready compact;
    compact.compacted = SnapshotMeta{250, 2};
    ASSERT_TRUE(s->persist(compact).isOk());
  }
  fs.crashDroppingUnsynced();
  size_t segmentsAfter = 0;
  for (const auto& p : fs.paths()) {
    segmentsAfter += p.ends_with(".seg") ? 1U : 0U;
  }
  EXPECT_GE(segmentsBefore, 4u);
  EXPECT_LT(segmentsAfter, segmentsBefore);
  auto s = openStorage(fs);
  auto loaded = s->load();
  ASSERT_TRUE(loaded.has_value());
  EXPECT_EQ(loaded->snapshot, (SnapshotMeta{250, 2}));
  ASSERT_EQ(loaded->log.size(), 50u);
  EXPECT_EQ(loaded->log.front().index, 251u);
}

TEST(LogRaftStorageTest, AnInstalledSnapshotReplacesAConflictingLog) {
  MemoryFileSystem fs;
  {
    auto s = openStorage(fs);
    (void)s->load();
    Ready r;
    r.hardState = HardState{1, 1};
    r.append = {messageEntry(1, 1), messageEntry(1, 2), messageEntry(1, 3)};
    ASSERT_TRUE(s->persist(r).isOk());
    Ready install;  // as RaftCore::snapshotInstalled hands it out
    install.truncateFrom = 1;
    install.compacted = SnapshotMeta{40, 5};
    install.append = {messageEntry(5, 41)};
    ASSERT_TRUE(s->persist(install).isOk());
  }
  auto s = openStorage(fs);
  auto loaded = s->load();
  ASSERT_TRUE(loaded.has_value());
  EXPECT_EQ(loaded->snapshot, (SnapshotMeta{40, 5}));
  ASSERT_EQ(loaded->log.size(), 1u);
  EXPECT_EQ(loaded->log[0], messageEntry(5, 41));
}

TEST(LogRaftStorageTest, RefusesADamagedStateFile) {
  MemoryFileSystem fs;
  { auto s = openStorage(fs); }
  auto bytes = fs.contents("/data/raft-state");
  bytes[bytes.size() - 3] ^= 0x40;
  fs.setContents("/data/raft-state", bytes);
  auto s = LogRaftStorage::open(fs, "/data", smallSegments());
  ASSERT_FALSE(s.has_value());
  EXPECT_EQ(s.error().code(), StatusCode::kCorruption);
  EXPECT_NE(s.error().message().find("/data/raft-state"), std::string::npos);
}

TEST(LogRaftStorageTest, WorksOnTheRealDisk) {
  chat::testing::TempDir dir;
  {
    auto s = LogRaftStorage::open(log::posixFileSystem(), dir.path());
    ASSERT_TRUE(s.has_value()) << s.error().toString();
    (void)(*s)->load();
    Ready r;
    r.hardState = HardState{1, 1};
    r.append = {messageEntry(1, 1), messageEntry(1, 2)};
    ASSERT_TRUE((*s)->persist(r).isOk());
  }
  EXPECT_TRUE(LogRaftStorage::existsIn(log::posixFileSystem(), dir.path()));
  auto s = LogRaftStorage::open(log::posixFileSystem(), dir.path());
  ASSERT_TRUE(s.has_value()) << s.error().toString();
  auto loaded = (*s)->load();
  ASSERT_TRUE(loaded.has_value());
  EXPECT_EQ(loaded->log.size(), 2u);
}

}  // namespace
}  // namespace chat::replication
