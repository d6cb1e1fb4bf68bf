#include "log_migration.h"

#include <filesystem>

#include "chat/log/file_system.h"
#include "chat/replication/log_raft_storage.h"
#include "chat/replication/sqlite_raft_storage.h"

namespace chat::node {

namespace fs = std::filesystem;

namespace {

Status renameIfThere(const std::string& from, const std::string& to) {
  std::error_code ec;
  if (fs::exists(from, ec)) {
    fs::rename(from, to, ec);
    if (ec) {
      return Status::ioError("cannot rename " + from + " to " + to + ": " + ec.message());
    }
  }
  return Status::ok();
}

Status migrateRaftDb(const std::string& dataDir) {
  std::string raftDb = dataDir + "/raft.db";
  std::string staging = dataDir + "/log-migrating";
  std::error_code ec;
  fs::remove_all(staging, ec);
  fs::remove_all(dataDir + "/log", ec);  // a migration cut short before its state file moved
  replication::PersistedRaft old;
  {
    auto sqlite = replication::SqliteRaftStorage::open(raftDb);
    if (!sqlite) {
      return sqlite.error();
    }
    auto loaded = (*sqlite)->load();
    if (!loaded) {
      return Status::corruption("cannot read " + raftDb + " to move it to the new log (" +
                                loaded.error().message() +
                                "); move the data folder aside and let the node rejoin from "
                                "its peers");
    }
    old = std::move(loaded).value();
  }
  log::FileSystem& files = log::posixFileSystem();
  {
    auto storage = replication::LogRaftStorage::open(files, staging, {}, old.snapshot);
    if (!storage) {
      return storage.error();
    }
    (void)(*storage)->load();
    replication::Ready ready;
    ready.hardState = old.hard;
    ready.append = std::move(old.log);
    CHAT_RETURN_IF_ERROR((*storage)->persist(ready));
  }
  fs::rename(staging + "/log", dataDir + "/log", ec);
  if (ec) {
    return Status::ioError("cannot move the migrated log into " + dataDir + ": " + ec.message());
  }
  CHAT_RETURN_IF_ERROR(files.syncDir(dataDir));
  // The state file is the migration's commit point.
  fs::rename(staging + "/raft-state", dataDir + "/raft-state", ec);
  if (ec) {
    return Status::ioError("cannot move the migrated state into " + dataDir + ": " +
                           ec.message());
  }
  CHAT_RETURN_IF_ERROR(files.syncDir(dataDir));
  fs::remove_all(staging, ec);
  for (const char* suffix : {"", "-wal", "-shm"}) {
    CHAT_RETURN_IF_ERROR(renameIfThere(raftDb + suffix, dataDir + "/raft.db.migrated" + suffix));
  }
  return files.syncDir(dataDir);
}

}  // namespace

Result<LogFolderState> prepareLogFolder(const std::string& dataDir,
                                        replication::SnapshotMeta chatDbPosition) {
  log::FileSystem& files = log::posixFileSystem();
  if (replication::LogRaftStorage::existsIn(files, dataDir)) {
    return LogFolderState::kExisting;
  }
  std::error_code ec;
  if (fs::exists(dataDir + "/raft.db", ec)) {
    CHAT_RETURN_IF_ERROR(migrateRaftDb(dataDir));
    return LogFolderState::kMigratedFromRaftDb;
  }
  auto created = replication::LogRaftStorage::open(files, dataDir, {}, chatDbPosition);
  if (!created) {
    return created.error();
  }
  return LogFolderState::kNew;
}

}  // namespace chat::node
