// How the AWS clients (DynamoDB, SQS) retry a call: how many attempts, and
// the backoff between them (exponential, with full jitter, as AWS advises so
// that many clients throttled together do not retry in lockstep).
#pragma once

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>

namespace eventlogger::aws {

struct RetryOptions {
  // Total attempts per call (first try included). 1 disables retries.
  int max_attempts = 6;
  // Full jitter: before retry n (1-based) sleep uniform[0, min(cap, base*2^(n-1))).
  std::chrono::milliseconds base_delay{25};
  std::chrono::milliseconds max_delay{1000};
  // BatchWriteItem: rounds for resending UnprocessedItems (first send
  // included), each after a backoff as above. Throttling then ends the call
  // with Unavailable.
  int max_batch_rounds = 8;
};

// The sleep before retry `retry` (1-based), given a uniform draw in [0, 1).
inline std::chrono::milliseconds FullJitterBackoff(const RetryOptions& options, int retry, double uniform) {
  const double base = static_cast<double>(options.base_delay.count());
  const double cap = static_cast<double>(options.max_delay.count());
  const double ceiling = std::min(cap, base * std::ldexp(1.0, std::min(retry - 1, 40)));
  const double r = std::clamp(uniform, 0.0, 1.0);
  return std::chrono::milliseconds(static_cast<int64_t>(std::floor(r * ceiling)));
}

}  // namespace eventlogger::aws
