// chat-tui end to end: the real program in tmux against a real three-node cluster, driven by
// keys, checked on the screen's text. Two people chat both ways; a user who was offline gets
// the waiting messages at login under the "delivered while you were away" rule; the leader is
// SIGKILLed mid-conversation and the next message still arrives while the strip names the
// new leader; the screen is redrawn at other sizes.
#include <signal.h>

#include <chrono>
#include <functional>
#include <string>

#include <gtest/gtest.h>

#include "support/eventually.h"
#include "support/process_cluster.h"
#include "support/tmux_session.h"

namespace chat {
namespace {

using namespace std::chrono_literals;

class TuiProcessTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(cluster_.startAll());
    leader_ = cluster_.waitForLeader();
    ASSERT_NE(leader_, 0u);
  }

  void createAccount(const std::string& name, const std::string& password) {
    auto c = client::Connection::connect(cluster_.address(leader_), 2s);
    ASSERT_TRUE(c.has_value());
    auto r = (*c)->call(protocol::CreateRequest{name, password}, 10s);
    ASSERT_TRUE(r.has_value() && r->isOk()) << (r.has_value() ? r->error : r.error().message());
  }

  std::string servers() const {
    std::string out;
    for (const auto& a : cluster_.addresses()) {
      out += (out.empty() ? "" : ",") + a;
    }
    return out;
  }

  std::unique_ptr<testing::TmuxSession> client(const std::string& user, int width = 80,
                                               int height = 24) {
    std::string command = std::string(CHAT_TUI_BINARY) + " --no-bell --servers " + servers() +
                          (user.empty() ? "" : " --user " + user);
    return std::make_unique<testing::TmuxSession>(command, width, height);
  }

  // Starts chat-tui for `user` and logs in with `password`.
  std::unique_ptr<testing::TmuxSession> loggedIn(const std::string& user,
                                                 const std::string& password, int width = 80,
                                                 int height = 24) {
    auto t = client(user, width, height);
    EXPECT_TRUE(t->waitFor("Enter logs in", 10s)) << t->screen();
    t->type(password);
    t->sendKeys("Enter");
    // The strip names the user once the chat screen is up.
    EXPECT_TRUE(t->waitFor(" " + user + " │", 10s)) << t->screen();
    return t;
  }

  testing::ProcessCluster cluster_{3};
  size_t leader_ = 0;
};

TEST_F(TuiProcessTest, TwoClientsChatBothWaysAndAnOfflineUserGetsTheWaitingMessagesAtLogin) {
  createAccount("alice", "alice-password");
  createAccount("bob", "bob-password");
  // carol signs up through the form (F5), then leaves with /quit.
  {
    auto carol = client("");
    ASSERT_TRUE(carol->waitFor("Enter logs in", 10s)) << carol->screen();
    carol->sendKeys("F5");
    ASSERT_TRUE(carol->waitFor("create an account", 5s)) << carol->screen();
    carol->type("carol");
    carol->sendKeys("Tab");
    carol->type("carol-password");
    carol->sendKeys("Enter");
    ASSERT_TRUE(carol->waitFor("logged in as carol", 10s)) << carol->screen();
    carol->type("/quit");
    carol->sendKeys("Enter");
    EXPECT_TRUE(testing::eventually([&] { return !carol->alive(); }, 10s, 50ms))
        << "/quit did not end chat-tui";
  }

  auto alice = loggedIn("alice", "alice-password");
  auto bob = loggedIn("bob", "bob-password");
  // The strip names the node, the leader, the epoch, the nodes up and the round trip.
  EXPECT_TRUE(alice->waitUntil(
      [&](const std::string& s) {
        std::string strip = s.substr(0, s.find('\n'));
        return strip.find("leader node " + std::to_string(leader_)) != std::string::npos &&
               strip.find("3/3 up") != std::string::npos && strip.find("rtt") != std::string::npos;
      },
      10s))
      << alice->screen();

  alice->type("/msg bob hello bob, 你好 👋");
  alice->sendKeys("Enter");
  ASSERT_TRUE(bob->waitFor("alice: hello bob, 你好", 10s)) << bob->screen();
  EXPECT_TRUE(bob->waitFor("[1] alice", 5s)) << "the first message opens its conversation\n"
                                             << bob->screen();
  bob->type("hi alice, bob here");
  bob->sendKeys("Enter");
  ASSERT_TRUE(alice->waitFor("bob: hi alice, bob here", 10s)) << alice->screen();
  // bob's client acknowledged alice's message: it shows as delivered on her side.
  EXPECT_TRUE(alice->waitFor("hello bob, 你好 👋 ✓✓", 10s)) << alice->screen();

  // carol is offline: the message waits, and alice is told so.
  alice->type("/msg carol are you around?");
  alice->sendKeys("Enter");
  EXPECT_TRUE(alice->waitFor("carol is offline", 10s)) << alice->screen();
  EXPECT_TRUE(alice->waitFor("are you around? ◷", 10s)) << alice->screen();
  alice->type("second while you were out");
  alice->sendKeys("Enter");
  EXPECT_TRUE(alice->waitFor("second while you were out ◷", 10s)) << alice->screen();

  auto carol = loggedIn("carol", "carol-password");
  ASSERT_TRUE(carol->waitFor("delivered while you were away", 10s)) << carol->screen();
  std::string screen = carol->screen();
  size_t rule = screen.find("delivered while you were away");
  size_t first = screen.find("alice: are you around?");
  size_t second = screen.find("alice: second while you were out");
  ASSERT_NE(first, std::string::npos) << screen;
  ASSERT_NE(second, std::string::npos) << screen;
  EXPECT_LT(rule, first) << screen;
  EXPECT_LT(first, second) << "in send order\n" << screen;
  EXPECT_TRUE(alice->waitFor("second while you were out ✓✓", 10s))
      << "carol's client acknowledged them\n"
      << alice->screen();
}

TEST_F(TuiProcessTest, TheLeaderIsKilledAndTheNextMessageArrivesWhileTheStripShowsTheNewLeader) {
  createAccount("alice", "alice-password");
  createAccount("bob", "bob-password");
  auto alice = loggedIn("alice", "alice-password");
  auto bob = loggedIn("bob", "bob-password");
  alice->type("/msg bob before the crash");
  alice->sendKeys("Enter");
  ASSERT_TRUE(bob->waitFor("alice: before the crash", 10s)) << bob->screen();
  ASSERT_TRUE(alice->waitFor("leader node " + std::to_string(leader_), 10s)) << alice->screen();

  cluster_.node(leader_).kill(SIGKILL);
  alice->type("after the crash");
  alice->sendKeys("Enter");
  // Typing goes on while the cluster elects: the message is held and re-sent.
  ASSERT_TRUE(bob->waitFor("alice: after the crash", 15s)) << bob->screen();
  size_t next = cluster_.waitForLeader();
  ASSERT_NE(next, 0u);
  ASSERT_NE(next, leader_);
  EXPECT_TRUE(alice->waitUntil(
      [&](const std::string& s) {
        std::string strip = s.substr(0, s.find('\n'));
        return strip.find("leader node " + std::to_string(next)) != std::string::npos;
      },
      15s))
      << alice->screen();
  EXPECT_TRUE(alice->waitFor("after the crash ✓✓", 10s)) << alice->screen();
  // Nothing doubled: the message is on bob's screen once.
  std::string screen = bob->screen();
  EXPECT_EQ(screen.find("after the crash"), screen.rfind("after the crash")) << screen;
  bob->type("reply after the crash");
  bob->sendKeys("Enter");
  EXPECT_TRUE(alice->waitFor("bob: reply after the crash", 10s)) << alice->screen();
}

TEST_F(TuiProcessTest, TheScreenIsRedrawnAfterAResizeAndSaysWhenItIsTooSmall) {
  createAccount("alice", "alice-password");
  createAccount("bob", "bob-password");
  auto alice = loggedIn("alice", "alice-password", 100, 30);
  alice->type("/msg bob a message long enough that it has to wrap on a narrow terminal screen");
  alice->sendKeys("Enter");
  ASSERT_TRUE(alice->waitFor("screen ◷", 10s)) << alice->screen();
  EXPECT_TRUE(alice->waitFor("│", 5s)) << "the user list is shown at 100 columns";

  alice->resize(40, 12);
  ASSERT_TRUE(alice->waitFor("[1] bob", 5s)) << alice->screen();
  EXPECT_TRUE(alice->waitUntil(
      [](const std::string& s) {
        // Every line fits in 40 columns and the message is wrapped onto several lines.
        size_t start = 0;
        int lines = 0;
        while (start < s.size()) {
          size_t end = s.find('\n', start);
          std::string line = s.substr(start, end - start);
          if (line.find("narrow") != std::string::npos || line.find("long") != std::string::npos) {
            ++lines;
          }
          start = end == std::string::npos ? s.size() : end + 1;
        }
        return lines >= 2 && s.find("[bob]") != std::string::npos;
      },
      5s))
      << alice->screen();

  alice->resize(30, 10);
  EXPECT_TRUE(alice->waitFor("terminal too small", 5s)) << alice->screen();
  alice->resize(100, 30);
  EXPECT_TRUE(alice->waitFor("a message long enough that it has to wrap on a narrow", 5s))
      << alice->screen();
  // Still usable after all that.
  alice->sendKeys("F1");
  EXPECT_TRUE(alice->waitFor("help · PgUp/PgDn scroll", 5s)) << alice->screen();
  alice->sendKeys("PageDown PageDown");
  EXPECT_TRUE(alice->waitFor("/delete-account", 5s)) << alice->screen();
  alice->sendKeys("Escape");
  alice->type("/mgs bob x");
  alice->sendKeys("Enter");
  EXPECT_TRUE(alice->waitFor("did you mean /msg?", 5s)) << alice->screen();
}

TEST(TuiWithoutClusterTest, SaysSoWhenNoNodeAnswersAndCtrlCQuits) {
  auto ports = testing::freePorts(2);  // free a moment ago: nothing listens there
  testing::TmuxSession t(std::string(CHAT_TUI_BINARY) + " --servers 127.0.0.1:" +
                             std::to_string(ports[0]) + ",127.0.0.1:" + std::to_string(ports[1]),
                         80, 24);
  EXPECT_TRUE(t.waitFor("no node of the cluster answers; trying again in", 10s)) << t.screen();
  t.sendKeys("C-c");
  EXPECT_TRUE(testing::eventually([&] { return !t.alive(); }, 5s, 50ms)) << "Ctrl+C did not quit";
}

// A test of a screen: some line holds both `a` and `b` (a name and its count in the list).
std::function<bool(const std::string&)> lineWith(std::string a, std::string b) {
  return [a, b](const std::string& screen) {
    for (size_t at = 0; at < screen.size();) {
      size_t end = screen.find('\n', at);
      std::string line = screen.substr(at, end - at);
      if (line.find(a) != std::string::npos && line.find(b) != std::string::npos) {
        return true;
      }
      if (end == std::string::npos) {
        break;
      }
      at = end + 1;
    }
    return false;
  };
}

// Rooms and the conversation list: three people in a room, one of them away and back (the
// away rule), an unread private message still counted at the next login (the read marker is
// the server's), receipts per member on the sender's side, and /leave.
TEST_F(TuiProcessTest, ThreeClientsInARoomOneAwayThenBackWithTheListAtLogin) {
  createAccount("alice", "alice-password");
  createAccount("bob", "bob-password");
  createAccount("carol", "carol-password");
  auto alice = loggedIn("alice", "alice-password", 100, 30);
  alice->type("/create #team");
  alice->sendKeys("Enter");
  ASSERT_TRUE(alice->waitFor("room #team created", 10s)) << alice->screen();
  for (const char* who : {"bob", "carol"}) {
    alice->type(std::string("/invite ") + who);
    alice->sendKeys("Enter");
    ASSERT_TRUE(alice->waitFor(std::string(who) + " is in #team now", 10s)) << alice->screen();
  }
  auto bob = loggedIn("bob", "bob-password", 100, 30);
  {
    auto carol = loggedIn("carol", "carol-password", 100, 30);
    // The room is carol's conversation from the list at login, and the one shown.
    ASSERT_TRUE(carol->waitFor("[1] #team", 10s)) << carol->screen();
    // A private message from bob arrives while she looks at the room: unread, and it stays
    // so when she quits without reading it.
    bob->type("/msg carol psst carol");
    bob->sendKeys("Enter");
    ASSERT_TRUE(carol->waitUntil(lineWith("bob", "(1)"), 10s)) << carol->screen();
    carol->type("/quit");
    carol->sendKeys("Enter");
  }
  // Carol is away: the room talks on.
  alice->type("/msg #team hello team");
  alice->sendKeys("Enter");
  ASSERT_TRUE(bob->waitUntil(lineWith("# team", "(1)"), 10s))
      << "bob's list counts the room's message\n"
      << bob->screen();
  alice->type("second while carol is away");
  alice->sendKeys("Enter");
  // Bob's client has them (pushed, acknowledged); carol not yet: one of two.
  ASSERT_TRUE(alice->waitFor("second while carol is away ✓✓ 1/2", 10s)) << alice->screen();

  auto carol = loggedIn("carol", "carol-password", 100, 30);
  // What waited for her comes under the away separator, in the room, with who said it.
  ASSERT_TRUE(carol->waitFor("delivered while you were away", 10s)) << carol->screen();
  EXPECT_TRUE(carol->waitFor("alice: hello team", 10s)) << carol->screen();
  EXPECT_TRUE(carol->waitFor("alice: second while carol is away", 10s)) << carol->screen();
  // The list at login still counts bob's unread message: the read marker is the server's.
  EXPECT_TRUE(carol->waitUntil(lineWith("bob", "(1)"), 10s)) << carol->screen();
  // Her client acknowledged both: every member has them now.
  EXPECT_TRUE(alice->waitFor("second while carol is away ✓✓ 2/2", 10s)) << alice->screen();
  carol->type("/leave");
  carol->sendKeys("Enter");
  EXPECT_TRUE(carol->waitFor("you left #team", 10s)) << carol->screen();
  EXPECT_TRUE(alice->waitFor("carol left #team", 10s)) << alice->screen();
}

}  // namespace
}  // namespace chat
