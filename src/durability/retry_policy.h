// When to retry a failed store write, and when to give up.
//
// Exponential backoff with full jitter: the n-th retry waits a uniformly
// random time in [0, min(cap, base * 2^(n-1))], so many instances retrying
// the same recovered store do not stampede it in lockstep. After
// max_attempts, or once the event is older than max_age, it becomes a dead
// letter for an operator to replay.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <random>

namespace eventlogger {

struct RetryPolicy {
  std::chrono::milliseconds base{200};        // first retry waits up to this long
  std::chrono::milliseconds cap{60'000};      // no wait is longer than this
  int max_attempts = 50;                      // worker attempts before the dead letters
  std::chrono::milliseconds max_age{7LL * 24 * 3600 * 1000};  // give up on older events
};

// The upper bound of the wait before attempt `attempt` (1-based).
std::chrono::milliseconds BackoffCeiling(const RetryPolicy& policy, int attempt);

// When the next attempt is due after `attempts_made` failed attempts, or
// nullopt when the event should become a dead letter. `random01` is a
// uniform draw from [0, 1), injected for tests.
std::optional<int64_t> NextAttemptMillis(const RetryPolicy& policy, int attempts_made,
                                         int64_t now_ms, int64_t created_ms, double random01);

}  // namespace eventlogger
