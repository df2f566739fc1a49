// RateLimiter: a token bucket per client (the client's address today; the
// API key once there are keys). Each bucket holds up to `burst` tokens and
// refills at `rate` per second; a request takes one or is refused.
//
// Memory stays bounded under any number of clients: a bucket that has
// refilled completely is the same as no bucket, so idle ones are dropped
// (each shard sweeps itself when it has grown), and a shard that is still
// full after a sweep drops its least recently used buckets (which only
// forgives a client, never punishes one).
//
// Thread safety: every method may be called from any thread; the buckets
// are split into shards with a mutex each.
#pragma once

#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <list>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>

namespace eventlogger::http {

struct RateLimitOptions {
  double rate = 0;   // tokens per second; 0 turns limiting off
  double burst = 0;  // bucket size; 0: max(1, rate)
  size_t max_buckets = 1 << 20;  // across all shards
};

struct RateDecision {
  bool allowed = true;
  int64_t limit = 0;          // the bucket's size (RateLimit-Limit)
  int64_t remaining = 0;      // whole tokens left after this request (RateLimit-Remaining)
  int64_t reset_seconds = 0;  // until the bucket is full again, rounded up (RateLimit-Reset)
  int64_t retry_after_seconds = 0;  // refused: until one token is back, rounded up (Retry-After)
};

class RateLimiter {
 public:
  using Clock = std::chrono::steady_clock;

  explicit RateLimiter(RateLimitOptions options);
  RateLimiter(const RateLimiter&) = delete;
  RateLimiter& operator=(const RateLimiter&) = delete;

  bool enabled() const { return rate_ > 0; }

  // Takes one token from `client`'s bucket at `now`. REQUIRES: enabled().
  RateDecision Take(std::string_view client, Clock::time_point now);

  size_t buckets() const;       // how many are held (for tests and metrics)
  int64_t refused() const { return refused_.load(std::memory_order_relaxed); }

 private:
  static constexpr size_t kShards = 16;
  struct Bucket {
    std::string client;
    double tokens = 0;
    Clock::time_point updated;
  };
  struct Hash {
    using is_transparent = void;
    size_t operator()(std::string_view s) const { return std::hash<std::string_view>()(s); }
  };
  struct Shard {
    mutable std::mutex mutex;
    std::list<Bucket> lru;  // most recently used first
    std::unordered_map<std::string, std::list<Bucket>::iterator, Hash, std::equal_to<>> index;
    size_t sweep_at = 64;   // sweep idle buckets when the shard grows past this
  };
  // REQUIRES: shard.mutex held.
  void Sweep(Shard& shard, Clock::time_point now);

  const double rate_;
  const double burst_;
  const size_t max_per_shard_;
  std::array<Shard, kShards> shards_;
  std::atomic<int64_t> refused_{0};
};

}  // namespace eventlogger::http
