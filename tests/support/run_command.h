// runCommand: runs a shell command line and captures its exit code and its output (stdout
// and stderr together), for tests of the suite's command-line programs.
#ifndef CHAT_TESTS_SUPPORT_RUN_COMMAND_H_
#define CHAT_TESTS_SUPPORT_RUN_COMMAND_H_

#include <sys/wait.h>

#include <cstdio>
#include <string>

namespace chat::testing {

struct CommandResult {
  int status = -1;    // as from waitpid
  int exitCode = -1;  // -1 when it did not exit normally
  std::string output;
};

inline CommandResult runCommand(const std::string& command) {
  CommandResult r;
  FILE* pipe = ::popen((command + " 2>&1").c_str(), "r");
  if (pipe == nullptr) {
    return r;
  }
  char buffer[4096];
  size_t n = 0;
  while ((n = std::fread(buffer, 1, sizeof buffer, pipe)) > 0) {
    r.output.append(buffer, n);
  }
  r.status = ::pclose(pipe);
  r.exitCode = WIFEXITED(r.status) ? WEXITSTATUS(r.status) : -1;
  return r;
}

}  // namespace chat::testing

#endif  // CHAT_TESTS_SUPPORT_RUN_COMMAND_H_
