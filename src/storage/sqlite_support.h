// Small RAII and error helpers shared by everything that talks to SQLite
// (the metadata store, the outbox). SQLite codes become our Status here, in
// one place.
#pragma once

#include <sqlite3.h>

#include <memory>
#include <string>
#include <string_view>

#include "core/status.h"

namespace eventlogger::sqlite {

struct StatementDeleter {
  void operator()(sqlite3_stmt* statement) const { sqlite3_finalize(statement); }
};
using Statement = std::unique_ptr<sqlite3_stmt, StatementDeleter>;

struct ConnectionDeleter {
  void operator()(sqlite3* db) const { sqlite3_close_v2(db); }
};
using Connection = std::unique_ptr<sqlite3, ConnectionDeleter>;

// Busy/locked, I/O and full-disk errors are transient (Unavailable); anything
// else is a defect or corruption (Internal).
Status Error(sqlite3* db, int code, std::string_view what);

// Opens with extended result codes and a busy timeout.
Result<Connection> Open(const std::string& path, int flags, int busy_timeout_ms);
Status Exec(sqlite3* db, const char* sql);
Result<Statement> Prepare(sqlite3* db, const char* sql);

inline void BindText(sqlite3_stmt* statement, int index, std::string_view text) {
  sqlite3_bind_text(statement, index, text.data(), static_cast<int>(text.size()), SQLITE_STATIC);
}
// Binds NULL for an empty string.
inline void BindOptionalText(sqlite3_stmt* statement, int index, std::string_view text) {
  if (text.empty()) {
    sqlite3_bind_null(statement, index);
  } else {
    BindText(statement, index, text);
  }
}
inline std::string_view ColumnText(sqlite3_stmt* statement, int column) {
  const auto* text = reinterpret_cast<const char*>(sqlite3_column_text(statement, column));
  return text == nullptr ? std::string_view()
                         : std::string_view(text, sqlite3_column_bytes(statement, column));
}

// Runs a prepared statement that returns no rows (BEGIN, COMMIT, ...) and
// resets it for the next run.
Status StepOnce(sqlite3* db, sqlite3_stmt* statement, std::string_view what);

// Runs `sql` (one statement, no result rows) with text parameters.
Status Run(sqlite3* db, const char* sql, std::initializer_list<std::string_view> parameters);

}  // namespace eventlogger::sqlite
