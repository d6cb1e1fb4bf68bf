#include "chat/common/log_throttle.h"

#include <gtest/gtest.h>

namespace chat {
namespace {

using namespace std::chrono_literals;

TEST(LogThrottleTest, AFloodWritesAFewLinesAndTheNextSaysHowManyWereLeftOut) {
  LogThrottle throttle(3, 60s);
  MonoTime t0 = MonoTime{} + 1000h;
  for (int i = 0; i < 3; ++i) {
    auto line = throttle.admit(t0 + std::chrono::milliseconds(i));
    ASSERT_TRUE(line.has_value()) << i;
    EXPECT_EQ(*line, "");
  }
  for (int i = 0; i < 500; ++i) {
    EXPECT_FALSE(throttle.admit(t0 + 1s).has_value());
  }
  // The next period lets lines through again; the first says what the flood cost.
  auto next = throttle.admit(t0 + 61s);
  ASSERT_TRUE(next.has_value());
  EXPECT_EQ(*next, " (500 more like it were left out)");
  EXPECT_EQ(*throttle.admit(t0 + 62s), "");
}

}  // namespace
}  // namespace chat
