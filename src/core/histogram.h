// Histogram: a Prometheus-style histogram with fixed bucket bounds, for
// metrics recorded on a few threads (a store's writer thread, say). Each
// observation is two relaxed atomic increments and one add.
//
// Thread safety: Observe and Render from any thread.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace eventlogger {

class Histogram {
 public:
  // `bounds`: the buckets' upper bounds, increasing (+Inf is implied).
  explicit Histogram(std::vector<double> bounds);

  void Observe(double value);

  // Appends the _bucket, _sum and _count series of `name`, with `labels`
  // ("store=\"metadata\"", or empty) on each. HELP and TYPE are the caller's.
  void Render(std::string& out, std::string_view name, std::string_view labels) const;

  uint64_t count() const;

 private:
  const std::vector<double> bounds_;
  std::unique_ptr<std::atomic<uint64_t>[]> counts_;  // bounds_.size() + 1, not cumulative
  std::atomic<uint64_t> sum_micro_{0};                // the sum, in millionths
};

}  // namespace eventlogger
