#include "chat/common/kv_log.h"

#include <Poco/AutoPtr.h>
#include <Poco/Channel.h>
#include <Poco/FormattingChannel.h>

#include <gtest/gtest.h>

namespace chat {
namespace {

// Keeps what reaches it, formatted.
class MemoryChannel final : public Poco::Channel {
 public:
  void log(const Poco::Message& msg) override { lines.push_back(msg.getText()); }
  std::vector<std::string> lines;
};

TEST(KvLogTest, ValuesAreBareWordsOrQuotedOnOneLine) {
  EXPECT_EQ(kvValue("leader"), "leader");
  EXPECT_EQ(kvValue("127.0.0.1:7001"), "127.0.0.1:7001");
  EXPECT_EQ(kvValue(""), "\"\"");
  EXPECT_EQ(kvValue("two words"), "\"two words\"");
  EXPECT_EQ(kvValue("a=b"), "\"a=b\"");
  EXPECT_EQ(kvValue("say \"hi\"\\now\nnext\tx\x01"), "\"say \\\"hi\\\"\\\\now\\nnext\\tx\\x01\"");
  EXPECT_EQ(kvValue("naïve"), "\"naïve\"");  // UTF-8 passes through (quoted)
  // A client's text never acts on the terminal of whoever reads the log.
  EXPECT_EQ(kvValue("\x1b[2Jx"), "\"\\x1b[2Jx\"");
  EXPECT_EQ(kvValue("a\xc2\x9b" "2J"), "\"a\\u009b2J\"");
  EXPECT_EQ(kvValue("\xe2\x80\xae" "evil"), "\"\\u202eevil\"");
}

TEST(KvLogTest, AnEventIsItsNameThenItsFieldsThenTheMessage) {
  EXPECT_EQ(kvEvent("role", {{"role", "leader"}, {"epoch", "3"}}),
            "event=role role=leader epoch=3");
  EXPECT_EQ(kvEvent("stopping", {}, "chat-node shutting down"),
            "event=stopping msg=\"chat-node shutting down\"");
}

TEST(KvLogTest, TheFormatterPrefixesTimeLevelAndLoggerAndQuotesPlainText) {
  Poco::AutoPtr<MemoryChannel> memory(new MemoryChannel);
  Poco::AutoPtr<KeyValueFormatter> formatter(new KeyValueFormatter);
  Poco::AutoPtr<Poco::FormattingChannel> channel(new Poco::FormattingChannel(formatter, memory));
  Poco::Logger& logger = Poco::Logger::get("chat.kvtest");
  logger.setChannel(channel);
  logger.setLevel(Poco::Message::PRIO_INFORMATION);
  logEvent(logger, Poco::Message::PRIO_WARNING, "peer_refused", {{"from", "10.0.0.9:4000"}},
           "wrong secret");
  logger.information("closing 127.0.0.1:5000: frame too large");
  logEvent(logger, Poco::Message::PRIO_DEBUG, "hidden", {});  // below the level
  ASSERT_EQ(memory->lines.size(), 2u);
  const std::string& first = memory->lines[0];
  EXPECT_EQ(first.rfind("time=", 0), 0u) << first;
  EXPECT_EQ(first[first.find(' ') - 1], 'Z') << first;
  EXPECT_NE(first.find(" level=warning logger=chat.kvtest event=peer_refused "
                       "from=10.0.0.9:4000 msg=\"wrong secret\""),
            std::string::npos)
      << first;
  EXPECT_NE(memory->lines[1].find(
                " level=information logger=chat.kvtest msg=\"closing 127.0.0.1:5000: frame too "
                "large\""),
            std::string::npos)
      << memory->lines[1];
}

}  // namespace
}  // namespace chat
