// Tests for ResolveEventTime (a client's occurredAt / sentAt against the
// server's receipt) and for reading the receipt back from an eventId.
#include "core/event_time.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>

#include "core/clock.h"
#include "core/uuid.h"

namespace eventlogger {
namespace {

using ::testing::HasSubstr;

constexpr int64_t kReceived = 1751207565123;  // 2025-06-29T14:32:45.123Z
constexpr int64_t kMinute = 60'000;
constexpr int64_t kDay = 24 * 60 * kMinute;

Instant At(int64_t millis) { return Instant{millis, false}; }

ResolvedEventTime Resolve(const ClientTimes& times, const ClientTimeOptions& options = {}) {
  std::string error;
  const std::optional<ResolvedEventTime> resolved = ResolveEventTime(kReceived, times, options, &error);
  EXPECT_TRUE(resolved) << error;
  return resolved.value_or(ResolvedEventTime{});
}

std::string Refusal(const ClientTimes& times, const ClientTimeOptions& options = {}) {
  std::string error;
  EXPECT_FALSE(ResolveEventTime(kReceived, times, options, &error));
  return error;
}

TEST(ResolveEventTimeTest, WithoutClientTimesTheTimestampIsTheReceipt) {
  const ResolvedEventTime resolved = Resolve({});
  EXPECT_EQ(resolved.unix_millis, kReceived);
  EXPECT_EQ(resolved.occurred_at, "");
}

TEST(ResolveEventTimeTest, ALoneSentAtCorrectsNothing) {
  const ResolvedEventTime resolved = Resolve({std::nullopt, At(kReceived + 3 * kDay)});
  EXPECT_EQ(resolved.unix_millis, kReceived);
  EXPECT_EQ(resolved.occurred_at, "");
}

TEST(ResolveEventTimeTest, ALoneOccurredAtIsTakenAsItIs) {
  const ResolvedEventTime resolved = Resolve({At(kReceived - 90'000), std::nullopt});
  EXPECT_EQ(resolved.unix_millis, kReceived - 90'000);
  EXPECT_EQ(resolved.occurred_at, "2025-06-29T14:31:15.123Z");
}

TEST(ResolveEventTimeTest, SentAtCorrectsTheClientsClock) {
  // The client's clock runs an hour fast: it saw the event 10 s before it
  // sent it, so the event happened 10 s before the server received it.
  const int64_t hour = 60 * kMinute;
  const ResolvedEventTime fast = Resolve({At(kReceived + hour - 10'000), At(kReceived + hour)});
  EXPECT_EQ(fast.unix_millis, kReceived - 10'000);
  EXPECT_EQ(fast.occurred_at, "2025-06-29T15:32:35.123Z");  // what the client said, kept
  // A clock two days slow, and a phone that held the event offline 3 h.
  const ResolvedEventTime slow = Resolve({At(kReceived - 2 * kDay - 3 * hour), At(kReceived - 2 * kDay)});
  EXPECT_EQ(slow.unix_millis, kReceived - 3 * hour);
}

TEST(ResolveEventTimeTest, TheFutureBoundHoldsToTheMillisecond) {
  ClientTimeOptions options;
  options.max_future_skew_ms = kMinute;
  EXPECT_EQ(Resolve({At(kReceived + kMinute), std::nullopt}, options).unix_millis, kReceived + kMinute);
  EXPECT_THAT(Refusal({At(kReceived + kMinute + 1), std::nullopt}, options),
              HasSubstr("60001 ms after the server's receipt; at most 60000"));
  // Corrected: sent "now" by a clock that is right, but occurring later.
  EXPECT_THAT(Refusal({At(kReceived + kMinute + 1), At(kReceived)}, options), HasSubstr("once corrected by sentAt"));
  options.max_future_skew_ms = 0;
  EXPECT_FALSE(Refusal({At(kReceived + 1), std::nullopt}, options).empty());
}

TEST(ResolveEventTimeTest, TheAgeBoundHoldsToTheMillisecond) {
  ClientTimeOptions options;
  options.max_event_age_days = 2;
  EXPECT_EQ(Resolve({At(kReceived - 2 * kDay), std::nullopt}, options).unix_millis, kReceived - 2 * kDay);
  EXPECT_THAT(Refusal({At(kReceived - 2 * kDay - 1), std::nullopt}, options), HasSubstr("older than 2 days"));
  // The default is 30 days.
  EXPECT_TRUE(Refusal({At(kReceived - 30 * kDay - 1), std::nullopt}).size() > 0);
  EXPECT_EQ(Resolve({At(kReceived - 30 * kDay), std::nullopt}).unix_millis, kReceived - 30 * kDay);
}

TEST(ResolveEventTimeTest, InstantsBefore1970AreRefused) {
  ClientTimeOptions options;
  options.max_event_age_days = 36600;
  EXPECT_THAT(Refusal({At(-1), std::nullopt}, options), HasSubstr("before 1970"));
  // An occurredAt after 1970 whose correction lands before it.
  EXPECT_THAT(Refusal({At(1000), At(kReceived + 1001)}, options), HasSubstr("outside the years"));
}

TEST(ClientTimeOptionsTest, ValidateNamesTheFlag) {
  EXPECT_EQ(ClientTimeOptions{}.Validate(), "");
  EXPECT_THAT((ClientTimeOptions{-1, 30}.Validate()), HasSubstr("--max-future-skew-ms"));
  EXPECT_THAT((ClientTimeOptions{0, -1}.Validate()), HasSubstr("--max-event-age-days"));
  EXPECT_THAT((ClientTimeOptions{0, 36601}.Validate()), HasSubstr("--max-event-age-days"));
}

TEST(ReceivedAtOfTest, IsTheMillisecondOfAUuid7) {
  ManualClock clock(kReceived);
  Uuid7Generator ids(clock);
  const Uuid7 id = ids.Next();
  EXPECT_EQ(ReceivedAtOf(FormatUuid(id.bytes), "fallback"), "2025-06-29T14:32:45.123Z");
  EXPECT_EQ(ReceivedMillisOf(FormatUuid(id.bytes), -1), kReceived);
  // Anything else keeps the fallback.
  EXPECT_EQ(ReceivedAtOf("not-a-uuid", "fallback"), "fallback");
  EXPECT_EQ(ReceivedAtOf("6ba7b810-9dad-41d1-80b4-00c04fd430c8", "v4"), "v4");
  EXPECT_EQ(ReceivedMillisOf("6ba7b810-9dad-41d1-80b4-00c04fd430c8", 5), 5);
}

}  // namespace
}  // namespace eventlogger
