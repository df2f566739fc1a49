// Parsing and validation of the POST /events body, and of each event of a
// POST /events/batch body (which may also carry its own idempotencyKey).
//
// The body must be one JSON object with exactly the members userId,
// eventType and jsonDetails, optionally occurredAt and sentAt (and
// idempotencyKey where allowed). jsonDetails is kept as the client's own JSON
// text (insignificant whitespace removed), never re-serialised, so numbers
// such as 12345678901234567890 or 0.1000 survive byte for byte.
//
// Parsing is iterative (no recursion), so hostile nesting cannot exhaust the
// stack; it stops as soon as nesting passes the limit.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/event_time.h"

namespace eventlogger {

struct FieldError {
  std::string field;    // "userId", "jsonDetails", or "" for the body as a whole
  std::string message;  // what is wrong, as a sentence fragment
};

// Why a request was rejected: a summary plus one entry per offending field.
struct ValidationError {
  std::string detail;
  std::vector<FieldError> errors;
};

struct EventRequest {
  std::string user_id;
  std::string event_type;
  std::string details_json;  // minified JSON object text
  // A batch item's idempotencyKey, as sent (its rules are the
  // Idempotency-Key header's, checked by the caller).
  std::optional<std::string> idempotency_key;
  // occurredAt (when the event happened, by the client's clock) and, for a
  // single POST, sentAt (when the client sent it, by the same clock).
  ClientTimes times;
};

// How an occurredAt or sentAt must look, for error messages.
inline constexpr std::string_view kInstantRule =
    "must be an ISO 8601 instant with a Z or offset, e.g. 2025-06-29T14:32:45.123Z";

struct EventRequestOptions {
  bool allow_idempotency_key = false;  // a batch item may carry its own key
  bool allow_sent_at = true;           // a batch's sentAt is the envelope's, not an item's
  // What the sentences of errors call the parsed text.
  std::string_view subject = "The request body";
};

struct EventRequestParse {
  std::optional<EventRequest> request;  // set on success
  ValidationError error;                // filled on failure
};

EventRequestParse ParseEventRequest(std::string_view body, const EventRequestOptions& options = {});

// RapidJSON 1.1 fails numbers beyond double range (1e400) even when told to
// keep numbers as strings. This copy of `json` replaces every well-formed
// number outside strings by an in-range number of the same length, so a
// parse sees the same structure at the same offsets.
std::string DefuseJsonNumbers(std::string_view json);

// Removes whitespace outside strings. REQUIRES: `json` is valid JSON.
std::string MinifyJson(std::string_view json);

}  // namespace eventlogger
