// SqliteRaftStorage: the replication log and hard state in their own SQLite file (WAL mode,
// synchronous FULL) through Poco Data. One transaction per Ready.
//
//   raft_state(key TEXT PRIMARY KEY, value INTEGER)   keys: epoch, voted_for
//   raft_log(idx INTEGER PRIMARY KEY, epoch INTEGER, op BLOB)   op: operation-record encoding
//
// Thread contract: one thread at a time.
#ifndef CHAT_REPLICATION_SQLITE_RAFT_STORAGE_H_
#define CHAT_REPLICATION_SQLITE_RAFT_STORAGE_H_

#include <memory>
#include <string>

#include "chat/replication/raft_storage.h"

namespace chat::replication {

class SqliteRaftStorage final : public RaftStorage {
 public:
  // Opens or creates the file at `path` (its folder must exist). Errors: kIoError.
  static Result<std::unique_ptr<SqliteRaftStorage>> open(const std::string& path);
  ~SqliteRaftStorage() override;
  SqliteRaftStorage(const SqliteRaftStorage&) = delete;  // owns a session
  SqliteRaftStorage& operator=(const SqliteRaftStorage&) = delete;

  Result<PersistedRaft> load() override;
  Status persist(const Ready& ready) override;

 private:
  struct Impl;
  explicit SqliteRaftStorage(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace chat::replication

#endif  // CHAT_REPLICATION_SQLITE_RAFT_STORAGE_H_
