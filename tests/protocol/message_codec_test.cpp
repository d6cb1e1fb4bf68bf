#include "chat/protocol/message_codec.h"

#include <gtest/gtest.h>

#include "chat/protocol/byte_io.h"

namespace chat::protocol {
namespace {

Frame onlyFrame(const std::vector<uint8_t>& bytes) {
  FrameDecoder decoder(1 << 20);
  decoder.feed(bytes);
  auto frame = decoder.next();
  EXPECT_TRUE(frame.has_value());
  return frame.value_or(Frame{});
}

Request roundTrip(const Request& request) {
  std::vector<uint8_t> bytes;
  appendRequestFrame(77, request, bytes);
  Frame frame = onlyFrame(bytes);
  EXPECT_EQ(frame.requestId, 77u);
  auto decoded = decodeRequest(frame, Limits{});
  EXPECT_TRUE(std::holds_alternative<Request>(decoded));
  return std::get<Request>(decoded);
}

TEST(MessageCodecTest, EveryRequestRoundTrips) {
  auto create = std::get<CreateRequest>(roundTrip(CreateRequest{"alice", "s3cret"}));
  EXPECT_EQ(create.username, "alice");
  EXPECT_EQ(create.password, "s3cret");
  auto list = std::get<ListRequest>(roundTrip(ListRequest{"a*", 5, 20}));
  EXPECT_EQ(list.pattern, "a*");
  EXPECT_EQ(list.offset, 5u);
  EXPECT_EQ(list.limit, 20u);
  auto send = std::get<SendRequest>(roundTrip(SendRequest{"bob", "héllo\nwörld 你好"}));
  EXPECT_EQ(send.body, "héllo\nwörld 你好");
  auto deliver = std::get<DeliverRequest>(roundTrip(DeliverRequest{3, "", ""}));
  EXPECT_EQ(deliver.max, 3u);
  auto history = std::get<HistoryRequest>(roundTrip(HistoryRequest{"bob", 99, 10}));
  EXPECT_EQ(history.beforeId, 99u);
  auto ack = std::get<AckRequest>(roundTrip(AckRequest{{1, 2, 3}}));
  EXPECT_EQ(ack.ids, (std::vector<uint64_t>{1, 2, 3}));
  EXPECT_EQ(std::get<PingRequest>(roundTrip(PingRequest{5})).nonce, 5u);
  EXPECT_TRUE(std::holds_alternative<HelpRequest>(roundTrip(HelpRequest{})));
  EXPECT_TRUE(std::holds_alternative<LogoutRequest>(roundTrip(LogoutRequest{})));
  EXPECT_TRUE(std::holds_alternative<StatusRequest>(roundTrip(StatusRequest{})));
  auto del = std::get<DeleteAccountRequest>(roundTrip(DeleteAccountRequest{"a", "b"}));
  EXPECT_EQ(del.username, "a");
  auto login = std::get<LoginRequest>(roundTrip(LoginRequest{"a", "b"}));
  EXPECT_EQ(login.password, "b");
  EXPECT_EQ(std::get<ResumeRequest>(roundTrip(ResumeRequest{"tok-en_1"})).token, "tok-en_1");
  EXPECT_EQ(std::get<TypingRequest>(roundTrip(TypingRequest{"bob"})).peer, "bob");
  auto room = std::get<CreateRoomRequest>(
      roundTrip(CreateRoomRequest{"#team", RoomAccess::kInviteByMembers}));
  EXPECT_EQ(room.room, "#team");
  EXPECT_EQ(room.access, RoomAccess::kInviteByMembers);
  EXPECT_EQ(std::get<JoinRoomRequest>(roundTrip(JoinRoomRequest{"#a"})).room, "#a");
  EXPECT_EQ(std::get<LeaveRoomRequest>(roundTrip(LeaveRoomRequest{"#b"})).room, "#b");
  auto invite = std::get<InviteToRoomRequest>(roundTrip(InviteToRoomRequest{"#c", "dan"}));
  EXPECT_EQ(invite.user, "dan");
  auto rooms = std::get<ListRoomsRequest>(roundTrip(ListRoomsRequest{"#t*", 2, 9}));
  EXPECT_EQ(rooms.pattern, "#t*");
  EXPECT_EQ(rooms.limit, 9u);
  EXPECT_EQ(std::get<RoomMembersRequest>(roundTrip(RoomMembersRequest{"#d"})).room, "#d");
  EXPECT_EQ(std::get<ConversationsRequest>(roundTrip(ConversationsRequest{3, 4})).limit, 4u);
  auto read = std::get<MarkReadRequest>(roundTrip(MarkReadRequest{"#e", 77}));
  EXPECT_EQ(read.peer, "#e");
  EXPECT_EQ(read.upToId, 77u);
}

ServerMessage decodeServer(const std::vector<uint8_t>& bytes) {
  auto decoded = decodeServerFrame(onlyFrame(bytes), Limits{});
  EXPECT_TRUE(std::holds_alternative<ServerMessage>(decoded));
  return std::get<ServerMessage>(decoded);
}

TEST(MessageCodecTest, RepliesRoundTrip) {
  ChatMessage m{7, "alice", "bob", "hi", 1234, true};
  std::vector<uint8_t> bytes;
  appendResponseFrame(Response{9, Opcode::kDeliver, ErrorCode::kOk, "", DeliverReply{{m}, 4}},
                      bytes);
  auto response = std::get<Response>(decodeServer(bytes));
  EXPECT_EQ(response.requestId, 9u);
  auto body = std::get<DeliverReply>(response.body);
  ASSERT_EQ(body.messages.size(), 1u);
  EXPECT_EQ(body.messages[0], m);
  EXPECT_EQ(body.remaining, 4u);

  NodeStatus status;
  status.nodeId = 2;
  status.role = "leader";
  status.peers.push_back(PeerStatus{3, "127.0.0.1:7003", "follower", 10, true});
  bytes.clear();
  appendResponseFrame(Response{1, Opcode::kStatus, ErrorCode::kOk, "", StatusReply{status}}, bytes);
  EXPECT_EQ(std::get<StatusReply>(std::get<Response>(decodeServer(bytes)).body).status, status);

  for (Opcode op : {Opcode::kLogin, Opcode::kResume}) {
    bytes.clear();
    appendResponseFrame(Response{1, op, ErrorCode::kOk, "", LoginReply{3, "token"}}, bytes);
    auto login = std::get<LoginReply>(std::get<Response>(decodeServer(bytes)).body);
    EXPECT_EQ(login.waiting, 3u);
    EXPECT_EQ(login.sessionToken, "token");
  }

  bytes.clear();
  appendResponseFrame(
      Response{1, Opcode::kList, ErrorCode::kOk, "", ListReply{2, {{"a", true, 5}}}}, bytes);
  auto list = std::get<ListReply>(std::get<Response>(decodeServer(bytes)).body);
  EXPECT_EQ(list.total, 2u);
  EXPECT_EQ(list.users[0], (UserEntry{"a", true, 5}));
}

TEST(MessageCodecTest, RoomRepliesRoundTrip) {
  std::vector<uint8_t> bytes;
  RoomEntry team{"#team", RoomAccess::kInviteByOwner, 3, true, "alice"};
  appendResponseFrame(
      Response{1, Opcode::kListRooms, ErrorCode::kOk, "", RoomListReply{7, {team}}}, bytes);
  auto list = std::get<RoomListReply>(std::get<Response>(decodeServer(bytes)).body);
  EXPECT_EQ(list.total, 7u);
  ASSERT_EQ(list.rooms.size(), 1u);
  EXPECT_EQ(list.rooms[0], team);
  bytes.clear();
  appendResponseFrame(Response{2, Opcode::kRoomMembers, ErrorCode::kOk, "",
                               RoomMembersReply{team, {{"alice", true, 0}, {"bob", false, 9}}}},
                      bytes);
  auto members = std::get<RoomMembersReply>(std::get<Response>(decodeServer(bytes)).body);
  EXPECT_EQ(members.room, team);
  ASSERT_EQ(members.members.size(), 2u);
  EXPECT_EQ(members.members[1], (UserEntry{"bob", false, 9}));
  bytes.clear();
  appendResponseFrame(
      Response{3, Opcode::kSend, ErrorCode::kOk, "", SendReply{11, true, 5, 4, 2}}, bytes);
  auto sent = std::get<SendReply>(std::get<Response>(decodeServer(bytes)).body);
  EXPECT_EQ(sent.recipients, 4u);
  EXPECT_EQ(sent.recipientsOnline, 2u);
  bytes.clear();
  ConversationEntry c{"#team", true, 9, "bob", 100, "hi…", 3, true, 5};
  appendResponseFrame(Response{4, Opcode::kConversations, ErrorCode::kOk, "",
                               ConversationsReply{2, {c}}},
                      bytes);
  auto conversations = std::get<ConversationsReply>(std::get<Response>(decodeServer(bytes)).body);
  EXPECT_EQ(conversations.total, 2u);
  ASSERT_EQ(conversations.conversations.size(), 1u);
  EXPECT_EQ(conversations.conversations[0], c);
  // A room entry with an access byte nobody defined is malformed, not a crash.
  bytes.clear();
  appendResponseFrame(
      Response{1, Opcode::kListRooms, ErrorCode::kOk, "", RoomListReply{1, {team}}}, bytes);
  Frame frame = onlyFrame(bytes);
  frame.payload[2 + 4 + 4 + 4 + 4 + 5] = 9;  // code, error, total, count, name length, "#team"
  EXPECT_TRUE(std::holds_alternative<DecodeFailure>(decodeServerFrame(frame, Limits{})));
}

TEST(MessageCodecTest, ErrorRepliesCarryCodeAndSentence) {
  std::vector<uint8_t> bytes;
  appendResponseFrame(Response::failure(4, Opcode::kSend, ErrorCode::kNoSuchUser, "no such user"),
                      bytes);
  auto response = std::get<Response>(decodeServer(bytes));
  EXPECT_EQ(response.code, ErrorCode::kNoSuchUser);
  EXPECT_EQ(response.error, "no such user");
  EXPECT_FALSE(response.isOk());
}

TEST(MessageCodecTest, NotLeaderErrorsCarryTheLeader) {
  std::vector<uint8_t> bytes;
  Response r = Response::failure(4, Opcode::kSend, ErrorCode::kNotLeader, "go to node 2");
  r.body = NotLeaderReply{2, "10.0.0.2:7002"};
  appendResponseFrame(r, bytes);
  auto back = std::get<Response>(decodeServer(bytes));
  EXPECT_EQ(back.code, ErrorCode::kNotLeader);
  const auto& hint = std::get<NotLeaderReply>(back.body);
  EXPECT_EQ(hint.nodeId, 2u);
  EXPECT_EQ(hint.address, "10.0.0.2:7002");
  // Without a hint the server still sends the (empty) body, so clients can rely on it.
  bytes.clear();
  appendResponseFrame(Response::failure(5, Opcode::kSend, ErrorCode::kNotLeader, "election"),
                      bytes);
  EXPECT_EQ(std::get<NotLeaderReply>(std::get<Response>(decodeServer(bytes)).body).nodeId, 0u);
}

TEST(MessageCodecTest, PushesRoundTripWithRequestIdZero) {
  std::vector<uint8_t> bytes;
  appendPushFrame(MessagePush{ChatMessage{1, "a", "b", "x", 2, false}}, bytes);
  appendPushFrame(PresencePush{"a", true, 3}, bytes);
  appendPushFrame(DeliveredPush{1, "b", 4}, bytes);
  appendPushFrame(SessionEndedPush{"bye"}, bytes);
  appendPushFrame(TypingPush{"carol", "#team"}, bytes);
  appendPushFrame(RoomPush{"#team", "dan", RoomEvent::kInvited, "carol", 6}, bytes);
  FrameDecoder decoder(1 << 20);
  decoder.feed(bytes);
  std::vector<Push> pushes;
  while (auto frame = decoder.next()) {
    EXPECT_EQ(frame->requestId, 0u);
    auto decoded = decodeServerFrame(*frame, Limits{});
    pushes.push_back(std::get<Push>(std::get<ServerMessage>(decoded)));
  }
  ASSERT_EQ(pushes.size(), 6u);
  EXPECT_EQ(std::get<MessagePush>(pushes[0]).message.body, "x");
  EXPECT_TRUE(std::get<PresencePush>(pushes[1]).online);
  EXPECT_EQ(std::get<DeliveredPush>(pushes[2]).recipient, "b");
  EXPECT_EQ(std::get<SessionEndedPush>(pushes[3]).reason, "bye");
  EXPECT_EQ(std::get<TypingPush>(pushes[4]).user, "carol");
  EXPECT_EQ(std::get<TypingPush>(pushes[4]).room, "#team");
  EXPECT_EQ(std::get<RoomPush>(pushes[5]),
            (RoomPush{"#team", "dan", RoomEvent::kInvited, "carol", 6}));
}

DecodeFailure failureOf(uint16_t opcode, const std::vector<uint8_t>& payload) {
  Frame frame;
  frame.opcode = opcode;
  frame.requestId = 1;
  frame.payload = payload;
  auto decoded = decodeRequest(frame, Limits{});
  EXPECT_TRUE(std::holds_alternative<DecodeFailure>(decoded));
  return std::holds_alternative<DecodeFailure>(decoded) ? std::get<DecodeFailure>(decoded)
                                                        : DecodeFailure{};
}

TEST(MessageCodecTest, RejectsUnknownOpcode) {
  auto f = failureOf(999, {});
  EXPECT_EQ(f.code, ErrorCode::kUnknownOpcode);
  EXPECT_NE(f.message.find("999"), std::string::npos);
}

TEST(MessageCodecTest, RejectsPushOpcodeSentAsRequest) {
  EXPECT_EQ(failureOf(128, {}).code, ErrorCode::kUnknownOpcode);
}

TEST(MessageCodecTest, RejectsTruncatedPayload) {
  ByteWriter w;
  w.str("alice");  // password missing
  auto f = failureOf(0, w.take());
  EXPECT_EQ(f.code, ErrorCode::kMalformed);
  EXPECT_NE(f.message.find("create"), std::string::npos);
}

TEST(MessageCodecTest, RejectsStringLengthBeyondPayload) {
  ByteWriter w;
  w.u32(1000);  // claims 1000 bytes, has 3
  w.u8('a');
  w.u8('b');
  w.u8('c');
  EXPECT_EQ(failureOf(3, w.take()).code, ErrorCode::kMalformed);
}

TEST(MessageCodecTest, RejectsInvalidUtf8) {
  ByteWriter w;
  w.str("bob");
  w.str(std::string("\xC3\x28", 2));  // invalid continuation
  auto f = failureOf(3, w.take());
  EXPECT_EQ(f.code, ErrorCode::kMalformed);
  EXPECT_NE(f.message.find("UTF-8"), std::string::npos);
}

TEST(MessageCodecTest, RejectsTrailingBytes) {
  ByteWriter w;
  w.u64(1);
  w.u8(0);
  EXPECT_EQ(failureOf(11, w.take()).code, ErrorCode::kMalformed);
}

TEST(MessageCodecTest, RejectsAckCountThatCannotFit) {
  ByteWriter w;
  w.u32(0xFFFFFFFF);
  EXPECT_EQ(failureOf(9, w.take()).code, ErrorCode::kMalformed);
}

TEST(Utf8Test, AcceptsAndRejects) {
  EXPECT_TRUE(isValidUtf8("plain"));
  EXPECT_TRUE(isValidUtf8("日本語 👍🏽"));
  EXPECT_FALSE(isValidUtf8("\xC0\xAF"));          // overlong
  EXPECT_FALSE(isValidUtf8("\xED\xA0\x80"));      // surrogate
  EXPECT_FALSE(isValidUtf8("\xF4\x90\x80\x80"));  // above U+10FFFF
  EXPECT_FALSE(isValidUtf8("\xE6\x97"));          // truncated
}

// ASCII is checked eight bytes at a time: a bad byte or a character at any offset, across
// any word boundary, is judged as the byte-by-byte rules say.
TEST(Utf8Test, EveryOffsetOfALongTextIsChecked) {
  for (size_t at = 0; at < 40; ++at) {
    std::string text(40, 'a');
    text[at] = '\xFF';
    EXPECT_FALSE(isValidUtf8(text)) << at;
    std::string wide(40, 'a');
    wide.insert(at, "\xF0\x9F\x91\x8D");  // a four-byte character
    EXPECT_TRUE(isValidUtf8(wide)) << at;
    EXPECT_FALSE(isValidUtf8(wide.substr(0, at + 3))) << at;  // cut inside it
  }
}

}  // namespace
}  // namespace chat::protocol
