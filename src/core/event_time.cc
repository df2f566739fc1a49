#include "core/event_time.h"

#include "core/uuid.h"

namespace eventlogger {
namespace {

constexpr int64_t kMaxTimestampMillis = 253402300799999;  // 9999-12-31T23:59:59.999Z
constexpr int64_t kMaxFutureSkewMs = 7LL * 24 * 60 * 60 * 1000;
constexpr int64_t kMaxEventAgeDays = int64_t{100} * 366;

}  // namespace

std::string ClientTimeOptions::Validate() const {
  if (max_future_skew_ms < 0 || max_future_skew_ms > kMaxFutureSkewMs) {
    return "--max-future-skew-ms must be 0-" + std::to_string(kMaxFutureSkewMs) + " (a week)";
  }
  if (max_event_age_days < 0 || max_event_age_days > kMaxEventAgeDays) {
    return "--max-event-age-days must be 0-" + std::to_string(kMaxEventAgeDays);
  }
  return {};
}

std::optional<ResolvedEventTime> ResolveEventTime(int64_t received_millis, const ClientTimes& times,
                                                  const ClientTimeOptions& options, std::string* error) {
  ResolvedEventTime resolved;
  resolved.unix_millis = received_millis;
  if (!times.occurred_at) return resolved;  // a lone sentAt corrects nothing
  const int64_t occurred = times.occurred_at->unix_millis;
  if (occurred < 0) {
    *error = "lies before 1970, which no stored timestamp can";
    return std::nullopt;
  }
  // Both instants lie within years 0000-9999, so neither sum overflows.
  resolved.unix_millis =
      times.sent_at ? received_millis - (times.sent_at->unix_millis - occurred) : occurred;
  if (resolved.unix_millis > received_millis + options.max_future_skew_ms) {
    *error = "lies " + std::to_string(resolved.unix_millis - received_millis) +
             " ms after the server's receipt" + (times.sent_at ? " once corrected by sentAt" : "") +
             "; at most " + std::to_string(options.max_future_skew_ms) + " ms is accepted";
    return std::nullopt;
  }
  if (received_millis - resolved.unix_millis > options.max_event_age_ms()) {
    *error = std::string("is older than ") + std::to_string(options.max_event_age_days) + " days" +
             (times.sent_at ? " once corrected by sentAt" : "") + ", the oldest event accepted";
    return std::nullopt;
  }
  if (resolved.unix_millis < 0 || resolved.unix_millis > kMaxTimestampMillis) {
    *error = "lies outside the years 1970-9999 once corrected by sentAt";
    return std::nullopt;
  }
  // Keep what the client said, to the millisecond, in the stored format.
  resolved.occurred_at = FormatTimestamp(occurred);
  return resolved;
}

int64_t ReceivedMillisOf(std::string_view event_id, int64_t fallback) {
  const std::optional<UuidBytes> uuid = ParseUuid(event_id);
  if (!uuid || UuidVersion(*uuid) != 7) return fallback;
  const int64_t millis = Uuid7UnixMillis(*uuid);
  return millis > kMaxTimestampMillis ? fallback : millis;
}

std::string ReceivedAtOf(std::string_view event_id, std::string_view fallback) {
  constexpr int64_t kNone = -1;
  const int64_t millis = ReceivedMillisOf(event_id, kNone);
  return millis == kNone ? std::string(fallback) : FormatTimestamp(millis);
}

}  // namespace eventlogger
