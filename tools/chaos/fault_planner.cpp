#include "fault_planner.h"

namespace chat::chaos {

const char* faultName(FaultKind kind) {
  switch (kind) {
    case FaultKind::kKillLeader:
      return "kill-leader";
    case FaultKind::kKillReplica:
      return "kill-replica";
    case FaultKind::kPause:
      return "pause";
    case FaultKind::kPartition:
      return "partition-leader";
    case FaultKind::kRestart:
      return "restart";
    case FaultKind::kResume:
      return "resume";
    case FaultKind::kHeal:
      return "heal";
  }
  return "?";
}

bool isRepair(FaultKind kind) {
  return kind == FaultKind::kRestart || kind == FaultKind::kResume || kind == FaultKind::kHeal;
}

FaultPlanner::FaultPlanner(uint64_t seed, FaultPlanOptions options)
    : rng_(seed), options_(options) {}

std::chrono::milliseconds FaultPlanner::nextDelay() {
  auto mean = options_.meanInterval.count();
  std::uniform_int_distribution<long long> d(mean / 2, mean + mean / 2);
  return std::chrono::milliseconds(d(rng_));
}

uint32_t FaultPlanner::pick(const std::vector<uint32_t>& ids) {
  std::uniform_int_distribution<size_t> d(0, ids.size() - 1);
  return ids[d(rng_)];
}

std::chrono::milliseconds FaultPlanner::outage() {
  std::uniform_int_distribution<long long> d(options_.minOutage.count(),
                                             options_.maxOutage.count());
  return std::chrono::milliseconds(d(rng_));
}

Fault FaultPlanner::next(const std::vector<NodeView>& nodes,
                         const std::vector<std::chrono::milliseconds>& downFor) {
  std::vector<uint32_t> up, followers, down, paused, cut;
  bool leaderUp = false;
  for (size_t i = 0; i < nodes.size(); ++i) {
    const NodeView& n = nodes[i];
    switch (n.state) {
      case NodeView::State::kUp:
        up.push_back(n.id);
        if (n.leader) {
          leaderUp = true;
        } else {
          followers.push_back(n.id);
        }
        break;
      case NodeView::State::kDown:
        if (i < downFor.size() && downFor[i] >= options_.restartAfter) {
          down.push_back(n.id);
        }
        break;
      case NodeView::State::kPaused:
        paused.push_back(n.id);
        break;
      case NodeView::State::kCut:
        cut.push_back(n.id);
        break;
      case NodeView::State::kStarting:
        break;
    }
  }
  size_t faulty = nodes.size() - up.size();
  size_t allowed = (nodes.size() - 1) / 2;  // a majority must stay up
  // Draw first, so that the generator advances the same way whatever the cluster does.
  std::uniform_int_distribution<int> percent(0, 99);
  int roll = percent(rng_);
  bool mustRepair = faulty >= allowed;
  if (mustRepair || roll < 25) {
    if (!down.empty()) {
      return Fault{FaultKind::kRestart, pick(down), {}};
    }
    if (!paused.empty()) {
      return Fault{FaultKind::kResume, pick(paused), {}};
    }
    if (!cut.empty()) {
      return Fault{FaultKind::kHeal, pick(cut), {}};
    }
    if (mustRepair) {
      // Everything faulty is waiting out its minimum outage: a fault that harms no
      // majority instead, on an up node? None is allowed; restart the longest-down node.
      for (size_t i = 0; i < nodes.size(); ++i) {
        if (nodes[i].state == NodeView::State::kDown) {
          return Fault{FaultKind::kRestart, nodes[i].id, {}};
        }
      }
      return Fault{FaultKind::kRestart, 0, {}};
    }
  }
  if (roll < 55 && leaderUp) {
    return Fault{FaultKind::kKillLeader, 0, {}};
  }
  if (roll < 75 && !followers.empty()) {
    return Fault{FaultKind::kKillReplica, pick(followers), {}};
  }
  if (options_.partitions && roll >= 85 && leaderUp) {
    for (const auto& n : nodes) {
      if (n.leader && n.state == NodeView::State::kUp) {
        return Fault{FaultKind::kPartition, n.id, outage()};
      }
    }
  }
  if (!up.empty()) {
    return Fault{FaultKind::kPause, pick(up), outage()};
  }
  return Fault{FaultKind::kRestart, 0, {}};
}

}  // namespace chat::chaos
