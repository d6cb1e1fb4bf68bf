// The state machine in memory and the SQLite archive behind it agree: random operation
// sequences applied to the node's store (memory + chat.db) and to the in-memory store give
// the same answers, and the state rebuilt from chat.db at a reopen is the state the log
// built (same digest, same answers, same dedupe decisions afterwards).
#include <algorithm>
#include <future>
#include <random>

#include <gtest/gtest.h>

#include "chat/storage/archived_store.h"
#include "chat/storage/sqlite_archive.h"
#include "support/temp_dir.h"

namespace chat::storage {
namespace {

// Random chat traffic over a small set of names, so that sends hit missing accounts,
// deletions hit waiting messages and acks hit other recipients' ids.
class RandomTraffic {
 public:
  explicit RandomTraffic(uint64_t seed) : random_(seed) {}

  Operation next(uint64_t index) {
    std::string a = name();
    std::string b = name();
    // Records of sessions name their account's uid, or 0 (older records): a random earlier
    // index is mostly not the uid, as for a session of an account deleted since.
    uint64_t uid = pick(2) == 0 ? 0 : static_cast<uint64_t>(pick(static_cast<int>(index))) + 1;
    int kind = pick(150);
    if (kind >= 100) {
      return roomRecord(kind - 100, a, b, uid, index);
    }
    if (kind < 10) {
      return CreateAccountOp{a, "hash-" + a, static_cast<int64_t>(index)};
    }
    if (kind < 13) {
      return DeleteAccountOp{a, uid};
    }
    if (kind < 60) {
      // Request ids repeat now and then: retried sends.
      uint64_t request = pick(4) == 0 ? 0 : static_cast<uint64_t>(pick(40)) + 1;
      return StoreMessageOp{a, b, std::string(static_cast<size_t>(pick(3) + 1), 'x') + std::to_string(index),
                            static_cast<int64_t>(index), request, uid};
    }
    if (kind < 90) {
      MarkDeliveredOp op{a, ackIds(index), static_cast<int64_t>(index), uid};
      if (pick(3) != 0) {
        return op;
      }
      // Acks of several sessions in one record, one of them perhaps of a gone account.
      AckBatchOp batch{{{op.recipient, op.recipientUid, op.ids}}, op.atMillis};
      for (int i = pick(3); i >= 0; --i) {
        batch.entries.push_back({name(), pick(2) == 0 ? 0 : uid, ackIds(index)});
      }
      return batch;
    }
    if (kind < 95) {
      return SetLastSeenOp{a, static_cast<int64_t>(index), uid};
    }
    if (kind < 98) {
      return EndSessionsOp{a, uid, static_cast<int64_t>(index)};
    }
    if (kind < 99) {
      // A read marker of a user or room conversation, near the newest message mostly.
      static const char* kPeers[] = {"ann", "bob", "#r1", "#r2"};
      uint64_t upTo = index - static_cast<uint64_t>(pick(static_cast<int>(std::min<uint64_t>(index, 20))));
      return SetReadMarkerOp{a, pick(5) == 0 ? uid : 0, kPeers[pick(4)], upTo,
                             static_cast<int64_t>(index)};
    }
    return NoOp{};
  }

 private:
  std::vector<uint64_t> ackIds(uint64_t index) {
    std::vector<uint64_t> ids;
    for (int i = pick(4); i >= 0; --i) {
      // Half of them recent: a message stored lately, likely still waiting.
      int range = pick(2) == 0 ? static_cast<int>(index) : std::min(static_cast<int>(index), 30);
      ids.push_back(index > 1 ? index - static_cast<uint64_t>(pick(range)) : 1);
    }
    return ids;
  }
  // Rooms over three names: creations that collide, joins of invite-only rooms, leaves that
  // empty a room or pass its ownership on, invitations by non-members, and room messages,
  // retried too.
  Operation roomRecord(int kind, const std::string& a, const std::string& b, uint64_t uid,
                       uint64_t index) {
    static const char* kRooms[] = {"#r1", "#R2", "#r3"};
    std::string room = kRooms[pick(3)];
    auto at = static_cast<int64_t>(index);
    uid = pick(5) == 0 ? uid : 0;  // mostly by name, so that most records act
    if (kind < 5) {
      return CreateRoomOp{a, uid, room, static_cast<RoomPolicy>(pick(3)), at};
    }
    if (kind < 17) {
      return JoinRoomOp{a, uid, room, at};
    }
    if (kind < 20) {
      return LeaveRoomOp{a, uid, room, at};
    }
    if (kind < 30) {
      return InviteToRoomOp{a, uid, room, b, at};
    }
    uint64_t request = pick(4) == 0 ? 0 : static_cast<uint64_t>(pick(40)) + 1;
    return StoreRoomMessageOp{a, uid, room, "room " + std::to_string(index), at, request};
  }
  int pick(int n) { return std::uniform_int_distribution<int>(0, n - 1)(random_); }
  std::string name() {
    static const char* kNames[] = {"ann", "Bob", "cy", "dee", "ed", "Fay"};
    return kNames[pick(6)];
  }
  std::mt19937_64 random_;
};

void expectSameRooms(MessageStore& a, MessageStore& b) {
  for (const char* room : {"#r1", "#r2", "#R3"}) {
    SCOPED_TRACE(room);
    auto ra = a.findRoom(room);
    auto rb = b.findRoom(room);
    ASSERT_TRUE(ra.has_value() && rb.has_value());
    ASSERT_EQ(ra->has_value(), rb->has_value());
    if (ra->has_value()) {
      EXPECT_EQ((*ra)->id, (*rb)->id);
      EXPECT_EQ((*ra)->name, (*rb)->name);
      EXPECT_EQ((*ra)->owner, (*rb)->owner);
      EXPECT_EQ((*ra)->policy, (*rb)->policy);
      EXPECT_EQ((*ra)->members, (*rb)->members);
    }
  }
  for (uint64_t viewer = 0; viewer < 40; ++viewer) {
    auto la = a.listRooms("", 0, 100, viewer);
    auto lb = b.listRooms("", 0, 100, viewer);
    EXPECT_EQ(la->total, lb->total);
    EXPECT_EQ(la->rooms, lb->rooms);
  }
}

void expectSameAnswers(MessageStore& a, MessageStore& b) {
  ASSERT_EQ(a.appliedPosition()->index, b.appliedPosition()->index);
  expectSameRooms(a, b);
  for (const char* user : {"ann", "bob", "cy", "dee", "ed", "fay"}) {
    SCOPED_TRACE(std::string("conversations of ") + user);
    auto ca = a.conversations(user);
    auto cb = b.conversations(user);
    ASSERT_TRUE(ca.has_value() && cb.has_value());
    EXPECT_EQ(*ca, *cb);
  }
  auto listA = a.listAccounts("", 0, 100);
  auto listB = b.listAccounts("", 0, 100);
  ASSERT_EQ(listA->total, listB->total);
  for (size_t i = 0; i < listA->accounts.size(); ++i) {
    EXPECT_EQ(listA->accounts[i].name, listB->accounts[i].name);
    EXPECT_EQ(listA->accounts[i].lastSeenMillis, listB->accounts[i].lastSeenMillis);
  }
  EXPECT_EQ(*a.pendingTotal(), *b.pendingTotal());
  for (const char* user : {"ann", "bob", "cy", "dee", "ed", "fay"}) {
    SCOPED_TRACE(user);
    auto fa = a.findAccount(user);
    auto fb = b.findAccount(user);
    ASSERT_EQ(fa->has_value(), fb->has_value());
    if (fa->has_value()) {
      EXPECT_EQ((*fa)->uid, (*fb)->uid);
      EXPECT_EQ((*fa)->passwordHash, (*fb)->passwordHash);
      EXPECT_EQ((*fa)->tokenGeneration, (*fb)->tokenGeneration);
      EXPECT_EQ((*fa)->lastSeenMillis, (*fb)->lastSeenMillis);
    }
    EXPECT_EQ(*a.pendingCount(user), *b.pendingCount(user));
    auto pa = a.pendingMessages(user, 0);
    auto pb = b.pendingMessages(user, 0);
    ASSERT_TRUE(pa.has_value() && pb.has_value());
    ASSERT_EQ(pa->size(), pb->size());
    for (size_t i = 0; i < pa->size(); ++i) {
      EXPECT_EQ((*pa)[i].id, (*pb)[i].id);
      EXPECT_EQ((*pa)[i].sender, (*pb)[i].sender);
      EXPECT_EQ((*pa)[i].body, (*pb)[i].body);
    }
    for (const char* peer : {"ann", "bob", "cy", "#r1", "#r2", "#r3"}) {
      auto ha = a.history(user, peer, 0, 1000);
      auto hb = b.history(user, peer, 0, 1000);
      ASSERT_TRUE(ha.has_value() && hb.has_value());
      ASSERT_EQ(ha->messages.size(), hb->messages.size()) << "history with " << peer;
      for (size_t i = 0; i < ha->messages.size(); ++i) {
        EXPECT_EQ(ha->messages[i].id, hb->messages[i].id);
        EXPECT_EQ(ha->messages[i].delivered, hb->messages[i].delivered);
      }
    }
  }
}

TEST(StateAndArchiveTest, RandomTrafficGivesTheSameAnswersFromMemoryAndFromChatDb) {
  // The traffic reaches what it is for: room messages stored for members, copies
  // acknowledged, rooms passed on or removed.
  size_t roomCopies = 0;
  size_t roomDeliveries = 0;
  size_t roomChanges = 0;
  size_t unread = 0;
  size_t markers = 0;
  for (uint64_t seed = 1; seed <= 6; ++seed) {
    SCOPED_TRACE("seed " + std::to_string(seed));
    chat::testing::TempDir dir;
    InMemoryMessageStore memory;
    ArchiveOptions small;
    small.maxBatch = 7;  // many small transactions, delivery marks across batch boundaries
    auto sqlite = openSqliteStore(dir.file("chat.db"), {}, small);
    ASSERT_TRUE(sqlite.has_value());
    RandomTraffic traffic(seed);
    uint64_t index = 0;
    for (int round = 0; round < 40; ++round) {
      std::vector<Command> batch;
      for (int i = 0; i < 25; ++i) {
        ++index;
        batch.push_back(Command{1, index, traffic.next(index)});
      }
      auto ra = memory.apply(batch);
      auto rb = (*sqlite)->apply(batch);
      ASSERT_TRUE(ra.has_value() && rb.has_value());
      for (size_t i = 0; i < batch.size(); ++i) {
        EXPECT_EQ((*ra)[i].code, (*rb)[i].code);
        EXPECT_EQ((*ra)[i].id, (*rb)[i].id);
        EXPECT_EQ((*ra)[i].duplicate, (*rb)[i].duplicate);
        EXPECT_EQ((*ra)[i].delivered, (*rb)[i].delivered);
        EXPECT_EQ((*ra)[i].count, (*rb)[i].count);
        EXPECT_EQ((*ra)[i].recipients, (*rb)[i].recipients);
        EXPECT_EQ((*ra)[i].roomChanges, (*rb)[i].roomChanges);
        EXPECT_EQ((*ra)[i].deliveredPerEntry, (*rb)[i].deliveredPerEntry);
        if (std::holds_alternative<StoreRoomMessageOp>(batch[i].op)) {
          roomCopies += (*ra)[i].recipients.size();
        }
        roomDeliveries += static_cast<size_t>(
            std::count_if((*ra)[i].delivered.begin(), (*ra)[i].delivered.end(),
                          [](const Delivery& d) { return d.roomId != 0; }));
        roomChanges += (*ra)[i].roomChanges.size();
        markers += std::holds_alternative<SetReadMarkerOp>(batch[i].op) && (*ra)[i].isOk() ? 1U : 0U;
      }
    }
    expectSameAnswers(memory, **sqlite);
    for (const char* user : {"ann", "bob", "cy"}) {
      auto list = memory.conversations(user);
      for (const auto& c : *list) {
        unread += c.unread;
      }
    }
    uint64_t digest = (*sqlite)->stateDigest();
    EXPECT_EQ(digest, memory.stateDigest());
    // A restart rebuilds memory from chat.db: the same state, and the same decisions after.
    sqlite->reset();
    auto reopened = openSqliteStore(dir.file("chat.db"), {});
    ASSERT_TRUE(reopened.has_value());
    EXPECT_EQ((*reopened)->stateDigest(), digest);
    for (int round = 0; round < 10; ++round) {
      std::vector<Command> batch;
      for (int i = 0; i < 25; ++i) {
        ++index;
        batch.push_back(Command{1, index, traffic.next(index)});
      }
      auto ra = memory.apply(batch);
      auto rb = (*reopened)->apply(batch);
      ASSERT_TRUE(ra.has_value() && rb.has_value());
      for (size_t i = 0; i < batch.size(); ++i) {
        EXPECT_EQ((*ra)[i].duplicate, (*rb)[i].duplicate);
        EXPECT_EQ((*ra)[i].id, (*rb)[i].id);
      }
    }
    expectSameAnswers(memory, **reopened);
  }
  EXPECT_GT(roomCopies, 50u);
  EXPECT_GT(roomDeliveries, 5u);
  EXPECT_GT(roomChanges, 5u);
  EXPECT_GT(unread, 20u);
  EXPECT_GT(markers, 5u);
}

TEST(StateAndArchiveTest, ReadsWaitUntilChatDbHoldsWhatWasApplied) {
  chat::testing::TempDir dir;
  auto store = openSqliteStore(dir.file("chat.db"), {});
  ASSERT_TRUE(store.has_value());
  std::vector<Command> setup = {{1, 1, CreateAccountOp{"alice", "h", 1}},
                                 {1, 2, CreateAccountOp{"bob", "h", 1}}};
  ASSERT_TRUE((*store)->apply(setup).has_value());
  for (uint64_t i = 3; i < 2003; ++i) {
    Command e{1, i, StoreMessageOp{"alice", "bob", "m" + std::to_string(i), 1, 0}};
    ASSERT_TRUE((*store)->apply(std::span(&e, 1)).has_value());
  }
  // Asked at once after the applies, from another thread: the answer holds all of them.
  std::promise<size_t> seen;
  (*store)->whenReadable([&](const Status& s) {
    EXPECT_TRUE(s.isOk());
    auto page = (*store)->history("bob", "alice", 0, 5000);
    seen.set_value(page ? page->messages.size() : 0);
  });
  auto f = seen.get_future();
  ASSERT_EQ(f.wait_for(std::chrono::seconds(10)), std::future_status::ready);
  EXPECT_EQ(f.get(), 2000u);
  EXPECT_EQ((*store)->pendingMessages("bob", 0)->size(), 2000u);
  EXPECT_GE((*store)->archivedIndex(), 2002u);
}

TEST(StateAndArchiveTest, AMessageAckedInTheSameBatchIsStoredDelivered) {
  chat::testing::TempDir dir;
  auto store = openSqliteStore(dir.file("chat.db"), {});
  ASSERT_TRUE(store.has_value());
  std::vector<Command> batch = {{1, 1, CreateAccountOp{"alice", "h", 1}},
                                 {1, 2, CreateAccountOp{"bob", "h", 1}},
                                 {1, 3, StoreMessageOp{"alice", "bob", "fast", 1, 0}},
                                 {1, 4, StoreMessageOp{"alice", "bob", "slow", 1, 0}},
                                 {1, 5, MarkDeliveredOp{"bob", {3}, 9}}};
  ASSERT_TRUE((*store)->apply(batch).has_value());
  auto after = (*store)->messagesAfter(0, 10);
  ASSERT_TRUE(after.has_value());
  ASSERT_EQ(after->size(), 2u);
  EXPECT_TRUE((*after)[0].delivered);
  EXPECT_FALSE((*after)[1].delivered);
  store->reset();
  auto reopened = openSqliteStore(dir.file("chat.db"), {});
  ASSERT_TRUE(reopened.has_value());
  EXPECT_EQ(*(*reopened)->pendingCount("bob"), 1u);
}

// The node's store on a chat.db of its own, fed records one at a time (apply) or in bulk
// (store and index), for the rules of the state machine that chat.db must agree with.
class StateRulesTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_TRUE(store.has_value()) << store.error().toString(); }
  ApplyResult apply(Operation op) {
    Command c{1, ++index, std::move(op)};
    auto r = (*store)->apply(std::span(&c, 1));
    EXPECT_TRUE(r.has_value());
    return r ? r->front() : ApplyResult{};
  }

  testing::TempDir dir;
  Result<std::unique_ptr<ArchivedStore>> store =
      openSqliteStore(dir.file("chat.db"), {}, ArchiveOptions{false});
  uint64_t index = 0;
};

// One account cannot fill another's inbox without end: past kMaxWaitingPerRecipient waiting
// messages a send is refused, the refusal stored nowhere (not even its request id, so the
// same send retried later is stored), and chat.db agrees with memory.
TEST_F(StateRulesTest, ARecipientWithTooManyWaitingMessagesRefusesMoreUntilTheyRead) {
  apply(CreateAccountOp{"mallory", "h", 1});
  apply(CreateAccountOp{"victim", "h", 1});
  std::vector<Command> flood;
  for (size_t i = 0; i < kMaxWaitingPerRecipient; ++i) {
    flood.push_back(Command{1, ++index, StoreMessageOp{"mallory", "victim", "x", 1, 0}});
  }
  auto stored = (*store)->apply(flood);
  ASSERT_TRUE(stored.has_value());
  EXPECT_TRUE(stored->back().isOk());
  auto refused = apply(StoreMessageOp{"mallory", "victim", "one too many", 1, 77});
  EXPECT_EQ(refused.code, protocol::ErrorCode::kRecipientFull);
  EXPECT_NE(refused.error.find("victim has 10000 messages waiting"), std::string::npos)
      << refused.error;
  EXPECT_EQ(*(*store)->pendingCount("victim"), kMaxWaitingPerRecipient);
  // The victim reads one: the same send, retried with its request id, is stored once.
  auto read = apply(MarkDeliveredOp{"victim", {3}, 2});
  EXPECT_EQ(read.delivered.size(), 1u);
  auto retried = apply(StoreMessageOp{"mallory", "victim", "one too many", 1, 77});
  EXPECT_TRUE(retried.isOk()) << retried.error;
  EXPECT_FALSE(retried.duplicate);
  EXPECT_EQ(*(*store)->pendingCount("victim"), kMaxWaitingPerRecipient);
}

// Past kMaxWaitingBytesPerRecipient bytes of waiting bodies a send is refused too, and a
// deliver reads no more than its byte budget, however much waits; the byte count rebuilt
// from chat.db at a restart is the one the log built.
TEST_F(StateRulesTest, WaitingBytesAreCappedPerRecipientAndReadWithinABudget) {
  apply(CreateAccountOp{"mallory", "h", 1});
  apply(CreateAccountOp{"victim", "h", 1});
  std::string body(4000, 'z');
  size_t fits = kMaxWaitingBytesPerRecipient / body.size();
  std::vector<Command> flood;
  for (size_t i = 0; i < fits; ++i) {
    flood.push_back(Command{1, ++index, StoreMessageOp{"mallory", "victim", body, 1, 0}});
  }
  ASSERT_TRUE((*store)->apply(flood).has_value());
  auto refused = apply(StoreMessageOp{"mallory", "victim", body, 1, 0});
  EXPECT_EQ(refused.code, protocol::ErrorCode::kRecipientFull);
  EXPECT_NE(refused.error.find("16 MiB of messages waiting"), std::string::npos) << refused.error;
  // A small one still fits in what is left.
  EXPECT_TRUE(apply(StoreMessageOp{"mallory", "victim", "short", 1, 0}).isOk());

  auto page = (*store)->pendingMessages("victim", 0, 100'000);
  ASSERT_TRUE(page.has_value());
  EXPECT_EQ(page->size(), 25u);  // 25 x 4000 bytes fit in 100,000
  EXPECT_EQ((*store)->pendingMessages("victim", 0, 10)->size(), 1u);  // the first always comes

  uint64_t digest = (*store)->stateDigest();
  store->reset();
  auto reopened = openSqliteStore(dir.file("chat.db"), {});
  ASSERT_TRUE(reopened.has_value());
  EXPECT_EQ((*reopened)->stateDigest(), digest);
  store = std::move(reopened);
  EXPECT_EQ(apply(StoreMessageOp{"mallory", "victim", body, 1, 0}).code,
            protocol::ErrorCode::kRecipientFull);
  // Reading frees the bytes.
  EXPECT_EQ(apply(MarkDeliveredOp{"victim", {3, 4}, 2}).delivered.size(), 2u);
  EXPECT_TRUE(apply(StoreMessageOp{"mallory", "victim", body, 1, 0}).isOk());
}

// A record made by a session names its account's uid: once the account is deleted and its
// name created again by someone else, what the old session does reaches nobody.
TEST_F(StateRulesTest, RecordsOfASessionWhoseAccountWasReCreatedAreRefused) {
  apply(CreateAccountOp{"alice", "old", 1});  // uid 1
  apply(CreateAccountOp{"bob", "h", 1});      // uid 2
  apply(StoreMessageOp{"bob", "alice", "for the first alice", 1, 0, 2});
  EXPECT_TRUE(apply(DeleteAccountOp{"alice", 1}).isOk());
  EXPECT_EQ(apply(CreateAccountOp{"alice", "new", 1}).id, 5u);
  apply(StoreMessageOp{"bob", "alice", "for the second alice", 1, 0, 2});  // id 6

  auto stale = apply(StoreMessageOp{"alice", "bob", "from the old session", 1, 0, 1});
  EXPECT_EQ(stale.code, protocol::ErrorCode::kSessionExpired);
  EXPECT_NE(stale.error.find("was deleted"), std::string::npos) << stale.error;
  EXPECT_EQ(apply(MarkDeliveredOp{"alice", {6}, 3, 1}).code, protocol::ErrorCode::kNoSuchUser);
  EXPECT_EQ(apply(SetLastSeenOp{"alice", 99, 1}).code, protocol::ErrorCode::kNoSuchUser);
  EXPECT_EQ(apply(EndSessionsOp{"alice", 1, 99}).code, protocol::ErrorCode::kNoSuchUser);
  EXPECT_EQ(apply(DeleteAccountOp{"alice", 1}).code, protocol::ErrorCode::kNoSuchUser);
  auto alice = (*store)->findAccount("alice");
  ASSERT_TRUE(alice.has_value() && alice->has_value());
  EXPECT_EQ((*alice)->uid, 5u);
  EXPECT_EQ((*alice)->lastSeenMillis, 0);
  EXPECT_EQ((*alice)->tokenGeneration, 0u);
  EXPECT_EQ(*(*store)->pendingCount("alice"), 1u);

  // The new account's own records work, and a logout moves its token generation on.
  EXPECT_TRUE(apply(StoreMessageOp{"alice", "bob", "hello", 1, 0, 5}).isOk());
  EXPECT_TRUE(apply(EndSessionsOp{"alice", 5, 42}).isOk());
  EXPECT_TRUE(apply(EndSessionsOp{"alice", 0, 43}).isOk());  // an older record: by name
  alice = (*store)->findAccount("alice");
  EXPECT_EQ((*alice)->tokenGeneration, 2u);
  EXPECT_EQ((*alice)->lastSeenMillis, 43);
  uint64_t digest = (*store)->stateDigest();
  store->reset();
  auto reopened = openSqliteStore(dir.file("chat.db"), {});
  ASSERT_TRUE(reopened.has_value());
  EXPECT_EQ((*reopened)->stateDigest(), digest);
  EXPECT_EQ((*(*reopened)->findAccount("alice"))->tokenGeneration, 2u);
}

// A room holds at most kMaxRoomMembers, whether they join or are invited; the refusal is a
// rule of the state machine, so chat.db agrees after a reopen.
TEST_F(StateRulesTest, ARoomTakesAtMostItsMemberLimit) {
  std::vector<Command> setup;
  for (size_t i = 0; i <= kMaxRoomMembers; ++i) {
    setup.push_back(Command{1, ++index, CreateAccountOp{"u" + std::to_string(i), "h", 1}});
  }
  setup.push_back(Command{1, ++index, CreateRoomOp{"u0", 0, "#big", RoomPolicy::kOpen, 1}});
  for (size_t i = 1; i < kMaxRoomMembers; ++i) {
    setup.push_back(Command{1, ++index, JoinRoomOp{"u" + std::to_string(i), 0, "#big", 1}});
  }
  auto applied = (*store)->apply(setup);
  ASSERT_TRUE(applied.has_value());
  EXPECT_TRUE(applied->back().isOk()) << applied->back().error;
  std::string last = "u" + std::to_string(kMaxRoomMembers);
  auto join = apply(JoinRoomOp{last, 0, "#big", 1});
  EXPECT_EQ(join.code, protocol::ErrorCode::kRoomLimit);
  EXPECT_EQ(join.error, "#big has 1000 members, the most a room may have");
  EXPECT_EQ(apply(InviteToRoomOp{"u0", 0, "#big", last, 1}).code, protocol::ErrorCode::kRoomLimit);
  // One message, one record: a copy waits for each of the other 999 members.
  auto sent = apply(StoreRoomMessageOp{"u0", 0, "#big", "to all", 1, 0});
  EXPECT_EQ(sent.recipients.size(), kMaxRoomMembers - 1);
  EXPECT_EQ(*(*store)->pendingTotal(), kMaxRoomMembers - 1);
  // A member leaves: there is room for one more.
  apply(LeaveRoomOp{"u5", 0, "#big", 1});
  EXPECT_TRUE(apply(JoinRoomOp{last, 0, "#big", 1}).isOk());
  uint64_t digest = (*store)->stateDigest();
  store->reset();
  auto reopened = openSqliteStore(dir.file("chat.db"), {});
  ASSERT_TRUE(reopened.has_value());
  EXPECT_EQ((*reopened)->stateDigest(), digest);
  EXPECT_EQ((*(*reopened)->findRoom("#BIG"))->members.size(), kMaxRoomMembers);
}

// A member with a full inbox misses a room message (counted) instead of blocking the room.
TEST_F(StateRulesTest, AMemberWithAFullInboxMissesARoomMessageWithoutBlockingIt) {
  apply(CreateAccountOp{"alice", "h", 1});
  apply(CreateAccountOp{"bob", "h", 1});
  apply(CreateAccountOp{"full", "h", 1});
  apply(CreateRoomOp{"alice", 0, "#r", RoomPolicy::kOpen, 1});
  apply(JoinRoomOp{"bob", 0, "#r", 1});
  apply(JoinRoomOp{"full", 0, "#r", 1});
  std::vector<Command> flood;
  for (size_t i = 0; i < kMaxWaitingPerRecipient; ++i) {
    flood.push_back(Command{1, ++index, StoreMessageOp{"bob", "full", "x", 1, 0}});
  }
  ASSERT_TRUE((*store)->apply(flood).has_value());
  auto sent = apply(StoreRoomMessageOp{"alice", 0, "#r", "hi", 1, 0});
  ASSERT_TRUE(sent.isOk()) << sent.error;
  EXPECT_EQ(sent.count, 1u);
  ASSERT_EQ(sent.recipients.size(), 1u);
  EXPECT_EQ(*(*store)->pendingCount("bob"), 1u);
}

// The conversation list: newest first, unread counts from read markers that only move
// forward, a window of the newest 100 messages, conversations with a deleted account gone;
// the same after a reopen (rebuilt from chat.db).
TEST_F(StateRulesTest, ConversationsCountUnreadAboveTheReadMarker) {
  uint64_t alice = apply(CreateAccountOp{"alice", "h", 1}).id;
  apply(CreateAccountOp{"bob", "h", 1});
  apply(CreateAccountOp{"carol", "h", 1});
  uint64_t room = apply(CreateRoomOp{"alice", 0, "#team", RoomPolicy::kOpen, 1}).id;
  apply(JoinRoomOp{"bob", 0, "#team", 1});
  uint64_t first = apply(StoreMessageOp{"alice", "bob", "one", 1, 0}).id;
  apply(StoreMessageOp{"alice", "bob", "two", 1, 0});
  apply(StoreMessageOp{"bob", "alice", "own messages are never unread", 1, 0});
  uint64_t inRoom = apply(StoreRoomMessageOp{"alice", 0, "#team", "room", 1, 0}).id;
  uint64_t last = apply(StoreMessageOp{"alice", "bob", "three", 1, 0}).id;
  auto list = *(*store)->conversations("bob");
  ASSERT_EQ(list.size(), 2u);
  EXPECT_EQ(list[0], (ConversationSummary{"alice", false, alice, last, 3, false, 0}));
  EXPECT_EQ(list[1], (ConversationSummary{"#team", true, room, inRoom, 1, false, 0}));
  // Alice's side: bob's one message is unread; her own are not.
  EXPECT_EQ((*(*store)->conversations("alice"))[0].unread, 1u);
  auto moved = apply(SetReadMarkerOp{"bob", 0, "alice", first, 1});
  EXPECT_EQ(moved.conversation, alice);
  EXPECT_EQ((*(*store)->conversations("bob"))[0].unread, 2u);
  apply(SetReadMarkerOp{"bob", 0, "alice", 1, 1});  // never back
  EXPECT_EQ((*(*store)->conversations("bob"))[0].readUpTo, first);
  apply(SetReadMarkerOp{"bob", 0, "#team", inRoom, 1});
  EXPECT_EQ((*(*store)->conversations("bob"))[1].unread, 0u);
  EXPECT_EQ(apply(SetReadMarkerOp{"carol", 0, "#team", inRoom, 1}).code,
            protocol::ErrorCode::kNotMember);
  // Past the window, the count stops at it and says more may be unread.
  std::vector<Command> burst;
  for (size_t i = 0; i < kUnreadWindow + 20; ++i) {
    burst.push_back(Command{1, ++index, StoreRoomMessageOp{"alice", 0, "#team", "x", 1, 0}});
  }
  ASSERT_TRUE((*store)->apply(burst).has_value());
  auto team = (*(*store)->conversations("bob"))[0];
  EXPECT_EQ(team.peer, "#team");
  EXPECT_EQ(team.unread, kUnreadWindow);
  EXPECT_TRUE(team.moreUnread);
  uint64_t digest = (*store)->stateDigest();
  auto before = *(*store)->conversations("bob");
  store->reset();
  auto reopened = openSqliteStore(dir.file("chat.db"), {});
  ASSERT_TRUE(reopened.has_value());
  EXPECT_EQ((*reopened)->stateDigest(), digest);
  EXPECT_EQ(*(*reopened)->conversations("bob"), before);
  // A deleted account's conversation leaves the other side's list.
  Command del{1, ++index, DeleteAccountOp{"alice", 0}};
  ASSERT_TRUE((*reopened)->apply(std::span(&del, 1)).has_value());
  auto after = *(*reopened)->conversations("bob");
  ASSERT_EQ(after.size(), 1u);
  EXPECT_EQ(after[0].peer, "#team");
}

}  // namespace
}  // namespace chat::storage
