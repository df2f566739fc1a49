// Tests for UUID text handling and the UUIDv7 generator.
//
// Event ids double as sort keys (documents are ordered by timestamp, then
// eventId) and carry the event time, so the generator must be strictly
// monotonic, including within one millisecond and when the clock steps back,
// and the embedded time must be the time it reports.
#include "core/uuid.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <random>
#include <set>
#include <thread>
#include <vector>

#include "core/clock.h"

namespace eventlogger {
namespace {

constexpr int64_t kStart = 1751207565123;  // 2025-06-29T14:32:45.123Z

// The 12-bit rand_a field, which the generator uses as a counter.
uint32_t Counter(const UuidBytes& b) { return (b[6] & 0x0F) << 8 | b[7]; }

// RFC 9562 variant: the two top bits of byte 8 are 10.
bool HasRfcVariant(const UuidBytes& b) { return (b[8] & 0xC0) == 0x80; }

TEST(UuidTextTest, FormatsLowercaseCanonicalForm) {
  const UuidBytes bytes = {0x01, 0x89, 0x0a, 0x5d, 0xac, 0x96, 0x77, 0x4b,
                           0xbc, 0xce, 0xb3, 0x02, 0x09, 0x9a, 0x80, 0x57};
  EXPECT_EQ(FormatUuid(bytes), "01890a5d-ac96-774b-bcce-b302099a8057");
  EXPECT_EQ(FormatUuid(UuidBytes{}), "00000000-0000-0000-0000-000000000000");
  UuidBytes ones;
  ones.fill(0xFF);
  EXPECT_EQ(FormatUuid(ones), "ffffffff-ffff-ffff-ffff-ffffffffffff");
}

TEST(UuidTextTest, ParsesEitherCase) {
  const UuidBytes expected = {0x01, 0x89, 0x0a, 0x5d, 0xac, 0x96, 0x77, 0x4b,
                              0xbc, 0xce, 0xb3, 0x02, 0x09, 0x9a, 0x80, 0x57};
  EXPECT_EQ(ParseUuid("01890a5d-ac96-774b-bcce-b302099a8057"), expected);
  EXPECT_EQ(ParseUuid("01890A5D-AC96-774B-BCCE-B302099A8057"), expected);
  EXPECT_EQ(ParseUuid("01890a5D-Ac96-774b-BCce-b302099A8057"), expected);
}

TEST(UuidTextTest, RoundTripsArbitraryBytes) {
  std::mt19937 random(7);
  for (int i = 0; i < 1000; ++i) {
    UuidBytes bytes;
    for (auto& b : bytes) b = static_cast<uint8_t>(random());
    const std::string text = FormatUuid(bytes);
    ASSERT_EQ(text.size(), 36u);
    ASSERT_EQ(ParseUuid(text), bytes) << text;
  }
}

TEST(UuidTextTest, RejectsMalformedText) {
  for (const char* bad : {
           "",
           "01890a5d-ac96-774b-bcce-b302099a805",    // 35
           "01890a5d-ac96-774b-bcce-b302099a80570",  // 37
           "01890a5dac96774bbccEb302099a8057",       // no dashes
           "01890a5d-ac96-774b-bcce_b302099a8057",   // wrong separator
           "01890a5-dac96-774b-bcce-b302099a8057",   // dash misplaced
           "01890a5d-ac96-774b-bcceb-302099a8057",
           "01890a5d-ac96-774b-bcce-b302099a805g",  // not hex
           "g1890a5d-ac96-774b-bcce-b302099a8057",
           "01890a5d-ac96-774b-bcce-b302099a805 ",
           "{1890a5d-ac96-774b-bcce-b302099a8057",
           "01890a5d-+c96-774b-bcce-b302099a8057",
           "------------------------------------",
       }) {
    EXPECT_EQ(ParseUuid(bad), std::nullopt) << bad;
  }
}

TEST(UuidTextTest, VersionAndMillisAreReadFromTheBytes) {
  const UuidBytes bytes = *ParseUuid("01890a5d-ac96-774b-bcce-b302099a8057");
  EXPECT_EQ(UuidVersion(bytes), 7);
  EXPECT_EQ(Uuid7UnixMillis(bytes), 0x01890a5dac96);
  EXPECT_EQ(UuidVersion(*ParseUuid("f47ac10b-58cc-4372-a567-0e02b2c3d479")), 4);
}

TEST(Uuid7GeneratorTest, HasVersion7RfcVariantAndTheClocksMillis) {
  ManualClock clock(kStart);
  Uuid7Generator generator(clock);
  const Uuid7 id = generator.Next();
  EXPECT_EQ(UuidVersion(id.bytes), 7);
  EXPECT_TRUE(HasRfcVariant(id.bytes)) << FormatUuid(id.bytes);
  EXPECT_EQ(id.unix_millis, kStart);
  EXPECT_EQ(Uuid7UnixMillis(id.bytes), kStart);
  // The text form parses back to the same bytes.
  EXPECT_EQ(ParseUuid(FormatUuid(id.bytes)), id.bytes);
}

TEST(Uuid7GeneratorTest, FollowsTheClockWhenItAdvances) {
  ManualClock clock(kStart);
  Uuid7Generator generator(clock);
  UuidBytes previous = generator.Next().bytes;
  for (int step = 1; step <= 100; ++step) {
    clock.Advance(step);  // uneven steps
    const Uuid7 id = generator.Next();
    ASSERT_EQ(id.unix_millis, clock.NowUnixMillis());
    ASSERT_EQ(Uuid7UnixMillis(id.bytes), clock.NowUnixMillis());
    ASSERT_LT(previous, id.bytes);
    previous = id.bytes;
  }
}

TEST(Uuid7GeneratorTest, StrictlyIncreasingWithinOneMillisecond) {
  // 100000 ids with the clock frozen: far more than the 4096 a 12-bit counter
  // holds, so the generator must borrow later milliseconds.
  constexpr int kCount = 100000;
  ManualClock clock(kStart);
  Uuid7Generator generator(clock);
  Uuid7 previous = generator.Next();
  std::string previous_text = FormatUuid(previous.bytes);
  for (int i = 1; i < kCount; ++i) {
    const Uuid7 id = generator.Next();
    const std::string text = FormatUuid(id.bytes);
    ASSERT_LT(previous.bytes, id.bytes) << "call " << i;
    ASSERT_LT(previous_text, text) << "call " << i;
    ASSERT_EQ(UuidVersion(id.bytes), 7);
    ASSERT_TRUE(HasRfcVariant(id.bytes));
    // The reported time is the embedded time, never behind the clock.
    ASSERT_EQ(Uuid7UnixMillis(id.bytes), id.unix_millis);
    ASSERT_GE(id.unix_millis, kStart);
    if (id.unix_millis == previous.unix_millis) {
      // RFC 9562 method 1: within a millisecond the counter counts up by one.
      ASSERT_EQ(Counter(id.bytes), Counter(previous.bytes) + 1) << "call " << i;
    } else {
      // Overflow borrows exactly the next millisecond.
      ASSERT_EQ(id.unix_millis, previous.unix_millis + 1) << "call " << i;
      ASSERT_EQ(Counter(previous.bytes), 0xFFFu) << "borrowed before the counter was full";
    }
    previous = id;
    previous_text = text;
  }
  // 4096 ids fit in a millisecond at most, so 100000 need at least 25 of them.
  EXPECT_GT(previous.unix_millis, clock.NowUnixMillis());
  EXPECT_GE(previous.unix_millis - kStart, 24);
  // Each millisecond starts its counter low (at most 0x3FF), leaving at least
  // 3072 ids per millisecond: the time runs ahead by at most 33 ms.
  EXPECT_LE(previous.unix_millis - kStart, 33);
}

TEST(Uuid7GeneratorTest, ClockCatchingUpAfterBorrowingKeepsIncreasing) {
  ManualClock clock(kStart);
  Uuid7Generator generator(clock);
  Uuid7 last{};
  for (int i = 0; i < 10000; ++i) last = generator.Next();
  ASSERT_GT(last.unix_millis, kStart);
  // The clock moves forward but is still behind the borrowed time.
  clock.Set(last.unix_millis - 1);
  Uuid7 id = generator.Next();
  EXPECT_LT(last.bytes, id.bytes);
  EXPECT_GE(id.unix_millis, last.unix_millis);
  // Once the clock passes the borrowed time, ids follow the clock again.
  clock.Set(last.unix_millis + 10);
  id = generator.Next();
  EXPECT_EQ(id.unix_millis, last.unix_millis + 10);
}

TEST(Uuid7GeneratorTest, StillIncreasesWhenTheClockStepsBack) {
  // NTP can step the wall clock back; ids must not go back with it.
  ManualClock clock(kStart);
  Uuid7Generator generator(clock);
  const Uuid7 before = generator.Next();
  clock.Set(kStart - 60'000);
  Uuid7 previous = before;
  for (int i = 0; i < 10000; ++i) {
    const Uuid7 id = generator.Next();
    ASSERT_LT(previous.bytes, id.bytes) << "call " << i;
    ASSERT_LT(FormatUuid(previous.bytes), FormatUuid(id.bytes));
    ASSERT_GE(id.unix_millis, before.unix_millis);
    ASSERT_EQ(Uuid7UnixMillis(id.bytes), id.unix_millis);
    previous = id;
  }
  // Stepping back again, by a lot, changes nothing.
  clock.Set(0);
  EXPECT_LT(previous.bytes, generator.Next().bytes);
}

TEST(Uuid7GeneratorTest, UniqueAndPerThreadIncreasingAcrossThreads) {
  constexpr int kThreads = 4;
  constexpr int kPerThread = 50000;
  ManualClock clock(kStart);  // frozen: maximum contention on one millisecond
  Uuid7Generator generator(clock);
  std::vector<std::vector<UuidBytes>> ids(kThreads);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      ids[t].reserve(kPerThread);
      for (int i = 0; i < kPerThread; ++i) ids[t].push_back(generator.Next().bytes);
    });
  }
  for (auto& thread : threads) thread.join();

  std::vector<UuidBytes> all;
  for (const auto& list : ids) {
    // One thread's calls are ordered in time, so its ids must increase.
    EXPECT_TRUE(std::is_sorted(list.begin(), list.end()));
    EXPECT_EQ(std::adjacent_find(list.begin(), list.end()), list.end());
    all.insert(all.end(), list.begin(), list.end());
  }
  std::sort(all.begin(), all.end());
  EXPECT_EQ(std::adjacent_find(all.begin(), all.end()), all.end()) << "duplicate id";
  EXPECT_EQ(all.size(), static_cast<size_t>(kThreads * kPerThread));
}

}  // namespace
}  // namespace eventlogger
