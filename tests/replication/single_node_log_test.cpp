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
  EXPECT_EQ(node.log->commitIndex(), b->id);
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
  EXPECT_GE(node.log->commitIndex(), 4u);  // the three, and the new term's first entry
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
