#include "chat/replication/replicated_commit_log.h"

#include <algorithm>
#include <cstdio>

#include <Poco/Logger.h>

#include "chat/common/batch_scope.h"
#include "chat/common/kv_log.h"
#include "chat/common/process_info.h"

namespace chat::replication {

Result<std::unique_ptr<ReplicatedCommitLog>> ReplicatedCommitLog::open(ReplicatedLogOptions options,
                                                                       storage::MessageStore& store,
                                                                       RaftStorage& raftStorage,
                                                                       PeerTransport& transport,
                                                                       const Clock& clock) {
  auto persisted = raftStorage.load();
  if (!persisted) {
    return persisted.error();
  }
  auto applied = store.appliedPosition();
  if (!applied) {
    return applied.error();
  }
  CHAT_RETURN_IF_ERROR(finishSnapshotRestore(*persisted, *applied, raftStorage));
  if (applied->index < persisted->snapshot.index) {
    return Status::corruption("the replication log starts after index " +
                              std::to_string(persisted->snapshot.index) +
                              " but the chat database has applied only up to " +
                              std::to_string(applied->index) +
                              "; the data folder is inconsistent");
  }
  return std::unique_ptr<ReplicatedCommitLog>(
      new ReplicatedCommitLog(std::move(options), store, raftStorage, transport, clock,
                              std::move(persisted).value(), applied->index));
}

Status ReplicatedCommitLog::finishSnapshotRestore(PersistedRaft& persisted,
                                                  const storage::AppliedPosition& applied,
                                                  RaftStorage& raftStorage) {
  // chat.db is restored from a leader's snapshot (and synced) before the log records the
  // snapshot as its new start; a node stopped in between finds chat.db ahead of its log, or
  // holding another entry at its applied index than the log. chat.db is then the snapshot:
  // record it now, as the core would have, and start the log afresh after it.
  const SnapshotMeta& start = persisted.snapshot;
  uint64_t logEnd = start.index + persisted.log.size();
  bool ahead = applied.index > logEnd;
  bool otherEntry = applied.index > start.index && applied.index <= logEnd &&
                    persisted.log[static_cast<size_t>(applied.index - start.index - 1)].epoch !=
                        applied.epoch;
  if (!ahead && !otherEntry) {
    return Status::ok();
  }
  Ready ready;
  if (!persisted.log.empty()) {
    ready.truncateFrom = start.index + 1;
  }
  ready.compacted = SnapshotMeta{applied.index, applied.epoch};
  if (persisted.hard.epoch < applied.epoch) {
    // Never below an epoch whose entries it holds (a fetch persists the leader's epoch
    // first, so only a damaged state file gets here).
    ready.hardState = HardState{applied.epoch, kNoNode};
  }
  Status recorded = raftStorage.persist(ready);
  if (!recorded.isOk()) {
    return Status::ioError("the chat database holds a snapshot up to index " +
                           std::to_string(applied.index) +
                           " that the replication log has not recorded, and recording it failed: " +
                           recorded.message());
  }
  logEvent(Poco::Logger::get("chat.raft"), Poco::Message::PRIO_WARNING, "snapshot_restore_finished",
           {{"index", std::to_string(applied.index)},
            {"epoch", std::to_string(applied.epoch)},
            {"dropped_log_entries", std::to_string(persisted.log.size())}},
           "the node stopped between restoring a snapshot into chat.db and recording it in its "
           "log; recorded it now");
  persisted.log.clear();
  persisted.snapshot = SnapshotMeta{applied.index, applied.epoch};
  if (ready.hardState) {
    persisted.hard = *ready.hardState;
  }
  return Status::ok();
}

ReplicatedCommitLog::ReplicatedCommitLog(ReplicatedLogOptions options, storage::MessageStore& store,
                                         RaftStorage& raftStorage, PeerTransport& transport,
                                         const Clock& clock, PersistedRaft persisted,
                                         uint64_t applied)
    : options_(std::move(options)),
      store_(store),
      raftStorage_(raftStorage),
      transport_(transport),
      clock_(clock),
      random_(Random::entropySeed()),
      core_(std::make_unique<RaftCore>(options_.raft, persisted.hard, persisted.snapshot,
                                       std::move(persisted.log), applied, random_, clock.now())) {
  appliedIndex_.store(applied);
  epoch_.store(core_->epoch());
  role_.store(core_->role());  // a cluster of one leads from construction
  leader_.store(core_->liveLeader(clock.now(), options_.raft.heartbeat * 3));
  transport_.setSnapshotProvider([this] { return writeSnapshotForPeer(); });
  transport_.setHandler([this](Envelope envelope) {
    {
      MutexLock lock(mu_);
      inbox_.push_back(std::move(envelope));
    }
    cv_.notify_one();
  });
  // Last: the thread publishes the commit index and role itself from now on; started any
  // earlier, the stores above could overwrite what it already published (a single node
  // applies its log at once: awaitServing() returned with appliedIndex() still 0).
  thread_ = std::jthread([this](const std::stop_token& stop) { run(stop); });
}

ReplicatedCommitLog::~ReplicatedCommitLog() {
  transport_.setHandler([](const Envelope&) {});
  {
    MutexLock lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  thread_.request_stop();
  thread_.join();
  if (fetcher_.joinable()) {
    fetcher_.request_stop();
    fetcher_.join();
  }
  std::deque<Proposal> left;
  {
    MutexLock lock(mu_);
    left.swap(proposals_);
  }
  for (auto& p : left) {
    p.done(Status::unavailable("the node is shutting down; the operation was not stored"));
  }
  failWaiting("the node is shutting down; the operation may or may not be stored");
}

void ReplicatedCommitLog::propose(storage::Operation op, Done done, service::Urgency urgency,
                                  Gate gate) {
  // Encoded here, on the proposer's thread, once: the log, every follower and the apply
  // below all use these bytes.
  Proposal p{log::Payload(storage::encodeOperation(op)), std::move(done), std::move(gate),
             urgency};
  // In an event loop's iteration, every proposal of it reaches the log at once (BatchScope).
  handOverInScope(this, std::move(p),
                  [this](std::vector<Proposal> proposals) { enqueue(std::move(proposals)); });
}

void ReplicatedCommitLog::enqueue(std::vector<Proposal> proposals) {
  std::vector<Proposal> refused;
  {
    MutexLock lock(mu_);
    // Appended and not committed yet, plus queued: what this node holds for its clients.
    uint64_t last = lastIndex_.load();
    uint64_t applied = appliedIndex_.load();
    size_t pending = proposals_.size() + inHand_ + (last > applied ? last - applied : 0);
    if (pending + proposals.size() > options_.maxPendingProposals) {
      size_t room = pending < options_.maxPendingProposals
                        ? options_.maxPendingProposals - pending
                        : 0;
      for (size_t i = room; i < proposals.size(); ++i) {
        refused.push_back(std::move(proposals[i]));
      }
      proposals.resize(room);
    }
    if (!stopping_ && !proposals.empty()) {
      // Wake the thread for urgent proposals, and for the first lazy one so that it starts
      // waiting for the lazy deadline.
      bool wake = false;
      for (auto& p : proposals) {
        if (p.urgency == service::Urgency::kUrgent) {
          ++urgentQueued_;
          wake = true;
        } else if (proposals_.empty()) {
          lazyDeadline_ = clock_.now() + options_.lazyDelay;
          wake = true;
        }
        proposals_.push_back(std::move(p));
      }
      if (wake) {
        cv_.notify_one();
      }
      proposals.clear();
    }
  }
  for (auto& p : refused) {
    p.done(Status::unavailable("the node is busy: " + std::to_string(options_.maxPendingProposals) +
                               " operations wait to be committed; the operation was not "
                               "stored, try again shortly"));
  }
  for (auto& p : proposals) {
    p.done(Status::unavailable("the node is shutting down; the operation was not stored"));
  }
}

bool ReplicatedCommitLog::awaitServing(Duration timeout) {
  MutexLock lock(mu_);
  servingCv_.wait_for(mu_, timeout,
                      [&]() REQUIRES(mu_) { return serving_.load() || stopping_; });
  return serving_.load();
}

void ReplicatedCommitLog::campaignNow() {
  {
    MutexLock lock(mu_);
    campaign_ = true;
  }
  cv_.notify_one();
}

void ReplicatedCommitLog::failWaiting(const std::string& why) {
  for (auto& [index, w] : waiting_) {
    w.done(Status::unavailable(why));
  }
  waiting_.clear();
}

void ReplicatedCommitLog::run(const std::stop_token& stop) {
  setThreadName("chat-raft");
  MonoTime nextTick = clock_.now();
  std::deque<Proposal> proposals;
  std::deque<Envelope> inbox;
  std::optional<Result<std::string>> fetched;
  while (!stop.stop_requested()) {
    bool campaign = false;
    {
      MutexLock lock(mu_);
      MonoTime wakeAt = nextTick;
      if (!proposals_.empty() && urgentQueued_ == 0) {
        wakeAt = std::min(wakeAt, lazyDeadline_);
      }
      cv_.wait_until(mu_, wakeAt, [&]() REQUIRES(mu_) {
        return stopping_ || campaign_ || urgentQueued_ > 0 || !inbox_.empty() ||
               fetched_.has_value();
      });
      if (stopping_) {
        return;
      }
      // Lazy proposals ride along with urgent ones, or go once they waited long enough.
      if (proposalsDue(clock_.now())) {
        proposals.swap(proposals_);
        urgentQueued_ = 0;
        inHand_ = proposals.size();
      }
      inbox.swap(inbox_);
      std::swap(campaign, campaign_);
      fetched.swap(fetched_);
    }
    MonoTime now = clock_.now();
    if (fetched) {
      installFetched(std::move(*fetched), now);
      fetched.reset();
    }
    for (auto& envelope : inbox) {
      if (std::string refused = core_->step(envelope, now); !refused.empty()) {
        logEvent(Poco::Logger::get("chat.raft"), Poco::Message::PRIO_WARNING, "peer_message_refused",
                 {{"from", std::to_string(envelope.from)}}, refused);
      }
    }
    inbox.clear();
    if (campaign) {
      core_->campaignNow(now);
    }
    if (now >= nextTick) {
      core_->tick(now);
      nextTick = now + options_.tickInterval;
      // The store syncs its archive when a trim waits for it; trim once it did, even if no
      // entry commits meanwhile.
      if (!broken_) {
        maybeCompact(now);
      }
    }
    for (auto& p : proposals) {
      if (broken_) {
        p.done(Status::unavailable("this node's storage failed; it serves nothing more"));
        continue;
      }
      // An earlier proposal of the same client failed (perhaps in this very batch, while
      // this node was between leaderships): appending this one now would store it first.
      if (p.gate && !p.gate()) {
        p.done(Status::unavailable(service::kGateClosed));
        continue;
      }
      auto position = core_->propose(std::move(p.payload));
      if (!position) {
        NodeId leader = core_->leader();
        p.done(Status::unavailable(
            leader == kNoNode
                ? std::string("the cluster has no leader right now; try again")
                : "this node is not the leader; node " + std::to_string(leader) + " is"));
        continue;
      }
      waiting_[position->index] = Waiting{position->epoch, std::move(p.done)};
    }
    proposals.clear();
    process(now);  // lastIndex_ counts the appended ones now
    {
      MutexLock lock(mu_);
      inHand_ = 0;
    }
  }
}

std::vector<RaftCore::PeerProgress> ReplicatedCommitLog::peerProgress() const {
  MutexLock lock(statusMu_);
  return peers_;
}

void ReplicatedCommitLog::process(MonoTime now) {
  // Persisting lets a leader count its own copy, which may commit more: go round until the
  // core has nothing more to hand out.
  do {
    processOnce(now);
  } while (!broken_ && core_->hasReady());
}

void ReplicatedCommitLog::processOnce(MonoTime now) {
  Ready ready = core_->takeReady();
  // A leader's appends leave before its own write, so that the followers' disk writes
  // overlap it; the core counts the leader's copy only after persisted() below.
  if (!broken_) {
    for (auto& m : ready.sendFirst) {
      transport_.send(std::move(m));
    }
  }
  if (!broken_) {
    Status persisted = raftStorage_.persist(ready);
    if (!persisted.isOk()) {
      // Sending anything now could acknowledge what is not durable: go silent instead.
      broken_ = true;
      storageFailed_.store(true);
      failWaiting("this node's storage failed: " + persisted.message());
    }
  }
  if (broken_) {
    return;
  }
  for (auto& m : ready.messages) {
    transport_.send(std::move(m));
  }
  core_->persisted(core_->lastIndex());
  if (ready.fetchSnapshotFrom != kNoNode) {
    startFetch(ready.fetchSnapshotFrom);
  }
  if (!ready.committed.empty()) {
    // The group's replies and pushes reach each event loop together, when this closes.
    BatchScope handOff;
    auto commands = decodeCommitted(ready.committed);
    auto results = commands ? store_.apply(*commands) : Result<std::vector<storage::ApplyResult>>(
                                                            commands.error());
    if (!results) {
      broken_ = true;
      storageFailed_.store(true);
      failWaiting("this node could not apply committed entries: " + results.error().message());
      return;
    }
    // Published before anyone hears of the entries, so status never lags an acknowledgement.
    appliedIndex_.store(ready.committed.back().index);
    for (size_t i = 0; i < commands->size(); ++i) {
      const auto& entry = (*commands)[i];
      if (auto* observer = observer_.load()) {
        observer->onApplied(entry, (*results)[i]);
      }
      auto it = waiting_.find(entry.index);
      if (it != waiting_.end()) {
        if (it->second.epoch == entry.epoch) {
          it->second.done(std::move((*results)[i]));
        } else {
          it->second.done(Status::unavailable(
              "leadership changed before the operation committed; it was not stored"));
        }
        waiting_.erase(it);
      }
    }
    maybeCompact(now);
  }
  if (core_->role() != Role::kLeader && !waiting_.empty()) {
    failWaiting(
        "this node lost leadership; the operation may or may not be stored, and "
        "retrying it with the same request id is safe");
  }
  // Three missed heartbeats: the leader is probably gone, so clients are not sent to it.
  NodeId liveLeader = core_->liveLeader(now, options_.raft.heartbeat * 3);
  if (core_->role() != role_.load() || liveLeader != leader_.load()) {
    logEvent(Poco::Logger::get("chat.raft"), Poco::Message::PRIO_INFORMATION, "role",
             {{"role", roleName(core_->role())},
              {"epoch", std::to_string(core_->epoch())},
              {"leader", liveLeader == kNoNode ? std::string("unknown")
                                               : std::to_string(liveLeader)},
              {"log", std::to_string(core_->lastIndex())},
              {"log_epoch", std::to_string(core_->lastEpoch())},
              {"commit", std::to_string(core_->commitIndex())}});
  }
  if (core_->role() == Role::kCandidate && role_.load() != Role::kCandidate) {
    campaigns_.fetch_add(1);
  }
  epoch_.store(core_->epoch());
  role_.store(core_->role());
  leader_.store(liveLeader);
  if (core_->caughtUp() != serving_.load()) {
    {
      MutexLock lock(mu_);
      serving_.store(core_->caughtUp());
    }
    servingCv_.notify_all();
  }
  lastIndex_.store(core_->lastIndex());
  auto peers = core_->peerProgress(now);
  MutexLock lock(statusMu_);
  peers_ = std::move(peers);
  if (core_->lastElection().epoch != lastElection_.epoch) {
    lastElection_ = core_->lastElection();
    elections_.fetch_add(1);
  }
}

Result<std::vector<storage::Command>> ReplicatedCommitLog::decodeCommitted(
    const std::vector<log::Entry>& committed) {
  std::vector<storage::Command> commands;
  commands.reserve(committed.size());
  for (const auto& e : committed) {
    auto op = storage::decodeOperation(e.payload.bytes());
    if (!op) {
      // Every node wrote these bytes after checking their CRC: a payload that does not
      // decode was written by a chat-node that knows operations this one does not.
      return Status::corruption("committed log entry " + std::to_string(e.index) +
                                " holds no operation this chat-node knows (" +
                                op.error().message() +
                                "); run the same chat-node version on every node");
    }
    commands.push_back(storage::Command{e.epoch, e.index, std::move(op).value()});
  }
  return commands;
}

ElectionNote ReplicatedCommitLog::lastElection() const {
  MutexLock lock(statusMu_);
  return lastElection_;
}

}  // namespace chat::replication

namespace chat::replication {

bool ReplicatedCommitLog::canSnapshot() const {
  return !options_.snapshotDir.empty() && store_.supportsSnapshots();
}

void ReplicatedCommitLog::maybeCompact(MonoTime now) {
  if (!canSnapshot()) {
    return;
  }
  uint64_t start = core_->snapshot().index;
  uint64_t applied = core_->appliedIndex();
  uint64_t target = 0;
  if (core_->role() == Role::kLeader) {
    uint64_t everyone = applied;
    for (const auto& p : core_->peerProgress(now)) {
      everyone = std::min(everyone, p.match);
    }
    if (everyone >= start + options_.compactEntries) {
      target = everyone;
    }
  }
  if (core_->lastIndex() - start > options_.maxLogEntries &&
      applied > start + options_.maxLogEntries / 2) {
    target = std::max(target, applied - options_.maxLogEntries / 2);
  }
  if (target <= start) {
    return;
  }
  // The store's archive is written behind the log and without its own fsync: only what it
  // holds durably may go from the log (the store syncs soon when asked and lags).
  auto synced = store_.syncedIndex();
  if (!synced) {
    logEvent(Poco::Logger::get("chat.raft"), Poco::Message::PRIO_WARNING, "trim_skipped",
             {{"target", std::to_string(target)}},
             "not trimming the log: " + synced.error().message());
    return;
  }
  target = std::min(target, *synced);
  if (target <= start) {
    return;
  }
  core_->compact(target);
}

Result<std::string> ReplicatedCommitLog::writeSnapshotForPeer() {
  if (!canSnapshot()) {
    return Status::unavailable("this node keeps no snapshots");
  }
  std::string path = options_.snapshotDir + "/snapshot-out-" +
                     std::to_string(snapshotsServed_.fetch_add(1)) + ".db";
  auto written = store_.writeSnapshot(path);
  if (!written) {
    return written.error();
  }
  return path;
}

void ReplicatedCommitLog::startFetch(NodeId from) {
  if (!canSnapshot()) {
    core_->snapshotFailed();
    return;
  }
  if (fetcher_.joinable()) {
    fetcher_.join();  // the previous fetch already reported; its thread is ending
  }
  std::string path = options_.snapshotDir + "/snapshot-in.db";
  logEvent(Poco::Logger::get("chat.raft"), Poco::Message::PRIO_INFORMATION, "snapshot_fetch",
           {{"from", std::to_string(from)}});
  fetcher_ = std::jthread([this, from, path](const std::stop_token& stop) {
    setThreadName("chat-snapshot");
    Status s = transport_.fetchSnapshot(from, path, stop);
    {
      MutexLock lock(mu_);
      fetched_ = s.isOk() ? Result<std::string>(path) : Result<std::string>(s);
    }
    cv_.notify_one();
  });
}

void ReplicatedCommitLog::installFetched(Result<std::string> fetched, MonoTime now) {
  auto& log = Poco::Logger::get("chat.raft");
  if (!fetched) {
    logEvent(log, Poco::Message::PRIO_WARNING, "snapshot_fetch_failed", {},
             fetched.error().message());
    core_->snapshotFailed();
    return;
  }
  auto restored = store_.restoreSnapshot(*fetched);
  std::remove(fetched->c_str());
  if (!restored) {
    logEvent(log, Poco::Message::PRIO_WARNING, "snapshot_install_failed", {},
             restored.error().message());
    core_->snapshotFailed();
    return;
  }
  logEvent(log, Poco::Message::PRIO_INFORMATION, "snapshot_installed",
           {{"index", std::to_string(restored->index)}, {"epoch", std::to_string(restored->epoch)}});
  core_->snapshotInstalled(SnapshotMeta{restored->index, restored->epoch}, now);
  appliedIndex_.store(std::max(appliedIndex_.load(), restored->index));
  process(now);
}

}  // namespace chat::replication
