#include "core/histogram.h"

#include <cmath>
#include <cstdio>

namespace eventlogger {

Histogram::Histogram(std::vector<double> bounds)
    : bounds_(std::move(bounds)), counts_(new std::atomic<uint64_t>[bounds_.size() + 1]) {
  for (size_t i = 0; i <= bounds_.size(); ++i) counts_[i].store(0, std::memory_order_relaxed);
}

void Histogram::Observe(double value) {
  size_t bucket = 0;
  while (bucket < bounds_.size() && value > bounds_[bucket]) ++bucket;
  counts_[bucket].fetch_add(1, std::memory_order_relaxed);
  if (value > 0) sum_micro_.fetch_add(static_cast<uint64_t>(std::llround(value * 1e6)), std::memory_order_relaxed);
}

uint64_t Histogram::count() const {
  uint64_t total = 0;
  for (size_t i = 0; i <= bounds_.size(); ++i) total += counts_[i].load(std::memory_order_relaxed);
  return total;
}

void Histogram::Render(std::string& out, std::string_view name, std::string_view labels) const {
  const std::string prefix = labels.empty() ? std::string() : std::string(labels) + ",";
  uint64_t cumulative = 0;
  char line[64];
  for (size_t i = 0; i <= bounds_.size(); ++i) {
    cumulative += counts_[i].load(std::memory_order_relaxed);
    out.append(name).append("_bucket{").append(prefix).append("le=\"");
    if (i < bounds_.size()) {
      std::snprintf(line, sizeof line, "%g", bounds_[i]);
      out.append(line);
    } else {
      out.append("+Inf");
    }
    std::snprintf(line, sizeof line, "\"} %llu\n", static_cast<unsigned long long>(cumulative));
    out.append(line);
  }
  const std::string braces = labels.empty() ? std::string() : "{" + std::string(labels) + "}";
  std::snprintf(line, sizeof line, " %.6f\n", static_cast<double>(sum_micro_.load(std::memory_order_relaxed)) / 1e6);
  out.append(name).append("_sum").append(braces).append(line);
  std::snprintf(line, sizeof line, " %llu\n", static_cast<unsigned long long>(cumulative));
  out.append(name).append("_count").append(braces).append(line);
}

}  // namespace eventlogger
