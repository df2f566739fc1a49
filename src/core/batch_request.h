// Parsing of the POST /events/batch envelope:
//
//   {"events": [ {userId, eventType, jsonDetails, idempotencyKey?, occurredAt?}, … ],
//    "sentAt"?}
//
// The envelope is checked as a whole (valid JSON, an object whose members
// are a non-empty "events" array and optionally a "sentAt" instant; no more
// than max_events items,
// nesting bounded); each item is then parsed on its own by
// ParseEventRequest, so one bad item fails only itself.
#pragma once

#include <cstddef>
#include <string_view>
#include <vector>

#include "core/event_request.h"

namespace eventlogger {

struct BatchRequestParse {
  // Set when the envelope itself is wrong: the whole request is refused.
  std::optional<ValidationError> envelope_error;
  bool too_many_events = false;  // with envelope_error: more than max_events items
  // One per item, in request order (when the envelope is valid).
  // Each parsed item's times.sent_at is the envelope's sentAt.
  std::vector<EventRequestParse> items;
  std::optional<Instant> sent_at;  // the envelope's, when given
};

BatchRequestParse ParseBatchRequest(std::string_view body, size_t max_events);

}  // namespace eventlogger
