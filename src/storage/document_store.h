// DocumentStore: where each event's full document lives (eventId, userId,
// eventType, timestamp and the jsonDetails text). The read side of the
// design ("document-first"): GET /events/{userId} is answered from here.
//
// Documents of one user form one ordered range keyed by (userId, timestamp,
// eventId), like a DynamoDB partition key + sort key, so a user's history is
// one range scan. RocksDB embedded, DynamoDB in deployments.
//
// Thread safety: every method may be called from several threads at once
// (the group-commit writer and the retry worker both write).
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/event.h"
#include "core/status.h"
#include "storage/metadata_store.h"  // ScanFilter

namespace eventlogger {

// One stored document as seen during a scan. The views point into the
// store's buffers and are valid only inside the visit callback.
struct DocumentView {
  std::string_view user_id;
  std::string_view event_id;
  std::string_view event_type;
  std::string_view timestamp;
  std::string_view occurred_at;   // the client's occurredAt; empty when it sent none
  std::string_view details_json;  // the stored JSON text, to be spliced as is
};

// Which end of a user's range a read starts from.
enum class ReadOrder { kOldestFirst, kNewestFirst };

// A document's place in its user's range: (timestamp, eventId), the order
// every read of a user follows. Keys are unique and never change, so a read
// that resumes after one (keyset pagination) neither skips nor repeats a
// document, however many were written meanwhile.
struct DocumentKey {
  std::string timestamp;  // kTimestampLength bytes, as stored
  std::string event_id;
  friend bool operator==(const DocumentKey&, const DocumentKey&) = default;
};

// What part of one user's range a read covers. Every bound narrows the
// range the store walks; none of them is applied after the fact.
struct UserRangeQuery {
  ReadOrder order = ReadOrder::kOldestFirst;
  // Start just past this key (in `order`); nullopt: at the range's start.
  std::optional<DocumentKey> after;
  // Timestamp bounds in the stored format: from inclusive, to exclusive;
  // empty: unbounded.
  std::string from;
  std::string to;
  // Only these event types (sorted, distinct); empty: every type.
  std::vector<std::string> event_types;
  // How many documents the caller means to take: sizes the store's pages
  // (DynamoDB's Limit); 0: no idea, use the store's default.
  size_t expected = 0;
  // Answer from memory only, or stop with kWouldBlock (the visitor may have
  // seen some documents by then: the caller drops them and reads again
  // without it, on a thread that may wait). Only for a store whose
  // ReadsFromMemory() is true.
  bool memory_only = false;
};

class DocumentStore {
 public:
  DocumentStore() = default;
  DocumentStore(const DocumentStore&) = delete;
  DocumentStore& operator=(const DocumentStore&) = delete;
  virtual ~DocumentStore() = default;

  // Durably stores every event of the batch (synced to disk) or reports
  // failure. Idempotent by eventId: rewriting an event changes nothing.
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

  // Calls `visit` for each of the user's documents that `query` covers, in
  // (timestamp, eventId) order, ascending or descending. Stops early,
  // returning OK, when `visit` returns false; the store reads only about as
  // far as that (a page costs the same in a history of any length).
  // True when ReadUserRange honours UserRangeQuery::memory_only: a read
  // whose data is in memory can then be served on an io thread, without a
  // hop to the blocking pool and back.
  virtual bool ReadsFromMemory() const { return false; }

  virtual Status ReadUserRange(std::string_view user_id, const UserRangeQuery& query,
                               const std::function<bool(const DocumentView&)>& visit) = 0;

  // Every document of the user, oldest first.
  Status ScanUser(std::string_view user_id, const std::function<bool(const DocumentView&)>& visit) {
    return ReadUserRange(user_id, UserRangeQuery{}, visit);
  }

  // Finds one document by the timestamp its eventId carries (a UUIDv7's
  // millisecond: the event's timestamp unless the client gave occurredAt);
  // NotFound if the user has no such document.
  virtual Status FindEvent(std::string_view user_id, std::string_view event_id,
                           const std::function<void(const DocumentView&)>& visit) = 0;

  // Finds one document by its full key, for an event whose timestamp is not
  // its eventId's (one with a client occurredAt: the metadata store knows
  // its timestamp). NotFound if the user has no such document.
  virtual Status FindEventAt(std::string_view user_id, const DocumentKey& key,
                             const std::function<void(const DocumentView&)>& visit) = 0;

  // Calls `visit` for each document the filter covers, in no promised order
  // (for reconciliation and operators, not for the request path).
  virtual Status Scan(const ScanFilter& filter,
                      const std::function<bool(const DocumentView&)>& visit) = 0;

  // Deletes up to `limit` of the user's documents that `erasure` covers and
  // returns how many it deleted; fewer than `limit` means none are left.
  // Works in ranges and batches (RocksDB DeleteRange, DynamoDB
  // BatchWriteItem), never one round trip per document; documents received
  // after the cutoff that lie among erased ones are kept.
  virtual Result<int64_t> EraseUserEvents(const UserErasure& erasure, int limit) = 0;

  // Deletes up to `limit` documents that `rule` covers, skipping users for
  // whom `is_held` is true; returns how many (fewer than `limit`: none are
  // left). A sweep for stores without expiry of their own.
  virtual Result<int64_t> DeleteExpired(const ExpiryRule& rule,
                                        const std::function<bool(std::string_view user_id)>& is_held,
                                        int limit) = 0;

  // Removes the store's own expiry (DynamoDB TTL) from every document of
  // the user, so that nothing deletes them behind a legal hold; returns how
  // many documents carried one. 0 for a store without expiry of its own.
  virtual Result<int64_t> ClearExpiry(std::string_view /*user_id*/) { return int64_t{0}; }

  // The largest event the store accepts, measured as the sum of the bytes of
  // userId, eventType and jsonDetails (the store accounts for its own fixed
  // overhead: attribute names, eventId, timestamp, keys). Larger events are
  // refused with 413 before any write.
  virtual size_t MaxDocumentBytes() const = 0;

  // Creates the table (or whatever the store needs). Idempotent, and safe to
  // run from several processes at once.
  virtual Status Migrate() = 0;
  // OK when the store is ready; FailedPrecondition saying to run
  // `eventlogger migrate` otherwise.
  virtual Status CheckSchema() = 0;

  // A cheap round trip proving the store answers.
  virtual Status Ping() = 0;

  // A short name for logs and metrics, e.g. "rocksdb".
  virtual std::string_view Kind() const = 0;
};

}  // namespace eventlogger
