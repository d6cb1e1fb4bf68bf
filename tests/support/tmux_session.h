// TmuxSession: a program running in a detached tmux session on a tmux server of its own,
// for end-to-end tests of the ncurses programs: type keys, read the screen as text.
#ifndef CHAT_TESTS_SUPPORT_TMUX_SESSION_H_
#define CHAT_TESTS_SUPPORT_TMUX_SESSION_H_

#include <unistd.h>

#include <chrono>
#include <string>
#include <thread>

#include "support/eventually.h"
#include "support/run_command.h"

namespace chat::testing {

class TmuxSession {
 public:
  // Starts `command` (a shell command line) in a `width` x `height` window.
  TmuxSession(const std::string& command, int width, int height)
      : socket_("chat-test-" + std::to_string(::getpid()) + "-" + std::to_string(counter()++)) {
    runCommand(tmux() + " new-session -d -s main -x " + std::to_string(width) + " -y " +
               std::to_string(height) + " " + quote(command));
  }
  ~TmuxSession() { runCommand(tmux() + " kill-server"); }
  TmuxSession(const TmuxSession&) = delete;  // owns a tmux server
  TmuxSession& operator=(const TmuxSession&) = delete;

  // Keys as tmux send-keys understands them: "k", "Down", "Enter", "C-c".
  void sendKeys(const std::string& keys) { runCommand(tmux() + " send-keys -t main " + keys); }
  // Types `text` literally (UTF-8 included), no key names.
  void type(const std::string& text) {
    runCommand(tmux() + " send-keys -t main -l " + quote(text));
  }
  std::string screen() { return runCommand(tmux() + " capture-pane -p -t main").output; }
  void resize(int width, int height) {
    runCommand(tmux() + " resize-window -t main -x " + std::to_string(width) + " -y " +
               std::to_string(height));
  }
  bool alive() { return runCommand(tmux() + " has-session -t main").exitCode == 0; }
  // Waits until the screen shows `text`; returns false after `timeout`.
  bool waitFor(const std::string& text, std::chrono::milliseconds timeout) {
    return waitUntil([&](const std::string& s) { return s.find(text) != std::string::npos; },
                     timeout);
  }
  // Waits until `test` holds for the screen; returns false after `timeout`.
  template <typename Test>
  bool waitUntil(Test test, std::chrono::milliseconds timeout) {
    return eventually([&] { return test(screen()); }, timeout, std::chrono::milliseconds(50));
  }

  // The first line of the screen (chat-tui's status strip).
  std::string firstLine() {
    std::string s = screen();
    return s.substr(0, s.find('\n'));
  }

 private:
  static int& counter() {
    static int n = 0;
    return n;
  }
  static std::string quote(const std::string& s) {
    std::string out = "'";
    for (char c : s) {
      out += c == '\'' ? std::string("'\\''") : std::string(1, c);
    }
    return out + "'";
  }
  std::string tmux() const { return "tmux -L " + socket_ + " -f /dev/null"; }
  std::string socket_;
};

}  // namespace chat::testing

#endif  // CHAT_TESTS_SUPPORT_TMUX_SESSION_H_
