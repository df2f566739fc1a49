#include "durability/retry_policy.h"

#include <algorithm>

namespace eventlogger {

std::chrono::milliseconds BackoffCeiling(const RetryPolicy& policy, int attempt) {
  // Double until the cap, rather than shift first: a large base must not overflow.
  int64_t ceiling = std::max<int64_t>(policy.base.count(), 0);
  for (int i = 1; i < attempt && ceiling < policy.cap.count(); ++i) ceiling *= 2;
  return std::chrono::milliseconds(std::min<int64_t>(ceiling, policy.cap.count()));
}

std::optional<int64_t> NextAttemptMillis(const RetryPolicy& policy, int attempts_made,
                                         int64_t now_ms, int64_t created_ms, double random01) {
  if (attempts_made >= policy.max_attempts) return std::nullopt;
  if (now_ms - created_ms >= policy.max_age.count()) return std::nullopt;
  const auto ceiling = BackoffCeiling(policy, attempts_made + 1).count();
  return now_ms + static_cast<int64_t>(random01 * static_cast<double>(ceiling));
}

}  // namespace eventlogger
