// A node without a cluster is a cluster of one: the same commit log as a cluster node, which
// leads from the start, commits in groups (one log sync for many proposals), lets lazy
// records ride with urgent ones, and stops acknowledging when its storage fails.
#include <atomic>
#include <future>
#include <thread>

#include <gtest/gtest.h>

#include "chat/common/batch_scope.h"
#include "chat/replication/log_raft_storage.h"
#include "chat/storage/archived_store.h"
#include "fakes/memory_file_system.h"
#include "support/single_node_log.h"

namespace chat::replication {
namespace {

using namespace std::chrono_literals;
using chat::testing::SingleNodeLog;

// Forwards to a RaftStorage and counts the Readies that appended entries (one log sync each).
class CountingStorage final : public RaftStorage {
 public:
  explicit CountingStorage(RaftStorage& target) : target_(target) {}
  Result<PersistedRaft> load() override { return target_.load(); }
  Status persist(const Ready& ready) override {
    if (!ready.append.empty()) {
      syncs_.fetch_add(1);
    }
    return target_.persist(ready);
  }
  uint64_t syncs() const { return syncs_.load(); }

 private:
  RaftStorage& target_;
  std::atomic<uint64_t> syncs_{0};
};

Result<storage::ApplyResult> proposeAndWait(service::CommitLog& log, storage::Operation op) {
  std::promise<Result<storage::ApplyResult>> p;
  auto f = p.get_future();
  log.propose(std::move(op), [&p](Result<storage::ApplyResult> r) { p.set_value(std::move(r)); });
  EXPECT_EQ(f.wait_for(5s), std::future_status::ready);
  return f.get();
}

TEST(SingleNodeLogTest, LeadsAtOnceAndCommitsInOrder) {
  storage::InMemoryMessageStore store;
  SingleNodeLog node(store);
  EXPECT_EQ(node.log->role(), Role::kLeader);
  auto a = proposeAndWait(*node.log, storage::CreateAccountOp{"a", "h", 1});
  auto b = proposeAndWait(*node.log, storage::CreateAccountOp{"b", "h", 1});
  ASSERT_TRUE(a.has_value() && b.has_value());
  EXPECT_LT(a->id, b->id);  // uids are log indices (after the election's no-op)
  EXPECT_EQ(node.log->appliedIndex(), b->id);
}

TEST(SingleNodeLogTest, ManyConcurrentProposalsShareLogSyncs) {
  storage::InMemoryMessageStore store;
  InMemoryRaftStorage memory;
  CountingStorage counting(memory);
  SingleNodeLog node(store, &counting);
  ASSERT_TRUE(proposeAndWait(*node.log, storage::CreateAccountOp{"a", "h", 1}).has_value());
  std::atomic<int> done{0};
  std::promise<void> all;
  constexpr int kCount = 2000;
  uint64_t syncsBefore = counting.syncs();
  for (int i = 0; i < kCount; ++i) {
    node.log->propose(storage::StoreMessageOp{"a", "a", std::to_string(i), 1, 0},
                      [&](const Result<storage::ApplyResult>& r) {
                        EXPECT_TRUE(r.has_value());
                        if (done.fetch_add(1) + 1 == kCount) {
                          all.set_value();
                        }
                      });
  }
  ASSERT_EQ(all.get_future().wait_for(10s), std::future_status::ready);
  EXPECT_LT(counting.syncs() - syncsBefore, static_cast<uint64_t>(kCount) / 4);
  EXPECT_EQ(*store.pendingCount("a"), static_cast<uint32_t>(kCount));
}

// An event loop proposes what one epoll batch brought inside a BatchScope: the proposals
// reach the replication thread together, so they make one commit group and one log sync.
TEST(SingleNodeLogTest, ProposalsMadeInOneBatchScopeShareOneLogSync) {
  storage::InMemoryMessageStore store;
  InMemoryRaftStorage memory;
  CountingStorage counting(memory);
  SingleNodeLog node(store, &counting);
  ASSERT_TRUE(proposeAndWait(*node.log, storage::CreateAccountOp{"a", "h", 1}).has_value());
  uint64_t syncsBefore = counting.syncs();
  constexpr int kCount = 300;
  std::atomic<int> done{0};
  std::promise<void> all;
  {
    BatchScope batch;
    for (int i = 0; i < kCount; ++i) {
      node.log->propose(storage::StoreMessageOp{"a", "a", std::to_string(i), 1, 0},
                        [&](const Result<storage::ApplyResult>& r) {
                          EXPECT_TRUE(r.has_value());
                          if (done.fetch_add(1) + 1 == kCount) {
                            all.set_value();
                          }
                        });
    }
    std::this_thread::sleep_for(20ms);  // the log would have taken a first one by now
    EXPECT_EQ(done.load(), 0);
    EXPECT_EQ(counting.syncs(), syncsBefore);
  }
  ASSERT_EQ(all.get_future().wait_for(10s), std::future_status::ready);
  EXPECT_EQ(counting.syncs() - syncsBefore, 1u);
  // In the order they were proposed.
  auto history = store.history("a", "a", 0, kCount);
  ASSERT_TRUE(history.has_value());
  ASSERT_EQ(history->messages.size(), static_cast<size_t>(kCount));
  for (int i = 0; i < kCount; ++i) {
    EXPECT_EQ(history->messages[static_cast<size_t>(i)].body, std::to_string(i));
  }
}

TEST(SingleNodeLogTest, LazyRecordsRideWithTheNextUrgentOneOrGoAloneLater) {
  storage::InMemoryMessageStore store;
  InMemoryRaftStorage memory;
  CountingStorage counting(memory);
  auto options = SingleNodeLog::defaults();
  options.lazyDelay = std::chrono::hours(1);  // only an urgent record can carry it
  SingleNodeLog node(store, &counting, options);
  ASSERT_TRUE(proposeAndWait(*node.log, storage::CreateAccountOp{"a", "h", 1}).has_value());
  uint64_t syncsBefore = counting.syncs();
  std::promise<void> lazyDone;
  node.log->propose(
      storage::SetLastSeenOp{"a", 5},
      [&](const Result<storage::ApplyResult>&) { lazyDone.set_value(); }, service::Urgency::kLazy);
  auto lazy = lazyDone.get_future();
  EXPECT_EQ(lazy.wait_for(50ms), std::future_status::timeout);
  ASSERT_TRUE(proposeAndWait(*node.log, storage::CreateAccountOp{"b", "h", 1}).has_value());
  EXPECT_EQ(lazy.wait_for(5s), std::future_status::ready);
  EXPECT_EQ(counting.syncs() - syncsBefore, 1u);

  storage::InMemoryMessageStore other;
  auto quickOptions = SingleNodeLog::defaults();
  quickOptions.lazyDelay = 1ms;
  SingleNodeLog quick(other, nullptr, quickOptions);
  std::promise<void> aloneDone;
  quick.log->propose(
      storage::SetLastSeenOp{"a", 2},
      [&](const Result<storage::ApplyResult>&) { aloneDone.set_value(); },
      service::Urgency::kLazy);
  EXPECT_EQ(aloneDone.get_future().wait_for(5s), std::future_status::ready);
}

TEST(SingleNodeLogTest, AFailedLogSyncAcknowledgesNothingMore) {
  chat::testing::MemoryFileSystem fs;
  log::LogOptions logOptions;
  logOptions.segmentBytes = 8U << 20;
  logOptions.prepareInBackground = false;
  auto disk = LogRaftStorage::open(fs, "/data", logOptions);
  ASSERT_TRUE(disk.has_value());
  storage::InMemoryMessageStore store;
  SingleNodeLog node(store, disk->get());
  ASSERT_TRUE(proposeAndWait(*node.log, storage::CreateAccountOp{"a", "h", 1}).has_value());
  fs.failCall(chat::testing::MemoryFileSystem::Call::kSync, 1);
  auto failed = proposeAndWait(*node.log, storage::CreateAccountOp{"b", "h", 1});
  ASSERT_FALSE(failed.has_value());
  EXPECT_EQ(failed.error().code(), StatusCode::kUnavailable);
  EXPECT_FALSE(store.findAccount("b")->has_value());
  EXPECT_TRUE(node.log->storageFailed());
  auto after = proposeAndWait(*node.log, storage::CreateAccountOp{"c", "h", 1});
  EXPECT_FALSE(after.has_value());
}

}  // namespace
}  // namespace chat::replication

namespace chat::replication {
namespace {

// After a crash the log may hold entries chat.db (and so the state rebuilt from it) has not
// applied: a node serves only once it applied them, so an acknowledged write is never
// missing from an answer after a restart.
TEST(SingleNodeLogTest, ServesOnlyAfterApplyingWhatItsLogHolds) {
  InMemoryRaftStorage disk;
  Ready before;
  before.hardState = HardState{1, 1};
  before.append = {
      log::Entry{1, 1, storage::encodeOperation(storage::CreateAccountOp{"a", "h", 1})},
      log::Entry{1, 2, storage::encodeOperation(storage::CreateAccountOp{"b", "h", 1})},
      log::Entry{1, 3, storage::encodeOperation(storage::StoreMessageOp{"a", "b", "kept", 1, 9})}};
  ASSERT_TRUE(disk.persist(before).isOk());
  storage::InMemoryMessageStore store;  // applied nothing: as if chat.db lagged at the crash
  SingleNodeLog node(store, &disk);
  ASSERT_TRUE(node.log->awaitServing(std::chrono::seconds(5)));
  EXPECT_TRUE(node.log->serving());
  EXPECT_TRUE(store.findAccount("b")->has_value());
  EXPECT_EQ(*store.pendingCount("b"), 1u);
  EXPECT_GE(node.log->appliedIndex(), 4u);  // the three, and the new term's first entry
}

// chat.db is restored from a leader's snapshot before the log records the snapshot; a node
// stopped in between used to refuse to start ("the data folder is inconsistent") until its
// folder was wiped. It records the snapshot at open instead, and serves on from it.
TEST(SingleNodeLogTest, AStopBetweenRestoringASnapshotAndRecordingItIsFinishedAtOpen) {
  for (bool logReachesTheSnapshot : {false, true}) {
    SCOPED_TRACE(logReachesTheSnapshot ? "the log holds another entry at the snapshot's index"
                                       : "chat.db is ahead of the log");
    // The node's own storage (segment log and state file), on a file system in memory.
    chat::testing::MemoryFileSystem fs;
    log::LogOptions logOptions;
    logOptions.prepareInBackground = false;
    {
      auto first = LogRaftStorage::open(fs, "/data", logOptions);
      ASSERT_TRUE(first.has_value()) << first.error().toString();
      Ready before;  // the log as it was: epoch 1, never committed past 3
      before.hardState = HardState{2, kNoNode};
      for (uint64_t i = 1; i <= (logReachesTheSnapshot ? 12u : 3u); ++i) {
        before.append.push_back(log::Entry{1, i, {}});
      }
      ASSERT_TRUE((*first)->persist(before).isOk());
    }
    // The restart after the stop.
    auto opened = LogRaftStorage::open(fs, "/data", logOptions);
    ASSERT_TRUE(opened.has_value()) << opened.error().toString();
    LogRaftStorage& disk = **opened;
    // The snapshot restored into the store: the cluster's state up to index 10, epoch 2.
    storage::InMemoryMessageStore store;
    std::vector<storage::Command> snapshot = {
        {2, 1, storage::CreateAccountOp{"a", "h", 1}}, {2, 2, storage::CreateAccountOp{"b", "h", 1}}};
    for (uint64_t i = 3; i <= 10; ++i) {
      snapshot.push_back({2, i, storage::StoreMessageOp{"a", "b", std::to_string(i), 1, 0}});
    }
    ASSERT_TRUE(store.apply(snapshot).has_value());
    {
      SingleNodeLog node(store, &disk);  // CHECKs that it opened
      ASSERT_TRUE(node.log->awaitServing(std::chrono::seconds(5)));
      auto sent = proposeAndWait(*node.log, storage::StoreMessageOp{"a", "b", "after", 1, 0});
      ASSERT_TRUE(sent.has_value());
      EXPECT_GT(sent->id, 10u);  // the log goes on after the snapshot
    }
    EXPECT_EQ(*store.pendingCount("b"), 9u);
    // What a restart finds: the log starts after the snapshot.
    opened->reset();
    auto again = LogRaftStorage::open(fs, "/data", logOptions);
    ASSERT_TRUE(again.has_value()) << again.error().toString();
    auto state = (*again)->load();
    ASSERT_TRUE(state.has_value());
    EXPECT_EQ(state->snapshot, (SnapshotMeta{10, 2}));
    ASSERT_FALSE(state->log.empty());
    EXPECT_EQ(state->log.front().index, 11u);
  }
}

TEST(RaftCoreCaughtUpTest, AFreshLeaderIsCaughtUpOnlyOnceItsFirstEntryIsApplied) {
  Random random(7);
  RaftConfig config;
  config.self = 1;
  config.members = {1};
  std::vector<log::Entry> log = {log::Entry{1, 1, {}}, log::Entry{1, 2, {}}};
  RaftCore core(config, HardState{1, 1}, log, 0, random, MonoTime{});
  EXPECT_EQ(core.role(), Role::kLeader);
  EXPECT_FALSE(core.caughtUp());
  size_t applied = 0;
  while (core.hasReady()) {
    Ready r = core.takeReady();
    core.persisted(core.lastIndex());
    applied += r.committed.size();
  }
  EXPECT_EQ(applied, 3u);
  EXPECT_TRUE(core.caughtUp());
}

}  // namespace
}  // namespace chat::replication
