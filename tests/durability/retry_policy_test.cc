// Tests for the retry policy: exponential backoff ceilings with a cap, full
// jitter inside [now, now + ceiling], and the two ways an event becomes a
// dead letter (too many attempts, too old). Pure functions: the random draw
// is injected, so every expectation is exact.
#include "durability/retry_policy.h"

#include <gtest/gtest.h>

#include <chrono>
#include <cmath>
#include <cstdint>
#include <optional>

namespace eventlogger {
namespace {

using std::chrono::milliseconds;

RetryPolicy Policy(int64_t base_ms, int64_t cap_ms, int max_attempts = 50,
                   int64_t max_age_ms = 7LL * 24 * 3600 * 1000) {
  RetryPolicy policy;
  policy.base = milliseconds(base_ms);
  policy.cap = milliseconds(cap_ms);
  policy.max_attempts = max_attempts;
  policy.max_age = milliseconds(max_age_ms);
  return policy;
}

// The largest double below 1: the top of the injected draw's range [0, 1).
const double kAlmostOne = std::nextafter(1.0, 0.0);

TEST(BackoffCeilingTest, DoublesFromBaseOnEachAttempt) {
  const RetryPolicy policy = Policy(100, 1'000'000);
  EXPECT_EQ(BackoffCeiling(policy, 1), milliseconds(100));
  EXPECT_EQ(BackoffCeiling(policy, 2), milliseconds(200));
  EXPECT_EQ(BackoffCeiling(policy, 3), milliseconds(400));
  EXPECT_EQ(BackoffCeiling(policy, 4), milliseconds(800));
  EXPECT_EQ(BackoffCeiling(policy, 10), milliseconds(100 * 512));
}

TEST(BackoffCeilingTest, NeverExceedsTheCap) {
  const RetryPolicy policy = Policy(200, 1000);
  EXPECT_EQ(BackoffCeiling(policy, 3), milliseconds(800));
  EXPECT_EQ(BackoffCeiling(policy, 4), milliseconds(1000));  // 1600 capped
  EXPECT_EQ(BackoffCeiling(policy, 5), milliseconds(1000));
  EXPECT_EQ(BackoffCeiling(policy, 50), milliseconds(1000));
}

TEST(BackoffCeilingTest, HugeAttemptNumbersStayAtTheCapWithoutOverflow) {
  const RetryPolicy policy = Policy(200, 60'000);
  EXPECT_EQ(BackoffCeiling(policy, 64), milliseconds(60'000));
  EXPECT_EQ(BackoffCeiling(policy, 1000), milliseconds(60'000));
  EXPECT_EQ(BackoffCeiling(policy, 1 << 30), milliseconds(60'000));
}

TEST(BackoffCeilingTest, AttemptsBelowOneUseTheBase) {
  const RetryPolicy policy = Policy(250, 60'000);
  EXPECT_EQ(BackoffCeiling(policy, 0), milliseconds(250));
  EXPECT_EQ(BackoffCeiling(policy, -5), milliseconds(250));
}

TEST(BackoffCeilingTest, DefaultPolicyMatchesItsDocumentation) {
  const RetryPolicy policy;
  EXPECT_EQ(BackoffCeiling(policy, 1), milliseconds(200));
  EXPECT_EQ(BackoffCeiling(policy, 2), milliseconds(400));
  EXPECT_EQ(BackoffCeiling(policy, 100), milliseconds(60'000));
}

TEST(NextAttemptMillisTest, FullJitterSpansNowToNowPlusCeiling) {
  const RetryPolicy policy = Policy(100, 10'000);
  const int64_t now = 1'700'000'000'000;
  const int64_t created = now - 1000;
  // After 2 failed attempts the next is attempt 3: ceiling 100 * 2^2 = 400.
  const int64_t ceiling = BackoffCeiling(policy, 3).count();
  ASSERT_EQ(ceiling, 400);
  EXPECT_EQ(NextAttemptMillis(policy, 2, now, created, 0.0), std::optional<int64_t>(now));
  EXPECT_EQ(NextAttemptMillis(policy, 2, now, created, 0.5), std::optional<int64_t>(now + 200));
  const std::optional<int64_t> top = NextAttemptMillis(policy, 2, now, created, kAlmostOne);
  ASSERT_TRUE(top.has_value());
  EXPECT_LE(*top, now + ceiling);
  EXPECT_GE(*top, now + ceiling - 1);
}

TEST(NextAttemptMillisTest, EveryDrawLandsInsideTheWindow) {
  const RetryPolicy policy = Policy(50, 5000);
  const int64_t now = 1'000'000;
  for (int attempts = 0; attempts < 12; ++attempts) {
    const int64_t ceiling = BackoffCeiling(policy, attempts + 1).count();
    for (double r = 0.0; r < 1.0; r += 0.0625) {
      const std::optional<int64_t> next = NextAttemptMillis(policy, attempts, now, now, r);
      ASSERT_TRUE(next.has_value()) << attempts << " " << r;
      EXPECT_GE(*next, now) << attempts << " " << r;
      EXPECT_LE(*next, now + ceiling) << attempts << " " << r;
    }
  }
}

TEST(NextAttemptMillisTest, TheWindowGrowsWithAttemptsUntilTheCap) {
  const RetryPolicy policy = Policy(100, 1000);
  const int64_t now = 5'000'000;
  const auto top = [&](int attempts) { return *NextAttemptMillis(policy, attempts, now, now, kAlmostOne) - now; };
  EXPECT_NEAR(top(0), 100, 1);
  EXPECT_NEAR(top(1), 200, 1);
  EXPECT_NEAR(top(2), 400, 1);
  EXPECT_NEAR(top(3), 800, 1);
  EXPECT_NEAR(top(4), 1000, 1);
  EXPECT_NEAR(top(20), 1000, 1);
}

TEST(NextAttemptMillisTest, DeadLetterAfterMaxAttempts) {
  const RetryPolicy policy = Policy(100, 1000, /*max_attempts=*/3);
  const int64_t now = 10'000;
  EXPECT_TRUE(NextAttemptMillis(policy, 0, now, now, 0.3).has_value());
  EXPECT_TRUE(NextAttemptMillis(policy, 1, now, now, 0.3).has_value());
  EXPECT_TRUE(NextAttemptMillis(policy, 2, now, now, 0.3).has_value());
  EXPECT_EQ(NextAttemptMillis(policy, 3, now, now, 0.3), std::nullopt);
  EXPECT_EQ(NextAttemptMillis(policy, 4, now, now, 0.3), std::nullopt);
}

TEST(NextAttemptMillisTest, MaxAttemptsOfOneGivesUpAfterTheFirstFailure) {
  const RetryPolicy policy = Policy(100, 1000, /*max_attempts=*/1);
  EXPECT_TRUE(NextAttemptMillis(policy, 0, 10'000, 10'000, 0.0).has_value());
  EXPECT_EQ(NextAttemptMillis(policy, 1, 10'000, 10'000, 0.0), std::nullopt);
}

TEST(NextAttemptMillisTest, DeadLetterOnceOlderThanMaxAge) {
  const RetryPolicy policy = Policy(100, 1000, /*max_attempts=*/50, /*max_age_ms=*/60'000);
  const int64_t created = 1'000'000;
  EXPECT_TRUE(NextAttemptMillis(policy, 1, created + 59'999, created, 0.5).has_value());
  EXPECT_EQ(NextAttemptMillis(policy, 1, created + 60'000, created, 0.5), std::nullopt);
  EXPECT_EQ(NextAttemptMillis(policy, 1, created + 3'600'000, created, 0.5), std::nullopt);
  // Age alone decides: even the first attempt of an old event gives up.
  EXPECT_EQ(NextAttemptMillis(policy, 0, created + 60'000, created, 0.0), std::nullopt);
}

TEST(NextAttemptMillisTest, DefaultPolicyKeepsRetryingForAWeek) {
  const RetryPolicy policy;
  const int64_t created = 1'700'000'000'000;
  const int64_t six_days = 6LL * 24 * 3600 * 1000;
  const int64_t eight_days = 8LL * 24 * 3600 * 1000;
  EXPECT_TRUE(NextAttemptMillis(policy, 10, created + six_days, created, 0.5).has_value());
  EXPECT_EQ(NextAttemptMillis(policy, 10, created + eight_days, created, 0.5), std::nullopt);
  EXPECT_TRUE(NextAttemptMillis(policy, 49, created, created, 0.5).has_value());
  EXPECT_EQ(NextAttemptMillis(policy, 50, created, created, 0.5), std::nullopt);
}

}  // namespace
}  // namespace eventlogger
