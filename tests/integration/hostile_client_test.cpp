// Hostile input against a running chat-node: random bytes, frames announcing huge lengths,
// half frames followed by silence, ten thousand connections opened and dropped, user names
// with control characters or broken UTF-8, and a password guesser. After each the node is
// up, a well-behaved client is still served, and what was stored is intact.
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <random>

#include <gtest/gtest.h>

#include "chat/client/connection.h"
#include "support/eventually.h"
#include "support/line_client.h"
#include "support/single_node_test.h"

namespace chat {
namespace {

using namespace std::chrono_literals;
using client::Connection;
using protocol::ErrorCode;

class HostileClientTest : public testing::SingleNodeTest {
 protected:
  void SetUp() override {
    SingleNodeTest::SetUp();
    alice_ = loggedIn("alice");
    bob_ = loggedIn("bob");
    call(*bob_, protocol::LogoutRequest{});
    for (int i = 0; i < 20; ++i) {
      ASSERT_TRUE(
          call(*alice_, protocol::SendRequest{"bob", "before " + std::to_string(i)}).isOk());
    }
  }
  // A raw socket to the node (for what the client library would never send).
  int rawSocket() {
    int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(static_cast<uint16_t>(node_->port()));
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
      ::close(fd);
      return -1;
    }
    return fd;
  }
  // The node is up, serves a good client, and bob's twenty waiting messages are intact.
  void expectUnharmed() {
    auto ping = call(*alice_, protocol::PingRequest{42});
    ASSERT_TRUE(ping.isOk()) << ping.error;
    ASSERT_TRUE(call(*alice_, protocol::SendRequest{"bob", "after"}).isOk());
    auto c = connect();
    ASSERT_NE(c, nullptr);
    auto login = call(*c, protocol::LoginRequest{"bob", "pw-bob"});
    ASSERT_TRUE(login.isOk()) << login.error;
    auto history = call(*c, protocol::HistoryRequest{"alice", 0, 100});
    ASSERT_TRUE(history.isOk()) << history.error;
    const auto& messages = std::get<protocol::HistoryReply>(history.body).messages;
    ASSERT_GE(messages.size(), 21u);
    for (size_t i = 0; i < messages.size(); ++i) {
      EXPECT_EQ(messages[i].body, i < 20 ? "before " + std::to_string(i) : "after");
    }
    call(*c, protocol::LogoutRequest{});
  }

  std::unique_ptr<Connection> alice_;
  std::unique_ptr<Connection> bob_;
};

TEST_F(HostileClientTest, RandomBytesHarmNothing) {
  std::mt19937 random(20261124);
  std::uniform_int_distribution<int> byte(0, 255);
  std::uniform_int_distribution<int> length(1, 4096);
  for (int i = 0; i < 300; ++i) {
    int fd = rawSocket();
    ASSERT_GE(fd, 0);
    std::string junk(static_cast<size_t>(length(random)), '\0');
    for (char& c : junk) {
      c = static_cast<char>(byte(random));
    }
    (void)!::send(fd, junk.data(), junk.size(), MSG_NOSIGNAL);
    ::close(fd);
  }
  expectUnharmed();
}

TEST_F(HostileClientTest, HugeLengthsAndHalfFramesThenSilenceHarmNothing) {
  std::vector<int> sockets;
  for (int i = 0; i < 200; ++i) {
    int fd = rawSocket();
    ASSERT_GE(fd, 0);
    // Half the clients announce 2 GB, the others a frame under the limit and then stop
    // halfway through it and say nothing more.
    std::string bytes = i % 2 == 0 ? std::string("\x7f\xff\xff\xff\x04\x00\x0b", 7)
                                   : std::string("\x00\x00\x10\x00\x04\x00\x03\x00\x00\x00", 10);
    (void)!::send(fd, bytes.data(), bytes.size(), MSG_NOSIGNAL);
    sockets.push_back(fd);
  }
  expectUnharmed();  // while they hang on
  auto status = call(*alice_, protocol::StatusRequest{});
  ASSERT_TRUE(status.isOk());
  EXPECT_LT(std::get<protocol::StatusReply>(status.body).status.residentBytes, 200u << 20)
      << "announced lengths are not allocated";
  for (int fd : sockets) {
    ::close(fd);
  }
  expectUnharmed();
}

TEST_F(HostileClientTest, TenThousandConnectionsOpenedAndDroppedHarmNothing) {
  for (int i = 0; i < 10000; ++i) {
    int fd = rawSocket();
    ASSERT_GE(fd, 0) << "connection " << i << " refused";
    if (i % 3 == 0) {
      (void)!::send(fd, "\x00\x00", 2, MSG_NOSIGNAL);
    }
    ::close(fd);
  }
  expectUnharmed();
  // They are all gone from the node's books.
  uint32_t connections = 0;
  testing::eventually(
      [&] {
        auto status = call(*alice_, protocol::StatusRequest{});
        connections = std::get<protocol::StatusReply>(status.body).status.connections;
        return connections <= 3;
      },
      10s, 50ms);
  EXPECT_LE(connections, 3u);
}

TEST_F(HostileClientTest, UserNamesWithControlCharactersOrBrokenUtf8AreRefused) {
  auto c = connect();
  for (std::string name :
       {std::string("bad\x01name"), std::string("tab\tname"), std::string("nl\nname"),
        std::string("\xff\xfe"), std::string("half\xe4\xbd"), std::string("esc\x1b[2J"),
        std::string(), std::string(200, 'a')}) {
    auto r = call(*c, protocol::CreateRequest{name, "pw"});
    // Broken UTF-8 is refused by the decoder already (malformed), the rest by the name rules.
    EXPECT_TRUE(r.code == ErrorCode::kInvalidUsername || r.code == ErrorCode::kMalformed)
        << "accepted a bad name: " << static_cast<int>(r.code);
    EXPECT_FALSE(r.error.empty());
  }
  auto list = call(*alice_, protocol::ListRequest{"", 0, 100});
  EXPECT_EQ(std::get<protocol::ListReply>(list.body).total, 2u) << "only alice and bob exist";
  // The same through line mode.
  testing::LineClient line(node_->port());
  EXPECT_EQ(line.request("1 0 bad\x01name pw").rfind("ERROR 8:", 0), 0u);
  std::string broken = line.request("1 0 \xff\xfe pw");
  EXPECT_EQ(broken, "ERROR 1: the line is not valid UTF-8\r\n");
  expectUnharmed();
}

TEST_F(HostileClientTest, APasswordGuesserIsLockedOutAndTheOwnerGetsInAfterwards) {
  auto guesser = connect();
  int wrong = 0;
  int locked = 0;
  for (int i = 0; i < 12; ++i) {
    auto r = call(*guesser, protocol::LoginRequest{"bob", "guess" + std::to_string(i)});
    wrong += r.code == ErrorCode::kWrongPassword ? 1 : 0;
    if (r.code == ErrorCode::kTooManyAttempts) {
      ++locked;
      EXPECT_NE(r.error.find("wait"), std::string::npos) << r.error;
    }
  }
  EXPECT_EQ(wrong, 6) << "five free failures, then one per lockout";
  EXPECT_EQ(locked, 6);
  // Once the lockout (1 s after the sixth failure) has passed, the right password works.
  std::this_thread::sleep_for(1100ms);
  EXPECT_TRUE(call(*guesser, protocol::LoginRequest{"bob", "pw-bob"}).isOk());
}

}  // namespace
}  // namespace chat
