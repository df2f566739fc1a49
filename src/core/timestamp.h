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

}  // namespace eventlogger
