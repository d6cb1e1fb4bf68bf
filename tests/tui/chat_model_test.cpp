#include "chat/tui/chat_model.h"

#include <gtest/gtest.h>

namespace chat::tui {
namespace {

protocol::ChatMessage msg(uint64_t id, const std::string& from, const std::string& to,
                          const std::string& body) {
  return protocol::ChatMessage{id, from, to, body, 1000 + static_cast<int64_t>(id), false};
}

class ChatModelTest : public ::testing::Test {
 protected:
  ChatModelTest() { model_.setSelf("alice"); }
  ChatModel model_;
};

TEST_F(ChatModelTest, OwnMessagesGoFromSendingToStoredOrWaitingToDelivered) {
  uint64_t a = model_.beginSend("bob", "hi bob", 10);
  uint64_t b = model_.beginSend("bob", "are you there?", 11);
  const Conversation* c = model_.find("bob");
  ASSERT_NE(c, nullptr);
  ASSERT_EQ(c->messages.size(), 2u);
  EXPECT_EQ(c->messages[0].delivery, Delivery::kSending);
  model_.sendStored(b, protocol::SendReply{8, false, 11}, 20);  // replies may overtake
  model_.sendStored(a, protocol::SendReply{7, true, 10}, 21);
  c = model_.find("bob");
  EXPECT_EQ(c->messages[0].id, 7u) << "ordered by the server's ids";
  EXPECT_EQ(c->messages[0].delivery, Delivery::kStored);
  EXPECT_EQ(c->messages[1].delivery, Delivery::kWaiting);
  EXPECT_EQ(c->messages[1].waitingSinceMillis, 20);
  model_.delivered(protocol::DeliveredPush{8, "bob", 30});
  EXPECT_EQ(model_.find("bob")->messages[1].delivery, Delivery::kDelivered);
}

TEST_F(ChatModelTest, AFailedSendCanBeRetried) {
  uint64_t a = model_.beginSend("bob", "hello", 10);
  model_.sendFailed(a, "no leader answered within 30 s");
  const Message& m = model_.find("bob")->messages[0];
  EXPECT_EQ(m.delivery, Delivery::kFailed);
  EXPECT_NE(m.failure.find("30 s"), std::string::npos);
  auto again = model_.retry(a);
  ASSERT_TRUE(again.has_value());
  EXPECT_EQ(again->body, "hello");
  EXPECT_EQ(model_.find("bob")->messages[0].delivery, Delivery::kSending);
  EXPECT_FALSE(model_.retry(a).has_value()) << "only failed messages are retried";
}

TEST_F(ChatModelTest, DuplicatesAreDroppedAndOrderIsTheServersSequence) {
  EXPECT_TRUE(model_.received(msg(5, "bob", "alice", "five")));
  EXPECT_TRUE(model_.received(msg(3, "bob", "alice", "three")));
  EXPECT_FALSE(model_.received(msg(5, "bob", "alice", "five again")));
  const auto& ms = model_.find("bob")->messages;
  ASSERT_EQ(ms.size(), 2u);
  EXPECT_EQ(ms[0].body, "three");
  EXPECT_EQ(ms[1].body, "five");
}

TEST_F(ChatModelTest, UnreadCountsAndSwitchingConversations) {
  model_.open("bob");
  model_.open("carol");
  model_.select("bob");
  model_.received(msg(1, "carol", "alice", "c1"));
  model_.received(msg(2, "carol", "alice", "c2"));
  model_.received(msg(3, "bob", "alice", "b1"));  // the active one: read at once
  EXPECT_EQ(model_.find("carol")->unread, 2u);
  EXPECT_EQ(model_.find("bob")->unread, 0u);
  EXPECT_EQ(model_.totalUnread(), 2u);
  EXPECT_TRUE(model_.selectNextUnread());
  EXPECT_EQ(model_.active()->peer, "carol");
  EXPECT_EQ(model_.totalUnread(), 0u);
  EXPECT_FALSE(model_.selectNextUnread());
  model_.selectNext();
  EXPECT_EQ(model_.active()->peer, "bob");
  model_.selectPrevious();
  EXPECT_EQ(model_.active()->peer, "carol");
  model_.close("carol");
  EXPECT_EQ(model_.active()->peer, "bob");
}

TEST_F(ChatModelTest, MessagesThatWaitedForUsGetASeparator) {
  model_.received(msg(10, "bob", "alice", "while you were out"), true);
  model_.received(msg(11, "bob", "alice", "and this"), true);
  model_.received(msg(12, "bob", "alice", "now live"));
  EXPECT_EQ(model_.find("bob")->awaySeparatorBefore, 10u);
}

TEST_F(ChatModelTest, HistoryPagesMergeByIdAndSayWhenThereIsNoMore) {
  model_.received(msg(20, "bob", "alice", "new"));
  protocol::HistoryReply page;
  page.messages = {msg(5, "alice", "bob", "old mine"), msg(6, "bob", "alice", "old his"),
                   msg(20, "bob", "alice", "new")};
  page.hasMore = false;
  model_.historyPage("bob", page);
  const auto& ms = model_.find("bob")->messages;
  ASSERT_EQ(ms.size(), 3u);
  EXPECT_EQ(ms[0].delivery, Delivery::kWaiting);  // ours, not yet acked by bob: it waits
  EXPECT_EQ(ms[1].delivery, Delivery::kIncoming);
  EXPECT_FALSE(model_.find("bob")->hasOlder);
}

TEST_F(ChatModelTest, CompletionPrefersRecentPartnersAndKnowsCommands) {
  model_.users({{"bob", true, 0}, {"bella", false, 5}, {"carol", true, 0}});
  model_.beginSend("bella", "x", 1);
  auto names = model_.complete("b");
  ASSERT_EQ(names.size(), 2u);
  EXPECT_EQ(names[0], "bella") << "the most recent partner first";
  EXPECT_EQ(model_.complete("/de"), (std::vector<std::string>{"/deliver", "/delete-account"}));
  EXPECT_TRUE(model_.complete("zz").empty());
  model_.presence("bob", false, 99);
  EXPECT_FALSE(model_.user("BOB")->online);
  EXPECT_EQ(model_.user("bob")->lastSeenMillis, 99);
}

TEST_F(ChatModelTest, SearchFindsMessagesInTheActiveConversation) {
  model_.received(msg(1, "bob", "alice", "Lunch at noon?"));
  model_.received(msg(2, "bob", "alice", "or later"));
  model_.select("bob");
  EXPECT_EQ(model_.search("lunch"), (std::vector<uint64_t>{1}));
  EXPECT_TRUE(model_.search("dinner").empty());
}

}  // namespace
}  // namespace chat::tui

#include "chat/tui/connection_status.h"

namespace chat::tui {
namespace {

TEST_F(ChatModelTest, RoomMessagesGoToTheRoomAndOwnOnesCountTheMembersWhoHaveThem) {
  EXPECT_TRUE(model_.received(msg(5, "bob", "#team", "hello room")));
  EXPECT_TRUE(model_.received(msg(6, "carol", "#team", "hi all")));
  const Conversation* room = model_.find("#team");
  ASSERT_NE(room, nullptr);
  EXPECT_TRUE(room->isRoom());
  EXPECT_EQ(room->messages.size(), 2u);
  EXPECT_EQ(model_.find("bob"), nullptr) << "a room message is not a private conversation";
  uint64_t mine = model_.beginSend("#team", "hello both", 10);
  model_.sendStored(mine, protocol::SendReply{9, true, 10, 2, 1}, 11);
  const Message& m = model_.find("#team")->messages.back();
  EXPECT_EQ(m.recipients, 2u);
  EXPECT_EQ(m.delivery, Delivery::kStored);
  model_.delivered(protocol::DeliveredPush{9, "bob", 12});
  model_.delivered(protocol::DeliveredPush{9, "bob", 13});  // twice from one member: once
  EXPECT_EQ(model_.find("#team")->messages.back().deliveredTo.size(), 1u);
  EXPECT_EQ(model_.find("#team")->messages.back().delivery, Delivery::kStored);
  model_.delivered(protocol::DeliveredPush{9, "carol", 14});
  EXPECT_EQ(model_.find("#team")->messages.back().delivery, Delivery::kDelivered);
  // Typing in the room names who types.
  model_.typing("carol", 500, "#team");
  EXPECT_EQ(model_.find("#team")->typingUser, "carol");
  EXPECT_EQ(model_.find("#team")->typingUntilMillis, 500);
}

TEST_F(ChatModelTest, TheServersConversationListSetsUnreadWithoutCountingTwice) {
  model_.open("carol");  // shown; bob's and the room's are not
  // The login's deliver came first: bob's message 7 counted locally.
  model_.received(msg(7, "bob", "alice", "waited"), true);
  EXPECT_EQ(model_.find("bob")->unread, 1u);
  protocol::ConversationsReply list{
      2,
      {{"#team", true, 9, "carol", 0, "news", 4, false, 5},
       {"bob", false, 7, "bob", 0, "waited", 3, false, 2}}};
  model_.conversationList(list);
  EXPECT_EQ(model_.find("bob")->unread, 3u) << "the server's count covers message 7";
  EXPECT_EQ(model_.find("#team")->unread, 4u);
  EXPECT_EQ(model_.find("#team")->readUpTo, 5u);
  // A message the list did not count yet adds one; one it did does not.
  model_.received(msg(8, "carol", "#team", "old news"));
  EXPECT_EQ(model_.find("#team")->unread, 4u);
  model_.received(msg(10, "carol", "#team", "new"));
  EXPECT_EQ(model_.find("#team")->unread, 5u);
  model_.select("#team");
  EXPECT_EQ(model_.find("#team")->unread, 0u);
  EXPECT_EQ(model_.find("#team")->readUpTo, 10u);
}

TEST(ConnectionStatusTest, TheStripAndItsFailoverBanners) {
  ConnectionStatus s;
  EXPECT_TRUE(s.alarming());
  EXPECT_EQ(s.text(), "connecting to the cluster...");
  s.reconnectInMillis = 1200;  // nothing answered the first round
  EXPECT_EQ(s.text(), "no node of the cluster answers; trying again in 1.2 s");
  s.reconnectInMillis = 0;
  s.state = ConnectionStatus::State::kConnected;
  s.node = "127.0.0.1:7001";
  s.leaderId = 1;
  s.epoch = 4;
  s.nodesUp = 3;
  s.nodesTotal = 3;
  s.rttMillis = 1;
  EXPECT_EQ(s.text(), "node 127.0.0.1:7001 · leader node 1 · epoch 4 · 3/3 up · rtt 1 ms");
  EXPECT_FALSE(s.alarming());
  s.state = ConnectionStatus::State::kReconnecting;
  s.reconnectInMillis = 400;
  s.lostReason = "closed by the server";
  EXPECT_EQ(s.text(), "leader lost, reconnecting in 0.4 s — closed by the server");
  EXPECT_TRUE(s.alarming());
  s.state = ConnectionStatus::State::kFailedOver;
  s.leaderId = 2;
  s.epoch = 5;
  s.resent = 3;
  EXPECT_EQ(s.text(), "new leader node 2 (epoch 5), re-sent 3");
}

}  // namespace
}  // namespace chat::tui
