#include "chat/protocol/wire_types.h"

#include <gtest/gtest.h>

namespace chat::protocol {
namespace {

TEST(ValidationTest, Usernames) {
  Limits limits;
  EXPECT_TRUE(validateUsername("alice_1.b-c", limits).isOk());
  EXPECT_FALSE(validateUsername("", limits).isOk());
  EXPECT_FALSE(validateUsername(std::string(33, 'a'), limits).isOk());
  EXPECT_TRUE(validateUsername(std::string(32, 'a'), limits).isOk());
  EXPECT_FALSE(validateUsername("_alice", limits).isOk());
  EXPECT_FALSE(validateUsername("al ice", limits).isOk());
  EXPECT_FALSE(validateUsername("al*ce", limits).isOk());
  EXPECT_NE(validateUsername("", limits).message().find("empty"), std::string::npos);
}

TEST(ValidationTest, Passwords) {
  Limits limits;
  EXPECT_TRUE(validatePassword("pässwörd with spaces", limits).isOk());
  EXPECT_FALSE(validatePassword("", limits).isOk());
  EXPECT_FALSE(validatePassword(std::string(129, 'x'), limits).isOk());
  EXPECT_FALSE(validatePassword("tab\there", limits).isOk());
}

TEST(ValidationTest, Bodies) {
  Limits limits;
  EXPECT_TRUE(validateBody("line one\nline two", limits).isOk());
  EXPECT_FALSE(validateBody("", limits).isOk());
  EXPECT_FALSE(validateBody(std::string(4001, 'x'), limits).isOk());
  EXPECT_TRUE(validateBody(std::string(4000, 'x'), limits).isOk());
  EXPECT_FALSE(validateBody(std::string("a\0b", 3), limits).isOk());
  EXPECT_FALSE(validateBody("\xFF", limits).isOk());
}

TEST(WildcardTest, Matches) {
  EXPECT_TRUE(wildcardMatch("", ""));
  EXPECT_TRUE(wildcardMatch("*", "anything"));
  EXPECT_TRUE(wildcardMatch("a*", "alice"));
  EXPECT_FALSE(wildcardMatch("a*", "bob"));
  EXPECT_TRUE(wildcardMatch("?ob", "bob"));
  EXPECT_FALSE(wildcardMatch("?ob", "boob"));
  EXPECT_TRUE(wildcardMatch("*li*e", "alice"));
  EXPECT_TRUE(wildcardMatch("a*b*c", "aXXbYYc"));
  EXPECT_FALSE(wildcardMatch("a*b*c", "aXXbYY"));
  // Many stars on a long non-matching name must stay fast (no exponential backtracking).
  EXPECT_FALSE(wildcardMatch("*a*a*a*a*a*a*a*a*b", std::string(10000, 'a')));
}

TEST(OpcodeTest, KnownValues) {
  EXPECT_EQ(opcodeFromWire(0), Opcode::kCreate);
  EXPECT_EQ(opcodeFromWire(6), Opcode::kHelp);
  EXPECT_EQ(opcodeFromWire(11), Opcode::kPing);
  EXPECT_EQ(opcodeFromWire(12), Opcode::kResume);
  EXPECT_EQ(opcodeFromWire(13), Opcode::kTyping);
  EXPECT_EQ(opcodeFromWire(14), Opcode::kCreateRoom);
  EXPECT_EQ(opcodeFromWire(19), Opcode::kRoomMembers);
  EXPECT_EQ(opcodeFromWire(21), Opcode::kMarkRead);
  EXPECT_FALSE(opcodeFromWire(22).has_value());
  EXPECT_EQ(opcodeFromWire(132), Opcode::kPushSessionEnded);
  EXPECT_EQ(opcodeFromWire(133), Opcode::kPushTyping);
  EXPECT_EQ(opcodeFromWire(134), Opcode::kPushRoom);
  EXPECT_FALSE(opcodeFromWire(135).has_value());
}

TEST(FirstLineTest, StopsAtTheNewlineAndCutsOnACharacter) {
  EXPECT_EQ(firstLineOf("hello"), "hello");
  EXPECT_EQ(firstLineOf("one\r\ntwo"), "one…");
  EXPECT_EQ(firstLineOf(std::string(100, 'x')), std::string(80, 'x') + "…");
  // "é" is two bytes: a cut in its middle moves before it.
  std::string text = std::string(79, 'a') + "é";
  EXPECT_EQ(firstLineOf(text), std::string(79, 'a') + "…");
}

}  // namespace
}  // namespace chat::protocol
