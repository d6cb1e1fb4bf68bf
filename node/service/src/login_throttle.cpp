#include "chat/service/login_throttle.h"

#include <algorithm>

namespace chat::service {

std::chrono::milliseconds LoginThrottle::remaining(const std::map<std::string, Entry>& table,
                                                   const std::string& key, MonoTime now) const {
  auto it = table.find(key);
  if (it == table.end() || it->second.lockedUntil <= now) {
    return std::chrono::milliseconds(0);
  }
  return std::chrono::ceil<std::chrono::milliseconds>(it->second.lockedUntil - now);
}

std::chrono::milliseconds LoginThrottle::waitFor(const std::string& accountKey,
                                                 const std::string& address, MonoTime now) {
  MutexLock lock(mu_);
  return std::max(remaining(accounts_, accountKey, now), remaining(addresses_, address, now));
}

void LoginThrottle::count(std::map<std::string, Entry>& table, const std::string& key, int free,
                          MonoTime now) {
  if (table.size() >= options_.maxKeys && table.find(key) == table.end()) {
    // Forget what has been quiet longest; an attacker cannot grow this without bound.
    auto oldest = std::min_element(table.begin(), table.end(), [](const auto& a, const auto& b) {
      return a.second.lastFailure < b.second.lastFailure;
    });
    table.erase(oldest);
  }
  Entry& e = table[key];
  if (e.failures > 0 && now - e.lastFailure > options_.forgetAfter) {
    e = Entry{};
  }
  ++e.failures;
  e.lastFailure = now;
  int over = e.failures - free;
  if (over > 0) {
    auto lockout = options_.firstLockout * (int64_t{1} << std::min(over - 1, 30));
    e.lockedUntil = now + std::min<std::chrono::milliseconds>(lockout, options_.longestLockout);
  }
}

void LoginThrottle::failed(const std::string& accountKey, const std::string& address,
                           MonoTime now) {
  MutexLock lock(mu_);
  if (!accountKey.empty()) {
    count(accounts_, accountKey, options_.freeFailuresPerAccount, now);
  }
  if (!address.empty()) {
    count(addresses_, address, options_.freeFailuresPerAddress, now);
  }
}

void LoginThrottle::succeeded(const std::string& accountKey) {
  MutexLock lock(mu_);
  accounts_.erase(accountKey);
}

}  // namespace chat::service
