#include "chat/net/event_loop.h"

#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>

#include "chat/common/batch_scope.h"

namespace chat::net {

Result<std::unique_ptr<EventLoop>> EventLoop::create() {
  int ep = ::epoll_create1(EPOLL_CLOEXEC);
  if (ep < 0) {
    return Status::ioError(std::string("epoll_create1: ") + std::strerror(errno));
  }
  int wake = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (wake < 0) {
    ::close(ep);
    return Status::ioError(std::string("eventfd: ") + std::strerror(errno));
  }
  epoll_event ev{};
  ev.events = EPOLLIN;
  ev.data.fd = wake;
  if (::epoll_ctl(ep, EPOLL_CTL_ADD, wake, &ev) != 0) {
    ::close(ep);
    ::close(wake);
    return Status::ioError(std::string("epoll_ctl: ") + std::strerror(errno));
  }
  return std::unique_ptr<EventLoop>(new EventLoop(ep, wake));
}

EventLoop::EventLoop(int epollFd, int wakeFd) : epollFd_(epollFd), wakeFd_(wakeFd) {}

EventLoop::~EventLoop() {
  handlers_.clear();
  ::close(epollFd_);
  ::close(wakeFd_);
}

void EventLoop::stop() {
  stopping_.store(true);
  post([] {});
}

void EventLoop::post(std::function<void()> task) {
  handOverInScope(this, std::move(task), [this](std::vector<std::function<void()>> tasks) {
    postAll(std::move(tasks));
  });
}

void EventLoop::postAll(std::vector<std::function<void()>> tasks) {
  bool wake = false;
  std::vector<std::function<void()>> dropped;  // destroyed after the lock: may own connections
  {
    MutexLock lock(mu_);
    if (finished_) {
      dropped = std::move(tasks);
      return;
    }
    if (tasks_.empty()) {
      tasks_.swap(tasks);
    } else {
      for (auto& t : tasks) {
        tasks_.push_back(std::move(t));
      }
    }
    // One eventfd write per batch of posts: later posts see wakePending_ and skip it.
    if (!wakePending_) {
      wakePending_ = true;
      wake = true;
    }
  }
  if (wake) {
    uint64_t one = 1;
    ssize_t n = ::write(wakeFd_, &one, sizeof one);
    (void)n;  // EAGAIN means the counter is already non-zero: the loop will wake anyway
  }
}

void EventLoop::runInLoop(std::function<void()> task) {
  if (isInLoopThread()) {
    task();
  } else {
    post(std::move(task));
  }
}

Status EventLoop::add(int fd, uint32_t events, std::shared_ptr<LoopHandler> handler) {
  epoll_event ev{};
  ev.events = events;
  ev.data.fd = fd;
  if (::epoll_ctl(epollFd_, EPOLL_CTL_ADD, fd, &ev) != 0) {
    return Status::ioError(std::string("epoll_ctl add: ") + std::strerror(errno));
  }
  handlers_[fd] = std::move(handler);
  return Status::ok();
}

Status EventLoop::modify(int fd, uint32_t events) {
  epoll_event ev{};
  ev.events = events;
  ev.data.fd = fd;
  if (::epoll_ctl(epollFd_, EPOLL_CTL_MOD, fd, &ev) != 0) {
    return Status::ioError(std::string("epoll_ctl mod: ") + std::strerror(errno));
  }
  return Status::ok();
}

void EventLoop::remove(int fd) {
  ::epoll_ctl(epollFd_, EPOLL_CTL_DEL, fd, nullptr);
  handlers_.erase(fd);
}

void EventLoop::markDirty(const std::shared_ptr<LoopHandler>& handler) {
  dirty_.push_back(handler);
}

void EventLoop::runAfter(std::chrono::milliseconds delay, std::function<void()> task) {
  timers_.emplace(std::chrono::steady_clock::now() + delay, std::move(task));
}

void EventLoop::drainTasks() {
  // Clear the eventfd before taking the queue: a post racing with us then either lands in
  // this batch or writes the eventfd again, so no task waits for the next tick.
  uint64_t count = 0;
  ssize_t n = ::read(wakeFd_, &count, sizeof count);
  (void)n;
  std::vector<std::function<void()>> tasks;
  {
    MutexLock lock(mu_);
    tasks.swap(tasks_);
    wakePending_ = false;
  }
  for (auto& t : tasks) {
    t();
  }
}

void EventLoop::run() {
  loopThread_.store(std::this_thread::get_id());
  constexpr int kMaxEvents = 256;
  epoll_event events[kMaxEvents];
  auto nextTick = std::chrono::steady_clock::now() + std::chrono::seconds(1);
  while (!stopping_.load()) {
    auto now = std::chrono::steady_clock::now();
    auto wakeAt = timers_.empty() ? nextTick : std::min(nextTick, timers_.begin()->first);
    // Rounded up, so that a timer never wakes the loop a moment before it is due.
    int timeoutMs = static_cast<int>(
        std::chrono::ceil<std::chrono::milliseconds>(wakeAt - now).count());
    int n = ::epoll_wait(epollFd_, events, kMaxEvents, std::max(timeoutMs, 0));
    {
      // What the handlers hand to other threads (proposals to the commit log above all)
      // goes once, when this batch of events is done, before the replies are written: one
      // epoll batch, one commit group.
      BatchScope batch;
      for (int i = 0; i < n; ++i) {
        int fd = events[i].data.fd;
        if (fd == wakeFd_) {
          drainTasks();
          continue;
        }
        auto it = handlers_.find(fd);
        if (it != handlers_.end()) {
          auto handler = it->second;  // keep alive while it runs, even if it removes itself
          handler->onEvents(events[i].events);
        }
      }
    }
    // Timers that are due, in deadline order (one may add another: it runs next time round).
    for (auto due = std::chrono::steady_clock::now();
         !timers_.empty() && timers_.begin()->first <= due;) {
      auto task = std::move(timers_.begin()->second);
      timers_.erase(timers_.begin());
      BatchScope batch;
      task();
    }
    // Replies and pushes posted during this iteration are written in one go per connection.
    while (!dirty_.empty()) {
      std::vector<std::shared_ptr<LoopHandler>> dirty;
      dirty.swap(dirty_);
      for (auto& h : dirty) {
        h->flush();
      }
    }
    if (std::chrono::steady_clock::now() >= nextTick) {
      nextTick += std::chrono::seconds(1);
      std::vector<std::shared_ptr<LoopHandler>> all;
      all.reserve(handlers_.size());
      for (auto& [fd, h] : handlers_) {
        all.push_back(h);
      }
      for (auto& h : all) {
        h->onTick();
      }
    }
  }
  drainTasks();
  std::vector<std::function<void()>> late;
  {
    MutexLock lock(mu_);
    finished_ = true;
    late.swap(tasks_);
  }
  late.clear();  // posted after the last drain: never run
  timers_.clear();
  handlers_.clear();
}

}  // namespace chat::net
