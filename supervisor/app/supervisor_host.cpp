#include "supervisor_host.h"

#include <Poco/JSON/Array.h>
#include <Poco/JSON/Object.h>

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <condition_variable>
#include <cstdio>
#include <cstring>
#include <deque>
#include <mutex>
#include <sstream>
#include <filesystem>
#include <fstream>
#include <thread>

#include "chat/client/connection.h"
#include "chat/common/overloaded.h"
#include "chat/common/terminal_text.h"
#include "chat/protocol/json_text.h"
#include "chat/replication/socket_peer_transport.h"
#include "chat/supervisor/control_socket.h"

namespace chat::supervisor {

using namespace std::chrono_literals;

namespace {

// Written by signal handlers; read by the loop. One process has one supervisor.
int gSignalPipe[2] = {-1, -1};

void onSignal(int signo) {
  char c = signo == SIGCHLD ? 'C' : 'T';
  int saved = errno;
  (void)!::write(gSignalPipe[1], &c, 1);
  errno = saved;
}

void drain(int fd) {
  char buffer[256];
  while (::read(fd, buffer, sizeof buffer) > 0) {
  }
}

std::optional<protocol::NodeStatus> statusOf(const std::string& address,
                                             const tls::TlsContext* tls) {
  return client::fetchStatus(address, 200ms, 300ms, tls);
}

}  // namespace

struct SupervisorHost::Impl {
  // Status results from the poller thread.
  std::mutex mu;
  std::condition_variable cv;
  std::deque<std::pair<uint32_t, std::optional<protocol::NodeStatus>>> results;
  bool stopping = false;
  int wakePipe[2] = {-1, -1};
  std::jthread poller;
  bool stopRequested = false;
  MonoTime stopDeadline{};
  MonoTime started = std::chrono::steady_clock::now();
};

SupervisorHost::SupervisorHost(HostOptions options)
    : options_(std::move(options)),
      supervisor_(options_.policy),
      impl_(std::make_unique<Impl>()) {}

SupervisorHost::~SupervisorHost() {
  {
    std::lock_guard lock(impl_->mu);
    impl_->stopping = true;
  }
  impl_->cv.notify_all();
  if (impl_->poller.joinable()) {
    impl_->poller.join();
  }
  for (int fd : {impl_->wakePipe[0], impl_->wakePipe[1]}) {
    if (fd >= 0) {
      ::close(fd);
    }
  }
}

MonoTime SupervisorHost::now() const {
  return std::chrono::steady_clock::now();
}

void SupervisorHost::spawn(uint32_t id) {
  const cluster::NodeConfig* node = options_.config.node(id);
  launcher::LaunchSpec spec;
  spec.binary = options_.nodeBinary;
  spec.args = {"--cluster", options_.clusterFile, "--id", std::to_string(id)};
  spec.args.insert(spec.args.end(), options_.nodeArgs.begin(), options_.nodeArgs.end());
  spec.logFile = options_.runDir + "/node" + std::to_string(id) + ".log";
  spec.dieWithParent = !options_.detach;
  std::error_code ec;
  std::filesystem::create_directories(node->dataDir, ec);
  auto child = launcher::ChildProcess::spawn(spec);
  if (!child) {
    execute(supervisor_.spawnFailed(id, child.error().message(), now()));
    return;
  }
  pid_t pid = child->pid();
  children_[id] = std::move(child).value();
  supervisor_.spawned(id, pid, now());
}

void SupervisorHost::execute(const std::vector<Action>& actions) {
  for (const auto& action : actions) {
    std::visit(Overloaded{
                   [&](const SpawnNode& a) { spawn(a.id); },
                   [&](const SignalNode& a) {
                     auto it = children_.find(a.id);
                     if (it != children_.end()) {
                       (void)it->second.signal(a.signo);
                     }
                   },
                   [&](const AskToCampaign& a) {
                     const cluster::NodeConfig* node = options_.config.node(a.id);
                     // If the hint does not get through, heartbeats remain: the cluster
                     // elects by itself, a little later.
                     (void)replication::askToCampaign(node->peerAddress(),
                                                      options_.config.secret, 300ms,
                                                      options_.tls.get());
                   },
               },
               action);
  }
}

// The last `count` non-empty lines of the file at `path`, joined with " | ".
std::string lastLines(const std::string& path, size_t count) {
  std::ifstream in(path);
  std::deque<std::string> lines;
  for (std::string line; std::getline(in, line);) {
    if (!line.empty()) {
      lines.push_back(line);
      if (lines.size() > count) {
        lines.pop_front();
      }
    }
  }
  std::string out;
  for (const auto& l : lines) {
    out += (out.empty() ? "" : " | ") + l;
  }
  return out;
}

void SupervisorHost::reap() {
  for (auto& [id, child] : children_) {
    if (!child.running()) {
      continue;
    }
    if (auto ended = child.poll()) {
      std::string how = ended->describe();
      const NodeRow* r = supervisor_.row(id);
      if (r != nullptr && r->state == NodeState::kStarting) {
        // It never came up: what it said before dying is the useful part.
        std::string log = options_.runDir + "/node" + std::to_string(id) + ".log";
        std::string tail = lastLines(log, 3);
        how += tail.empty() ? " before it came up (its log " + log + " is empty)"
                            : " before it came up; " + log + " ends: " + tail;
      }
      execute(supervisor_.exited(id, how, now()));
    }
  }
}

void SupervisorHost::requestStop() {
  if (!impl_->stopRequested) {
    impl_->stopRequested = true;
    impl_->stopDeadline = now() + 10s;
    execute(supervisor_.stopAll(now()));
  }
}

namespace {

// What a command did, for the one who typed it: "killed node 1 (SIGKILL); asked node 2 to
// stand for election".
std::string describe(const std::vector<Action>& actions) {
  std::string out;
  for (const auto& action : actions) {
    std::string what = std::visit(
        Overloaded{
            [](const SpawnNode& a) { return "starting node " + std::to_string(a.id); },
            [](const SignalNode& a) {
              std::string node = "node " + std::to_string(a.id);
              switch (a.signo) {
                case SIGKILL:
                  return "killed " + node + " (SIGKILL)";
                case SIGSTOP:
                  return "paused " + node + " (SIGSTOP)";
                case SIGCONT:
                  return "resumed " + node + " (SIGCONT)";
                case SIGTERM:
                  return "stopping " + node + " (SIGTERM)";
                default:
                  return "sent signal " + std::to_string(a.signo) + " to " + node;
              }
            },
            [](const AskToCampaign& a) {
              return "asked node " + std::to_string(a.id) + " to stand for election";
            },
        },
        action);
    out += (out.empty() ? "" : "; ") + what;
  }
  return out.empty() ? "nothing to do" : out;
}

}  // namespace

std::string SupervisorHost::command(const std::string& line) {
  std::istringstream in(line);
  std::vector<std::string> words;
  for (std::string w; in >> w;) {
    words.push_back(w);
  }
  bool force = !words.empty() && (words.back() == "force" || words.back() == "--force");
  if (force) {
    words.pop_back();
  }
  auto answer = [&](Result<std::vector<Action>> r) -> std::string {
    if (!r) {
      return std::string(r.error().code() == StatusCode::kAborted ? "CONFIRM " : "ERROR ") +
             r.error().message() + "\n";
    }
    execute(*r);
    return "OK " + describe(*r) + "\n";
  };
  auto idOf = [&](size_t i) -> std::optional<uint32_t> {
    if (words.size() <= i) {
      return std::nullopt;
    }
    try {
      return static_cast<uint32_t>(std::stoul(words[i]));
    } catch (const std::exception&) {
      return std::nullopt;
    }
  };
  MonoTime t = now();
  std::string usage =
      "ERROR unknown command; use: status [json] | kill leader | kill N | pause N | resume N | "
      "restart N | restart all | stop   (add 'force' to confirm losing the majority)\n";
  if (words.empty()) {
    return usage;
  }
  const std::string& verb = words[0];
  if (verb == "status") {
    return "OK\n" + (words.size() > 1 && words[1] == "json" ? statusJson() : statusTable());
  }
  if (verb == "stop") {
    requestStop();
    return "OK stopping every node\n";
  }
  if (verb == "kill" && words.size() > 1 && words[1] == "leader") {
    return answer(supervisor_.killLeader(force, t));
  }
  if (verb == "restart" && words.size() > 1 && words[1] == "all") {
    return answer(supervisor_.restartAll(t));
  }
  auto id = idOf(1);
  if (!id) {
    return usage;
  }
  if (verb == "kill") {
    return answer(supervisor_.kill(*id, force, t));
  }
  if (verb == "pause") {
    return answer(supervisor_.pause(*id, force, t));
  }
  if (verb == "resume") {
    return answer(supervisor_.resume(*id, t));
  }
  if (verb == "restart") {
    return answer(supervisor_.restart(*id, t));
  }
  return usage;
}

std::string SupervisorHost::statusTable() const {
  std::ostringstream o;
  char line[256];
  std::snprintf(line, sizeof line, "%-4s %-8s %-11s %-14s %6s %8s %6s %8s %8s  %s\n", "node",
                "pid", "state", "role", "epoch", "commit", "lag", "uptime", "restarts",
                "last exit");
  o << line;
  MonoTime t = now();
  for (const auto& r : supervisor_.rows()) {
    std::string uptime = "-";
    if (r.pid > 0) {
      auto s = std::chrono::duration_cast<std::chrono::seconds>(t - r.startedAt).count();
      uptime = std::to_string(s) + "s";
    } else if (r.watched && r.state == NodeState::kRunning) {
      uptime = std::to_string(r.uptimeMillis / 1000) + "s";
    }
    std::string pid = r.watched ? "remote" : r.pid > 0 ? std::to_string(r.pid) : "-";
    // The role comes from the node's status reply: shown, never obeyed by the terminal.
    std::string role = r.role.empty() ? "-" : chat::terminalSafe(r.role);
    std::string lastExit = r.lastExit.empty() ? "-" : chat::terminalSafe(r.lastExit);
    std::snprintf(line, sizeof line, "%-4u %-8s %-11s %-14s %6llu %8llu %6llu %8s %8d  %s\n", r.id,
                  pid.c_str(), stateName(r.state),
                  role.c_str(), static_cast<unsigned long long>(r.epoch),
                  static_cast<unsigned long long>(r.commitIndex),
                  static_cast<unsigned long long>(r.lag), uptime.c_str(), r.restarts,
                  lastExit.c_str());
    o << line;
  }
  return o.str();
}

std::string SupervisorHost::statusJson() const {
  Poco::JSON::Object o(Poco::JSON_PRESERVE_KEY_ORDER);
  o.set("leader", supervisor_.leader());
  o.set("epoch", supervisor_.leaderEpoch());
  Poco::JSON::Array nodes;
  for (const auto& r : supervisor_.rows()) {
    Poco::JSON::Object n(Poco::JSON_PRESERVE_KEY_ORDER);
    n.set("id", r.id);
    n.set("pid", r.pid);
    n.set("watched", r.watched);
    n.set("state", std::string(stateName(r.state)));
    n.set("role", r.role);
    n.set("epoch", r.epoch);
    n.set("commitIndex", r.commitIndex);
    n.set("lag", r.lag);
    n.set("restarts", r.restarts);
    n.set("lastExit", r.lastExit);
    nodes.add(n);
  }
  o.set("nodes", nodes);
  return protocol::jsonText(o) + "\n";
}

int SupervisorHost::run(Frontend& frontend) {
  if (::pipe2(gSignalPipe, O_CLOEXEC | O_NONBLOCK) != 0 ||
      ::pipe2(impl_->wakePipe, O_CLOEXEC | O_NONBLOCK) != 0) {
    std::fprintf(stderr, "chat-supervisor: cannot create pipes: %s\n", std::strerror(errno));
    return 1;
  }
  struct sigaction sa{};
  sa.sa_handler = onSignal;
  sa.sa_flags = SA_RESTART | SA_NOCLDSTOP;
  sigemptyset(&sa.sa_mask);
  for (int s : {SIGCHLD, SIGTERM, SIGINT, SIGHUP}) {
    ::sigaction(s, &sa, nullptr);
  }
  prepareRunDir();
  auto control = ControlServer::listen(options_.runDir + "/control.sock");
  if (!control) {
    std::fprintf(stderr, "chat-supervisor: %s\n", control.error().message().c_str());
    return 1;
  }
  startPoller();
  execute(supervisor_.start(now()));
  MonoTime lastRender{};
  while (step(frontend, *control, lastRender)) {
  }
  frontend.onEvents(supervisor_.takeNewEvents());
  return 0;
}

void SupervisorHost::prepareRunDir() {
  // Node logs and the control socket: the run folder is this user's only. One made before
  // (by an older version, or by hand) is narrowed too, when it is ours and not a shared
  // folder like /tmp (sticky).
  std::error_code ec;
  std::filesystem::create_directories(options_.runDir, ec);
  struct stat st {};
  if (::stat(options_.runDir.c_str(), &st) == 0 && st.st_uid == ::geteuid() &&
      (st.st_mode & S_ISVTX) == 0 && (st.st_mode & 077) != 0) {
    ::chmod(options_.runDir.c_str(), 0700);
  }
}

void SupervisorHost::startPoller() {
  // Every node's status, four times a second, on a thread of its own (a hung node must not
  // hold up the loop); results are handed over under impl_->mu and the loop woken.
  std::vector<std::pair<uint32_t, std::string>> addresses;
  for (const auto& n : options_.config.nodes) {
    addresses.emplace_back(n.id, n.clientAddress());
  }
  Impl* impl = impl_.get();
  impl_->poller = std::jthread([impl, addresses, tls = options_.tls] {
    for (;;) {
      for (const auto& [id, address] : addresses) {
        auto s = statusOf(address, tls.get());
        {
          std::lock_guard lock(impl->mu);
          if (impl->stopping) {
            return;
          }
          impl->results.emplace_back(id, std::move(s));
        }
        char c = 'S';
        (void)!::write(impl->wakePipe[1], &c, 1);
      }
      std::unique_lock lock(impl->mu);
      impl->cv.wait_for(lock, 250ms, [&] { return impl->stopping; });
      if (impl->stopping) {
        return;
      }
    }
  });
}

bool SupervisorHost::step(Frontend& frontend, ControlServer& control, MonoTime& lastRender) {
  // What happened: exits, timers, the poller's statuses; then show it.
  reap();
  execute(supervisor_.tick(now()));
  std::deque<std::pair<uint32_t, std::optional<protocol::NodeStatus>>> results;
  {
    std::lock_guard lock(impl_->mu);
    results.swap(impl_->results);
  }
  for (auto& [id, s] : results) {
    execute(supervisor_.polled(id, s, now()));
  }
  auto events = supervisor_.takeNewEvents();
  if (!events.empty()) {
    frontend.onEvents(events);
  }
  if (!events.empty() || now() - lastRender > 250ms) {
    frontend.render(*this);
    lastRender = now();
  }
  // Stopping: done once every node is down; a node still up 10 s after SIGTERM is killed.
  if (impl_->stopRequested && supervisor_.allDown()) {
    return false;
  }
  if (impl_->stopRequested && now() > impl_->stopDeadline) {
    for (auto& [id, child] : children_) {
      (void)child.signal(SIGKILL);
    }
    impl_->stopDeadline = now() + 10s;
  }
  // Wait (50 ms at most) for a signal, a status, a control client or a key.
  std::vector<pollfd> fds = {{gSignalPipe[0], POLLIN, 0},
                             {impl_->wakePipe[0], POLLIN, 0},
                             {control.fd(), POLLIN, 0}};
  if (frontend.inputFd() >= 0) {
    fds.push_back({frontend.inputFd(), POLLIN, 0});
  }
  ::poll(fds.data(), fds.size(), 50);
  if ((fds[0].revents & POLLIN) != 0) {
    char buffer[64];
    ssize_t n = ::read(gSignalPipe[0], buffer, sizeof buffer);
    for (ssize_t i = 0; i < n; ++i) {
      if (buffer[i] == 'T') {
        requestStop();
      }
    }
  }
  if ((fds[1].revents & POLLIN) != 0) {
    drain(impl_->wakePipe[0]);
  }
  if ((fds[2].revents & POLLIN) != 0) {
    control.serveOne([this](const std::string& line) { return command(line); });
  }
  if (fds.size() > 3 && (fds[3].revents & (POLLIN | POLLHUP)) != 0) {
    frontend.onInput(*this);
  }
  return true;
}

}  // namespace chat::supervisor
