// The same behaviour checks run against both MessageStore implementations.
#include <filesystem>
#include <fstream>
#include <thread>
#include <functional>

#include <Poco/Data/Session.h>
#include <gtest/gtest.h>

#include "chat/storage/archived_store.h"
#include "chat/storage/sqlite_archive.h"
#include "support/temp_dir.h"

namespace chat::storage {
namespace {

using protocol::ErrorCode;

struct StoreFactory {
  std::string name;
  std::function<std::unique_ptr<MessageStore>(const std::string& dir)> make;
};

class MessageStoreTest : public ::testing::TestWithParam<StoreFactory> {
 protected:
  void SetUp() override { store_ = GetParam().make(dir_.path()); }

  ApplyResult apply1(Operation op) {
    Command e{1, ++index_, std::move(op)};
    auto results = store_->apply(std::span(&e, 1));
    EXPECT_TRUE(results.has_value()) << results.error().toString();
    return results ? (*results)[0] : ApplyResult{};
  }
  uint64_t sendMessage(const std::string& from, const std::string& to, const std::string& body,
                       uint64_t requestId = 0) {
    auto r = apply1(StoreMessageOp{from, to, body, 1000, requestId});
    EXPECT_TRUE(r.isOk()) << r.error;
    return r.id;
  }

  chat::testing::TempDir dir_;
  std::unique_ptr<MessageStore> store_;
  uint64_t index_ = 0;
};

TEST_P(MessageStoreTest, CreatesAccountsAndRefusesDuplicatesCaseInsensitively) {
  EXPECT_TRUE(apply1(CreateAccountOp{"Alice", "h1", 1}).isOk());
  auto dup = apply1(CreateAccountOp{"alice", "h2", 2});
  EXPECT_EQ(dup.code, ErrorCode::kUsernameTaken);
  auto found = store_->findAccount("ALICE");
  ASSERT_TRUE(found.has_value());
  ASSERT_TRUE(found->has_value());
  EXPECT_EQ((*found)->name, "Alice");
  EXPECT_EQ((*found)->passwordHash, "h1");
  EXPECT_EQ((*found)->uid, 1u);
}

TEST_P(MessageStoreTest, ListsWithWildcardsInNameOrder) {
  for (const char* n : {"carol", "alice", "bob", "albert"}) {
    apply1(CreateAccountOp{n, "h", 1});
  }
  auto all = store_->listAccounts("", 0, 10);
  ASSERT_TRUE(all.has_value());
  EXPECT_EQ(all->total, 4u);
  ASSERT_EQ(all->accounts.size(), 4u);
  EXPECT_EQ(all->accounts[0].name, "albert");
  auto a = store_->listAccounts("a*", 0, 10);
  EXPECT_EQ(a->total, 2u);
  auto q = store_->listAccounts("?ob", 0, 10);
  ASSERT_EQ(q->accounts.size(), 1u);
  EXPECT_EQ(q->accounts[0].name, "bob");
  auto paged = store_->listAccounts("*", 1, 2);
  EXPECT_EQ(paged->total, 4u);
  ASSERT_EQ(paged->accounts.size(), 2u);
  EXPECT_EQ(paged->accounts[0].name, "alice");
}

TEST_P(MessageStoreTest, MessagesWaitUntilMarkedDelivered) {
  apply1(CreateAccountOp{"alice", "h", 1});
  apply1(CreateAccountOp{"bob", "h", 1});
  uint64_t m1 = sendMessage("alice", "bob", "one");
  uint64_t m2 = sendMessage("alice", "bob", "two");
  EXPECT_LT(m1, m2);
  EXPECT_EQ(*store_->pendingCount("bob"), 2u);
  sendMessage("bob", "alice", "back");
  EXPECT_EQ(*store_->pendingTotal(), 3u);
  auto first = store_->pendingMessages("bob", 1);
  ASSERT_EQ(first->size(), 1u);
  EXPECT_EQ((*first)[0].body, "one");
  auto r = apply1(MarkDeliveredOp{"bob", {m1, 12345}, 5});
  ASSERT_EQ(r.delivered.size(), 1u);
  EXPECT_EQ(r.delivered[0].id, m1);
  EXPECT_EQ(r.delivered[0].sender, "alice");
  EXPECT_EQ(r.delivered[0].recipient, "bob");
  EXPECT_EQ(*store_->pendingCount("bob"), 1u);
  EXPECT_EQ(*store_->pendingTotal(), 2u);
  // Marking again changes nothing; another recipient cannot mark bob's messages.
  EXPECT_TRUE(apply1(MarkDeliveredOp{"bob", {m1}, 6}).delivered.empty());
  EXPECT_TRUE(apply1(MarkDeliveredOp{"alice", {m2}, 6}).delivered.empty());
}

TEST_P(MessageStoreTest, UnknownRecipientIsAnErrorResult) {
  apply1(CreateAccountOp{"alice", "h", 1});
  auto r = apply1(StoreMessageOp{"alice", "nobody", "x", 1, 0});
  EXPECT_EQ(r.code, ErrorCode::kNoSuchUser);
  EXPECT_NE(r.error.find("nobody"), std::string::npos);
}

TEST_P(MessageStoreTest, RetriedRequestIdStoresOnce) {
  apply1(CreateAccountOp{"alice", "h", 1});
  apply1(CreateAccountOp{"bob", "h", 1});
  uint64_t first = sendMessage("alice", "bob", "x", 77);
  auto again = apply1(StoreMessageOp{"alice", "bob", "x", 1, 77});
  EXPECT_TRUE(again.duplicate);
  EXPECT_EQ(again.id, first);
  EXPECT_EQ(*store_->pendingCount("bob"), 1u);
  // The same request id from another sender is a different request.
  EXPECT_FALSE(apply1(StoreMessageOp{"bob", "alice", "y", 1, 77}).duplicate);
}

TEST_P(MessageStoreTest, HistoryPagesNewestFirstReturnedOldestFirst) {
  apply1(CreateAccountOp{"alice", "h", 1});
  apply1(CreateAccountOp{"bob", "h", 1});
  apply1(CreateAccountOp{"carol", "h", 1});
  std::vector<uint64_t> ids;
  for (int i = 0; i < 5; ++i) {
    ids.push_back(
        sendMessage(i % 2 ? "bob" : "alice", i % 2 ? "alice" : "bob", "m" + std::to_string(i)));
  }
  sendMessage("carol", "alice", "other conversation");
  auto page = store_->history("alice", "bob", 0, 3);
  ASSERT_TRUE(page.has_value());
  ASSERT_EQ(page->messages.size(), 3u);
  EXPECT_TRUE(page->hasMore);
  EXPECT_EQ(page->messages[0].body, "m2");
  EXPECT_EQ(page->messages[2].body, "m4");
  auto older = store_->history("alice", "bob", page->messages[0].id, 3);
  ASSERT_EQ(older->messages.size(), 2u);
  EXPECT_FALSE(older->hasMore);
  EXPECT_EQ(older->messages[0].body, "m0");
  auto fromBob = store_->history("BOB", "alice", 0, 10);
  EXPECT_EQ(fromBob->messages.size(), 5u);
}

TEST_P(MessageStoreTest, DeletingAnAccountDropsItsInboxAndKeepsWhatItSent) {
  apply1(CreateAccountOp{"alice", "h", 1});
  apply1(CreateAccountOp{"bob", "h", 1});
  sendMessage("bob", "alice", "to alice, waiting");
  sendMessage("alice", "bob", "from alice");
  auto r = apply1(DeleteAccountOp{"alice"});
  EXPECT_TRUE(r.isOk());
  EXPECT_EQ(r.count, 1u);
  EXPECT_FALSE(store_->findAccount("alice")->has_value());
  EXPECT_EQ(*store_->pendingCount("bob"), 1u);
  auto bobsView = store_->history("bob", "alice", 0, 10);
  ASSERT_EQ(bobsView->messages.size(), 1u);
  EXPECT_EQ(bobsView->messages[0].body, "from alice");
  // A new account under the old name sees none of the old one's conversations.
  apply1(CreateAccountOp{"alice", "h", 1});
  EXPECT_TRUE(store_->history("alice", "bob", 0, 10)->messages.empty());
  EXPECT_EQ(apply1(DeleteAccountOp{"nobody"}).code, ErrorCode::kNoSuchUser);
}

TEST_P(MessageStoreTest, TracksAppliedPosition) {
  apply1(CreateAccountOp{"alice", "h", 1});
  apply1(SetLastSeenOp{"alice", 42});
  auto pos = store_->appliedPosition();
  ASSERT_TRUE(pos.has_value());
  EXPECT_EQ(pos->index, 2u);
  EXPECT_EQ(pos->epoch, 1u);
  EXPECT_EQ((*store_->findAccount("alice"))->lastSeenMillis, 42);
}

INSTANTIATE_TEST_SUITE_P(
    Stores, MessageStoreTest,
    ::testing::Values(StoreFactory{"InMemory",
                                   [](const std::string&) -> std::unique_ptr<MessageStore> {
                                     return std::make_unique<InMemoryMessageStore>();
                                   }},
                      StoreFactory{"Sqlite",
                                   [](const std::string& dir) -> std::unique_ptr<MessageStore> {
                                     auto s = openSqliteStore(dir + "/chat.db", {});
                                     EXPECT_TRUE(s.has_value()) << s.error().toString();
                                     return std::move(s).value();
                                   }}),
    [](const auto& param) { return param.param.name; });

TEST(SqliteStoreTest, ReopensWithStateAndRejectsNewerSchema) {
  chat::testing::TempDir dir;
  std::string path = dir.file("chat.db");
  {
    auto store = openSqliteStore(path, {});
    ASSERT_TRUE(store.has_value());
    Command e{1, 1, CreateAccountOp{"alice", "h", 1}};
    ASSERT_TRUE((*store)->apply(std::span(&e, 1)).has_value());
  }
  {
    auto store = openSqliteStore(path, {});
    ASSERT_TRUE(store.has_value());
    EXPECT_TRUE((*store)->findAccount("alice")->has_value());
    EXPECT_EQ((*store)->appliedPosition()->index, 1u);
    // The account cache was reloaded: a duplicate is still refused after reopening.
    Command e{1, 2, CreateAccountOp{"alice", "h", 1}};
    EXPECT_EQ((*(*store)->apply(std::span(&e, 1)))[0].code, ErrorCode::kUsernameTaken);
  }
}

// A chat.db of schema 1 (before token generations) opens, gains the column, keeps its accounts.
TEST(SqliteStoreTest, ASchemaOneDatabaseGainsTokenGenerations) {
  chat::testing::TempDir dir;
  std::string path = dir.file("chat.db");
  {
    auto store = openSqliteStore(path, {});
    ASSERT_TRUE(store.has_value());
    Command e{1, 1, CreateAccountOp{"alice", "h", 1}};
    ASSERT_TRUE((*store)->apply(std::span(&e, 1)).has_value());
  }
  {
    Poco::Data::Session old("SQLite", path);
    old << "ALTER TABLE accounts DROP COLUMN token_generation", Poco::Data::Keywords::now;
    old << "PRAGMA user_version = 1", Poco::Data::Keywords::now;
  }
  auto store = openSqliteStore(path, {});
  ASSERT_TRUE(store.has_value()) << store.error().toString();
  auto alice = (*store)->findAccount("alice");
  ASSERT_TRUE(alice.has_value() && alice->has_value());
  EXPECT_EQ((*alice)->tokenGeneration, 0u);
  Command logout{1, 2, EndSessionsOp{"alice", 1, 5}};
  ASSERT_TRUE((*store)->apply(std::span(&logout, 1)).has_value());
  EXPECT_EQ((*(*store)->findAccount("alice"))->tokenGeneration, 1u);
}

TEST(SqliteStoreTest, ASnapshotCarriesTheWholeStateToAnotherStore) {
  chat::testing::TempDir dir;
  auto source = openSqliteStore(dir.file("a.db"), {});
  auto target = openSqliteStore(dir.file("b.db"), {});
  ASSERT_TRUE(source && target);
  std::vector<Command> entries = {{1, 1, CreateAccountOp{"alice", "h", 1}},
                                   {1, 2, CreateAccountOp{"bob", "h", 1}},
                                   {2, 3, StoreMessageOp{"alice", "bob", "hi", 5, 77}}};
  ASSERT_TRUE((*source)->apply(entries).has_value());
  // The target had a life of its own before; the snapshot replaces all of it.
  Command old{1, 1, CreateAccountOp{"carol", "h", 1}};
  ASSERT_TRUE((*target)->apply(std::span(&old, 1)).has_value());

  auto written = (*source)->writeSnapshot(dir.file("snap"));
  ASSERT_TRUE(written.has_value()) << written.error().toString();
  EXPECT_EQ(written->index, 3u);
  EXPECT_EQ(written->epoch, 2u);
  // Applying on goes on after the snapshot and does not leak into it.
  Command later{2, 4, StoreMessageOp{"bob", "alice", "later", 6, 0}};
  ASSERT_TRUE((*source)->apply(std::span(&later, 1)).has_value());

  auto restored = (*target)->restoreSnapshot(dir.file("snap"));
  ASSERT_TRUE(restored.has_value()) << restored.error().toString();
  EXPECT_EQ(restored->index, 3u);
  EXPECT_EQ((*target)->appliedPosition()->index, 3u);
  EXPECT_FALSE((*target)->findAccount("carol")->has_value());
  EXPECT_EQ((*(*target)->pendingMessages("bob", 0)).size(), 1u);
  EXPECT_TRUE((*(*target)->pendingMessages("alice", 0)).empty());
  // Caches were reloaded: the retry window and the accounts hold the snapshot's state.
  Command retry{2, 4, StoreMessageOp{"alice", "bob", "hi", 5, 77}};
  auto r = (*target)->apply(std::span(&retry, 1));
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ((*r)[0].id, 3u) << "a retried send inside the snapshot must not be stored twice";
  Command dup{2, 5, CreateAccountOp{"alice", "h", 1}};
  EXPECT_EQ((*(*target)->apply(std::span(&dup, 1)))[0].code, ErrorCode::kUsernameTaken);
  // And it survives a reopen.
  target->reset();
  auto reopened = openSqliteStore(dir.file("b.db"), {});
  ASSERT_TRUE(reopened.has_value());
  EXPECT_EQ((*reopened)->appliedPosition()->index, 5u);
  EXPECT_TRUE((*reopened)->syncedIndex().has_value());
}

TEST(SqliteStoreTest, ABadSnapshotIsAnErrorAndChangesNothing) {
  chat::testing::TempDir dir;
  auto store = openSqliteStore(dir.file("a.db"), {});
  ASSERT_TRUE(store.has_value());
  Command e{1, 1, CreateAccountOp{"alice", "h", 1}};
  ASSERT_TRUE((*store)->apply(std::span(&e, 1)).has_value());
  {
    std::ofstream junk(dir.file("junk"));
    junk << "this is not a database";
  }
  EXPECT_FALSE((*store)->restoreSnapshot(dir.file("junk")).has_value());
  EXPECT_FALSE((*store)->restoreSnapshot(dir.file("missing")).has_value());
  EXPECT_TRUE((*store)->findAccount("alice")->has_value());
  EXPECT_EQ((*store)->appliedPosition()->index, 1u);
}

TEST(SqliteStoreTest, TheBackgroundCheckpointerCopiesTheWalIntoTheDatabase) {
  chat::testing::TempDir dir;
  SqliteOptions options;
  options.syncFull = false;
  options.walAutocheckpointPages = 20;  // far below the writer's own catch-up (8x)
  auto store = openSqliteStore(dir.file("c.db"), options);
  ASSERT_TRUE(store.has_value());
  Command a{1, 1, CreateAccountOp{"alice", "h", 1}};
  ASSERT_TRUE((*store)->apply(std::span(&a, 1)).has_value());
  auto before = std::filesystem::file_size(dir.file("c.db"));
  for (uint64_t i = 2; i < 60; ++i) {
    Command e{1, i, StoreMessageOp{"alice", "alice", std::string(2000, 'x'), 1, 0}};
    ASSERT_TRUE((*store)->apply(std::span(&e, 1)).has_value());
  }
  // The checkpointer runs on its own thread: give it a moment.
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  while (std::filesystem::file_size(dir.file("c.db")) <= before + 50 * 2000 &&
         std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  EXPECT_GT(std::filesystem::file_size(dir.file("c.db")), before + 50 * 2000)
      << "no checkpoint copied the WAL's pages into the database file";
}

TEST(SqliteStoreTest, UnopenablePathIsAnError) {
  auto store = openSqliteStore("/nonexistent-folder/x/chat.db", {});
  ASSERT_FALSE(store.has_value());
  EXPECT_EQ(store.error().code(), StatusCode::kIoError);
}

}  // namespace
}  // namespace chat::storage
