// CircuitBreaker: stops requests from waiting on a store that keeps failing.
//
// Closed: requests use the store. After `failure_threshold` consecutive
// failures it opens: requests skip the store (their event goes to the outbox
// and they get 202 at once). After `open_duration` it is half-open: one
// request at a time may try the store as a probe (retry-worker writes probe
// too); a success closes it, a failure opens it again.
//
// Thread safety: all methods may be called from any thread.
#pragma once

#include <chrono>
#include <cstdint>
#include <mutex>
#include <string_view>

#include "core/clock.h"

namespace eventlogger {

struct CircuitBreakerOptions {
  int failure_threshold = 5;                       // consecutive failures that open it
  std::chrono::milliseconds open_duration{2000};   // how long it stays open before a probe
};

class CircuitBreaker {
 public:
  enum class State { kClosed, kOpen, kHalfOpen };

  CircuitBreaker(const Clock& clock, CircuitBreakerOptions options);

  // True if a write may go to the store now. In half-open state, grants one
  // probe at a time; the caller must then report its outcome.
  bool Allow();
  void RecordSuccess();
  void RecordFailure();

  State state() const;
  static std::string_view StateName(State state);

 private:
  const Clock& clock_;
  const CircuitBreakerOptions options_;
  mutable std::mutex mutex_;
  State state_ = State::kClosed;
  int consecutive_failures_ = 0;
  int64_t opened_at_ms_ = 0;
  bool probe_in_flight_ = false;
};

}  // namespace eventlogger
