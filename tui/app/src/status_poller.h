// StatusPoller: asks every node of the cluster for its status on a thread of its own (a
// paused node makes only this thread wait), for the F3 cluster panel and the "nodes up"
// count of the status strip. Each finished round is handed to the UI thread through
// take(); the UI thread's poll() watches wakeFd(), which becomes readable after a round.
// Thread contract: construct, take() and destroy on the UI thread; the poller thread only
// writes the result under the mutex.
#ifndef CHAT_TUI_APP_STATUS_POLLER_H_
#define CHAT_TUI_APP_STATUS_POLLER_H_

#include <atomic>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "chat/common/mutex.h"
#include "chat/tls/tls_stream.h"
#include "chat/tui/screen_state.h"

namespace chat::tui {

class StatusPoller {
 public:
  StatusPoller(std::vector<std::string> servers, std::shared_ptr<tls::TlsContext> tls);
  ~StatusPoller();
  StatusPoller(const StatusPoller&) = delete;  // owns a thread
  StatusPoller& operator=(const StatusPoller&) = delete;

  int wakeFd() const { return pipe_[0]; }
  // The latest round, once; nullopt when none finished since the last call.
  std::optional<std::vector<NodeRow>> take();

 private:
  void run(std::stop_token stop);

  std::vector<std::string> servers_;
  std::shared_ptr<tls::TlsContext> tls_;
  int pipe_[2] = {-1, -1};
  Mutex mu_;
  std::optional<std::vector<NodeRow>> latest_ GUARDED_BY(mu_);
  std::jthread thread_;
};

}  // namespace chat::tui

#endif  // CHAT_TUI_APP_STATUS_POLLER_H_
