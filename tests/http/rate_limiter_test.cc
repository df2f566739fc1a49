// Tests for RateLimiter: a token bucket per client, on a clock the test
// moves by hand.
#include "http/rate_limiter.h"

#include <gtest/gtest.h>

#include <thread>
#include <vector>

namespace eventlogger::http {
namespace {

using Clock = RateLimiter::Clock;
using std::chrono::milliseconds;

TEST(RateLimiterTest, OffWithoutARate) {
  EXPECT_FALSE(RateLimiter({}).enabled());
  EXPECT_TRUE(RateLimiter({.rate = 1}).enabled());
}

TEST(RateLimiterTest, ABurstThenRefusalsThenRefillAtTheRate) {
  RateLimiter limiter({.rate = 2, .burst = 3});
  const Clock::time_point t0 = Clock::now();
  for (int i = 0; i < 3; ++i) {
    const RateDecision d = limiter.Take("a", t0);
    EXPECT_TRUE(d.allowed) << i;
    EXPECT_EQ(d.limit, 3);
    EXPECT_EQ(d.remaining, 2 - i);
  }
  RateDecision refused = limiter.Take("a", t0);
  EXPECT_FALSE(refused.allowed);
  EXPECT_EQ(refused.remaining, 0);
  EXPECT_EQ(refused.retry_after_seconds, 1);  // half a second to a token, rounded up
  EXPECT_EQ(refused.reset_seconds, 2);        // 3 tokens at 2 per second
  EXPECT_EQ(limiter.refused(), 1);
  // 400 ms: 0.8 tokens, still refused; 500 ms: one token.
  EXPECT_FALSE(limiter.Take("a", t0 + milliseconds(400)).allowed);
  EXPECT_TRUE(limiter.Take("a", t0 + milliseconds(500)).allowed);
  EXPECT_FALSE(limiter.Take("a", t0 + milliseconds(500)).allowed);
  // Long idle: refilled to the burst, never beyond.
  const Clock::time_point later = t0 + std::chrono::seconds(60);
  for (int i = 0; i < 3; ++i) EXPECT_TRUE(limiter.Take("a", later).allowed);
  EXPECT_FALSE(limiter.Take("a", later).allowed);
}

TEST(RateLimiterTest, ClientsHaveBucketsOfTheirOwn) {
  RateLimiter limiter({.rate = 1, .burst = 1});
  const Clock::time_point t0 = Clock::now();
  EXPECT_TRUE(limiter.Take("a", t0).allowed);
  EXPECT_FALSE(limiter.Take("a", t0).allowed);
  EXPECT_TRUE(limiter.Take("b", t0).allowed);
  EXPECT_TRUE(limiter.Take("10.0.0.1", t0).allowed);
}

TEST(RateLimiterTest, BurstDefaultsToTheRateAndAtLeastOne) {
  const Clock::time_point t0 = Clock::now();
  RateLimiter five({.rate = 5});
  EXPECT_EQ(five.Take("a", t0).limit, 5);
  RateLimiter slow({.rate = 0.5});
  EXPECT_TRUE(slow.Take("a", t0).allowed);
  const RateDecision refused = slow.Take("a", t0);
  EXPECT_FALSE(refused.allowed);
  EXPECT_EQ(refused.retry_after_seconds, 2);
}

TEST(RateLimiterTest, IdleBucketsAreDroppedAndMemoryStaysBounded) {
  RateLimiter limiter({.rate = 10, .burst = 10, .max_buckets = 16 * 100});
  Clock::time_point now = Clock::now();
  // A million distinct clients, each seen once, a millisecond apart: a
  // bucket refills in one second, so at most ~1,000 are live at a time,
  // and the cap holds in any case.
  size_t most = 0;
  for (int i = 0; i < 1'000'000; ++i) {
    now += std::chrono::microseconds(1000);
    ASSERT_TRUE(limiter.Take("client-" + std::to_string(i), now).allowed);
    if (i % 10'000 == 0) most = std::max(most, limiter.buckets());
  }
  EXPECT_LE(most, 1600u);
  EXPECT_LE(limiter.buckets(), 1600u);
  // A client still inside its window keeps its bucket: it cannot reset its
  // limit by waiting less than a refill.
  RateLimiter strict({.rate = 1, .burst = 1, .max_buckets = 16 * 1000});
  const Clock::time_point t0 = Clock::now();
  EXPECT_TRUE(strict.Take("busy", t0).allowed);
  for (int i = 0; i < 5000; ++i) strict.Take("other-" + std::to_string(i), t0 + milliseconds(100));
  EXPECT_FALSE(strict.Take("busy", t0 + milliseconds(200)).allowed);
}

TEST(RateLimiterTest, ManyThreadsTakeExactlyTheBurst) {
  RateLimiter limiter({.rate = 0.001, .burst = 1000});
  const Clock::time_point t0 = Clock::now();
  std::atomic<int> allowed{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 500; ++i) allowed += limiter.Take("shared", t0).allowed ? 1 : 0;
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(allowed.load(), 1000);
  EXPECT_EQ(limiter.refused(), 1000);
}

}  // namespace
}  // namespace eventlogger::http
