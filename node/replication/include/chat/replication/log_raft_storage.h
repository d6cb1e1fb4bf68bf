// LogRaftStorage: the RaftStorage of a node: its log in segment files (chat/log/segment_log.h,
// one pwritev and one fdatasync per Ready) and its hard state (epoch, vote) and log start
// (the snapshot the log continues from) in a state file replaced atomically. In a data
// folder DIR:
//
//   DIR/raft-state   u8 version (1), u64 epoch, u32 voted for, u64 snapshot index,
//                    u64 snapshot epoch (big-endian, protocol/byte_io.h), in a state file
//   DIR/log/         the segments; each entry's payload is the operation-record encoding
//
// A Ready is persisted in this order: the state file when the hard state or the log start
// changed (so a vote is durable before any message that depends on it, and the log start
// before segments go), segments past the new start, the truncation, the appends, one sync.
//
// Thread contract: one thread at a time (the replication thread).
#ifndef CHAT_REPLICATION_LOG_RAFT_STORAGE_H_
#define CHAT_REPLICATION_LOG_RAFT_STORAGE_H_

#include <memory>
#include <string>

#include "chat/log/file_system.h"
#include "chat/log/segment_log.h"
#include "chat/replication/raft_storage.h"

namespace chat::replication {

class LogRaftStorage final : public RaftStorage {
 public:
  // Opens (or creates) the storage in `dataDir` and recovers the log (segment_log.h). A new
  // storage's log continues from `startIfNew` (the position a state machine already holds,
  // as when a node of an older version moves to the log), with that epoch as its own.
  // `fs` must outlive the storage. Errors: kCorruption (names the file and what to do),
  // kUnavailable (another process uses the folder), kIoError.
  static Result<std::unique_ptr<LogRaftStorage>> open(log::FileSystem& fs,
                                                      const std::string& dataDir,
                                                      log::LogOptions options = {},
                                                      SnapshotMeta startIfNew = {});
  // Whether `dataDir` holds this storage already (its state file).
  static bool existsIn(log::FileSystem& fs, const std::string& dataDir);

  // What open() found. REQUIRES: called once, before the first persist (the log's entries
  // are handed over, not copied).
  Result<PersistedRaft> load() override;
  // Errors: kIoError, and then the storage accepts nothing more (the log's error is sticky).
  Status persist(const Ready& ready) override;
  const log::RecoveryReport& recovery() const { return log_->recovery(); }

 private:
  LogRaftStorage(log::FileSystem& fs, std::string dataDir);
  Status writeState();

  log::FileSystem& fs_;
  const std::string dataDir_;
  HardState hard_;
  SnapshotMeta snapshot_;
  std::unique_ptr<log::SegmentLog> log_;
  std::vector<log::Entry> recovered_;
};

}  // namespace chat::replication

#endif  // CHAT_REPLICATION_LOG_RAFT_STORAGE_H_
