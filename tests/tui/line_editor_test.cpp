#include "chat/tui/line_editor.h"

#include <gtest/gtest.h>

namespace chat::tui {
namespace {

TEST(LineEditorTest, TypesMovesAndDeletesByGrapheme) {
  LineEditor e;
  e.insert("a你👍🏽b");
  EXPECT_EQ(e.cursorColumn(), 6);
  e.left();
  EXPECT_EQ(e.cursorColumn(), 5);
  e.left();  // over the thumbs-up with its skin tone: one step
  EXPECT_EQ(e.cursorColumn(), 3);
  e.backspace();  // deletes 你
  EXPECT_EQ(e.text(), "a👍🏽b");
  EXPECT_EQ(e.cursorColumn(), 1);
  e.deleteForward();  // deletes the whole emoji cluster
  EXPECT_EQ(e.text(), "ab");
  e.home();
  e.insert("x");
  EXPECT_EQ(e.text(), "xab");
  e.end();
  e.right();  // at the end: stays
  EXPECT_EQ(e.cursor(), 3u);
}

TEST(LineEditorTest, ACombiningMarkJoinsTheCharacterBeforeIt) {
  LineEditor e;
  e.insert("e");
  e.insert("\xCC\x81");  // combining acute
  EXPECT_EQ(e.cursorColumn(), 1);
  e.backspace();
  EXPECT_TRUE(e.empty()) << "one cluster, one backspace";
}

TEST(LineEditorTest, ReadlineKillsAndYank) {
  LineEditor e;
  e.insert("hello brave new world");
  e.killWordBack();  // Ctrl+W
  EXPECT_EQ(e.text(), "hello brave new ");
  e.wordLeft();
  e.wordLeft();
  EXPECT_EQ(e.cursor(), 6u);  // before "brave"
  e.killWordForward();  // Alt+D
  EXPECT_EQ(e.text(), "hello  new ");
  e.yank();
  EXPECT_EQ(e.text(), "hello brave new ");
  e.killToEnd();  // Ctrl+K
  EXPECT_EQ(e.text(), "hello brave");
  e.killToStart();  // Ctrl+U
  EXPECT_TRUE(e.empty());
  e.yank();
  EXPECT_EQ(e.text(), "hello brave");
  e.home();
  e.wordRight();
  EXPECT_EQ(e.cursor(), 5u);
}

TEST(LineEditorTest, HistoryKeepsTheLineBeingTyped) {
  LineEditor e;
  e.insert("first");
  EXPECT_EQ(e.take(), "first");
  e.insert("second");
  e.take();
  e.insert("   ");
  e.take();  // blank lines are not remembered
  e.insert("draft");
  e.historyUp();
  EXPECT_EQ(e.text(), "second");
  e.historyUp();
  EXPECT_EQ(e.text(), "first");
  e.historyUp();
  EXPECT_EQ(e.text(), "first");
  e.historyDown();
  e.historyDown();
  EXPECT_EQ(e.text(), "draft");
}

TEST(LineEditorTest, TheViewScrollsToKeepTheCursorVisible) {
  LineEditor e;
  e.insert("0123456789abcdefghij");
  auto v = e.view(10);
  EXPECT_EQ(v.cursorColumn, 9);
  EXPECT_EQ(v.visible, "bcdefghij");
  e.home();
  v = e.view(10);
  EXPECT_EQ(v.firstByte, 0u);
  EXPECT_EQ(v.visible, "0123456789");
  LineEditor wide;
  wide.insert("你好世界你好");
  v = wide.view(7);  // the cursor at the end: the last three characters and the cursor
  EXPECT_EQ(v.cursorColumn, 6);
  EXPECT_EQ(v.visible, "界你好");
  wide.home();
  v = wide.view(7);  // at the start: as many as fit, never half a wide character
  EXPECT_EQ(v.cursorColumn, 0);
  EXPECT_EQ(v.visible, "你好世");
}

}  // namespace
}  // namespace chat::tui
