#include "chat/service/session_tokens.h"

#include <gtest/gtest.h>

namespace chat::service {
namespace {

using namespace std::chrono_literals;

constexpr int64_t kNow = 1'700'000'000'000;

SessionClaim claimOf(uint64_t uid, std::string name, int64_t loginAt = kNow,
                     uint64_t generation = 0) {
  return SessionClaim{uid, std::move(name), loginAt, generation};
}

TEST(SessionTokensTest, AGenuineTokenNamesItsAccount) {
  SessionTokens tokens(randomSessionKey(), 1h);
  std::string token = tokens.issue(claimOf(42, "alice", kNow, 7));
  auto claim = tokens.verify(token, kNow + 1000);
  ASSERT_TRUE(claim) << claim.error().message();
  EXPECT_EQ(claim->uid, 42u);
  EXPECT_EQ(claim->name, "alice");
  EXPECT_EQ(claim->loginAtMillis, kNow);
  EXPECT_EQ(claim->generation, 7u);
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
  std::string token = node1.issue(claimOf(7, "bob"));
  EXPECT_TRUE(node2.verify(token, kNow));
  EXPECT_EQ(otherCluster.verify(token, kNow).error().code(), StatusCode::kInvalidArgument);
  SessionTokens random(randomSessionKey(), 1h);
  EXPECT_FALSE(random.verify(token, kNow));
}

TEST(SessionTokensTest, ExpiredTokensAreRefused) {
  SessionTokens tokens(randomSessionKey(), 1h);
  std::string token = tokens.issue(claimOf(1, "carol"));
  EXPECT_TRUE(tokens.verify(token, kNow + 3'600'000));
  EXPECT_EQ(tokens.verify(token, kNow + 3'600'001).error().code(), StatusCode::kTimeout);
}

TEST(SessionTokensTest, TheLifetimeRunsFromThePasswordLoginNotFromTheLastResume) {
  SessionTokens tokens(randomSessionKey(), 1h);
  // A resume 50 minutes in re-issues the claim it was given: same login time.
  auto resumed = tokens.verify(tokens.issue(claimOf(1, "carol")), kNow + 50 * 60'000);
  ASSERT_TRUE(resumed);
  std::string renewed = tokens.issue(*resumed);
  EXPECT_EQ(tokens.verify(renewed, kNow + 3'600'001).error().code(), StatusCode::kTimeout);
}

TEST(SessionTokensTest, AnyChangedByteIsRefused) {
  SessionTokens tokens(randomSessionKey(), 1h);
  std::string token = tokens.issue(claimOf(1, "carol"));
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
