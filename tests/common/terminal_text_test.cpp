// terminalSafe: every control a terminal would obey is shown as a visible escape; the rest
// of UTF-8, kept characters and plain text pass unchanged.
#include "chat/common/terminal_text.h"

#include <gtest/gtest.h>

namespace chat {
namespace {

TEST(TerminalTextTest, ControlsBecomeVisibleEscapes) {
  // Clear the line and forge another sender; a bell; OSC 52 writing the clipboard.
  EXPECT_EQ(terminalSafe("\x1b[2K\rFrom admin: x\a"), "\\x1b[2K\\x0dFrom admin: x\\x07");
  EXPECT_EQ(terminalSafe("\x1b]52;c;aGk=\x07"), "\\x1b]52;c;aGk=\\x07");
  EXPECT_EQ(terminalSafe("a\x7f"), "a\\x7f");
  EXPECT_EQ(terminalSafe("\xc2\x9b" "2J"), "\\u009b2J");            // C1 CSI
  EXPECT_EQ(terminalSafe("abc\xe2\x80\xae" "cba"), "abc\\u202ecba");  // right-to-left override
  EXPECT_EQ(terminalSafe("\xe2\x81\xa6x\xe2\x81\xa9"), "\\u2066x\\u2069");  // isolates
  EXPECT_EQ(terminalSafe("\xd8\x9c"), "\\u061c");                      // Arabic letter mark
  EXPECT_EQ(terminalSafe("\xff\xfe"), "\\xff\\xfe");                   // not UTF-8 at all
}

TEST(TerminalTextTest, TextPassesAndKeptCharactersStay) {
  EXPECT_EQ(terminalSafe("plain text, 日本語 👍🏽 é"), "plain text, 日本語 👍🏽 é");
  EXPECT_EQ(terminalSafe("a\tb"), "a\\x09b");
  EXPECT_EQ(terminalSafe("a\tb", "\t"), "a\tb");
  EXPECT_TRUE(isTerminalControl(0x1b));
  EXPECT_FALSE(isTerminalControl(U'a'));
  EXPECT_FALSE(isTerminalControl(0xA0));  // no-break space is text
}

}  // namespace
}  // namespace chat
