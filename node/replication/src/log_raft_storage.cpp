#include "chat/replication/log_raft_storage.h"

#include "chat/log/state_file.h"
#include "chat/protocol/byte_io.h"

namespace chat::replication {
namespace {

constexpr uint8_t kStateVersion = 1;

std::string statePath(const std::string& dataDir) { return dataDir + "/raft-state"; }

}  // namespace

LogRaftStorage::LogRaftStorage(log::FileSystem& fs, std::string dataDir)
    : fs_(fs), dataDir_(std::move(dataDir)) {}

bool LogRaftStorage::existsIn(log::FileSystem& fs, const std::string& dataDir) {
  auto state = log::readStateFile(fs, statePath(dataDir));
  return !state || state->has_value();  // a damaged one exists too: open() will say so
}

Result<std::unique_ptr<LogRaftStorage>> LogRaftStorage::open(log::FileSystem& fs,
                                                             const std::string& dataDir,
                                                             log::LogOptions options,
                                                             SnapshotMeta startIfNew) {
  std::unique_ptr<LogRaftStorage> s(new LogRaftStorage(fs, dataDir));
  CHAT_RETURN_IF_ERROR(fs.createDir(dataDir));
  auto state = log::readStateFile(fs, statePath(dataDir));
  if (!state) {
    return state.error();
  }
  if (state->has_value()) {
    protocol::ByteReader r(**state);
    auto version = r.u8();
    auto epoch = r.u64();
    auto vote = r.u32();
    auto snapshotIndex = r.u64();
    auto snapshotEpoch = r.u64();
    if (!version || *version != kStateVersion || !epoch || !vote || !snapshotIndex ||
        !snapshotEpoch || !r.expectEnd().isOk()) {
      return Status::corruption("the state file " + statePath(dataDir) +
                                " has an unknown layout (written by a newer chat-node?)");
    }
    s->hard_ = HardState{*epoch, *vote};
    s->snapshot_ = SnapshotMeta{*snapshotIndex, *snapshotEpoch};
  } else {
    // A new folder: the state file exists before anything is appended, so that a log
    // without one is never mistaken for a fresh start.
    s->hard_ = HardState{startIfNew.epoch, kNoNode};
    s->snapshot_ = startIfNew;
    CHAT_RETURN_IF_ERROR(s->writeState());
  }
  auto opened = log::SegmentLog::open(fs, dataDir + "/log", options, s->snapshot_.index);
  if (!opened) {
    return opened.error();
  }
  s->log_ = std::move(opened).value();
  s->recovered_ = s->log_->takeRecovered();
  return s;
}

Status LogRaftStorage::writeState() {
  protocol::ByteWriter w;
  w.u8(kStateVersion);
  w.u64(hard_.epoch);
  w.u32(hard_.votedFor);
  w.u64(snapshot_.index);
  w.u64(snapshot_.epoch);
  return log::writeStateFile(fs_, statePath(dataDir_), w.bytes());
}

Result<PersistedRaft> LogRaftStorage::load() {
  // The core keeps the log in memory from here on; the storage keeps no second copy.
  return PersistedRaft{hard_, snapshot_, std::move(recovered_)};
}

Status LogRaftStorage::persist(const Ready& ready) {
  if (!log_->failure().isOk()) {
    return log_->failure();
  }
  bool stateChanged = false;
  if (ready.hardState && *ready.hardState != hard_) {
    hard_ = *ready.hardState;
    stateChanged = true;
  }
  if (ready.compacted && ready.compacted->index > snapshot_.index) {
    snapshot_ = *ready.compacted;
    stateChanged = true;
  }
  if (stateChanged) {
    CHAT_RETURN_IF_ERROR(writeState());
  }
  if (ready.compacted) {
    CHAT_RETURN_IF_ERROR(log_->dropThrough(snapshot_.index));
  }
  if (ready.truncateFrom) {
    CHAT_RETURN_IF_ERROR(log_->truncateFrom(*ready.truncateFrom));
  }
  for (const auto& e : ready.append) {
    CHAT_RETURN_IF_ERROR(log_->append(e));  // the proposal's bytes, written as they came
  }
  return log_->sync();
}

}  // namespace chat::replication
