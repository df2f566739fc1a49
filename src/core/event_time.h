// An event's times. `timestamp` is when the event happened, as well as the
// server can tell: the client's occurredAt corrected for the skew of the
// client's clock (measured by its sentAt against the server's receipt), the
// occurredAt alone when the client sent no sentAt, else the time the server
// received it. `receivedAt` is the server's own time of receipt, carried by
// the eventId (a UUIDv7 from the server's clock), so no store keeps it twice.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "core/timestamp.h"

namespace eventlogger {

// Bounds on a client's times (flags --max-future-skew-ms and
// --max-event-age-days). An event whose corrected timestamp lies further
// ahead of the server's receipt, or further back, is refused.
struct ClientTimeOptions {
  int64_t max_future_skew_ms = int64_t{5} * 60 * 1000;
  int64_t max_event_age_days = 30;

  // Empty when valid, else what is wrong.
  std::string Validate() const;
  int64_t max_event_age_ms() const { return max_event_age_days * 24 * 60 * 60 * 1000; }
};

// The client's times for one event, as parsed from its request.
struct ClientTimes {
  std::optional<Instant> occurred_at;
  std::optional<Instant> sent_at;
};

struct ResolvedEventTime {
  int64_t unix_millis = 0;  // the event's timestamp
  std::string occurred_at;  // the client's occurredAt, normalised; empty if none
};

// The timestamp of an event received at `received_millis` (the server's
// clock), or, when it falls outside `options`' bounds, nullopt and a
// sentence fragment saying why in *error.
std::optional<ResolvedEventTime> ResolveEventTime(int64_t received_millis, const ClientTimes& times,
                                                  const ClientTimeOptions& options, std::string* error);

// When the server received the event with this id: the millisecond of a
// UUIDv7 eventId, formatted as a timestamp; `fallback` for an id that is not
// a UUIDv7 (none of ours, but a store may hold anything).
std::string ReceivedAtOf(std::string_view event_id, std::string_view fallback);
// The same as Unix milliseconds.
int64_t ReceivedMillisOf(std::string_view event_id, int64_t fallback);

}  // namespace eventlogger
