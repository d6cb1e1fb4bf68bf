#include "chat/supervisor/restart_policy.h"

#include <algorithm>

namespace chat::supervisor {

Result<RestartSettings::Mode> parseRestartMode(const std::string& text) {
  if (text == "never") {
    return RestartSettings::Mode::kNever;
  }
  if (text == "on-failure") {
    return RestartSettings::Mode::kOnFailure;
  }
  return Status::invalidArgument("restart policy must be never or on-failure, not '" + text + "'");
}

RestartPolicy::Decision RestartPolicy::onExit(MonoTime now) {
  Decision d;
  if (settings_.mode == RestartSettings::Mode::kNever) {
    d.kind = Decision::Kind::kStayDown;
    d.reason = "restart policy is never";
    return d;
  }
  while (!restarts_.empty() && now - restarts_.front() >= settings_.period) {
    restarts_.pop_front();
  }
  if (restarts_.empty()) {
    consecutive_ = 0;  // it ran well for a whole period: start the backoff over
  }
  auto seconds = std::chrono::duration_cast<std::chrono::seconds>(settings_.period).count();
  if (static_cast<int>(restarts_.size()) >= settings_.intensity) {
    d.kind = Decision::Kind::kGiveUp;
    d.reason = "gave up: " + std::to_string(restarts_.size()) + " restarts within " +
               std::to_string(seconds) + " s; restart it by hand once the cause is fixed";
    return d;
  }
  // 100 ms, 200 ms, 400 ms ... up to the maximum, for restarts in a row.
  Duration delay = settings_.firstDelay;
  for (int i = 0; i < consecutive_ && delay < settings_.maxDelay; ++i) {
    delay *= 2;
  }
  delay = std::min(delay, settings_.maxDelay);
  ++consecutive_;
  restarts_.push_back(now);
  d.kind = Decision::Kind::kRestart;
  d.at = now + delay;
  d.reason = "restart " + std::to_string(restarts_.size()) + " of " +
             std::to_string(settings_.intensity) + " within " + std::to_string(seconds) +
             " s, in " +
             std::to_string(std::chrono::duration_cast<std::chrono::milliseconds>(delay).count()) +
             " ms";
  return d;
}

void RestartPolicy::reset() {
  restarts_.clear();
  consecutive_ = 0;
}

int RestartPolicy::restartsInPeriod(MonoTime now) const {
  return static_cast<int>(std::count_if(restarts_.begin(), restarts_.end(), [&](MonoTime t) {
    return now - t < settings_.period;
  }));
}

}  // namespace chat::supervisor
