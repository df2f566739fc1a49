// What the request path's writes to one store did, for /metrics: how long
// each batch took, how big batches were, and how many failed.
#pragma once

#include <atomic>
#include <cstdint>

#include "core/histogram.h"

namespace eventlogger {

struct StoreWriteStats {
  // Seconds per batch write (one transaction, one BatchWriteItem round…).
  Histogram latency{{0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5}};
  // Events per batch: group commit at work.
  Histogram batch_size{{1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024}};
  std::atomic<int64_t> failures{0};  // batch writes that failed (each event then goes to the outbox)
};

}  // namespace eventlogger
