// ReconnectPolicy: which node a cluster client tries next and how long it waits first. Pure
// logic (no sockets, no clock reads) so that it is tested on its own.
//
// Order: a leader named by a redirect first; otherwise the servers in succession order,
// starting after the one that failed, since the next node in line is the one that takes
// over. Delays: none while untried nodes remain in this round; after a whole round fails,
// exponential backoff with jitter (between half and all of the current step), up to a
// maximum; any success resets it.
//
// Thread contract: not thread-safe.
#ifndef CHAT_CLIENT_RECONNECT_POLICY_H_
#define CHAT_CLIENT_RECONNECT_POLICY_H_

#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include "chat/common/random.h"

namespace chat::client {

class ReconnectPolicy {
 public:
  using Millis = std::chrono::milliseconds;
  // REQUIRES: servers is not empty; 0 < minDelay <= maxDelay.
  ReconnectPolicy(std::vector<std::string> servers, Millis minDelay, Millis maxDelay,
                  uint64_t seed);

  struct Attempt {
    std::string address;
    Millis delay{0};  // wait this long before trying it
  };
  // The next address to try and the wait before it.
  Attempt next();
  // A connection to `address` worked and a request was answered: start afresh from there.
  void succeeded(const std::string& address);
  // A connection to `address` opened (whether or not it leads): the network is there, so
  // the failures so far do not add up to a failed round.
  void connected(const std::string& address);
  // `address` failed (refused, lost, or it answered that it does not lead and knows no one
  // who does). The next attempt goes to the node after it.
  void failed(const std::string& address);
  // A node named `address` as the leader: try it next, at once — unless redirects keep
  // bouncing without a success (a follower still naming a leader that just died), in which
  // case each waits the minimum delay: an election settles it within a second.
  void redirected(const std::string& address);
  // `address` answered that it knows no leader yet (an election is under way): ask it again
  // shortly (it learns the winner with the first heartbeat), but after a few such answers
  // in a row treat it as failed (it may be cut off from the others).
  void noLeaderYet(const std::string& address);

  const std::vector<std::string>& servers() const { return servers_; }
  Millis currentStep() const { return step_; }

 private:
  size_t indexOf(const std::string& address) const;
  Millis jittered();

  std::vector<std::string> servers_;
  const Millis minDelay_;
  const Millis maxDelay_;
  Random random_;
  size_t nextIndex_ = 0;
  size_t failuresThisRound_ = 0;
  size_t redirectsSinceSuccess_ = 0;
  size_t noLeaderAnswers_ = 0;
  bool shortWait_ = false;
  std::optional<std::string> hint_;
  Millis step_;
  bool waitBeforeNext_ = false;
};

}  // namespace chat::client

#endif  // CHAT_CLIENT_RECONNECT_POLICY_H_
