// LogThrottle: keeps one kind of log line from flooding the log. At most `burst` lines go
// through per `period`; the rest are counted, and the next line let through says how many
// were left out. A flood of bad connections (garbage on the client port, strangers on the
// peer port) then costs a few lines a minute instead of one per connection: no disk filled,
// no CPU spent formatting what nobody reads.
// Thread contract: thread-safe; times come from the caller.
#ifndef CHAT_COMMON_LOG_THROTTLE_H_
#define CHAT_COMMON_LOG_THROTTLE_H_

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>

#include "chat/common/clock.h"
#include "chat/common/mutex.h"

namespace chat {

class LogThrottle {
 public:
  LogThrottle(uint32_t burst, std::chrono::milliseconds period)
      : burst_(burst), period_(period) {}

  // nullopt: leave this line out. Otherwise log it, followed by the returned suffix (empty, or
  // " (N more like it were left out)").
  std::optional<std::string> admit(MonoTime now) EXCLUDES(mu_) {
    MutexLock lock(mu_);
    if (now - windowStart_ >= period_) {
      windowStart_ = now;
      inWindow_ = 0;
    }
    if (inWindow_ >= burst_) {
      ++skipped_;
      return std::nullopt;
    }
    ++inWindow_;
    std::string suffix;
    if (skipped_ > 0) {
      suffix = " (" + std::to_string(skipped_) + " more like it were left out)";
      skipped_ = 0;
    }
    return suffix;
  }

 private:
  const uint32_t burst_;
  const std::chrono::milliseconds period_;
  Mutex mu_;
  MonoTime windowStart_ GUARDED_BY(mu_){};
  uint32_t inWindow_ GUARDED_BY(mu_) = 0;
  uint64_t skipped_ GUARDED_BY(mu_) = 0;
};

}  // namespace chat

#endif  // CHAT_COMMON_LOG_THROTTLE_H_
