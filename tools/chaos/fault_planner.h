// FaultPlanner: chat-chaos's seeded schedule of faults. It decides when the next fault comes
// and what it is, from its random generator and the cluster as it stands (which nodes are up,
// down, paused or cut off, and which leads), and never takes down a majority: with the
// most nodes already faulty that a majority allows, the next step repairs one (restart a
// dead node, resume a paused one, heal a partition). The same seed against the same
// sequence of cluster states gives the same schedule.
// Thread contract: not thread-safe; pure (no clock, no I/O).
#ifndef CHAT_TOOLS_CHAOS_FAULT_PLANNER_H_
#define CHAT_TOOLS_CHAOS_FAULT_PLANNER_H_

#include <chrono>
#include <cstdint>
#include <random>
#include <string>
#include <vector>

namespace chat::chaos {

enum class FaultKind {
  kKillLeader,   // SIGKILL the leader
  kKillReplica,  // SIGKILL a follower
  kPause,        // SIGSTOP a node, SIGCONT after `duration`
  kPartition,    // cut the leader off from the other nodes for `duration` (proxied peers)
  kRestart,      // start a dead node again (a repair)
  kResume,       // SIGCONT a paused node (a repair)
  kHeal,         // end a partition (a repair)
};
const char* faultName(FaultKind kind);
bool isRepair(FaultKind kind);

struct NodeView {
  // kStarting: on its way up (not serving yet): counts as faulty, but is left alone.
  enum class State { kUp, kDown, kPaused, kCut, kStarting };
  uint32_t id = 0;
  State state = State::kUp;
  bool leader = false;
};

struct Fault {
  FaultKind kind = FaultKind::kKillLeader;
  uint32_t node = 0;  // 0 for kKillLeader (whoever leads when it lands)
  std::chrono::milliseconds duration{0};  // kPause, kPartition
};

struct FaultPlanOptions {
  std::chrono::milliseconds meanInterval{1000};  // between faults (uniform 0.5x..1.5x)
  std::chrono::milliseconds minOutage{300};      // pauses and partitions last this ..
  std::chrono::milliseconds maxOutage{1500};     // .. to this
  std::chrono::milliseconds restartAfter{500};   // a dead node stays down at least this
  bool partitions = false;                       // kPartition is possible
};

class FaultPlanner {
 public:
  FaultPlanner(uint64_t seed, FaultPlanOptions options);

  // How long to wait before the next step.
  std::chrono::milliseconds nextDelay();
  // The next step for a cluster in state `nodes`: a fault, or a repair when no more nodes
  // may be faulty. `downFor(id)` says how long node id has been down (repairs wait
  // options.restartAfter). Returns nothing useful only for an empty cluster.
  Fault next(const std::vector<NodeView>& nodes,
             const std::vector<std::chrono::milliseconds>& downFor);

 private:
  uint32_t pick(const std::vector<uint32_t>& ids);
  std::chrono::milliseconds outage();

  std::mt19937_64 rng_;
  FaultPlanOptions options_;
};

}  // namespace chat::chaos

#endif  // CHAT_TOOLS_CHAOS_FAULT_PLANNER_H_
