// Clock: the single source of wall-clock time for ids and timestamps.
//
// Injected everywhere time matters so tests can pin or step it. Thread safety:
// implementations must be safe to call from any thread.
#pragma once

#include <atomic>
#include <cstdint>

namespace eventlogger {

class Clock {
 public:
  virtual ~Clock() = default;
  // Milliseconds since the Unix epoch, UTC.
  virtual int64_t NowUnixMillis() const = 0;
};

// The operating system's realtime clock.
class SystemClock final : public Clock {
 public:
  int64_t NowUnixMillis() const override;
  static SystemClock& Instance();
};

// A clock tests set by hand.
class ManualClock final : public Clock {
 public:
  explicit ManualClock(int64_t start_millis) : now_(start_millis) {}
  int64_t NowUnixMillis() const override { return now_.load(); }
  void Set(int64_t millis) { now_.store(millis); }
  void Advance(int64_t millis) { now_.fetch_add(millis); }

 private:
  std::atomic<int64_t> now_;
};

}  // namespace eventlogger
