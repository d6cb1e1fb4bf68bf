#include "chat/replication/sqlite_raft_storage.h"

#include <filesystem>

#include <Poco/Data/LOB.h>
#include <Poco/Data/SQLite/Connector.h>
#include <Poco/Data/Session.h>
#include <Poco/Data/Statement.h>

namespace chat::replication {

using Poco::Int64;
using Poco::Data::BLOB;
using Poco::Data::Session;
using Poco::Data::Keywords::into;
using Poco::Data::Keywords::now;
using Poco::Data::Keywords::use;

struct SqliteRaftStorage::Impl {
  std::unique_ptr<Session> session;
};

SqliteRaftStorage::SqliteRaftStorage(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
SqliteRaftStorage::~SqliteRaftStorage() = default;

Result<std::unique_ptr<SqliteRaftStorage>> SqliteRaftStorage::open(const std::string& path) {
  std::filesystem::path folder = std::filesystem::path(path).parent_path();
  std::error_code ec;
  if (!folder.empty() && !std::filesystem::is_directory(folder, ec)) {
    return Status::ioError("cannot open the replication log " + path + ": the folder " +
                           folder.string() + " does not exist");
  }
  try {
    Poco::Data::SQLite::Connector::registerConnector();
    auto impl = std::make_unique<Impl>();
    impl->session = std::make_unique<Session>("SQLite", path);
    Session& s = *impl->session;
    std::string mode;
    s << "PRAGMA journal_mode = WAL", into(mode), now;
    s << "PRAGMA synchronous = FULL", now;
    s << "CREATE TABLE IF NOT EXISTS raft_state (key TEXT PRIMARY KEY, value INTEGER NOT NULL)",
        now;
    s << "CREATE TABLE IF NOT EXISTS raft_log (idx INTEGER PRIMARY KEY, epoch INTEGER NOT NULL, "
         "op BLOB NOT NULL)",
        now;
    s << "INSERT OR IGNORE INTO raft_state(key, value) VALUES('epoch', 0), ('voted_for', 0), "
         "('snapshot_index', 0), ('snapshot_epoch', 0)",
        now;
    return std::unique_ptr<SqliteRaftStorage>(new SqliteRaftStorage(std::move(impl)));
  } catch (const Poco::Exception& e) {
    return Status::ioError("cannot open the replication log " + path + ": " + e.displayText());
  }
}

Result<PersistedRaft> SqliteRaftStorage::load() {
  try {
    Session& s = *impl_->session;
    PersistedRaft out;
    Int64 epoch = 0;
    Int64 votedFor = 0;
    s << "SELECT value FROM raft_state WHERE key = 'epoch'", into(epoch), now;
    s << "SELECT value FROM raft_state WHERE key = 'voted_for'", into(votedFor), now;
    out.hard = HardState{static_cast<uint64_t>(epoch), static_cast<NodeId>(votedFor)};
    Int64 snapshotIndex = 0;
    Int64 snapshotEpoch = 0;
    s << "SELECT value FROM raft_state WHERE key = 'snapshot_index'", into(snapshotIndex), now;
    s << "SELECT value FROM raft_state WHERE key = 'snapshot_epoch'", into(snapshotEpoch), now;
    out.snapshot = SnapshotMeta{static_cast<uint64_t>(snapshotIndex),
                                static_cast<uint64_t>(snapshotEpoch)};
    std::vector<Int64> indices;
    std::vector<Int64> epochs;
    std::vector<BLOB> ops;
    s << "SELECT idx, epoch, op FROM raft_log ORDER BY idx", into(indices), into(epochs), into(ops),
        now;
    for (size_t i = 0; i < indices.size(); ++i) {
      if (static_cast<uint64_t>(indices[i]) != out.snapshot.index + i + 1) {
        return Status::corruption("the replication log has a gap at index " +
                                  std::to_string(out.snapshot.index + i + 1));
      }
      const auto& raw = ops[i].content();
      out.log.push_back(log::Entry{static_cast<uint64_t>(epochs[i]),
                                   static_cast<uint64_t>(indices[i]),
                                   std::vector<uint8_t>(raw.begin(), raw.end())});
    }
    return out;
  } catch (const Poco::Exception& e) {
    return Status::ioError("cannot read the replication log: " + e.displayText());
  }
}

Status SqliteRaftStorage::persist(const Ready& ready) {
  if (!ready.hardState && !ready.truncateFrom && !ready.compacted && ready.append.empty()) {
    return Status::ok();
  }
  Session& s = *impl_->session;
  try {
    s.begin();
    if (ready.hardState) {
      Int64 epoch = static_cast<Int64>(ready.hardState->epoch);
      Int64 votedFor = ready.hardState->votedFor;
      s << "UPDATE raft_state SET value = ? WHERE key = 'epoch'", use(epoch), now;
      s << "UPDATE raft_state SET value = ? WHERE key = 'voted_for'", use(votedFor), now;
    }
    if (ready.truncateFrom) {
      Int64 from = static_cast<Int64>(*ready.truncateFrom);
      s << "DELETE FROM raft_log WHERE idx >= ?", use(from), now;
    }
    if (ready.compacted) {
      Int64 index = static_cast<Int64>(ready.compacted->index);
      Int64 epoch = static_cast<Int64>(ready.compacted->epoch);
      s << "DELETE FROM raft_log WHERE idx <= ?", use(index), now;
      s << "UPDATE raft_state SET value = ? WHERE key = 'snapshot_index'", use(index), now;
      s << "UPDATE raft_state SET value = ? WHERE key = 'snapshot_epoch'", use(epoch), now;
    }
    if (!ready.append.empty()) {
      // One bulk statement for the whole batch (Poco binds the vectors row by row).
      std::vector<Int64> indices;
      std::vector<Int64> epochs;
      std::vector<BLOB> ops;
      for (const auto& e : ready.append) {
        indices.push_back(static_cast<Int64>(e.index));
        epochs.push_back(static_cast<Int64>(e.epoch));
        ops.emplace_back(e.payload.bytes().data(), e.payload.size());
      }
      s << "INSERT OR REPLACE INTO raft_log(idx, epoch, op) VALUES(?, ?, ?)", use(indices),
          use(epochs), use(ops), now;
    }
    s.commit();
    return Status::ok();
  } catch (const Poco::Exception& e) {
    try {
      if (s.isTransaction()) {
        s.rollback();
      }
    } catch (const Poco::Exception& again) {
      return Status::ioError("persisting the replication log failed: " + e.displayText() +
                             "; rollback failed too: " + again.displayText());
    }
    return Status::ioError("persisting the replication log failed: " + e.displayText());
  }
}

}  // namespace chat::replication
