// SupervisorView: chat-supervisor's full-screen ncurses view: the node table (selectable),
// the live event log, a status line and one line of key help. Keys become host commands;
// a command that would leave no majority running asks for a y to confirm. The only file of
// the supervisor that includes curses.
// Thread contract: the supervisor loop's thread only.
#ifndef CHAT_SUPERVISOR_SUPERVISOR_VIEW_H_
#define CHAT_SUPERVISOR_SUPERVISOR_VIEW_H_

#include <string>

#include "supervisor_host.h"

namespace chat::supervisor {

class SupervisorView final : public Frontend {
 public:
  // `clientHint`: how to open a client of this cluster ("tools/chat --cluster etc/cluster.ini"),
  // shown on the status line until the first command's answer takes its place.
  SupervisorView(std::string clusterFile, std::string clientHint);
  ~SupervisorView() override;  // restores the terminal
  SupervisorView(const SupervisorView&) = delete;  // owns the terminal
  SupervisorView& operator=(const SupervisorView&) = delete;

  int inputFd() const override { return 0; }
  void onInput(SupervisorHost& host) override;
  void onEvents(const std::vector<Event>& events) override { (void)events; dirty_ = true; }
  void render(const SupervisorHost& host) override;

 private:
  void runCommand(SupervisorHost& host, const std::string& command);
  std::string clusterFile_;
  std::string clientHint_;
  size_t selected_ = 0;
  std::string message_;          // the last answer, shown on the status line
  std::string pendingConfirm_;   // a command waiting for y
  bool dirty_ = true;
};

}  // namespace chat::supervisor

#endif  // CHAT_SUPERVISOR_SUPERVISOR_VIEW_H_
