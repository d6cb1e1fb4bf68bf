// NodeLauncher: starts chat-node processes and signals and reaps them: the process side of
// chat-supervisor, and of chat-bench's failover measurement. Each child runs
// `chat-node ARGS...` with stdout and stderr appended to a log file of its own, in a new
// process group, and dies with its parent (PR_SET_PDEATHSIG) unless told to outlive it.
//
// Thread contract: not thread-safe; one owner thread.
#ifndef CHAT_LAUNCHER_NODE_LAUNCHER_H_
#define CHAT_LAUNCHER_NODE_LAUNCHER_H_

#include <sys/types.h>

#include <optional>
#include <string>
#include <vector>

#include "chat/common/status.h"

namespace chat::launcher {

struct LaunchSpec {
  std::string binary;              // path of chat-node
  std::vector<std::string> args;   // without argv[0]
  std::string logFile;             // appended to
  bool dieWithParent = true;       // PR_SET_PDEATHSIG(SIGTERM) in the child
};

// How a child ended.
struct ExitInfo {
  bool signaled = false;
  int code = 0;  // exit code, or the signal number
  std::string describe() const;  // "exit code 3", "signal 9 (SIGKILL)"
};

class ChildProcess {
 public:
  // Starts the child. Errors: kIoError (cannot spawn, log file not writable).
  static Result<ChildProcess> spawn(const LaunchSpec& spec);
  ChildProcess() = default;
  ChildProcess(ChildProcess&& other) noexcept;
  ChildProcess& operator=(ChildProcess&& other) noexcept;
  ChildProcess(const ChildProcess&) = delete;  // owns a child
  ChildProcess& operator=(const ChildProcess&) = delete;
  // Kills (SIGKILL) and reaps a child still running.
  ~ChildProcess();

  pid_t pid() const { return pid_; }
  bool running() const { return pid_ > 0; }
  // Sends a signal. SIGSTOP and SIGCONT leave it running; others are only sent (reap with
  // poll() or wait()).
  Status signal(int signo) const;
  // Reaps the child if it has ended, without blocking.
  std::optional<ExitInfo> poll();
  // Waits for the child to end (forever when timeoutMs < 0); nullopt on timeout.
  std::optional<ExitInfo> wait(int timeoutMs);

 private:
  explicit ChildProcess(pid_t pid) : pid_(pid) {}
  pid_t pid_ = -1;
};

// The chat-node program for a tool of the suite: beside the running program (an install),
// in the build tree (build/<tool dir>/../../node/app/chat-node), else on PATH; "chat-node"
// when none is found (exec then reports it).
std::string findChatNode();
// The same for any program of the suite: `name` beside the running program, in the build
// tree at build/`buildDir`/`name`, else on PATH; `name` when none is found.
std::string findSuiteProgram(const std::string& name, const std::string& buildDir);

}  // namespace chat::launcher

#endif  // CHAT_LAUNCHER_NODE_LAUNCHER_H_
