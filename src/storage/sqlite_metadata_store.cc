#include "storage/sqlite_metadata_store.h"

#include <sqlite3.h>

#include <mutex>

namespace eventlogger {
namespace {

// Translates a SQLite failure into our Status, in one place. Busy/locked and
// I/O errors are transient (another process holds the lock, the disk hiccups);
// anything else is a defect or corruption.
Status SqliteError(sqlite3* db, int code, std::string_view what) {
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

struct StatementDeleter {
  void operator()(sqlite3_stmt* statement) const { sqlite3_finalize(statement); }
};
using Statement = std::unique_ptr<sqlite3_stmt, StatementDeleter>;

struct ConnectionDeleter {
  void operator()(sqlite3* db) const { sqlite3_close_v2(db); }
};
using Connection = std::unique_ptr<sqlite3, ConnectionDeleter>;

constexpr const char* kSchema = R"sql(
CREATE TABLE IF NOT EXISTS events (
  event_id   TEXT PRIMARY KEY,
  user_id    TEXT NOT NULL,
  event_type TEXT NOT NULL,
  timestamp  TEXT NOT NULL,
  created_at TEXT NOT NULL
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS events_by_user_time ON events (user_id, timestamp, event_id);
PRAGMA user_version = 1;
)sql";

Result<Connection> OpenConnection(const SqliteMetadataOptions& options, int flags) {
  sqlite3* raw = nullptr;
  const int rc = sqlite3_open_v2(options.path.c_str(), &raw, flags | SQLITE_OPEN_NOMUTEX, nullptr);
  Connection db(raw);
  if (rc != SQLITE_OK) return SqliteError(raw, rc, "opening " + options.path);
  sqlite3_busy_timeout(db.get(), options.busy_timeout_ms);
  sqlite3_extended_result_codes(db.get(), 1);
  return db;
}

Status Exec(sqlite3* db, const char* sql) {
  char* error = nullptr;
  const int rc = sqlite3_exec(db, sql, nullptr, nullptr, &error);
  if (rc == SQLITE_OK) return Status::Ok();
  std::string message = error != nullptr ? error : sqlite3_errstr(rc);
  sqlite3_free(error);
  return SqliteError(nullptr, rc, message);
}

Result<Statement> Prepare(sqlite3* db, const char* sql) {
  sqlite3_stmt* raw = nullptr;
  const int rc = sqlite3_prepare_v3(db, sql, -1, SQLITE_PREPARE_PERSISTENT, &raw, nullptr);
  if (rc != SQLITE_OK) return SqliteError(db, rc, "preparing statement");
  return Statement(raw);
}

std::string_view ColumnText(sqlite3_stmt* statement, int column) {
  const auto* text = reinterpret_cast<const char*>(sqlite3_column_text(statement, column));
  return text == nullptr ? std::string_view()
                         : std::string_view(text, sqlite3_column_bytes(statement, column));
}

class SqliteMetadataStore final : public MetadataStore {
 public:
  SqliteMetadataStore(SqliteMetadataOptions options, Connection writer, Statement insert)
      : options_(std::move(options)), writer_(std::move(writer)), insert_(std::move(insert)) {}

  Status WriteBatch(EventBatch events) override {
    sqlite3* db = writer_.get();
    if (Status s = Exec(db, "BEGIN IMMEDIATE"); !s.ok()) return s;
    for (const Event* event : events) {
      sqlite3_stmt* st = insert_.get();
      sqlite3_bind_text(st, 1, event->event_id.data(), static_cast<int>(event->event_id.size()), SQLITE_STATIC);
      sqlite3_bind_text(st, 2, event->user_id.data(), static_cast<int>(event->user_id.size()), SQLITE_STATIC);
      sqlite3_bind_text(st, 3, event->event_type.data(), static_cast<int>(event->event_type.size()), SQLITE_STATIC);
      sqlite3_bind_text(st, 4, event->timestamp.data(), static_cast<int>(event->timestamp.size()), SQLITE_STATIC);
      const int rc = sqlite3_step(st);
      sqlite3_reset(st);
      if (rc != SQLITE_DONE) {
        Status failure = SqliteError(db, rc, "inserting event metadata");
        (void)Exec(db, "ROLLBACK");
        return failure;
      }
    }
    if (Status s = Exec(db, "COMMIT"); !s.ok()) {
      (void)Exec(db, "ROLLBACK");
      return s;
    }
    return Status::Ok();
  }

  Status ScanUser(std::string_view user_id,
                  const std::function<bool(const EventMetadata&)>& visit) override {
    Result<Connection> db = ReaderConnection();
    if (!db.ok()) return db.status();
    Result<Statement> query = Prepare(
        db->get(),
        "SELECT event_id, user_id, event_type, timestamp FROM events "
        "WHERE user_id = ?1 ORDER BY timestamp, event_id");
    if (!query.ok()) return query.status();
    sqlite3_stmt* st = query->get();
    sqlite3_bind_text(st, 1, user_id.data(), static_cast<int>(user_id.size()), SQLITE_STATIC);
    Status status;
    EventMetadata row;
    for (;;) {
      const int rc = sqlite3_step(st);
      if (rc == SQLITE_DONE) break;
      if (rc != SQLITE_ROW) {
        status = SqliteError(db->get(), rc, "reading event metadata");
        break;
      }
      row.event_id = ColumnText(st, 0);
      row.user_id = ColumnText(st, 1);
      row.event_type = ColumnText(st, 2);
      row.timestamp = ColumnText(st, 3);
      if (!visit(row)) break;
    }
    ReturnReaderConnection(std::move(*db));
    return status;
  }

  std::string_view Kind() const override { return "sqlite"; }

 private:
  // Reads are rare on the metadata side (reconciliation, operators), so a
  // single cached connection is enough; a second concurrent reader opens its own.
  Result<Connection> ReaderConnection() {
    {
      std::lock_guard lock(reader_mutex_);
      if (idle_reader_) return std::move(idle_reader_);
    }
    return OpenConnection(options_, SQLITE_OPEN_READONLY);
  }
  void ReturnReaderConnection(Connection db) {
    std::lock_guard lock(reader_mutex_);
    if (!idle_reader_) idle_reader_ = std::move(db);
  }

  const SqliteMetadataOptions options_;
  Connection writer_;
  Statement insert_;
  std::mutex reader_mutex_;
  Connection idle_reader_;
};

}  // namespace

Result<std::unique_ptr<MetadataStore>> OpenSqliteMetadataStore(const SqliteMetadataOptions& options) {
  Result<Connection> db = OpenConnection(options, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE);
  if (!db.ok()) return db.status();
  // WAL lets readers proceed during a write; FULL syncs the WAL at every
  // commit, which is what makes an acknowledged event durable.
  for (const char* pragma : {"PRAGMA journal_mode=WAL", "PRAGMA synchronous=FULL"}) {
    if (Status s = Exec(db->get(), pragma); !s.ok()) return s;
  }
  // Refuse a database written by a newer build rather than corrupt it.
  Result<Statement> version = Prepare(db->get(), "PRAGMA user_version");
  if (!version.ok()) return version.status();
  int current = 0;
  if (sqlite3_step(version->get()) == SQLITE_ROW) current = sqlite3_column_int(version->get(), 0);
  version->reset();
  if (current > kSqliteSchemaVersion) {
    return Status::FailedPrecondition(options.path + " has schema version " +
                                      std::to_string(current) + ", newer than this build's " +
                                      std::to_string(kSqliteSchemaVersion));
  }
  if (Status s = Exec(db->get(), kSchema); !s.ok()) return s;
  Result<Statement> insert = Prepare(
      db->get(),
      "INSERT INTO events (event_id, user_id, event_type, timestamp, created_at) "
      "VALUES (?1, ?2, ?3, ?4, strftime('%Y-%m-%dT%H:%M:%fZ', 'now')) "
      "ON CONFLICT (event_id) DO NOTHING");
  if (!insert.ok()) return insert.status();
  return std::unique_ptr<MetadataStore>(
      new SqliteMetadataStore(options, std::move(*db), std::move(*insert)));
}

}  // namespace eventlogger
