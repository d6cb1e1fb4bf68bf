#include "chat/common/clock.h"

namespace chat {

int64_t SystemClock::wallMillis() const {
  using std::chrono::duration_cast;
  using std::chrono::milliseconds;
  return duration_cast<milliseconds>(std::chrono::system_clock::now().time_since_epoch()).count();
}

MonoTime FakeClock::now() const {
  MutexLock lock(mu_);
  return MonoTime(elapsed_);
}

int64_t FakeClock::wallMillis() const {
  MutexLock lock(mu_);
  return wall_ + std::chrono::duration_cast<std::chrono::milliseconds>(elapsed_).count();
}

void FakeClock::advance(Duration d) {
  MutexLock lock(mu_);
  elapsed_ += d;
}

}  // namespace chat
