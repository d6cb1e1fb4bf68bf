#include "chat/client/reconnect_policy.h"

#include <gtest/gtest.h>

namespace chat::client {
namespace {

using namespace std::chrono_literals;

ReconnectPolicy threeNodes() {
  return ReconnectPolicy({"n1:1", "n2:2", "n3:3"}, 100ms, 1000ms, 7);
}

TEST(ReconnectPolicyTest, StartsWithTheFirstNodeAndMovesToTheNextInLine) {
  auto p = threeNodes();
  auto a = p.next();
  EXPECT_EQ(a.address, "n1:1");
  EXPECT_EQ(a.delay, 0ms);
  p.succeeded("n1:1");
  p.failed("n1:1");  // the leader died: its successor is tried at once
  a = p.next();
  EXPECT_EQ(a.address, "n2:2");
  EXPECT_EQ(a.delay, 0ms);
}

TEST(ReconnectPolicyTest, BacksOffWithJitterOnlyAfterAWholeRoundFails) {
  auto p = threeNodes();
  for (const char* n : {"n1:1", "n2:2", "n3:3"}) {
    auto a = p.next();
    EXPECT_EQ(a.address, n);
    EXPECT_EQ(a.delay, 0ms);
    p.failed(a.address);
  }
  auto a = p.next();
  EXPECT_EQ(a.address, "n1:1");
  EXPECT_GE(a.delay, 50ms);
  EXPECT_LE(a.delay, 100ms);
  p.failed(a.address);
  p.failed(p.next().address);
  p.failed(p.next().address);
  // The step doubles with every failed round up to the maximum.
  ReconnectPolicy::Millis last{0};
  for (int round = 0; round < 6; ++round) {
    for (int i = 0; i < 3; ++i) {
      auto attempt = p.next();
      EXPECT_EQ(attempt.delay > 0ms, i == 0) << "round " << round << " attempt " << i;
      if (i == 0) {
        last = attempt.delay;
      }
      p.failed(attempt.address);
    }
  }
  EXPECT_GE(last, 500ms);
  EXPECT_LE(last, 1000ms);
  p.succeeded("n2:2");
  EXPECT_EQ(p.currentStep(), 100ms);
}

TEST(ReconnectPolicyTest, FollowsARedirectAtOnceButNotForever) {
  auto p = threeNodes();
  p.redirected("n3:3");
  auto a = p.next();
  EXPECT_EQ(a.address, "n3:3");
  EXPECT_EQ(a.delay, 0ms);
  // Two nodes naming each other without an answered request: redirects start to wait.
  bool waited = false;
  for (int i = 0; i < 6; ++i) {
    p.redirected(i % 2 == 0 ? "n1:1" : "n3:3");
    waited = waited || p.next().delay > 0ms;
  }
  EXPECT_TRUE(waited);
}

TEST(ReconnectPolicyTest, ANodeThatKnowsNoLeaderYetIsAskedAgainShortlyThenGivenUp) {
  auto p = threeNodes();
  p.noLeaderYet("n2:2");
  auto a = p.next();
  EXPECT_EQ(a.address, "n2:2");
  EXPECT_EQ(a.delay, 100ms);
  bool movedOn = false;
  for (int i = 0; i < 40 && !movedOn; ++i) {
    p.noLeaderYet("n2:2");
    movedOn = p.next().address != "n2:2";
  }
  EXPECT_TRUE(movedOn) << "a node cut off from the cluster would hold the client for ever";
}

TEST(ReconnectPolicyTest, ARedirectToAnAddressOutsideTheListIsFollowed) {
  auto p = threeNodes();
  p.redirected("10.0.0.9:7001");
  EXPECT_EQ(p.next().address, "10.0.0.9:7001");
  p.failed("10.0.0.9:7001");
  EXPECT_FALSE(p.next().address.empty());
}

}  // namespace
}  // namespace chat::client
