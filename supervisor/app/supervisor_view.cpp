#include "supervisor_view.h"

#include <curses.h>

#include <chrono>
#include <clocale>
#include <cstdio>
#include <ctime>

namespace chat::supervisor {

namespace {

enum Colour : short { kHeader = 1, kLeader, kDown, kPaused, kHelp, kWarn };

std::string clip(const std::string& s, int width) {
  if (width <= 0) {
    return "";
  }
  return static_cast<int>(s.size()) <= width ? s : s.substr(0, static_cast<size_t>(width));
}

std::string uptimeOf(const NodeRow& r, MonoTime now) {
  long long s = 0;
  if (r.pid > 0) {
    s = std::chrono::duration_cast<std::chrono::seconds>(now - r.startedAt).count();
  } else if (r.watched && r.state == NodeState::kRunning) {
    s = static_cast<long long>(r.uptimeMillis / 1000);  // as the node reports it
  } else {
    return "-";
  }
  char buf[32];
  if (s >= 3600) {
    std::snprintf(buf, sizeof buf, "%lldh%02lldm", static_cast<long long>(s / 3600),
                  static_cast<long long>(s % 3600 / 60));
  } else {
    std::snprintf(buf, sizeof buf, "%lldm%02llds", static_cast<long long>(s / 60),
                  static_cast<long long>(s % 60));
  }
  return buf;
}

// Wall-clock time of an event that happened at `at` on the steady clock.
std::string clockOf(MonoTime at, MonoTime now) {
  auto wall = std::chrono::system_clock::now() -
              std::chrono::duration_cast<std::chrono::system_clock::duration>(now - at);
  std::time_t t = std::chrono::system_clock::to_time_t(wall);
  std::tm tm{};
  ::localtime_r(&t, &tm);
  char buf[16];
  std::snprintf(buf, sizeof buf, "%02d:%02d:%02d", tm.tm_hour, tm.tm_min, tm.tm_sec);
  return buf;
}

}  // namespace

SupervisorView::SupervisorView(std::string clusterFile, std::string clientHint)
    : clusterFile_(std::move(clusterFile)), clientHint_(std::move(clientHint)) {
  std::setlocale(LC_ALL, "");
  initscr();
  cbreak();
  noecho();
  keypad(stdscr, TRUE);
  nodelay(stdscr, TRUE);
  curs_set(0);
  if (has_colors()) {
    start_color();
    use_default_colors();
    init_pair(kHeader, COLOR_BLACK, COLOR_CYAN);
    init_pair(kLeader, COLOR_GREEN, -1);
    init_pair(kDown, COLOR_RED, -1);
    init_pair(kPaused, COLOR_YELLOW, -1);
    init_pair(kHelp, COLOR_BLACK, COLOR_WHITE);
    init_pair(kWarn, COLOR_BLACK, COLOR_YELLOW);
  }
}

SupervisorView::~SupervisorView() {
  endwin();
}

void SupervisorView::runCommand(SupervisorHost& host, const std::string& command) {
  std::string answer = host.command(command);
  while (!answer.empty() && answer.back() == '\n') {
    answer.pop_back();
  }
  if (answer.rfind("CONFIRM ", 0) == 0) {
    pendingConfirm_ = command + " force";
    message_ = answer.substr(8);
  } else if (answer.rfind("ERROR ", 0) == 0) {
    message_ = answer.substr(6);
  } else {
    // "OK killed node 1 (SIGKILL)": what was done.
    message_ = answer.size() > 3 ? command + ": " + answer.substr(3) : command + ": done";
  }
  dirty_ = true;
}

void SupervisorView::onInput(SupervisorHost& host) {
  const auto& rows = host.supervisor().rows();
  for (int key = getch(); key != ERR; key = getch()) {
    dirty_ = true;
    if (!pendingConfirm_.empty()) {
      std::string command;
      command.swap(pendingConfirm_);
      if (key == 'y' || key == 'Y') {
        runCommand(host, command);
      } else {
        message_ = "cancelled";
      }
      continue;
    }
    std::string id = selected_ < rows.size() ? std::to_string(rows[selected_].id) : "";
    switch (key) {
      case KEY_UP:
        selected_ = selected_ > 0 ? selected_ - 1 : 0;
        break;
      case KEY_DOWN:
        selected_ = std::min(selected_ + 1, rows.empty() ? 0 : rows.size() - 1);
        break;
      case 'k':
        runCommand(host, "kill leader");
        break;
      case 'x':
        runCommand(host, "kill " + id);
        break;
      case 'p':
        runCommand(host, "pause " + id);
        break;
      case 'c':
        runCommand(host, "resume " + id);
        break;
      case 'r':
        runCommand(host, "restart " + id);
        break;
      case 'A':
        runCommand(host, "restart all");
        break;
      case 'q':
        message_ = "stopping every node...";
        host.requestStop();
        break;
      case KEY_RESIZE:
        clear();
        break;
      default:
        if (key >= '1' && key <= '9' && static_cast<size_t>(key - '1') < rows.size()) {
          selected_ = static_cast<size_t>(key - '1');
        }
        break;
    }
  }
}

void SupervisorView::render(const SupervisorHost& host) {
  const ClusterSupervisor& sup = host.supervisor();
  MonoTime now = host.now();
  int height = 0;
  int width = 0;
  getmaxyx(stdscr, height, width);
  erase();
  if (height < 10 || width < 60) {
    mvaddstr(0, 0, clip("terminal too small for chat-supervisor: need 60x10", width).c_str());
    refresh();
    return;
  }
  size_t running = 0;
  for (const auto& r : sup.rows()) {
    running += (r.pid > 0 || r.watched) && r.state == NodeState::kRunning ? 1U : 0U;
  }
  std::string title = " chat-supervisor  " + clusterFile_ + "  leader: " +
                      (sup.leader() != 0 ? "node " + std::to_string(sup.leader()) + " (epoch " +
                                               std::to_string(sup.leaderEpoch()) + ")"
                                         : std::string("none")) +
                      "  running " + std::to_string(running) + "/" +
                      std::to_string(sup.rows().size());
  attron(COLOR_PAIR(kHeader) | A_BOLD);
  mvhline(0, 0, ' ', width);
  mvaddstr(0, 0, clip(title, width).c_str());
  attroff(COLOR_PAIR(kHeader) | A_BOLD);

  char line[512];
  std::snprintf(line, sizeof line, "  %-4s %-8s %-11s %-13s %6s %8s %6s %8s %8s  %s", "node", "pid",
                "state", "role", "epoch", "commit", "lag", "uptime", "restarts", "last exit");
  attron(A_BOLD);
  mvaddstr(2, 0, clip(line, width).c_str());
  attroff(A_BOLD);
  int y = 3;
  for (size_t i = 0; i < sup.rows().size() && y < height - 4; ++i, ++y) {
    const NodeRow& r = sup.rows()[i];
    std::string pid = r.watched ? "remote" : r.pid > 0 ? std::to_string(r.pid) : "-";
    std::snprintf(line, sizeof line, "%c %-4u %-8s %-11s %-13s %6llu %8llu %6llu %8s %8d  %s",
                  i == selected_ ? '>' : ' ', r.id, pid.c_str(), stateName(r.state),
                  r.role.empty() ? "-" : r.role.c_str(), static_cast<unsigned long long>(r.epoch),
                  static_cast<unsigned long long>(r.commitIndex),
                  static_cast<unsigned long long>(r.lag), uptimeOf(r, now).c_str(), r.restarts,
                  r.lastExit.empty() ? "-" : r.lastExit.c_str());
    short colour = r.role == "leader"                ? kLeader
                   : r.state == NodeState::kPaused   ? kPaused
                   : r.watched ? (r.state == NodeState::kRunning ? 0 : kDown)
                   : r.pid <= 0                      ? kDown
                                                     : 0;
    attr_t attrs = (colour != 0 ? COLOR_PAIR(colour) : 0) | (i == selected_ ? A_REVERSE : 0);
    attron(attrs);
    mvaddstr(y, 0, clip(line, width).c_str());
    attroff(attrs);
  }
  ++y;
  attron(A_BOLD);
  mvaddstr(y, 0, clip("events", width).c_str());
  attroff(A_BOLD);
  ++y;
  int logLines = height - 3 - y;
  const auto& events = sup.recentEvents();
  size_t first = events.size() > static_cast<size_t>(std::max(logLines, 0))
                     ? events.size() - static_cast<size_t>(logLines)
                     : 0;
  for (size_t i = first; i < events.size() && y < height - 3; ++i, ++y) {
    std::string text = clockOf(events[i].at, now) + "  " + events[i].text;
    mvaddstr(y, 0, clip(text, width).c_str());
  }
  if (!pendingConfirm_.empty()) {
    attron(COLOR_PAIR(kWarn) | A_BOLD);
    mvhline(height - 2, 0, ' ', width);
    mvaddstr(height - 2, 0, clip("y to confirm, any other key to cancel: " + message_, width).c_str());
    attroff(COLOR_PAIR(kWarn) | A_BOLD);
  } else if (!message_.empty()) {
    mvaddstr(height - 2, 0, clip(message_, width).c_str());
  } else {
    mvaddstr(height - 2, 0,
             clip("Open a client in another terminal: " + clientHint_ +
                      "   q stops every node and quits",
                  width)
                 .c_str());
  }
  attron(COLOR_PAIR(kHelp));
  mvhline(height - 1, 0, ' ', width);
  mvaddstr(height - 1, 0,
             clip(" k kill leader  Up/Down or 1-9 select  x kill  p pause  c resume  r restart"
                  "  A restart all  q quit",
                  width)
                 .c_str());
  attroff(COLOR_PAIR(kHelp));
  refresh();
  dirty_ = false;
}

}  // namespace chat::supervisor
