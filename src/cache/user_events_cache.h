// UserEventsCache: the rendered first page of GET /events/{userId} (the
// default query) per user, kept in memory so a hot user's page is served on
// the io thread without touching the document store, re-rendering JSON or
// hashing it for its ETag again.
//
// Bounded by bytes (least recently used entries go first) and, optionally,
// by age. Coherence comes from invalidation, not expiry: every document write
// calls Invalidate(user) after it commits (CacheInvalidatingDocumentStore
// does this for the writer and the retry worker alike). A read that raced a
// write must not put its older answer back, so a read takes a token before it
// scans the store and Insert refuses the answer if the user was invalidated
// since (tokens are per-user generation counters, hashed into stripes so
// they need no memory per user ever seen; a collision only costs a skipped
// insert).
//
// That is exact only when this process sees every write to the store: the
// embedded RocksDB store (which one process owns at a time). For a store
// shared by several instances (DynamoDB) the service sets max_age, which
// bounds how stale an entry can be.
//
// Thread safety: every method may be called from any thread; the map is
// split into shards with a mutex each, and no lock is held across I/O.
#pragma once

#include <array>
#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <list>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace eventlogger {

struct UserEventsCacheOptions {
  // Total budget for bodies and keys (their allocations); 0 disables the
  // cache. 32 MiB keeps the whole service under 150 MiB of RSS with every
  // cache full under POST load (docs/performance.md, memory); 64 MiB reached
  // 183 MiB there.
  size_t max_bytes = 32 << 20;
  size_t max_entry_bytes = 1 << 20;   // larger answers are not cached (one would evict many)
  std::chrono::milliseconds max_age{0};  // 0: entries live until invalidated or evicted
};

struct UserEventsCacheStats {
  int64_t hits = 0;
  int64_t misses = 0;
  int64_t invalidations = 0;  // entries dropped because their user was written
  int64_t evictions = 0;      // entries dropped for space or age
  int64_t entries = 0;
  int64_t bytes = 0;
};

// One cached answer: the body and the header values that go with it.
struct CachedAnswer {
  std::string body;
  std::string etag;       // the ETag field value
  std::string next_link;  // the Link field value; empty on a last page
  // When the first of its events' retention ends (Unix ms): the answer is
  // stale from then on. INT64_MAX: never.
  int64_t visible_until_ms = INT64_MAX;

  // What it holds in memory: the strings' allocations, not their lengths.
  size_t Bytes() const { return sizeof(CachedAnswer) + body.capacity() + etag.capacity() + next_link.capacity(); }
};

class UserEventsCache {
 public:
  using Body = std::shared_ptr<const CachedAnswer>;
  using Token = uint64_t;

  explicit UserEventsCache(UserEventsCacheOptions options);
  UserEventsCache(const UserEventsCache&) = delete;
  UserEventsCache& operator=(const UserEventsCache&) = delete;

  bool enabled() const { return options_.max_bytes > 0; }

  // The cached answer, or nullptr (counted as a miss).
  Body Find(std::string_view user_id);

  // Call before reading the store for `user_id`; pass the token to Insert.
  Token BeginRead(std::string_view user_id);
  // Caches `body` unless the user was invalidated after BeginRead, or the
  // body is over max_entry_bytes. Returns whether it was cached.
  bool Insert(std::string_view user_id, Token token, Body body);

  // The user's documents changed (or may have): drop the entry, and make any
  // read already under way unable to insert.
  void Invalidate(std::string_view user_id);

  UserEventsCacheStats Stats() const;

 private:
  static constexpr size_t kShards = 16;
  static constexpr size_t kStripesPerShard = 256;
  using Clock = std::chrono::steady_clock;

  struct Entry {
    std::string user_id;
    Body body;
    size_t bytes = 0;
    Clock::time_point inserted;
  };
  struct Hash {
    using is_transparent = void;
    size_t operator()(std::string_view s) const { return std::hash<std::string_view>()(s); }
  };
  struct Shard {
    mutable std::mutex mutex;
    std::list<Entry> lru;  // most recently used first
    std::unordered_map<std::string, std::list<Entry>::iterator, Hash, std::equal_to<>> index;
    size_t bytes = 0;
    std::array<uint64_t, kStripesPerShard> generations{};
  };

  struct Slot {
    Shard* shard;
    size_t stripe;
  };
  Slot Locate(std::string_view user_id);
  // REQUIRES: shard.mutex held.
  void Erase(Shard& shard, std::list<Entry>::iterator it);

  const UserEventsCacheOptions options_;
  const size_t shard_budget_;
  std::array<Shard, kShards> shards_;
  std::atomic<int64_t> hits_{0}, misses_{0}, invalidations_{0}, evictions_{0};
};

}  // namespace eventlogger
