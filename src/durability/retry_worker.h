// RetryWorker: the background half of the durability promise.
//
// It records the request path's failures in the outbox (an event that
// reached both stores never comes here), and on a steady beat takes pending entries that are
// due, writes each missing store in one batch per store, and records the
// result: done, next attempt (backoff with full jitter), or dead letter. On
// start every pending entry is made due: after a crash nothing is in flight.
// Its store writes feed the circuit breakers, so a recovered store is
// noticed even when no request dares to use it.
//
// Thread safety: Enqueue and counters from any thread; Start/Stop from one.
#pragma once

#include <atomic>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <random>
#include <thread>
#include <vector>

#include "core/clock.h"
#include "durability/circuit_breaker.h"
#include "durability/outbox.h"
#include "durability/retry_policy.h"
#include "storage/document_store.h"
#include "storage/metadata_store.h"

namespace eventlogger {

struct RetryWorkerOptions {
  RetryPolicy policy;
  std::chrono::milliseconds poll_interval{250};  // how often due entries are looked for
  int batch_limit = 512;                         // entries taken per round
  // True for an event an erasure covers: its entry is removed, not written
  // back into a store the erasure emptied. Unset: none is.
  std::function<bool(const Event&)> is_erased;
};

struct RetryCounters {
  int64_t attempts = 0;       // worker attempts made (one per entry per round)
  int64_t recovered = 0;      // entries the worker brought into both stores
  int64_t dead_lettered = 0;  // entries given up on
};

class RetryWorker {
 public:
  RetryWorker(Outbox& outbox, MetadataStore& metadata, DocumentStore& documents,
              CircuitBreaker& metadata_breaker, CircuitBreaker& document_breaker, const Clock& clock,
              RetryWorkerOptions options);
  RetryWorker(const RetryWorker&) = delete;
  RetryWorker& operator=(const RetryWorker&) = delete;
  ~RetryWorker();  // Stop()s

  // Makes pending entries due and starts the thread.
  Status Start();
  // Applies every queued resolution, then stops. Idempotent.
  void Stop();

  // Queues a request-path outcome for the outbox (cheap; never blocks on I/O).
  void Enqueue(OutboxResolution resolution);

  // One round, synchronously: apply resolutions, retry what is due. For
  // tests and for `eventlogger retry` on a stopped data dir.
  Status RunOnce();

  RetryCounters counters() const;

 private:
  void Run();
  Status ApplyResolutions();
  Status RetryDue();

  Outbox& outbox_;
  MetadataStore& metadata_;
  DocumentStore& documents_;
  CircuitBreaker& metadata_breaker_;
  CircuitBreaker& document_breaker_;
  const Clock& clock_;
  const RetryWorkerOptions options_;

  std::mutex mutex_;
  std::condition_variable wake_;
  std::vector<OutboxResolution> resolutions_;
  bool stopping_ = false;
  std::thread thread_;

  std::mutex round_mutex_;  // one round at a time (thread vs RunOnce)
  std::mt19937_64 random_{std::random_device{}()};
  std::atomic<int64_t> attempts_{0};
  std::atomic<int64_t> recovered_{0};
  std::atomic<int64_t> dead_lettered_{0};
};

}  // namespace eventlogger
