// The parameters of GET /events/{userId}: parsed, checked and put in one
// canonical form, which decides the store range, the cursor binding and the
// next page's link. Pure functions, no I/O.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/event_request.h"  // ValidationError
#include "storage/document_store.h"

namespace eventlogger::http {

inline constexpr size_t kDefaultPageLimit = 100;
inline constexpr size_t kMaxPageLimit = 1000;
inline constexpr size_t kMaxEventTypeFilters = 25;

struct EventListQuery {
  size_t limit = kDefaultPageLimit;
  ReadOrder order = ReadOrder::kOldestFirst;
  std::vector<std::string> event_types;  // sorted, distinct; empty: every type
  // Bounds in whole milliseconds, as events are stamped: an event at t is in
  // the range when from <= t < to. A bound finer than a millisecond is
  // rounded up, which keeps both meanings exact (t >= 1.5 ms <=> t >= 2 ms;
  // t < 1.5 ms <=> t < 2 ms).
  std::optional<int64_t> from_millis;
  std::optional<int64_t> to_millis;
  std::string cursor;  // as sent; empty: the first page

  // The query every client sends first: no parameters (or only defaults).
  // Its first page is the one the read cache keeps.
  bool IsDefault() const;

  // What a cursor is bound to: the user, the order and the filters (not
  // the limit, which a client may change from page to page).
  std::string CursorBinding(std::string_view user_id) const;

  // The store range for these filters, starting at the range's start.
  UserRangeQuery Range() const;

  // The path and query of the page after this one, resuming at `cursor`:
  // "/events/{userId}?limit=…&order=…&eventType=…&from=…&to=…&cursor=…",
  // with only the parameters that differ from the defaults.
  std::string NextPageTarget(std::string_view user_id, std::string_view cursor) const;
};

// Parses a query string ("limit=10&order=desc", percent-encoded). Every
// problem is reported at once, each under its parameter's name: unknown
// names, repeats (only eventType may repeat), empty values, values out of
// range. The cursor is only checked to be present here; whether it is
// genuine needs the secret (PageCursors).
std::optional<ValidationError> ParseEventListQuery(std::string_view query, EventListQuery* out);

}  // namespace eventlogger::http
