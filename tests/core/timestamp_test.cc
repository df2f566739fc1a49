// Tests for FormatTimestamp and ParseTimestamp.
//
// Expected values come from outside the code under test: hand-computed
// epoch seconds (checked with `date -u -d ... +%s`) and timegm(3), so a
// calendar bug shared by both directions cannot hide behind a round trip.
#include "core/timestamp.h"

#include <gtest/gtest.h>

#include <ctime>
#include <random>
#include <string>

namespace eventlogger {
namespace {

// Milliseconds for a UTC civil time, via the C library.
int64_t TimegmMillis(int year, int month, int day, int hour, int minute, int second, int millis) {
  std::tm tm{};
  tm.tm_year = year - 1900;
  tm.tm_mon = month - 1;
  tm.tm_mday = day;
  tm.tm_hour = hour;
  tm.tm_min = minute;
  tm.tm_sec = second;
  return static_cast<int64_t>(timegm(&tm)) * 1000 + millis;
}

constexpr int64_t kMaxMillis = 253402300799999;  // 9999-12-31T23:59:59.999Z

TEST(TimestampTest, FormatsTheEpoch) {
  EXPECT_EQ(FormatTimestamp(0), "1970-01-01T00:00:00.000Z");
  EXPECT_EQ(ParseTimestamp("1970-01-01T00:00:00.000Z"), 0);
  EXPECT_EQ(FormatTimestamp(1), "1970-01-01T00:00:00.001Z");
  EXPECT_EQ(FormatTimestamp(999), "1970-01-01T00:00:00.999Z");
  EXPECT_EQ(FormatTimestamp(1000), "1970-01-01T00:00:01.000Z");
}

TEST(TimestampTest, KnownInstantsMatchHandComputedValues) {
  // date -u -d '2025-06-29T14:32:45Z' +%s  ->  1751207565
  EXPECT_EQ(FormatTimestamp(1751207565123), "2025-06-29T14:32:45.123Z");
  EXPECT_EQ(ParseTimestamp("2025-06-29T14:32:45.123Z"), 1751207565123);
  // date -u -d '2000-03-01T00:00:00Z' +%s  ->  951868800 (after a century leap day)
  EXPECT_EQ(FormatTimestamp(951868800000), "2000-03-01T00:00:00.000Z");
  EXPECT_EQ(ParseTimestamp("2000-03-01T00:00:00.000Z"), 951868800000);
  // One millisecond before: the last instant of 2000-02-29.
  EXPECT_EQ(FormatTimestamp(951868799999), "2000-02-29T23:59:59.999Z");
  // 2^31 seconds: the 32-bit time_t rollover.
  EXPECT_EQ(FormatTimestamp(2147483648000), "2038-01-19T03:14:08.000Z");
}

TEST(TimestampTest, KnownInstantsMatchTimegm) {
  struct Case {
    int y, mo, d, h, mi, s, ms;
    const char* text;
  };
  for (const Case& c : {
           Case{1970, 1, 1, 0, 0, 0, 0, "1970-01-01T00:00:00.000Z"},
           Case{1999, 12, 31, 23, 59, 59, 999, "1999-12-31T23:59:59.999Z"},
           Case{2000, 1, 1, 0, 0, 0, 0, "2000-01-01T00:00:00.000Z"},
           Case{2100, 3, 1, 12, 0, 0, 500, "2100-03-01T12:00:00.500Z"},
           Case{2023, 7, 4, 9, 8, 7, 6, "2023-07-04T09:08:07.006Z"},
           Case{2400, 2, 29, 1, 2, 3, 45, "2400-02-29T01:02:03.045Z"},
       }) {
    SCOPED_TRACE(c.text);
    const int64_t millis = TimegmMillis(c.y, c.mo, c.d, c.h, c.mi, c.s, c.ms);
    EXPECT_EQ(FormatTimestamp(millis), c.text);
    EXPECT_EQ(ParseTimestamp(c.text), millis);
  }
}

TEST(TimestampTest, LeapDay2024) {
  // date -u -d '2024-02-29T23:59:59Z' +%s  ->  1709251199
  const int64_t last_ms_of_leap_day = 1709251199999;
  EXPECT_EQ(FormatTimestamp(last_ms_of_leap_day), "2024-02-29T23:59:59.999Z");
  EXPECT_EQ(FormatTimestamp(last_ms_of_leap_day + 1), "2024-03-01T00:00:00.000Z");
  EXPECT_EQ(ParseTimestamp("2024-02-29T12:00:00.000Z"), TimegmMillis(2024, 2, 29, 12, 0, 0, 0));
  EXPECT_EQ(FormatTimestamp(TimegmMillis(2024, 2, 28, 23, 59, 59, 999) + 1),
            "2024-02-29T00:00:00.000Z");
}

TEST(TimestampTest, Year9999) {
  EXPECT_EQ(FormatTimestamp(kMaxMillis), "9999-12-31T23:59:59.999Z");
  EXPECT_EQ(ParseTimestamp("9999-12-31T23:59:59.999Z"), kMaxMillis);
  EXPECT_EQ(kMaxMillis, TimegmMillis(9999, 12, 31, 23, 59, 59, 999));
}

TEST(TimestampTest, RandomInstantsRoundTripAndSortLikeTheirText) {
  // Storage keys rely on text order equalling time order.
  std::mt19937_64 random(42);
  std::uniform_int_distribution<int64_t> any(0, kMaxMillis);
  int64_t previous = 0;
  std::string previous_text = FormatTimestamp(0);
  for (int i = 0; i < 100000; ++i) {
    const int64_t millis = any(random);
    const std::string text = FormatTimestamp(millis);
    ASSERT_EQ(text.size(), kTimestampLength) << millis;
    ASSERT_EQ(ParseTimestamp(text), millis) << text;
    ASSERT_EQ(millis < previous, text < previous_text) << text << " vs " << previous_text;
    previous = millis;
    previous_text = text;
  }
}

TEST(TimestampTest, EveryMillisecondOfADayBoundaryRoundTrips) {
  // Dense check across midnight, where day and ms-of-day split.
  const int64_t midnight = TimegmMillis(2025, 1, 1, 0, 0, 0, 0);
  for (int64_t millis = midnight - 5000; millis < midnight + 5000; ++millis) {
    ASSERT_EQ(ParseTimestamp(FormatTimestamp(millis)), millis);
  }
  EXPECT_EQ(FormatTimestamp(midnight - 1), "2024-12-31T23:59:59.999Z");
}

TEST(TimestampTest, RejectsMalformedText) {
  for (const char* bad : {
           "",
           "2024-01-01T00:00:00.000",   // missing Z
           "2024-01-01T00:00:00.000z",  // lowercase z
           "2024-01-01T00:00:00.000+00:00",
           "2024-01-01T00:00:00.00Z",    // 23 bytes
           "2024-01-01T00:00:00.0000Z",  // 25 bytes
           "2024-01-01T00:00:00Z",       // no millis
           "2024-01-01 00:00:00.000Z",   // space separator
           "2024/01/01T00:00:00.000Z",   // slashes
           "2024-01-01T00-00-00.000Z",
           "2024-01-01T00:00:00,000Z",  // comma
           "2024-01-01t00:00:00.000Z",  // lowercase t
           "2024-13-01T00:00:00.000Z",  // month 13
           "2024-00-01T00:00:00.000Z",  // month 0
           "2024-01-00T00:00:00.000Z",  // day 0
           "2024-01-32T00:00:00.000Z",
           "2024-02-30T00:00:00.000Z",  // Feb 30
           "2023-02-29T00:00:00.000Z",  // not a leap year
           "2100-02-29T00:00:00.000Z",  // century, not a leap year
           "2024-04-31T00:00:00.000Z",
           "2024-01-01T24:00:00.000Z",  // hour 24
           "2024-01-01T00:60:00.000Z",
           "2024-01-01T00:00:60.000Z",  // no leap seconds
           "2024-01-01T0a:00:00.000Z",
           "2024-01-01T00:00:00.00aZ",
           "+024-01-01T00:00:00.000Z",
           "-024-01-01T00:00:00.000Z",
           "2024-1-01T00:00:00.000Z ",
           " 2024-01-01T00:00:00.000Z",
       }) {
    EXPECT_EQ(ParseTimestamp(bad), std::nullopt) << '"' << bad << '"';
  }
  // Embedded NUL in an otherwise well-formed position.
  std::string with_nul = "2024-01-01T00:00:00.000Z";
  with_nul[5] = '\0';
  EXPECT_EQ(ParseTimestamp(with_nul), std::nullopt);
}

// ParseInstant: what clients send as from/to. Expected values from timegm.
TEST(InstantTest, AcceptsZuluOffsetsAndFractions) {
  const int64_t base = TimegmMillis(2025, 6, 29, 14, 32, 45, 0);
  EXPECT_EQ(ParseInstant("2025-06-29T14:32:45Z")->unix_millis, base);
  EXPECT_EQ(ParseInstant("2025-06-29t14:32:45z")->unix_millis, base);
  EXPECT_EQ(ParseInstant("2025-06-29T14:32:45.1Z")->unix_millis, base + 100);
  EXPECT_EQ(ParseInstant("2025-06-29T14:32:45.12Z")->unix_millis, base + 120);
  EXPECT_EQ(ParseInstant("2025-06-29T14:32:45.123Z")->unix_millis, base + 123);
  EXPECT_EQ(ParseInstant("2025-06-29T16:32:45+02:00")->unix_millis, base);
  EXPECT_EQ(ParseInstant("2025-06-29T09:02:45-05:30")->unix_millis, base);
  EXPECT_EQ(ParseInstant("2025-06-29T14:32:45.000+00:00")->unix_millis, base);
  // Across a day and a year boundary.
  EXPECT_EQ(ParseInstant("2026-01-01T01:00:00+02:00")->unix_millis, TimegmMillis(2025, 12, 31, 23, 0, 0, 0));
}

TEST(InstantTest, ReportsDigitsBelowTheMillisecond) {
  const int64_t base = TimegmMillis(2025, 6, 29, 14, 32, 45, 0);
  const auto exact = ParseInstant("2025-06-29T14:32:45.123000000Z");
  ASSERT_TRUE(exact);
  EXPECT_EQ(exact->unix_millis, base + 123);
  EXPECT_FALSE(exact->sub_millisecond);
  const auto finer = ParseInstant("2025-06-29T14:32:45.123456Z");
  ASSERT_TRUE(finer);
  EXPECT_EQ(finer->unix_millis, base + 123);
  EXPECT_TRUE(finer->sub_millisecond);
}

TEST(InstantTest, RefusesAnythingElse) {
  for (const char* bad : {"", "2025-06-29", "2025-06-29T14:32:45", "2025-06-29 14:32:45Z",
                          "2025-06-29T14:32Z", "2025-06-29T14:32:45.Z", "2025-06-29T14:32:45.1234567890Z",
                          "2025-06-29T14:32:45+0200", "2025-06-29T14:32:45+02", "2025-06-29T14:32:45+24:00",
                          "2025-06-29T24:00:00Z", "2025-02-30T00:00:00Z", "2025-06-29T14:60:00Z",
                          "2025-06-29T14:32:60Z", "2025-06-29T14:32:45ZZ", "2025-06-29T14:32:45 Z",
                          "+2025-06-29T14:32:45Z", "2025-6-29T14:32:45Z", "9999-12-31T23:59:59-01:00",
                          "1751207565"}) {
    EXPECT_FALSE(ParseInstant(bad).has_value()) << bad;
  }
  EXPECT_TRUE(ParseInstant("9999-12-31T23:59:59.999Z").has_value());
  EXPECT_TRUE(ParseInstant("0000-01-01T00:00:00Z").has_value());
}

}  // namespace
}  // namespace eventlogger
