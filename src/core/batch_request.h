// Parsing of the POST /events/batch envelope:
//
//   {"events": [ {userId, eventType, jsonDetails, idempotencyKey?}, … ]}
//
// The envelope is checked as a whole (valid JSON, an object whose only
// member is a non-empty "events" array, no more than max_events items,
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
  std::vector<EventRequestParse> items;
};

BatchRequestParse ParseBatchRequest(std::string_view body, size_t max_events);

}  // namespace eventlogger
