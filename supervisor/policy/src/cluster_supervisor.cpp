#include "chat/supervisor/cluster_supervisor.h"

#include <signal.h>

#include <algorithm>

namespace chat::supervisor {

const char* stateName(NodeState state) {
  switch (state) {
    case NodeState::kStarting:
      return "starting";
    case NodeState::kRunning:
      return "running";
    case NodeState::kPaused:
      return "paused";
    case NodeState::kStopping:
      return "stopping";
    case NodeState::kDown:
      return "down";
    case NodeState::kGivenUp:
      return "given up";
    case NodeState::kUnreachable:
      return "unreachable";
  }
  return "unknown";
}

namespace {
constexpr size_t kRecentEvents = 200;
// A node whose applied index is this close to the leader's commit index has caught up
// (a commit or two may be in flight while we look).
constexpr uint64_t kCaughtUpSlack = 5;
}  // namespace

ClusterSupervisor::ClusterSupervisor(SupervisorOptions options) : options_(std::move(options)) {
  for (uint32_t id : options_.nodes) {
    NodeRow r;
    r.id = id;
    r.watched = options_.watched.contains(id);
    rows_.push_back(r);
    RestartSettings settings = options_.restart;
    if (auto it = options_.restartModes.find(id); it != options_.restartModes.end()) {
      settings.mode = it->second;
    }
    policies_.emplace(id, RestartPolicy(settings));
  }
}

NodeRow* ClusterSupervisor::find(uint32_t id) {
  for (auto& r : rows_) {
    if (r.id == id) {
      return &r;
    }
  }
  return nullptr;
}

const NodeRow* ClusterSupervisor::row(uint32_t id) const {
  return const_cast<ClusterSupervisor*>(this)->find(id);
}

void ClusterSupervisor::event(MonoTime now, std::string text) {
  Event e{now, std::move(text)};
  fresh_.push_back(e);
  recent_.push_back(std::move(e));
  while (recent_.size() > kRecentEvents) {
    recent_.pop_front();
  }
}

std::vector<Event> ClusterSupervisor::takeNewEvents() {
  std::vector<Event> out;
  out.swap(fresh_);
  return out;
}

std::vector<Action> ClusterSupervisor::start(MonoTime now) {
  std::vector<Action> out;
  size_t watched = options_.watched.size();
  if (watched < rows_.size()) {
    event(now, "starting " + std::to_string(rows_.size() - watched) + " nodes");
  }
  if (watched > 0) {
    event(now, "watching " + std::to_string(watched) +
                   " nodes that run elsewhere (not started, stopped or restarted from here)");
  }
  for (auto& r : rows_) {
    r.state = NodeState::kStarting;
    if (!r.watched) {
      out.emplace_back(SpawnNode{r.id});
    }
  }
  return out;
}

void ClusterSupervisor::spawned(uint32_t id, pid_t pid, MonoTime now) {
  NodeRow* r = find(id);
  if (r == nullptr) {
    return;
  }
  r->pid = pid;
  r->state = NodeState::kStarting;
  r->startedAt = now;
  r->role.clear();
  r->restartAt.reset();
  caughtUpReported_[id] = false;
  event(now, "node " + std::to_string(id) + " started (pid " + std::to_string(pid) + ")");
}

std::vector<Action> ClusterSupervisor::spawnFailed(uint32_t id, const std::string& why,
                                                   MonoTime now) {
  event(now, "node " + std::to_string(id) + " could not be started: " + why);
  return exited(id, "could not start", now);
}

std::vector<Action> ClusterSupervisor::exited(uint32_t id, const std::string& how, MonoTime now) {
  std::vector<Action> out;
  NodeRow* r = find(id);
  if (r == nullptr) {
    return out;
  }
  bool wasLeader = leader_ == id;
  r->pid = -1;
  r->lastExit = how;
  r->role.clear();
  bool restartNow = pendingRestart_[id];
  pendingRestart_[id] = false;
  if (r->state == NodeState::kStopping || stopping_) {
    event(now, "node " + std::to_string(id) + " stopped (" + how + ")");
  } else {
    event(now, "node " + std::to_string(id) + " died: " + how);
  }
  r->state = NodeState::kDown;
  if (wasLeader) {
    out = leaderGone(id, now);
  }
  if (stopping_) {
    return out;
  }
  if (restartNow) {
    policies_.at(id).reset();
    r->state = NodeState::kStarting;
    out.emplace_back(SpawnNode{id});
    event(now, "restarting node " + std::to_string(id) + " on request");
    return out;
  }
  if (options_.demo) {
    event(now, "node " + std::to_string(id) + " stays down (demo mode); restart it from the menu");
    return out;
  }
  auto decision = policies_.at(id).onExit(now);
  switch (decision.kind) {
    case RestartPolicy::Decision::Kind::kRestart:
      r->restartAt = decision.at;
      event(now, "node " + std::to_string(id) + ": " + decision.reason);
      break;
    case RestartPolicy::Decision::Kind::kGiveUp:
      r->state = NodeState::kGivenUp;
      event(now, "node " + std::to_string(id) + ": " + decision.reason);
      break;
    case RestartPolicy::Decision::Kind::kStayDown:
      event(now, "node " + std::to_string(id) + " stays down (" + decision.reason + ")");
      break;
  }
  return out;
}

std::vector<Action> ClusterSupervisor::leaderGone(uint32_t id, MonoTime now) {
  std::vector<Action> out;
  leader_ = 0;
  // The survivors would notice by missing heartbeats only after an election timeout; the
  // supervisor saw the death at once, so it asks the next in line to stand now.
  if (uint32_t next = nextInLine(id); next != 0 && !stopping_) {
    out.emplace_back(AskToCampaign{next});
    event(now, "the leader is gone: asked node " + std::to_string(next) +
                   " to stand for election at once");
  }
  return out;
}

std::vector<Action> ClusterSupervisor::polled(uint32_t id,
                                              const std::optional<protocol::NodeStatus>& status,
                                              MonoTime now) {
  std::vector<Action> out;
  NodeRow* r = find(id);
  if (r == nullptr || (!r->watched && r->pid <= 0)) {
    return out;  // a late answer from a process that is gone
  }
  if (!status) {
    if (r->watched && r->state == NodeState::kStarting) {
      r->state = NodeState::kUnreachable;
      event(now, "node " + std::to_string(id) + " does not answer (it runs elsewhere; is it up?)");
    } else if (r->watched && r->state == NodeState::kRunning) {
      // Down, paused or cut off: from here they look the same.
      r->state = NodeState::kUnreachable;
      r->role.clear();
      event(now, "node " + std::to_string(id) + " stopped answering (it runs elsewhere)");
      if (leader_ == id) {
        out = leaderGone(id, now);
      }
    } else if (r->state == NodeState::kRunning) {
      r->role = "not answering";
    }
    return out;
  }
  r->role = status->role;
  r->uptimeMillis = static_cast<uint64_t>(std::max<int64_t>(0, status->uptimeMillis));
  if (r->watched && r->state == NodeState::kUnreachable) {
    r->state = NodeState::kRunning;
    caughtUpReported_[id] = false;
    event(now, "node " + std::to_string(id) + " answers again (" + status->role + ")");
  }
  r->epoch = status->epoch;
  r->commitIndex = status->commitIndex;
  r->appliedIndex = status->appliedIndex;
  if (r->state == NodeState::kStarting) {
    r->state = NodeState::kRunning;
    event(now, "node " + std::to_string(id) + " is up (" + status->role + ")");
  }
  if (status->role == "leader" && (leader_ != id || leaderEpoch_ != status->epoch) &&
      status->epoch >= leaderEpoch_) {
    leader_ = id;
    leaderEpoch_ = status->epoch;
    event(now, "leader is node " + std::to_string(id) + " (epoch " +
                   std::to_string(status->epoch) + ")");
  } else if (leader_ == id && status->role != "leader") {
    leader_ = 0;
  }
  // Lag against the leader's commit index, as fresh as the polls.
  const NodeRow* lead = leader_ != 0 ? row(leader_) : nullptr;
  for (auto& other : rows_) {
    if (lead == nullptr || !up(other)) {
      other.lag = 0;
      continue;
    }
    other.lag = lead->commitIndex > other.appliedIndex ? lead->commitIndex - other.appliedIndex : 0;
  }
  if (lead != nullptr && id != leader_ && !caughtUpReported_[id] &&
      r->appliedIndex + kCaughtUpSlack >= lead->commitIndex) {
    caughtUpReported_[id] = true;
    event(now, "node " + std::to_string(id) + " caught up (applied index " +
                   std::to_string(r->appliedIndex) + ")");
  }
  return out;
}

std::vector<Action> ClusterSupervisor::tick(MonoTime now) {
  std::vector<Action> out;
  if (stopping_) {
    return out;
  }
  for (auto& r : rows_) {
    if (r.state == NodeState::kDown && r.restartAt && *r.restartAt <= now) {
      r.restartAt.reset();
      r.state = NodeState::kStarting;
      ++r.restarts;
      out.emplace_back(SpawnNode{r.id});
    }
  }
  return out;
}

bool ClusterSupervisor::up(const NodeRow& r) {
  return r.watched ? r.state == NodeState::kRunning : r.pid > 0;
}

Status ClusterSupervisor::notOurs(const NodeRow& r, const char* verb) {
  if (!r.watched) {
    return Status::ok();
  }
  return Status::invalidArgument(std::string("node ") + std::to_string(r.id) +
                                 " runs elsewhere; this supervisor only watches it and cannot " +
                                 verb + " it: do that on its host (systemctl restart|stop chat-node@" +
                                 std::to_string(r.id) + ", or kill -STOP|-CONT|-KILL its process)");
}

size_t ClusterSupervisor::serving(uint32_t except) const {
  return static_cast<size_t>(std::count_if(rows_.begin(), rows_.end(), [&](const NodeRow& r) {
    return r.id != except && up(r) &&
           (r.state == NodeState::kRunning || r.state == NodeState::kStarting);
  }));
}

Status ClusterSupervisor::checkMajority(uint32_t id, const char* verb, bool force) const {
  size_t left = serving(id);
  if (left >= majority() || force) {
    return Status::ok();
  }
  return Status::aborted(std::string(verb) + " node " + std::to_string(id) + " would leave " +
                         std::to_string(left) + " of " + std::to_string(rows_.size()) +
                         " nodes serving, fewer than a majority (" + std::to_string(majority()) +
                         "): the cluster stops accepting messages, and loses none, until a "
                         "node returns. Confirm to go ahead");
}

uint32_t ClusterSupervisor::nextInLine(uint32_t id) const {
  auto it = std::find(options_.nodes.begin(), options_.nodes.end(), id);
  if (it == options_.nodes.end()) {
    return 0;
  }
  size_t at = static_cast<size_t>(it - options_.nodes.begin());
  for (size_t k = 1; k < options_.nodes.size(); ++k) {
    uint32_t candidate = options_.nodes[(at + k) % options_.nodes.size()];
    const NodeRow* r = row(candidate);
    if (r != nullptr && up(*r) && r->state == NodeState::kRunning) {
      return candidate;
    }
  }
  return 0;
}

Result<std::vector<Action>> ClusterSupervisor::killLeader(bool force, MonoTime now) {
  if (leader_ == 0) {
    return Status::invalidArgument("no leader is known right now (an election may be under "
                                   "way); try again in a moment or kill a node by number");
  }
  return kill(leader_, force, now);
}

Result<std::vector<Action>> ClusterSupervisor::kill(uint32_t id, bool force, MonoTime now) {
  NodeRow* r = find(id);
  if (r == nullptr) {
    return Status::invalidArgument("there is no node " + std::to_string(id));
  }
  CHAT_RETURN_IF_ERROR(notOurs(*r, "kill"));
  if (r->pid <= 0) {
    return Status::invalidArgument("node " + std::to_string(id) + " is not running");
  }
  CHAT_RETURN_IF_ERROR(checkMajority(id, "killing", force));
  event(now, "killing node " + std::to_string(id) + " (SIGKILL) on request");
  return std::vector<Action>{SignalNode{id, SIGKILL}};
}

Result<std::vector<Action>> ClusterSupervisor::pause(uint32_t id, bool force, MonoTime now) {
  NodeRow* r = find(id);
  if (r == nullptr) {
    return Status::invalidArgument("there is no node " + std::to_string(id));
  }
  CHAT_RETURN_IF_ERROR(notOurs(*r, "pause"));
  if (r->pid <= 0 || r->state != NodeState::kRunning) {
    return Status::invalidArgument("node " + std::to_string(id) + " is not running (it is " +
                                   stateName(r->state) + ")");
  }
  CHAT_RETURN_IF_ERROR(checkMajority(id, "pausing", force));
  r->state = NodeState::kPaused;
  event(now, "pausing node " + std::to_string(id) + " (SIGSTOP) on request");
  return std::vector<Action>{SignalNode{id, SIGSTOP}};
}

Result<std::vector<Action>> ClusterSupervisor::resume(uint32_t id, MonoTime now) {
  NodeRow* r = find(id);
  if (r == nullptr) {
    return Status::invalidArgument("there is no node " + std::to_string(id));
  }
  CHAT_RETURN_IF_ERROR(notOurs(*r, "resume"));
  if (r->state != NodeState::kPaused) {
    return Status::invalidArgument("node " + std::to_string(id) + " is not paused");
  }
  r->state = NodeState::kRunning;
  event(now, "resuming node " + std::to_string(id) + " (SIGCONT) on request");
  return std::vector<Action>{SignalNode{id, SIGCONT}};
}

Result<std::vector<Action>> ClusterSupervisor::restart(uint32_t id, MonoTime now) {
  NodeRow* r = find(id);
  if (r == nullptr) {
    return Status::invalidArgument("there is no node " + std::to_string(id));
  }
  CHAT_RETURN_IF_ERROR(notOurs(*r, "restart"));
  std::vector<Action> out;
  if (r->pid > 0) {
    // Stop it cleanly; exited() starts it again.
    pendingRestart_[id] = true;
    if (r->state == NodeState::kPaused) {
      out.emplace_back(SignalNode{id, SIGCONT});
    }
    r->state = NodeState::kStopping;
    out.emplace_back(SignalNode{id, SIGTERM});
    event(now, "restarting node " + std::to_string(id) + " on request (stopping it first)");
    return out;
  }
  policies_.at(id).reset();
  r->restartAt.reset();
  r->state = NodeState::kStarting;
  out.emplace_back(SpawnNode{id});
  event(now, "starting node " + std::to_string(id) + " on request");
  return out;
}

Result<std::vector<Action>> ClusterSupervisor::restartAll(MonoTime now) {
  std::vector<Action> out;
  for (const auto& r : std::vector<NodeRow>(rows_)) {
    auto actions = restart(r.id, now);
    if (actions) {
      out.insert(out.end(), actions->begin(), actions->end());
    }
  }
  return out;
}

std::vector<Action> ClusterSupervisor::stopAll(MonoTime now) {
  std::vector<Action> out;
  stopping_ = true;
  event(now, "stopping every node");
  for (auto& r : rows_) {
    r.restartAt.reset();
    if (r.pid <= 0) {
      continue;
    }
    if (r.state == NodeState::kPaused) {
      out.emplace_back(SignalNode{r.id, SIGCONT});
    }
    r.state = NodeState::kStopping;
    out.emplace_back(SignalNode{r.id, SIGTERM});
  }
  return out;
}

bool ClusterSupervisor::allDown() const {
  return std::all_of(rows_.begin(), rows_.end(), [](const NodeRow& r) { return r.pid <= 0; });
}

}  // namespace chat::supervisor
