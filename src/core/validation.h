// Field rules shared by every entry point (HTTP body, path parameters, and
// later batch ingest and the Lambda adapter). Each returns an empty string
// when the value is valid, or a sentence saying what is wrong.
#pragma once

#include <string>
#include <string_view>

namespace eventlogger {

inline constexpr size_t kMaxUserIdBytes = 128;
inline constexpr size_t kMaxEventTypeLength = 64;
inline constexpr int kMaxDetailsDepth = 32;
inline constexpr size_t kMaxRequestIdLength = 128;

// True when `text` is well-formed UTF-8 (no overlongs, surrogates or > U+10FFFF).
bool IsValidUtf8(std::string_view text);
// The offset of the first byte that does not start a valid UTF-8 sequence,
// or npos when all of `text` is valid.
size_t FindInvalidUtf8(std::string_view text);

std::string CheckUserId(std::string_view user_id);
std::string CheckEventType(std::string_view event_type);
// X-Request-Id values we echo: 1-128 of [A-Za-z0-9._:-].
bool IsAcceptableRequestId(std::string_view request_id);

}  // namespace eventlogger
