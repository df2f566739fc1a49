// Events for tests, made the way the service makes them: the id is a UUIDv7
// whose embedded millisecond is the event's timestamp (the stores' FindEvent
// and the key layouts depend on that).
#pragma once

#include <gtest/gtest.h>

#include <cstdint>
#include <string>
#include <utility>

#include "core/clock.h"
#include "core/event.h"
#include "core/timestamp.h"
#include "core/uuid.h"

namespace eventlogger::testing_support {

// An event with the given id; the rest of its identity follows from the id.
inline Event EventWithId(const Uuid7& id, std::string user_id, std::string event_type,
                         std::string details_json) {
  Event event;
  event.event_id = FormatUuid(id.bytes);
  event.user_id = std::move(user_id);
  event.event_type = std::move(event_type);
  event.unix_millis = id.unix_millis;
  event.timestamp = FormatTimestamp(id.unix_millis);
  event.details_json = std::move(details_json);
  return event;
}

// One event at `unix_millis`, from a generator of its own: events may be
// made in any time order, including "in the past".
inline Event EventAt(int64_t unix_millis, std::string user_id, std::string event_type = "click",
                     std::string details_json = "{}") {
  ManualClock clock(unix_millis);
  Uuid7Generator ids(clock);
  return EventWithId(ids.Next(), std::move(user_id), std::move(event_type),
                     std::move(details_json));
}

// Events from one generator, so that ids made within one millisecond still
// increase. Calls must come in non-decreasing time order.
class EventFactory {
 public:
  Event Make(std::string user_id, int64_t unix_millis, std::string event_type = "click",
             std::string details_json = "{}") {
    clock_.Set(unix_millis);
    const Uuid7 id = generator_.Next();
    // The generator never goes back in time, so a caller asking for an
    // earlier time than the last would silently get a later one.
    EXPECT_EQ(id.unix_millis, unix_millis) << "EventFactory::Make called out of time order";
    return EventWithId(id, std::move(user_id), std::move(event_type), std::move(details_json));
  }

 private:
  ManualClock clock_{0};
  Uuid7Generator generator_{clock_};
};

}  // namespace eventlogger::testing_support
