// RaftStorage: where a node keeps what the replication core must never forget: its hard
// state (epoch and vote) and its log. The host persists each Ready through it before sending
// the Ready's messages (raft_core.h). InMemoryRaftStorage serves the simulation and tests;
// LogRaftStorage (log_raft_storage.h) the node; SqliteRaftStorage (sqlite_raft_storage.h)
// only reads the raft.db of older versions, to migrate it.
// Thread contract: one thread at a time (the replication thread).
#ifndef CHAT_REPLICATION_RAFT_STORAGE_H_
#define CHAT_REPLICATION_RAFT_STORAGE_H_

#include <vector>

#include "chat/common/status.h"
#include "chat/replication/raft_core.h"

namespace chat::replication {

struct PersistedRaft {
  HardState hard;
  SnapshotMeta snapshot;               // where the log starts
  std::vector<log::Entry> log;  // dense from snapshot.index + 1
};

class RaftStorage {
 public:
  virtual ~RaftStorage() = default;
  // What is persisted. The host calls it once, before the first persist.
  virtual Result<PersistedRaft> load() = 0;
  // Makes the Ready's hard state, truncation, compaction and appended entries durable, all or
  // nothing, in that order.
  // Errors: kIoError; then nothing of the Ready was stored and the node must stop serving.
  virtual Status persist(const Ready& ready) = 0;
};

class InMemoryRaftStorage final : public RaftStorage {
 public:
  Result<PersistedRaft> load() override { return state_; }
  // What is stored, without a copy.
  const PersistedRaft& state() const { return state_; }
  Status persist(const Ready& ready) override {
    if (ready.hardState) {
      state_.hard = *ready.hardState;
    }
    if (ready.truncateFrom) {
      std::erase_if(state_.log,
                    [&](const log::Entry& e) { return e.index >= *ready.truncateFrom; });
    }
    if (ready.compacted) {
      std::erase_if(state_.log,
                    [&](const log::Entry& e) { return e.index <= ready.compacted->index; });
      state_.snapshot = *ready.compacted;
    }
    state_.log.insert(state_.log.end(), ready.append.begin(), ready.append.end());
    return Status::ok();
  }

 private:
  PersistedRaft state_;
};

}  // namespace chat::replication

#endif  // CHAT_REPLICATION_RAFT_STORAGE_H_
