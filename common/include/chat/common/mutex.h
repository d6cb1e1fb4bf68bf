// chat::Mutex and chat::MutexLock: std::mutex with clang thread-safety annotations, so that
// -Wthread-safety checks GUARDED_BY fields. On GCC the annotations expand to nothing.
// Thread contract: as std::mutex.
#ifndef CHAT_COMMON_MUTEX_H_
#define CHAT_COMMON_MUTEX_H_

#include <mutex>

#if defined(__clang__)
#define CHAT_THREAD_ANNOTATION(x) __attribute__((x))
#else
#define CHAT_THREAD_ANNOTATION(x)
#endif

#define CAPABILITY(x) CHAT_THREAD_ANNOTATION(capability(x))
#define SCOPED_CAPABILITY CHAT_THREAD_ANNOTATION(scoped_lockable)
#define GUARDED_BY(x) CHAT_THREAD_ANNOTATION(guarded_by(x))
#define PT_GUARDED_BY(x) CHAT_THREAD_ANNOTATION(pt_guarded_by(x))
#define REQUIRES(...) CHAT_THREAD_ANNOTATION(requires_capability(__VA_ARGS__))
#define EXCLUDES(...) CHAT_THREAD_ANNOTATION(locks_excluded(__VA_ARGS__))
#define ACQUIRE(...) CHAT_THREAD_ANNOTATION(acquire_capability(__VA_ARGS__))
#define RELEASE(...) CHAT_THREAD_ANNOTATION(release_capability(__VA_ARGS__))
#define ASSERT_CAPABILITY(x) CHAT_THREAD_ANNOTATION(assert_capability(x))

namespace chat {

class CAPABILITY("mutex") Mutex {
 public:
  Mutex() = default;
  Mutex(const Mutex&) = delete;  // a lock has identity
  Mutex& operator=(const Mutex&) = delete;

  void lock() ACQUIRE() { mu_.lock(); }
  void unlock() RELEASE() { mu_.unlock(); }
  // Tells the analysis that the caller holds the lock, where it cannot see it (a lambda run
  // by a REQUIRES function). Checks nothing at run time.
  void assertHeld() const ASSERT_CAPABILITY(this) {}

 private:
  std::mutex mu_;
};

class SCOPED_CAPABILITY MutexLock {
 public:
  explicit MutexLock(Mutex& mu) ACQUIRE(mu) : mu_(mu) { mu_.lock(); }
  ~MutexLock() RELEASE() { mu_.unlock(); }
  MutexLock(const MutexLock&) = delete;  // scoped
  MutexLock& operator=(const MutexLock&) = delete;

 private:
  Mutex& mu_;
};

}  // namespace chat

#endif  // CHAT_COMMON_MUTEX_H_
