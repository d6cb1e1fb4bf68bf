#include "chat/service/sign_up_throttle.h"

#include <algorithm>
#include <cmath>

namespace chat::service {

std::chrono::milliseconds SignUpThrottle::take(const std::string& address, MonoTime now) {
  if (perMinute_ == 0) {
    return std::chrono::milliseconds(0);
  }
  const double capacity = perMinute_;
  const double perMilli = perMinute_ / 60000.0;
  MutexLock lock(mu_);
  auto it = buckets_.find(address);
  if (it == buckets_.end()) {
    if (buckets_.size() >= maxAddresses_) {
      // Full buckets hold nothing worth keeping: forget them first, then anything.
      std::erase_if(buckets_, [&](const auto& entry) {
        const Bucket& b = entry.second;
        auto idle = std::chrono::duration<double, std::milli>(now - b.updated).count();
        return b.tokens + idle * perMilli >= capacity;
      });
      if (buckets_.size() >= maxAddresses_) {
        buckets_.erase(buckets_.begin());
      }
    }
    it = buckets_.emplace(address, Bucket{capacity, now}).first;
  }
  Bucket& b = it->second;
  auto elapsed = std::chrono::duration<double, std::milli>(now - b.updated).count();
  b.tokens = std::min(capacity, b.tokens + std::max(0.0, elapsed) * perMilli);
  b.updated = now;
  if (b.tokens >= 1) {
    b.tokens -= 1;
    return std::chrono::milliseconds(0);
  }
  return std::chrono::milliseconds(static_cast<int64_t>(std::ceil((1 - b.tokens) / perMilli)));
}

}  // namespace chat::service
