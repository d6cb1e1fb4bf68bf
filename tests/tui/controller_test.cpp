// TuiController without a terminal or a socket: keys in, requests out; replies and pushes
// in, model and screen state out. The requests are recorded as the cluster would receive
// them, and the replies are the ones the cluster sends.
#include <gtest/gtest.h>

#include "chat/tui/tui_controller.h"

namespace chat::tui {
namespace {

class ControllerTest : public ::testing::Test {
 protected:
  ControllerTest()
      : controller_(TuiSettings{{"127.0.0.1:1"}, "alice", false, false, true, true, ""},
                    [this](protocol::Request r, uint64_t reuseId) {
                      sent_.push_back(std::move(r));
                      ids_.push_back(reuseId != 0 ? reuseId : sent_.size());
                      return ids_.back();
                    }) {
    controller_.setScreenSize(80, 24);
  }

  void type(const std::string& text) {
    KeyDecoder d;
    std::vector<Key> keys;
    d.feed(text, keys);
    d.expire(keys);
    for (const auto& k : keys) {
      controller_.onKey(k, now_);
    }
  }
  void key(KeyCode code) { controller_.onKey(Key::of(code), now_); }
  void reply(uint64_t id, protocol::ReplyBody body) {
    controller_.onEvent(protocol::Response{id, protocol::Opcode::kPing, protocol::ErrorCode::kOk, "",
                                           std::move(body)},
                        now_);
  }
  void fail(uint64_t id, protocol::ErrorCode code, std::string why) {
    controller_.onEvent(protocol::Response::failure(id, protocol::Opcode::kPing, code, why), now_);
  }
  void push(protocol::Push p) { controller_.onEvent(p, now_); }
  template <typename T>
  const T* last() const {
    return sent_.empty() ? nullptr : std::get_if<T>(&sent_.back());
  }
  uint64_t lastId() const { return ids_.empty() ? 0 : ids_.back(); }
  // Logs in as alice with nothing waiting.
  void logIn(uint32_t waiting = 0) {
    type("pw\r");
    ASSERT_NE(last<protocol::LoginRequest>(), nullptr);
    reply(lastId(), protocol::LoginReply{waiting, "token"});
    ASSERT_EQ(controller_.state().screen, Screen::kChat);
  }
  // The request with this id, as sent.
  const protocol::Request& request(uint64_t id) const {
    for (size_t i = ids_.size(); i-- > 0;) {
      if (ids_[i] == id) {
        return sent_[i];
      }
    }
    return sent_.at(id - 1);  // throws: no request went out under `id`
  }

  std::vector<protocol::Request> sent_;
  std::vector<uint64_t> ids_;  // the id each request in sent_ went out under
  TuiController controller_;
  int64_t now_ = 1'700'000'000'000;
};

// The request of type T sent last, and its id.
template <typename T>
std::pair<const T*, uint64_t> lastOf(const std::vector<protocol::Request>& sent,
                                     const std::vector<uint64_t>& ids) {
  for (size_t i = sent.size(); i-- > 0;) {
    if (const auto* r = std::get_if<T>(&sent[i])) {
      return {r, ids[i]};
    }
  }
  return {nullptr, 0};
}

TEST_F(ControllerTest, TheLoginListsConversationsWithUnreadCountsAndMarksWhatIsRead) {
  logIn();
  auto [list, listId] = lastOf<protocol::ConversationsRequest>(sent_, ids_);
  ASSERT_NE(list, nullptr) << "the login asks for the conversation list";
  ASSERT_NE(lastOf<protocol::ListRoomsRequest>(sent_, ids_).first, nullptr);
  reply(listId, protocol::ConversationsReply{
                    2,
                    {{"#team", true, 40, "carol", 0, "news", 3, false, 30},
                     {"bob", false, 20, "bob", 0, "hi", 1, false, 10}}});
  const auto& conversations = controller_.model().conversations();
  ASSERT_EQ(conversations.size(), 2u);
  EXPECT_EQ(conversations[0].peer, "#team");
  // The newest opened itself (read, so its marker goes to the server), bob's waits.
  EXPECT_EQ(controller_.model().active()->peer, "#team");
  EXPECT_EQ(conversations[1].unread, 1u);
  auto [history, historyId] = lastOf<protocol::HistoryRequest>(sent_, ids_);
  ASSERT_NE(history, nullptr);
  reply(historyId, protocol::HistoryReply{{{40, "carol", "#team", "news", 1, false}}, false});
  controller_.tick(now_, 0, true);
  auto [marker, markerId] = lastOf<protocol::MarkReadRequest>(sent_, ids_);
  ASSERT_NE(marker, nullptr);
  EXPECT_EQ(marker->peer, "#team");
  EXPECT_EQ(marker->upToId, 40u);
  // Coalesced: nothing more to say until something new is read, and not within a second.
  controller_.tick(now_ + 100, 0, true);
  controller_.tick(now_ + 2000, 0, true);
  EXPECT_EQ(lastOf<protocol::MarkReadRequest>(sent_, ids_).second, markerId);
  // Alt+2 shows bob's: its marker moves at the next flush.
  type("\x1b" "2");
  auto [bobHistory, bobHistoryId] = lastOf<protocol::HistoryRequest>(sent_, ids_);
  ASSERT_NE(bobHistory, nullptr);
  EXPECT_EQ(bobHistory->peer, "bob");
  reply(bobHistoryId, protocol::HistoryReply{{{20, "bob", "alice", "hi", 1, false}}, false});
  controller_.tick(now_ + 4000, 0, true);
  EXPECT_EQ(lastOf<protocol::MarkReadRequest>(sent_, ids_).first->peer, "bob");
  EXPECT_EQ(lastOf<protocol::MarkReadRequest>(sent_, ids_).first->upToId, 20u);
}

// A room is not a user: sending to one records no presence for it and never says it is
// offline (seen on a live cluster: the second message to a room said "#lobby is offline,
// never logged in").
TEST_F(ControllerTest, SendingToARoomNeverCallsItAnOfflineUser) {
  logIn();
  type("/create #lobby\r");
  auto [create, createId] = lastOf<protocol::CreateRoomRequest>(sent_, ids_);
  ASSERT_NE(create, nullptr);
  reply(createId, protocol::EmptyReply{});
  for (const char* text : {"hello lobby\r", "after the kill\r"}) {
    type(text);
    auto [send, sendId] = lastOf<protocol::SendRequest>(sent_, ids_);
    ASSERT_NE(send, nullptr);
    EXPECT_EQ(send->recipient, "#lobby");
    // Alone in the room: no member online, and the reply's recipientOnline is false.
    reply(sendId, protocol::SendReply{sendId, false, 0, 0, 0});
  }
  EXPECT_EQ(controller_.model().user("#lobby"), nullptr);
  for (const auto& notice : controller_.state().notices) {
    EXPECT_EQ(notice.text.find("offline"), std::string::npos) << notice.text;
  }
}

// A message to a name nobody has says so in this client's words, without offering a retry
// that cannot work.
TEST_F(ControllerTest, AMessageToNobodySaysThereIsNoSuchUser) {
  logIn();
  type("/msg bob hi bob\r");
  auto [send, sendId] = lastOf<protocol::SendRequest>(sent_, ids_);
  ASSERT_NE(send, nullptr);
  fail(sendId, protocol::ErrorCode::kNoSuchUser,
       "no such user bob; list users with '1 1' (chat-tui: /list)");
  EXPECT_EQ(controller_.state().notices.back().text,
            "not sent to bob: there is no user bob (/list shows who is there)");
}

// The inviter hears no push of its own invitation: its room header ("room of 1") is
// refreshed from the reply instead (seen by hand: it stayed at 1 while the invitee saw 2).
TEST_F(ControllerTest, AnInvitationRefreshesTheInvitersMemberCount) {
  logIn();
  type("/create #dev\r");
  auto [create, createId] = lastOf<protocol::CreateRoomRequest>(sent_, ids_);
  ASSERT_NE(create, nullptr);
  reply(createId, protocol::EmptyReply{});
  auto [members, membersId] = lastOf<protocol::RoomMembersRequest>(sent_, ids_);
  ASSERT_NE(members, nullptr) << "a room shown asks who is in it";
  protocol::RoomEntry dev{"#dev", protocol::RoomAccess::kOpen, 1, true, "alice"};
  reply(membersId, protocol::RoomMembersReply{dev, {{"alice", true, 0}}});
  ASSERT_EQ(controller_.model().active()->members.size(), 1u);
  type("/invite bob\r");
  auto [invite, inviteId] = lastOf<protocol::InviteToRoomRequest>(sent_, ids_);
  ASSERT_NE(invite, nullptr);
  reply(inviteId, protocol::EmptyReply{});
  auto [again, againId] = lastOf<protocol::RoomMembersRequest>(sent_, ids_);
  ASSERT_GT(againId, inviteId) << "no new member list was asked for after the invitation";
  dev.members = 2;
  reply(againId, protocol::RoomMembersReply{dev, {{"alice", true, 0}, {"bob", true, 0}}});
  EXPECT_EQ(controller_.model().active()->members.size(), 2u);
}

TEST_F(ControllerTest, RoomCommandsSendTheirRequestsAndSayWhatHappened) {
  logIn();
  type("/create #team invite\r");
  auto [create, createId] = lastOf<protocol::CreateRoomRequest>(sent_, ids_);
  ASSERT_NE(create, nullptr);
  EXPECT_EQ(create->room, "#team");
  EXPECT_EQ(create->access, protocol::RoomAccess::kInviteByMembers);
  reply(createId, protocol::EmptyReply{});
  ASSERT_NE(controller_.model().active(), nullptr);
  EXPECT_EQ(controller_.model().active()->peer, "#team");
  type("/invite bob\r");  // the room shown
  auto [invite, inviteId] = lastOf<protocol::InviteToRoomRequest>(sent_, ids_);
  ASSERT_NE(invite, nullptr);
  EXPECT_EQ(invite->room, "#team");
  EXPECT_EQ(invite->user, "bob");
  reply(inviteId, protocol::EmptyReply{});
  EXPECT_EQ(controller_.state().notices.back().text, "bob is in #team now");
  // A room message shows under the room, with its sender.
  push(protocol::MessagePush{{50, "bob", "#team", "hello team", 1, false}});
  EXPECT_EQ(controller_.model().active()->messages.back().sender, "bob");
  // Sending in the room, then the receipts.
  type("hi bob\r");
  auto [send, sendId] = lastOf<protocol::SendRequest>(sent_, ids_);
  ASSERT_NE(send, nullptr);
  EXPECT_EQ(send->recipient, "#team");
  reply(sendId, protocol::SendReply{51, true, 2, 2, 1});
  push(protocol::DeliveredPush{51, "bob", 3});
  type("/receipts\r");
  auto [members, membersId] = lastOf<protocol::RoomMembersRequest>(sent_, ids_);
  ASSERT_NE(members, nullptr);
  reply(membersId, protocol::RoomMembersReply{
                       {"#team", protocol::RoomAccess::kInviteByMembers, 3, true, "alice"},
                       {{"alice", true, 0}, {"bob", true, 0}, {"carol", false, 0}}});
  EXPECT_EQ(controller_.state().notices.back().text,
            "your last message in #team: delivered to bob; not yet to carol");
  // Events from the server.
  push(protocol::RoomPush{"#team", "carol", protocol::RoomEvent::kLeft, "", 4});
  EXPECT_EQ(controller_.state().notices.back().text, "carol left #team");
  push(protocol::RoomPush{"#club", "alice", protocol::RoomEvent::kInvited, "dan", 5});
  EXPECT_EQ(controller_.state().notices.back().text, "dan added you to #club");
  EXPECT_NE(controller_.model().find("#club"), nullptr);
  // Leaving closes it; bad arguments say how.
  type("/leave\r");
  auto [leave, leaveId] = lastOf<protocol::LeaveRoomRequest>(sent_, ids_);
  ASSERT_NE(leave, nullptr);
  EXPECT_EQ(leave->room, "#team");
  reply(leaveId, protocol::EmptyReply{});
  EXPECT_EQ(controller_.model().find("#team"), nullptr);
  type("/join team\r");
  EXPECT_EQ(controller_.state().notices.back().text,
            "/join: a room name starts with '#', e.g. #general");
  type("/rooms\r");
  auto [rooms, roomsId] = lastOf<protocol::ListRoomsRequest>(sent_, ids_);
  ASSERT_NE(rooms, nullptr);
  reply(roomsId, protocol::RoomListReply{
                     1, {{"#lobby", protocol::RoomAccess::kOpen, 4, false, "erin"}}});
  EXPECT_EQ(controller_.state().notices.back().text, "1 room: #lobby (open, 4 members)");
}

TEST_F(ControllerTest, TheLoginFormLogsInAndRefusalsSayWhy) {
  EXPECT_EQ(controller_.state().screen, Screen::kLogin);
  EXPECT_TRUE(controller_.state().form.onPassword) << "--user fills the name: the password is next";
  type("wrong\r");
  const auto* login = last<protocol::LoginRequest>();
  ASSERT_NE(login, nullptr);
  EXPECT_EQ(login->username, "alice");
  EXPECT_EQ(login->password, "wrong");
  fail(lastId(), protocol::ErrorCode::kWrongPassword, "wrong password for alice; try again");
  EXPECT_EQ(controller_.state().screen, Screen::kLogin);
  EXPECT_EQ(controller_.state().form.message, "wrong password for alice; try again");
  EXPECT_TRUE(controller_.state().form.messageIsError);
  // The password field keeps what was typed; clear it and try again.
  type("\x15");  // Ctrl+U
  logIn();
  EXPECT_EQ(controller_.model().self(), "alice");
}

TEST_F(ControllerTest, CreatingAnAccountThenLogsIn) {
  key(KeyCode::kTab);  // to the user field
  type("\x15" "dave");
  key(KeyCode::kTab);
  controller_.onKey(Key{KeyCode::kFunction, "", false, false, false, 5, {}}, now_);
  type("pw\r");
  const auto* create = last<protocol::CreateRequest>();
  ASSERT_NE(create, nullptr);
  EXPECT_EQ(create->username, "dave");
  reply(lastId(), protocol::EmptyReply{});
  const auto* login = last<protocol::LoginRequest>();
  ASSERT_NE(login, nullptr);
  EXPECT_EQ(login->username, "dave");
  EXPECT_EQ(login->password, "pw");
}

TEST_F(ControllerTest, WaitingMessagesAreDeliveredAckedAndMarkedAsAway) {
  logIn(2);
  // The login lists the users and fetches what waited.
  const auto* deliver = last<protocol::DeliverRequest>();
  ASSERT_NE(deliver, nullptr);
  uint64_t deliverId = lastId();
  reply(deliverId, protocol::DeliverReply{{{7, "bob", "alice", "one", 1, false},
                                           {9, "bob", "alice", "two", 2, false}},
                                          0});
  bool acked = false;
  for (const auto& r : sent_) {
    if (const auto* a = std::get_if<protocol::AckRequest>(&r)) {
      acked = a->ids == std::vector<uint64_t>{7, 9};
    }
  }
  EXPECT_TRUE(acked);
  const Conversation* c = controller_.model().active();
  ASSERT_NE(c, nullptr);
  EXPECT_EQ(c->peer, "bob");
  EXPECT_EQ(c->awaySeparatorBefore, 7u);
  // Opening it asked for its history.
  bool history = false;
  for (const auto& r : sent_) {
    history = history || std::holds_alternative<protocol::HistoryRequest>(r);
  }
  EXPECT_TRUE(history);
  EXPECT_EQ(controller_.state().notices.back().text, "2 waiting messages delivered");
}

// Counts read as English: one message is not "1 messages".
TEST_F(ControllerTest, OneWaitingMessageIsSaidInTheSingular) {
  logIn(1);
  bool saidAtLogin = false;
  for (const auto& n : controller_.state().notices) {
    saidAtLogin = saidAtLogin || n.text == "logged in as alice; 1 message waited for you";
  }
  EXPECT_TRUE(saidAtLogin);
  auto [deliver, deliverId] = lastOf<protocol::DeliverRequest>(sent_, ids_);
  ASSERT_NE(deliver, nullptr);
  reply(deliverId, protocol::DeliverReply{{{7, "bob", "alice", "one", 1, false}}, 1});
  EXPECT_EQ(controller_.state().notices.back().text,
            "1 waiting message delivered; 1 more waits: /deliver");
}

TEST_F(ControllerTest, ASendGoesThroughItsDeliveryStatesAndFailuresCanBeRetried) {
  logIn();
  push(protocol::PresencePush{"bob", false, now_ - 300'000});
  type("/msg bob hi\r");
  const auto* send = last<protocol::SendRequest>();
  ASSERT_NE(send, nullptr);
  EXPECT_EQ(send->recipient, "bob");
  EXPECT_EQ(send->body, "hi");
  uint64_t sendId = lastId();
  const Conversation* c = controller_.model().find("bob");
  ASSERT_NE(c, nullptr);
  EXPECT_EQ(c->messages.back().delivery, Delivery::kSending);
  EXPECT_NE(controller_.state().notices.back().text.find("bob is offline, last seen 5m ago"),
            std::string::npos)
      << controller_.state().notices.back().text;
  reply(sendId, protocol::SendReply{42, false, now_});
  EXPECT_EQ(c->messages.back().delivery, Delivery::kWaiting);
  push(protocol::DeliveredPush{42, "bob", now_});
  EXPECT_EQ(c->messages.back().delivery, Delivery::kDelivered);

  type("second\r");
  uint64_t secondId = lastId();
  fail(secondId, protocol::ErrorCode::kUnavailable, "the cluster did not answer in time");
  EXPECT_EQ(c->messages.back().delivery, Delivery::kFailed);
  size_t before = sent_.size();
  type("\x1br");  // Alt+R
  ASSERT_EQ(sent_.size(), before + 1);
  const auto* again = last<protocol::SendRequest>();
  ASSERT_NE(again, nullptr);
  EXPECT_EQ(again->body, "second");
  // Under the first attempt's id: had that one been stored after all, the cluster answers
  // with it instead of storing the message twice.
  EXPECT_EQ(lastId(), secondId);
  EXPECT_EQ(c->messages.back().delivery, Delivery::kSending);
  reply(secondId, protocol::SendReply{43, false, now_});
  EXPECT_EQ(c->messages.back().delivery, Delivery::kWaiting);
  EXPECT_EQ(c->messages.back().id, 43u);
}

TEST_F(ControllerTest, TypingTellsThePeerEveryFewSecondsAndTheirsShowsInTheTitle) {
  logIn();
  type("/msg bob hi\r");
  auto typingSent = [&] {
    size_t n = 0;
    for (const auto& r : sent_) {
      n += std::holds_alternative<protocol::TypingRequest>(r) ? 1U : 0U;
    }
    return n;
  };
  size_t before = typingSent();
  type("hel");
  EXPECT_EQ(typingSent(), before + 1);
  EXPECT_EQ(std::get<protocol::TypingRequest>(request(lastId())).peer, "bob");
  now_ += 1000;
  type("lo");
  EXPECT_EQ(typingSent(), before + 1) << "at most one notice every 3 s";
  now_ += 2500;
  type("!");
  EXPECT_EQ(typingSent(), before + 2);
  key(KeyCode::kEnter);
  // A command is not a message being typed.
  now_ += 5000;
  type("/wh");
  EXPECT_EQ(typingSent(), before + 2);
  key(KeyCode::kEscape);

  const Conversation* c = controller_.model().find("bob");
  ASSERT_NE(c, nullptr);
  push(protocol::TypingPush{"bob", ""});
  EXPECT_GT(c->typingUntilMillis, now_);
  // Their message arrives: no longer typing.
  push(protocol::MessagePush{{77, "bob", "alice", "done typing", now_, false}});
  EXPECT_EQ(c->typingUntilMillis, 0);
}

TEST_F(ControllerTest, ConversationsSwitchByAltNumberAndCountUnread) {
  logIn();
  push(protocol::MessagePush{{1, "bob", "alice", "from bob", 1, false}});
  push(protocol::MessagePush{{2, "carol", "alice", "from carol", 2, false}});
  push(protocol::MessagePush{{3, "carol", "alice", "again", 3, false}});
  ASSERT_EQ(controller_.model().conversations().size(), 2u);
  EXPECT_EQ(controller_.model().active()->peer, "bob") << "the first one opened itself";
  EXPECT_EQ(controller_.model().find("carol")->unread, 2u);
  type("\x1b" "2");
  EXPECT_EQ(controller_.model().active()->peer, "carol");
  EXPECT_EQ(controller_.model().find("carol")->unread, 0u);
  // Alt+U jumps to the first message that was unread.
  type("\x1bu");
  EXPECT_EQ(controller_.state().highlightId, 2u);
  type("\x10");  // Ctrl+P
  EXPECT_EQ(controller_.model().active()->peer, "bob");
  // Each message was acknowledged as it came.
  int acks = 0;
  for (const auto& r : sent_) {
    acks += std::holds_alternative<protocol::AckRequest>(r) ? 1 : 0;
  }
  EXPECT_EQ(acks, 3);
  // A duplicate push (after a failover) is neither shown twice nor acked twice.
  push(protocol::MessagePush{{1, "bob", "alice", "from bob", 1, false}});
  EXPECT_EQ(controller_.model().find("bob")->messages.size(), 1u);
}

TEST_F(ControllerTest, PageUpAtTheTopAsksForTheOlderPage) {
  logIn();
  type("/query bob\r");
  const auto* first = last<protocol::HistoryRequest>();
  ASSERT_NE(first, nullptr);
  EXPECT_EQ(first->beforeId, 0u);
  protocol::HistoryReply page;
  for (uint64_t id = 100; id < 160; ++id) {
    page.messages.push_back({id, "bob", "alice", "message " + std::to_string(id), 1, true});
  }
  page.hasMore = true;
  reply(lastId(), page);
  size_t before = sent_.size();
  key(KeyCode::kPageUp);  // 60 lines in a 20-line pane: scrolls, no request yet
  key(KeyCode::kPageUp);
  EXPECT_EQ(controller_.state().scrollBack, 38);
  EXPECT_EQ(sent_.size(), before);
  key(KeyCode::kPageUp);  // past the top: the page before id 100
  const auto* older = last<protocol::HistoryRequest>();
  ASSERT_NE(older, nullptr);
  EXPECT_EQ(older->peer, "bob");
  EXPECT_EQ(older->beforeId, 100u);
  type("\x1b[1;3F");  // Alt+End
  EXPECT_EQ(controller_.state().scrollBack, 0);
}

TEST_F(ControllerTest, SearchCompletionAndCommandsHelp) {
  logIn();
  push(protocol::MessagePush{{1, "bob", "alice", "the cluster is up", 1, false}});
  push(protocol::MessagePush{{2, "bob", "alice", "lunch?", 2, false}});
  push(protocol::MessagePush{{3, "bob", "alice", "cluster again", 3, false}});
  type("\x06" "clu");  // Ctrl+F
  EXPECT_EQ(controller_.state().inputMode, InputMode::kSearch);
  EXPECT_EQ(controller_.state().matches, (std::vector<uint64_t>{1, 3}));
  EXPECT_EQ(controller_.state().highlightId, 3u) << "the newest match first";
  type("\x06");
  EXPECT_EQ(controller_.state().highlightId, 1u);
  key(KeyCode::kEscape);
  EXPECT_EQ(controller_.state().inputMode, InputMode::kMessage);
  EXPECT_EQ(controller_.state().highlightId, 0u);

  controller_.onEvent(protocol::Response{99, protocol::Opcode::kList, protocol::ErrorCode::kOk, "",
                                         protocol::ListReply{}},
                      now_);
  type("/ms\t");
  EXPECT_EQ(controller_.state().input.text(), "/msg ");
  type("b\t");
  EXPECT_EQ(controller_.state().input.text(), "/msg bob ");
  type("\x15" "/mgs bob x\r");
  EXPECT_NE(controller_.state().notices.back().text.find("did you mean /msg?"), std::string::npos);
  EXPECT_TRUE(controller_.state().notices.back().isError);
  type("/help whois\r");
  EXPECT_EQ(controller_.state().notices.back().text,
            "/whois user: is user online, and when were they last seen");
  type("/quit\r");
  EXPECT_TRUE(controller_.takeEffects().quit);
}

TEST_F(ControllerTest, WhileNoNodeAnswersTheStripSaysWhyTheLastAttemptFailed) {
  controller_.tick(now_, 1000, false, "TLS with 127.0.0.1:1 failed: certificate did not verify");
  EXPECT_EQ(controller_.state().connection.text(),
            "no node of the cluster answers; trying again in 1.0 s");
  EXPECT_EQ(controller_.state().form.message,
            "cannot reach the cluster: TLS with 127.0.0.1:1 failed: certificate did not verify");
  EXPECT_TRUE(controller_.state().form.messageIsError);
  controller_.tick(now_, 0, true, "");
  EXPECT_EQ(controller_.state().connection.state, ConnectionStatus::State::kConnected);
  EXPECT_EQ(controller_.state().form.message, "") << "gone once a node answers";
  // Nothing listening at all: the first thing a new user meets, with what to do.
  controller_.tick(now_, 1000, false,
                   "cannot connect to 127.0.0.1:7005: Connection refused");
  EXPECT_NE(controller_.state().form.message.find(
                "Connection refused; is it running? (chat-supervisor starts one"),
            std::string::npos)
      << controller_.state().form.message;
}

TEST_F(ControllerTest, FailoverTurnsTheStripIntoABannerAndBack) {
  logIn();
  using Kind = client::ConnectionEvent::Kind;
  controller_.onEvent(client::ConnectionEvent{Kind::kLost, "127.0.0.1:1", "connection reset", 0},
                      now_);
  controller_.tick(now_, 400, false);
  EXPECT_EQ(controller_.state().connection.text(),
            "leader lost, reconnecting in 0.4 s — connection reset");
  controller_.onEvent(client::ConnectionEvent{Kind::kConnected, "127.0.0.1:2", "", 0}, now_);
  controller_.onEvent(client::ConnectionEvent{Kind::kResumed, "127.0.0.1:2", "", 3}, now_);
  controller_.onNodes({NodeRow{1, "127.0.0.1:1", false, "", 0, 0, 0, ""},
                       NodeRow{2, "127.0.0.1:2", true, "leader", 5, 40, 0, ""},
                       NodeRow{3, "127.0.0.1:3", true, "follower", 5, 38, 0, ""}});
  EXPECT_EQ(controller_.state().connection.text(), "new leader node 2 (epoch 5), re-sent 3");
  // What was stored while the client had no session is fetched at once, without the away rule.
  const auto* deliver = last<protocol::DeliverRequest>();
  ASSERT_NE(deliver, nullptr) << "a resume must fetch what waited meanwhile";
  reply(lastId(), protocol::DeliverReply{{{77, "bob", "alice", "sent during the failover", 5, false}}, 0});
  ASSERT_NE(controller_.model().find("bob"), nullptr);
  EXPECT_EQ(controller_.model().find("bob")->awaySeparatorBefore, 0u);
  EXPECT_EQ(controller_.model().find("bob")->messages.back().body, "sent during the failover");
  EXPECT_EQ(controller_.state().nodes[2].lag, 2u);
  now_ += 6000;
  controller_.tick(now_, 0, true);
  EXPECT_EQ(controller_.state().connection.text().rfind("node 127.0.0.1:2 · leader node 2 · epoch 5 · 2/3 up", 0),
            0u)
      << controller_.state().connection.text();
  // A session the cluster no longer knows sends the user back to the form.
  controller_.onEvent(client::ConnectionEvent{Kind::kSessionLost, "127.0.0.1:2", "expired", 0}, now_);
  EXPECT_EQ(controller_.state().screen, Screen::kLogin);
}

TEST_F(ControllerTest, AMultiLinePasteIsSentAsOneMessage) {
  logIn();
  type("/query bob\r");
  type("\x1b[200~first line\r\nsecond line\x1b[201~");
  EXPECT_EQ(controller_.state().input.text(), "first line\nsecond line");
  EXPECT_EQ(controller_.state().input.view(40).cursorColumn, 22) << "the newline takes a column";
  size_t before = sent_.size();
  type("\r");
  ASSERT_EQ(sent_.size(), before + 1);
  const auto* send = last<protocol::SendRequest>();
  ASSERT_NE(send, nullptr);
  EXPECT_EQ(send->body, "first line\nsecond line");
}

TEST_F(ControllerTest, TheMouseScrollsAndPicksConversationsOnlyWhenSwitchedOn) {
  logIn();
  push(protocol::MessagePush{{1, "bob", "alice", "from bob", 1, false}});
  push(protocol::MessagePush{{2, "carol", "alice", "from carol", 2, false}});
  Key click = Key::of(KeyCode::kMouse);
  click.mouse = MouseEvent{MouseEvent::Kind::kPress, 0, 2, 2};  // row 2: the second entry
  controller_.onKey(click, now_);
  EXPECT_EQ(controller_.model().active()->peer, "bob") << "mouse mode is off by default";
  type("\x1bm");  // Alt+M
  EXPECT_TRUE(controller_.state().mouse);
  EXPECT_TRUE(controller_.takeEffects().mouseChanged);
  controller_.onKey(click, now_);
  EXPECT_EQ(controller_.model().active()->peer, "carol");
}

TEST_F(ControllerTest, ListWhoisLogoutAndDeletingTheAccount) {
  logIn();
  type("/list b*\r");
  const auto* list = last<protocol::ListRequest>();
  ASSERT_NE(list, nullptr);
  EXPECT_EQ(list->pattern, "b*");
  EXPECT_EQ(controller_.state().userFilter, "b*");
  reply(lastId(), protocol::ListReply{1, {{"bob", true, 0}}});
  EXPECT_EQ(controller_.state().notices.back().text, "1 user matching b*: bob ●");
  type("/whois carol\r");
  reply(lastId(), protocol::ListReply{1, {{"carol", false, now_ - 3 * 3600 * 1000}}});
  EXPECT_EQ(controller_.state().notices.back().text, "carol: offline, last seen 3h ago");
  type("/whois nobody\r");
  reply(lastId(), protocol::ListReply{0, {}});
  EXPECT_TRUE(controller_.state().notices.back().isError);

  type("/delete-account\r");
  EXPECT_EQ(controller_.state().inputMode, InputMode::kConfirmDelete);
  type("pw\r");
  const auto* del = last<protocol::DeleteAccountRequest>();
  ASSERT_NE(del, nullptr);
  EXPECT_EQ(del->username, "alice");
  EXPECT_EQ(del->password, "pw");
  fail(lastId(), protocol::ErrorCode::kWrongPassword, "wrong password");
  EXPECT_EQ(controller_.state().screen, Screen::kChat) << "a refused deletion changes nothing";
  type("/logout\r");
  ASSERT_NE(last<protocol::LogoutRequest>(), nullptr);
  reply(lastId(), protocol::EmptyReply{});
  EXPECT_EQ(controller_.state().screen, Screen::kLogin);
  EXPECT_EQ(controller_.state().form.message, "logged out");
  EXPECT_EQ(controller_.state().form.user.text(), "alice");
}

}  // namespace
}  // namespace chat::tui
