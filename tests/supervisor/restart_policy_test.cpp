#include "chat/supervisor/restart_policy.h"

#include <gtest/gtest.h>

namespace chat::supervisor {
namespace {

using namespace std::chrono_literals;
using Kind = RestartPolicy::Decision::Kind;

TEST(RestartPolicyTest, BacksOffExponentiallyAndGivesUpPastTheIntensity) {
  RestartSettings s;
  s.intensity = 3;
  s.period = 60s;
  s.firstDelay = 100ms;
  s.maxDelay = 300ms;
  RestartPolicy p(s);
  MonoTime t{};
  auto d1 = p.onExit(t);
  ASSERT_EQ(d1.kind, Kind::kRestart);
  EXPECT_EQ(d1.at - t, 100ms);
  auto d2 = p.onExit(t + 1s);
  EXPECT_EQ(d2.at - (t + 1s), 200ms);
  auto d3 = p.onExit(t + 2s);
  EXPECT_EQ(d3.at - (t + 2s), 300ms);  // capped
  auto d4 = p.onExit(t + 3s);
  EXPECT_EQ(d4.kind, Kind::kGiveUp);
  EXPECT_NE(d4.reason.find("3 restarts within 60 s"), std::string::npos) << d4.reason;
}

TEST(RestartPolicyTest, OldRestartsAgeOutOfThePeriod) {
  RestartSettings s;
  s.intensity = 2;
  s.period = 10s;
  RestartPolicy p(s);
  MonoTime t{};
  EXPECT_EQ(p.onExit(t).kind, Kind::kRestart);
  EXPECT_EQ(p.onExit(t + 1s).kind, Kind::kRestart);
  EXPECT_EQ(p.onExit(t + 2s).kind, Kind::kGiveUp);
  auto later = p.onExit(t + 30s);
  EXPECT_EQ(later.kind, Kind::kRestart);
  EXPECT_EQ(later.at - (t + 30s), s.firstDelay) << "a quiet period starts the backoff over";
}

TEST(RestartPolicyTest, NeverMeansStayDown) {
  RestartSettings s;
  s.mode = RestartSettings::Mode::kNever;
  RestartPolicy p(s);
  EXPECT_EQ(p.onExit(MonoTime{}).kind, Kind::kStayDown);
  EXPECT_TRUE(parseRestartMode("on-failure").has_value());
  EXPECT_FALSE(parseRestartMode("always").has_value());
}

}  // namespace
}  // namespace chat::supervisor
