// RetentionSweeper: deletes events past their retention (RetentionPolicy)
// from both stores, in bounded batches, on a beat, skipping users under a
// legal hold. Reads hide expired events from the moment they expire; the
// sweep is what frees the space (where DynamoDB's TTL is on, it only does
// what TTL has not done yet).
//
// Thread safety: every method may be called from any thread.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <string>
#include <thread>

#include "core/clock.h"
#include "core/status.h"
#include "privacy/privacy_registry.h"
#include "storage/document_store.h"
#include "storage/metadata_store.h"

namespace eventlogger {

struct RetentionSweepOptions {
  std::chrono::milliseconds interval{std::chrono::hours(1)};
  int batch_size = 1000;  // rows or documents per statement or round trip

  std::string Validate() const;
};

struct RetentionSweepStats {
  int64_t sweeps = 0;
  int64_t metadata_deleted = 0;
  int64_t documents_deleted = 0;
  int64_t failures = 0;
};

class RetentionSweeper {
 public:
  RetentionSweeper(RetentionSweepOptions options, MetadataStore& metadata, DocumentStore& documents,
                   PrivacyRegistry& registry, const Clock& clock);
  ~RetentionSweeper();
  RetentionSweeper(const RetentionSweeper&) = delete;
  RetentionSweeper& operator=(const RetentionSweeper&) = delete;

  // Starts the beat (nothing to do, and no thread, without retention rules).
  void Start();
  void Stop();

  // One whole sweep on the calling thread (the beat; tests; the CLI).
  Status SweepOnce();

  RetentionSweepStats Stats() const;

 private:
  void Loop();

  const RetentionSweepOptions options_;
  MetadataStore& metadata_;
  DocumentStore& documents_;
  PrivacyRegistry& registry_;
  const Clock& clock_;

  std::mutex sweep_mutex_;  // one sweep at a time
  std::mutex mutex_;
  std::condition_variable wake_;
  bool stopping_ = false;
  std::thread thread_;
  std::atomic<int64_t> sweeps_{0}, metadata_deleted_{0}, documents_deleted_{0}, failures_{0};
};

}  // namespace eventlogger
