// Deterministic simulation of a five-node cluster of RaftCores: a simulated network that
// drops, delays, duplicates and reorders messages, partitions, and crashes and restarts
// nodes with their persisted state (also between the log write and the apply), all driven by
// one seed and a fake clock. Each node applies what commits to the chat state machine
// (ChatState) of the node. After every step it checks election safety, state-machine safety
// (the same entry at each index) and that every node's state machine has the same digest at
// the same index; at the end, after healing, that every acknowledged entry was applied
// exactly once, in the same order, on every node.
// A failing seed prints itself; CHAT_SIM_SEED=<seed> replays it, CHAT_SIM_SEEDS=<n> runs more.
#include <unistd.h>

#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <map>
#include <set>

#include <gtest/gtest.h>

#include "chat/replication/raft_core.h"
#include "chat/replication/raft_storage.h"
#include "chat/storage/chat_state.h"

namespace chat::replication {
namespace {

using std::chrono::milliseconds;

// The seed being simulated, printed if a CHAT_CHECK in the core aborts the process.
volatile uint64_t currentSeed = 0;

void printSeedOnAbort(int) {
  char text[96];
  int n = std::snprintf(text, sizeof text, "\nsimulation aborted: replay with CHAT_SIM_SEED=%llu\n",
                        static_cast<unsigned long long>(currentSeed));
  if (n > 0) {
    (void)!::write(2, text, static_cast<size_t>(n));
  }
}

struct SimNode {
  // Persisted: survives a crash.
  InMemoryRaftStorage storage;
  std::vector<storage::Command> durable;  // the state machine's durable part (its snapshot)
  // Volatile.
  std::unique_ptr<RaftCore> core;
  bool up = true;
  std::vector<storage::Command> applied;
  std::unique_ptr<storage::ChatState> state;  // the state machine, rebuilt from `applied`
};

// A follower fetching a leader's snapshot out of band.
struct Fetch {
  MonoTime at;
  NodeId to;
  NodeId from;
};

struct InFlight {
  MonoTime at;
  uint64_t order;
  Envelope envelope;
};

class Simulation {
 public:
  Simulation(uint64_t seed, size_t nodes) : random_(seed), seed_(seed) {
    for (size_t i = 1; i <= nodes; ++i) {
      members_.push_back(static_cast<NodeId>(i));
    }
    for (NodeId id : members_) {
      nodes_[id].core = makeCore(id);
    }
  }

  std::unique_ptr<RaftCore> makeCore(NodeId id) {
    RaftConfig config;
    config.self = id;
    config.members = members_;
    config.heartbeat = milliseconds(20);
    config.electionTimeout = milliseconds(150);
    config.electionStep = milliseconds(40);
    config.maxEntriesPerAppend = 16;
    auto persisted = nodes_[id].storage.load();
    // The state machine comes back as its durable snapshot; the log replays the rest.
    nodes_[id].applied = nodes_[id].durable;
    rebuildState(id);
    return std::make_unique<RaftCore>(config, persisted->hard, persisted->snapshot, persisted->log,
                                      nodes_[id].durable.size(), random_, now_);
  }

  void rebuildState(NodeId id) {
    SimNode& n = nodes_[id];
    n.state = std::make_unique<storage::ChatState>(kRequestWindow);
    if (!n.applied.empty()) {
      (void)n.state->apply(n.applied);
    }
  }

  // One millisecond of simulated time.
  void step() {
    now_ += milliseconds(1);
    // Deliver what is due, in the (random) order it was queued with.
    std::vector<InFlight> due;
    for (auto it = network_.begin(); it != network_.end();) {
      if (it->at <= now_) {
        due.push_back(*it);
        it = network_.erase(it);
      } else {
        ++it;
      }
    }
    std::sort(due.begin(), due.end(),
              [](const auto& a, const auto& b) { return a.order < b.order; });
    for (const auto& m : due) {
      SimNode& to = nodes_[m.envelope.to];
      if (to.up && !blocked(m.envelope.from, m.envelope.to)) {
        to.core->step(m.envelope, now_);
        process(m.envelope.to);
      }
    }
    for (NodeId id : members_) {
      if (nodes_[id].up) {
        nodes_[id].core->tick(now_);
        process(id);
      }
    }
    deliverSnapshots();
  }

  void deliverSnapshots() {
    std::vector<Fetch> due;
    std::erase_if(fetches_, [&](const Fetch& f) {
      if (f.at > now_) {
        return false;
      }
      due.push_back(f);
      return true;
    });
    for (const Fetch& f : due) {
      SimNode& to = nodes_[f.to];
      SimNode& from = nodes_[f.from];
      if (!to.up) {
        continue;  // the fetch died with the node; its restarted core knows nothing of it
      }
      if (!from.up || blocked(f.from, f.to) || from.applied.empty()) {
        to.core->snapshotFailed();
        continue;
      }
      // A copy of the source's state machine: committed entries, checked as applied there.
      to.applied = from.applied;
      to.durable = from.applied;
      rebuildState(f.to);
      ++snapshotsInstalled_;
      to.core->snapshotInstalled(SnapshotMeta{from.applied.size(), from.applied.back().epoch},
                                 now_);
      process(f.to);
    }
  }

  void process(NodeId id) {
    SimNode& n = nodes_[id];
    // The host contract of raft_core.h, including its loop: persisting may let the leader
    // count itself and commit more.
    for (int round = 0; round == 0 || (n.up && n.core && n.core->hasReady()); ++round) {
      processOnce(id);
      if (::testing::Test::HasFatalFailure()) {
        return;
      }
    }
  }

  void sendAll(NodeId, std::vector<Envelope>& messages) {
    for (auto& env : messages) {
      if (random_.uniform(0, 99) < dropPercent_) {
        continue;
      }
      size_t copies = random_.uniform(0, 99) < 3 ? 2 : 1;  // duplicates
      for (size_t c = 0; c < copies; ++c) {
        auto delay = milliseconds(static_cast<int64_t>(random_.uniform(1, maxDelayMs_)));
        network_.push_back(InFlight{now_ + delay, random_.next(), env});
      }
    }
  }

  void processOnce(NodeId id) {
    SimNode& n = nodes_[id];
    if (!n.up || !n.core) {
      return;
    }
    Ready ready = n.core->takeReady();
    // A leader's appends may leave before its own write; everything else after it.
    sendAll(id, ready.sendFirst);
    if (!ready.sendFirst.empty() && !ready.append.empty() && faultsOn_ &&
        random_.uniform(0, 199) == 0) {
      // The leader dies after its appends left and before its own write: what it sent may
      // still commit on the others, and it must come back without it.
      ++crashesBeforeWrite_;
      crash(id);
      return;
    }
    ASSERT_TRUE(n.storage.persist(ready).isOk());
    ASSERT_EQ(n.storage.state().snapshot.index + n.storage.state().log.size(), n.core->lastIndex())
        << "seed " << seed_;
    sendAll(id, ready.messages);
    n.core->persisted(n.core->lastIndex());
    if (!ready.committed.empty() && faultsOn_ && random_.uniform(0, 199) == 0) {
      // The node dies after its log write and before applying what committed: the log
      // must bring those entries back after the restart.
      ++crashesBeforeApply_;
      crash(id);
      return;
    }
    if (ready.fetchSnapshotFrom != kNoNode) {
      auto delay = milliseconds(static_cast<int64_t>(random_.uniform(1, 40)));
      fetches_.push_back(Fetch{now_ + delay, id, ready.fetchSnapshotFrom});
    }
    for (auto& e : ready.committed) {
      apply(id, e);
    }
    // Trim the log now and then: the state machine's state becomes durable up to a point
    // a little behind what it applied, and the log before it goes.
    if (n.core->lastIndex() - n.core->snapshot().index > kMaxLog &&
        n.applied.size() > n.core->snapshot().index + kKeep) {
      uint64_t upTo = n.applied.size() - kKeep / 2;
      n.durable.assign(n.applied.begin(), n.applied.begin() + static_cast<std::ptrdiff_t>(upTo));
      n.core->compact(upTo);
    }
    // Election safety: one leader per epoch.
    if (n.core->role() == Role::kLeader) {
      auto [it, fresh] = leaders_.emplace(n.core->epoch(), id);
      ASSERT_EQ(it->second, id) << "two leaders in epoch " << n.core->epoch() << ", seed " << seed_;
    }
  }

  void apply(NodeId id, const log::Entry& entry) {
    SimNode& n = nodes_[id];
    // As ReplicatedCommitLog does: the payload proposed on the leader, decoded at apply.
    auto op = storage::decodeOperation(entry.payload.bytes());
    ASSERT_TRUE(op.has_value()) << op.error().toString() << ", seed " << seed_;
    storage::Command e{entry.epoch, entry.index, std::move(op).value()};
    ASSERT_EQ(e.index, n.applied.size() + 1) << "seed " << seed_;
    n.applied.push_back(e);
    (void)n.state->apply(std::span(&e, 1));
    // Every node's state machine is the same after the same index.
    uint64_t digest = n.state->digest();
    auto [known, first] = digests_.emplace(e.index, digest);
    ASSERT_EQ(known->second, digest) << "node " << id << " has another state after index "
                                     << e.index << ", seed " << seed_;
    // State-machine safety: every node applies the same entry at each index.
    if (e.index <= history_.size()) {
      ASSERT_EQ(history_[e.index - 1], e)
          << "node " << id << " applied a different entry at " << e.index << ", seed " << seed_;
    } else {
      history_.push_back(e);
    }
    // The leader that committed it acknowledges it to its client.
    if (n.core->role() == Role::kLeader) {
      if (const auto* m = std::get_if<storage::StoreMessageOp>(&e.op)) {
        acknowledged_.insert(m->body);
      }
    }
  }

  void proposeSomething() {
    for (NodeId id : members_) {
      SimNode& n = nodes_[id];
      if (n.up && n.core->role() == Role::kLeader) {
        (void)n.core->propose(storage::encodeOperation(randomOperation()));
        process(id);
      }
    }
  }

  // Chat traffic among a few names: accounts come and go, sends (some retried with the same
  // request id) hit present and missing accounts, acks hit waiting and other messages.
  storage::Operation randomOperation() {
    static const char* kNames[] = {"a", "b", "c", "d"};
    std::string from = kNames[random_.uniform(0, 3)];
    std::string to = kNames[random_.uniform(0, 3)];
    uint64_t r = random_.uniform(0, 99);
    if (r < 8) {
      return storage::CreateAccountOp{from, "hash", 1};
    }
    if (r < 10) {
      return storage::DeleteAccountOp{from};
    }
    if (r < 80) {
      uint64_t request = random_.uniform(0, 3) == 0 ? random_.uniform(1, 20) : 0;
      return storage::StoreMessageOp{from, to, "m" + std::to_string(nextPayload_++), 0, request};
    }
    if (r < 95) {
      return storage::MarkDeliveredOp{to, {random_.uniform(1, history_.size() + 1)}, 2};
    }
    return storage::SetLastSeenOp{from, static_cast<int64_t>(r)};
  }

  void crash(NodeId id) {
    nodes_[id].up = false;
    nodes_[id].core.reset();
    nodes_[id].applied.clear();  // volatile: the snapshot and the log bring it back
    nodes_[id].state.reset();
  }
  void restart(NodeId id) {
    nodes_[id].up = true;
    nodes_[id].core = makeCore(id);
  }
  bool blocked(NodeId a, NodeId b) const {
    return partitioned_.contains(a) != partitioned_.contains(b);
  }

  void randomFault() {
    uint64_t r = random_.uniform(0, 99);
    NodeId victim = members_[random_.uniform(0, members_.size() - 1)];
    size_t down = 0;
    for (NodeId id : members_) {
      down += nodes_[id].up ? 0U : 1U;
    }
    if (r < 15 && down < 2) {
      crash(victim);
    } else if (r < 30 && down < 2) {
      for (NodeId id : members_) {  // the leader, specifically
        if (nodes_[id].up && nodes_[id].core->role() == Role::kLeader) {
          crash(id);
          break;
        }
      }
    } else if (r < 60) {
      for (NodeId id : members_) {
        if (!nodes_[id].up) {
          restart(id);
        }
      }
    } else if (r < 80) {
      partitioned_.clear();
      partitioned_.insert(victim);
      if (random_.uniform(0, 1) == 1) {
        partitioned_.insert(members_[random_.uniform(0, members_.size() - 1)]);
      }
    } else {
      partitioned_.clear();
    }
  }

  void heal() {
    faultsOn_ = false;
    partitioned_.clear();
    dropPercent_ = 0;
    for (NodeId id : members_) {
      if (!nodes_[id].up) {
        restart(id);
      }
    }
  }

  void run(int faultySteps, int quietSteps) {
    dropPercent_ = 5;
    faultsOn_ = true;
    for (int i = 0; i < faultySteps && !::testing::Test::HasFatalFailure(); ++i) {
      step();
      if (random_.uniform(0, 9) == 0) {
        proposeSomething();
      }
      if (random_.uniform(0, 99) == 0) {
        randomFault();
      }
    }
    heal();
    for (int i = 0; i < quietSteps && !::testing::Test::HasFatalFailure(); ++i) {
      step();
      if (i % 50 == 0) {
        proposeSomething();  // a new entry lets the leader commit and spread everything
      }
    }
    // Followers learn the last commit index with the next heartbeat (it rides on appends and
    // heartbeats, never a message of its own): ten heartbeats with nothing new.
    dropPercent_ = 0;
    for (int i = 0; i < 200 && !::testing::Test::HasFatalFailure(); ++i) {
      step();
    }
  }

  void checkConverged() {
    std::map<std::string, int> seen;
    for (const auto& e : history_) {
      if (const auto* m = std::get_if<storage::StoreMessageOp>(&e.op)) {
        ++seen[m->body];
      }
    }
    for (const auto& body : acknowledged_) {
      ASSERT_EQ(seen[body], 1) << "acknowledged " << body << " applied " << seen[body]
                               << " times, seed " << seed_;
    }
    for (NodeId id : members_) {
      ASSERT_EQ(nodes_[id].applied.size(), history_.size())
          << "node " << id << " lags after healing, seed " << seed_;
    }
  }

  size_t acknowledged() const { return acknowledged_.size(); }
  size_t snapshotsInstalled() const { return snapshotsInstalled_; }
  size_t crashesBeforeWrite() const { return crashesBeforeWrite_; }
  size_t crashesBeforeApply() const { return crashesBeforeApply_; }
  size_t epochs() const { return leaders_.size(); }

 private:
  Random random_;
  uint64_t seed_;
  MonoTime now_{};
  std::vector<NodeId> members_;
  std::map<NodeId, SimNode> nodes_;
  static constexpr uint64_t kMaxLog = 24;  // small, so that laggards need snapshots
  static constexpr uint64_t kKeep = 8;
  std::vector<InFlight> network_;
  std::vector<Fetch> fetches_;
  size_t snapshotsInstalled_ = 0;
  size_t crashesBeforeWrite_ = 0;
  size_t crashesBeforeApply_ = 0;
  // A small dedupe window, so that retried sends fall out of it within a run.
  static constexpr uint64_t kRequestWindow = 64;
  std::map<uint64_t, uint64_t> digests_;  // state digest after each index
  bool faultsOn_ = false;
  std::set<NodeId> partitioned_;
  uint64_t dropPercent_ = 0;
  uint64_t maxDelayMs_ = 15;
  std::map<uint64_t, NodeId> leaders_;
  std::vector<storage::Command> history_;
  std::set<std::string> acknowledged_;
  uint64_t nextPayload_ = 0;
};

TEST(RaftSimulationTest, ManySeedsKeepEveryInvariant) {
  uint64_t first = 1;
#ifdef CHAT_SANITIZED
  uint64_t count = 200;  // a sanitized build runs ten times slower
#else
  uint64_t count = 2000;  // thousands per run (about 20 s on one core)
#endif
  if (const char* s = std::getenv("CHAT_SIM_SEED")) {
    first = std::strtoull(s, nullptr, 10);
    count = 1;
  } else if (const char* n = std::getenv("CHAT_SIM_SEEDS")) {
    count = std::strtoull(n, nullptr, 10);
  }
  size_t acked = 0;
  size_t elections = 0;
  size_t snapshots = 0;
  size_t crashesBeforeWrite = 0;
  size_t crashesBeforeApply = 0;
  std::signal(SIGABRT, printSeedOnAbort);
  for (uint64_t seed = first; seed < first + count; ++seed) {
    currentSeed = seed;
    Simulation sim(seed, 5);
    sim.run(3000, 3000);
    ASSERT_FALSE(::testing::Test::HasFatalFailure()) << "replay with CHAT_SIM_SEED=" << seed;
    sim.checkConverged();
    ASSERT_FALSE(::testing::Test::HasFatalFailure()) << "replay with CHAT_SIM_SEED=" << seed;
    acked += sim.acknowledged();
    elections += sim.epochs();
    snapshots += sim.snapshotsInstalled();
    crashesBeforeWrite += sim.crashesBeforeWrite();
    crashesBeforeApply += sim.crashesBeforeApply();
  }
  std::cout << count << " seeds: " << acked << " acknowledged entries, " << elections
            << " leaders elected, " << snapshots << " snapshots installed, "
            << crashesBeforeWrite << " leaders crashed between sending and writing, "
            << crashesBeforeApply << " nodes between writing and applying\n";
  EXPECT_GT(elections, count * 3) << "the faults hardly ever forced an election";
  EXPECT_GT(acked, count * 10) << "the simulated cluster made too little progress";
  EXPECT_GT(snapshots, count / 4) << "laggards hardly ever needed a snapshot";
  EXPECT_GT(crashesBeforeApply, count / 4) << "nodes hardly ever crashed before applying";
}

}  // namespace
}  // namespace chat::replication
