#include "ops/http_metrics.h"

#include <cstdio>

namespace eventlogger {
namespace {

constexpr size_t kRouteCount = HttpMetrics::kRoutes.size();
constexpr size_t kStatusCount = HttpMetrics::kStatuses.size();
constexpr size_t kBucketCount = HttpMetrics::kBuckets.size() + 1;  // and +Inf

size_t RouteIndex(std::string_view route) {
  for (size_t i = 0; i + 1 < kRouteCount; ++i) {
    if (HttpMetrics::kRoutes[i] == route) return i;
  }
  return kRouteCount - 1;
}

size_t StatusIndex(unsigned status) {
  for (size_t i = 0; i + 1 < kStatusCount; ++i) {
    if (HttpMetrics::kStatuses[i] == status) return i;
  }
  return kStatusCount - 1;
}

size_t BucketIndex(double seconds) {
  for (size_t i = 0; i < HttpMetrics::kBuckets.size(); ++i) {
    if (seconds <= HttpMetrics::kBuckets[i]) return i;
  }
  return kBucketCount - 1;
}

// Each thread sticks to one shard, chosen round-robin as threads first record.
size_t ThisThreadShard(size_t shards) {
  static std::atomic<size_t> next{0};
  thread_local const size_t shard = next.fetch_add(1, std::memory_order_relaxed);
  return shard % shards;
}

void Append(std::string& out, uint64_t value) {
  char buffer[32];
  std::snprintf(buffer, sizeof buffer, " %llu\n", static_cast<unsigned long long>(value));
  out += buffer;
}

}  // namespace

struct alignas(64) HttpMetrics::Shard {
  std::array<std::array<std::atomic<uint64_t>, kStatusCount>, kRouteCount> requests{};
  std::array<std::array<std::atomic<uint64_t>, kBucketCount>, kRouteCount> buckets{};
  std::array<std::atomic<uint64_t>, kRouteCount> nanoseconds{};
};

HttpMetrics::HttpMetrics() : shards_(new Shard[kShards]) {}
HttpMetrics::~HttpMetrics() = default;

void HttpMetrics::Observe(std::string_view route, unsigned status, std::chrono::nanoseconds elapsed) {
  Shard& shard = shards_[ThisThreadShard(kShards)];
  const size_t r = RouteIndex(route);
  const double seconds = std::chrono::duration<double>(elapsed).count();
  shard.requests[r][StatusIndex(status)].fetch_add(1, std::memory_order_relaxed);
  shard.buckets[r][BucketIndex(seconds)].fetch_add(1, std::memory_order_relaxed);
  shard.nanoseconds[r].fetch_add(static_cast<uint64_t>(elapsed.count() < 0 ? 0 : elapsed.count()),
                                 std::memory_order_relaxed);
}

void HttpMetrics::Render(std::string& out) const {
  out += "# HELP eventlogger_http_requests_total HTTP responses sent, by route template and status.\n"
         "# TYPE eventlogger_http_requests_total counter\n";
  for (size_t r = 0; r < kRouteCount; ++r) {
    for (size_t s = 0; s < kStatusCount; ++s) {
      uint64_t total = 0;
      for (size_t i = 0; i < kShards; ++i) total += shards_[i].requests[r][s].load(std::memory_order_relaxed);
      if (total == 0) continue;  // a series appears once it has counted something
      const std::string status = kStatuses[s] == 0 ? "other" : std::to_string(kStatuses[s]);
      out.append("eventlogger_http_requests_total{route=\"").append(kRoutes[r]);
      out.append("\",status=\"").append(status).append("\"}");
      Append(out, total);
    }
  }
  out += "# HELP eventlogger_http_request_duration_seconds Time from a request's first byte to its response "
         "written, by route template.\n"
         "# TYPE eventlogger_http_request_duration_seconds histogram\n";
  for (size_t r = 0; r < kRouteCount; ++r) {
    uint64_t cumulative = 0;
    uint64_t nanoseconds = 0;
    std::array<uint64_t, kBucketCount> counts{};
    for (size_t i = 0; i < kShards; ++i) {
      for (size_t b = 0; b < kBucketCount; ++b) counts[b] += shards_[i].buckets[r][b].load(std::memory_order_relaxed);
      nanoseconds += shards_[i].nanoseconds[r].load(std::memory_order_relaxed);
    }
    uint64_t observed = 0;
    for (uint64_t c : counts) observed += c;
    if (observed == 0) continue;
    const std::string labels = "{route=\"" + std::string(kRoutes[r]) + "\"";
    for (size_t b = 0; b < kBucketCount; ++b) {
      cumulative += counts[b];
      char le[32];
      if (b < kBuckets.size()) {
        std::snprintf(le, sizeof le, "%g", kBuckets[b]);
      } else {
        std::snprintf(le, sizeof le, "+Inf");
      }
      out.append("eventlogger_http_request_duration_seconds_bucket").append(labels).append(",le=\"");
      out.append(le).append("\"}");
      Append(out, cumulative);
    }
    char sum[64];
    std::snprintf(sum, sizeof sum, " %.9f\n", static_cast<double>(nanoseconds) / 1e9);
    out.append("eventlogger_http_request_duration_seconds_sum").append(labels).append("}").append(sum);
    out.append("eventlogger_http_request_duration_seconds_count").append(labels).append("}");
    Append(out, cumulative);
  }
}

}  // namespace eventlogger
