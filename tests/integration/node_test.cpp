// chat-node end to end: a real process on 127.0.0.1, an ephemeral port and a temp folder,
// driven through the binary client library and through text lines.
#include <filesystem>
#include <fstream>
#include <iterator>

#include <gtest/gtest.h>

#include "chat/client/connection.h"
#include "support/line_client.h"
#include "support/run_command.h"
#include "support/single_node_test.h"
#include "support/temp_dir.h"

namespace chat {
namespace {

using namespace std::chrono_literals;
using client::Connection;
using protocol::ErrorCode;

class NodeTest : public testing::SingleNodeTest {
 protected:
  // The next message pushed to `c`, skipping presence and delivery notices.
  protocol::ChatMessage nextMessage(Connection& c) {
    for (int i = 0; i < 10; ++i) {
      auto push = c.waitPush(5000ms);
      EXPECT_TRUE(push.has_value() && push->has_value());
      if (!push.has_value() || !push->has_value()) {
        break;
      }
      if (auto* m = std::get_if<protocol::MessagePush>(&**push)) {
        return m->message;
      }
    }
    return {};
  }
};

TEST_F(NodeTest, TwoClientsChatBothWays) {
  auto alice = loggedIn("alice");
  auto bob = loggedIn("bob");
  for (int round = 0; round < 5; ++round) {
    auto sent = call(*alice, protocol::SendRequest{"bob", "ping " + std::to_string(round)});
    ASSERT_TRUE(sent.isOk()) << sent.error;
    EXPECT_TRUE(std::get<protocol::SendReply>(sent.body).recipientOnline);
    auto m = nextMessage(*bob);
    EXPECT_EQ(m.body, "ping " + std::to_string(round));
    call(*bob, protocol::AckRequest{{m.id}});
    auto reply = call(*bob, protocol::SendRequest{"alice", "pong " + std::to_string(round)});
    ASSERT_TRUE(reply.isOk());
    auto pong = nextMessage(*alice);
    EXPECT_EQ(pong.body, "pong " + std::to_string(round));
    EXPECT_EQ(pong.sender, "bob");
    call(*alice, protocol::AckRequest{{pong.id}});
  }
}

TEST_F(NodeTest, OfflineRecipientGetsQueuedMessagesAtLoginAndByDeliverWithACount) {
  auto alice = loggedIn("alice");
  {
    auto bob = connect();
    call(*bob, protocol::CreateRequest{"bob", "pw-bob"});
  }
  for (int i = 0; i < 4; ++i) {
    auto sent = call(*alice, protocol::SendRequest{"bob", "queued " + std::to_string(i)});
    EXPECT_FALSE(std::get<protocol::SendReply>(sent.body).recipientOnline);
  }
  auto bob = connect();
  auto login = call(*bob, protocol::LoginRequest{"bob", "pw-bob"});
  EXPECT_EQ(std::get<protocol::LoginReply>(login.body).waiting, 4u);
  auto first =
      std::get<protocol::DeliverReply>(call(*bob, protocol::DeliverRequest{3, "", ""}).body);
  ASSERT_EQ(first.messages.size(), 3u);
  EXPECT_EQ(first.remaining, 1u);
  EXPECT_EQ(first.messages[0].body, "queued 0");
  std::vector<uint64_t> ids;
  for (auto& m : first.messages) {
    ids.push_back(m.id);
  }
  call(*bob, protocol::AckRequest{ids});
  auto rest =
      std::get<protocol::DeliverReply>(call(*bob, protocol::DeliverRequest{0, "", ""}).body);
  ASSERT_EQ(rest.messages.size(), 1u);
  EXPECT_EQ(rest.messages[0].body, "queued 3");
}

TEST_F(NodeTest, AccountCasesAcrossConnections) {
  auto c = connect();
  EXPECT_TRUE(call(*c, protocol::CreateRequest{"alice", "pw"}).isOk());
  EXPECT_EQ(call(*c, protocol::CreateRequest{"alice", "other"}).code, ErrorCode::kUsernameTaken);
  EXPECT_EQ(call(*c, protocol::LoginRequest{"alice", "wrong"}).code, ErrorCode::kWrongPassword);
  EXPECT_TRUE(call(*c, protocol::LoginRequest{"alice", "pw"}).isOk());
  auto other = connect();
  EXPECT_EQ(call(*other, protocol::DeleteAccountRequest{"alice", "pw"}).code,
            ErrorCode::kAccountBusy);
  EXPECT_TRUE(call(*c, protocol::LogoutRequest{}).isOk());
  EXPECT_EQ(call(*other, protocol::DeleteAccountRequest{"alice", "nope"}).code,
            ErrorCode::kWrongPassword);
  EXPECT_TRUE(call(*other, protocol::DeleteAccountRequest{"alice", "pw"}).isOk());
  EXPECT_EQ(call(*other, protocol::LoginRequest{"alice", "pw"}).code, ErrorCode::kNoSuchUser);
}

TEST_F(NodeTest, ListWithPatterns) {
  auto c = connect();
  for (const char* n : {"alice", "albert", "bob", "bill", "carol"}) {
    call(*c, protocol::CreateRequest{n, "pw"});
  }
  // Only members see who exists.
  EXPECT_EQ(call(*c, protocol::ListRequest{"", 0, 50}).code, protocol::ErrorCode::kNotLoggedIn);
  ASSERT_TRUE(call(*c, protocol::LoginRequest{"carol", "pw"}).isOk());
  auto names = [&](const std::string& pattern) {
    auto list = std::get<protocol::ListReply>(call(*c, protocol::ListRequest{pattern, 0, 50}).body);
    std::string out;
    for (auto& u : list.users) {
      out += u.name + " ";
    }
    return out;
  };
  EXPECT_EQ(names(""), "albert alice bill bob carol ");
  EXPECT_EQ(names("al*"), "albert alice ");
  EXPECT_EQ(names("b??l"), "bill ");
  EXPECT_EQ(names("*o*"), "bob carol ");
  EXPECT_EQ(names("zz*"), "");
}

TEST_F(NodeTest, BinaryVersionMismatchGetsAVersionErrorAndClose) {
  auto c = connect();
  // A frame with version 9: length 11, version 9, opcode 11, request id 1.
  std::string frame("\x00\x00\x00\x0b\x09\x00\x0b\x00\x00\x00\x00\x00\x00\x00\x01", 15);
  ASSERT_TRUE(c->sendRaw(frame).isOk());
  auto reply = c->receive(5000ms);
  ASSERT_TRUE(reply.has_value());
  ASSERT_TRUE(reply->has_value());
  auto& response = std::get<protocol::Response>(**reply);
  EXPECT_EQ(response.code, ErrorCode::kUnsupportedVersion);
  EXPECT_NE(response.error.find("version"), std::string::npos);
  auto after = c->receive(5000ms);
  EXPECT_FALSE(after.has_value());  // closed
}

TEST_F(NodeTest, OversizedAndGarbageFramesAreRefusedWithoutHarm) {
  auto c = connect();
  std::string huge("\x00\x7f\xff\xff\x04", 5);
  ASSERT_TRUE(c->sendRaw(huge).isOk());
  auto reply = c->receive(5000ms);
  ASSERT_TRUE(reply.has_value() && reply->has_value());
  EXPECT_EQ(std::get<protocol::Response>(**reply).code, ErrorCode::kTooLarge);
  // An unknown opcode in a good frame is answered and the connection stays usable.
  auto d = connect();
  std::string unknown("\x00\x00\x00\x0b\x04\x00\x63\x00\x00\x00\x00\x00\x00\x00\x07", 15);
  ASSERT_TRUE(d->sendRaw(unknown).isOk());
  auto r = d->receive(5000ms);
  ASSERT_TRUE(r.has_value() && r->has_value());
  EXPECT_EQ(std::get<protocol::Response>(**r).code, ErrorCode::kUnknownOpcode);
  EXPECT_EQ(std::get<protocol::Response>(**r).requestId, 7u);
  EXPECT_TRUE(call(*d, protocol::PingRequest{3}).isOk());
}

TEST_F(NodeTest, LineModeSessionLikeNetcat) {
  testing::LineClient alice(node_->port());
  ASSERT_TRUE(alice.connected());
  EXPECT_EQ(alice.request("1 0 alice secret").rfind("OK account alice created", 0), 0u);
  EXPECT_EQ(alice.request("1 0 bob pw").rfind("OK", 0), 0u);
  EXPECT_EQ(alice.request("1 0 alice again"), "ERROR 4: username alice is taken; pick another\r\n");
  alice.write("1 2 alice secret\n");
  EXPECT_EQ(alice.readUntil("\r\n\r\n"), "OK logged in as alice; 0 messages waiting\r\n\r\n");
  EXPECT_EQ(alice.request("1 3 bob hello there"),
            "OK stored; bob is offline and gets it at next login\r\n");
  EXPECT_EQ(alice.request("1 3 nobody hi").rfind("ERROR 3: no such user nobody", 0), 0u);

  testing::LineClient bob(node_->port());
  bob.write("1 2 bob pw\n");
  EXPECT_EQ(bob.readUntil("\r\n\r\n"),
            "OK logged in as bob; 1 message waiting\r\nFrom alice: Message: hello there\r\n\r\n");
  // Bob is online now: alice's next message is pushed to him at once.
  EXPECT_EQ(alice.request("1 3 bob are you there?"), "OK delivered to bob\r\n");
  EXPECT_EQ(bob.readUntil("\r\n"), "From alice: Message: are you there?\r\n");
  // Nothing is handed over twice.
  bob.write("1 5 bob pw\n");
  EXPECT_EQ(bob.readUntil("\r\n\r\n"), "OK 0 messages, 0 still waiting\r\n\r\n");
  EXPECT_EQ(bob.request("1 1 a*"), "OK 1 user\r\n");  // bob is logged in: members only
  EXPECT_EQ(bob.readUntil("\r\n"), "alice (online)\r\n");
  EXPECT_EQ(bob.request("1 9 1").rfind("ERROR 17:", 0), 0u);
  EXPECT_EQ(bob.request("1 99").rfind("ERROR 11: unknown opcode 99", 0), 0u);
  EXPECT_EQ(bob.request("1 11"), "OK pong\r\n");
}

// nc and telnet write what comes as it is: a body's escape sequences (clear the line, forge
// another sender, OSC 52 to the clipboard), C1 and bidi controls reach the recipient as
// visible text, never as commands to its terminal.
TEST_F(NodeTest, LineModeShowsControlCharactersInBodiesAsVisibleEscapes) {
  testing::LineClient mallory(node_->port());
  ASSERT_EQ(mallory.request("1 0 mallory pw").rfind("OK", 0), 0u);
  ASSERT_EQ(mallory.request("1 0 victim pw").rfind("OK", 0), 0u);
  mallory.write("1 2 mallory pw\n");
  mallory.readUntil("\r\n\r\n");
  testing::LineClient victim(node_->port());
  victim.write("1 2 victim pw\n");
  victim.readUntil("\r\n\r\n");
  ASSERT_EQ(mallory.request("1 3 victim hi\x1b[2K\x1b[1GFrom admin: reset your password "
                            "\x1b]52;c;ZXZpbA==\x07 \xc2\x9b" "2J \xe2\x80\xae" "txet"),
            "OK delivered to victim\r\n");
  std::string got = victim.readUntil("\r\n");
  EXPECT_EQ(got,
            "From mallory: Message: hi\\x1b[2K\\x1b[1GFrom admin: reset your password "
            "\\x1b]52;c;ZXZpbA==\\x07 \\u009b2J \\u202etxet\r\n");
  for (char c : got.substr(0, got.size() - 2)) {
    auto u = static_cast<unsigned char>(c);
    EXPECT_TRUE(u >= 0x20 && u != 0x7f) << "raw control byte " << static_cast<int>(u);
  }
}

// chat.db, the log, the state file, the session key and the node's log hold messages and
// password hashes: nothing the node creates may be read by other users of the machine.
TEST_F(NodeTest, EverythingTheNodeWritesIsPrivateToItsUser) {
  auto alice = loggedIn("alice");
  auto bob = loggedIn("bob");
  ASSERT_TRUE(call(*alice, protocol::SendRequest{"bob", "private"}).isOk());
  size_t checked = 0;
  for (const auto& entry : std::filesystem::recursive_directory_iterator(dir_.file("node"))) {
    if (entry.path().filename() == "stdout.log") {
      continue;  // this test's own capture of the node's output
    }
    auto perms = entry.symlink_status().permissions();
    using std::filesystem::perms;
    EXPECT_EQ(perms & (perms::group_all | perms::others_all), perms::none)
        << entry.path() << " may be read by others";
    ++checked;
  }
  EXPECT_GE(checked, 6u);  // chat.db and its WAL, the log folder and segment, state, logs
}

// A symbolic link where the node's log goes would make it write wherever the link points.
TEST(NodeLogFileTest, ASymbolicLinkInPlaceOfTheLogIsRefused) {
  testing::TempDir dir;
  std::string data = dir.file("node");
  std::filesystem::create_directories(data);
  std::string target = dir.file("elsewhere");
  std::ofstream(target) << "untouched\n";
  std::filesystem::create_symlink(target, data + "/chat-node.log");
  auto r = testing::runCommand("timeout 10 " + std::string(CHAT_NODE_BINARY) +
                               " --port 0 --data-dir " + data);
  EXPECT_EQ(r.exitCode, 78) << r.output;
  EXPECT_NE(r.output.find("symbolic link"), std::string::npos) << r.output;
  std::ifstream in(target);
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  EXPECT_EQ(text, "untouched\n");
}

// A line client may paste many sends at once: they are pipelined like binary sends, and the
// replies come back in the order of the lines, an error among them in its place.
TEST_F(NodeTest, LineModeSendsPipelineAndTheirRepliesKeepTheLinesOrder) {
  testing::LineClient alice(node_->port());
  alice.request("1 0 alice pw");
  alice.request("1 0 bob pw");
  alice.write("1 2 alice pw\n");
  alice.readUntil("\r\n\r\n");
  std::string burst;
  for (int i = 0; i < 300; ++i) {
    burst += i == 150 ? "1 3 nobody lost\n" : "1 3 bob m" + std::to_string(i) + "\n";
  }
  burst += "1 11\n";  // a request that waits for every send before it
  alice.write(burst);
  std::string replies = alice.readUntil("OK pong\r\n", std::chrono::milliseconds(20000));
  std::vector<std::string> lines;
  for (size_t at = 0, eol; (eol = replies.find("\r\n", at)) != std::string::npos; at = eol + 2) {
    lines.push_back(replies.substr(at, eol - at));
  }
  ASSERT_EQ(lines.size(), 301u) << replies.substr(0, 500);
  for (int i = 0; i < 300; ++i) {
    if (i == 150) {
      EXPECT_EQ(lines[150].rfind("ERROR 3: no such user nobody", 0), 0u) << lines[150];
    } else {
      const std::string& line = lines[static_cast<size_t>(i)];
      EXPECT_EQ(line.rfind("OK stored", 0), 0u) << i << ": " << line;
    }
  }
  EXPECT_EQ(lines[300], "OK pong");
  // Stored in the order they were sent.
  testing::LineClient bob(node_->port());
  bob.write("1 2 bob pw\n");
  std::string delivered = bob.readUntil("\r\n\r\n", std::chrono::milliseconds(20000));
  size_t at = 0;
  for (int i = 0; i < 300; ++i) {
    if (i == 150) {
      continue;
    }
    size_t next = delivered.find("Message: m" + std::to_string(i) + "\r\n", at);
    ASSERT_NE(next, std::string::npos) << "m" << i << " missing or out of order";
    at = next;
  }
}

TEST_F(NodeTest, LineModeVersionMismatchIsRefusedAndClosed) {
  testing::LineClient c(node_->port());
  std::string reply = c.request("2 6");
  EXPECT_EQ(reply.rfind("ERROR 2: protocol version 2 is not supported", 0), 0u) << reply;
  EXPECT_TRUE(c.closedByServer());
}

TEST_F(NodeTest, LineModeOverlongLineIsRefusedAndTheSessionGoesOn) {
  testing::LineClient c(node_->port());
  c.write("1 3 bob " + std::string(20000, 'x') + "\n");
  EXPECT_EQ(c.readUntil("\r\n").rfind("ERROR 12: line longer than", 0), 0u);
  EXPECT_EQ(c.request("1 11"), "OK pong\r\n");
}

TEST_F(NodeTest, LineModeDeleteHandsOverWaitingMessagesFirst) {
  testing::LineClient c(node_->port());
  c.request("1 0 alice pw");
  c.request("1 0 bob pw");
  c.write("1 2 bob pw\n");
  c.readUntil("\r\n\r\n");
  c.request("1 3 alice last words");
  c.request("1 7");
  c.write("1 4 alice pw\n");
  EXPECT_EQ(c.readUntil("\r\n\r\n"),
            "OK account alice deleted\r\nFrom bob: Message: last words\r\n\r\n");
  c.write("1 4 alice pw\n");
  EXPECT_EQ(c.readUntil("\r\n\r\n").rfind("ERROR 3: no such user alice", 0), 0u);
}

TEST_F(NodeTest, StatusInBothModes) {
  auto c = connect();
  auto status = call(*c, protocol::StatusRequest{});
  auto s = std::get<protocol::StatusReply>(status.body).status;
  EXPECT_EQ(s.role, "standalone");
  EXPECT_GE(s.connections, 1u);
  testing::LineClient line(node_->port());
  EXPECT_EQ(line.request("1 10 json").rfind("OK {\"node\":1,\"role\":\"standalone\"", 0), 0u);
}

TEST_F(NodeTest, RestartKeepsAccountsAndMessages) {
  {
    auto alice = loggedIn("alice");
    call(*alice, protocol::CreateRequest{"bob", "pw-bob"});
    call(*alice, protocol::SendRequest{"bob", "survives a restart"});
  }
  node_->kill(SIGTERM);
  EXPECT_TRUE(WIFEXITED(node_->exitStatus()));
  EXPECT_EQ(WEXITSTATUS(node_->exitStatus()), 0);
  ASSERT_TRUE(node_->start());
  auto bob = connect();
  auto login = call(*bob, protocol::LoginRequest{"bob", "pw-bob"});
  EXPECT_EQ(std::get<protocol::LoginReply>(login.body).waiting, 1u);
}

}  // namespace
}  // namespace chat
