#include <gtest/gtest.h>

#include "chat/tui/commands.h"

namespace chat::tui {
namespace {

TEST(CommandsTest, ParsesNameArgumentAndRest) {
  auto c = parseCommand("/msg bob  hello there ");
  ASSERT_TRUE(c.has_value());
  EXPECT_EQ(c->name, "/msg");
  EXPECT_EQ(c->arg, "bob");
  EXPECT_EQ(c->rest, "hello there");
  EXPECT_EQ(c->all, "bob  hello there");
  auto upper = parseCommand("/QUIT");
  ASSERT_TRUE(upper.has_value());
  EXPECT_EQ(upper->name, "/quit");
  EXPECT_TRUE(upper->arg.empty());
}

TEST(CommandsTest, PlainLinesAndDoubleSlashAreMessages) {
  EXPECT_FALSE(parseCommand("hello").has_value());
  EXPECT_FALSE(parseCommand("//not a command").has_value());
  EXPECT_EQ(messageText("//etc/passwd is a path"), "/etc/passwd is a path");
  EXPECT_EQ(messageText("plain"), "plain");
}

TEST(CommandsTest, SuggestsTheNearestCommand) {
  EXPECT_EQ(nearestCommand("/mgs"), "/msg");
  EXPECT_EQ(nearestCommand("/qiut"), "/quit");
  EXPECT_EQ(nearestCommand("/delete"), "/delete-account");
  EXPECT_EQ(nearestCommand("/xyzzyplugh"), "");
}

TEST(CommandsTest, EveryCommandOfTheIssueIsThere) {
  for (const char* name : {"/msg", "/query", "/close", "/list", "/whois", "/deliver", "/search",
                           "/cluster", "/reconnect", "/login", "/register", "/logout",
                           "/delete-account", "/help", "/quit", "/join", "/leave", "/invite",
                           "/members", "/rooms", "/create", "/receipts"}) {
    EXPECT_NE(findCommand(name), nullptr) << name;
  }
}

}  // namespace
}  // namespace chat::tui
