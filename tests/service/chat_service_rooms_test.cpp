// Rooms through the service: every rule a user meets (docs/chat-semantics.md, "Rooms"), with
// the real single-node log and the state machine behind it.
#include "chat_service_fixture.h"

namespace chat::service {
namespace {

using protocol::ErrorCode;
using protocol::RoomAccess;

class ChatServiceRoomsTest : public ChatServiceTest {
 protected:
  // An account that exists but is not logged in (offline).
  void offline(const std::string& name) {
    Client setup = connect();
    ASSERT_TRUE(call(setup, protocol::CreateRequest{name, "pw"}).isOk());
  }
  protocol::SendReply sendOk(const Client& c, const std::string& room, const std::string& body) {
    auto r = call(c, protocol::SendRequest{room, body});
    EXPECT_TRUE(r.isOk()) << r.error;
    return r.isOk() ? std::get<protocol::SendReply>(r.body) : protocol::SendReply{};
  }
  std::vector<protocol::ChatMessage> deliver(const Client& c) {
    auto r = call(c, protocol::DeliverRequest{0, "", ""});
    EXPECT_TRUE(r.isOk()) << r.error;
    return r.isOk() ? std::get<protocol::DeliverReply>(r.body).messages
                    : std::vector<protocol::ChatMessage>{};
  }
  protocol::RoomMembersReply members(const Client& c, const std::string& room) {
    auto r = call(c, protocol::RoomMembersRequest{room});
    EXPECT_TRUE(r.isOk()) << r.error;
    return r.isOk() ? std::get<protocol::RoomMembersReply>(r.body) : protocol::RoomMembersReply{};
  }
};

TEST_F(ChatServiceRoomsTest, ARoomMessageIsPushedToOnlineMembersAndWaitsForOfflineOnes) {
  Client alice = loggedIn("alice");
  Client bob = loggedIn("bob");
  offline("carol");
  ASSERT_TRUE(call(alice, protocol::CreateRoomRequest{"#General", RoomAccess::kOpen}).isOk());
  ASSERT_TRUE(call(bob, protocol::JoinRoomRequest{"#general"}).isOk());
  ASSERT_TRUE(call(alice, protocol::InviteToRoomRequest{"#general", "carol"}).isOk());

  auto sent = sendOk(alice, "#general", "hello room");
  EXPECT_EQ(sent.recipients, 2u);  // bob and carol, not alice
  EXPECT_EQ(sent.recipientsOnline, 1u);
  EXPECT_TRUE(sent.recipientOnline);
  auto pushed = bob.session->waitFor<protocol::MessagePush>();
  ASSERT_TRUE(pushed.has_value());
  EXPECT_EQ(pushed->message.id, sent.messageId);
  EXPECT_EQ(pushed->message.sender, "alice");
  EXPECT_EQ(pushed->message.recipient, "#General");  // the room, as it was created
  EXPECT_EQ(alice.session->count<protocol::MessagePush>(), 0u);  // not to its sender

  // Carol logs in later: it waits for her like a private message, and is handed over once.
  Client carol = connect();
  auto login = call(carol, protocol::LoginRequest{"carol", "pw"});
  EXPECT_EQ(std::get<protocol::LoginReply>(login.body).waiting, 1u);
  auto waiting = deliver(carol);
  ASSERT_EQ(waiting.size(), 1u);
  EXPECT_EQ(waiting[0].body, "hello room");
  EXPECT_EQ(waiting[0].recipient, "#General");
  // Each member acknowledges its own copy; the sender hears of each.
  EXPECT_EQ(std::get<protocol::AckReply>(call(carol, protocol::AckRequest{{sent.messageId}}).body)
                .acked,
            1u);
  EXPECT_TRUE(deliver(carol).empty());
  EXPECT_EQ(deliver(bob).size(), 1u);  // bob's copy still waits: he has not acked
  call(bob, protocol::AckRequest{{sent.messageId}});
  EXPECT_TRUE(deliver(bob).empty());
  std::set<std::string> heardFrom;
  for (int i = 0; i < 2; ++i) {
    auto d = alice.session->waitFor<protocol::DeliveredPush>();
    ASSERT_TRUE(d.has_value());
    EXPECT_EQ(d->messageId, sent.messageId);
    heardFrom.insert(d->recipient);
  }
  EXPECT_EQ(heardFrom, (std::set<std::string>{"bob", "carol"}));
  // A second ack of the same copy changes nothing.
  EXPECT_EQ(std::get<protocol::AckReply>(call(carol, protocol::AckRequest{{sent.messageId}}).body)
                .acked,
            0u);
}

TEST_F(ChatServiceRoomsTest, InviteOnlyRoomsRefuseJoinsAndHideFromOthers) {
  Client alice = loggedIn("alice");
  Client bob = loggedIn("bob");
  Client carol = loggedIn("carol");
  ASSERT_TRUE(
      call(alice, protocol::CreateRoomRequest{"#secret", RoomAccess::kInviteByOwner}).isOk());
  auto join = call(bob, protocol::JoinRoomRequest{"#secret"});
  EXPECT_EQ(join.code, ErrorCode::kInviteOnly);
  EXPECT_NE(join.error.find("invite-only; ask a member to invite you"), std::string::npos)
      << join.error;
  // Only the owner invites to an owner-invites room.
  ASSERT_TRUE(call(alice, protocol::InviteToRoomRequest{"#secret", "bob"}).isOk());
  auto byBob = call(bob, protocol::InviteToRoomRequest{"#secret", "carol"});
  EXPECT_EQ(byBob.code, ErrorCode::kInviteOnly);
  EXPECT_NE(byBob.error.find("only the owner of #secret may invite"), std::string::npos);
  // Carol, outside, sees neither the room nor its members, nor can she invite herself.
  auto list = std::get<protocol::RoomListReply>(call(carol, protocol::ListRoomsRequest{}).body);
  EXPECT_EQ(list.total, 0u);
  EXPECT_EQ(call(carol, protocol::RoomMembersRequest{"#secret"}).code, ErrorCode::kNoSuchRoom);
  EXPECT_EQ(call(carol, protocol::InviteToRoomRequest{"#secret", "carol"}).code,
            ErrorCode::kNotMember);
  EXPECT_EQ(call(carol, protocol::SendRequest{"#secret", "let me in"}).code, ErrorCode::kNotMember);
  EXPECT_EQ(call(carol, protocol::HistoryRequest{"#secret", 0, 10}).code, ErrorCode::kNotMember);
  // Bob, a member, sees it.
  auto bobs = std::get<protocol::RoomListReply>(call(bob, protocol::ListRoomsRequest{}).body);
  ASSERT_EQ(bobs.rooms.size(), 1u);
  EXPECT_EQ(bobs.rooms[0],
            (protocol::RoomEntry{"#secret", RoomAccess::kInviteByOwner, 2, true, "alice"}));
  // A members-invite room lets any member invite.
  ASSERT_TRUE(
      call(alice, protocol::CreateRoomRequest{"#club", RoomAccess::kInviteByMembers}).isOk());
  ASSERT_TRUE(call(alice, protocol::InviteToRoomRequest{"#club", "bob"}).isOk());
  EXPECT_TRUE(call(bob, protocol::InviteToRoomRequest{"#club", "carol"}).isOk());
}

TEST_F(ChatServiceRoomsTest, LeavingStopsLaterMessagesButNotEarlierOnes) {
  Client alice = loggedIn("alice");
  Client bob = loggedIn("bob");
  ASSERT_TRUE(call(alice, protocol::CreateRoomRequest{"#r", RoomAccess::kOpen}).isOk());
  ASSERT_TRUE(call(bob, protocol::JoinRoomRequest{"#r"}).isOk());
  auto before = sendOk(alice, "#r", "before");
  ASSERT_TRUE(bob.session->waitFor<protocol::MessagePush>().has_value());
  ASSERT_TRUE(call(bob, protocol::LeaveRoomRequest{"#r"}).isOk());
  auto after = sendOk(alice, "#r", "after");
  EXPECT_EQ(after.recipients, 0u);
  // Bob's unacknowledged copy of the earlier message still waits for him.
  auto waiting = deliver(bob);
  ASSERT_EQ(waiting.size(), 1u);
  EXPECT_EQ(waiting[0].id, before.messageId);
  auto send = call(bob, protocol::SendRequest{"#r", "still here?"});
  EXPECT_EQ(send.code, ErrorCode::kNotMember);
  EXPECT_NE(send.error.find("you are not in #r; join it first"), std::string::npos) << send.error;
  EXPECT_EQ(call(bob, protocol::LeaveRoomRequest{"#r"}).code, ErrorCode::kNotMember);
  EXPECT_EQ(call(bob, protocol::HistoryRequest{"#r", 0, 10}).code, ErrorCode::kNotMember);
}

TEST_F(ChatServiceRoomsTest, DeletingAnAccountLeavesItsRoomsAndAnEmptyRoomGoes) {
  Client alice = loggedIn("alice");
  Client bob = loggedIn("bob");
  ASSERT_TRUE(call(alice, protocol::CreateRoomRequest{"#shared", RoomAccess::kOpen}).isOk());
  ASSERT_TRUE(call(alice, protocol::CreateRoomRequest{"#mine", RoomAccess::kOpen}).isOk());
  ASSERT_TRUE(call(bob, protocol::JoinRoomRequest{"#shared"}).isOk());
  ASSERT_TRUE(call(alice, protocol::DeleteAccountRequest{"alice", "pw"}).isOk());
  auto shared = members(bob, "#shared");
  EXPECT_EQ(shared.room.owner, "bob");  // the longest-standing member takes over
  ASSERT_EQ(shared.members.size(), 1u);
  EXPECT_EQ(shared.members[0].name, "bob");
  EXPECT_EQ(call(bob, protocol::RoomMembersRequest{"#mine"}).code, ErrorCode::kNoSuchRoom);
  // The name is free again: a new room, with no history of the old one.
  ASSERT_TRUE(call(bob, protocol::CreateRoomRequest{"#mine", RoomAccess::kOpen}).isOk());
  auto history = call(bob, protocol::HistoryRequest{"#mine", 0, 10});
  ASSERT_TRUE(history.isOk()) << history.error;
  EXPECT_TRUE(std::get<protocol::HistoryReply>(history.body).messages.empty());
}

TEST_F(ChatServiceRoomsTest, NamesAndLimitsAreRefusedWithASentence) {
  Client alice = loggedIn("alice");
  EXPECT_EQ(call(alice, protocol::CreateRoomRequest{"general", RoomAccess::kOpen}).code,
            ErrorCode::kInvalidUsername);
  auto bad = call(alice, protocol::CreateRoomRequest{"#no spaces", RoomAccess::kOpen});
  EXPECT_NE(bad.error.find("a room name after '#' may hold only"), std::string::npos) << bad.error;
  EXPECT_EQ(call(alice, protocol::JoinRoomRequest{"#nowhere"}).code, ErrorCode::kNoSuchRoom);
  ASSERT_TRUE(call(alice, protocol::CreateRoomRequest{"#Taken", RoomAccess::kOpen}).isOk());
  auto taken = call(alice, protocol::CreateRoomRequest{"#taken", RoomAccess::kOpen});
  EXPECT_EQ(taken.code, ErrorCode::kRoomNameTaken);
  EXPECT_NE(taken.error.find("#Taken exists already"), std::string::npos) << taken.error;
  for (size_t i = 1; i < storage::kMaxRoomsPerAccount; ++i) {
    ASSERT_TRUE(call(alice, protocol::CreateRoomRequest{"#room" + std::to_string(i),
                                                        RoomAccess::kOpen})
                    .isOk());
  }
  auto tooMany = call(alice, protocol::CreateRoomRequest{"#one-more", RoomAccess::kOpen});
  EXPECT_EQ(tooMany.code, ErrorCode::kRoomLimit);
  EXPECT_NE(tooMany.error.find("alice is in 100 rooms, the most one account may be in; leave "
                               "one first"),
            std::string::npos)
      << tooMany.error;
  EXPECT_EQ(call(alice, protocol::SendRequest{"#", "x"}).code, ErrorCode::kNoSuchRoom);
  Client stranger = connect();
  EXPECT_EQ(call(stranger, protocol::ListRoomsRequest{}).code, ErrorCode::kNotLoggedIn);
}

TEST_F(ChatServiceRoomsTest, MembersHearWhoJoinsLeavesAndIsInvited) {
  Client alice = loggedIn("alice");
  Client bob = loggedIn("bob");
  Client carol = loggedIn("carol");
  ASSERT_TRUE(call(alice, protocol::CreateRoomRequest{"#team", RoomAccess::kOpen}).isOk());
  ASSERT_TRUE(call(bob, protocol::JoinRoomRequest{"#team"}).isOk());
  auto joined = alice.session->waitFor<protocol::RoomPush>();
  ASSERT_TRUE(joined.has_value());
  EXPECT_EQ(joined->event, protocol::RoomEvent::kJoined);
  EXPECT_EQ(joined->user, "bob");
  EXPECT_EQ(joined->room, "#team");
  ASSERT_TRUE(call(bob, protocol::InviteToRoomRequest{"#team", "carol"}).isOk());
  for (auto* who : {&alice, &carol}) {
    auto invited = who->session->waitFor<protocol::RoomPush>();
    ASSERT_TRUE(invited.has_value());
    EXPECT_EQ(invited->event, protocol::RoomEvent::kInvited);
    EXPECT_EQ(invited->user, "carol");
    EXPECT_EQ(invited->by, "bob");
  }
  // The owner leaves: the others hear it, and who owns the room now.
  ASSERT_TRUE(call(alice, protocol::LeaveRoomRequest{"#team"}).isOk());
  auto left = bob.session->waitFor<protocol::RoomPush>();
  ASSERT_TRUE(left.has_value());
  EXPECT_EQ(left->event, protocol::RoomEvent::kLeft);
  EXPECT_EQ(left->user, "alice");
  auto owner = bob.session->waitFor<protocol::RoomPush>();
  ASSERT_TRUE(owner.has_value());
  EXPECT_EQ(owner->event, protocol::RoomEvent::kOwner);
  EXPECT_EQ(owner->user, "bob");
  auto team = members(carol, "#team");
  EXPECT_EQ(team.room.owner, "bob");
  ASSERT_EQ(team.members.size(), 2u);
  EXPECT_TRUE(team.members[0].online);
  EXPECT_EQ(alice.session->count<protocol::RoomPush>(), 0u);  // told by her replies instead
}

TEST_F(ChatServiceRoomsTest, HistoryAndTypingAreForMembers) {
  Client alice = loggedIn("alice");
  Client bob = loggedIn("bob");
  ASSERT_TRUE(call(alice, protocol::CreateRoomRequest{"#log", RoomAccess::kOpen}).isOk());
  sendOk(alice, "#log", "one");
  sendOk(alice, "#log", "two");
  ASSERT_TRUE(call(bob, protocol::JoinRoomRequest{"#log"}).isOk());
  // A member reads what was said before joining too.
  auto history = call(bob, protocol::HistoryRequest{"#log", 0, 10});
  ASSERT_TRUE(history.isOk()) << history.error;
  auto page = std::get<protocol::HistoryReply>(history.body);
  ASSERT_EQ(page.messages.size(), 2u);
  EXPECT_EQ(page.messages[0].body, "one");
  EXPECT_EQ(page.messages[1].recipient, "#log");
  ASSERT_TRUE(call(bob, protocol::TypingRequest{"#log"}).isOk());
  auto typing = alice.session->waitFor<protocol::TypingPush>();
  ASSERT_TRUE(typing.has_value());
  EXPECT_EQ(typing->user, "bob");
  EXPECT_EQ(typing->room, "#log");
  EXPECT_EQ(bob.session->count<protocol::TypingPush>(), 0u);
}

// A pattern filters the rooms a caller may see ('*', '?', the '#' optional), with paging; a
// room's history pages backwards by id like a private conversation's.
TEST_F(ChatServiceRoomsTest, RoomsAreListedByPatternAndTheirHistoryPagesBackwards) {
  Client alice = loggedIn("alice");
  Client bob = loggedIn("bob");
  for (const char* room : {"#alpha", "#alps", "#beta"}) {
    ASSERT_TRUE(call(alice, protocol::CreateRoomRequest{room, RoomAccess::kOpen}).isOk());
  }
  ASSERT_TRUE(
      call(alice, protocol::CreateRoomRequest{"#alchemy", RoomAccess::kInviteByOwner}).isOk());
  auto names = [&](const Client& c, protocol::ListRoomsRequest request) {
    auto r = call(c, request);
    EXPECT_TRUE(r.isOk()) << r.error;
    auto reply = std::get<protocol::RoomListReply>(r.body);
    std::vector<std::string> out;
    for (const auto& room : reply.rooms) {
      out.push_back(room.name);
    }
    out.push_back("total " + std::to_string(reply.total));
    return out;
  };
  using Names = std::vector<std::string>;
  EXPECT_EQ(names(bob, {"#al*"}), (Names{"#alpha", "#alps", "total 2"}));  // not #alchemy
  EXPECT_EQ(names(bob, {"al?s"}), (Names{"#alps", "total 1"}));
  EXPECT_EQ(names(bob, {"*"}), (Names{"#alpha", "#alps", "#beta", "total 3"}));
  EXPECT_EQ(names(bob, {"*", 1, 1}), (Names{"#alps", "total 3"}));
  EXPECT_EQ(names(bob, {"#gamma*"}), (Names{"total 0"}));
  EXPECT_EQ(names(alice, {"#al*"}), (Names{"#alchemy", "#alpha", "#alps", "total 3"}));

  std::vector<uint64_t> ids;
  for (int i = 1; i <= 5; ++i) {
    ids.push_back(sendOk(alice, "#alpha", "m" + std::to_string(i)).messageId);
  }
  ASSERT_TRUE(call(bob, protocol::JoinRoomRequest{"#alpha"}).isOk());
  auto page = [&](uint64_t beforeId, uint32_t limit) {
    auto r = call(bob, protocol::HistoryRequest{"#alpha", beforeId, limit});
    EXPECT_TRUE(r.isOk()) << r.error;
    auto reply = std::get<protocol::HistoryReply>(r.body);
    std::vector<std::string> bodies;
    for (const auto& m : reply.messages) {
      bodies.push_back(m.body);
    }
    bodies.push_back(reply.hasMore ? "more" : "end");
    return bodies;
  };
  using Bodies = std::vector<std::string>;
  EXPECT_EQ(page(0, 2), (Bodies{"m4", "m5", "more"}));
  EXPECT_EQ(page(ids[3], 2), (Bodies{"m2", "m3", "more"}));
  EXPECT_EQ(page(ids[1], 2), (Bodies{"m1", "end"}));
  EXPECT_EQ(page(ids[0], 2), (Bodies{"end"}));
}

TEST_F(ChatServiceRoomsTest, ARetriedRoomSendIsStoredOnce) {
  Client alice = loggedIn("alice");
  offline("bob");
  ASSERT_TRUE(call(alice, protocol::CreateRoomRequest{"#r", RoomAccess::kOpen}).isOk());
  ASSERT_TRUE(call(alice, protocol::InviteToRoomRequest{"#r", "bob"}).isOk());
  std::vector<protocol::Response> replies;
  for (int attempt = 0; attempt < 2; ++attempt) {
    std::promise<protocol::Response> promise;
    service_.handle(alice.context, 4242, protocol::SendRequest{"#r", "once"},
                    [&](protocol::Response r) { promise.set_value(std::move(r)); });
    replies.push_back(promise.get_future().get());
  }
  ASSERT_TRUE(replies[0].isOk() && replies[1].isOk());
  EXPECT_EQ(std::get<protocol::SendReply>(replies[0].body).messageId,
            std::get<protocol::SendReply>(replies[1].body).messageId);
  Client bob = connect();
  auto login = call(bob, protocol::LoginRequest{"bob", "pw"});
  EXPECT_EQ(std::get<protocol::LoginReply>(login.body).waiting, 1u);
}

TEST_F(ChatServiceRoomsTest, ALineClientInARoomCountsWhatItWasWrittenAsDelivered) {
  Client alice = loggedIn("alice");
  offline("bob");
  ASSERT_TRUE(call(alice, protocol::CreateRoomRequest{"#r", RoomAccess::kOpen}).isOk());
  ASSERT_TRUE(call(alice, protocol::InviteToRoomRequest{"#r", "bob"}).isOk());
  Client line = connect(false);
  ASSERT_TRUE(call(line, protocol::LoginRequest{"bob", "pw"}).isOk());
  sendOk(alice, "#r", "to the line client");
  auto pushed = line.session->waitFor<protocol::MessagePush>();
  ASSERT_TRUE(pushed.has_value());
  EXPECT_EQ(pushed->message.recipient, "#r");
  auto again = call(line, protocol::DeliverRequest{0, "bob", "pw"});
  EXPECT_TRUE(std::get<protocol::DeliverReply>(again.body).messages.empty());
  ASSERT_TRUE(alice.session->waitFor<protocol::DeliveredPush>().has_value());
}

}  // namespace
}  // namespace chat::service

namespace chat::service {
namespace {

using protocol::ErrorCode;

class ChatServiceConversationsTest : public ChatServiceTest {
 protected:
  protocol::ConversationsReply list(const Client& c) {
    auto r = call(c, protocol::ConversationsRequest{});
    EXPECT_TRUE(r.isOk()) << r.error;
    return r.isOk() ? std::get<protocol::ConversationsReply>(r.body) : protocol::ConversationsReply{};
  }
};

TEST_F(ChatServiceConversationsTest, TheListShowsNewestFirstWithUnreadCountsThatReadMarkersMove) {
  Client alice = loggedIn("alice");
  Client carol = loggedIn("carol");
  Client setup = connect();
  call(setup, protocol::CreateRequest{"bob", "pw"});
  ASSERT_TRUE(call(alice, protocol::CreateRoomRequest{"#team", protocol::RoomAccess::kOpen}).isOk());
  ASSERT_TRUE(call(alice, protocol::InviteToRoomRequest{"#team", "bob"}).isOk());
  call(alice, protocol::SendRequest{"bob", "first"});
  call(carol, protocol::SendRequest{"bob", "from carol"});
  call(alice, protocol::SendRequest{"#team", "room news"});
  auto last = call(alice, protocol::SendRequest{"bob", "line one\nline two"});
  uint64_t lastId = std::get<protocol::SendReply>(last.body).messageId;

  Client bob = connect();
  ASSERT_TRUE(call(bob, protocol::LoginRequest{"bob", "pw"}).isOk());
  auto mine = list(bob);
  ASSERT_EQ(mine.total, 3u);
  EXPECT_EQ(mine.conversations[0],
            (protocol::ConversationEntry{"alice", false, lastId, "alice",
                                         mine.conversations[0].lastAtMillis, "line one…", 2,
                                         false, 0}));
  EXPECT_EQ(mine.conversations[1].peer, "#team");
  EXPECT_TRUE(mine.conversations[1].isRoom);
  EXPECT_EQ(mine.conversations[1].firstLine, "room news");
  EXPECT_EQ(mine.conversations[1].unread, 1u);
  EXPECT_EQ(mine.conversations[2].peer, "carol");
  // Bob reads alice's conversation; another terminal (a new login) sees the same counts.
  ASSERT_TRUE(call(bob, protocol::MarkReadRequest{"alice", lastId}).isOk());
  ASSERT_TRUE(call(bob, protocol::LogoutRequest{}).isOk());
  Client again = connect();
  ASSERT_TRUE(call(again, protocol::LoginRequest{"bob", "pw"}).isOk());
  auto later = list(again);
  EXPECT_EQ(later.conversations[0].unread, 0u);
  EXPECT_EQ(later.conversations[0].readUpTo, lastId);
  EXPECT_EQ(later.conversations[1].unread, 1u);
  EXPECT_EQ(call(again, protocol::MarkReadRequest{"#nowhere", 1}).code, ErrorCode::kNoSuchRoom);
  EXPECT_EQ(call(again, protocol::MarkReadRequest{"ghost", 1}).code, ErrorCode::kNoSuchUser);
  Client stranger = connect();
  EXPECT_EQ(call(stranger, protocol::ConversationsRequest{}).code, ErrorCode::kNotLoggedIn);
}

}  // namespace
}  // namespace chat::service
