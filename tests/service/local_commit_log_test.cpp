#include "chat/service/local_commit_log.h"

#include <future>

#include <gtest/gtest.h>

#include "chat/storage/in_memory_store.h"

namespace chat::service {
namespace {

using namespace std::chrono_literals;

// Forwards to a real store but fails the applies it is told to, like a full disk would.
class FaultyStore final : public storage::MessageStore {
 public:
  explicit FaultyStore(storage::MessageStore& target) : target_(target) {}
  void failNextApplies(int n) { failures_ = n; }

  Result<std::vector<storage::ApplyResult>> apply(
      std::span<const storage::LogEntry> entries) override {
    if (failures_.load() > 0) {
      failures_.fetch_sub(1);
      return Status::ioError("disk full");
    }
    return target_.apply(entries);
  }
  Result<storage::AppliedPosition> appliedPosition() override { return target_.appliedPosition(); }
  Result<std::optional<storage::Account>> findAccount(std::string_view u) override {
    return target_.findAccount(u);
  }
  Result<storage::AccountPage> listAccounts(std::string_view p, uint32_t o, uint32_t l) override {
    return target_.listAccounts(p, o, l);
  }
  Result<std::vector<protocol::ChatMessage>> pendingMessages(std::string_view u,
                                                             uint32_t l) override {
    return target_.pendingMessages(u, l);
  }
  Result<uint32_t> pendingCount(std::string_view u) override { return target_.pendingCount(u); }
  Result<uint64_t> pendingTotal() override { return target_.pendingTotal(); }
  Result<storage::HistoryPage> history(std::string_view u, std::string_view p, uint64_t b,
                                       uint32_t l) override {
    return target_.history(u, p, b, l);
  }
  Result<std::vector<protocol::ChatMessage>> messagesAfter(uint64_t a, uint32_t l) override {
    return target_.messagesAfter(a, l);
  }

 private:
  storage::MessageStore& target_;
  std::atomic<int> failures_{0};
};

Result<storage::ApplyResult> proposeAndWait(CommitLog& log, storage::Operation op) {
  std::promise<Result<storage::ApplyResult>> p;
  auto f = p.get_future();
  log.propose(std::move(op), [&p](Result<storage::ApplyResult> r) { p.set_value(std::move(r)); });
  EXPECT_EQ(f.wait_for(5s), std::future_status::ready);
  return f.get();
}

TEST(LocalCommitLogTest, CommitsInOrderAndAssignsDenseIndices) {
  storage::InMemoryMessageStore store;
  auto log = std::move(LocalCommitLog::open(store)).value();
  auto a = proposeAndWait(*log, storage::CreateAccountOp{"a", "h", 1});
  auto b = proposeAndWait(*log, storage::CreateAccountOp{"b", "h", 1});
  EXPECT_EQ(a->id, 1u);
  EXPECT_EQ(b->id, 2u);
  EXPECT_EQ(log->commitIndex(), 2u);
}

TEST(LocalCommitLogTest, ManyConcurrentProposalsShareCommits) {
  storage::InMemoryMessageStore store;
  auto log = std::move(LocalCommitLog::open(store)).value();
  ASSERT_TRUE(proposeAndWait(*log, storage::CreateAccountOp{"a", "h", 1}).has_value());
  std::atomic<int> done{0};
  std::promise<void> all;
  constexpr int kCount = 2000;
  for (int i = 0; i < kCount; ++i) {
    log->propose(storage::StoreMessageOp{"a", "a", std::to_string(i), 1, 0},
                 [&](const Result<storage::ApplyResult>& r) {
                   EXPECT_TRUE(r.has_value());
                   if (done.fetch_add(1) + 1 == kCount) {
                     all.set_value();
                   }
                 });
  }
  ASSERT_EQ(all.get_future().wait_for(10s), std::future_status::ready);
  EXPECT_LT(log->batchesForTesting(), static_cast<uint64_t>(kCount));
  EXPECT_EQ(*store.pendingCount("a"), static_cast<uint32_t>(kCount));
}

TEST(LocalCommitLogTest, LazyRecordsRideWithTheNextUrgentCommitOrGoAloneLater) {
  storage::InMemoryMessageStore store;
  // A lazy delay far beyond the test's patience: only an urgent record can carry it.
  auto log = std::move(LocalCommitLog::open(store, 4096, std::chrono::hours(1))).value();
  std::promise<void> lazyDone;
  log->propose(
      storage::SetLastSeenOp{"nobody", 1},
      [&](const Result<storage::ApplyResult>&) { lazyDone.set_value(); }, Urgency::kLazy);
  auto lazy = lazyDone.get_future();
  EXPECT_EQ(lazy.wait_for(50ms), std::future_status::timeout);
  ASSERT_TRUE(proposeAndWait(*log, storage::CreateAccountOp{"a", "h", 1}).has_value());
  EXPECT_EQ(lazy.wait_for(5s), std::future_status::ready);
  EXPECT_EQ(log->batchesForTesting(), 1u);

  auto quick = std::move(LocalCommitLog::open(store, 4096, 1ms)).value();
  std::promise<void> aloneDone;
  quick->propose(
      storage::SetLastSeenOp{"a", 2},
      [&](const Result<storage::ApplyResult>&) { aloneDone.set_value(); }, Urgency::kLazy);
  EXPECT_EQ(aloneDone.get_future().wait_for(5s), std::future_status::ready);
}

TEST(LocalCommitLogTest, StorageFailureFailsTheProposalsAndStoresNothing) {
  storage::InMemoryMessageStore memory;
  FaultyStore store(memory);
  auto log = std::move(LocalCommitLog::open(store)).value();
  store.failNextApplies(1);
  auto failed = proposeAndWait(*log, storage::CreateAccountOp{"a", "h", 1});
  ASSERT_FALSE(failed.has_value());
  EXPECT_EQ(failed.error().code(), StatusCode::kUnavailable);
  EXPECT_NE(failed.error().message().find("disk full"), std::string::npos);
  EXPECT_FALSE(memory.findAccount("a")->has_value());
  // The log goes on with the same index once storage works again.
  auto ok = proposeAndWait(*log, storage::CreateAccountOp{"a", "h", 1});
  ASSERT_TRUE(ok.has_value());
  EXPECT_EQ(ok->id, 1u);
}

TEST(LocalCommitLogTest, AClosedGateWithdrawsTheProposalsQueuedBehindAFailure) {
  storage::InMemoryMessageStore memory;
  FaultyStore store(memory);
  auto log = std::move(LocalCommitLog::open(store)).value();
  ASSERT_TRUE(proposeAndWait(*log, storage::CreateAccountOp{"a", "h", 1}).has_value());
  ASSERT_TRUE(proposeAndWait(*log, storage::CreateAccountOp{"b", "h", 1}).has_value());
  // The first send fails; its callback closes the gate of the client's later sends, which
  // were queued before the failure was known: they must not be stored ahead of its retry.
  store.failNextApplies(1);
  std::atomic<bool> fenced{false};
  std::promise<Result<storage::ApplyResult>> first;
  std::promise<Result<storage::ApplyResult>> second;
  log->propose(storage::StoreMessageOp{"a", "b", "1", 1, 1},
               [&](Result<storage::ApplyResult> r) {
                 if (!r) {
                   fenced = true;
                 }
                 first.set_value(std::move(r));
               });
  log->propose(
      storage::StoreMessageOp{"a", "b", "2", 1, 2},
      [&](Result<storage::ApplyResult> r) { second.set_value(std::move(r)); }, Urgency::kUrgent,
      [&] { return !fenced.load(); });
  auto f1 = first.get_future();
  auto f2 = second.get_future();
  ASSERT_EQ(f1.wait_for(5s), std::future_status::ready);
  ASSERT_EQ(f2.wait_for(5s), std::future_status::ready);
  auto r1 = f1.get();
  auto r2 = f2.get();
  EXPECT_FALSE(r1.has_value());
  // Either the two shared the failed batch or the gate withdrew the second: never stored.
  ASSERT_FALSE(r2.has_value());
  EXPECT_EQ(r2.error().code(), StatusCode::kUnavailable);
  EXPECT_EQ(*memory.pendingCount("b"), 0u);
  // An open gate lets the retries through, in order.
  fenced = false;
  auto retry = proposeAndWait(*log, storage::StoreMessageOp{"a", "b", "1", 1, 1});
  ASSERT_TRUE(retry.has_value());
  auto pending = memory.pendingMessages("b", 10);
  ASSERT_EQ(pending->size(), 1u);
  EXPECT_EQ(pending->front().body, "1");
}

}  // namespace
}  // namespace chat::service
