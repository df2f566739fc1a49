#include "storage/sqlite_metadata_store.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstring>
#include <mutex>
#include <optional>
#include <vector>

#include "core/clock.h"
#include "core/event_time.h"
#include "core/json_output.h"
#include "core/timestamp.h"
#include "storage/sqlite_support.h"

namespace eventlogger {
namespace {

using sqlite::BindOptionalText;
using sqlite::BindText;
using sqlite::ColumnText;
using sqlite::Connection;
using sqlite::Exec;
using sqlite::Prepare;
using sqlite::Statement;
using sqlite::StepOnce;

// The whole schema, for a new file; UpgradeSchema brings older files to it.
// Versions: 1 events; 2 api_keys; 3 events.occurred_at and received_at;
// 4 legal_holds and erasure_jobs.
constexpr const char* kSchema = R"sql(
CREATE TABLE IF NOT EXISTS events (
  event_id   TEXT PRIMARY KEY,
  user_id    TEXT NOT NULL,
  event_type TEXT NOT NULL,
  timestamp  TEXT NOT NULL,
  created_at TEXT NOT NULL,
  idempotency_key TEXT,
  request_hash    TEXT,
  occurred_at     TEXT,
  received_at     TEXT
) WITHOUT ROWID;
CREATE UNIQUE INDEX IF NOT EXISTS events_by_idempotency_key
  ON events (user_id, idempotency_key) WHERE idempotency_key IS NOT NULL;
CREATE TABLE IF NOT EXISTS api_keys (
  key_id        TEXT PRIMARY KEY,
  name          TEXT NOT NULL,
  scopes        TEXT NOT NULL,
  secret_digest TEXT NOT NULL,
  created_at    TEXT NOT NULL,
  last_used_at  TEXT,
  revoked_at    TEXT
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS legal_holds (
  user_id   TEXT PRIMARY KEY,
  reason    TEXT,
  placed_at TEXT NOT NULL
) WITHOUT ROWID;
-- A rowid table: a finished job's receipt may be kilobytes, and WITHOUT
-- ROWID tables are meant for small rows.
CREATE TABLE IF NOT EXISTS erasure_jobs (
  job_id          TEXT PRIMARY KEY,
  user_id         TEXT NOT NULL,
  state           TEXT NOT NULL,
  received_cutoff TEXT NOT NULL,
  created_at      TEXT NOT NULL,
  started_at      TEXT,
  finished_at     TEXT,
  metadata_erased     INTEGER NOT NULL,
  documents_erased    INTEGER NOT NULL,
  outbox_erased       INTEGER NOT NULL,
  dead_letters_erased INTEGER NOT NULL,
  receipt TEXT,
  error   TEXT
);
-- ListErasureJobs with a bound: the recent jobs by the first index, the
-- older unfinished ones by the second, which holds only those (few) rows.
CREATE INDEX IF NOT EXISTS erasure_jobs_by_created ON erasure_jobs (created_at);
CREATE INDEX IF NOT EXISTS erasure_jobs_unfinished ON erasure_jobs (created_at)
  WHERE state IN ('pending', 'running');
)sql";

// Optional (SqliteMetadataOptions::user_index): the order of ScanUser.
constexpr const char* kCreateUserIndex =
    "CREATE INDEX IF NOT EXISTS events_by_user_time ON events (user_id, timestamp, event_id)";
constexpr const char* kDropUserIndex = "DROP INDEX IF EXISTS events_by_user_time";

// received_at falls back to the timestamp for a row written before version
// 3, or after the upgrade by a process of an older build that still had the
// file open: those builds timed every event by the server, so the timestamp
// is when it was received.
constexpr const char* kSelectColumns =
    "SELECT event_id, user_id, event_type, timestamp, "
    "COALESCE(idempotency_key, ''), COALESCE(request_hash, ''), "
    "COALESCE(occurred_at, ''), COALESCE(received_at, timestamp) FROM events ";

// Every column of ErasureJobRow, in its order ('' for NULL).
constexpr const char* kSelectErasureJobColumns =
    "SELECT job_id, user_id, state, received_cutoff, created_at, COALESCE(started_at, ''), "
    "COALESCE(finished_at, ''), metadata_erased, documents_erased, outbox_erased, dead_letters_erased, "
    "COALESCE(receipt, ''), COALESCE(error, '') FROM erasure_jobs ";

Result<Connection> OpenConnection(const SqliteMetadataOptions& options, int flags) {
  return sqlite::Open(options.path, flags, options.busy_timeout_ms);
}

// The file's schema version (PRAGMA user_version; 0 for a new file).
Result<int> SchemaVersionOf(sqlite3* db) {
  Result<Statement> query = Prepare(db, "PRAGMA user_version");
  if (!query.ok()) return query.status();
  const int rc = sqlite3_step(query->get());
  if (rc != SQLITE_ROW) return sqlite::Error(db, rc, "reading the schema version");
  return sqlite3_column_int(query->get(), 0);
}

Result<bool> EventsHaveColumn(sqlite3* db, std::string_view column) {
  Result<Statement> query = Prepare(db, "SELECT count(*) FROM pragma_table_info('events') WHERE name = ?1");
  if (!query.ok()) return query.status();
  BindText(query->get(), 1, column);
  const int rc = sqlite3_step(query->get());
  if (rc != SQLITE_ROW) return sqlite::Error(db, rc, "reading the events table's columns");
  return sqlite3_column_int(query->get(), 0) > 0;
}

// Version 3. Rows stored before it keep received_at NULL, and reads take
// their timestamp instead: every earlier event was timed by the server
// (clients could not send occurredAt yet), so that is exactly when it was
// received. No backfill, so the upgrade costs the same on any table size.
Status AddEventTimeColumns(sqlite3* db) {
  for (const char* column : {"occurred_at", "received_at"}) {
    Result<bool> present = EventsHaveColumn(db, column);
    if (!present.ok()) return present.status();
    if (*present) continue;  // a new file's kSchema has them already
    const std::string alter = std::string("ALTER TABLE events ADD COLUMN ") + column + " TEXT";
    if (Status s = Exec(db, alter.c_str()); !s.ok()) return s;
  }
  return Status::Ok();
}

Status UpgradeSchemaInTransaction(sqlite3* db) {
  Result<int> version = SchemaVersionOf(db);
  if (!version.ok()) return version.status();
  if (*version >= kSqliteSchemaVersion) return Status::Ok();  // another process was first
  // Creates what is missing: everything in a new file, api_keys in a
  // version 1 one, legal_holds and erasure_jobs in one older than 4.
  if (Status s = Exec(db, kSchema); !s.ok()) return s;
  if (*version < 3) {
    if (Status s = AddEventTimeColumns(db); !s.ok()) return s;
  }
  const std::string set_version = "PRAGMA user_version = " + std::to_string(kSqliteSchemaVersion);
  return Exec(db, set_version.c_str());
}

// Creates the schema in a new file or brings an older one up to this build's,
// all in one transaction: IMMEDIATE, so two processes opening an old file at
// once take turns, and the second finds the work done.
Status UpgradeSchema(sqlite3* db) {
  if (Status s = Exec(db, "BEGIN IMMEDIATE"); !s.ok()) return s;
  if (Status s = UpgradeSchemaInTransaction(db); !s.ok()) {
    (void)Exec(db, "ROLLBACK");
    return s;
  }
  if (Status s = Exec(db, "COMMIT"); !s.ok()) {
    (void)Exec(db, "ROLLBACK");
    return s;
  }
  return Status::Ok();
}

// 16 MiB of 4 KiB pages: about 0.5 s of WAL at 35,000 POST/s.
constexpr int kRestartWalFrames = 4096;

class SqliteMetadataStore final : public MetadataStore {
 public:
  // The writer's statements, prepared once: BEGIN and COMMIT through
  // sqlite3_exec were parsed and compiled again for every batch.
  struct WriterStatements {
    Statement begin;
    Statement insert;
    Statement commit;
    Statement rollback;
  };

  SqliteMetadataStore(SqliteMetadataOptions options, Connection writer, WriterStatements statements)
      : options_(std::move(options)), writer_(std::move(writer)), statements_(std::move(statements)) {}

  Status WriteBatch(EventBatch events) override { return Write(events, /*sync=*/true); }
  Status WriteBatchWithoutSync(EventBatch events) override { return Write(events, /*sync=*/false); }

  // With synchronous=NORMAL a WAL-mode commit is written to the -wal file
  // but not synced. fsync acts on the file, whichever descriptor wrote it,
  // so syncing the -wal file makes every commit that returned before this
  // call durable, without taking the writer's lock. Then a PASSIVE
  // checkpoint on a connection of its own copies the WAL into the database
  // without blocking the writer; commits never checkpoint themselves
  // (wal_autocheckpoint is off on the writer: in-commit checkpoints were 9.5%
  // of the POST CPU). But SQLite only rewinds the WAL when a transaction
  // starts with every frame copied, which a busy writer never lets happen:
  // under steady load the file grew past 600 MB in 40 s. So once the WAL
  // holds more than kRestartWalFrames, the writer itself runs a RESTART
  // checkpoint before its next transaction, on its own connection (from
  // another one it could wait for ever on a writer that never pauses): it
  // only copies the frames written since the passive pass, and the
  // transaction after it starts the WAL over.
  Status SyncWrites() override {
    std::lock_guard lock(sync_mutex_);
    const std::string wal_path = options_.path + "-wal";
    const int fd = ::open(wal_path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
      // No WAL file: nothing was written since the last clean close.
      if (errno == ENOENT) return Status::Ok();
      return Status::Unavailable("cannot open " + wal_path + ": " + std::strerror(errno));
    }
    int rc;
    do {
      rc = ::fdatasync(fd);
    } while (rc != 0 && errno == EINTR);
    const int sync_errno = errno;
    ::close(fd);
    if (rc != 0) return Status::Unavailable("cannot sync " + wal_path + ": " + std::strerror(sync_errno));
    if (!checkpointer_) {
      Result<Connection> db = OpenConnection(options_, SQLITE_OPEN_READWRITE);
      if (!db.ok()) return db.status();
      // A connection that has not read the database yet has not opened its
      // WAL either, and its checkpoints silently do nothing.
      if (Status s = Exec(db->get(), "SELECT count(*) FROM sqlite_master"); !s.ok()) return s;
      checkpointer_ = std::move(*db);
    }
    int wal_frames = 0;
    int checkpoint = sqlite3_wal_checkpoint_v2(checkpointer_.get(), nullptr, SQLITE_CHECKPOINT_PASSIVE,
                                               &wal_frames, nullptr);
    if (checkpoint == SQLITE_OK && wal_frames > kRestartWalFrames) {
      restart_wal_.store(true, std::memory_order_relaxed);
    }
    if (checkpoint != SQLITE_OK && checkpoint != SQLITE_BUSY) {
      return sqlite::Error(checkpointer_.get(), checkpoint, "checkpointing event metadata");
    }
    return Status::Ok();
  }

 private:
  Status Write(EventBatch events, bool sync) {
    // One write connection: the request path's writer and the retry worker
    // take turns (SQLite allows one writer at a time anyway).
    std::lock_guard lock(writer_mutex_);
    sqlite3* db = writer_.get();
    if (restart_wal_.exchange(false, std::memory_order_relaxed)) {
      // Without waiting: a reader still on the old frames makes it BUSY, which
      // only postpones the rewind to a later sync; the request path never
      // waits on a reader.
      sqlite3_busy_timeout(db, 0);
      (void)sqlite3_wal_checkpoint_v2(db, nullptr, SQLITE_CHECKPOINT_RESTART, nullptr, nullptr);
      sqlite3_busy_timeout(db, options_.busy_timeout_ms);
    }
    if (synchronous_full_ != sync) {
      if (Status s = Exec(db, sync ? "PRAGMA synchronous=FULL" : "PRAGMA synchronous=NORMAL"); !s.ok()) return s;
      synchronous_full_ = sync;
    }
    if (Status s = StepOnce(db, statements_.begin.get(), "starting a transaction"); !s.ok()) return s;
    // One insert time for the whole transaction: formatting it per row in
    // SQL (strftime) was measurable, and the rows commit together anyway.
    const std::string created_at = FormatTimestamp(SystemClock::Instance().NowUnixMillis());
    for (const Event* event : events) {
      sqlite3_stmt* st = statements_.insert.get();
      BindText(st, 1, event->event_id);
      BindText(st, 2, event->user_id);
      BindText(st, 3, event->event_type);
      BindText(st, 4, event->timestamp);
      BindOptionalText(st, 5, event->idempotency_key);
      BindOptionalText(st, 6, event->request_hash);
      BindText(st, 7, created_at);
      BindOptionalText(st, 8, event->occurred_at);
      const std::string received_at = ReceivedAtOf(event->event_id, event->timestamp);
      BindText(st, 9, received_at);
      const int rc = sqlite3_step(st);
      sqlite3_reset(st);
      if (rc != SQLITE_DONE) {
        Status failure = sqlite::Error(db, rc, "inserting event metadata");
        (void)StepOnce(db, statements_.rollback.get(), "rolling back");
        return failure;
      }
    }
    if (Status s = StepOnce(db, statements_.commit.get(), "committing event metadata"); !s.ok()) {
      (void)StepOnce(db, statements_.rollback.get(), "rolling back");
      return s;
    }
    return Status::Ok();
  }

 public:

  Status ScanUser(std::string_view user_id,
                  const std::function<bool(const EventMetadata&)>& visit) override {
    return Query(std::string(kSelectColumns) + "WHERE user_id = ?1 ORDER BY timestamp, event_id",
                 {user_id}, visit);
  }

  Status Scan(const ScanFilter& filter,
              const std::function<bool(const EventMetadata&)>& visit) override {
    std::string sql = std::string(kSelectColumns) + "WHERE 1 = 1";
    std::vector<std::string_view> parameters;
    const auto add = [&](const std::string& value, const char* condition) {
      if (value.empty()) return;
      parameters.push_back(value);
      sql += " AND ";
      sql += condition;
      sql += std::to_string(parameters.size());
    };
    add(filter.user_id, "user_id = ?");
    add(filter.since, "timestamp >= ?");
    add(filter.until, "timestamp < ?");
    return Query(sql, parameters, visit);
  }

  Result<EventMetadata> FindByIdempotencyKey(std::string_view user_id, std::string_view key) override {
    std::optional<EventMetadata> found;
    const Status status = Query(std::string(kSelectColumns) + "WHERE user_id = ?1 AND idempotency_key = ?2",
                                {user_id, key}, [&found](const EventMetadata& row) {
                                  found = row;
                                  return false;
                                });
    if (!status.ok()) return status;
    if (!found) return Status::NotFound("no event with this idempotency key");
    return *found;
  }

  Result<EventMetadata> FindEvent(std::string_view user_id, std::string_view event_id) override {
    // By the primary key; the user check keeps one user from reading
    // another's event by its id.
    std::optional<EventMetadata> found;
    const Status status = Query(std::string(kSelectColumns) + "WHERE event_id = ?1 AND user_id = ?2",
                                {event_id, user_id}, [&found](const EventMetadata& row) {
                                  found = row;
                                  return false;
                                });
    if (!status.ok()) return status;
    if (!found) return Status::NotFound("no event with this eventId");
    return *found;
  }

  Status InsertApiKey(const ApiKeyRow& row) override {
    return WriteOne(
        "INSERT INTO api_keys (key_id, name, scopes, secret_digest, created_at) VALUES (?1, ?2, ?3, ?4, ?5)",
        {row.id, row.name, row.scopes, row.secret_digest, row.created_at}, "storing an API key",
        [&](int rc, int changes) -> Status {
          if (rc == SQLITE_CONSTRAINT) return Status::AlreadyExists("an API key with id " + row.id + " exists");
          (void)changes;
          return Status::Ok();
        });
  }

  Result<std::vector<ApiKeyRow>> ListApiKeys() override {
    std::vector<ApiKeyRow> rows;
    const Status status = ReadRows(
        "SELECT key_id, name, scopes, secret_digest, created_at, "
        "COALESCE(last_used_at, ''), COALESCE(revoked_at, '') "
        "FROM api_keys ORDER BY created_at, key_id",
        [](sqlite3_stmt*) {}, "listing API keys",
        [&rows](sqlite3_stmt* st) {
          rows.push_back(ApiKeyRow{std::string(ColumnText(st, 0)), std::string(ColumnText(st, 1)),
                                   std::string(ColumnText(st, 2)), std::string(ColumnText(st, 3)),
                                   std::string(ColumnText(st, 4)), std::string(ColumnText(st, 5)),
                                   std::string(ColumnText(st, 6))});
        });
    if (!status.ok()) return status;
    return rows;
  }

  Status RevokeApiKey(std::string_view id, std::string_view revoked_at) override {
    return WriteOne("UPDATE api_keys SET revoked_at = COALESCE(revoked_at, ?2) WHERE key_id = ?1",
                    {id, revoked_at}, "revoking an API key", [&](int, int changes) -> Status {
                      if (changes == 0) return Status::NotFound("no API key has id " + std::string(id));
                      return Status::Ok();
                    });
  }

  Status RecordApiKeyUse(std::string_view id, std::string_view used_at) override {
    return WriteOne(
        "UPDATE api_keys SET last_used_at = ?2 WHERE key_id = ?1 AND "
        "(last_used_at IS NULL OR last_used_at < ?2)",
        {id, used_at}, "recording an API key's use", [](int, int) { return Status::Ok(); });
  }

  // Timestamps are stored as text of one fixed format (FormatTimestamp), so
  // comparing the text compares the instants. SQLite's DELETE has no LIMIT
  // (unless compiled in), hence the subselect of primary keys.
  // Without the optional by-user index, finding a user's rows reads the
  // whole table. Doing that inside each bounded DELETE would hold the write
  // lock for a full scan per batch, stalling every POST meanwhile. So the
  // ids are selected once per erasure on a reader connection (WAL lets it
  // run beside the writer) and deleted by primary key, a batch per call;
  // a last select confirms nothing is left.
  Result<int64_t> EraseUserEvents(const UserErasure& erasure, int limit) override {
    // SQLite reads a negative LIMIT as no limit at all.
    if (limit <= 0) return Status::InvalidArgument("a delete's limit must be positive");
    std::lock_guard lock(erase_mutex_);
    std::string key = erasure.user_id;
    key.push_back('\0');
    key += erasure.received_cutoff;
    if (key != erase_key_) {
      erase_key_ = std::move(key);
      erase_ids_.clear();
    }
    bool selected = false;
    int64_t deleted = 0;
    while (deleted < limit) {
      if (erase_ids_.empty()) {
        if (selected) break;
        selected = true;
        // received_at is NULL on rows stored before version 3: see kSelectColumns.
        const Status read = ReadRows(
            "SELECT event_id FROM events WHERE user_id = ?1 AND COALESCE(received_at, timestamp) <= ?2",
            [&](sqlite3_stmt* st) {
              BindText(st, 1, erasure.user_id);
              BindText(st, 2, erasure.received_cutoff);
            },
            "finding a user's event metadata to erase",
            [this](sqlite3_stmt* st) { erase_ids_.emplace_back(ColumnText(st, 0)); });
        if (!read.ok()) {
          erase_ids_.clear();
          return read;
        }
        if (erase_ids_.empty()) break;
      }
      const size_t take = std::min(erase_ids_.size(), static_cast<size_t>(limit - deleted));
      std::string ids = "[";
      for (size_t i = erase_ids_.size() - take; i < erase_ids_.size(); ++i) {
        if (ids.size() > 1) ids += ',';
        AppendJsonString(ids, erase_ids_[i]);
      }
      ids += ']';
      Result<int64_t> batch = DeleteCounted(
          "DELETE FROM events WHERE event_id IN (SELECT value FROM json_each(?1))",
          [&](sqlite3_stmt* st) { BindText(st, 1, ids); }, "erasing a user's event metadata");
      if (!batch.ok()) return batch;
      erase_ids_.resize(erase_ids_.size() - take);
      deleted += *batch;
    }
    return deleted;
  }

  Result<int64_t> DeleteExpired(const ExpiryRule& rule, int limit) override {
    if (limit <= 0) return Status::InvalidArgument("a delete's limit must be positive");
    // The types travel as one JSON array parameter, read by json_each.
    const bool own_types = !rule.event_types.empty();
    std::string types = "[";
    for (const std::string& type : own_types ? rule.event_types : rule.except_types) {
      if (types.size() > 1) types += ',';
      AppendJsonString(types, type);
    }
    types += ']';
    const std::string sql =
        std::string("DELETE FROM events WHERE event_id IN (SELECT e.event_id FROM events AS e "
                    "WHERE e.timestamp < ?1 AND e.event_type ") +
        (own_types ? "IN" : "NOT IN") +
        " (SELECT value FROM json_each(?2)) "
        "AND NOT EXISTS (SELECT 1 FROM legal_holds AS h WHERE h.user_id = e.user_id) LIMIT ?3)";
    return DeleteCounted(
        sql.c_str(),
        [&](sqlite3_stmt* st) {
          BindText(st, 1, rule.before);
          BindText(st, 2, types);
          sqlite3_bind_int(st, 3, limit);
        },
        "deleting expired event metadata");
  }

  Status PutLegalHold(const LegalHoldRow& row) override {
    return WriteBound(
        "INSERT INTO legal_holds (user_id, reason, placed_at) VALUES (?1, ?2, ?3) "
        "ON CONFLICT (user_id) DO UPDATE SET reason = excluded.reason, placed_at = excluded.placed_at",
        [&](sqlite3_stmt* st) {
          BindText(st, 1, row.user_id);
          BindOptionalText(st, 2, row.reason);
          BindText(st, 3, row.placed_at);
        },
        "placing a legal hold", [](int, int) { return Status::Ok(); });
  }

  Status DeleteLegalHold(std::string_view user_id) override {
    return WriteOne("DELETE FROM legal_holds WHERE user_id = ?1", {user_id}, "removing a legal hold",
                    [&](int, int changes) -> Status {
                      if (changes == 0) return Status::NotFound("no legal hold on user " + std::string(user_id));
                      return Status::Ok();
                    });
  }

  Result<std::vector<LegalHoldRow>> ListLegalHolds() override {
    std::vector<LegalHoldRow> rows;
    const Status status = ReadRows(
        "SELECT user_id, COALESCE(reason, ''), placed_at FROM legal_holds ORDER BY user_id", [](sqlite3_stmt*) {},
        "listing legal holds",
        [&rows](sqlite3_stmt* st) {
          rows.push_back(LegalHoldRow{std::string(ColumnText(st, 0)), std::string(ColumnText(st, 1)),
                                      std::string(ColumnText(st, 2))});
        });
    if (!status.ok()) return status;
    return rows;
  }

  Status InsertErasureJob(const ErasureJobRow& row) override {
    return WriteBound(
        "INSERT INTO erasure_jobs (job_id, user_id, state, received_cutoff, created_at, started_at, finished_at, "
        "metadata_erased, documents_erased, outbox_erased, dead_letters_erased, receipt, error) "
        "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)",
        [&](sqlite3_stmt* st) { BindErasureJob(st, row); }, "storing an erasure job",
        [&](int rc, int) -> Status {
          if (rc == SQLITE_CONSTRAINT) return Status::AlreadyExists("an erasure job with id " + row.id + " exists");
          return Status::Ok();
        });
  }

  Status UpdateErasureJob(const ErasureJobRow& row) override {
    return WriteBound(
        "UPDATE erasure_jobs SET user_id = ?2, state = ?3, received_cutoff = ?4, created_at = ?5, "
        "started_at = ?6, finished_at = ?7, metadata_erased = ?8, documents_erased = ?9, outbox_erased = ?10, "
        "dead_letters_erased = ?11, receipt = ?12, error = ?13 WHERE job_id = ?1",
        [&](sqlite3_stmt* st) { BindErasureJob(st, row); }, "updating an erasure job",
        [&](int rc, int changes) -> Status {
          // Only NOT NULL can fail here, and only on a row missing a column.
          if (rc == SQLITE_CONSTRAINT) return Status::InvalidArgument("erasure job " + row.id + " lacks a field");
          if (changes == 0) return Status::NotFound("no erasure job has id " + row.id);
          return Status::Ok();
        });
  }

  Result<ErasureJobRow> FindErasureJob(std::string_view id) override {
    Result<std::vector<ErasureJobRow>> rows = ErasureJobs(
        "WHERE job_id = ?1", [&](sqlite3_stmt* st) { BindText(st, 1, id); }, "looking up an erasure job");
    if (!rows.ok()) return rows.status();
    if (rows->empty()) return Status::NotFound("no erasure job has id " + std::string(id));
    return std::move(rows->front());
  }

  Result<std::vector<ErasureJobRow>> ListErasureJobs(std::string_view created_since) override {
    if (created_since.empty()) {
      return ErasureJobs("ORDER BY created_at, job_id", [](sqlite3_stmt*) {}, "listing erasure jobs");
    }
    // Two disjoint halves rather than one OR, which SQLite answers by
    // scanning every job: each half has an index of its own. The text
    // comparison is a time comparison because every created_at has the same
    // fixed-width form.
    return ErasureJobs(std::string("WHERE created_at >= ?1 UNION ALL ") + kSelectErasureJobColumns +
                           "WHERE created_at < ?1 AND state IN ('pending', 'running') ORDER BY created_at, job_id",
                       [&](sqlite3_stmt* st) { BindText(st, 1, created_since); }, "listing erasure jobs");
  }

  // The embedded store creates or upgrades its schema when it opens.
  Status Migrate() override { return Status::Ok(); }
  Status CheckSchema() override { return Status::Ok(); }

  Status Ping() override {
    return Query(std::string(kSelectColumns) + "LIMIT 0", {}, [](const EventMetadata&) { return true; });
  }

  std::string_view Kind() const override { return "sqlite"; }

 private:
  // One durable statement on the writer's connection, outside any batch.
  // `bind` sets its parameters. `outcome` turns the step's result code
  // (SQLITE_DONE, or a constraint failure) and the rows changed into a
  // Status; other failures are errors.
  Status WriteBound(const char* sql, const std::function<void(sqlite3_stmt*)>& bind, std::string_view what,
                    const std::function<Status(int rc, int changes)>& outcome) {
    std::lock_guard lock(writer_mutex_);
    sqlite3* db = writer_.get();
    if (!synchronous_full_) {
      if (Status s = Exec(db, "PRAGMA synchronous=FULL"); !s.ok()) return s;
      synchronous_full_ = true;
    }
    Result<Statement> statement = Prepare(db, sql);
    if (!statement.ok()) return statement.status();
    sqlite3_stmt* st = statement->get();
    bind(st);
    const int rc = sqlite3_step(st) & 0xFF;  // the primary code, with or without extended codes
    if (rc != SQLITE_DONE && rc != SQLITE_CONSTRAINT) return sqlite::Error(db, rc, what);
    return outcome(rc, sqlite3_changes(db));
  }

  // WriteBound with text parameters, ?1 onwards.
  Status WriteOne(const char* sql, const std::vector<std::string_view>& parameters, std::string_view what,
                  const std::function<Status(int rc, int changes)>& outcome) {
    return WriteBound(
        sql,
        [&parameters](sqlite3_stmt* st) {
          for (size_t i = 0; i < parameters.size(); ++i) BindText(st, static_cast<int>(i + 1), parameters[i]);
        },
        what, outcome);
  }

  // A bounded DELETE, returning how many rows it removed.
  std::mutex erase_mutex_;
  std::string erase_key_;               // the erasure erase_ids_ belong to: user, NUL, cutoff
  std::vector<std::string> erase_ids_;  // its rows not yet deleted

  Result<int64_t> DeleteCounted(const char* sql, const std::function<void(sqlite3_stmt*)>& bind,
                                std::string_view what) {
    int64_t deleted = 0;
    const Status status = WriteBound(sql, bind, what, [&deleted](int, int changes) {
      deleted = changes;
      return Status::Ok();
    });
    if (!status.ok()) return status;
    return deleted;
  }

  // Runs a query on a reader connection, handing each row to `on_row`.
  Status ReadRows(const char* sql, const std::function<void(sqlite3_stmt*)>& bind, std::string_view what,
                  const std::function<void(sqlite3_stmt*)>& on_row) {
    Result<Connection> db = ReaderConnection();
    if (!db.ok()) return db.status();
    Result<Statement> query = Prepare(db->get(), sql);
    if (!query.ok()) return query.status();
    bind(query->get());
    Status status;
    for (;;) {
      const int rc = sqlite3_step(query->get());
      if (rc == SQLITE_DONE) break;
      if (rc != SQLITE_ROW) {
        status = sqlite::Error(db->get(), rc, what);
        break;
      }
      on_row(query->get());
    }
    query = Statement();  // finalize before the connection goes back to the pool
    ReturnReaderConnection(std::move(*db));
    return status;
  }

  // ?1 is the id, then every other column in ErasureJobRow order.
  static void BindErasureJob(sqlite3_stmt* st, const ErasureJobRow& row) {
    BindText(st, 1, row.id);
    BindText(st, 2, row.user_id);
    BindText(st, 3, row.state);
    BindText(st, 4, row.received_cutoff);
    BindText(st, 5, row.created_at);
    BindOptionalText(st, 6, row.started_at);
    BindOptionalText(st, 7, row.finished_at);
    sqlite3_bind_int64(st, 8, row.metadata_erased);
    sqlite3_bind_int64(st, 9, row.documents_erased);
    sqlite3_bind_int64(st, 10, row.outbox_erased);
    sqlite3_bind_int64(st, 11, row.dead_letters_erased);
    BindOptionalText(st, 12, row.receipt);
    BindOptionalText(st, 13, row.error);
  }

  // The erasure jobs a clause (WHERE or ORDER BY) picks.
  Result<std::vector<ErasureJobRow>> ErasureJobs(std::string_view clause,
                                                 const std::function<void(sqlite3_stmt*)>& bind,
                                                 std::string_view what) {
    const std::string sql = kSelectErasureJobColumns + std::string(clause);
    std::vector<ErasureJobRow> rows;
    const Status status = ReadRows(sql.c_str(), bind, what, [&rows](sqlite3_stmt* st) {
      ErasureJobRow row;
      row.id = ColumnText(st, 0);
      row.user_id = ColumnText(st, 1);
      row.state = ColumnText(st, 2);
      row.received_cutoff = ColumnText(st, 3);
      row.created_at = ColumnText(st, 4);
      row.started_at = ColumnText(st, 5);
      row.finished_at = ColumnText(st, 6);
      row.metadata_erased = sqlite3_column_int64(st, 7);
      row.documents_erased = sqlite3_column_int64(st, 8);
      row.outbox_erased = sqlite3_column_int64(st, 9);
      row.dead_letters_erased = sqlite3_column_int64(st, 10);
      row.receipt = ColumnText(st, 11);
      row.error = ColumnText(st, 12);
      rows.push_back(std::move(row));
    });
    if (!status.ok()) return status;
    return rows;
  }

  Status Query(const std::string& sql, const std::vector<std::string_view>& parameters,
               const std::function<bool(const EventMetadata&)>& visit) {
    Result<Connection> db = ReaderConnection();
    if (!db.ok()) return db.status();
    Result<Statement> query = Prepare(db->get(), sql.c_str());
    if (!query.ok()) return query.status();
    sqlite3_stmt* st = query->get();
    for (size_t i = 0; i < parameters.size(); ++i) BindText(st, static_cast<int>(i + 1), parameters[i]);
    Status status;
    EventMetadata row;
    for (;;) {
      const int rc = sqlite3_step(st);
      if (rc == SQLITE_DONE) break;
      if (rc != SQLITE_ROW) {
        status = sqlite::Error(db->get(), rc, "reading event metadata");
        break;
      }
      row.event_id = ColumnText(st, 0);
      row.user_id = ColumnText(st, 1);
      row.event_type = ColumnText(st, 2);
      row.timestamp = ColumnText(st, 3);
      row.idempotency_key = ColumnText(st, 4);
      row.request_hash = ColumnText(st, 5);
      row.occurred_at = ColumnText(st, 6);
      row.received_at = ColumnText(st, 7);
      if (!visit(row)) break;
    }
    query = Statement();  // finalize before the connection goes back to the pool
    ReturnReaderConnection(std::move(*db));
    return status;
  }

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
  std::mutex writer_mutex_;
  Connection writer_;
  WriterStatements statements_;
  bool synchronous_full_ = true;  // the writer's PRAGMA synchronous: FULL, or NORMAL
  std::mutex sync_mutex_;
  Connection checkpointer_;  // opened by the first SyncWrites
  std::atomic<bool> restart_wal_{false};  // set by SyncWrites, done by the next Write
  std::mutex reader_mutex_;
  Connection idle_reader_;
};

}  // namespace

Result<std::unique_ptr<MetadataStore>> OpenSqliteMetadataStore(const SqliteMetadataOptions& options) {
  Result<Connection> db = OpenConnection(options, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE);
  if (!db.ok()) return db.status();
  // Refuse a database written by a newer build, before changing anything in it.
  Result<int> current = SchemaVersionOf(db->get());
  if (!current.ok()) return current.status();
  if (*current > kSqliteSchemaVersion) {
    return Status::FailedPrecondition(options.path + " has schema version " +
                                      std::to_string(*current) + ", newer than this build's " +
                                      std::to_string(kSqliteSchemaVersion));
  }
  // WAL lets readers proceed during a write; FULL syncs the WAL at every
  // commit, which is what makes an acknowledged event durable.
  // The page cache holds the pages a commit touches. Without the user index
  // that is the right edge of the time-ordered primary key (and the rare
  // idempotency-key entries): 4 MiB is plenty, and every MiB here counts
  // under the 150 MiB RSS budget (16 MiB measured the same POST rate, 15 MiB
  // more RSS). The user index puts each commit's entries all over its
  // leaves, so it gets 16 MiB to keep them in memory.
  // Checkpoints run in SyncWrites, off the commit path; a process that never
  // calls it writes little, and SQLite checkpoints at close.
  const char* cache_size = options.user_index ? "PRAGMA cache_size=-16384" : "PRAGMA cache_size=-4096";
  for (const char* pragma : {"PRAGMA journal_mode=WAL", "PRAGMA synchronous=FULL", cache_size,
                             "PRAGMA wal_autocheckpoint=0", "PRAGMA journal_size_limit=67108864"}) {
    if (Status s = Exec(db->get(), pragma); !s.ok()) return s;
  }
  // Only a file behind this build takes the write lock here: opening beside
  // a busy writer (`eventlogger keys` next to a server) should not wait on it.
  if (*current < kSqliteSchemaVersion) {
    if (Status s = UpgradeSchema(db->get()); !s.ok()) return s;
  }
  if (Status s = Exec(db->get(), options.user_index ? kCreateUserIndex : kDropUserIndex); !s.ok()) return s;
  SqliteMetadataStore::WriterStatements statements;
  const std::pair<Statement*, const char*> to_prepare[] = {
      {&statements.begin, "BEGIN IMMEDIATE"},
      // OR IGNORE: a replayed eventId is a no-op (idempotent writes). A
      // second event under an idempotency key already taken is dropped too;
      // the service never sends one (it looks the key up first), and
      // reconciliation reports it if a race across instances ever does.
      {&statements.insert,
       "INSERT OR IGNORE INTO events (event_id, user_id, event_type, timestamp, created_at, "
       "idempotency_key, request_hash, occurred_at, received_at) "
       "VALUES (?1, ?2, ?3, ?4, ?7, ?5, ?6, ?8, ?9)"},
      {&statements.commit, "COMMIT"},
      {&statements.rollback, "ROLLBACK"},
  };
  for (const auto& [statement, sql] : to_prepare) {
    Result<Statement> prepared = Prepare(db->get(), sql);
    if (!prepared.ok()) return prepared.status();
    *statement = std::move(*prepared);
  }
  return std::unique_ptr<MetadataStore>(
      new SqliteMetadataStore(options, std::move(*db), std::move(statements)));
}

}  // namespace eventlogger
