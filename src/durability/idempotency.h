// Idempotency-Key support for POST /events: a client retrying a request with
// the same key gets the original event back instead of a second event, for
// as long as the event exists (the key is stored with the event: in the
// outbox while it is pending, in the metadata store for good).
//
// Keys are scoped to the caller: the userId (API keys will take over when
// authentication arrives). A key in use by a request still being processed
// is refused (409) rather than raced.
//
// Thread safety: all methods may be called from any thread. Find blocks on
// storage; call it off the io threads.
#pragma once

#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <utility>

#include "core/status.h"
#include "durability/outbox.h"
#include "storage/document_store.h"
#include "storage/metadata_store.h"

namespace eventlogger {

inline constexpr size_t kMaxIdempotencyKeyLength = 255;

// 1-255 printable ASCII characters (0x20-0x7E).
bool IsValidIdempotencyKey(std::string_view key);

// SHA-256 (hex) of the parts of a request that define the event, so that a
// retry with the same key but a different body is told apart from a replay.
std::string RequestHash(std::string_view user_id, std::string_view event_type,
                        std::string_view details_json, std::optional<int64_t> occurred_at_millis = std::nullopt);

// The event already recorded under a key.
struct IdempotentRecord {
  std::string event_id;
  std::string request_hash;
  bool queued = false;  // still pending in the outbox
  bool metadata_done = true;
  bool document_done = true;
  // The whole event, for a record found pending in the outbox: a replay
  // must queue it remotely (RetryQueue) before answering "queued" where the
  // outbox does not outlive the process.
  std::optional<Event> pending_event;
};

class IdempotencyIndex {
 public:
  IdempotencyIndex(Outbox& outbox, MetadataStore& metadata, DocumentStore& documents)
      : outbox_(outbox), metadata_(metadata), documents_(documents) {}

  // Claims the key for one in-flight request; false if another holds it.
  bool TryBegin(std::string_view scope, std::string_view key);
  void End(std::string_view scope, std::string_view key);

  // A claimed key whose request has been answered (202: queued) while its
  // event is not yet findable by Find (the outbox learns of it a moment
  // later). A retry in that window gets this answer instead of a 409. Does
  // nothing once the claim has ended.
  void RecordAnswer(std::string_view scope, std::string_view key, IdempotentRecord record);
  // The answer recorded for a claimed key, if any.
  std::optional<IdempotentRecord> Answered(std::string_view scope, std::string_view key);

  // The event recorded under the key, if any.
  Result<std::optional<IdempotentRecord>> Find(std::string_view scope, std::string_view key);

 private:
  Outbox& outbox_;
  MetadataStore& metadata_;
  DocumentStore& documents_;
  std::mutex mutex_;
  // Claimed keys, with the answer once there is one.
  std::map<std::pair<std::string, std::string>, std::optional<IdempotentRecord>, std::less<>> in_flight_;
};

}  // namespace eventlogger
