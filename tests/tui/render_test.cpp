// Golden screens: the conversation pane drawn into a Canvas at fixed sizes, CJK and emoji
// included, compared as text.
#include <gtest/gtest.h>

#include "chat/tui/canvas.h"
#include "chat/tui/conversation_view.h"
#include "chat/tui/text_width.h"
#include "chat/tui/user_list_view.h"

namespace chat::tui {
namespace {

ConversationViewOptions fixedClock() {
  ConversationViewOptions o;
  o.formatTime = [](int64_t ms) {
    char buf[8];
    std::snprintf(buf, sizeof buf, "12:%02d", static_cast<int>(ms / 60000 % 60));
    return std::string(buf);
  };
  return o;
}

ChatModel sample() {
  ChatModel m;
  m.setSelf("alice");
  m.received(protocol::ChatMessage{1, "bob", "alice", "你好 alice! 👋", 60000, false}, true);
  m.received(protocol::ChatMessage{2, "bob", "alice", "lunch at the usual place?", 120000, false});
  uint64_t a = m.beginSend("bob", "yes 🍜 at noon", 180000);
  m.sendStored(a, protocol::SendReply{3, true, 180000}, 180000);
  m.delivered(protocol::DeliveredPush{3, "bob", 181000});
  m.beginSend("bob", "see you", 240000);
  return m;
}

TEST(CanvasTest, WideCharactersTakeTwoCellsAndAreNeverCut) {
  Canvas c(6, 1);
  EXPECT_EQ(c.put(0, 0, "a你好"), 5);
  EXPECT_EQ(c.at(1, 0).text, "你");
  EXPECT_EQ(c.at(2, 0).text, "");  // the right half
  Canvas narrow(3, 1);
  EXPECT_EQ(narrow.put(0, 0, "ab你"), 3);  // 你 does not fit in the last column: padded
  EXPECT_EQ(narrow.toText(), "ab\n");
  EXPECT_EQ(narrow.at(2, 0).text, " ");
  Canvas ctl(5, 1);
  ctl.put(0, 0, "a\tb");
  EXPECT_EQ(ctl.toText(), "a b\n");
}

// A body's escape sequences, C1 and bidi controls never reach the terminal as such: the
// canvas (all that chat-tui draws goes through it) holds no control character at all.
TEST(CanvasTest, ControlCharactersFromOtherUsersAreNeverDrawnAsSuch) {
  Canvas c(40, 1);
  c.put(0, 0, "x\x1b[2J\x1b]52;c;ZQ==\x07\xc2\x9b" "2J\xe2\x80\xae" "y\x7f");
  std::string text = c.toText();
  for (size_t i = 0; i < text.size(); ++i) {
    auto u = static_cast<unsigned char>(text[i]);
    EXPECT_TRUE(u == '\n' || (u >= 0x20 && u != 0x7f)) << "byte " << static_cast<int>(u) << " at " << i;
    if (u == 0xc2 && i + 1 < text.size()) {
      EXPECT_FALSE(static_cast<unsigned char>(text[i + 1]) >= 0x80 &&
                   static_cast<unsigned char>(text[i + 1]) <= 0x9f)
          << "a C1 control at " << i;
    }
  }
  EXPECT_EQ(text.find("\xe2\x80\xae"), std::string::npos);  // no right-to-left override
  EXPECT_EQ(text.front(), 'x');
}

TEST(ConversationViewTest, GoldenAt40x12) {
  ChatModel m = sample();
  Canvas canvas(40, 12);
  int lines = drawConversation(canvas, *m.find("bob"), "alice", Rect{0, 0, 40, 12}, fixedClock());
  EXPECT_EQ(lines, 5);
  // Bottom-aligned: the newest message on the last row.
  EXPECT_EQ(canvas.toText(),
            "\n"
            "\n"
            "\n"
            "\n"
            "\n"
            "\n"
            "\n"
            "──── delivered while you were away ────\n"
            "12:01 bob: 你好 alice! 👋\n"
            "12:02 bob: lunch at the usual place?\n"
            "12:03 alice: yes 🍜 at noon ✓✓\n"
            "12:04 alice: see you …\n")
      << canvas.toText();
}

TEST(ConversationViewTest, LongLinesWrapUnderTheirBodyAndTheNewestStaysInView) {
  ChatModel m;
  m.setSelf("alice");
  for (uint64_t i = 1; i <= 8; ++i) {
    m.received(protocol::ChatMessage{i, "bob", "alice", "message number " + std::to_string(i) +
                                                            " is a little long",
                                     static_cast<int64_t>(i) * 60000, false});
  }
  Canvas canvas(30, 6);
  int lines = drawConversation(canvas, *m.find("bob"), "alice", Rect{0, 0, 30, 6}, fixedClock());
  EXPECT_EQ(lines, 16);  // two lines per message at this width
  std::string text = canvas.toText();
  EXPECT_NE(text.find("12:08 bob: message number 8\n           is a little long"),
            std::string::npos)
      << text;
  EXPECT_EQ(text.find("number 1\n"), std::string::npos) << "old lines scroll off the top";
  for (int y = 0; y < canvas.height(); ++y) {
    std::string row;
    for (int x = 0; x < canvas.width(); ++x) {
      row += canvas.at(x, y).text;
    }
    EXPECT_LE(displayWidth(row), 30) << row;
  }
  // Scrolled back, the oldest come into view.
  auto o = fixedClock();
  o.scrollBack = 10;
  drawConversation(canvas, *m.find("bob"), "alice", Rect{0, 0, 30, 6}, o);
  EXPECT_NE(canvas.toText().find("number 1\n"), std::string::npos) << canvas.toText();
}

TEST(UserListViewTest, ConversationsFirstWithUnreadThenOthersWithLastSeen) {
  ChatModel m;
  m.setSelf("alice");
  m.users({{"alice", true, 0}, {"bob", true, 0}, {"carol", false, 1000}, {"dave", false, 0}});
  m.open("bob");
  m.open("carol");
  m.select("bob");
  m.received(protocol::ChatMessage{1, "carol", "alice", "hi", 5, false});
  Canvas canvas(16, 5);
  drawUserList(canvas, m, Rect{0, 0, 16, 5}, 1000 + 2 * 3600 * 1000);
  EXPECT_EQ(canvas.toText(),
            "● bob\n"
            "○ carol      (1)\n"
            "○ dave\n"
            "\n"
            "\n")
      << canvas.toText();
  EXPECT_TRUE(canvas.at(2, 0).style.reverse) << "the active conversation stands out";
  m.select("carol");
  drawUserList(canvas, m, Rect{0, 0, 16, 5}, 1000 + 2 * 3600 * 1000);
  EXPECT_EQ(canvas.toText(),
            "● bob\n"
            "○ carol       2h\n"
            "○ dave\n"
            "\n"
            "\n")
      << canvas.toText();
  EXPECT_EQ(agoText(0, 5), "");
  EXPECT_EQ(agoText(1000, 61000), "1m");
  EXPECT_EQ(agoText(1000, 1000 + 3 * 86400 * 1000LL), "3d");
}

TEST(ConversationViewTest, OwnRoomMessagesShowHowManyMembersHaveThem) {
  ChatModel m;
  m.setSelf("alice");
  m.received(protocol::ChatMessage{1, "bob", "#team", "hello", 60000, false});
  uint64_t a = m.beginSend("#team", "hi all", 120000);
  m.sendStored(a, protocol::SendReply{2, true, 120000, 5, 3}, 120000);
  for (const char* who : {"bob", "carol", "dan"}) {
    m.delivered(protocol::DeliveredPush{2, who, 121000});
  }
  Canvas canvas(40, 3);
  drawConversation(canvas, *m.find("#team"), "alice", Rect{0, 0, 40, 3}, fixedClock());
  EXPECT_EQ(canvas.toText(), "\n12:01 bob: hello\n12:02 alice: hi all ✓✓ 3/5\n")
      << canvas.toText();
}

TEST(ConversationViewTest, NamesKeepTheirColours) {
  EXPECT_EQ(colourOf("bob"), colourOf("Bob"));
  EXPECT_EQ(deliveryMark(Delivery::kWaiting), "◷");
  EXPECT_EQ(deliveryMark(Delivery::kIncoming), "");
}

}  // namespace
}  // namespace chat::tui
