// Messages between replication cores (Raft with pre-vote and leadership transfer). Epoch is
// Raft's term. Plain values; the peer transport encodes them (issue #3).
// Thread contract: plain values.
#ifndef CHAT_REPLICATION_RAFT_MESSAGES_H_
#define CHAT_REPLICATION_RAFT_MESSAGES_H_

#include <cstdint>
#include <variant>
#include <vector>

#include "chat/log/entry.h"

namespace chat::replication {

using NodeId = uint32_t;
inline constexpr NodeId kNoNode = 0;

// A candidate (or, with `preVote`, a would-be candidate) asks for a vote in `epoch`.
// Pre-votes change nobody's state: they only tell a node whether an election could succeed,
// so a node cut off from the cluster does not inflate epochs and disrupt it on return.
struct VoteRequest {
  uint64_t epoch = 0;
  NodeId candidate = kNoNode;
  uint64_t lastLogIndex = 0;
  uint64_t lastLogEpoch = 0;
  bool preVote = false;
  bool transfer = false;  // leadership transfer: voters skip the "leader is alive" check
  bool operator==(const VoteRequest&) const = default;
};

struct VoteReply {
  uint64_t epoch = 0;
  bool granted = false;
  bool preVote = false;
  bool operator==(const VoteReply&) const = default;
};

// Entries (prevIndex, prevEpoch] onward; empty entries make a heartbeat.
struct AppendRequest {
  uint64_t epoch = 0;
  NodeId leader = kNoNode;
  uint64_t prevIndex = 0;
  uint64_t prevEpoch = 0;
  std::vector<log::Entry> entries;
  uint64_t leaderCommit = 0;
  bool operator==(const AppendRequest&) const = default;
};

// On success `index` is the follower's last index now known to match the leader; on
// failure it is a hint: the index the leader should try next.
struct AppendReply {
  uint64_t epoch = 0;
  bool success = false;
  uint64_t index = 0;
  bool operator==(const AppendReply&) const = default;
};

// Leadership transfer: "stand for election now".
struct TimeoutNow {
  uint64_t epoch = 0;
  bool operator==(const TimeoutNow&) const = default;
};

// The leader trimmed its log past what the follower needs next: the follower should fetch
// the leader's snapshot (a copy of its state at some applied index >= `index`) out of band.
// `index`/`indexEpoch` name the leader's first trimmed-away position, so a follower that
// already holds it answers with an AppendReply instead.
struct SnapshotNotice {
  uint64_t epoch = 0;
  uint64_t index = 0;
  uint64_t indexEpoch = 0;
  bool operator==(const SnapshotNotice&) const = default;
};

using RaftMessage =
    std::variant<VoteRequest, VoteReply, AppendRequest, AppendReply, TimeoutNow, SnapshotNotice>;

struct Envelope {
  NodeId from = kNoNode;
  NodeId to = kNoNode;
  RaftMessage message;
  bool operator==(const Envelope&) const = default;
};

}  // namespace chat::replication

#endif  // CHAT_REPLICATION_RAFT_MESSAGES_H_
