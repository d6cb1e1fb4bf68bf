// KeyDecoder and KeyMap: the bytes terminals and tmux send, decoded without curses.
#include <gtest/gtest.h>

#include "chat/tui/key_input.h"
#include "chat/tui/key_map.h"

namespace chat::tui {
namespace {

std::vector<std::string> names(const std::string& bytes, bool expire = false) {
  KeyDecoder d;
  std::vector<Key> keys;
  d.feed(bytes, keys);
  if (expire) {
    d.expire(keys);
  }
  std::vector<std::string> out;
  for (const auto& k : keys) {
    out.push_back(keyName(k));
  }
  return out;
}

using V = std::vector<std::string>;

TEST(KeyDecoderTest, TextAndControlKeys) {
  EXPECT_EQ(names("ab"), (V{"a", "b"}));
  EXPECT_EQ(names("你👋"), (V{"你", "👋"}));
  EXPECT_EQ(names("\r\t\x7f\x01\x0e\x10\x03 "), (V{"Enter", "Tab", "Backspace", "C-a", "C-n",
                                                   "C-p", "C-c", "Space"}));
  EXPECT_EQ(names("\r\n"), (V{"Enter"})) << "CR LF is one Enter";
}

TEST(KeyDecoderTest, EscapeSequencesOfXtermAndTmux) {
  EXPECT_EQ(names("\x1b[A\x1b[B\x1b[C\x1b[D"), (V{"Up", "Down", "Right", "Left"}));
  EXPECT_EQ(names("\x1bOA\x1bOH\x1bOF"), (V{"Up", "Home", "End"}));
  EXPECT_EQ(names("\x1b[5~\x1b[6~\x1b[1~\x1b[4~\x1b[3~"),
            (V{"PageUp", "PageDown", "Home", "End", "Delete"}));
  EXPECT_EQ(names("\x1bOP\x1bOQ\x1bOR\x1b[11~\x1b[15~\x1b[24~"),
            (V{"F1", "F2", "F3", "F1", "F5", "F12"}));
  EXPECT_EQ(names("\x1b[Z"), (V{"S-Tab"}));
  EXPECT_EQ(names("\x1b[1;3C\x1b[1;3D\x1b[1;5C\x1b[1;3F\x1b[1;3H"),
            (V{"M-Right", "M-Left", "C-Right", "M-End", "M-Home"}));
  EXPECT_EQ(names("\x1b[99;9x"), (V{})) << "unknown sequences are swallowed, never typed";
}

TEST(KeyDecoderTest, AltIsAlsoEscThenTheKey) {
  EXPECT_EQ(names("\x1b" "1\x1b" "a\x1b\r\x1b\x7f"), (V{"M-1", "M-a", "M-Enter", "M-Backspace"}));
  // A lone Esc waits for the next byte; when none comes it is Escape.
  KeyDecoder d;
  std::vector<Key> keys;
  d.feed("\x1b", keys);
  EXPECT_TRUE(keys.empty());
  EXPECT_TRUE(d.hasPending());
  d.expire(keys);
  ASSERT_EQ(keys.size(), 1u);
  EXPECT_EQ(keyName(keys[0]), "Escape");
  EXPECT_FALSE(d.hasPending());
}

TEST(KeyDecoderTest, SequencesSplitAcrossReadsAreJoined) {
  KeyDecoder d;
  std::vector<Key> keys;
  d.feed("\x1b[", keys);
  d.feed("5", keys);
  EXPECT_TRUE(keys.empty());
  d.feed("~\xe4\xbd", keys);  // PgUp, then half of 你
  ASSERT_EQ(keys.size(), 1u);
  d.feed("\xa0", keys);
  ASSERT_EQ(keys.size(), 2u);
  EXPECT_EQ(keyName(keys[0]), "PageUp");
  EXPECT_EQ(keys[1].text, "你");
}

TEST(KeyDecoderTest, BracketedPasteIsOneKeyWithItsNewlines) {
  KeyDecoder d;
  std::vector<Key> keys;
  d.feed("\x1b[200~line one\r\nline two\rline", keys);
  EXPECT_TRUE(keys.empty()) << "the paste is still open";
  d.feed(" three\x1b[20", keys);
  d.feed("1~x", keys);
  ASSERT_EQ(keys.size(), 2u);
  EXPECT_EQ(keys[0].code, KeyCode::kPaste);
  EXPECT_EQ(keys[0].text, "line one\nline two\nline three");
  EXPECT_EQ(keys[1].text, "x");
}

TEST(KeyDecoderTest, SgrMouseReports) {
  KeyDecoder d;
  std::vector<Key> keys;
  d.feed("\x1b[<0;5;3M\x1b[<0;5;3m\x1b[<64;10;10M\x1b[<65;10;10M\x1b[<32;1;1M", keys);
  ASSERT_EQ(keys.size(), 4u) << "motion is not reported";
  EXPECT_EQ(keys[0].mouse.kind, MouseEvent::Kind::kPress);
  EXPECT_EQ(keys[0].mouse.x, 4);
  EXPECT_EQ(keys[0].mouse.y, 2);
  EXPECT_EQ(keys[1].mouse.kind, MouseEvent::Kind::kRelease);
  EXPECT_EQ(keys[2].mouse.kind, MouseEvent::Kind::kWheelUp);
  EXPECT_EQ(keys[3].mouse.kind, MouseEvent::Kind::kWheelDown);
}

TEST(KeyDecoderTest, HostileBytesNeverCrashOrHang) {
  EXPECT_EQ(names("\xff\xfe"), (V{"\xEF\xBF\xBD", "\xEF\xBF\xBD"}));
  EXPECT_EQ(names("\xe4\xbd", true), (V{"\xEF\xBF\xBD", "\xEF\xBF\xBD"}));
  std::string longCsi = "\x1b[" + std::string(100, '1');
  EXPECT_FALSE(names(longCsi, true).empty());
  EXPECT_EQ(names("\x1b[99999999999999999999;2A"), (V{"S-Up"}));
}

TEST(KeyMapTest, TheKeysPeopleKnowRunTheirActions) {
  KeyMap m = KeyMap::defaults();
  auto action = [&](const std::string& bytes) {
    KeyDecoder d;
    std::vector<Key> keys;
    d.feed(bytes, keys);
    d.expire(keys);
    return keys.size() == 1 ? m.actionFor(keys[0]) : "?";
  };
  EXPECT_EQ(action("\r"), "send");
  EXPECT_EQ(action("\x1b\r"), "newline");
  EXPECT_EQ(action("\x1b" "3"), "window 3");
  EXPECT_EQ(action("\x1b" "0"), "window 10");
  EXPECT_EQ(action("\x0e"), "next");
  EXPECT_EQ(action("\x1b[1;3C"), "next");
  EXPECT_EQ(action("\x10"), "previous");
  EXPECT_EQ(action("\x1b" "a"), "next-unread");
  EXPECT_EQ(action("\x1b" "u"), "first-unread");
  EXPECT_EQ(action("\x1b[5~"), "page-up");
  EXPECT_EQ(action("\x1b[A"), "history-up");
  EXPECT_EQ(action("\t"), "complete");
  EXPECT_EQ(action("\x1b[Z"), "complete-back");
  EXPECT_EQ(action("\x17"), "kill-word-back");
  EXPECT_EQ(action("\x1b\x7f"), "kill-word-back");
  EXPECT_EQ(action("\x0c"), "redraw");
  EXPECT_EQ(action("\x1bOP"), "help");
  EXPECT_EQ(action("\x1bOQ"), "toggle-users");
  EXPECT_EQ(action("\x1bOR"), "cluster");
  EXPECT_EQ(action("\x06"), "search");
  EXPECT_EQ(action("x"), "") << "printable keys are typed";
  for (const auto& b : m.bindings()) {
    EXPECT_FALSE(b.action.empty()) << b.keys;
  }
}

}  // namespace
}  // namespace chat::tui
