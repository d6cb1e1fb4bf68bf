// RestartPolicy: what the supervisor does when a node's process ends by itself, as OTP's
// supervisors do: never restart, or restart on failure after an exponential backoff, giving
// up on a node that needed more than `intensity` restarts within `period` (it is then
// broken, not unlucky, and restarting it for ever would hide that). Pure logic.
// Thread contract: not thread-safe.
#ifndef CHAT_SUPERVISOR_RESTART_POLICY_H_
#define CHAT_SUPERVISOR_RESTART_POLICY_H_

#include <chrono>
#include <deque>
#include <string>

#include "chat/common/clock.h"
#include "chat/common/status.h"

namespace chat::supervisor {

struct RestartSettings {
  enum class Mode { kNever, kOnFailure };
  Mode mode = Mode::kOnFailure;
  int intensity = 5;                                  // restarts allowed within `period`
  Duration period = std::chrono::seconds(60);
  Duration firstDelay = std::chrono::milliseconds(100);
  Duration maxDelay = std::chrono::seconds(5);
};

// "never" or "on-failure"; kInvalidArgument otherwise.
Result<RestartSettings::Mode> parseRestartMode(const std::string& text);

class RestartPolicy {
 public:
  explicit RestartPolicy(RestartSettings settings) : settings_(settings) {}

  struct Decision {
    enum class Kind { kRestart, kStayDown, kGiveUp };
    Kind kind = Kind::kStayDown;
    MonoTime at{};       // kRestart: when
    std::string reason;  // for the event log
  };
  // The node's process ended by itself at `now`.
  Decision onExit(MonoTime now);
  // The node was (re)started by hand: its history starts afresh.
  void reset();
  int restartsInPeriod(MonoTime now) const;
  const RestartSettings& settings() const { return settings_; }

 private:
  RestartSettings settings_;
  std::deque<MonoTime> restarts_;  // within the last period
  int consecutive_ = 0;            // for the backoff
};

}  // namespace chat::supervisor

#endif  // CHAT_SUPERVISOR_RESTART_POLICY_H_
