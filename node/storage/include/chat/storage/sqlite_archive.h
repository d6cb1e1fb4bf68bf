// SqliteArchive: the MessageArchive on SQLite through Poco Data, in WAL mode: chat.db, the
// store people and tools query. One writer session records batches of applied log entries,
// each batch in one transaction with the index it reached; reads come from a small pool of
// reader sessions, which WAL lets run beside the writer. Statements use bound parameters
// only; the per-entry ones are prepared once. The schema is created or migrated by open().
//
// Thread contract: as MessageArchive. record() is serialized internally as well.
#ifndef CHAT_STORAGE_SQLITE_ARCHIVE_H_
#define CHAT_STORAGE_SQLITE_ARCHIVE_H_

#include <memory>
#include <string>

#include "chat/storage/archived_store.h"
#include "chat/storage/message_archive.h"

namespace Poco::Data {
class Session;
}  // namespace Poco::Data

namespace chat::storage {

struct SqliteOptions {
  // FULL syncs the WAL on every commit; NORMAL (the default) syncs at checkpoints and when
  // the log is about to be trimmed: the log is the durable record, and chat.db is rebuilt
  // from it after a crash. See docs/operations.md.
  bool syncFull = false;
  int readerSessions = 4;
  // WAL frames that wake the background checkpointer. Group commits rewrite the same hot
  // index pages, so a longer interval lets a checkpoint copy each page once for many commits.
  int walAutocheckpointPages = 1000;
  // Page size of a new database.
  int pageSize = 4096;
};

class SqliteArchive final : public MessageArchive {
 public:
  // Opens or creates the database file at `path` (its folder must exist), applies the
  // schema migrations and the pragmas. Errors: kIoError with SQLite's explanation.
  static Result<std::unique_ptr<SqliteArchive>> open(const std::string& path,
                                                     const SqliteOptions& options);
  ~SqliteArchive() override;
  SqliteArchive(const SqliteArchive&) = delete;  // owns sessions
  SqliteArchive& operator=(const SqliteArchive&) = delete;

  Status record(std::span<const Command> entries, std::span<const ApplyResult> results) override;
  Result<AppliedPosition> appliedPosition() override;
  Status loadInto(ChatState& state) override;
  Result<std::vector<protocol::ChatMessage>> messagesById(std::span<const uint64_t> ids) override;
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
  // 2: accounts.token_generation; 3: rooms, room_members, room_waiting, read_markers,
  // messages.room_id.
  static constexpr int kSchemaVersion = 3;

 private:
  struct Impl;
  explicit SqliteArchive(std::unique_ptr<Impl> impl);
  static void loadConversations(Poco::Data::Session& s, ChatState& state);
  std::unique_ptr<Impl> impl_;
};

// The node's store: the state machine in memory with chat.db behind it (archived_store.h).
// Errors: those of SqliteArchive::open and of loading its state.
Result<std::unique_ptr<ArchivedStore>> openSqliteStore(const std::string& path,
                                                       const SqliteOptions& options,
                                                       ArchiveOptions archiveOptions = {});

}  // namespace chat::storage

#endif  // CHAT_STORAGE_SQLITE_ARCHIVE_H_
