#include "chat/launcher/node_launcher.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <sstream>
#include <thread>

namespace chat::launcher {

std::string ExitInfo::describe() const {
  if (!signaled) {
    return "exit code " + std::to_string(code);
  }
  const char* name = sigabbrev_np(code);
  return "signal " + std::to_string(code) + (name != nullptr ? std::string(" (SIG") + name + ")" : "");
}

namespace {
ExitInfo fromStatus(int status) {
  ExitInfo info;
  if (WIFSIGNALED(status)) {
    info.signaled = true;
    info.code = WTERMSIG(status);
  } else {
    info.code = WEXITSTATUS(status);
  }
  return info;
}
}  // namespace

Result<ChildProcess> ChildProcess::spawn(const LaunchSpec& spec) {
  // Private (node logs name users) and never through a symbolic link.
  int log = ::open(spec.logFile.c_str(),
                   O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC | O_NOFOLLOW, 0600);
  if (log < 0) {
    return Status::ioError("cannot open the log file " + spec.logFile + ": " +
                           std::strerror(errno));
  }
  std::vector<std::string> argvStrings;
  argvStrings.push_back(spec.binary);
  argvStrings.insert(argvStrings.end(), spec.args.begin(), spec.args.end());
  std::vector<char*> argv;
  for (auto& a : argvStrings) {
    argv.push_back(a.data());
  }
  argv.push_back(nullptr);
  pid_t parent = ::getpid();
  // fork + exec rather than posix_spawn: the child must set PR_SET_PDEATHSIG on itself.
  pid_t pid = ::fork();
  if (pid < 0) {
    int err = errno;
    ::close(log);
    return Status::ioError(std::string("fork failed: ") + std::strerror(err));
  }
  if (pid == 0) {
    // Child: only async-signal-safe calls until exec.
    ::setpgid(0, 0);
    if (spec.dieWithParent) {
      ::prctl(PR_SET_PDEATHSIG, SIGTERM);
      if (::getppid() != parent) {
        ::_exit(127);  // the parent died before the line above took effect
      }
    }
    ::dup2(log, STDOUT_FILENO);
    ::dup2(log, STDERR_FILENO);
    int devnull = ::open("/dev/null", O_RDONLY);
    if (devnull >= 0) {
      ::dup2(devnull, STDIN_FILENO);
    }
    ::execv(argv[0], argv.data());
    const char msg[] = "chat launcher: exec failed\n";
    (void)!::write(STDERR_FILENO, msg, sizeof msg - 1);
    ::_exit(127);
  }
  ::close(log);
  return ChildProcess(pid);
}

ChildProcess::ChildProcess(ChildProcess&& other) noexcept : pid_(other.pid_) {
  other.pid_ = -1;
}

ChildProcess& ChildProcess::operator=(ChildProcess&& other) noexcept {
  if (this != &other) {
    if (pid_ > 0) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, nullptr, 0);
    }
    pid_ = other.pid_;
    other.pid_ = -1;
  }
  return *this;
}

ChildProcess::~ChildProcess() {
  if (pid_ > 0) {
    ::kill(pid_, SIGKILL);
    ::waitpid(pid_, nullptr, 0);
  }
}

Status ChildProcess::signal(int signo) const {
  if (pid_ <= 0) {
    return Status::unavailable("the process is not running");
  }
  if (::kill(pid_, signo) != 0) {
    return Status::ioError("kill " + std::to_string(pid_) + ": " + std::strerror(errno));
  }
  return Status::ok();
}

std::optional<ExitInfo> ChildProcess::poll() {
  if (pid_ <= 0) {
    return std::nullopt;
  }
  int status = 0;
  if (::waitpid(pid_, &status, WNOHANG) == pid_) {
    pid_ = -1;
    return fromStatus(status);
  }
  return std::nullopt;
}

std::optional<ExitInfo> ChildProcess::wait(int timeoutMs) {
  auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeoutMs);
  for (;;) {
    if (auto info = poll()) {
      return info;
    }
    if (pid_ <= 0 || (timeoutMs >= 0 && std::chrono::steady_clock::now() >= deadline)) {
      return std::nullopt;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
}

std::string findChatNode() {
  return findSuiteProgram("chat-node", "node/app");
}

std::string findSuiteProgram(const std::string& name, const std::string& buildDir) {
  std::error_code ec;
  auto self = std::filesystem::read_symlink("/proc/self/exe", ec);
  if (!ec) {
    // Tools live two levels down in the build tree (build/tools/chaos, build/supervisor/app).
    for (const auto& candidate : {self.parent_path() / name,
                                  self.parent_path() / ".." / ".." / buildDir / name}) {
      if (std::filesystem::exists(candidate, ec)) {
        return std::filesystem::canonical(candidate, ec).string();
      }
    }
  }
  if (const char* path = std::getenv("PATH")) {
    std::stringstream dirs(path);
    for (std::string dir; std::getline(dirs, dir, ':');) {
      auto candidate = std::filesystem::path(dir) / name;
      if (::access(candidate.c_str(), X_OK) == 0) {
        return candidate.string();
      }
    }
  }
  return name;
}

}  // namespace chat::launcher
