// SegmentLog: the node's durable log, the commit point of every change. Entries go into
// preallocated segment files (so an append changes no file size and fdatasync has no
// metadata to write), a group of them in one pwritev and one fdatasync. On open, the log is
// scanned to its last valid record: a torn tail (an unsynced write cut short or written out
// of order by the page cache) is cut off and kept aside in a .torn file; damage anywhere
// else refuses the open with the file and offset, because skipping an acknowledged entry
// would break replication's promises. Segments are dropped only when the caller says that
// a snapshot covers them (dropThrough).
//
// Errors are sticky: after a failed write or sync nothing more is accepted, since what is
// on disk is unknown (fsyncgate); the node must stop and recover from the disk.
//
// Thread contract: one thread at a time (the replication thread). A background thread of
// the log's own prepares the next segment.
#ifndef CHAT_LOG_SEGMENT_LOG_H_
#define CHAT_LOG_SEGMENT_LOG_H_

#include <algorithm>
#include <cstdint>
#include <deque>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "chat/common/mutex.h"
#include "chat/common/status.h"
#include "chat/log/entry.h"
#include "chat/log/file_system.h"

namespace chat::log {

struct LogOptions {
  // The size of every segment file; a record never spans two.
  uint64_t segmentBytes = 16U << 20;
  // The largest payload append() takes; segments must hold at least one such record.
  uint32_t maxPayloadBytes = 4U << 20;
  // Prepare the next segment on a thread of its own once the active one is half full (the
  // node), or at the moment it is needed (deterministic tests).
  bool prepareInBackground = true;
};

// What the open found and did, for the node's log.
struct RecoveryReport {
  size_t segments = 0;
  uint64_t records = 0;
  // A torn tail that was cut off: where, and how many bytes (0: none).
  std::string tornFile;
  uint64_t tornOffset = 0;
  uint64_t tornBytes = 0;
};

class SegmentLog {
 public:
  // Opens (or creates) the log in `dir`, takes its lock, and recovers it. Entries with index
  // <= `startAfter` are covered by a snapshot: skipped, and their segments may be dropped.
  // `fs` must outlive the log.
  // Errors: kCorruption (names the file and offset; the log is not changed), kUnavailable
  // (another process holds the lock), kIoError.
  static Result<std::unique_ptr<SegmentLog>> open(FileSystem& fs, const std::string& dir,
                                                  LogOptions options, uint64_t startAfter);
  ~SegmentLog();
  SegmentLog(const SegmentLog&) = delete;  // owns files and a thread
  SegmentLog& operator=(const SegmentLog&) = delete;

  // The entries recovered by open (index > startAfter, dense), handed out once.
  std::vector<Entry> takeRecovered() { return std::move(recovered_); }
  const RecoveryReport& recovery() const { return report_; }

  // Stages `entry`; nothing reaches the disk before sync().
  // REQUIRES: entry.index == max(lastIndex(), start) + 1.
  // Errors: kInvalidArgument (payload over options.maxPayloadBytes), or the sticky error.
  Status append(const Entry& entry);
  // Stages the removal of every entry with index >= `index` (a divergent Raft suffix).
  Status truncateFrom(uint64_t index);
  // Writes everything staged and makes it durable: one pwritev and one fdatasync per group
  // (a group is cut at 8 MiB, and where a segment fills up, the full one is synced first).
  Status sync();
  // Entries up to `index` are covered by a durable snapshot: deletes the oldest segments
  // holding nothing past it. REQUIRES: the caller made `index` durable as the log's start
  // (the next open passes it as startAfter) before calling this.
  Status dropThrough(uint64_t index);

  // The index the next entry follows: the last entry's, staged ones included, or the start
  // when that is higher (everything was dropped or truncated).
  uint64_t lastIndex() const { return std::max(lastIndex_, start_); }
  size_t segmentCount() const { return segments_.size(); }
  // The sticky error, ok while the log works.
  const Status& failure() const { return failed_; }

 private:
  struct Segment {
    uint64_t sequence = 0;
    std::string path;
    uint64_t maxIndex = 0;  // the highest entry index written into it
  };
  struct Chunk {
    bool startsSegment = false;  // written into a new segment
    std::vector<uint8_t> bytes;
    uint64_t maxIndex = 0;
  };

  SegmentLog(FileSystem& fs, std::string dir, LogOptions options, uint64_t startAfter);
  Status recover();
  Status recoverSegment(size_t i, bool isLast);
  Status createFirstSegment();
  Status stage(uint8_t type, uint64_t epoch, uint64_t index, ByteSpan payload);
  Status fail(Status s);
  Status rollOver();
  void startPreparingSpare();
  Status takeSpare(uint64_t sequence);
  std::string segmentPath(uint64_t sequence) const;

  FileSystem& fs_;
  const std::string dir_;
  const LogOptions options_;
  uint64_t start_;  // entries up to here are covered by a snapshot

  std::unique_ptr<FileLock> lock_;
  std::deque<Segment> segments_;  // oldest first; the last one is active
  std::unique_ptr<File> active_;
  uint64_t writeOffset_ = 0;   // in the active segment: where the next write goes
  uint64_t stagedOffset_ = 0;  // where the next staged record will land
  uint64_t lastIndex_ = 0;
  std::vector<Chunk> staged_;
  Status failed_;
  std::vector<Entry> recovered_;
  RecoveryReport report_;

  // The spare: the next segment, zero-filled and synced under a temporary name.
  Mutex spareMu_;
  uint64_t spareSequence_ = 0;  // 0: none being prepared
  Status spareStatus_ GUARDED_BY(spareMu_);
  std::jthread spareThread_;
};

}  // namespace chat::log

#endif  // CHAT_LOG_SEGMENT_LOG_H_
