// Timestamps as the API shows them: UTC ISO 8601 with milliseconds and 'Z',
// e.g. "2025-06-29T14:32:45.123Z". Fixed width (24 bytes) for years 0000-9999,
// so the text sorts like the instant it names; storage keys rely on that.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace eventlogger {

inline constexpr size_t kTimestampLength = 24;

// Formats milliseconds since the Unix epoch. REQUIRES: 0 <= millis and the
// year is below 10000.
std::string FormatTimestamp(int64_t unix_millis);

// Parses exactly the format FormatTimestamp writes; nullopt otherwise.
std::optional<int64_t> ParseTimestamp(std::string_view text);

// An instant a client names (RFC 3339 date-time): "2025-06-29T14:32:45Z",
// "2025-06-29T16:32:45.123456+02:00"; 'T' and 'Z' in either case, any
// number of fractional digits (1-9), a 'Z' or a +hh:mm / -hh:mm offset.
struct Instant {
  int64_t unix_millis = 0;  // the instant, rounded down to the millisecond
  bool sub_millisecond = false;  // nonzero digits below the millisecond were dropped
};
// nullopt on anything else, or an instant outside the years 0000-9999 UTC.
std::optional<Instant> ParseInstant(std::string_view text);

}  // namespace eventlogger
