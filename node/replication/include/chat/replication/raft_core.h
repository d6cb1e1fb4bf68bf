// RaftCore: the replication state machine of one node, as pure logic. It takes events (a
// tick of the clock, a message from a peer, a proposal) and produces a Ready: state to make
// durable, messages to send, entries now committed. Time, network and storage reach it only
// through its callers, so the same core runs in chat-node and in the deterministic
// simulation (tests/replication).
//
// Raft with: pre-vote (a cut-off node does not inflate epochs), leader stickiness (a node
// that heard from a live leader within the minimum election timeout ignores vote requests),
// rank-ordered election timeouts (the first eligible node in succession order stands first),
// leadership transfer (TimeoutNow / campaignNow), and step-down of a leader that has not
// heard from a majority for an election timeout.
//
// Host contract (REQUIRES): after every call, before the next, the host takes the Ready and
// (0) may send `sendFirst` at once, (1) persists hardState, truncation and appended entries
// durably, (2) only then sends `messages`, (3) reports persisted(last appended index),
// (4) applies committed entries in order, and takes the next Ready while hasReady().
// Committed entries are handed out once.
//
// Thread contract: not thread-safe; one owner thread.
#ifndef CHAT_REPLICATION_RAFT_CORE_H_
#define CHAT_REPLICATION_RAFT_CORE_H_

#include <deque>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "chat/common/clock.h"
#include "chat/common/random.h"
#include "chat/replication/raft_messages.h"

namespace chat::replication {

enum class Role { kFollower, kPreCandidate, kCandidate, kLeader };
const char* roleName(Role role);

struct RaftConfig {
  NodeId self = kNoNode;
  std::vector<NodeId> members;  // the cluster in succession order, self included
  Duration heartbeat = std::chrono::milliseconds(50);
  Duration electionTimeout = std::chrono::milliseconds(300);  // for the first in order
  Duration electionStep = std::chrono::milliseconds(50);      // added per place in order
  size_t maxEntriesPerAppend = 1024;
};

// What must be durable before the node answers anyone.
struct HardState {
  uint64_t epoch = 0;
  NodeId votedFor = kNoNode;
  bool operator==(const HardState&) const = default;
};

// Where the log begins: entries up to `index` (last one of `epoch`) were folded into the
// state machine's durable state and dropped from the log. {0, 0}: nothing was dropped.
struct SnapshotMeta {
  uint64_t index = 0;
  uint64_t epoch = 0;
  bool operator==(const SnapshotMeta&) const = default;
};

struct Ready {
  std::optional<HardState> hardState;
  std::optional<uint64_t> truncateFrom;  // drop entries with index >= this before appending
  // Drop entries with index <= compacted->index and remember it as the log's start (after
  // truncateFrom, before append).
  std::optional<SnapshotMeta> compacted;
  std::vector<log::Entry> append;
  // A leader's appends and snapshot notices: they may go out before this Ready is persisted,
  // so that the followers' disk writes overlap the leader's (Raft thesis 10.2.1); the leader
  // counts its own copy toward a majority only once the host reports it persisted.
  std::vector<Envelope> sendFirst;
  std::vector<Envelope> messages;
  std::vector<log::Entry> committed;
  // The host should fetch a snapshot from this node and then call snapshotInstalled (or
  // snapshotFailed). Set once per fetch.
  NodeId fetchSnapshotFrom = kNoNode;
  bool empty() const {
    return !hardState && !truncateFrom && !compacted && append.empty() && messages.empty() &&
           sendFirst.empty() && committed.empty() && fetchSnapshotFrom == kNoNode;
  }
};

// The most recent change of leader this node saw, for status and operators.
struct ElectionNote {
  uint64_t epoch = 0;
  NodeId leader = kNoNode;
  MonoTime at{};
  std::string cause;  // why an election happened, as far as this node knows
};

struct LogPosition {
  uint64_t epoch = 0;
  uint64_t index = 0;
};

class RaftCore {
 public:
  // `log` is the persisted log (dense, from snapshot.index + 1); `applied` the last index the
  // host's state machine applied (entries up to it are never handed out again).
  // REQUIRES: snapshot.index <= applied <= last index. `random` must outlive the core.
  RaftCore(RaftConfig config, HardState state, SnapshotMeta snapshot,
           std::vector<log::Entry> log, uint64_t applied, Random& random, MonoTime now);
  RaftCore(RaftConfig config, HardState state, std::vector<log::Entry> log, uint64_t applied,
           Random& random, MonoTime now)
      : RaftCore(std::move(config), state, SnapshotMeta{}, std::move(log), applied, random, now) {}

  void tick(MonoTime now);
  // Takes a message from a peer. Returns why it was refused (empty: taken): one that no
  // correct member sends (from a non-member, a vote asked for someone else, entries out of
  // order) changes nothing.
  std::string step(const Envelope& in, MonoTime now);
  // Leader only: appends an entry of `payload` and returns its position; nullopt when not
  // the leader. The core never looks inside a payload; the empty one is its own no-op.
  std::optional<LogPosition> propose(log::Payload payload);
  // Stand for election at once (the supervisor saw the leader's process die, or an
  // operator asked): skips pre-vote and the voters' leader-alive check.
  void campaignNow(MonoTime now);
  Ready takeReady();
  bool hasReady() const { return !ready_.empty() || applied_ < std::min(commitIndex_, lastIndex()); }
  // The host made the log durable up to `index`.
  void persisted(uint64_t index);

  // The host made its state durable through `upTo`: drop the log up to there.
  // REQUIRES: upTo <= the last index handed out as committed. Ignored when not past the
  // current start.
  void compact(uint64_t upTo);
  // The host replaced its state with a snapshot at `meta` (fetched as asked in a Ready).
  void snapshotInstalled(SnapshotMeta meta, MonoTime now);
  // The fetch failed; a later notice from the leader may ask again.
  void snapshotFailed() { fetchingSnapshot_ = false; }
  Role role() const { return role_; }
  // This node leads and has handed out as committed everything committed before it was
  // elected (its own first entry is applied): the state it applied is the cluster's, so it
  // may answer from it. A leader fresh from an election is not caught up yet.
  bool caughtUp() const { return role_ == Role::kLeader && applied_ >= leaderNoop_; }
  uint64_t epoch() const { return state_.epoch; }
  NodeId leader() const { return leader_; }
  // The leader, if this node leads or heard from it within `within`; else kNoNode. A
  // follower tells clients only of a leader it knows to be alive.
  NodeId liveLeader(MonoTime now, Duration within) const {
    if (role_ == Role::kLeader) {
      return config_.self;
    }
    return heardFromLeader_ && now - lastHeardFromLeader_ < within ? leader_ : kNoNode;
  }
  NodeId self() const { return config_.self; }
  uint64_t commitIndex() const { return commitIndex_; }
  uint64_t lastIndex() const { return snapshot_.index + log_.size(); }
  uint64_t lastEpoch() const { return log_.empty() ? snapshot_.epoch : log_.back().epoch; }
  const SnapshotMeta& snapshot() const { return snapshot_; }
  uint64_t appliedIndex() const { return applied_; }
  // Entries snapshot().index + 1 ... lastIndex().
  const std::deque<log::Entry>& log() const { return log_; }
  // Empty (epoch 0) until this node has seen a leader.
  const ElectionNote& lastElection() const { return lastElection_; }
  // Leader only: a peer's highest index known to match.
  uint64_t matchIndex(NodeId peer) const;
  // Leader only: each peer's match index and whether it answered within an election
  // timeout of `now`. Empty on other roles.
  struct PeerProgress {
    NodeId id = kNoNode;
    uint64_t match = 0;
    bool reachable = false;
  };
  std::vector<PeerProgress> peerProgress(MonoTime now) const;

 private:
  struct Progress {
    uint64_t next = 1;
    uint64_t match = 0;
    MonoTime lastReply{};
    bool needsSend = false;
  };

  // The epoch of entry `index`; 0 for index 0, for indices past the end, and for indices
  // before the snapshot (unknown, and never asked for: they are committed everywhere).
  uint64_t epochAt(uint64_t index) const;
  const log::Entry& entry(uint64_t index) const {
    return log_[static_cast<size_t>(index - snapshot_.index - 1)];
  }
  void onSnapshotNotice(NodeId from, const SnapshotNotice& m, MonoTime now);
  std::string malformed(const Envelope& in) const;
  bool logUpToDate(uint64_t lastIndex, uint64_t lastEpoch) const;
  bool leaderRecentlyHeard(MonoTime now) const;
  void resetElectionDeadline(MonoTime now);
  std::string silenceCause(MonoTime now) const;
  size_t rankOf(NodeId node) const;  // place in succession order
  void becomeFollower(uint64_t epoch, NodeId leader, MonoTime now);
  void startPreVote(MonoTime now);
  void startElection(MonoTime now, bool transfer);
  void becomeLeader(MonoTime now);
  void send(NodeId to, RaftMessage message);
  void sendAppend(NodeId peer);
  void broadcastAppends(bool heartbeat);
  void advanceCommit();
  size_t majority() const { return config_.members.size() / 2 + 1; }
  void setHardState(HardState s);

  void onVoteRequest(NodeId from, const VoteRequest& m, MonoTime now);
  void onVoteReply(NodeId from, const VoteReply& m, MonoTime now);
  void onAppendRequest(NodeId from, const AppendRequest& m, MonoTime now);
  void onAppendReply(NodeId from, const AppendReply& m, MonoTime now);

  const RaftConfig config_;
  const size_t rank_;
  Random& random_;
  HardState state_;
  SnapshotMeta snapshot_;
  std::deque<log::Entry> log_;  // log_[i] has index snapshot_.index + i + 1
  bool fetchingSnapshot_ = false;
  uint64_t durable_ = 0;  // the log is on disk up to here

  Role role_ = Role::kFollower;
  NodeId leader_ = kNoNode;
  uint64_t commitIndex_ = 0;
  uint64_t applied_ = 0;
  MonoTime electionDeadline_{};
  MonoTime lastHeardFromLeader_{};
  bool heardFromLeader_ = false;
  MonoTime nextHeartbeat_{};
  MonoTime leaderSince_{};
  uint64_t leaderNoop_ = 0;  // the index of this leader's first entry
  std::map<NodeId, bool> votes_;
  std::map<NodeId, Progress> progress_;
  Ready ready_;
  std::string campaignCause_;  // why this node last stood, until it wins or hears a leader
  ElectionNote lastElection_;
};

}  // namespace chat::replication

#endif  // CHAT_REPLICATION_RAFT_CORE_H_
