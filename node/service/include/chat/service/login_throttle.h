// LoginThrottle: slows down password guessing. Every wrong password counts against the
// account and against the address it came from; past a few free failures each further one
// locks that account (or address) out for a time that doubles with every failure (1 s, 2 s,
// 4 s, ... up to 15 minutes). A right password clears the account's count. Counts are kept
// per node in memory (not replicated): a guesser who moves to another node starts over
// there, still throttled per address; a restart forgets them.
//
// An attempt is counted when it starts (begin), before the slow password check, and taken
// back when it turns out right: K parallel connections get no more guesses than one.
// Thread contract: thread-safe; times come from the caller.
#ifndef CHAT_SERVICE_LOGIN_THROTTLE_H_
#define CHAT_SERVICE_LOGIN_THROTTLE_H_

#include <chrono>
#include <map>
#include <string>

#include "chat/common/clock.h"
#include "chat/common/mutex.h"

namespace chat::service {

struct LoginThrottleOptions {
  int freeFailuresPerAccount = 5;
  int freeFailuresPerAddress = 20;
  std::chrono::milliseconds firstLockout{1000};
  std::chrono::milliseconds longestLockout{15 * 60 * 1000};
  // A key with no failure for this long is forgotten.
  std::chrono::milliseconds forgetAfter{15 * 60 * 1000};
  size_t maxKeys = 100000;  // memory bound: the oldest are forgotten first
};

class LoginThrottle {
 public:
  explicit LoginThrottle(LoginThrottleOptions options = {}) : options_(options) {}

  // Starts a login for `accountKey` from `address`: how long it must wait (nothing counted
  // then), or zero once the attempt is counted as a failure against both until its outcome
  // is reported by one of the three calls below.
  std::chrono::milliseconds begin(const std::string& accountKey, const std::string& address,
                                  MonoTime now) EXCLUDES(mu_);
  // A wrong password: the attempt stays counted.
  void wrongPassword() {}
  // No such account: it counts against the address only.
  void unknownAccount(const std::string& accountKey) EXCLUDES(mu_);
  // The right password: the account's count is cleared, the address's attempt taken back.
  void succeeded(const std::string& accountKey, const std::string& address) EXCLUDES(mu_);
  // Not decided (the server was busy or failed): taken back from both.
  void abandoned(const std::string& accountKey, const std::string& address) EXCLUDES(mu_);

 private:
  struct Entry {
    int failures = 0;
    MonoTime lockedUntil{};
    MonoTime lastFailure{};
  };
  void count(std::map<std::string, Entry>& table, const std::string& key, int free, MonoTime now)
      REQUIRES(mu_);
  void uncount(std::map<std::string, Entry>& table, const std::string& key, int free) const
      REQUIRES(mu_);
  std::chrono::milliseconds lockoutFor(int over) const;  // over: failures beyond the free ones
  std::chrono::milliseconds remaining(const std::map<std::string, Entry>& table,
                                      const std::string& key, MonoTime now) const REQUIRES(mu_);

  LoginThrottleOptions options_;
  Mutex mu_;
  std::map<std::string, Entry> accounts_ GUARDED_BY(mu_);
  std::map<std::string, Entry> addresses_ GUARDED_BY(mu_);
};

}  // namespace chat::service

#endif  // CHAT_SERVICE_LOGIN_THROTTLE_H_
