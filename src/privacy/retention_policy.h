// RetentionPolicy: how long events of each type are kept (flags
// --retention eventType=days,… and --retention-default-days). Without any
// rule every event is kept forever, as before.
//
// An event expires `days` after its timestamp (when it happened, the order
// reads follow). Expired events never appear in reads, even before a sweep
// or a store's own expiry (DynamoDB TTL) has removed them; a user under a
// legal hold keeps every event.
//
// Thread safety: immutable after Parse; safe to share between threads.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"
#include "storage/metadata_store.h"  // ExpiryRule

namespace eventlogger {

// CloudTrail Lake's bounds, which auditors know: at least a week, at most
// ten years.
inline constexpr int64_t kMinRetentionDays = 7;
inline constexpr int64_t kMaxRetentionDays = 3653;

class RetentionPolicy {
 public:
  // Keeps everything.
  RetentionPolicy() = default;

  // `rules`: "type=days" entries separated by commas (repeatable flags are
  // joined the same way); `default_days` 0 means keep forever. Days within
  // [kMinRetentionDays, kMaxRetentionDays]; types valid eventTypes, each
  // named once. InvalidArgument naming the bad entry otherwise.
  static Result<RetentionPolicy> Parse(std::string_view rules, int64_t default_days);

  // True when some events can expire.
  bool enabled() const { return default_days_ > 0 || !days_by_type_.empty(); }

  // How many days events of this type are kept; nullopt: forever.
  std::optional<int64_t> DaysFor(std::string_view event_type) const;

  // When an event of this type and timestamp expires (Unix ms); nullopt:
  // never.
  std::optional<int64_t> ExpiryMillisOf(std::string_view event_type, int64_t timestamp_ms) const;

  // True when the event has expired at `now_ms`.
  bool IsExpired(std::string_view event_type, int64_t timestamp_ms, int64_t now_ms) const {
    std::optional<int64_t> expiry = ExpiryMillisOf(event_type, timestamp_ms);
    return expiry && *expiry <= now_ms;
  }

  // The sweeps that remove every event expired at `now_ms`: one per type
  // with a rule of its own, then one for the default (every other type).
  std::vector<ExpiryRule> RulesAt(int64_t now_ms) const;

  // "login=30,purchase=3653; default 365" for logs and --help.
  std::string Describe() const;

 private:
  std::map<std::string, int64_t, std::less<>> days_by_type_;
  int64_t default_days_ = 0;  // 0: forever
};

}  // namespace eventlogger
