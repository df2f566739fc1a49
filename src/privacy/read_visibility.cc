#include "privacy/read_visibility.h"

#include <algorithm>

#include "core/event_time.h"
#include "core/timestamp.h"
#include "privacy/retention_policy.h"

namespace eventlogger {

bool ReadVisibility::Hides(const DocumentView& document) const {
  if (erased_through_ms && ReceivedMillisOf(document.event_id, 0) <= *erased_through_ms) return true;
  for (const ExpiryRule& rule : expiry) {
    const bool covers =
        rule.event_types.empty()
            ? std::find(rule.except_types.begin(), rule.except_types.end(), document.event_type) ==
                  rule.except_types.end()
            : std::find(rule.event_types.begin(), rule.event_types.end(), document.event_type) !=
                  rule.event_types.end();
    // Timestamps are stored in one fixed-width format, so text order is
    // time order: no parsing per document.
    if (covers) return document.timestamp < rule.before;
  }
  return false;
}

int64_t ReadVisibility::VisibleUntilMs(const DocumentView& document) const {
  if (expiry.empty() || retention == nullptr) return kNever;
  const std::optional<int64_t> timestamp_ms = ParseTimestamp(document.timestamp);
  if (!timestamp_ms) return kNever;
  return retention->ExpiryMillisOf(document.event_type, *timestamp_ms).value_or(kNever);
}

}  // namespace eventlogger
