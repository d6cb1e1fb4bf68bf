// The supervisor's control socket: a Unix domain socket in the run folder. One request per
// connection, one line of text (`status`, `status json`, `kill leader`, `kill N`, `pause N`,
// `resume N`, `restart N`, `restart all`, `stop`; `force` at the end confirms a kill or pause
// that would leave no majority); the answer starts with `OK`, `ERROR` or `CONFIRM` and the
// connection closes. `chat-supervisor ctl` is the client.
// Thread contract: ControlServer is used by the supervisor's loop thread only.
#ifndef CHAT_SUPERVISOR_CONTROL_SOCKET_H_
#define CHAT_SUPERVISOR_CONTROL_SOCKET_H_

#include <chrono>
#include <functional>
#include <string>

#include "chat/common/status.h"

namespace chat::supervisor {

class ControlServer {
 public:
  // Binds `path` (replacing a stale socket file). Errors: kIoError.
  static Result<ControlServer> listen(const std::string& path);
  ControlServer(ControlServer&& other) noexcept;
  ControlServer& operator=(ControlServer&&) = delete;
  ControlServer(const ControlServer&) = delete;
  ControlServer& operator=(const ControlServer&) = delete;
  ~ControlServer();  // closes and removes the socket file

  int fd() const { return fd_; }
  // Accepts one waiting client, reads its request line (waiting at most a second) and writes
  // `handle(line)`'s answer. Never blocks when nobody is waiting.
  void serveOne(const std::function<std::string(const std::string&)>& handle);

 private:
  ControlServer(int fd, std::string path) : fd_(fd), path_(std::move(path)) {}
  int fd_ = -1;
  std::string path_;
};

// Sends `request` to the supervisor at `path` and returns its whole answer.
// Errors: kUnavailable (no supervisor there), kTimeout.
Result<std::string> controlRequest(const std::string& path, const std::string& request,
                                   std::chrono::milliseconds timeout);

}  // namespace chat::supervisor

#endif  // CHAT_SUPERVISOR_CONTROL_SOCKET_H_
