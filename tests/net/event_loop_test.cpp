// EventLoop's task queue: posts from another thread run on the loop in order; posts made
// while a BatchScope is open wait for it to close and then arrive together; timers run on
// the loop in deadline order, never before they are due, well before the next tick.
#include "chat/net/event_loop.h"

#include <atomic>
#include <chrono>
#include <future>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "chat/common/batch_scope.h"

namespace chat::net {
namespace {

using namespace std::chrono_literals;

class RunningLoop {
 public:
  RunningLoop() : loop_(std::move(EventLoop::create()).value()), thread_([this] { loop_->run(); }) {}
  ~RunningLoop() {
    loop_->stop();
    thread_.join();
  }
  EventLoop& operator*() { return *loop_; }
  EventLoop* operator->() { return loop_.get(); }

 private:
  std::unique_ptr<EventLoop> loop_;
  std::thread thread_;
};

TEST(EventLoopTest, PostsRunOnTheLoopInOrder) {
  RunningLoop loop;
  std::vector<int> seen;
  std::promise<void> done;
  for (int i = 0; i < 100; ++i) {
    loop->post([&, i] {
      EXPECT_TRUE(loop->isInLoopThread());
      seen.push_back(i);
      if (i == 99) {
        done.set_value();
      }
    });
  }
  ASSERT_EQ(done.get_future().wait_for(5s), std::future_status::ready);
  for (int i = 0; i < 100; ++i) {
    EXPECT_EQ(seen[static_cast<size_t>(i)], i);
  }
}

TEST(EventLoopTest, PostsInABatchScopeArriveTogetherWhenItCloses) {
  RunningLoop first;
  RunningLoop second;
  std::atomic<int> ran{0};
  std::vector<int> order;  // of the first loop's tasks, on its thread
  std::promise<void> done;
  {
    BatchScope batch;
    for (int i = 0; i < 50; ++i) {
      first->post([&, i] {
        order.push_back(i);
        ran.fetch_add(1);
      });
      second->post([&] { ran.fetch_add(1); });
    }
    std::this_thread::sleep_for(20ms);  // a loop would have run a posted task by now
    EXPECT_EQ(ran.load(), 0);
    first->post([&] { done.set_value(); });
  }
  ASSERT_EQ(done.get_future().wait_for(5s), std::future_status::ready);
  ASSERT_EQ(order.size(), 50u);
  for (int i = 0; i < 50; ++i) {
    EXPECT_EQ(order[static_cast<size_t>(i)], i);
  }
  // Posts after the scope go directly again.
  std::promise<void> direct;
  second->post([&] { direct.set_value(); });
  EXPECT_EQ(direct.get_future().wait_for(5s), std::future_status::ready);
  EXPECT_EQ(ran.load(), 100);
}

TEST(EventLoopTest, TimersRunInDeadlineOrderAndNotBeforeTheyAreDue) {
  RunningLoop loop;
  std::vector<int> order;
  std::vector<std::chrono::steady_clock::duration> late;
  std::promise<void> done;
  loop->post([&] {
    auto start = std::chrono::steady_clock::now();
    for (int delay : {40, 10, 25}) {
      loop->runAfter(std::chrono::milliseconds(delay), [&, delay, start] {
        EXPECT_TRUE(loop->isInLoopThread());
        order.push_back(delay);
        late.push_back(std::chrono::steady_clock::now() - start - std::chrono::milliseconds(delay));
        if (order.size() == 3) {
          done.set_value();
        }
      });
    }
  });
  // Far sooner than the loop's once-a-second tick.
  ASSERT_EQ(done.get_future().wait_for(900ms), std::future_status::ready);
  EXPECT_EQ(order, (std::vector<int>{10, 25, 40}));
  for (auto l : late) {
    EXPECT_GE(l.count(), 0) << "a timer ran before it was due";
  }
}

}  // namespace
}  // namespace chat::net
