// MetadataStore: where event metadata (eventId, userId, eventType,
// timestamp) lives, for analytics and compliance. The relational side of the
// design: SQLite embedded, PostgreSQL or SQL Server in deployments.
//
// Implementations are final classes in their own files, created by
// OpenMetadataStore (storage/store_factory.h). They know how to write a batch
// and read back; batching, threading and retries live outside them.
//
// Thread safety: every method may be called from several threads at once
// (the group-commit writer and the retry worker both write).
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "core/event.h"
#include "core/status.h"

namespace eventlogger {

struct EventMetadata {
  std::string event_id;
  std::string user_id;
  std::string event_type;
  std::string timestamp;        // when the event happened (Event::timestamp); the scan order
  std::string idempotency_key;  // empty if the client sent none
  std::string request_hash;
  std::string occurred_at;      // the client's occurredAt (Event::occurred_at); empty: none (NULL)
  // When the server received the event (ReceivedAtOf its eventId). Stored
  // beside the id so SQL can ask for it; equals `timestamp` for events
  // without occurredAt, and for every event stored before schema version 3.
  std::string received_at;
};

// Which events a scan covers. Empty members mean "no bound".
struct ScanFilter {
  std::string user_id;  // only this user's events
  std::string since;    // timestamp >= since (ISO 8601, as stored)
  std::string until;    // timestamp < until
};

// An API key as stored (auth/api_key.h makes and checks them). Timestamps
// are UTC ISO 8601 with milliseconds, as events have; an empty one is NULL.
struct ApiKeyRow {
  std::string id;             // 16 lowercase hex digits, public
  std::string name;           // what the operator called it
  std::string scopes;         // space-separated, e.g. "events:write events:read"
  std::string secret_digest;  // hex SHA-256; the secret itself is never stored
  std::string created_at;
  std::string last_used_at;   // empty: never used (or not recorded yet)
  std::string revoked_at;     // empty: live
  bool operator==(const ApiKeyRow&) const = default;
};

// Which of a user's events an erasure removes: every one the service
// received at or before the erasure job's cutoff, whatever its timestamp
// (an occurredAt may date an event long before it arrived). Events received
// after the cutoff are kept.
struct UserErasure {
  std::string user_id;
  std::string received_cutoff;     // ISO 8601 UTC with milliseconds, as stored
  int64_t received_cutoff_ms = 0;  // the same instant
};

// Which events a retention sweep removes: those older than `before` (by
// timestamp) of the types it names, never a held user's.
struct ExpiryRule {
  // These types; when empty, every type except `except_types` (the default
  // retention covers the types without a rule of their own).
  std::vector<std::string> event_types;
  std::vector<std::string> except_types;
  std::string before;      // timestamp < before (ISO 8601, as stored)
  int64_t before_ms = 0;   // the same instant
};

// A legal hold: while it exists, neither erasure nor retention removes any
// of the user's events.
struct LegalHoldRow {
  std::string user_id;
  std::string reason;     // what the operator gave (a case number, say); may be empty
  std::string placed_at;  // ISO 8601 UTC with milliseconds
  bool operator==(const LegalHoldRow&) const = default;
};

// An erasure job as stored, so that it survives restarts and every instance
// sharing the store sees it (privacy/erasure_service.h runs them).
struct ErasureJobRow {
  std::string id;               // a UUIDv7, public
  std::string user_id;
  std::string state;            // "pending", "running", "done" or "failed"
  std::string received_cutoff;  // see UserErasure
  std::string created_at;
  std::string started_at;       // empty until it runs
  std::string finished_at;      // empty until it ends
  // What was erased, per place, so far.
  int64_t metadata_erased = 0;
  int64_t documents_erased = 0;
  int64_t outbox_erased = 0;       // pending entries in the local outbox
  int64_t dead_letters_erased = 0;
  std::string receipt;  // the signed receipt (JSON) once done
  std::string error;    // why it failed, for operators
  bool operator==(const ErasureJobRow&) const = default;
};

class MetadataStore {
 public:
  MetadataStore() = default;
  MetadataStore(const MetadataStore&) = delete;
  MetadataStore& operator=(const MetadataStore&) = delete;
  virtual ~MetadataStore() = default;

  // Durably stores every event of the batch in one transaction, or none.
  // Idempotent by eventId: an event already present is left as it is.
  virtual Status WriteBatch(EventBatch events) = 0;

  // Like WriteBatch, but the store may skip its own fsync: the batch is
  // visible at once and survives a crash of this process, but an OS crash
  // or power loss may take it until the next SyncWrites() returns OK. Only
  // for callers whose own durable log covers that window (the request path,
  // whose intent log keeps every event until the stores have synced, and
  // replays it after a crash). Stores whose every write is durable anyway
  // (servers: PostgreSQL, DynamoDB) keep this default.
  virtual Status WriteBatchWithoutSync(EventBatch events) { return WriteBatch(events); }

  // Makes every batch written so far durable (fsync). OK at once for stores
  // without a deferred mode.
  virtual Status SyncWrites() { return Status::Ok(); }

  // Calls `visit` for each of the user's events, oldest first (ties by
  // eventId). Stops early, returning OK, if `visit` returns false.
  virtual Status ScanUser(std::string_view user_id,
                          const std::function<bool(const EventMetadata&)>& visit) = 0;

  // Calls `visit` for each event the filter covers, in no promised order
  // (for reconciliation and operators, not for the request path).
  virtual Status Scan(const ScanFilter& filter,
                      const std::function<bool(const EventMetadata&)>& visit) = 0;

  // The event recorded under (user, Idempotency-Key), NotFound if none.
  virtual Result<EventMetadata> FindByIdempotencyKey(std::string_view user_id,
                                                     std::string_view key) = 0;

  // The user's event with this eventId, NotFound if none (or if the id is
  // another user's). One lookup by eventId, whatever the event's timestamp:
  // how a reader finds an event whose occurredAt moved it away from the
  // time in its id.
  virtual Result<EventMetadata> FindEvent(std::string_view user_id, std::string_view event_id) = 0;

  // API keys. Few rows (one per client application), so they are listed
  // whole; every instance sharing the store re-reads the list often, which
  // is how a revocation reaches them all.
  //
  // Stores a new key; AlreadyExists when its id is taken.
  virtual Status InsertApiKey(const ApiKeyRow& row) = 0;
  // Every key, revoked ones too, oldest first.
  virtual Result<std::vector<ApiKeyRow>> ListApiKeys() = 0;
  // Marks the key revoked at `revoked_at` (a second revocation keeps the
  // first time); NotFound when no key has that id.
  virtual Status RevokeApiKey(std::string_view id, std::string_view revoked_at) = 0;
  // Moves last_used_at forward to `used_at` (never back); a missing id is
  // not an error.
  virtual Status RecordApiKeyUse(std::string_view id, std::string_view used_at) = 0;

  // Privacy lifecycle (privacy/erasure_service.h, privacy/retention.h).
  //
  // Deletes up to `limit` of the user's events that `erasure` covers and
  // returns how many it deleted; fewer than `limit` means none are left.
  // Bounded so that no statement holds locks for long.
  virtual Result<int64_t> EraseUserEvents(const UserErasure& erasure, int limit) = 0;
  // Deletes up to `limit` events that `rule` covers, skipping users under a
  // legal hold; returns how many (fewer than `limit`: none are left).
  virtual Result<int64_t> DeleteExpired(const ExpiryRule& rule, int limit) = 0;

  // Places (or replaces) a hold.
  virtual Status PutLegalHold(const LegalHoldRow& row) = 0;
  // NotFound when the user has no hold.
  virtual Status DeleteLegalHold(std::string_view user_id) = 0;
  // Every hold, by user id.
  virtual Result<std::vector<LegalHoldRow>> ListLegalHolds() = 0;

  // AlreadyExists when the id is taken.
  virtual Status InsertErasureJob(const ErasureJobRow& row) = 0;
  // Replaces the stored job of row.id with `row`; NotFound if none.
  virtual Status UpdateErasureJob(const ErasureJobRow& row) = 0;
  // NotFound when no job has the id.
  virtual Result<ErasureJobRow> FindErasureJob(std::string_view id) = 0;
  // The jobs created at or after `created_since` (ISO 8601 UTC with
  // milliseconds, as stored; the bound is inclusive), plus every pending or
  // running job whatever its age; every job when `created_since` is empty.
  // Oldest first by created_at, ties by id. There is a job per erasure
  // request, and every instance re-reads them every few seconds, so callers
  // that only need recent and unfinished jobs pass a bound; both halves are
  // served by indexes (erasure_jobs_by_created, erasure_jobs_unfinished).
  //
  // The default argument is on this declaration only (overrides take the
  // parameter without one), so call through MetadataStore.
  virtual Result<std::vector<ErasureJobRow>> ListErasureJobs(std::string_view created_since = {}) = 0;

  // Creates or upgrades the schema. Idempotent, and safe to run from several
  // processes at once.
  virtual Status Migrate() = 0;
  // OK when the schema is what this build expects; FailedPrecondition saying
  // to run `eventlogger migrate` when it is behind.
  virtual Status CheckSchema() = 0;

  // A cheap round trip proving the store answers (health checks, breaker probes).
  virtual Status Ping() = 0;

  // A short name for logs and metrics, e.g. "sqlite".
  virtual std::string_view Kind() const = 0;
};

}  // namespace eventlogger
