// NativeStatement: a statement prepared once on the sqlite3 handle of a Poco Data session
// (Poco::Data::SQLite::Utility::dbHandle) and re-run with sqlite3_bind/step/reset.
//
// Why: the store applies two or three statements per chat message inside each group
// commit. Measured on this machine (docs/architecture.md, "Storage"), a reused
// Poco::Data::Statement costs 6 us per INSERT and 13 us per UPDATE ... RETURNING, which caps
// a commit thread near 40,000 messages/s; the same statements on the session's own handle
// cost about 1 us. Sessions, pragmas, schema, transactions and every read stay on Poco Data;
// only these hot writes use the handle Poco opened.
//
// Thread contract: used only by the thread that owns the session (the commit thread).
#ifndef CHAT_STORAGE_NATIVE_STATEMENT_H_
#define CHAT_STORAGE_NATIVE_STATEMENT_H_

#include <sqlite3.h>

#include <cstdint>
#include <string>
#include <string_view>

#include "chat/common/status.h"

namespace chat::storage {

class NativeStatement {
 public:
  NativeStatement() = default;
  ~NativeStatement() { sqlite3_finalize(stmt_); }
  NativeStatement(const NativeStatement&) = delete;  // owns a prepared statement
  NativeStatement& operator=(const NativeStatement&) = delete;

  // Prepares `sql` on `db`. Throws std::runtime_error (caught by the store's apply, which
  // rolls back) when SQLite refuses it.
  void prepare(sqlite3* db, const char* sql);

  // Binding is 1-based, as in SQLite.
  void bind(int index, int64_t value) { check(sqlite3_bind_int64(stmt_, index, value)); }
  void bind(int index, std::string_view text) {
    check(sqlite3_bind_text(stmt_, index, text.data(), static_cast<int>(text.size()),
                            SQLITE_TRANSIENT));
  }
  // Steps once: true when a row is available, false when done. Throws on errors, including
  // constraint violations.
  bool step();
  int64_t columnInt(int column) { return sqlite3_column_int64(stmt_, column); }
  std::string columnText(int column);
  // Readies the statement for the next run and clears its bindings.
  void reset() {
    sqlite3_reset(stmt_);
    sqlite3_clear_bindings(stmt_);
  }
  int changes() const { return sqlite3_changes(db_); }

 private:
  void check(int rc);
  sqlite3* db_ = nullptr;
  sqlite3_stmt* stmt_ = nullptr;
};

}  // namespace chat::storage

#endif  // CHAT_STORAGE_NATIVE_STATEMENT_H_
