#include "durability/circuit_breaker.h"

namespace eventlogger {

CircuitBreaker::CircuitBreaker(const Clock& clock, CircuitBreakerOptions options)
    : clock_(clock), options_(options) {}

bool CircuitBreaker::Allow() {
  std::lock_guard lock(mutex_);
  switch (state_) {
    case State::kClosed:
      return true;
    case State::kOpen:
      if (clock_.NowUnixMillis() - opened_at_ms_ < options_.open_duration.count()) return false;
      state_ = State::kHalfOpen;
      probe_in_flight_ = true;
      return true;
    case State::kHalfOpen:
      if (probe_in_flight_) return false;
      probe_in_flight_ = true;
      return true;
  }
  return false;
}

void CircuitBreaker::RecordSuccess() {
  std::lock_guard lock(mutex_);
  state_ = State::kClosed;
  consecutive_failures_ = 0;
  probe_in_flight_ = false;
}

void CircuitBreaker::RecordFailure() {
  std::lock_guard lock(mutex_);
  probe_in_flight_ = false;
  if (state_ == State::kHalfOpen ||
      (state_ == State::kClosed && ++consecutive_failures_ >= options_.failure_threshold)) {
    state_ = State::kOpen;
    opened_at_ms_ = clock_.NowUnixMillis();
  } else if (state_ == State::kOpen) {
    opened_at_ms_ = clock_.NowUnixMillis();
  }
}

CircuitBreaker::State CircuitBreaker::state() const {
  std::lock_guard lock(mutex_);
  return state_;
}

std::string_view CircuitBreaker::StateName(State state) {
  switch (state) {
    case State::kClosed: return "closed";
    case State::kOpen: return "open";
    case State::kHalfOpen: return "half-open";
  }
  return "closed";
}

}  // namespace eventlogger
