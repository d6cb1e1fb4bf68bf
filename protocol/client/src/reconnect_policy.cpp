#include "chat/client/reconnect_policy.h"

#include <algorithm>

#include "chat/common/check.h"

namespace chat::client {

ReconnectPolicy::ReconnectPolicy(std::vector<std::string> servers, Millis minDelay,
                                 Millis maxDelay, uint64_t seed)
    : servers_(std::move(servers)),
      minDelay_(minDelay),
      maxDelay_(maxDelay),
      random_(seed),
      step_(minDelay) {
  CHAT_CHECK(!servers_.empty());
  CHAT_CHECK(minDelay.count() > 0 && minDelay <= maxDelay);
}

size_t ReconnectPolicy::indexOf(const std::string& address) const {
  auto it = std::find(servers_.begin(), servers_.end(), address);
  return it == servers_.end() ? servers_.size() : static_cast<size_t>(it - servers_.begin());
}

ReconnectPolicy::Millis ReconnectPolicy::jittered() {
  auto half = static_cast<uint64_t>(step_.count()) / 2;
  auto delay = Millis(static_cast<int64_t>(half + random_.uniform(0, half)));
  step_ = std::min(maxDelay_, step_ * 2);
  return delay;
}

ReconnectPolicy::Attempt ReconnectPolicy::next() {
  Attempt attempt;
  if (waitBeforeNext_) {
    attempt.delay = jittered();
    waitBeforeNext_ = false;
  } else if (shortWait_) {
    attempt.delay = minDelay_;
  }
  shortWait_ = false;
  if (hint_) {
    attempt.address = std::move(*hint_);
    hint_.reset();
    return attempt;
  }
  attempt.address = servers_[nextIndex_ % servers_.size()];
  return attempt;
}

void ReconnectPolicy::succeeded(const std::string& address) {
  step_ = minDelay_;
  failuresThisRound_ = 0;
  redirectsSinceSuccess_ = 0;
  noLeaderAnswers_ = 0;
  waitBeforeNext_ = false;
  size_t i = indexOf(address);
  if (i < servers_.size()) {
    // Should this node fail, the one after it is the likely successor.
    nextIndex_ = i + 1;
  }
}

void ReconnectPolicy::connected(const std::string&) {
  failuresThisRound_ = 0;
}

void ReconnectPolicy::failed(const std::string& address) {
  size_t i = indexOf(address);
  nextIndex_ = i < servers_.size() ? i + 1 : nextIndex_ + 1;
  if (++failuresThisRound_ >= servers_.size()) {
    failuresThisRound_ = 0;
    waitBeforeNext_ = true;
  }
}

void ReconnectPolicy::noLeaderYet(const std::string& address) {
  // An election takes a few election timeouts at most; 25 answers at the minimum delay
  // cover that, and a node that still knows no leader is probably cut off.
  if (++noLeaderAnswers_ > 25) {
    noLeaderAnswers_ = 0;
    return failed(address);
  }
  hint_ = address;
  shortWait_ = true;
}

void ReconnectPolicy::redirected(const std::string& address) {
  hint_ = address;
  // Two nodes naming each other (one of them stale) must not spin: after a round's worth of
  // redirects without an answered request, pause briefly between them.
  if (++redirectsSinceSuccess_ > servers_.size()) {
    shortWait_ = true;
  }
}

}  // namespace chat::client
