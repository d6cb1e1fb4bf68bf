#include "chat/tui/text_width.h"

#include <gtest/gtest.h>

namespace chat::tui {
namespace {

TEST(TextWidthTest, AsciiAndLatinAreOneColumnEach) {
  EXPECT_EQ(displayWidth("hello"), 5);
  EXPECT_EQ(displayWidth(""), 0);
  EXPECT_EQ(displayWidth("héllo wörld"), 11);
}

TEST(TextWidthTest, CjkAndHangulAreTwoColumns) {
  EXPECT_EQ(displayWidth("你好"), 4);
  EXPECT_EQ(displayWidth("日本語です"), 10);
  EXPECT_EQ(displayWidth("한국어"), 6);
  EXPECT_EQ(displayWidth("ＡＢ"), 4);  // fullwidth Latin
  EXPECT_EQ(displayWidth("a你b"), 4);
}

TEST(TextWidthTest, CombiningMarksJoinTheirBase) {
  std::string composed = "e\xCC\x81";  // e + COMBINING ACUTE ACCENT
  EXPECT_EQ(displayWidth(composed), 1);
  auto g = graphemes(composed + "x");
  ASSERT_EQ(g.size(), 2u);
  EXPECT_EQ(g[0].length, 3u);
  EXPECT_EQ(displayWidth("a\xCC\x81\xCC\xA7"), 1);  // two marks on one base
}

TEST(TextWidthTest, EmojiSequencesAreOneClusterOfTwoColumns) {
  EXPECT_EQ(displayWidth("😀"), 2);
  EXPECT_EQ(displayWidth("\xE2\x9D\xA4"), 1);                // ❤ text style
  EXPECT_EQ(displayWidth("\xE2\x9D\xA4\xEF\xB8\x8F"), 2);    // ❤️ with VS16
  std::string family = "👨\u200D👩\u200D👧";                   // ZWJ sequence
  EXPECT_EQ(displayWidth(family), 2);
  EXPECT_EQ(graphemes(family).size(), 1u);
  EXPECT_EQ(displayWidth("👍🏽"), 2);                          // skin tone modifier
  EXPECT_EQ(graphemes("👍🏽").size(), 1u);
  EXPECT_EQ(displayWidth("🇫🇷"), 2);                          // a flag: two indicators
  EXPECT_EQ(graphemes("🇫🇷🇩🇪").size(), 2u);
  EXPECT_EQ(displayWidth("hi 👋 你好"), 10);
}

TEST(TextWidthTest, ControlsAndBadBytesNeverBreakTheCount) {
  EXPECT_EQ(displayWidth("a\x01" "b"), 2);
  EXPECT_EQ(displayWidth("\xFF\xFE"), 2);        // two bad bytes, one replacement each
  EXPECT_EQ(displayWidth("\xE4\xBD"), 2);        // a cut-off CJK character
  EXPECT_EQ(displayWidth("\xC0\x80"), 2);        // overlong NUL
  EXPECT_EQ(codePointWidth(0x200B), 0);          // zero-width space
  size_t total = 0;
  for (const auto& g : graphemes("x\xFFy你")) {
    total += g.length;
  }
  EXPECT_EQ(total, std::string("x\xFFy你").size()) << "clusters must cover every byte";
}

TEST(TextWidthTest, WrapBreaksAfterSpacesAndKeepsWideCharactersWhole) {
  auto lines = wrap("the quick brown fox", 10);
  ASSERT_EQ(lines.size(), 2u);
  EXPECT_EQ(lines[0], "the quick ");
  EXPECT_EQ(lines[1], "brown fox");
  lines = wrap("你好世界你好", 5);  // 12 columns, 2 per character, 5 per line
  ASSERT_EQ(lines.size(), 3u);
  for (const auto& l : lines) {
    EXPECT_LE(displayWidth(l), 5) << l;
  }
  lines = wrap("abcdefghij", 4);  // no spaces: break inside the word
  ASSERT_EQ(lines.size(), 3u);
  EXPECT_EQ(lines[2], "ij");
  lines = wrap("one\ntwo", 20);
  ASSERT_EQ(lines.size(), 2u);
  EXPECT_EQ(lines[1], "two");
  EXPECT_EQ(wrap("", 10).size(), 1u);
  lines = wrap("👨\u200D👩\u200D👧 family", 3);
  EXPECT_EQ(lines[0], "👨\u200D👩\u200D👧 ");
}

}  // namespace
}  // namespace chat::tui
