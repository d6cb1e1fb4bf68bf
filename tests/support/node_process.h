// NodeProcess: a real chat-node process for integration tests, on 127.0.0.1 with an
// ephemeral port and a data folder the test owns. start() waits until the node has written
// its port file (it is listening); the destructor kills and reaps it, so no test leaves a
// process behind.
#ifndef CHAT_TESTS_SUPPORT_NODE_PROCESS_H_
#define CHAT_TESTS_SUPPORT_NODE_PROCESS_H_

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

extern char** environ;

namespace chat::testing {

class NodeProcess {
 public:
  explicit NodeProcess(std::string dataDir, std::vector<std::string> extraArgs = {},
                       std::string logLevel = "warning")
      : dataDir_(std::move(dataDir)),
        extraArgs_(std::move(extraArgs)),
        logLevel_(std::move(logLevel)) {}
  ~NodeProcess() { kill(SIGKILL); }
  NodeProcess(const NodeProcess&) = delete;  // owns a child process
  NodeProcess& operator=(const NodeProcess&) = delete;

  // Starts the node and waits (up to 20 s) until it listens. Returns false on failure.
  bool start() {
    std::string portFile = dataDir_ + "/port";
    std::filesystem::create_directories(dataDir_);
    std::filesystem::remove(portFile);
    std::vector<std::string> args = {
        CHAT_NODE_BINARY, "--port", "0", "--data-dir", dataDir_, "--port-file", portFile,
        // Cheap hashes and no sign-up limit: tests make many accounts from 127.0.0.1.
        "--password-hash", "min", "--sign-ups-per-minute", "0", "--sends-per-second", "0", "--log-level", logLevel_};
    args.insert(args.end(), extraArgs_.begin(), extraArgs_.end());
    std::vector<char*> argv;
    for (auto& a : args) {
      argv.push_back(a.data());
    }
    argv.push_back(nullptr);
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    std::string out = dataDir_ + "/stdout.log";
    posix_spawn_file_actions_addopen(&actions, 1, out.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
    posix_spawn_file_actions_adddup2(&actions, 1, 2);
    int rc = posix_spawn(&pid_, argv[0], &actions, nullptr, argv.data(), environ);
    posix_spawn_file_actions_destroy(&actions);
    if (rc != 0) {
      pid_ = -1;
      return false;
    }
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
    while (std::chrono::steady_clock::now() < deadline) {
      std::ifstream in(portFile);
      int port = 0;
      if (in >> port && port > 0) {
        port_ = port;
        return true;
      }
      int status = 0;
      if (::waitpid(pid_, &status, WNOHANG) == pid_) {
        pid_ = -1;
        return false;  // died during start-up; see stdout.log
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return false;
  }

  // Sends `signal` and, unless it is SIGSTOP/SIGCONT, reaps the process. SIGSTOP returns once
  // every thread has stopped: kill() only wakes one thread to start the group stop, and on a
  // loaded machine another can answer a request in the meantime (seen as a flaky test).
  void kill(int signal) {
    if (pid_ <= 0) {
      return;
    }
    ::kill(pid_, signal);
    if (signal == SIGSTOP) {
      int status = 0;
      if (::waitpid(pid_, &status, WUNTRACED) == pid_ && !WIFSTOPPED(status)) {
        exitStatus_ = status;  // it died instead
        pid_ = -1;
      }
      return;
    }
    if (signal == SIGCONT) {
      return;
    }
    int status = 0;
    ::waitpid(pid_, &status, 0);
    exitStatus_ = status;
    pid_ = -1;
  }

  std::string address() const { return "127.0.0.1:" + std::to_string(port_); }
  int port() const { return port_; }
  int exitStatus() const { return exitStatus_; }
  const std::string& dataDir() const { return dataDir_; }
  pid_t pid() const { return pid_; }  // -1 when not running

 private:
  std::string dataDir_;
  std::vector<std::string> extraArgs_;
  std::string logLevel_;
  pid_t pid_ = -1;
  int port_ = 0;
  int exitStatus_ = 0;
};

}  // namespace chat::testing

#endif  // CHAT_TESTS_SUPPORT_NODE_PROCESS_H_
