// Event: one recorded user event, as it travels from the HTTP layer to the
// stores. Immutable once built; shared between the store writers by
// shared_ptr<const Event> so the fan-out copies nothing.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>

namespace eventlogger {

struct Event {
  std::string event_id;      // canonical UUIDv7 text, 36 bytes
  std::string user_id;       // validated: 1-128 bytes UTF-8, no control characters
  std::string event_type;    // validated: 1-64 of [A-Za-z0-9_.:-]
  // When the event happened, ISO 8601 UTC with milliseconds (24 bytes): the
  // client's occurredAt corrected for its clock's skew, else the time the
  // server received it. The stores order a user's events by it.
  std::string timestamp;
  int64_t unix_millis = 0;   // the same instant as `timestamp`
  // The client's occurredAt as it sent it (normalised to the timestamp
  // format), or empty when it sent none. When the server received the event
  // is the time in its eventId (a UUIDv7 from the server's clock).
  std::string occurred_at;
  std::string details_json;  // jsonDetails: the client's JSON text, whitespace removed
  // Client-chosen Idempotency-Key (empty if none), scoped to the user, and a
  // hash of the request it came with, so a retry with a different body is
  // told apart from a replay.
  std::string idempotency_key;
  std::string request_hash;
};

// A group of events handed to a store in one write (group commit).
using EventBatch = std::span<const Event* const>;

// The eventIds of a batch for a log line: the first `named` of them and how
// many more (a batch can hold a thousand). Never payloads.
inline std::string EventIdList(EventBatch batch, size_t named = 20) {
  std::string ids;
  for (size_t i = 0; i < batch.size() && i < named; ++i) {
    if (i > 0) ids += ',';
    ids += batch[i]->event_id;
  }
  if (batch.size() > named) ids += ",… (" + std::to_string(batch.size() - named) + " more)";
  return ids;
}

}  // namespace eventlogger
