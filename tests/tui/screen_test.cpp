// Golden screens of the whole chat-tui screen at 80x24 and 40x12 (CJK and emoji included),
// the login form, the failover banner, the overlays and the too-small screen.
#include <gtest/gtest.h>

#include "chat/tui/screen_view.h"

namespace chat::tui {
namespace {

ScreenOptions fixedClock() {
  ScreenOptions o;
  o.conversation.formatTime = [](int64_t ms) {
    char buf[8];
    std::snprintf(buf, sizeof buf, "12:%02d", static_cast<int>(ms / 60000 % 60));
    return std::string(buf);
  };
  return o;
}

constexpr int64_t kNow = 10'000'000;

struct Scene {
  ChatModel model;
  ScreenState state;
};

Scene chatScene() {
  Scene s;
  s.model.setSelf("alice");
  s.model.users({{"bob", true, 0}, {"carol", false, kNow - 2 * 3600 * 1000}, {"dave", false, 0}});
  s.model.received(protocol::ChatMessage{1, "bob", "alice", "你好 alice! 👋", 60000, false}, true);
  s.model.received(protocol::ChatMessage{2, "bob", "alice", "lunch at the usual place?", 120000, false});
  uint64_t a = s.model.beginSend("bob", "yes 🍜 at noon, see you there 👨‍👩‍👧", 180000);
  s.model.sendStored(a, protocol::SendReply{3, true, 180000}, 180000);
  s.model.delivered(protocol::DeliveredPush{3, "bob", 181000});
  s.model.beginSend("bob", "bring the ☕️?", 240000);
  s.model.received(protocol::ChatMessage{4, "carol", "alice", "ping", 240000, false});
  s.model.select(0);
  s.state.screen = Screen::kChat;
  s.state.connection.state = ConnectionStatus::State::kConnected;
  s.state.connection.node = "127.0.0.1:7001";
  s.state.connection.leaderId = 1;
  s.state.connection.epoch = 3;
  s.state.connection.nodesUp = 3;
  s.state.connection.nodesTotal = 3;
  s.state.connection.rttMillis = 1;
  s.state.input.setText("typing 日本語");
  return s;
}

std::string draw(const Scene& s, int w, int h, CursorPosition* cursor = nullptr) {
  Canvas c(w, h);
  CursorPosition at = drawScreen(c, s.model, s.state, kNow, fixedClock());
  if (std::getenv("CHAT_PRINT_SCREENS") != nullptr) {
    std::printf("<<<%dx%d\n%s>>>\n", w, h, c.toText().c_str());
  }
  if (cursor != nullptr) {
    *cursor = at;
  }
  return c.toText();
}

TEST(ScreenTest, ChatAt80x24) {
  Scene s = chatScene();
  CursorPosition cursor;
  EXPECT_EQ(draw(s, 80, 24, &cursor), R"( alice │ node 127.0.0.1:7001 · leader node 1 · epoch 3 · 3/3 up · rtt 1 ms
● bob           │[1] bob · online
○ carol      (1)│
○ dave          │
                │
                │
                │
                │
                │
                │
                │
                │
                │
                │
                │
                │
                │
                │──────────────── delivered while you were away ────────────────
                │12:01 bob: 你好 alice! 👋
                │12:02 bob: lunch at the usual place?
                │12:03 alice: yes 🍜 at noon, see you there 👨‍👩‍👧 ✓✓
                │12:04 alice: bring the ☕️? …
F1 help · Alt+1..0 switch · Tab complete · PgUp history · /msg user text
[bob] typing 日本語
)");
  EXPECT_TRUE(cursor.visible);
  EXPECT_EQ(cursor.y, 23);
  EXPECT_EQ(cursor.x, 6 + 7 + 6) << "after '[bob] ', 'typing ' and three wide characters";
}

TEST(ScreenTest, ChatAt40x12) {
  Scene s = chatScene();
  EXPECT_EQ(draw(s, 40, 12), R"( :7001 → leader 1 · epoch 3 · 3/3 · 1 ms
[1] bob · online


──── delivered while you were away ────
12:01 bob: 你好 alice! 👋
12:02 bob: lunch at the usual place?
12:03 alice: yes 🍜 at noon, see you
             there 👨‍👩‍👧 ✓✓
12:04 alice: bring the ☕️? …
F1 help · Alt+1..0 switch · Tab complete
[bob] typing 日本語
)");
}

TEST(ScreenTest, LoginFormAt80x24) {
  Scene s;
  s.state.form.user.setText("alice");
  s.state.form.password.setText("secret");
  s.state.form.onPassword = true;
  s.state.form.message = "wrong password for alice; check it and try again";
  s.state.form.messageIsError = true;
  s.state.connection.state = ConnectionStatus::State::kConnected;
  s.state.connection.node = "127.0.0.1:7001";
  s.state.connection.leaderId = 1;
  s.state.connection.epoch = 3;
  s.state.connection.nodesUp = 3;
  s.state.connection.nodesTotal = 3;
  CursorPosition cursor;
  EXPECT_EQ(draw(s, 80, 24, &cursor), R"( node 127.0.0.1:7001 · leader node 1 · epoch 3 · 3/3 up






          ┌─ log in ─────────────────────────────────────────────────┐
          │                                                          │
          │ user      alice                                          │
          │                                                          │
          │ password  ******                                         │
          │                                                          │
          │ Enter logs in · F5: new account                          │
          │ Tab: next field · Ctrl+C quits                           │
          │                                                          │
          └──────────────────────────────────────────────────────────┘
            wrong password for alice; check it and try again






)");
  EXPECT_EQ(cursor.x, 22 + 6) << "after the six stars";
}

TEST(ScreenTest, TheStripBecomesABannerDuringFailover) {
  Scene s = chatScene();
  s.state.connection.state = ConnectionStatus::State::kReconnecting;
  s.state.connection.reconnectInMillis = 400;
  s.state.connection.lostReason = "connection reset by peer";
  std::string screen = draw(s, 80, 24);
  EXPECT_EQ(screen.substr(0, screen.find('\n')),
            " alice │ leader lost, reconnecting in 0.4 s — connection reset by peer");
  s.state.connection.state = ConnectionStatus::State::kFailedOver;
  s.state.connection.leaderId = 2;
  s.state.connection.epoch = 4;
  s.state.connection.resent = 3;
  screen = draw(s, 80, 24);
  EXPECT_EQ(screen.substr(0, screen.find('\n')),
            " alice │ new leader node 2 (epoch 4), re-sent 3                        1 unread");
}

TEST(ScreenTest, OverlaysAndTheTooSmallScreen) {
  Scene s = chatScene();
  s.state.showCluster = true;
  s.state.nodes = {NodeRow{1, "127.0.0.1:7001", true, "leader", 3, 120, 0, "epoch 3, 2.0 s ago"},
                   NodeRow{2, "127.0.0.1:7002", true, "follower", 3, 118, 2, ""},
                   NodeRow{3, "127.0.0.1:7003", false, "", 0, 0, 0, ""}};
  std::string screen = draw(s, 80, 24);
  EXPECT_NE(screen.find("1    127.0.0.1:7001        leader        3     120     0  ◀ this client"), std::string::npos) << screen;
  EXPECT_NE(screen.find("◀ this client"), std::string::npos) << screen;
  EXPECT_NE(screen.find("3    127.0.0.1:7003        down      "), std::string::npos) << screen;
  EXPECT_NE(screen.find("last election: epoch 3, 2.0 s ago"), std::string::npos) << screen;
  s.state.showCluster = false;
  s.state.showHelp = true;
  screen = draw(s, 80, 24);
  EXPECT_NE(screen.find("M-1..M-9 M-0"), std::string::npos) << screen;
  s.state.showHelp = false;
  EXPECT_EQ(draw(s, 39, 12), "\n\n\n\n\n          terminal too small\n"
                             "          39x12, needs 40x12\n\n\n\n\n\n");
}

TEST(ScreenTest, APeerTypingShowsInTheConversationTitleUntilItExpires) {
  Scene s = chatScene();
  s.model.typing("bob", kNow + 5000);
  std::string screen = draw(s, 80, 24);
  EXPECT_NE(screen.find("[1] bob · bob is typing…"), std::string::npos) << screen;
  s.model.typing("bob", kNow - 1);
  screen = draw(s, 80, 24);
  EXPECT_EQ(screen.find("is typing"), std::string::npos) << screen;
  EXPECT_NE(screen.find("[1] bob · online"), std::string::npos) << screen;
}

}  // namespace
}  // namespace chat::tui
