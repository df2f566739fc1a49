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
