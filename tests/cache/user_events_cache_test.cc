// Tests for UserEventsCache: hits and misses, the byte budget and LRU order,
// age expiry, and above all that a read racing a write can never put an
// answer older than the write back into the cache.
#include "cache/user_events_cache.h"

#include <gtest/gtest.h>

#include <atomic>
#include <string>
#include <thread>
#include <vector>

namespace eventlogger {
namespace {

UserEventsCache::Body Text(std::string s) {
  return std::make_shared<const CachedAnswer>(CachedAnswer{std::move(s), "\"tag\"", ""});
}

bool Put(UserEventsCache& cache, const std::string& user, std::string body) {
  return cache.Insert(user, cache.BeginRead(user), Text(std::move(body)));
}

TEST(UserEventsCacheTest, MissThenHitReturnsTheSameBytes) {
  UserEventsCache cache({});
  EXPECT_EQ(cache.Find("u1"), nullptr);
  ASSERT_TRUE(Put(cache, "u1", "[1]"));
  const UserEventsCache::Body hit = cache.Find("u1");
  ASSERT_NE(hit, nullptr);
  EXPECT_EQ(hit->body, "[1]");
  EXPECT_EQ(cache.Find("u2"), nullptr);  // other users are not affected
  const UserEventsCacheStats stats = cache.Stats();
  EXPECT_EQ(stats.hits, 1);
  EXPECT_EQ(stats.misses, 2);
  EXPECT_EQ(stats.entries, 1);
  EXPECT_GE(stats.bytes, 5);
}

TEST(UserEventsCacheTest, InvalidateDropsTheEntry) {
  UserEventsCache cache({});
  ASSERT_TRUE(Put(cache, "u1", "[1]"));
  ASSERT_TRUE(Put(cache, "u2", "[2]"));
  cache.Invalidate("u1");
  EXPECT_EQ(cache.Find("u1"), nullptr);
  ASSERT_NE(cache.Find("u2"), nullptr);
  EXPECT_EQ(cache.Stats().invalidations, 1);
  // Invalidating a user with no entry is fine and counts nothing.
  cache.Invalidate("nobody");
  EXPECT_EQ(cache.Stats().invalidations, 1);
}

TEST(UserEventsCacheTest, AReadThatStartedBeforeAWriteCannotInsert) {
  UserEventsCache cache({});
  // The reader takes its token, then scans the store (old contents)...
  const UserEventsCache::Token token = cache.BeginRead("u1");
  // ...meanwhile a write commits and invalidates...
  cache.Invalidate("u1");
  // ...so the reader's older answer is refused.
  EXPECT_FALSE(cache.Insert("u1", token, Text("[old]")));
  EXPECT_EQ(cache.Find("u1"), nullptr);
  // A read that starts after the write may insert.
  EXPECT_TRUE(Put(cache, "u1", "[old,new]"));
  EXPECT_EQ(cache.Find("u1")->body, "[old,new]");
}

TEST(UserEventsCacheTest, AnInsertReplacesTheUsersEarlierEntry) {
  UserEventsCache cache({});
  ASSERT_TRUE(Put(cache, "u1", "[1]"));
  ASSERT_TRUE(Put(cache, "u1", "[1,2]"));
  EXPECT_EQ(cache.Find("u1")->body, "[1,2]");
  EXPECT_EQ(cache.Stats().entries, 1);
}

TEST(UserEventsCacheTest, StaysWithinItsByteBudgetEvictingTheLeastRecentlyUsed) {
  // 16 shards of 4 KiB: each holds at most a few 1 KiB answers.
  UserEventsCache cache({.max_bytes = 64 << 10});
  const std::string body(1000, 'x');
  for (int i = 0; i < 1000; ++i) Put(cache, "user-" + std::to_string(i), body);
  const UserEventsCacheStats stats = cache.Stats();
  EXPECT_LE(stats.bytes, 64 << 10);
  EXPECT_GT(stats.entries, 16);
  EXPECT_LT(stats.entries, 64);
  EXPECT_EQ(stats.evictions, 1000 - stats.entries);
  // The most recent insert survives; the first ones are long gone.
  EXPECT_NE(cache.Find("user-999"), nullptr);
  EXPECT_EQ(cache.Find("user-0"), nullptr);
}

TEST(UserEventsCacheTest, ChargesWhatABodyHoldsInMemoryNotItsLength) {
  UserEventsCache cache({.max_bytes = 64 << 10});
  std::string body = "[1]";
  body.reserve(3000);  // as an answer grown by appending can be
  const size_t held = body.capacity();
  ASSERT_TRUE(Put(cache, "u1", std::move(body)));
  EXPECT_GE(cache.Stats().bytes, static_cast<int64_t>(held));
}

TEST(UserEventsCacheTest, AHitMakesAnEntryRecentlyUsed) {
  // One shard's worth of budget per shard: 3 entries of ~1 KiB fit per shard.
  UserEventsCache cache({.max_bytes = 16 * 3300});
  const std::string body(1000, 'x');
  // Find users that land in one shard by watching evictions: insert until
  // the first eviction, touching "keep" before each insert.
  ASSERT_TRUE(Put(cache, "keep", body));
  for (int i = 0; i < 200; ++i) {
    ASSERT_NE(cache.Find("keep"), nullptr) << "evicted although used before every insert, at " << i;
    Put(cache, "other-" + std::to_string(i), body);
  }
  EXPECT_GT(cache.Stats().evictions, 0);
}

TEST(UserEventsCacheTest, RefusesAnswersOverTheEntryLimit) {
  UserEventsCache cache({.max_bytes = 64 << 20, .max_entry_bytes = 100});
  EXPECT_FALSE(Put(cache, "u1", std::string(101, 'x')));
  EXPECT_TRUE(Put(cache, "u1", std::string(100, 'x')));
}

TEST(UserEventsCacheTest, ZeroBytesDisablesIt) {
  UserEventsCache cache({.max_bytes = 0});
  EXPECT_FALSE(cache.enabled());
  EXPECT_FALSE(Put(cache, "u1", "[]"));
  EXPECT_EQ(cache.Find("u1"), nullptr);
  EXPECT_EQ(cache.Stats().misses, 0);  // a disabled cache reports no traffic
}

TEST(UserEventsCacheTest, EntriesOlderThanMaxAgeAreNotServed) {
  UserEventsCache cache({.max_age = std::chrono::milliseconds(30)});
  ASSERT_TRUE(Put(cache, "u1", "[1]"));
  EXPECT_NE(cache.Find("u1"), nullptr);
  std::this_thread::sleep_for(std::chrono::milliseconds(60));
  EXPECT_EQ(cache.Find("u1"), nullptr);
  EXPECT_EQ(cache.Stats().evictions, 1);
  EXPECT_EQ(cache.Stats().entries, 0);
}

TEST(UserEventsCacheTest, ConcurrentReadersAndWritersNeverServeAnOlderVersion) {
  // A writer publishes versions 1, 2, 3... of one user's answer: it bumps the
  // "store" and then invalidates, as CacheInvalidatingDocumentStore does.
  // Readers read through the cache. Once a writer has finished publishing
  // version v, no later Find may return anything older than v.
  UserEventsCache cache({});
  std::atomic<int> store{0};
  std::atomic<int> published{0};
  std::atomic<bool> stop{false};
  std::atomic<int> violations{0};
  std::atomic<int64_t> reads{0};
  std::vector<std::thread> readers;
  for (int r = 0; r < 3; ++r) {
    readers.emplace_back([&] {
      while (!stop.load()) {
        const int floor = published.load();
        int seen;
        if (UserEventsCache::Body hit = cache.Find("u")) {
          seen = std::stoi(hit->body);
        } else {
          const UserEventsCache::Token token = cache.BeginRead("u");
          seen = store.load();
          cache.Insert("u", token, Text(std::to_string(seen)));
        }
        if (seen < floor) violations.fetch_add(1);
        reads.fetch_add(1);
      }
    });
  }
  // Publish while the readers run, until they have made plenty of reads
  // (bounded in time, not a benchmark).
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  for (int v = 1; reads.load() < 200000 && std::chrono::steady_clock::now() < deadline; ++v) {
    store.store(v);
    cache.Invalidate("u");
    published.store(v);
    if (v % 64 == 0) std::this_thread::yield();
  }
  stop.store(true);
  for (std::thread& t : readers) t.join();
  EXPECT_EQ(violations.load(), 0);
  EXPECT_GE(reads.load(), 200000);
  EXPECT_GT(cache.Stats().hits, 0);
  EXPECT_GT(published.load(), 100);
}

}  // namespace
}  // namespace eventlogger
