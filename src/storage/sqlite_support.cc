#include "storage/sqlite_support.h"

namespace eventlogger::sqlite {

Status Error(sqlite3* db, int code, std::string_view what) {
  std::string message(what);
  message += ": ";
  message += db != nullptr ? sqlite3_errmsg(db) : sqlite3_errstr(code);
  switch (code & 0xFF) {
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
    case SQLITE_IOERR:
    case SQLITE_FULL:
    case SQLITE_CANTOPEN:
      return Status::Unavailable(std::move(message));
    default:
      return Status::Internal(std::move(message));
  }
}

Result<Connection> Open(const std::string& path, int flags, int busy_timeout_ms) {
  sqlite3* raw = nullptr;
  const int rc = sqlite3_open_v2(path.c_str(), &raw, flags | SQLITE_OPEN_NOMUTEX, nullptr);
  Connection db(raw);
  if (rc != SQLITE_OK) return Error(raw, rc, "opening " + path);
  sqlite3_busy_timeout(db.get(), busy_timeout_ms);
  sqlite3_extended_result_codes(db.get(), 1);
  return db;
}

Status Exec(sqlite3* db, const char* sql) {
  char* error = nullptr;
  const int rc = sqlite3_exec(db, sql, nullptr, nullptr, &error);
  if (rc == SQLITE_OK) return Status::Ok();
  std::string message = error != nullptr ? error : sqlite3_errstr(rc);
  sqlite3_free(error);
  return Error(nullptr, rc, message);
}

Result<Statement> Prepare(sqlite3* db, const char* sql) {
  sqlite3_stmt* raw = nullptr;
  const int rc = sqlite3_prepare_v3(db, sql, -1, SQLITE_PREPARE_PERSISTENT, &raw, nullptr);
  if (rc != SQLITE_OK) return Error(db, rc, "preparing statement");
  return Statement(raw);
}

Status Run(sqlite3* db, const char* sql, std::initializer_list<std::string_view> parameters) {
  Result<Statement> statement = Prepare(db, sql);
  if (!statement.ok()) return statement.status();
  int index = 1;
  for (std::string_view parameter : parameters) BindText(statement->get(), index++, parameter);
  const int rc = sqlite3_step(statement->get());
  if (rc != SQLITE_DONE && rc != SQLITE_ROW) return Error(db, rc, "running statement");
  return Status::Ok();
}

Status StepOnce(sqlite3* db, sqlite3_stmt* statement, std::string_view what) {
  const int rc = sqlite3_step(statement);
  sqlite3_reset(statement);
  if (rc != SQLITE_DONE && rc != SQLITE_ROW) return Error(db, rc, what);
  return Status::Ok();
}

}  // namespace eventlogger::sqlite
