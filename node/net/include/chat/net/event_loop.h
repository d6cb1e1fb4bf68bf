// EventLoop: one thread multiplexing many sockets with epoll, plus a task queue other
// threads post into (woken through an eventfd) and a once-a-second tick. The client
// listener hands each accepted connection to one of a few loops, so 10,000 idle clients
// cost 10,000 epoll registrations, not 10,000 threads (docs/architecture.md says why we
// chose this over Poco's SocketReactor).
//
// Thread contract: post(), stop() and isInLoopThread() are thread-safe; add/modify/remove
// and markDirty must run on the loop thread (assertInLoopThread()).
#ifndef CHAT_NET_EVENT_LOOP_H_
#define CHAT_NET_EVENT_LOOP_H_

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <thread>
#include <unordered_map>
#include <vector>

#include "chat/common/mutex.h"
#include "chat/common/status.h"

namespace chat::net {

// Something with a file descriptor that the loop watches.
class LoopHandler {
 public:
  virtual ~LoopHandler() = default;
  // Called on the loop thread with epoll event bits (EPOLLIN, EPOLLOUT, EPOLLERR, EPOLLHUP).
  virtual void onEvents(uint32_t events) = 0;
  // Called at the end of a loop iteration after markDirty(): write buffered output.
  virtual void flush() = 0;
  // Called once a second on the loop thread (idle timeouts).
  virtual void onTick() = 0;
};

class EventLoop {
 public:
  // kIoError when epoll or eventfd cannot be created.
  static Result<std::unique_ptr<EventLoop>> create();
  ~EventLoop();  // REQUIRES: the loop thread has stopped (stop() then join the runner)
  EventLoop(const EventLoop&) = delete;  // owns file descriptors
  EventLoop& operator=(const EventLoop&) = delete;

  // Runs until stop(); on the calling thread, which becomes the loop thread.
  void run();
  void stop();
  // Runs `task` on the loop thread soon. Thread-safe. Once the loop has finished running,
  // tasks are dropped at once (destroyed on the caller's thread), so nothing a task holds
  // stays alive in a loop that will never run it. While the calling thread has a
  // BatchScope open, tasks are gathered and handed over together when it closes (one lock,
  // one wake-up); REQUIRES then that the loop outlives the scope (a task that holds a
  // connection holds its loop).
  void post(std::function<void()> task) EXCLUDES(mu_);
  // Runs `task` now when called on the loop thread, else posts it.
  void runInLoop(std::function<void()> task);
  bool isInLoopThread() const { return std::this_thread::get_id() == loopThread_.load(); }

  // Watches `fd` for `events`; the loop keeps `handler` alive while registered.
  Status add(int fd, uint32_t events, std::shared_ptr<LoopHandler> handler);
  Status modify(int fd, uint32_t events);
  void remove(int fd);
  // Asks for handler->flush() at the end of this iteration (coalesces writes).
  void markDirty(const std::shared_ptr<LoopHandler>& handler);
  // Runs `task` on the loop thread once `delay` has passed (to the millisecond). REQUIRES:
  // on the loop thread. A task that holds a handler should hold it weakly, or check that
  // it still matters: timers are not cancelled.
  void runAfter(std::chrono::milliseconds delay, std::function<void()> task);
  size_t handlerCount() const { return handlers_.size(); }

 private:
  EventLoop(int epollFd, int wakeFd);
  void drainTasks() EXCLUDES(mu_);
  void postAll(std::vector<std::function<void()>> tasks) EXCLUDES(mu_);

  const int epollFd_;
  const int wakeFd_;
  std::atomic<std::thread::id> loopThread_;
  std::atomic<bool> stopping_{false};

  Mutex mu_;
  std::vector<std::function<void()>> tasks_ GUARDED_BY(mu_);
  bool wakePending_ GUARDED_BY(mu_) = false;
  bool finished_ GUARDED_BY(mu_) = false;

  // Owned by the loop thread
  std::unordered_map<int, std::shared_ptr<LoopHandler>> handlers_;
  std::vector<std::shared_ptr<LoopHandler>> dirty_;
  std::multimap<std::chrono::steady_clock::time_point, std::function<void()>> timers_;
};

}  // namespace chat::net

#endif  // CHAT_NET_EVENT_LOOP_H_
