#include "chat/replication/raft_core.h"

#include <algorithm>

#include "chat/common/check.h"
#include "chat/common/overloaded.h"

namespace chat::replication {

const char* roleName(Role role) {
  switch (role) {
    case Role::kFollower:
      return "follower";
    case Role::kPreCandidate:
      return "pre-candidate";
    case Role::kCandidate:
      return "candidate";
    case Role::kLeader:
      return "leader";
  }
  return "unknown";
}

namespace {
size_t rankOf(const RaftConfig& config) {
  auto it = std::find(config.members.begin(), config.members.end(), config.self);
  CHAT_CHECK(it != config.members.end());
  return static_cast<size_t>(it - config.members.begin());
}
}  // namespace

size_t RaftCore::rankOf(NodeId node) const {
  auto it = std::find(config_.members.begin(), config_.members.end(), node);
  return static_cast<size_t>(it - config_.members.begin());  // unknown nodes rank last
}

RaftCore::RaftCore(RaftConfig config, HardState state, SnapshotMeta snapshot,
                   std::vector<log::Entry> log, uint64_t applied, Random& random,
                   MonoTime now)
    : config_(std::move(config)),
      rank_(chat::replication::rankOf(config_)),
      random_(random),
      state_(state),
      snapshot_(snapshot),
      log_(std::make_move_iterator(log.begin()), std::make_move_iterator(log.end())),
      commitIndex_(applied),
      applied_(applied) {
  for (size_t i = 0; i < log_.size(); ++i) {
    CHAT_CHECK(log_[i].index == snapshot_.index + i + 1);
  }
  CHAT_CHECK(snapshot_.index <= applied_ && applied_ <= lastIndex());
  durable_ = lastIndex();  // what was loaded is on disk
  resetElectionDeadline(now);
  if (config_.members.size() == 1) {
    // A cluster of one is its own majority: it leads from the start (the election's hard
    // state and no-op are in the first Ready, persisted before anything is acknowledged).
    campaignCause_ = "the only node of its cluster";
    startElection(now, false);
  }
}

void RaftCore::persisted(uint64_t index) {
  durable_ = std::max(durable_, std::min(index, lastIndex()));
  advanceCommit();
}

uint64_t RaftCore::epochAt(uint64_t index) const {
  if (index == snapshot_.index) {
    return snapshot_.epoch;
  }
  if (index < snapshot_.index || index > lastIndex()) {
    return 0;
  }
  return entry(index).epoch;
}

void RaftCore::compact(uint64_t upTo) {
  CHAT_CHECK(upTo <= applied_);
  if (upTo <= snapshot_.index) {
    return;
  }
  SnapshotMeta meta{upTo, epochAt(upTo)};
  log_.erase(log_.begin(), log_.begin() + static_cast<std::ptrdiff_t>(upTo - snapshot_.index));
  snapshot_ = meta;
  ready_.compacted = meta;
}

void RaftCore::snapshotInstalled(SnapshotMeta meta, MonoTime now) {
  fetchingSnapshot_ = false;
  if (meta.index <= applied_) {
    return;  // already have all of it
  }
  if (meta.index <= lastIndex() && epochAt(meta.index) == meta.epoch) {
    // The log agrees at the snapshot's end: keep what follows.
    log_.erase(log_.begin(),
               log_.begin() + static_cast<std::ptrdiff_t>(meta.index - snapshot_.index));
  } else {
    // Everything in the log is older than the snapshot or conflicts with it: start afresh.
    // Committed entries never conflict, so the snapshot must reach past our commit index.
    CHAT_CHECK(meta.index > commitIndex_);
    log_.clear();
    ready_.truncateFrom = snapshot_.index + 1;
    ready_.append.clear();
    durable_ = std::min(durable_, snapshot_.index);
  }
  std::erase_if(ready_.append,
                [&](const log::Entry& e) { return e.index <= meta.index; });
  snapshot_ = meta;
  ready_.compacted = meta;
  commitIndex_ = std::max(commitIndex_, meta.index);
  applied_ = meta.index;
  if (role_ == Role::kFollower && leader_ != kNoNode) {
    send(leader_, AppendReply{state_.epoch, true, meta.index});
  }
  resetElectionDeadline(now);  // the fetch took time, but the leader was there for it
}

void RaftCore::onSnapshotNotice(NodeId from, const SnapshotNotice& m, MonoTime now) {
  if (m.epoch < state_.epoch) {
    send(from, AppendReply{state_.epoch, false, 0});
    return;
  }
  becomeFollower(m.epoch, from, now);
  // Not needed after all when this node's log reaches the leader's start and agrees there
  // (committed entries always agree).
  if (m.index <= commitIndex_) {
    send(from, AppendReply{state_.epoch, true, commitIndex_});
    return;
  }
  if (m.index <= lastIndex() && epochAt(m.index) == m.indexEpoch) {
    send(from, AppendReply{state_.epoch, true, m.index});
    return;
  }
  if (!fetchingSnapshot_) {
    fetchingSnapshot_ = true;
    ready_.fetchSnapshotFrom = from;
  }
}

uint64_t RaftCore::matchIndex(NodeId peer) const {
  if (peer == config_.self) {
    return lastIndex();
  }
  auto it = progress_.find(peer);
  return it == progress_.end() ? 0 : it->second.match;
}

std::vector<RaftCore::PeerProgress> RaftCore::peerProgress(MonoTime now) const {
  std::vector<PeerProgress> out;
  if (role_ != Role::kLeader) {
    return out;
  }
  for (const auto& [peer, p] : progress_) {
    out.push_back(PeerProgress{peer, p.match, now - p.lastReply < config_.electionTimeout});
  }
  return out;
}

bool RaftCore::logUpToDate(uint64_t index, uint64_t epoch) const {
  return epoch > lastEpoch() || (epoch == lastEpoch() && index >= lastIndex());
}

bool RaftCore::leaderRecentlyHeard(MonoTime now) const {
  // Within the shortest election timeout of anyone, a live leader has certainly been heard.
  // One heartbeat less, so that the first node in line, which stands exactly one shortest
  // timeout after its own last heartbeat, does not find voters that heard the same
  // heartbeat still loyal to a dead leader (and lose a whole timeout to that race).
  return heardFromLeader_ &&
         now - lastHeardFromLeader_ < config_.electionTimeout - config_.heartbeat;
}

void RaftCore::resetElectionDeadline(MonoTime now) {
  // The first node in order waits least, so the next in line takes over; a little jitter
  // (at most a quarter step) separates nodes whose clocks happen to align.
  auto jitter = static_cast<int64_t>(
      random_.uniform(0, static_cast<uint64_t>(config_.electionStep.count() / 4)));
  electionDeadline_ = now + config_.electionTimeout +
                      config_.electionStep * static_cast<int64_t>(rank_) + Duration(jitter);
}

void RaftCore::setHardState(HardState s) {
  if (s != state_) {
    state_ = s;
    ready_.hardState = s;
  }
}

void RaftCore::send(NodeId to, RaftMessage message) {
  bool early = role_ == Role::kLeader && (std::holds_alternative<AppendRequest>(message) ||
                                          std::holds_alternative<SnapshotNotice>(message));
  (early ? ready_.sendFirst : ready_.messages)
      .push_back(Envelope{config_.self, to, std::move(message)});
}

void RaftCore::becomeFollower(uint64_t epoch, NodeId leader, MonoTime now) {
  if (epoch > state_.epoch) {
    setHardState(HardState{epoch, kNoNode});
  }
  if (role_ != Role::kFollower) {
    role_ = Role::kFollower;
    progress_.clear();
    votes_.clear();
  }
  leader_ = leader;
  if (leader != kNoNode) {
    heardFromLeader_ = true;
    lastHeardFromLeader_ = now;
    if (state_.epoch > lastElection_.epoch) {
      std::string cause = "node " + std::to_string(leader) + " was elected";
      if (!campaignCause_.empty()) {
        cause += " (this node had stood: " + campaignCause_ + ")";
      }
      lastElection_ = ElectionNote{state_.epoch, leader, now, std::move(cause)};
      campaignCause_.clear();
    }
  }
  resetElectionDeadline(now);
}

std::string RaftCore::silenceCause(MonoTime now) const {
  auto ms = [](Duration d) {
    return std::to_string(std::chrono::duration_cast<std::chrono::milliseconds>(d).count());
  };
  if (heardFromLeader_ && leader_ != kNoNode) {
    return "no heartbeat from leader node " + std::to_string(leader_) + " for " +
           ms(now - lastHeardFromLeader_) + " ms";
  }
  return "no leader heard within the election timeout";
}

void RaftCore::tick(MonoTime now) {
  if (role_ == Role::kLeader) {
    // A leader that has not heard from a majority for an election timeout may be cut off:
    // it steps down, so it stops acknowledging what it could not commit anyway.
    size_t recent = 1;
    for (const auto& [peer, p] : progress_) {
      if (now - p.lastReply < config_.electionTimeout) {
        ++recent;
      }
    }
    if (recent < majority() && now - leaderSince_ >= config_.electionTimeout) {
      becomeFollower(state_.epoch, kNoNode, now);
      heardFromLeader_ = false;
      return;
    }
    if (now >= nextHeartbeat_) {
      nextHeartbeat_ = now + config_.heartbeat;
      broadcastAppends(true);
    }
    return;
  }
  if (now >= electionDeadline_) {
    if (role_ == Role::kFollower) {
      campaignCause_ = silenceCause(now);
    }
    startPreVote(now);
  }
}

void RaftCore::campaignNow(MonoTime now) {
  if (role_ != Role::kLeader) {
    campaignCause_ = "asked to stand at once (the leader's process died, or an operator asked)";
    startElection(now, true);
  }
}

void RaftCore::startPreVote(MonoTime now) {
  if (config_.members.size() == 1) {
    startElection(now, false);
    return;
  }
  role_ = Role::kPreCandidate;
  leader_ = kNoNode;
  votes_.clear();
  votes_[config_.self] = true;
  // A pre-vote changes nobody's state, so a failed one is retried soon rather than after a
  // whole timeout: voters that heard the old leader a moment before this node did stay
  // loyal (and silent) for up to a timeout, and would otherwise cost one more.
  electionDeadline_ = now + config_.heartbeat * 2;
  for (NodeId peer : config_.members) {
    if (peer != config_.self) {
      send(peer,
           VoteRequest{state_.epoch + 1, config_.self, lastIndex(), lastEpoch(), true, false});
    }
  }
}

void RaftCore::startElection(MonoTime now, bool transfer) {
  role_ = Role::kCandidate;
  leader_ = kNoNode;
  heardFromLeader_ = false;
  setHardState(HardState{state_.epoch + 1, config_.self});
  votes_.clear();
  votes_[config_.self] = true;
  resetElectionDeadline(now);
  if (votes_.size() >= majority()) {
    becomeLeader(now);
    return;
  }
  for (NodeId peer : config_.members) {
    if (peer != config_.self) {
      send(peer,
           VoteRequest{state_.epoch, config_.self, lastIndex(), lastEpoch(), false, transfer});
    }
  }
}

void RaftCore::becomeLeader(MonoTime now) {
  role_ = Role::kLeader;
  leader_ = config_.self;
  leaderSince_ = now;
  lastElection_ = ElectionNote{state_.epoch, config_.self, now,
                               "this node was elected" +
                                   (campaignCause_.empty() ? std::string()
                                                           : ": " + campaignCause_)};
  campaignCause_.clear();
  progress_.clear();
  for (NodeId peer : config_.members) {
    if (peer != config_.self) {
      Progress p;
      p.next = lastIndex() + 1;
      p.lastReply = now;
      progress_[peer] = p;
    }
  }
  // An entry of its own epoch lets the new leader commit what its predecessors left; until it
  // is applied, this leader may not know everything that was committed (caughtUp()).
  leaderNoop_ = propose(log::Payload{})->index;  // empty: the host reads it as a no-op
  nextHeartbeat_ = now + config_.heartbeat;
  broadcastAppends(true);
}

std::optional<LogPosition> RaftCore::propose(log::Payload payload) {
  if (role_ != Role::kLeader) {
    return std::nullopt;
  }
  log::Entry entry{state_.epoch, lastIndex() + 1, std::move(payload)};
  log_.push_back(entry);
  ready_.append.push_back(std::move(entry));
  for (auto& [peer, p] : progress_) {
    p.needsSend = true;
  }
  advanceCommit();  // a one-node cluster commits at once
  return LogPosition{state_.epoch, lastIndex()};
}

void RaftCore::sendAppend(NodeId peer) {
  Progress& p = progress_[peer];
  p.needsSend = false;
  if (p.next <= snapshot_.index) {
    // What the follower needs next is gone from the log: it must fetch a snapshot. The
    // notice repeats with every heartbeat until the follower reports the snapshot installed.
    send(peer, SnapshotNotice{state_.epoch, snapshot_.index, snapshot_.epoch});
    return;
  }
  AppendRequest m;
  m.epoch = state_.epoch;
  m.leader = config_.self;
  m.prevIndex = p.next - 1;
  m.prevEpoch = epochAt(m.prevIndex);
  m.leaderCommit = commitIndex_;
  uint64_t last = std::min<uint64_t>(lastIndex(), m.prevIndex + config_.maxEntriesPerAppend);
  for (uint64_t i = p.next; i <= last; ++i) {
    m.entries.push_back(entry(i));
  }
  // Pipelining: assume it arrives; a rejection moves `next` back.
  p.next = last + 1;
  send(peer, std::move(m));
}

void RaftCore::broadcastAppends(bool heartbeat) {
  for (auto& [peer, p] : progress_) {
    // A follower that must fetch a snapshot hears about it once per heartbeat, not with
    // every new entry.
    if (heartbeat || (p.needsSend && p.next > snapshot_.index)) {
      sendAppend(peer);
    }
  }
}

void RaftCore::advanceCommit() {
  if (role_ != Role::kLeader) {
    return;
  }
  std::vector<uint64_t> matches;
  matches.push_back(std::min(durable_, lastIndex()));  // its own copy, once on disk
  for (const auto& [peer, p] : progress_) {
    matches.push_back(p.match);
  }
  std::sort(matches.begin(), matches.end(), std::greater<>());
  uint64_t candidate = matches[majority() - 1];
  // Only entries of the leader's own epoch commit by counting (Raft §5.4.2).
  if (candidate > commitIndex_ && epochAt(candidate) == state_.epoch) {
    // Followers learn it with the next append, or the next heartbeat when none comes: a
    // message of its own per commit would double the messages of a busy cluster.
    commitIndex_ = candidate;
  }
}

std::string RaftCore::malformed(const Envelope& in) const {
  if (std::find(config_.members.begin(), config_.members.end(), in.from) == config_.members.end() ||
      in.from == config_.self) {
    return "it comes from node " + std::to_string(in.from) + ", not another member";
  }
  if (const auto* v = std::get_if<VoteRequest>(&in.message); v && v->candidate != in.from) {
    return "node " + std::to_string(in.from) + " asked for a vote for node " +
           std::to_string(v->candidate);
  }
  if (const auto* a = std::get_if<AppendRequest>(&in.message)) {
    if (a->leader != in.from) {
      return "node " + std::to_string(in.from) + " sent entries as leader " +
             std::to_string(a->leader);
    }
    if (a->prevEpoch > a->epoch) {
      return "the entries follow one of a later epoch than the leader's";
    }
    uint64_t epoch = a->prevEpoch;
    for (size_t i = 0; i < a->entries.size(); ++i) {
      const auto& e = a->entries[i];
      if (e.index != a->prevIndex + 1 + i) {
        return "entry " + std::to_string(e.index) + " is not at position " +
               std::to_string(a->prevIndex + 1 + i);
      }
      if (e.epoch < epoch || e.epoch > a->epoch) {
        return "entry " + std::to_string(e.index) + " has epoch " + std::to_string(e.epoch) +
               " out of order";
      }
      epoch = e.epoch;
      // Committed entries never change (Raft's leader completeness): a leader that says
      // otherwise is broken, and its entries are not taken.
      if (a->epoch >= state_.epoch && e.index > snapshot_.index && e.index <= commitIndex_ &&
          e.index <= lastIndex() && epochAt(e.index) != e.epoch) {
        return "entry " + std::to_string(e.index) + " contradicts a committed entry";
      }
    }
  }
  return {};
}

std::string RaftCore::step(const Envelope& in, MonoTime now) {
  // A peer proved the secret but may still be broken or hostile: a message no correct node
  // sends is refused here, never asserted on.
  if (std::string why = malformed(in); !why.empty()) {
    return why;
  }
  std::visit(Overloaded{
                 [&](const VoteRequest& m) { onVoteRequest(in.from, m, now); },
                 [&](const VoteReply& m) { onVoteReply(in.from, m, now); },
                 [&](const AppendRequest& m) { onAppendRequest(in.from, m, now); },
                 [&](const AppendReply& m) { onAppendReply(in.from, m, now); },
                 [&](const SnapshotNotice& m) { onSnapshotNotice(in.from, m, now); },
                 [&](const TimeoutNow& m) {
                   if (m.epoch == state_.epoch && role_ == Role::kFollower) {
                     campaignCause_ = "leadership transferred by node " + std::to_string(in.from);
                     startElection(now, true);
                   }
                 },
             },
             in.message);
  return {};
}

void RaftCore::onVoteRequest(NodeId from, const VoteRequest& m, MonoTime now) {
  // Stickiness: while a live leader is heard, disruptive candidates are ignored outright.
  if (!m.transfer && leaderRecentlyHeard(now) && m.epoch > state_.epoch) {
    return;
  }
  if (m.preVote) {
    bool newer = logUpToDate(m.lastLogIndex, m.lastLogEpoch);
    // Two nodes with equal logs standing at once would split the vote (in a cluster of three
    // with one down, always): a node that is standing itself yields only to a node ahead of
    // it in succession order or with a strictly newer log.
    bool standing = role_ == Role::kPreCandidate || role_ == Role::kCandidate;
    bool equalLog = m.lastLogIndex == lastIndex() && m.lastLogEpoch == lastEpoch();
    bool yields = !standing || !equalLog || rankOf(m.candidate) < rank_;
    bool grant = m.epoch > state_.epoch && newer && yields && (role_ != Role::kLeader);
    send(from, VoteReply{grant ? m.epoch : state_.epoch, grant, true});
    // Someone wants an election but lacks entries this node has: it cannot win, and waiting
    // for this node's own (later) timeout only prolongs the outage. Stand now instead.
    if (!newer && role_ == Role::kFollower && m.epoch > state_.epoch) {
      campaignCause_ = "node " + std::to_string(from) +
                       " stood with an older log, after " + silenceCause(now);
      startPreVote(now);
    }
    return;
  }
  if (m.epoch > state_.epoch) {
    becomeFollower(m.epoch, kNoNode, now);
  }
  bool grant = m.epoch == state_.epoch &&
               (state_.votedFor == kNoNode || state_.votedFor == m.candidate) &&
               logUpToDate(m.lastLogIndex, m.lastLogEpoch);
  if (grant) {
    setHardState(HardState{state_.epoch, m.candidate});
    resetElectionDeadline(now);
  }
  send(from, VoteReply{state_.epoch, grant, false});
  // A transfer (the leader is known to be gone) to a node that lacks entries this node has
  // cannot succeed: stand at once instead of leaving the cluster to its timeouts.
  if (!grant && m.transfer && role_ == Role::kFollower &&
      !logUpToDate(m.lastLogIndex, m.lastLogEpoch)) {
    campaignCause_ = "node " + std::to_string(from) + " was asked to stand but has an older log";
    startElection(now, true);
  }
}

void RaftCore::onVoteReply(NodeId from, const VoteReply& m, MonoTime now) {
  if (m.preVote) {
    if (role_ == Role::kPreCandidate && m.granted && m.epoch == state_.epoch + 1) {
      votes_[from] = true;
      if (votes_.size() >= majority()) {
        startElection(now, false);
      }
    } else if (!m.granted && m.epoch > state_.epoch) {
      becomeFollower(m.epoch, kNoNode, now);
    }
    return;
  }
  if (m.epoch > state_.epoch) {
    becomeFollower(m.epoch, kNoNode, now);
    return;
  }
  if (role_ != Role::kCandidate || m.epoch != state_.epoch || !m.granted) {
    return;
  }
  votes_[from] = true;
  if (votes_.size() >= majority()) {
    becomeLeader(now);
  }
}

void RaftCore::onAppendRequest(NodeId from, const AppendRequest& m, MonoTime now) {
  if (m.epoch < state_.epoch) {
    send(from, AppendReply{state_.epoch, false, 0});
    return;
  }
  becomeFollower(m.epoch, from, now);
  if (m.prevIndex < snapshot_.index) {
    // The start of this batch is already folded into the snapshot (committed, so it agrees):
    // consider only what follows the snapshot.
    AppendRequest rest;
    rest.epoch = m.epoch;
    rest.leader = m.leader;
    rest.prevIndex = snapshot_.index;
    rest.prevEpoch = snapshot_.epoch;
    rest.leaderCommit = m.leaderCommit;
    for (const auto& e : m.entries) {
      if (e.index > snapshot_.index) {
        rest.entries.push_back(e);
      }
    }
    return onAppendRequest(from, rest, now);
  }
  if (m.prevIndex > lastIndex()) {
    send(from, AppendReply{state_.epoch, false, lastIndex() + 1});
    return;
  }
  if (epochAt(m.prevIndex) != m.prevEpoch) {
    // Skip back over the whole conflicting epoch at once.
    uint64_t conflictEpoch = epochAt(m.prevIndex);
    uint64_t hint = m.prevIndex;
    while (hint > commitIndex_ + 1 && epochAt(hint - 1) == conflictEpoch) {
      --hint;
    }
    send(from, AppendReply{state_.epoch, false, std::max<uint64_t>(hint, 1)});
    return;
  }
  uint64_t index = m.prevIndex;
  for (const auto& e : m.entries) {
    ++index;
    CHAT_CHECK(e.index == index);
    if (index <= lastIndex()) {
      if (epochAt(index) == e.epoch) {
        continue;  // already have it
      }
      // A divergent suffix from a deposed leader: never a committed entry.
      CHAT_CHECK(index > commitIndex_);
      log_.resize(static_cast<size_t>(index - 1 - snapshot_.index));
      durable_ = std::min(durable_, index - 1);
      if (!ready_.truncateFrom || *ready_.truncateFrom > index) {
        ready_.truncateFrom = index;
      }
      // Entries queued for appending at or past the cut are gone too.
      std::erase_if(ready_.append, [&](const log::Entry& x) { return x.index >= index; });
    }
    log_.push_back(e);
    ready_.append.push_back(e);
  }
  uint64_t lastNew = m.prevIndex + m.entries.size();
  if (m.leaderCommit > commitIndex_) {
    commitIndex_ = std::min(m.leaderCommit, lastNew);
  }
  send(from, AppendReply{state_.epoch, true, lastNew});
}

void RaftCore::onAppendReply(NodeId from, const AppendReply& m, MonoTime now) {
  if (m.epoch > state_.epoch) {
    becomeFollower(m.epoch, kNoNode, now);
    heardFromLeader_ = false;
    return;
  }
  if (role_ != Role::kLeader || m.epoch != state_.epoch) {
    return;
  }
  auto it = progress_.find(from);
  if (it == progress_.end()) {
    return;
  }
  Progress& p = it->second;
  p.lastReply = now;
  if (m.success) {
    if (m.index > p.match) {
      p.match = m.index;
      p.next = std::max(p.next, m.index + 1);
      advanceCommit();
    }
    if (p.next <= lastIndex()) {
      p.needsSend = true;
    }
    return;
  }
  // Rejected: go back to the follower's hint, never below what it is known to match.
  p.next = std::max<uint64_t>(p.match + 1, std::min<uint64_t>(m.index, p.next));
  p.needsSend = true;
}

Ready RaftCore::takeReady() {
  if (role_ == Role::kLeader) {
    broadcastAppends(false);
  }
  // Hand out what committed, once, in order.
  while (applied_ < commitIndex_ && applied_ < lastIndex()) {
    ++applied_;
    ready_.committed.push_back(entry(applied_));
  }
  Ready out = std::move(ready_);
  ready_ = Ready{};
  return out;
}

}  // namespace chat::replication
