#include "chat/protocol/line_mode.h"

#include <gtest/gtest.h>

#include "support/json_object.h"

namespace chat::protocol {
namespace {

LineRequest parseOk(std::string_view line) {
  auto parsed = parseLine(line);
  EXPECT_TRUE(parsed.has_value());
  EXPECT_TRUE(parsed && std::holds_alternative<LineRequest>(*parsed)) << line;
  if (!parsed || !std::holds_alternative<LineRequest>(*parsed)) {
    return {};
  }
  return std::get<LineRequest>(*parsed);
}

LineError parseError(std::string_view line) {
  auto parsed = parseLine(line);
  EXPECT_TRUE(parsed && std::holds_alternative<LineError>(*parsed)) << line;
  if (!parsed || !std::holds_alternative<LineError>(*parsed)) {
    return {};
  }
  return std::get<LineError>(*parsed);
}

TEST(LineModeTest, ParsesTheOriginalOpcodes) {
  auto create = std::get<CreateRequest>(parseOk("1 0 alice secret").request);
  EXPECT_EQ(create.username, "alice");
  EXPECT_EQ(create.password, "secret");
  EXPECT_EQ(std::get<ListRequest>(parseOk("1 1").request).pattern, "");
  EXPECT_EQ(std::get<ListRequest>(parseOk("1 1 a*").request).pattern, "a*");
  EXPECT_EQ(std::get<LoginRequest>(parseOk("1 2 alice secret\r").request).password, "secret");
  auto send = std::get<SendRequest>(parseOk("1 3 bob hello  there").request);
  EXPECT_EQ(send.recipient, "bob");
  EXPECT_EQ(send.body, "hello  there");
  EXPECT_EQ(std::get<DeleteAccountRequest>(parseOk("1 4 a b").request).username, "a");
  auto deliver = std::get<DeliverRequest>(parseOk("1 5 alice secret 3").request);
  EXPECT_EQ(deliver.max, 3u);
  EXPECT_EQ(deliver.username, "alice");
  EXPECT_TRUE(std::holds_alternative<HelpRequest>(parseOk("1 6").request));
  EXPECT_TRUE(std::holds_alternative<LogoutRequest>(parseOk("1 7").request));
  EXPECT_EQ(std::get<HistoryRequest>(parseOk("1 8 bob 5").request).limit, 5u);
  EXPECT_TRUE(parseOk("1 10 json").wantsJson);
  EXPECT_TRUE(std::holds_alternative<PingRequest>(parseOk("1 11").request));
}

TEST(LineModeTest, ParsesTheRoomOpcodes) {
  auto create = std::get<CreateRoomRequest>(parseOk("1 14 #team invite").request);
  EXPECT_EQ(create.room, "#team");
  EXPECT_EQ(create.access, RoomAccess::kInviteByMembers);
  EXPECT_EQ(std::get<CreateRoomRequest>(parseOk("1 14 #open").request).access, RoomAccess::kOpen);
  EXPECT_EQ(std::get<CreateRoomRequest>(parseOk("1 14 #o owner-invites").request).access,
            RoomAccess::kInviteByOwner);
  EXPECT_EQ(std::get<JoinRoomRequest>(parseOk("1 15 #team").request).room, "#team");
  EXPECT_EQ(std::get<LeaveRoomRequest>(parseOk("1 16 #team").request).room, "#team");
  auto invite = std::get<InviteToRoomRequest>(parseOk("1 17 #team bob").request);
  EXPECT_EQ(invite.room, "#team");
  EXPECT_EQ(invite.user, "bob");
  EXPECT_EQ(std::get<ListRoomsRequest>(parseOk("1 18 t*").request).pattern, "t*");
  EXPECT_EQ(std::get<RoomMembersRequest>(parseOk("1 19 #team").request).room, "#team");
  EXPECT_TRUE(std::holds_alternative<ConversationsRequest>(parseOk("1 20").request));
  EXPECT_EQ(std::get<MarkReadRequest>(parseOk("1 21 #team 12").request).upToId, 12u);
  EXPECT_NE(parseError("1 21 #team twelve").message.find("usage: 1 21"), std::string::npos);
  EXPECT_EQ(std::get<SendRequest>(parseOk("1 3 #team hi all").request).recipient, "#team");
  EXPECT_NE(parseError("1 14 #team secret").message.find("open: anyone may join"),
            std::string::npos);
  EXPECT_NE(parseError("1 15").message.find("usage: 1 15 <#room>"), std::string::npos);
  EXPECT_NE(parseError("1 17 #team").message.find("usage: 1 17 <#room> <user>"),
            std::string::npos);
}

TEST(LineModeTest, RoomRepliesReadAsSentences) {
  RoomEntry team{"#team", RoomAccess::kInviteByMembers, 3, true, "alice"};
  EXPECT_EQ(formatLineReply(LineRequest{ListRoomsRequest{}},
                            Response{1, Opcode::kListRooms, ErrorCode::kOk, "",
                                     RoomListReply{1, {team}}}),
            "OK 1 room\r\n#team invite, 3 members, owner alice (joined)\r\n");
  EXPECT_EQ(formatLineReply(LineRequest{RoomMembersRequest{"#team"}},
                            Response{1, Opcode::kRoomMembers, ErrorCode::kOk, "",
                                     RoomMembersReply{team, {{"alice", true, 0}}}}),
            "OK #team invite, 3 members, owner alice (joined)\r\nalice (online)\r\n");
  EXPECT_EQ(formatLineReply(LineRequest{SendRequest{"#team", "hi"}},
                            Response{1, Opcode::kSend, ErrorCode::kOk, "",
                                     SendReply{5, true, 0, 2, 1}}),
            "OK sent to #team: 2 other members, 1 online\r\n");
  EXPECT_EQ(formatLineReply(LineRequest{SendRequest{"#solo", "hi"}},
                            Response{1, Opcode::kSend, ErrorCode::kOk, "",
                                     SendReply{6, false, 0, 0, 0}}),
            "OK sent to #solo; nobody else is in it yet (invite with '1 17 #solo <user>')\r\n");
  EXPECT_EQ(formatLineMessage(ChatMessage{5, "bob", "#team", "hi", 0, false}),
            "From bob in #team: Message: hi\r\n");
  std::string history = formatLineReply(
      LineRequest{HistoryRequest{"#team", 0, 5}},
      Response{1, Opcode::kHistory, ErrorCode::kOk, "",
               HistoryReply{{ChatMessage{5, "bob", "#team", "a\nb", 0, false}}, false}});
  EXPECT_EQ(history, "OK 1 message\r\n#5 bob -> #team: a b\r\n");
  EXPECT_EQ(formatLineReply(LineRequest{ConversationsRequest{}},
                            Response{1, Opcode::kConversations, ErrorCode::kOk, "",
                                     ConversationsReply{2,
                                                        {{"#team", true, 9, "bob", 0, "hi", 100,
                                                          true, 0},
                                                         {"alice", false, 4, "me", 0, "x", 0,
                                                          false, 4}}}}),
            "OK 2 conversations\r\n#team: 100+ unread; last #9 bob: hi\r\nalice: read; last "
            "#4 me: x\r\n");
}

TEST(LineModeTest, BlankLinesAreIgnored) {
  EXPECT_FALSE(parseLine("").has_value());
  EXPECT_FALSE(parseLine("   \r").has_value());
}

TEST(LineModeTest, OtherVersionsAreRefusedAndClose) {
  auto e = parseError("2 0 alice secret");
  EXPECT_EQ(e.code, ErrorCode::kUnsupportedVersion);
  EXPECT_TRUE(e.closeConnection);
  EXPECT_NE(e.message.find("version 4"), std::string::npos);
}

TEST(LineModeTest, BadArgumentsGiveUsage) {
  EXPECT_NE(parseError("1 0 alice").message.find("usage: 1 0"), std::string::npos);
  EXPECT_NE(parseError("1 2 a b c").message.find("usage"), std::string::npos);
  EXPECT_NE(parseError("1 3 bob").message.find("usage"), std::string::npos);
  EXPECT_NE(parseError("1 5 a b notanumber").message.find("number"), std::string::npos);
  EXPECT_EQ(parseError("1 x").code, ErrorCode::kMalformed);
  EXPECT_EQ(parseError("1 42").code, ErrorCode::kUnknownOpcode);
  EXPECT_EQ(parseError("1 9 5").code, ErrorCode::kNotSupported);
  EXPECT_FALSE(parseError("1 42").closeConnection);
  EXPECT_EQ(parseError("1 3 bob \xFF").code, ErrorCode::kMalformed);
}

// Each opcode that takes arguments answers a wrong line with its own usage line; those for
// binary clients say so.
TEST(LineModeTest, EveryOpcodeRefusesWrongArgumentsWithItsOwnUsage) {
  struct Case {
    const char* line;
    const char* says;
  };
  for (const auto& [line, says] : std::vector<Case>{
           {"1 0 alice", "usage: 1 0 <username> <password>"},
           {"1 1 a b", "usage: 1 1 [pattern]"},
           {"1 2 alice", "usage: 1 2 <username> <password>"},
           {"1 3 bob", "usage: 1 3 <recipient> <text...>"},
           {"1 4 alice", "usage: 1 4 <username> <password>"},
           {"1 5 alice", "usage: 1 5 <username> <password> [max messages]"},
           {"1 5 alice pw 3 4", "usage: 1 5"},
           {"1 5 alice pw many", "max is a number"},
           {"1 8", "usage: 1 8 <user|#room> [count]"},
           {"1 8 bob many", "usage: 1 8 <user|#room> [count]; count is a number"},
           {"1 8 bob 3 4", "usage: 1 8"},
           {"1 9 5", "ack is for binary clients"},
           {"1 10 xml", "usage: 1 10 [text|json]"},
           {"1 12 token", "resume is for binary clients"},
           {"1 13 bob", "typing notices are for binary clients"},
           {"1 14", "usage: 1 14 <#room> [open|invite|owner-invites]"},
           {"1 14 #a open extra", "usage: 1 14"},
           {"1 15 #a #b", "usage: 1 15 <#room>"},
           {"1 16", "usage: 1 16 <#room>"},
           {"1 17 #a bob carol", "usage: 1 17 <#room> <user>"},
           {"1 18 a b", "usage: 1 18 [pattern]"},
           {"1 19", "usage: 1 19 <#room>"},
           {"1 20 all", "usage: 1 20"},
           {"1 21 bob", "usage: 1 21 <user|#room> <message id>"},
       }) {
    EXPECT_NE(parseError(line).message.find(says), std::string::npos)
        << line << " -> " << parseError(line).message;
  }
  // Trailing spaces are not arguments.
  EXPECT_EQ(std::get<JoinRoomRequest>(parseOk("1 15 #team   ").request).room, "#team");
  EXPECT_EQ(std::get<ListRequest>(parseOk("1 1  ").request).pattern, "");
  EXPECT_EQ(std::get<ListRequest>(parseOk("1 1").request).limit, 500u);
  EXPECT_FALSE(parseOk("1 10").wantsJson);
}

TEST(LineModeTest, RepliesStartWithOkOrError) {
  LineRequest send{SendRequest{"bob", "hi"}};
  EXPECT_EQ(
      formatLineReply(send, Response{1, Opcode::kSend, ErrorCode::kOk, "", SendReply{5, false, 0}}),
      "OK stored; bob is offline and gets it at next login\r\n");
  EXPECT_EQ(formatLineReply(send, Response::failure(1, Opcode::kSend, ErrorCode::kNoSuchUser,
                                                    "no such user bob")),
            "ERROR 3: no such user bob\r\n");
}

TEST(LineModeTest, LoginDeleteAndDeliverRepliesEndWithABlankLine) {
  ChatMessage m{1, "alice", "bob", "hello there", 0, false};
  LineRequest login{LoginRequest{"bob", "pw"}};
  std::string reply =
      formatLineReply(login, Response{1, Opcode::kLogin, ErrorCode::kOk, "", DeliverReply{{m}, 0}});
  EXPECT_EQ(reply,
            "OK logged in as bob; 1 message waiting\r\nFrom alice: Message: hello there\r\n\r\n");
  LineRequest deliver{DeliverRequest{0, "bob", "pw"}};
  reply = formatLineReply(deliver,
                          Response{1, Opcode::kDeliver, ErrorCode::kOk, "", DeliverReply{{m}, 2}});
  EXPECT_EQ(reply.substr(reply.size() - 4), "\r\n\r\n");
  EXPECT_NE(reply.find("From alice: Message: hello there\r\n"), std::string::npos);
  reply = formatLineReply(
      LineRequest{DeleteAccountRequest{"bob", "x"}},
      Response::failure(1, Opcode::kDeleteAccount, ErrorCode::kWrongPassword, "wrong password"));
  EXPECT_EQ(reply, "ERROR 5: wrong password\r\n\r\n");
}

TEST(LineModeTest, MessagesWithNewlinesStayOnOneLine) {
  EXPECT_EQ(formatLineMessage(ChatMessage{1, "a", "b", "x\ny\rz", 0, false}),
            "From a: Message: x y z\r\n");
}

// The JSON status parses back to the same values, whatever the strings hold.
TEST(LineModeTest, StatusJsonParsesBackToTheSameValues) {
  NodeStatus s;
  s.nodeId = 3;
  s.role = "lea\"der\\\n\x01";
  s.epoch = 7;
  s.commitIndex = 1ULL << 40;
  s.leaderAddress = "127.0.0.1:7003";
  s.lastElection = "épreuve: 1.1 s ago";
  s.peers.push_back({1, "127.0.0.1:7001", "follower", 41, true});
  s.peers.push_back({2, "127.0.0.1:7002", "unknown", 0, false});
  std::string text = formatStatusJson(s);
  auto o = testing::parseJsonObject(text);
  EXPECT_EQ(o->getValue<int>("node"), 3);
  EXPECT_EQ(o->getValue<std::string>("role"), s.role);
  EXPECT_EQ(o->getValue<uint64_t>("epoch"), 7u);
  EXPECT_EQ(o->getValue<uint64_t>("commitIndex"), 1ULL << 40);
  EXPECT_EQ(o->getValue<std::string>("leader"), "127.0.0.1:7003");
  EXPECT_EQ(o->getValue<std::string>("lastElection"), s.lastElection);
  auto peers = o->getArray("peers");
  ASSERT_TRUE(peers);
  ASSERT_EQ(peers->size(), 2u);
  EXPECT_EQ(peers->getObject(0)->getValue<std::string>("address"), "127.0.0.1:7001");
  EXPECT_EQ(peers->getObject(0)->getValue<uint64_t>("matchIndex"), 41u);
  EXPECT_FALSE(peers->getObject(1)->getValue<bool>("reachable"));
  EXPECT_EQ(text.find('\n'), std::string::npos) << "one line: " << text;
}

}  // namespace
}  // namespace chat::protocol
