// ReplicatedCommitLog: the CommitLog of a clustered node. It runs a RaftCore on its own
// thread: proposals become log entries on the leader, entries are persisted (RaftStorage)
// before any message that depends on them is sent (PeerTransport), and entries committed by a
// majority are applied to the MessageStore in order, on every node. A proposal's callback
// runs when its entry is applied (with the apply result), or fails with kUnavailable when
// this node is not the leader or loses leadership before the entry commits — a client then
// retries with the same request id, which the store applies once (DESIGN.md invariant 5).
//
// Thread contract: public methods are thread-safe; callbacks and the observer run on the
// replication thread, in log order.
#ifndef CHAT_REPLICATION_REPLICATED_COMMIT_LOG_H_
#define CHAT_REPLICATION_REPLICATED_COMMIT_LOG_H_

#include <atomic>
#include <condition_variable>
#include <deque>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <thread>

#include "chat/common/clock.h"
#include "chat/common/mutex.h"
#include "chat/common/random.h"
#include "chat/replication/peer_transport.h"
#include "chat/replication/raft_core.h"
#include "chat/replication/raft_storage.h"
#include "chat/service/commit_log.h"
#include "chat/storage/message_store.h"

namespace chat::replication {

struct ReplicatedLogOptions {
  RaftConfig raft;
  Duration tickInterval = std::chrono::milliseconds(5);
  // Lazy proposals (delivery marks, last-seen times) wait this long for an urgent one to
  // ride along with, so that they cost no sync of their own.
  Duration lazyDelay = std::chrono::milliseconds(20);
  // Where snapshots are written for peers and fetched from the leader. Empty, or a store
  // without snapshots: the log is never trimmed.
  std::string snapshotDir;
  // Trimming: the leader drops what every node holds once that is compactEntries past the
  // log's start; any node keeps at most maxLogEntries, dropping the older half beyond that
  // (a node that falls further behind catches up from a snapshot).
  uint64_t compactEntries = 10000;
  uint64_t maxLogEntries = 100000;
  // Proposals queued or appended but not yet committed, at most (a majority gone, or a flood
  // faster than the disk): beyond it a proposal is refused at once with "busy, retry" rather
  // than held in memory without end.
  size_t maxPendingProposals = 65536;
};

class ReplicatedCommitLog final : public service::CommitLog {
 public:
  // Loads the persisted log, starts the replication thread. Every reference must outlive
  // the log. Errors: those of loading the persisted state.
  static Result<std::unique_ptr<ReplicatedCommitLog>> open(ReplicatedLogOptions options,
                                                           storage::MessageStore& store,
                                                           RaftStorage& raftStorage,
                                                           PeerTransport& transport,
                                                           const Clock& clock);
  ~ReplicatedCommitLog() override;  // stops the thread; pending proposals fail
  ReplicatedCommitLog(const ReplicatedCommitLog&) = delete;  // owns a thread
  ReplicatedCommitLog& operator=(const ReplicatedCommitLog&) = delete;

  // Encodes `op` on the calling thread. While the caller has a BatchScope open (an event
  // loop's iteration), proposals are gathered and queued together when it closes.
  void propose(storage::Operation op, Done done,
               service::Urgency urgency = service::Urgency::kUrgent, Gate gate = {}) override
      EXCLUDES(mu_);
  void setObserver(service::ApplyObserver* observer) override { observer_.store(observer); }
  uint64_t appliedIndex() const override { return appliedIndex_.load(); }
  uint64_t epoch() const override { return epoch_.load(); }

  Role role() const { return role_.load(); }
  // This node leads and has applied everything committed before its election, so it may
  // answer requests (RaftCore::caughtUp); a fresh leader catches up within a round trip.
  bool serving() const { return serving_.load(); }
  // Waits up to `timeout` for serving(); a node without peers catches up from its own log at
  // start. Returns serving().
  bool awaitServing(Duration timeout) EXCLUDES(mu_);
  // The leader if this node leads or heard from it within three heartbeats, else kNoNode.
  NodeId leader() const { return leader_.load(); }
  // Stand for election now (the supervisor saw the leader die).
  void campaignNow() EXCLUDES(mu_);
  // As the leader sees its followers (empty when this node does not lead).
  std::vector<RaftCore::PeerProgress> peerProgress() const EXCLUDES(statusMu_);
  // The last change of leader this node saw and why (epoch 0 when none yet).
  ElectionNote lastElection() const EXCLUDES(statusMu_);
  // For /metrics: leaders this node saw elected, times it stood for election, the index of
  // its last log entry, and whether its storage failed (it then serves nothing).
  uint64_t electionsSeen() const { return elections_.load(); }
  uint64_t campaigns() const { return campaigns_.load(); }
  uint64_t lastIndex() const { return lastIndex_.load(); }
  bool storageFailed() const { return storageFailed_.load(); }

  // A proposal on its way to the replication thread.
  struct Proposal {
    log::Payload payload;  // the operation, encoded by propose()
    Done done;
    Gate gate;
    service::Urgency urgency = service::Urgency::kUrgent;
  };

 private:
  // Whether queued proposals should be taken now: an urgent one waits, or the oldest lazy
  // one waited long enough.
  bool proposalsDue(MonoTime now) const REQUIRES(mu_) {
    return urgentQueued_ > 0 || (!proposals_.empty() && now >= lazyDeadline_);
  }
  struct Waiting {
    uint64_t epoch;
    Done done;
  };

  ReplicatedCommitLog(ReplicatedLogOptions options, storage::MessageStore& store,
                      RaftStorage& raftStorage, PeerTransport& transport, const Clock& clock,
                      PersistedRaft persisted, uint64_t applied);
  void run(const std::stop_token& stop);
  void process(MonoTime now);
  void processOnce(MonoTime now);
  // At open: a snapshot restored into chat.db that the log has not recorded yet (a crash
  // between the two) is recorded now. Errors: kIoError.
  static Status finishSnapshotRestore(PersistedRaft& persisted,
                                      const storage::AppliedPosition& applied,
                                      RaftStorage& raftStorage);
  void enqueue(std::vector<Proposal> proposals) EXCLUDES(mu_);
  void failWaiting(const std::string& why);
  // The operations of committed entries, for the store. Errors: kCorruption.
  static Result<std::vector<storage::Command>> decodeCommitted(
      const std::vector<log::Entry>& committed);
  bool canSnapshot() const;
  // Trims the log when the options say so, after making the store durable.
  void maybeCompact(MonoTime now);
  void startFetch(NodeId from);
  void installFetched(Result<std::string> fetched, MonoTime now);
  Result<std::string> writeSnapshotForPeer();

  // Immutable after construction
  const ReplicatedLogOptions options_;
  storage::MessageStore& store_;
  RaftStorage& raftStorage_;
  PeerTransport& transport_;
  const Clock& clock_;
  // Set once by the service, read by the replication thread, which may already be running.
  std::atomic<service::ApplyObserver*> observer_{nullptr};

  // Owned by the replication thread
  Random random_;
  std::unique_ptr<RaftCore> core_;
  std::map<uint64_t, Waiting> waiting_;  // by log index
  bool broken_ = false;                  // storage failed: serve nothing more
  std::jthread fetcher_;                 // a snapshot fetch in progress, if any

  std::atomic<uint64_t> appliedIndex_{0};  // of the last record applied to the store
  std::atomic<uint64_t> epoch_{0};
  std::atomic<Role> role_{Role::kFollower};
  std::atomic<bool> serving_{false};
  std::atomic<NodeId> leader_{kNoNode};
  std::atomic<uint64_t> elections_{0};
  std::atomic<uint64_t> campaigns_{0};
  std::atomic<uint64_t> lastIndex_{0};
  std::atomic<bool> storageFailed_{false};

  mutable Mutex statusMu_;
  std::vector<RaftCore::PeerProgress> peers_ GUARDED_BY(statusMu_);
  ElectionNote lastElection_ GUARDED_BY(statusMu_);

  Mutex mu_;
  std::condition_variable_any cv_;         // wakes the replication thread
  std::condition_variable_any servingCv_;  // wakes awaitServing()
  std::deque<Proposal> proposals_ GUARDED_BY(mu_);
  size_t urgentQueued_ GUARDED_BY(mu_) = 0;
  // Proposals the thread took from proposals_ and has not yet appended (lastIndex_ does not
  // count them yet): part of what the bound counts, so that a batch in hand is no room.
  size_t inHand_ GUARDED_BY(mu_) = 0;
  MonoTime lazyDeadline_ GUARDED_BY(mu_){};  // when the oldest lazy proposal is due
  std::deque<Envelope> inbox_ GUARDED_BY(mu_);
  bool campaign_ GUARDED_BY(mu_) = false;
  std::optional<Result<std::string>> fetched_ GUARDED_BY(mu_);  // a finished fetch's file
  bool stopping_ GUARDED_BY(mu_) = false;

  std::atomic<uint64_t> snapshotsServed_{0};
  std::jthread thread_;  // started at the end of the constructor, once everything exists
};

}  // namespace chat::replication

#endif  // CHAT_REPLICATION_REPLICATED_COMMIT_LOG_H_
