// A client of the original protocol: each request is one TCP write with no line terminator,
// and the client waits for the reply before it writes the next. The node serves such a write
// as one request once its bytes stop arriving, without breaking nc users (whose lines end in
// newlines) or pipelined line clients.
#include <poll.h>
#include <sys/socket.h>

#include <gtest/gtest.h>

#include "support/line_client.h"
#include "support/node_process.h"
#include "support/temp_dir.h"

namespace chat {
namespace {

using namespace std::chrono_literals;

// Speaks exactly like the original client: one write per request, no newline, then reads
// the reply (a line; login, delete and deliver replies end with an empty line).
class OriginalClient {
 public:
  explicit OriginalClient(int port) : line_(port) {}
  std::string request(const std::string& text, bool endsWithBlankLine = false) {
    line_.write(text);
    return line_.readUntil(endsWithBlankLine ? "\r\n\r\n" : "\r\n", 5000ms);
  }
  std::string readPush() { return line_.readUntil("\r\n", 5000ms); }

 private:
  testing::LineClient line_;
};

TEST(OriginalClientTest, RequestsWithoutNewlinesAreServedOnePerWrite) {
  testing::TempDir dir;
  testing::NodeProcess node(dir.file("node"));
  ASSERT_TRUE(node.start());
  OriginalClient alice(node.port());
  OriginalClient bob(node.port());
  EXPECT_EQ(alice.request("1 0 alice secret").substr(0, 2), "OK");
  EXPECT_EQ(bob.request("1 0 bob secret").substr(0, 2), "OK");
  std::string login = bob.request("1 2 bob secret", true);
  EXPECT_NE(login.find("OK logged in as bob"), std::string::npos) << login;
  login = alice.request("1 2 alice secret", true);
  EXPECT_NE(login.find("OK logged in as alice"), std::string::npos) << login;
  // Sent to an online user: pushed to bob at once.
  std::string sent = alice.request("1 3 bob hello from the original client");
  EXPECT_NE(sent.find("OK delivered to bob"), std::string::npos) << sent;
  EXPECT_NE(bob.readPush().find("From alice: Message: hello from the original client"),
            std::string::npos);
  // Deliver (nothing waits now) and delete, each one write.
  std::string delivered = bob.request("1 5 bob secret", true);
  EXPECT_EQ(delivered.substr(0, 2), "OK") << delivered;
  std::string deleted = alice.request("1 4 alice secret", true);
  EXPECT_EQ(deleted.substr(0, 2), "OK") << deleted;
  EXPECT_NE(bob.request("1 3 alice anyone there?").find("ERROR 3"), std::string::npos);
}

// A connection that has sent a newline is a line client for good: its unterminated bytes wait
// for their newline however long that takes (a human at telnet). (Pieces of one write that
// arrive within the 30 ms gap make one request too; not tested here, since a loaded machine
// can hold a test's thread longer than that between two writes.)
TEST(OriginalClientTest, NewlineClientsAreUnchangedAndALastLineBeforeAHalfCloseIsServed) {
  testing::TempDir dir;
  testing::NodeProcess node(dir.file("node"));
  ASSERT_TRUE(node.start());
  testing::LineClient human(node.port());
  human.write("1 11\n");
  EXPECT_EQ(human.readUntil("\r\n").substr(0, 2), "OK");
  human.write("1 0 dave sec");  // still typing
  EXPECT_EQ(human.readUntil("\r\n", 300ms), "") << "served before the line ended";
  human.write("ret\n");
  EXPECT_EQ(human.readUntil("\r\n").substr(0, 2), "OK");
  // A last line without a newline before the half-close (printf ... | nc) is still served.
  testing::LineClient piped(node.port());
  piped.write("1 11\n1 11");
  piped.shutdownWrite();
  std::string both = piped.readUntil("\x01never", 2000ms);
  EXPECT_EQ(both.find("OK"), 0u) << both;
  EXPECT_NE(both.find("OK", 2), std::string::npos) << "the unterminated last line: " << both;
}

}  // namespace
}  // namespace chat
