#include "durability/idempotency.h"

#include <openssl/evp.h>

#include "core/hex.h"

namespace eventlogger {

bool IsValidIdempotencyKey(std::string_view key) {
  if (key.empty() || key.size() > kMaxIdempotencyKeyLength) return false;
  for (char c : key) {
    if (c < 0x20 || c > 0x7E) return false;
  }
  return true;
}

std::string RequestHash(std::string_view user_id, std::string_view event_type,
                        std::string_view details_json, std::optional<int64_t> occurred_at_millis) {
  // NUL separators: none of the parts can contain one, so the encoding is unambiguous.
  std::string input;
  input.reserve(user_id.size() + event_type.size() + details_json.size() + 24);
  input.append(user_id).push_back('\0');
  input.append(event_type).push_back('\0');
  input.append(details_json);
  // Only when given, so the hashes of requests without one stay what earlier
  // versions recorded. sentAt is left out: a client's retry sends the same
  // event with a later sentAt.
  if (occurred_at_millis) {
    input.push_back('\0');
    input.append("occurredAt=").append(std::to_string(*occurred_at_millis));
  }
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  EVP_Digest(input.data(), input.size(), digest, &length, EVP_sha256(), nullptr);
  return LowerHex(digest, length);
}

bool IdempotencyIndex::TryBegin(std::string_view scope, std::string_view key) {
  std::lock_guard lock(mutex_);
  return in_flight_.try_emplace(std::make_pair(std::string(scope), std::string(key))).second;
}

void IdempotencyIndex::RecordAnswer(std::string_view scope, std::string_view key, IdempotentRecord record) {
  std::lock_guard lock(mutex_);
  const auto it = in_flight_.find(std::make_pair(std::string(scope), std::string(key)));
  if (it != in_flight_.end()) it->second = std::move(record);
}

std::optional<IdempotentRecord> IdempotencyIndex::Answered(std::string_view scope, std::string_view key) {
  std::lock_guard lock(mutex_);
  const auto it = in_flight_.find(std::make_pair(std::string(scope), std::string(key)));
  return it == in_flight_.end() ? std::nullopt : it->second;
}

void IdempotencyIndex::End(std::string_view scope, std::string_view key) {
  std::lock_guard lock(mutex_);
  in_flight_.erase(std::make_pair(std::string(scope), std::string(key)));
}

Result<std::optional<IdempotentRecord>> IdempotencyIndex::Find(std::string_view scope,
                                                               std::string_view key) {
  // The outbox first: an event leaves it only after both stores have it.
  Result<std::optional<OutboxEntry>> queued = outbox_.FindByIdempotencyKey(scope, key);
  if (!queued.ok()) return queued.status();
  if (queued->has_value()) {
    const OutboxEntry& entry = **queued;
    IdempotentRecord record{entry.event.event_id, entry.event.request_hash, true, entry.metadata_done,
                            entry.document_done, entry.event};
    // The outbox learns the request path's outcome only when the retry
    // worker next applies it, after the response has gone out; a retry in
    // between would otherwise be told "queued, neither store" about an event
    // already in both. The stores themselves know: ask them what the outbox
    // does not yet say (a failed lookup just leaves the flag as it is).
    if (!record.metadata_done) {
      Result<EventMetadata> stored = metadata_.FindByIdempotencyKey(scope, key);
      record.metadata_done = stored.ok() && stored->event_id == record.event_id;
    }
    if (!record.document_done) {
      record.document_done = documents_
                                 .FindEventAt(entry.event.user_id,
                                              DocumentKey{entry.event.timestamp, record.event_id},
                                              [](const DocumentView&) {})
                                 .ok();
    }
    return std::optional<IdempotentRecord>(std::move(record));
  }
  Result<EventMetadata> stored = metadata_.FindByIdempotencyKey(scope, key);
  if (!stored.ok()) {
    if (stored.status().code() == StatusCode::kNotFound) return std::optional<IdempotentRecord>();
    return stored.status();
  }
  return std::optional<IdempotentRecord>(
      IdempotentRecord{stored->event_id, stored->request_hash, false, true, true});
}

}  // namespace eventlogger
