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

std::chrono::milliseconds LoginThrottle::begin(const std::string& accountKey,
                                               const std::string& address, MonoTime now) {
  MutexLock lock(mu_);
  auto wait = std::max(remaining(accounts_, accountKey, now), remaining(addresses_, address, now));
  if (wait.count() > 0) {
    return wait;
  }
  if (!accountKey.empty()) {
    count(accounts_, accountKey, options_.freeFailuresPerAccount, now);
  }
  if (!address.empty()) {
    count(addresses_, address, options_.freeFailuresPerAddress, now);
  }
  return std::chrono::milliseconds(0);
}

void LoginThrottle::uncount(std::map<std::string, Entry>& table, const std::string& key,
                            int free) const {
  auto it = table.find(key);
  if (it == table.end()) {
    return;
  }
  Entry& e = it->second;
  if (--e.failures <= 0) {
    table.erase(it);
    return;
  }
  // The lockout as it would be without the attempt taken back.
  int over = e.failures - free;
  e.lockedUntil = over > 0 ? e.lastFailure + lockoutFor(over) : MonoTime{};
}

std::chrono::milliseconds LoginThrottle::lockoutFor(int over) const {
  auto lockout = options_.firstLockout * (int64_t{1} << std::min(over - 1, 30));
  return std::min<std::chrono::milliseconds>(lockout, options_.longestLockout);
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
    e.lockedUntil = now + lockoutFor(over);
  }
}

void LoginThrottle::unknownAccount(const std::string& accountKey) {
  MutexLock lock(mu_);
  uncount(accounts_, accountKey, options_.freeFailuresPerAccount);
}

void LoginThrottle::succeeded(const std::string& accountKey, const std::string& address) {
  MutexLock lock(mu_);
  accounts_.erase(accountKey);
  uncount(addresses_, address, options_.freeFailuresPerAddress);
}

void LoginThrottle::abandoned(const std::string& accountKey, const std::string& address) {
  MutexLock lock(mu_);
  uncount(accounts_, accountKey, options_.freeFailuresPerAccount);
  uncount(addresses_, address, options_.freeFailuresPerAddress);
}

}  // namespace chat::service
