#include "chat/service/session_tokens.h"

#include <gtest/gtest.h>

namespace chat::service {
namespace {

using namespace std::chrono_literals;

constexpr int64_t kNow = 1'700'000'000'000;

TEST(SessionTokensTest, AGenuineTokenNamesItsAccount) {
  SessionTokens tokens(randomSessionKey(), 1h);
  std::string token = tokens.issue(42, "alice", kNow);
  auto claim = tokens.verify(token, kNow + 1000);
  ASSERT_TRUE(claim) << claim.error().message();
  EXPECT_EQ(claim->uid, 42u);
  EXPECT_EQ(claim->name, "alice");
  EXPECT_EQ(claim->issuedAtMillis, kNow);
  // Printable: it travels in frames and may be shown in logs of a client's own machine.
  for (char c : token) {
    EXPECT_TRUE(std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_') << token;
  }
}

TEST(SessionTokensTest, EveryNodeOfAClusterAcceptsTheOthersTokens) {
  SessionKey shared = randomSessionKey();
  SessionTokens node1(shared, 1h);
  SessionTokens node2(shared, 1h);
  SessionTokens otherCluster(randomSessionKey(), 1h);
  std::string token = node1.issue(7, "bob", kNow);
  EXPECT_TRUE(node2.verify(token, kNow));
  EXPECT_EQ(otherCluster.verify(token, kNow).error().code(), StatusCode::kInvalidArgument);
  SessionTokens random(randomSessionKey(), 1h);
  EXPECT_FALSE(random.verify(token, kNow));
}

TEST(SessionTokensTest, ExpiredTokensAreRefused) {
  SessionTokens tokens(randomSessionKey(), 1h);
  std::string token = tokens.issue(1, "carol", kNow);
  EXPECT_TRUE(tokens.verify(token, kNow + 3'600'000));
  EXPECT_EQ(tokens.verify(token, kNow + 3'600'001).error().code(), StatusCode::kTimeout);
}

TEST(SessionTokensTest, AnyChangedByteIsRefused) {
  SessionTokens tokens(randomSessionKey(), 1h);
  std::string token = tokens.issue(1, "carol", kNow);
  for (size_t i = 0; i < token.size(); ++i) {
    std::string forged = token;
    forged[i] = forged[i] == 'A' ? 'B' : 'A';
    EXPECT_FALSE(tokens.verify(forged, kNow)) << "byte " << i;
  }
  EXPECT_FALSE(tokens.verify("", kNow));
  EXPECT_FALSE(tokens.verify(token.substr(0, token.size() - 4), kNow));
  EXPECT_FALSE(tokens.verify(token + "AAAA", kNow));
  EXPECT_FALSE(tokens.verify(std::string(10000, 'A'), kNow));
  EXPECT_FALSE(tokens.verify("not base64 at all!", kNow));
}

}  // namespace
}  // namespace chat::service
