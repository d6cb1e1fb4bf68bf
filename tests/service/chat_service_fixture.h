// The ChatService test fixture: a service over the real single-node log and the in-memory
// store, with sessions that record what they are pushed and a log that can hold proposals.
// Shared by the service's test files.
#ifndef CHAT_TESTS_SERVICE_CHAT_SERVICE_FIXTURE_H_
#define CHAT_TESTS_SERVICE_CHAT_SERVICE_FIXTURE_H_

#include <condition_variable>
#include <deque>
#include <future>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "chat/service/chat_service.h"
#include "chat/storage/archived_store.h"
#include "support/single_node_log.h"

namespace chat::service {

using namespace std::chrono_literals;

// A ClientSession that records what the service sends it.
class RecordingSession final : public ClientSession {
 public:
  explicit RecordingSession(bool acks = true, std::string address = "10.0.0.1")
      : acks_(acks), address_(std::move(address)) {}
  std::string peerAddress() const override { return address_; }
  void push(const protocol::Push& push) override {
    std::lock_guard lock(mu_);
    pushes_.push_back(push);
    cv_.notify_all();
  }
  void endSession(const std::string& reason) override {
    std::lock_guard lock(mu_);
    ended_ = reason;
    cv_.notify_all();
  }
  bool acksMessages() const override { return acks_; }

  // Waits for a push of type T (up to 5 s) and removes it.
  template <typename T>
  std::optional<T> waitFor() {
    std::unique_lock lock(mu_);
    std::optional<T> found;
    cv_.wait_for(lock, 5s, [&] {
      for (auto it = pushes_.begin(); it != pushes_.end(); ++it) {
        if (auto* p = std::get_if<T>(&*it)) {
          found = *p;
          pushes_.erase(it);
          return true;
        }
      }
      return false;
    });
    return found;
  }
  template <typename T>
  size_t count() {
    std::lock_guard lock(mu_);
    size_t n = 0;
    for (const auto& p : pushes_) {
      n += std::holds_alternative<T>(p) ? 1U : 0U;
    }
    return n;
  }
  std::string ended() {
    std::unique_lock lock(mu_);
    cv_.wait_for(lock, 5s, [&] { return !ended_.empty(); });
    return ended_;
  }

 private:
  const bool acks_;
  const std::string address_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<protocol::Push> pushes_;
  std::string ended_;
};

// Passes proposals to the real log, or holds them until the test fails or releases them:
// the delay between a proposal and its turn on the commit thread, made deterministic.
class HoldingCommitLog final : public CommitLog {
 public:
  explicit HoldingCommitLog(CommitLog& target) : target_(target) {}
  void propose(storage::Operation op, Done done, Urgency urgency, Gate gate) override {
    std::lock_guard lock(mu_);
    if (!holding_) {
      return target_.propose(std::move(op), std::move(done), urgency, std::move(gate));
    }
    held_.push_back(Held{std::move(op), std::move(done), urgency, std::move(gate)});
  }
  void setObserver(ApplyObserver* observer) override { target_.setObserver(observer); }
  uint64_t appliedIndex() const override { return target_.appliedIndex(); }
  uint64_t epoch() const override { return target_.epoch(); }

  void hold() { holding_ = true; }
  // Fails the oldest held proposal, as a leader that lost its leadership would.
  void failOldest(const std::string& why) {
    Held h = takeOldest();
    h.done(Status::unavailable(why));
  }
  // Hands the held proposals to the real log in order and stops holding.
  void releaseAll() {
    std::deque<Held> held;
    {
      std::lock_guard lock(mu_);
      held.swap(held_);
      holding_ = false;
    }
    for (auto& h : held) {
      target_.propose(std::move(h.op), std::move(h.done), h.urgency, std::move(h.gate));
    }
  }
  size_t heldCount() {
    std::lock_guard lock(mu_);
    return held_.size();
  }

 private:
  struct Held {
    storage::Operation op;
    Done done;
    Urgency urgency;
    Gate gate;
  };
  Held takeOldest() {
    std::lock_guard lock(mu_);
    Held h = std::move(held_.front());
    held_.pop_front();
    return h;
  }
  CommitLog& target_;
  std::mutex mu_;
  bool holding_ = false;
  std::deque<Held> held_;
};

class ChatServiceTest : public ::testing::Test {
 protected:
  ChatServiceTest()
      : hasher_(HashCost::kMin),
        log_(store_),
        holding_(*log_.log),
        service_(clock_, store_, holding_, hasher_, executor_, ServiceOptions{}) {}

  struct Client {
    std::shared_ptr<RecordingSession> session;
    ContextPtr context;
  };
  Client connect(bool acks = true, const std::string& address = "10.0.0.1") {
    auto session = std::make_shared<RecordingSession>(acks, address);
    return Client{session, service_.attach(session)};
  }
  protocol::Response call(const Client& c, const protocol::Request& request) {
    std::promise<protocol::Response> promise;
    auto future = promise.get_future();
    service_.handle(c.context, ++nextId_, request,
                    [&promise](protocol::Response r) { promise.set_value(std::move(r)); });
    EXPECT_EQ(future.wait_for(5s), std::future_status::ready);
    auto response = future.get();
    EXPECT_EQ(response.requestId, nextId_);
    return response;
  }
  Client loggedIn(const std::string& name, const std::string& password = "pw") {
    Client c = connect();
    call(c, protocol::CreateRequest{name, password});
    auto r = call(c, protocol::LoginRequest{name, password});
    EXPECT_TRUE(r.isOk()) << r.error;
    return c;
  }

  FakeClock clock_;
  storage::InMemoryMessageStore store_;
  PasswordHasher hasher_;
  InlineExecutor executor_;
  chat::testing::SingleNodeLog log_;
  HoldingCommitLog holding_;
  ChatService service_;
  uint64_t nextId_ = 0;
};

}  // namespace chat::service

#endif  // CHAT_TESTS_SERVICE_CHAT_SERVICE_FIXTURE_H_
