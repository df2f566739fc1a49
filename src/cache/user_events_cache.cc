#include "cache/user_events_cache.h"

namespace eventlogger {
namespace {

// What an entry costs besides its body and key: list node, map node, the
// shared_ptr control block. An estimate; it keeps many tiny entries honest.
constexpr size_t kEntryOverheadBytes = 128;

}  // namespace

UserEventsCache::UserEventsCache(UserEventsCacheOptions options)
    : options_(options), shard_budget_(options.max_bytes / kShards) {}

UserEventsCache::Slot UserEventsCache::Locate(std::string_view user_id) {
  const size_t hash = Hash()(user_id);
  // Low bits pick the shard, the next bits the stripe, so the two are independent.
  return Slot{&shards_[hash % kShards], (hash / kShards) % kStripesPerShard};
}

void UserEventsCache::Erase(Shard& shard, std::list<Entry>::iterator it) {
  shard.bytes -= it->bytes;
  shard.index.erase(it->user_id);
  shard.lru.erase(it);
}

UserEventsCache::Body UserEventsCache::Find(std::string_view user_id) {
  if (!enabled()) return nullptr;
  const Slot slot = Locate(user_id);
  Shard& shard = *slot.shard;
  std::lock_guard lock(shard.mutex);
  const auto found = shard.index.find(user_id);
  if (found == shard.index.end()) {
    misses_.fetch_add(1, std::memory_order_relaxed);
    return nullptr;
  }
  const auto it = found->second;
  if (options_.max_age.count() > 0 && Clock::now() - it->inserted > options_.max_age) {
    Erase(shard, it);
    evictions_.fetch_add(1, std::memory_order_relaxed);
    misses_.fetch_add(1, std::memory_order_relaxed);
    return nullptr;
  }
  shard.lru.splice(shard.lru.begin(), shard.lru, it);
  hits_.fetch_add(1, std::memory_order_relaxed);
  return it->body;
}

UserEventsCache::Token UserEventsCache::BeginRead(std::string_view user_id) {
  const Slot slot = Locate(user_id);
  std::lock_guard lock(slot.shard->mutex);
  return slot.shard->generations[slot.stripe];
}

bool UserEventsCache::Insert(std::string_view user_id, Token token, Body body) {
  if (!enabled() || body == nullptr) return false;
  // What the body holds in memory, not its length: a string built by
  // appending can have up to twice its length allocated.
  const size_t bytes = body->Bytes() + user_id.size() + kEntryOverheadBytes;
  if (body->body.size() > options_.max_entry_bytes || bytes > shard_budget_) return false;
  const Slot slot = Locate(user_id);
  Shard& shard = *slot.shard;
  std::lock_guard lock(shard.mutex);
  // Written since the read began: this body may predate the write.
  if (shard.generations[slot.stripe] != token) return false;
  if (const auto found = shard.index.find(user_id); found != shard.index.end()) {
    Erase(shard, found->second);
  }
  shard.lru.push_front(Entry{std::string(user_id), std::move(body), bytes, Clock::now()});
  shard.index.emplace(shard.lru.front().user_id, shard.lru.begin());
  shard.bytes += bytes;
  while (shard.bytes > shard_budget_) {
    Erase(shard, std::prev(shard.lru.end()));
    evictions_.fetch_add(1, std::memory_order_relaxed);
  }
  return true;
}

void UserEventsCache::Invalidate(std::string_view user_id) {
  const Slot slot = Locate(user_id);
  Shard& shard = *slot.shard;
  std::lock_guard lock(shard.mutex);
  ++shard.generations[slot.stripe];
  if (const auto found = shard.index.find(user_id); found != shard.index.end()) {
    Erase(shard, found->second);
    invalidations_.fetch_add(1, std::memory_order_relaxed);
  }
}

UserEventsCacheStats UserEventsCache::Stats() const {
  UserEventsCacheStats stats;
  stats.hits = hits_.load(std::memory_order_relaxed);
  stats.misses = misses_.load(std::memory_order_relaxed);
  stats.invalidations = invalidations_.load(std::memory_order_relaxed);
  stats.evictions = evictions_.load(std::memory_order_relaxed);
  for (const Shard& shard : shards_) {
    std::lock_guard lock(shard.mutex);
    stats.entries += static_cast<int64_t>(shard.lru.size());
    stats.bytes += static_cast<int64_t>(shard.bytes);
  }
  return stats;
}

}  // namespace eventlogger
