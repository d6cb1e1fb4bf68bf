// SignUpThrottle: how many accounts one address may create. Each sign-up costs a slow
// password hash and a replicated entry, so a flood of them from one address would delay
// every other login behind the hasher. A token bucket per address: `perMinute` sign-ups a
// minute after a first burst of as many. Kept per node in memory, bounded in size.
// Thread contract: thread-safe; times come from the caller.
#ifndef CHAT_SERVICE_SIGN_UP_THROTTLE_H_
#define CHAT_SERVICE_SIGN_UP_THROTTLE_H_

#include <chrono>
#include <string>
#include <unordered_map>

#include "chat/common/clock.h"
#include "chat/common/mutex.h"

namespace chat::service {

class SignUpThrottle {
 public:
  // perMinute 0: no limit.
  explicit SignUpThrottle(uint32_t perMinute, size_t maxAddresses = 100000)
      : perMinute_(perMinute), maxAddresses_(maxAddresses) {}

  // Takes one sign-up for `address`: zero when it may go ahead, else how long until the next
  // one may.
  std::chrono::milliseconds take(const std::string& address, MonoTime now) EXCLUDES(mu_);

 private:
  struct Bucket {
    double tokens = 0;
    MonoTime updated{};
  };
  const uint32_t perMinute_;
  const size_t maxAddresses_;
  Mutex mu_;
  std::unordered_map<std::string, Bucket> buckets_ GUARDED_BY(mu_);
};

}  // namespace chat::service

#endif  // CHAT_SERVICE_SIGN_UP_THROTTLE_H_
