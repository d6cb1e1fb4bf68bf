#include "status_poller.h"

#include <fcntl.h>
#include <unistd.h>

#include <chrono>

#include "chat/client/connection.h"

namespace chat::tui {

namespace {
constexpr auto kRoundEvery = std::chrono::milliseconds(1000);
}  // namespace

StatusPoller::StatusPoller(std::vector<std::string> servers, std::shared_ptr<tls::TlsContext> tls)
    : servers_(std::move(servers)), tls_(std::move(tls)) {
  if (::pipe2(pipe_, O_CLOEXEC | O_NONBLOCK) != 0) {
    pipe_[0] = pipe_[1] = -1;
  }
  thread_ = std::jthread([this](std::stop_token stop) { run(stop); });
}

StatusPoller::~StatusPoller() {
  thread_.request_stop();
  if (thread_.joinable()) {
    thread_.join();
  }
  for (int fd : pipe_) {
    if (fd >= 0) {
      ::close(fd);
    }
  }
}

std::optional<std::vector<NodeRow>> StatusPoller::take() {
  char drain[64];
  while (pipe_[0] >= 0 && ::read(pipe_[0], drain, sizeof drain) > 0) {
  }
  MutexLock lock(mu_);
  auto out = std::move(latest_);
  latest_.reset();
  return out;
}

void StatusPoller::run(std::stop_token stop) {
  while (!stop.stop_requested()) {
    auto started = std::chrono::steady_clock::now();
    std::vector<NodeRow> rows;
    for (size_t i = 0; i < servers_.size() && !stop.stop_requested(); ++i) {
      NodeRow row;
      row.id = static_cast<uint32_t>(i + 1);
      row.address = servers_[i];
      auto s = client::fetchStatus(servers_[i], std::chrono::milliseconds(300),
                                   std::chrono::milliseconds(500), tls_.get());
      if (s) {
        row.up = true;
        row.id = s->nodeId != 0 ? s->nodeId : row.id;
        row.role = s->role;
        row.epoch = s->epoch;
        row.commitIndex = s->commitIndex;
        row.lastElection = s->lastElection;
      }
      rows.push_back(std::move(row));
    }
    {
      MutexLock lock(mu_);
      latest_ = std::move(rows);
    }
    if (pipe_[1] >= 0) {
      char one = 1;
      (void)!::write(pipe_[1], &one, 1);
    }
    // Sleep in small steps so that the destructor never waits long.
    while (!stop.stop_requested() && std::chrono::steady_clock::now() - started < kRoundEvery) {
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
  }
}

}  // namespace chat::tui
