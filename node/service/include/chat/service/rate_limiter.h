// RateLimiter: how often one key (an address, an account) may do something costly. A token
// bucket per key: `perSecond` on average after a first burst of `burst`. Used for sign-ups
// per address (each costs a slow password hash and a replicated entry) and sends per account
// (each costs a replicated entry, and one account must not take the log's whole throughput).
// Kept per node in memory, bounded in size: beyond `maxKeys` the full buckets (which hold
// nothing worth keeping) are forgotten first.
// Thread contract: thread-safe; times come from the caller.
#ifndef CHAT_SERVICE_RATE_LIMITER_H_
#define CHAT_SERVICE_RATE_LIMITER_H_

#include <algorithm>
#include <chrono>
#include <cmath>
#include <unordered_map>

#include "chat/common/clock.h"
#include "chat/common/mutex.h"

namespace chat::service {

template <typename Key>
class RateLimiter {
 public:
  // perSecond 0: no limit.
  RateLimiter(double perSecond, double burst, size_t maxKeys = 100000)
      : perMilli_(perSecond / 1000.0), burst_(std::max(1.0, burst)), maxKeys_(maxKeys) {}

  // Takes one for `key`: zero when it may go ahead, else how long until the next one may.
  std::chrono::milliseconds take(const Key& key, MonoTime now) EXCLUDES(mu_) {
    if (perMilli_ <= 0) {
      return std::chrono::milliseconds(0);
    }
    MutexLock lock(mu_);
    auto it = buckets_.find(key);
    if (it == buckets_.end()) {
      if (buckets_.size() >= maxKeys_) {
        std::erase_if(buckets_, [&](const auto& entry) {
          return refilled(entry.second, now) >= burst_;
        });
        if (buckets_.size() >= maxKeys_) {
          buckets_.erase(buckets_.begin());
        }
      }
      it = buckets_.emplace(key, Bucket{burst_, now}).first;
    }
    Bucket& b = it->second;
    b.tokens = refilled(b, now);
    b.updated = now;
    if (b.tokens >= 1) {
      b.tokens -= 1;
      return std::chrono::milliseconds(0);
    }
    return std::chrono::milliseconds(static_cast<int64_t>(std::ceil((1 - b.tokens) / perMilli_)));
  }

 private:
  struct Bucket {
    double tokens = 0;
    MonoTime updated{};
  };
  double refilled(const Bucket& b, MonoTime now) const {
    auto elapsed = std::chrono::duration<double, std::milli>(now - b.updated).count();
    return std::min(burst_, b.tokens + std::max(0.0, elapsed) * perMilli_);
  }

  const double perMilli_;
  const double burst_;
  const size_t maxKeys_;
  Mutex mu_;
  std::unordered_map<Key, Bucket> buckets_ GUARDED_BY(mu_);
};

}  // namespace chat::service

#endif  // CHAT_SERVICE_RATE_LIMITER_H_
