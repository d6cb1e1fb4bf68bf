// Clock: the only way our code reads time. SystemClock reads the OS; FakeClock is moved by
// tests. Monotonic time drives timeouts; wall time only stamps messages.
// Thread contract: SystemClock is thread-safe; FakeClock is thread-safe (an internal mutex).
#ifndef CHAT_COMMON_CLOCK_H_
#define CHAT_COMMON_CLOCK_H_

#include <chrono>
#include <cstdint>

#include "chat/common/mutex.h"

namespace chat {

using MonoTime = std::chrono::steady_clock::time_point;
using Duration = std::chrono::nanoseconds;

class Clock {
 public:
  virtual ~Clock() = default;
  virtual MonoTime now() const = 0;
  // Milliseconds since the Unix epoch, for message timestamps shown to people.
  virtual int64_t wallMillis() const = 0;
};

class SystemClock final : public Clock {
 public:
  MonoTime now() const override { return std::chrono::steady_clock::now(); }
  int64_t wallMillis() const override;
};

class FakeClock final : public Clock {
 public:
  explicit FakeClock(int64_t wallStartMillis = 1'700'000'000'000) : wall_(wallStartMillis) {}
  MonoTime now() const override EXCLUDES(mu_);
  int64_t wallMillis() const override EXCLUDES(mu_);
  void advance(Duration d) EXCLUDES(mu_);

 private:
  mutable Mutex mu_;
  Duration elapsed_ GUARDED_BY(mu_){0};
  int64_t wall_ GUARDED_BY(mu_);
};

}  // namespace chat

#endif  // CHAT_COMMON_CLOCK_H_
