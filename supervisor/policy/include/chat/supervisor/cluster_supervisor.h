// ClusterSupervisor: the decisions of chat-supervisor as pure logic. It is told what happened
// (a node's process started, ended, answered a status poll; an operator gave a command; time
// passed) and answers with actions for the host to carry out (spawn a node, signal it, ask a
// node to stand for election) and with events for people. No processes, sockets or clocks
// of its own, so every rule — restart backoff and give-up, the election hint when the leader
// dies, the majority check before a kill — is tested without starting anything.
//
// Thread contract: not thread-safe; one owner thread.
#ifndef CHAT_SUPERVISOR_CLUSTER_SUPERVISOR_H_
#define CHAT_SUPERVISOR_CLUSTER_SUPERVISOR_H_

#include <sys/types.h>

#include <cstdint>
#include <deque>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <variant>
#include <vector>

#include "chat/common/clock.h"
#include "chat/common/status.h"
#include "chat/protocol/messages.h"
#include "chat/supervisor/restart_policy.h"

namespace chat::supervisor {

enum class NodeState {
  kStarting,  // spawned, not yet answering
  kRunning,
  kPaused,    // SIGSTOPped by an operator
  kStopping,  // being stopped by an operator or at quit
  kDown,      // ended; waiting for a restart, or kept down (policy never, demo mode, stop)
  kGivenUp,   // too many restarts: kept down until restarted by hand
  kUnreachable,  // a watched node that stopped answering (it may be down or cut off)
};
const char* stateName(NodeState state);

struct NodeRow {
  uint32_t id = 0;
  NodeState state = NodeState::kDown;
  pid_t pid = -1;
  std::string role;  // from the node's status; empty when unknown
  uint64_t epoch = 0;
  uint64_t commitIndex = 0;
  uint64_t appliedIndex = 0;
  uint64_t lag = 0;  // the leader's commit index minus this node's applied index
  MonoTime startedAt{};
  int restarts = 0;        // automatic restarts since the supervisor started
  std::string lastExit;    // "signal 9 (SIGKILL)", "exit code 1"
  std::optional<MonoTime> restartAt;
  // Runs on another host (or under systemd): watched through its status, never spawned,
  // signalled or restarted from here.
  bool watched = false;
  uint64_t uptimeMillis = 0;  // from the node's status (watched nodes have no start time here)
};

struct Event {
  MonoTime at{};
  std::string text;
};

// Actions for the host.
struct SpawnNode {
  uint32_t id;
};
struct SignalNode {
  uint32_t id;
  int signo;
};
struct AskToCampaign {
  uint32_t id;
};
using Action = std::variant<SpawnNode, SignalNode, AskToCampaign>;

struct SupervisorOptions {
  std::vector<uint32_t> nodes;  // in succession order
  RestartSettings restart;
  std::map<uint32_t, RestartSettings::Mode> restartModes;  // per-node overrides of restart.mode
  bool demo = false;  // nodes that die stay down until restarted by hand
  std::set<uint32_t> watched;  // nodes that run elsewhere: watched over the network only
};

class ClusterSupervisor {
 public:
  explicit ClusterSupervisor(SupervisorOptions options);

  // Spawns every node that is not watched.
  std::vector<Action> start(MonoTime now);
  void spawned(uint32_t id, pid_t pid, MonoTime now);
  // The spawn failed (the host could not even start the process).
  std::vector<Action> spawnFailed(uint32_t id, const std::string& why, MonoTime now);
  // A node's process ended. `how` describes it ("signal 9 (SIGKILL)").
  std::vector<Action> exited(uint32_t id, const std::string& how, MonoTime now);
  // A status poll: the node's answer, or nullopt when it did not answer. A watched leader
  // that stops answering is treated like one that died (the next in line is asked to stand).
  std::vector<Action> polled(uint32_t id, const std::optional<protocol::NodeStatus>& status,
                             MonoTime now);
  // Due restarts.
  std::vector<Action> tick(MonoTime now);

  // Operator commands. `force` confirms one that would leave no majority running.
  // Errors: kInvalidArgument (no such node, nothing to do), kAborted (needs confirmation:
  // the text says what would happen).
  Result<std::vector<Action>> killLeader(bool force, MonoTime now);
  Result<std::vector<Action>> kill(uint32_t id, bool force, MonoTime now);
  Result<std::vector<Action>> pause(uint32_t id, bool force, MonoTime now);
  Result<std::vector<Action>> resume(uint32_t id, MonoTime now);
  Result<std::vector<Action>> restart(uint32_t id, MonoTime now);
  Result<std::vector<Action>> restartAll(MonoTime now);
  // Quit: every running node gets SIGTERM (SIGCONT first if paused); none is restarted.
  std::vector<Action> stopAll(MonoTime now);
  bool stopping() const { return stopping_; }
  bool allDown() const;

  const std::vector<NodeRow>& rows() const { return rows_; }
  const NodeRow* row(uint32_t id) const;
  // The node that the freshest poll says leads, or 0.
  uint32_t leader() const { return leader_; }
  uint64_t leaderEpoch() const { return leaderEpoch_; }
  // Events not yet taken, oldest first; and the recent ones kept for the screen.
  std::vector<Event> takeNewEvents();
  const std::deque<Event>& recentEvents() const { return recent_; }

 private:
  NodeRow* find(uint32_t id);
  void event(MonoTime now, std::string text);
  size_t majority() const { return options_.nodes.size() / 2 + 1; }
  // Nodes that would be serving if `except` were also out of the game.
  size_t serving(uint32_t except) const;
  // The node's process is ours and alive, or it is watched and answering.
  static bool up(const NodeRow& r);
  // kInvalidArgument for a watched node: what to do instead.
  static Status notOurs(const NodeRow& r, const char* verb);
  std::vector<Action> leaderGone(uint32_t id, MonoTime now);
  Status checkMajority(uint32_t id, const char* verb, bool force) const;
  // The first running node after `id` in succession order (wrapping), or 0.
  uint32_t nextInLine(uint32_t id) const;

  SupervisorOptions options_;
  std::vector<NodeRow> rows_;
  std::map<uint32_t, RestartPolicy> policies_;
  std::map<uint32_t, bool> pendingRestart_;     // stopped by "restart": start it on exit
  std::map<uint32_t, bool> caughtUpReported_;
  uint32_t leader_ = 0;
  uint64_t leaderEpoch_ = 0;
  bool stopping_ = false;
  std::vector<Event> fresh_;
  std::deque<Event> recent_;
};

}  // namespace chat::supervisor

#endif  // CHAT_SUPERVISOR_CLUSTER_SUPERVISOR_H_
