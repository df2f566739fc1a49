// Tests for the circuit breaker's state machine, driven by a ManualClock:
// closed → open after `failure_threshold` consecutive failures, open refuses
// until `open_duration` has passed, half-open grants one probe at a time,
// and the probe's outcome closes or re-opens it.
#include "durability/circuit_breaker.h"

#include <gtest/gtest.h>

#include <atomic>
#include <latch>
#include <thread>
#include <vector>

#include "core/clock.h"

namespace eventlogger {
namespace {

using State = CircuitBreaker::State;
using std::chrono::milliseconds;

constexpr int64_t kStart = 1'700'000'000'000;

class CircuitBreakerTest : public ::testing::Test {
 protected:
  CircuitBreakerOptions Options(int threshold = 3, int64_t open_ms = 1000) {
    CircuitBreakerOptions options;
    options.failure_threshold = threshold;
    options.open_duration = milliseconds(open_ms);
    return options;
  }
  // Opens `breaker` with `threshold` failures.
  void Trip(CircuitBreaker& breaker, int threshold) {
    for (int i = 0; i < threshold; ++i) {
      ASSERT_TRUE(breaker.Allow());
      breaker.RecordFailure();
    }
    ASSERT_EQ(breaker.state(), State::kOpen);
  }

  ManualClock clock_{kStart};
};

TEST_F(CircuitBreakerTest, StartsClosedAndAllowsEverything) {
  CircuitBreaker breaker(clock_, Options());
  EXPECT_EQ(breaker.state(), State::kClosed);
  for (int i = 0; i < 100; ++i) EXPECT_TRUE(breaker.Allow());
  EXPECT_EQ(breaker.state(), State::kClosed);
}

TEST_F(CircuitBreakerTest, OpensAfterThresholdConsecutiveFailures) {
  CircuitBreaker breaker(clock_, Options(/*threshold=*/3));
  breaker.RecordFailure();
  EXPECT_EQ(breaker.state(), State::kClosed);
  EXPECT_TRUE(breaker.Allow());
  breaker.RecordFailure();
  EXPECT_EQ(breaker.state(), State::kClosed);
  EXPECT_TRUE(breaker.Allow());
  breaker.RecordFailure();
  EXPECT_EQ(breaker.state(), State::kOpen);
  EXPECT_FALSE(breaker.Allow());
}

TEST_F(CircuitBreakerTest, ThresholdOfOneOpensOnTheFirstFailure) {
  CircuitBreaker breaker(clock_, Options(/*threshold=*/1));
  breaker.RecordFailure();
  EXPECT_EQ(breaker.state(), State::kOpen);
  EXPECT_FALSE(breaker.Allow());
}

TEST_F(CircuitBreakerTest, ASuccessInBetweenResetsTheFailureCount) {
  CircuitBreaker breaker(clock_, Options(/*threshold=*/3));
  breaker.RecordFailure();
  breaker.RecordFailure();
  breaker.RecordSuccess();
  breaker.RecordFailure();
  breaker.RecordFailure();
  EXPECT_EQ(breaker.state(), State::kClosed) << "only two consecutive failures since the success";
  EXPECT_TRUE(breaker.Allow());
  breaker.RecordFailure();
  EXPECT_EQ(breaker.state(), State::kOpen);
}

TEST_F(CircuitBreakerTest, OpenRefusesUntilTheOpenDurationHasPassed) {
  CircuitBreaker breaker(clock_, Options(/*threshold=*/2, /*open_ms=*/1000));
  Trip(breaker, 2);
  EXPECT_FALSE(breaker.Allow());
  clock_.Advance(500);
  EXPECT_FALSE(breaker.Allow());
  clock_.Advance(499);  // 999 ms after opening
  EXPECT_FALSE(breaker.Allow());
  EXPECT_EQ(breaker.state(), State::kOpen);
  clock_.Advance(1);  // exactly open_duration
  EXPECT_TRUE(breaker.Allow());
  EXPECT_EQ(breaker.state(), State::kHalfOpen);
}

TEST_F(CircuitBreakerTest, HalfOpenGrantsExactlyOneProbeAtATime) {
  CircuitBreaker breaker(clock_, Options(/*threshold=*/1, /*open_ms=*/100));
  Trip(breaker, 1);
  clock_.Advance(100);
  EXPECT_TRUE(breaker.Allow());  // the probe
  EXPECT_EQ(breaker.state(), State::kHalfOpen);
  for (int i = 0; i < 10; ++i) EXPECT_FALSE(breaker.Allow()) << "a second probe while one is in flight";
  // Time passing does not grant another probe while the first is outstanding.
  clock_.Advance(10'000);
  EXPECT_FALSE(breaker.Allow());
  EXPECT_EQ(breaker.state(), State::kHalfOpen);
}

TEST_F(CircuitBreakerTest, HalfOpenGrantsOneProbeAmongConcurrentCallers) {
  CircuitBreaker breaker(clock_, Options(/*threshold=*/1, /*open_ms=*/100));
  Trip(breaker, 1);
  clock_.Advance(100);
  constexpr int kThreads = 16;
  std::latch start(kThreads);
  std::atomic<int> granted{0};
  std::vector<std::thread> threads;
  for (int i = 0; i < kThreads; ++i) {
    threads.emplace_back([&] {
      start.arrive_and_wait();
      for (int j = 0; j < 100; ++j) {
        if (breaker.Allow()) ++granted;
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(granted.load(), 1);
}

TEST_F(CircuitBreakerTest, ProbeSuccessCloses) {
  CircuitBreaker breaker(clock_, Options(/*threshold=*/2, /*open_ms=*/100));
  Trip(breaker, 2);
  clock_.Advance(100);
  ASSERT_TRUE(breaker.Allow());
  breaker.RecordSuccess();
  EXPECT_EQ(breaker.state(), State::kClosed);
  for (int i = 0; i < 5; ++i) EXPECT_TRUE(breaker.Allow());
  // Closed again with a fresh count: one failure does not re-open it.
  breaker.RecordFailure();
  EXPECT_EQ(breaker.state(), State::kClosed);
  breaker.RecordFailure();
  EXPECT_EQ(breaker.state(), State::kOpen);
}

TEST_F(CircuitBreakerTest, ProbeFailureReopensAndRestartsTheOpenPeriod) {
  CircuitBreaker breaker(clock_, Options(/*threshold=*/3, /*open_ms=*/1000));
  Trip(breaker, 3);
  clock_.Advance(1500);  // well past the first open period
  ASSERT_TRUE(breaker.Allow());
  ASSERT_EQ(breaker.state(), State::kHalfOpen);
  breaker.RecordFailure();  // a single failure re-opens: no threshold in half-open
  EXPECT_EQ(breaker.state(), State::kOpen);
  EXPECT_FALSE(breaker.Allow());
  // The open period counts from the probe's failure, not the first opening.
  clock_.Advance(999);
  EXPECT_FALSE(breaker.Allow());
  clock_.Advance(1);
  EXPECT_TRUE(breaker.Allow());
  EXPECT_EQ(breaker.state(), State::kHalfOpen);
  EXPECT_FALSE(breaker.Allow());
}

TEST_F(CircuitBreakerTest, FailureReportedWhileOpenExtendsTheOpenPeriod) {
  // A write admitted before the breaker opened may fail late; the store is
  // still failing, so the open period starts again.
  CircuitBreaker breaker(clock_, Options(/*threshold=*/1, /*open_ms=*/1000));
  Trip(breaker, 1);
  clock_.Advance(800);
  breaker.RecordFailure();
  EXPECT_EQ(breaker.state(), State::kOpen);
  clock_.Advance(800);  // 1600 after opening, 800 after the late failure
  EXPECT_FALSE(breaker.Allow());
  clock_.Advance(200);
  EXPECT_TRUE(breaker.Allow());
}

TEST_F(CircuitBreakerTest, SuccessReportedWhileOpenCloses) {
  // The retry worker writes without asking; its success proves the store is
  // back, so the breaker closes without waiting for a probe.
  CircuitBreaker breaker(clock_, Options(/*threshold=*/1, /*open_ms=*/60'000));
  Trip(breaker, 1);
  breaker.RecordSuccess();
  EXPECT_EQ(breaker.state(), State::kClosed);
  EXPECT_TRUE(breaker.Allow());
}

TEST_F(CircuitBreakerTest, RepeatedCyclesBehaveTheSame) {
  CircuitBreaker breaker(clock_, Options(/*threshold=*/2, /*open_ms=*/50));
  for (int cycle = 0; cycle < 3; ++cycle) {
    Trip(breaker, 2);
    EXPECT_FALSE(breaker.Allow());
    clock_.Advance(50);
    ASSERT_TRUE(breaker.Allow()) << cycle;
    EXPECT_FALSE(breaker.Allow()) << cycle;
    breaker.RecordSuccess();
    ASSERT_EQ(breaker.state(), State::kClosed) << cycle;
  }
}

TEST(CircuitBreakerStateNameTest, NamesEveryState) {
  EXPECT_EQ(CircuitBreaker::StateName(State::kClosed), "closed");
  EXPECT_EQ(CircuitBreaker::StateName(State::kOpen), "open");
  EXPECT_EQ(CircuitBreaker::StateName(State::kHalfOpen), "half-open");
}

}  // namespace
}  // namespace eventlogger
