// HttpMetrics: requests by route and status, and their durations as a
// histogram by route, for /metrics. Recorded once per response on the io
// threads, so recording is a few relaxed increments on counters sharded by
// thread: no lock, and no cache line shared by two io threads.
//
// Thread safety: Record from any thread; Render from any thread (it reads
// each counter once; a scrape may miss increments made while it runs).
#pragma once

#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "http/http_server.h"

namespace eventlogger {

class HttpMetrics final : public http::RequestObserver {
 public:
  // Routes as the router names them; anything else counts as "unmatched".
  static constexpr std::array<std::string_view, 8> kRoutes = {
      "/events", "/events/{userId}", "/events/{userId}/{eventId}", "/healthz", "/readyz", "/metrics",
      "/openapi.json", "unmatched"};
  // The statuses this service answers with; any other counts as "other".
  static constexpr std::array<unsigned, 19> kStatuses = {200, 201, 202, 204, 304, 400, 401, 403, 404, 405,
                                                         409, 413, 415, 422, 429, 431, 500, 503, 0};
  // Upper bounds of the duration buckets, in seconds (+Inf is implied).
  static constexpr std::array<double, 14> kBuckets = {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05,
                                                      0.1,    0.25,  0.5,    1,     2.5,  5,     10};

  HttpMetrics();
  ~HttpMetrics() override;

  void Observe(std::string_view route, unsigned status, std::chrono::nanoseconds elapsed) override;

  // Appends eventlogger_http_requests_total and
  // eventlogger_http_request_duration_seconds in the Prometheus text format.
  void Render(std::string& out) const;

 private:
  struct Shard;
  static constexpr size_t kShards = 8;
  std::unique_ptr<Shard[]> shards_;
};

}  // namespace eventlogger
