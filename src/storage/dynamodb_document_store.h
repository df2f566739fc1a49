// DynamoDB implementation of DocumentStore: the deployment twin of the
// embedded RocksDB store, one item per event.
//
// URL: dynamodb://TableName?region=eu-west-1[&endpoint=http://127.0.0.1:8000]
//   region    optional; else AWS_REGION, AWS_DEFAULT_REGION, ~/.aws/config
//   endpoint  optional; default https://dynamodb.<region>.amazonaws.com
// Credentials come from the environment or the shared files (aws/credentials.h).
//
// Table: partition key UserId (S), sort key SortKey (S); on-demand capacity.
// Item (every attribute a string, S, but ExpiresAt):
//   UserId       the userId                           (partition key)
//   SortKey      "<timestamp>#<eventId>", 61 bytes    (sort key)
//   EventId      the UUIDv7, 36 bytes
//   EventType    the eventType
//   Timestamp    ISO 8601 UTC with milliseconds, 24 bytes
//   JsonPayload  the jsonDetails JSON text, verbatim
//   OccurredAt   the client's occurredAt, 24 bytes    (only when it gave one)
//   ExpiresAt    N: when the event expires, Unix seconds, rounded up
//                (only with a retention policy that expires its type, and
//                not for a user under a legal hold): the table's TTL
//                attribute, so DynamoDB deletes expired events itself.
// The fixed-width timestamp makes SortKey order (timestamp, eventId) order,
// so a user's history is one ascending Query, and a UUIDv7 event id carries
// its timestamp, so FindEvent is one GetItem on the exact key.
//
// Writes: BatchWriteItem in chunks of 25 (DynamoDB's limit), sent one after
// another; a batch succeeds only if every chunk does. Rewriting an event puts
// the identical item under the same key, so replays are idempotent. Reads
// are strongly consistent by default, so a 201 is visible to the next GET.
//
// Size: DynamoDB refuses items over 400 KB, counted as the UTF-8 bytes of
// attribute names plus values. An event's item is at most 220 fixed bytes
// (names, SortKey, EventId, Timestamp, OccurredAt, ExpiresAt at its widest)
// plus its "document bytes": userId + eventType + jsonDetails.
// MaxDocumentBytes() is 400 KB - 220, so an event fits whenever its
// document bytes are at most that, exactly so for one with both optional
// attributes; DynamoDbItemBytes() is the whole count. As a backstop,
// WriteBatch refuses a batch holding an oversized item with InvalidArgument
// before writing any of it.
//
// Thread safety: as DocumentStore. The underlying client is shared by the
// writer thread and the read pool; it pools connections per thread-safe
// checkout.
#pragma once

#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "aws/dynamodb_client.h"
#include "core/event.h"
#include "core/status.h"
#include "privacy/retention_policy.h"
#include "storage/document_store.h"

namespace eventlogger {

struct DynamoDbDocumentOptions {
  std::string table;     // 3-255 of [A-Za-z0-9_.-]
  std::string region;    // empty: resolved from the environment / config
  std::string endpoint;  // empty: https://dynamodb.<region>.amazonaws.com
  // Empty access key: resolved from the environment / shared files.
  aws::Credentials credentials;
  // Strongly consistent Query/GetItem/Scan (twice the read cost of eventual).
  bool consistent_reads = true;
  // Items per Query/Scan page; 0 lets DynamoDB fill 1 MB pages. Tests set it
  // small to exercise paging.
  int page_limit = 0;
  // Migrate() waits this long for a new table to become ACTIVE.
  std::chrono::milliseconds migrate_wait{std::chrono::seconds(120)};
  std::chrono::milliseconds migrate_poll{500};
  aws::RetryOptions retry;
  aws::HttpClientOptions http;
  // Shared with the process's other AWS clients when set (then `http` is unused).
  std::shared_ptr<aws::HttpClient> shared_http;
  // Test hook, passed to the client (backoff sleeps) and used for Migrate's
  // polling; default: std::this_thread::sleep_for.
  std::function<void(std::chrono::milliseconds)> sleep;
  // When set and enabled, writes give expiring events an ExpiresAt and
  // Migrate() turns on the table's TTL on it. Null: nothing expires.
  std::shared_ptr<const RetentionPolicy> retention;
  // True for a user under a legal hold, whose events get no ExpiresAt. Asked
  // once per user per written batch, on the writer's thread: it should
  // answer from memory. Empty: nobody is held.
  std::function<bool(std::string_view user_id)> is_held;
};

// Parses the URL above into options (table, region, endpoint); nothing is
// resolved or contacted. InvalidArgument for another scheme, a bad table
// name, an unknown parameter or a malformed endpoint.
Result<DynamoDbDocumentOptions> ParseDynamoDbDocumentUrl(std::string_view url);

// Resolves region and credentials when not given, then builds the store.
// Contacts nothing: call CheckSchema() or Migrate() to find out whether the
// table is there.
Result<std::unique_ptr<DocumentStore>> OpenDynamoDbDocumentStore(const DynamoDbDocumentOptions& options);

// Attribute names, exposed for tests and tools reading the table directly.
inline constexpr std::string_view kDynamoDbUserIdAttribute = "UserId";
inline constexpr std::string_view kDynamoDbSortKeyAttribute = "SortKey";
inline constexpr std::string_view kDynamoDbEventIdAttribute = "EventId";
inline constexpr std::string_view kDynamoDbEventTypeAttribute = "EventType";
inline constexpr std::string_view kDynamoDbTimestampAttribute = "Timestamp";
inline constexpr std::string_view kDynamoDbPayloadAttribute = "JsonPayload";
// Only on events whose client gave occurredAt.
inline constexpr std::string_view kDynamoDbOccurredAtAttribute = "OccurredAt";
// Only on events that expire (see the item format above); a number.
inline constexpr std::string_view kDynamoDbExpiresAtAttribute = "ExpiresAt";

// "<timestamp>#<eventId>".
std::string DynamoDbSortKey(std::string_view timestamp, std::string_view event_id);

// ExpiresAt for an event expiring at `expiry_millis`: Unix seconds, the
// unit of DynamoDB's TTL, rounded up so that TTL never deletes an event
// before it has expired.
int64_t DynamoDbExpiresAtSeconds(int64_t expiry_millis);

// The item an event is stored as; with ExpiresAt when given.
aws::Item DynamoDbItemForEvent(const Event& event, std::optional<int64_t> expires_at_seconds = std::nullopt);

// The event's item size as DynamoDB counts it (exact: the strings by their
// bytes, ExpiresAt by DynamoDB's rule for numbers).
size_t DynamoDbItemBytes(const Event& event, std::optional<int64_t> expires_at_seconds = std::nullopt);

// Bytes of every item that do not depend on the event's userId, eventType
// or jsonDetails: the eight attribute names plus SortKey, EventId,
// Timestamp and OccurredAt values, and ExpiresAt's at its widest (220).
size_t DynamoDbFixedItemBytes();

// The largest userId + eventType + jsonDetails (in bytes) an item can hold:
// 400 KB - DynamoDbFixedItemBytes() = 409380.
size_t DynamoDbMaxDocumentBytes();

}  // namespace eventlogger
