// SqliteMessageStore: the MessageStore on SQLite through Poco Data, in WAL mode.
// One writer session applies batches of log entries, each batch in one transaction (group
// commit); reads come from a small pool of reader sessions, which WAL lets run beside the
// writer. Statements use bound parameters only. The schema is created or migrated by open().
//
// Thread contract: as MessageStore. apply() is serialized internally as well.
#ifndef CHAT_STORAGE_SQLITE_STORE_H_
#define CHAT_STORAGE_SQLITE_STORE_H_

#include <memory>
#include <string>

#include "chat/storage/message_store.h"

namespace chat::storage {

struct SqliteOptions {
  // FULL syncs the WAL on every commit (survives power loss); NORMAL syncs at checkpoints
  // only (survives a process crash, the default of many servers). See docs/operations.md.
  bool syncFull = true;
  int readerSessions = 4;
  // WAL frames that wake the background checkpointer. Group commits rewrite the same hot
  // index pages, so a longer interval lets a checkpoint copy each page once for many commits.
  int walAutocheckpointPages = 1000;
  // Page size of a new database.
  int pageSize = 4096;
};

class SqliteMessageStore final : public MessageStore {
 public:
  // Opens or creates the database file at `path` (its folder must exist), applies the
  // schema migrations and the pragmas. Errors: kIoError with SQLite's explanation.
  static Result<std::unique_ptr<SqliteMessageStore>> open(const std::string& path,
                                                          const SqliteOptions& options);
  ~SqliteMessageStore() override;
  SqliteMessageStore(const SqliteMessageStore&) = delete;  // owns sessions
  SqliteMessageStore& operator=(const SqliteMessageStore&) = delete;

  Result<std::vector<ApplyResult>> apply(std::span<const LogEntry> entries) override;
  Result<AppliedPosition> appliedPosition() override;
  Result<std::optional<Account>> findAccount(std::string_view username) override;
  Result<AccountPage> listAccounts(std::string_view pattern, uint32_t offset,
                                   uint32_t limit) override;
  Result<std::vector<protocol::ChatMessage>> pendingMessages(std::string_view username,
                                                             uint32_t limit) override;
  Result<uint32_t> pendingCount(std::string_view username) override;
  Result<uint64_t> pendingTotal() override;
  Result<HistoryPage> history(std::string_view username, std::string_view peer, uint64_t beforeId,
                              uint32_t limit) override;
  Result<std::vector<protocol::ChatMessage>> messagesAfter(uint64_t afterId,
                                                           uint32_t limit) override;
  // Snapshots are copies of the database file made with SQLite's online backup API: from a
  // reader session (one read transaction, so one committed state) into a new file, and back
  // into the writer's connection (one write transaction).
  bool supportsSnapshots() const override { return true; }
  Result<AppliedPosition> writeSnapshot(const std::string& path) override;
  Result<AppliedPosition> restoreSnapshot(const std::string& path) override;
  // fsyncs the database file and its WAL: with synchronous=NORMAL, commits since the last
  // checkpoint are written but not yet synced.
  Status syncToDisk() override;

  // The current schema version written by open().
  static constexpr int kSchemaVersion = 1;

 private:
  struct Impl;
  explicit SqliteMessageStore(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace chat::storage

#endif  // CHAT_STORAGE_SQLITE_STORE_H_
