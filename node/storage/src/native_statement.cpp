#include "native_statement.h"

#include <stdexcept>

namespace chat::storage {

void NativeStatement::prepare(sqlite3* db, const char* sql) {
  db_ = db;
  sqlite3_finalize(stmt_);
  stmt_ = nullptr;
  if (sqlite3_prepare_v2(db, sql, -1, &stmt_, nullptr) != SQLITE_OK) {
    throw std::runtime_error(std::string("cannot prepare '") + sql + "': " + sqlite3_errmsg(db));
  }
}

void NativeStatement::check(int rc) {
  if (rc != SQLITE_OK) {
    throw std::runtime_error(std::string("sqlite bind failed: ") + sqlite3_errstr(rc));
  }
}

bool NativeStatement::step() {
  int rc = sqlite3_step(stmt_);
  if (rc == SQLITE_ROW) {
    return true;
  }
  if (rc == SQLITE_DONE) {
    return false;
  }
  std::string why = sqlite3_errmsg(db_);
  sqlite3_reset(stmt_);
  throw std::runtime_error("sqlite step failed: " + why);
}

std::string NativeStatement::columnText(int column) {
  const auto* text = reinterpret_cast<const char*>(sqlite3_column_text(stmt_, column));
  int n = sqlite3_column_bytes(stmt_, column);
  return text ? std::string(text, static_cast<size_t>(n)) : std::string();
}

}  // namespace chat::storage
