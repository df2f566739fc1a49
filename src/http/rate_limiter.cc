#include "http/rate_limiter.h"

#include <algorithm>
#include <cmath>

namespace eventlogger::http {

RateLimiter::RateLimiter(RateLimitOptions options)
    : rate_(std::max(0.0, options.rate)),
      burst_(options.burst > 0 ? options.burst : std::max(1.0, options.rate)),
      max_per_shard_(std::max<size_t>(1, options.max_buckets / kShards)) {}

RateDecision RateLimiter::Take(std::string_view client, Clock::time_point now) {
  Shard& shard = shards_[Hash()(client) % kShards];
  std::lock_guard lock(shard.mutex);
  auto found = shard.index.find(client);
  if (found == shard.index.end()) {
    if (shard.index.size() >= max_per_shard_) {
      // Too many clients active at once: forget the least recent one.
      shard.index.erase(shard.lru.back().client);
      shard.lru.pop_back();
    } else if (shard.index.size() >= shard.sweep_at) {
      Sweep(shard, now);
    }
    shard.lru.push_front(Bucket{std::string(client), burst_, now});
    found = shard.index.emplace(shard.lru.front().client, shard.lru.begin()).first;
  } else {
    shard.lru.splice(shard.lru.begin(), shard.lru, found->second);
  }
  Bucket& bucket = *found->second;
  const double elapsed = std::chrono::duration<double>(now - bucket.updated).count();
  if (elapsed > 0) {
    bucket.tokens = std::min(burst_, bucket.tokens + elapsed * rate_);
    bucket.updated = now;
  }
  RateDecision decision;
  decision.limit = static_cast<int64_t>(std::floor(burst_));
  if (bucket.tokens >= 1) {
    bucket.tokens -= 1;
  } else {
    decision.allowed = false;
    decision.retry_after_seconds = std::max<int64_t>(1, static_cast<int64_t>(std::ceil((1 - bucket.tokens) / rate_)));
    refused_.fetch_add(1, std::memory_order_relaxed);
  }
  decision.remaining = static_cast<int64_t>(std::floor(bucket.tokens));
  decision.reset_seconds = static_cast<int64_t>(std::ceil((burst_ - bucket.tokens) / rate_));
  return decision;
}

void RateLimiter::Sweep(Shard& shard, Clock::time_point now) {
  // A bucket that would be full by now holds nothing worth keeping.
  const auto full_after = std::chrono::duration<double>(burst_ / rate_);
  for (auto it = shard.lru.begin(); it != shard.lru.end();) {
    if (std::chrono::duration<double>(now - it->updated) >= full_after) {
      shard.index.erase(it->client);
      it = shard.lru.erase(it);
    } else {
      ++it;
    }
  }
  // Sweep again when the shard has doubled, so sweeps cost O(1) per insert.
  shard.sweep_at = std::max<size_t>(64, shard.index.size() * 2);
}

size_t RateLimiter::buckets() const {
  size_t total = 0;
  for (const Shard& shard : shards_) {
    std::lock_guard lock(shard.mutex);
    total += shard.index.size();
  }
  return total;
}

}  // namespace eventlogger::http
