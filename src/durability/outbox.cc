#include "durability/outbox.h"

#include <algorithm>
#include <map>

#include "core/event_time.h"
#include "core/timestamp.h"
#include "storage/sqlite_support.h"

namespace eventlogger {

using sqlite::BindOptionalText;
using sqlite::BindText;
using sqlite::ColumnText;

namespace {

// 1: the first; 2: occurred_at (a client's occurredAt), added in place to
// an outbox version 1 left behind.
constexpr int kOutboxSchemaVersion = 2;

constexpr const char* kSchema = R"sql(
CREATE TABLE IF NOT EXISTS outbox (
  event_id        TEXT PRIMARY KEY,
  user_id         TEXT NOT NULL,
  event_type      TEXT NOT NULL,
  timestamp       TEXT NOT NULL,
  details_json    TEXT NOT NULL,
  occurred_at     TEXT,
  idempotency_key TEXT,
  request_hash    TEXT,
  metadata_done   INTEGER NOT NULL DEFAULT 0,
  document_done   INTEGER NOT NULL DEFAULT 0,
  state           TEXT NOT NULL DEFAULT 'pending',
  attempts        INTEGER NOT NULL DEFAULT 0,
  created_at_ms   INTEGER NOT NULL,
  next_attempt_ms INTEGER NOT NULL,
  last_error      TEXT
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS outbox_due ON outbox (state, next_attempt_ms, event_id);
CREATE UNIQUE INDEX IF NOT EXISTS outbox_by_idempotency_key
  ON outbox (user_id, idempotency_key) WHERE idempotency_key IS NOT NULL;
)sql";

constexpr const char* kSelect =
    "SELECT event_id, user_id, event_type, timestamp, details_json, COALESCE(idempotency_key, ''), "
    "COALESCE(request_hash, ''), metadata_done, document_done, state, attempts, created_at_ms, "
    "next_attempt_ms, COALESCE(last_error, ''), COALESCE(occurred_at, '') FROM outbox ";

OutboxEntry ReadEntry(sqlite3_stmt* st) {
  OutboxEntry entry;
  entry.event.event_id = ColumnText(st, 0);
  entry.event.user_id = ColumnText(st, 1);
  entry.event.event_type = ColumnText(st, 2);
  entry.event.timestamp = ColumnText(st, 3);
  entry.event.unix_millis = ParseTimestamp(entry.event.timestamp).value_or(0);
  entry.event.details_json = ColumnText(st, 4);
  entry.event.idempotency_key = ColumnText(st, 5);
  entry.event.request_hash = ColumnText(st, 6);
  entry.metadata_done = sqlite3_column_int(st, 7) != 0;
  entry.document_done = sqlite3_column_int(st, 8) != 0;
  entry.state = ColumnText(st, 9) == "dead" ? OutboxState::kDead : OutboxState::kPending;
  entry.attempts = sqlite3_column_int(st, 10);
  entry.created_at_ms = sqlite3_column_int64(st, 11);
  entry.next_attempt_ms = sqlite3_column_int64(st, 12);
  entry.last_error = ColumnText(st, 13);
  entry.event.occurred_at = ColumnText(st, 14);
  return entry;
}

// Brings an outbox of an earlier version up to this one.
Status Upgrade(sqlite3* db, int from_version) {
  if (from_version == 1) {
    if (Status s = sqlite::Exec(db, "ALTER TABLE outbox ADD COLUMN occurred_at TEXT"); !s.ok()) return s;
  }
  return sqlite::Exec(db, ("PRAGMA user_version = " + std::to_string(kOutboxSchemaVersion)).c_str());
}

}  // namespace

struct Outbox::Impl {
  std::mutex mutex;
  sqlite::Connection db;
  // A second connection used only to checkpoint the WAL, so that work never
  // runs inside an intent commit (auto-checkpoint is off on `db`).
  std::mutex checkpoint_mutex;
  sqlite::Connection checkpoint_db;
  // Statements of the hot paths, prepared once (re-parsing them per batch
  // showed up in profiles). Keyed by their text's address: string literals.
  std::map<const char*, sqlite::Statement> statements;
  int synchronous = -1;  // the connection's current PRAGMA synchronous (1 FULL, 0 NORMAL)

  // A cached prepared statement, ready to bind. REQUIRES: mutex held.
  Result<sqlite3_stmt*> Cached(const char* sql) {
    auto it = statements.find(sql);
    if (it == statements.end()) {
      Result<sqlite::Statement> prepared = sqlite::Prepare(db.get(), sql);
      if (!prepared.ok()) return prepared.status();
      it = statements.emplace(sql, std::move(*prepared)).first;
    }
    sqlite3_reset(it->second.get());
    sqlite3_clear_bindings(it->second.get());
    return it->second.get();
  }

  // Runs `body` in one transaction with the given durability.
  template <typename Body>
  Status Transaction(bool durable, Body body) {
    sqlite3* handle = db.get();
    if (synchronous != (durable ? 1 : 0)) {
      if (Status s = sqlite::Exec(handle, durable ? "PRAGMA synchronous=FULL" : "PRAGMA synchronous=NORMAL");
          !s.ok()) {
        return s;
      }
      synchronous = durable ? 1 : 0;
    }
    if (Status s = sqlite::Exec(handle, "BEGIN IMMEDIATE"); !s.ok()) return s;
    Status status = body(handle);
    if (status.ok()) status = sqlite::Exec(handle, "COMMIT");
    if (!status.ok()) (void)sqlite::Exec(handle, "ROLLBACK");
    return status;
  }

  // Runs a SELECT and collects entries.
  Result<std::vector<OutboxEntry>> Select(const std::string& where,
                                          const std::vector<std::string>& text_parameters,
                                          const std::vector<int64_t>& integer_parameters) {
    Result<sqlite::Statement> st = sqlite::Prepare(db.get(), (std::string(kSelect) + where).c_str());
    if (!st.ok()) return st.status();
    int index = 1;
    for (const std::string& p : text_parameters) BindText(st->get(), index++, p);
    for (int64_t p : integer_parameters) sqlite3_bind_int64(st->get(), index++, p);
    std::vector<OutboxEntry> entries;
    for (;;) {
      const int rc = sqlite3_step(st->get());
      if (rc == SQLITE_DONE) break;
      if (rc != SQLITE_ROW) return sqlite::Error(db.get(), rc, "reading the outbox");
      entries.push_back(ReadEntry(st->get()));
    }
    return entries;
  }

  Result<int64_t> Change(const char* sql, const std::vector<std::string>& text_parameters,
                         const std::vector<int64_t>& integer_parameters) {
    int64_t changed = 0;
    Status status = Transaction(/*durable=*/true, [&](sqlite3* handle) {
      Result<sqlite::Statement> st = sqlite::Prepare(handle, sql);
      if (!st.ok()) return st.status();
      int index = 1;
      for (const std::string& p : text_parameters) BindText(st->get(), index++, p);
      for (int64_t p : integer_parameters) sqlite3_bind_int64(st->get(), index++, p);
      const int rc = sqlite3_step(st->get());
      if (rc != SQLITE_DONE) return sqlite::Error(handle, rc, "changing the outbox");
      changed = sqlite3_changes(handle);
      return Status::Ok();
    });
    if (!status.ok()) return status;
    return changed;
  }
};

Outbox::Outbox(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Outbox::~Outbox() = default;

Result<std::unique_ptr<Outbox>> Outbox::Open(const OutboxOptions& options) {
  Result<sqlite::Connection> db =
      sqlite::Open(options.path, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, options.busy_timeout_ms);
  if (!db.ok()) return db.status();
  // The version first: a file from a newer build is refused untouched
  // (switching it to WAL would already change it).
  Result<sqlite::Statement> version = sqlite::Prepare(db->get(), "PRAGMA user_version");
  if (!version.ok()) return version.status();
  const int current = sqlite3_step(version->get()) == SQLITE_ROW ? sqlite3_column_int(version->get(), 0) : 0;
  version = sqlite::Statement();
  if (current > kOutboxSchemaVersion) {
    return Status::FailedPrecondition(options.path + " was written by a newer eventlogger");
  }
  if (Status s = sqlite::Exec(db->get(), "PRAGMA journal_mode=WAL"); !s.ok()) return s;
  if (Status s = sqlite::Exec(db->get(), kSchema); !s.ok()) return s;
  if (current < kOutboxSchemaVersion) {
    if (Status s = Upgrade(db->get(), current); !s.ok()) return s;
  }
  // 8 MiB of page cache: commits otherwise re-read index pages from the OS.
  if (Status s = sqlite::Exec(db->get(), "PRAGMA cache_size=-8192"); !s.ok()) return s;
  // Checkpoints run from Checkpoint() (the retry worker), not inside commits.
  if (Status s = sqlite::Exec(db->get(), "PRAGMA wal_autocheckpoint=0"); !s.ok()) return s;
  Result<sqlite::Connection> checkpoint_db =
      sqlite::Open(options.path, SQLITE_OPEN_READWRITE, options.busy_timeout_ms);
  if (!checkpoint_db.ok()) return checkpoint_db.status();
  // A connection that has not read the database has not opened its WAL, and
  // its checkpoints would silently do nothing.
  if (Status s = sqlite::Exec(checkpoint_db->get(), "SELECT count(*) FROM sqlite_master"); !s.ok()) return s;
  auto impl = std::make_unique<Impl>();
  impl->db = std::move(*db);
  impl->checkpoint_db = std::move(*checkpoint_db);
  return std::unique_ptr<Outbox>(new Outbox(std::move(impl)));
}

Status Outbox::RecordIntents(EventBatch events, int64_t next_attempt_ms) {
  std::lock_guard lock(impl_->mutex);
  return impl_->Transaction(/*durable=*/true, [&](sqlite3* db) {
    Result<sqlite3_stmt*> insert = impl_->Cached(
        "INSERT OR IGNORE INTO outbox (event_id, user_id, event_type, timestamp, details_json, "
        "idempotency_key, request_hash, created_at_ms, next_attempt_ms, occurred_at) "
        "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)");
    if (!insert.ok()) return insert.status();
    sqlite3_stmt* st = *insert;
    for (const Event* event : events) {
      BindText(st, 1, event->event_id);
      BindText(st, 2, event->user_id);
      BindText(st, 3, event->event_type);
      BindText(st, 4, event->timestamp);
      BindText(st, 5, event->details_json);
      BindOptionalText(st, 6, event->idempotency_key);
      BindOptionalText(st, 7, event->request_hash);
      // Queued when received: a client's occurredAt may lie days back.
      sqlite3_bind_int64(st, 8, ReceivedMillisOf(event->event_id, event->unix_millis));
      sqlite3_bind_int64(st, 9, next_attempt_ms);
      BindOptionalText(st, 10, event->occurred_at);
      const int rc = sqlite3_step(st);
      sqlite3_reset(st);
      if (rc != SQLITE_DONE) return sqlite::Error(db, rc, "recording write intents");
    }
    return Status::Ok();
  });
}

Status Outbox::Resolve(const std::vector<OutboxResolution>& resolutions) {
  // Small transactions, releasing the lock in between: a long clean-up must
  // not hold up the request path's intent commits behind it.
  constexpr size_t kChunk = 128;
  for (size_t begin = 0; begin < resolutions.size(); begin += kChunk) {
    const size_t end = std::min(resolutions.size(), begin + kChunk);
    std::lock_guard lock(impl_->mutex);
    Status status = impl_->Transaction(/*durable=*/false, [&](sqlite3* db) {
      Result<sqlite3_stmt*> remove = impl_->Cached("DELETE FROM outbox WHERE event_id = ?1");
      if (!remove.ok()) return remove.status();
      Result<sqlite3_stmt*> update = impl_->Cached(
          "UPDATE outbox SET metadata_done = MAX(metadata_done, ?2), document_done = MAX(document_done, ?3), "
          "last_error = ?4, next_attempt_ms = ?5 WHERE event_id = ?1 AND state = 'pending'");
      if (!update.ok()) return update.status();
      for (size_t i = begin; i < end; ++i) {
        const OutboxResolution& r = resolutions[i];
        sqlite3_stmt* st;
        if (r.metadata_done && r.document_done) {
          st = *remove;
          BindText(st, 1, r.event_id);
        } else {
          st = *update;
          BindText(st, 1, r.event_id);
          sqlite3_bind_int(st, 2, r.metadata_done ? 1 : 0);
          sqlite3_bind_int(st, 3, r.document_done ? 1 : 0);
          BindText(st, 4, r.error);
          sqlite3_bind_int64(st, 5, r.next_attempt_ms);
        }
        const int rc = sqlite3_step(st);
        sqlite3_reset(st);
        if (rc != SQLITE_DONE) return sqlite::Error(db, rc, "resolving write intents");
      }
      return Status::Ok();
    });
    if (!status.ok()) return status;
  }
  return Status::Ok();
}

Result<std::vector<OutboxEntry>> Outbox::Due(int64_t now_ms, int limit) {
  std::lock_guard lock(impl_->mutex);
  return impl_->Select("WHERE state = 'pending' AND next_attempt_ms <= ?1 ORDER BY next_attempt_ms, event_id LIMIT ?2",
                       {}, {now_ms, limit});
}

Status Outbox::RecordAttempts(const std::vector<OutboxAttempt>& attempts) {
  if (attempts.empty()) return Status::Ok();
  std::lock_guard lock(impl_->mutex);
  return impl_->Transaction(/*durable=*/false, [&](sqlite3* db) {
    Result<sqlite::Statement> remove = sqlite::Prepare(db, "DELETE FROM outbox WHERE event_id = ?1");
    Result<sqlite::Statement> update = sqlite::Prepare(
        db,
        "UPDATE outbox SET metadata_done = MAX(metadata_done, ?2), document_done = MAX(document_done, ?3), "
        "attempts = attempts + 1, last_error = ?4, next_attempt_ms = ?5, state = ?6 "
        "WHERE event_id = ?1 AND state = 'pending'");
    if (!remove.ok()) return remove.status();
    if (!update.ok()) return update.status();
    for (const OutboxAttempt& attempt : attempts) {
      sqlite3_stmt* st;
      if (attempt.metadata_done && attempt.document_done) {
        st = remove->get();
        BindText(st, 1, attempt.event_id);
      } else {
        st = update->get();
        BindText(st, 1, attempt.event_id);
        sqlite3_bind_int(st, 2, attempt.metadata_done ? 1 : 0);
        sqlite3_bind_int(st, 3, attempt.document_done ? 1 : 0);
        BindText(st, 4, attempt.error);
        sqlite3_bind_int64(st, 5, attempt.next_attempt_ms.value_or(0));
        BindText(st, 6, attempt.next_attempt_ms ? "pending" : "dead");
      }
      const int rc = sqlite3_step(st);
      sqlite3_reset(st);
      if (rc != SQLITE_DONE) return sqlite::Error(db, rc, "recording retry attempts");
    }
    return Status::Ok();
  });
}

Status Outbox::Checkpoint() {
  std::lock_guard lock(impl_->checkpoint_mutex);
  // PASSIVE: copies what it can without waiting for, or blocking, writers.
  const int rc = sqlite3_wal_checkpoint_v2(impl_->checkpoint_db.get(), nullptr, SQLITE_CHECKPOINT_PASSIVE,
                                           nullptr, nullptr);
  if (rc != SQLITE_OK && rc != SQLITE_BUSY) return sqlite::Error(impl_->checkpoint_db.get(), rc, "checkpointing the outbox");
  return Status::Ok();
}

Status Outbox::MakeAllPendingDue(int64_t now_ms) {
  std::lock_guard lock(impl_->mutex);
  Result<int64_t> changed = impl_->Change(
      "UPDATE outbox SET next_attempt_ms = ?1 WHERE state = 'pending' AND next_attempt_ms > ?1", {}, {now_ms});
  return changed.ok() ? Status::Ok() : changed.status();
}

Result<OutboxStats> Outbox::Stats() {
  std::lock_guard lock(impl_->mutex);
  Result<sqlite::Statement> st = sqlite::Prepare(
      impl_->db.get(),
      "SELECT COALESCE(SUM(state = 'pending'), 0), COALESCE(SUM(state = 'dead'), 0), "
      "COALESCE(MIN(CASE WHEN state = 'pending' THEN created_at_ms END), 0) FROM outbox");
  if (!st.ok()) return st.status();
  const int rc = sqlite3_step(st->get());
  if (rc != SQLITE_ROW) return sqlite::Error(impl_->db.get(), rc, "reading outbox stats");
  OutboxStats stats;
  stats.pending = sqlite3_column_int64(st->get(), 0);
  stats.dead = sqlite3_column_int64(st->get(), 1);
  stats.oldest_pending_created_ms = sqlite3_column_int64(st->get(), 2);
  return stats;
}

Result<std::vector<OutboxEntry>> Outbox::List(OutboxState state, int limit) {
  std::lock_guard lock(impl_->mutex);
  return impl_->Select("WHERE state = ?1 ORDER BY created_at_ms, event_id LIMIT ?2",
                       {state == OutboxState::kDead ? "dead" : "pending"}, {limit});
}

Result<std::optional<OutboxEntry>> Outbox::Find(const std::string& event_id) {
  std::lock_guard lock(impl_->mutex);
  Result<std::vector<OutboxEntry>> found = impl_->Select("WHERE event_id = ?1", {event_id}, {});
  if (!found.ok()) return found.status();
  if (found->empty()) return std::optional<OutboxEntry>();
  return std::optional<OutboxEntry>(std::move(found->front()));
}

Result<std::optional<OutboxEntry>> Outbox::FindByIdempotencyKey(std::string_view user_id,
                                                                std::string_view key) {
  std::lock_guard lock(impl_->mutex);
  Result<std::vector<OutboxEntry>> found = impl_->Select(
      "WHERE user_id = ?1 AND idempotency_key = ?2", {std::string(user_id), std::string(key)}, {});
  if (!found.ok()) return found.status();
  if (found->empty()) return std::optional<OutboxEntry>();
  return std::optional<OutboxEntry>(std::move(found->front()));
}

Result<int64_t> Outbox::Replay(const std::string& event_id, int64_t now_ms) {
  std::lock_guard lock(impl_->mutex);
  return impl_->Change(
      // The age clock restarts too: a letter that died of old age gets a
      // full retry budget again, not one attempt.
      "UPDATE outbox SET state = 'pending', attempts = 0, next_attempt_ms = ?2, created_at_ms = ?2 "
      "WHERE event_id = ?1 AND state = 'dead'",
      {event_id}, {now_ms});
}

Result<int64_t> Outbox::ReplayAllDead(int64_t now_ms) {
  std::lock_guard lock(impl_->mutex);
  return impl_->Change(
      "UPDATE outbox SET state = 'pending', attempts = 0, next_attempt_ms = ?1, created_at_ms = ?1 "
      "WHERE state = 'dead'",
      {},
      {now_ms});
}

Result<int64_t> Outbox::PurgeDead(int64_t created_before_ms) {
  std::lock_guard lock(impl_->mutex);
  return impl_->Change("DELETE FROM outbox WHERE state = 'dead' AND created_at_ms < ?1", {},
                       {created_before_ms});
}

Result<OutboxErasure> Outbox::EraseUserEvents(std::string_view user_id, int64_t received_cutoff_ms) {
  std::lock_guard lock(impl_->mutex);
  // A user's entries are few (the outbox holds only what a store refused),
  // and the receipt time lives in the eventId, not in a column: select
  // them, then delete those the cutoff covers.
  Result<std::vector<OutboxEntry>> entries = impl_->Select("WHERE user_id = ?1", {std::string(user_id)}, {});
  if (!entries.ok()) return entries.status();
  OutboxErasure erased;
  for (const OutboxEntry& entry : *entries) {
    if (ReceivedMillisOf(entry.event.event_id, entry.created_at_ms) > received_cutoff_ms) continue;
    Result<int64_t> deleted = impl_->Change("DELETE FROM outbox WHERE event_id = ?1", {entry.event.event_id}, {});
    if (!deleted.ok()) return deleted.status();
    if (*deleted == 0) continue;
    if (entry.state == OutboxState::kDead) {
      ++erased.dead;
    } else {
      ++erased.pending;
    }
  }
  return erased;
}

}  // namespace eventlogger
