// Metrics in the Prometheus text exposition format (version 0.0.4), served
// at GET /metrics. Today: the write pipeline and the durability machinery
// (queue depth, group commit, oldest pending age, dead letters, retries,
// breaker states) and the read cache.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace eventlogger {

struct MetricsSnapshot {
  // eventlogger_build_info's labels.
  std::string_view metadata_store;  // e.g. "sqlite"
  std::string_view document_store;  // e.g. "rocksdb"
  int64_t writes_in_flight = 0;
  int64_t intent_log_unreleased_events = 0;
  int64_t intent_log_live_segments = 0;
  int64_t intent_log_appends_total = 0;
  int64_t intent_log_appended_events_total = 0;
  double intent_log_append_seconds_total = 0;
  int64_t outbox_pending = 0;
  int64_t outbox_dead = 0;
  double outbox_oldest_pending_age_seconds = 0;
  int64_t retry_attempts_total = 0;
  int64_t retry_recovered_total = 0;
  int64_t retry_dead_lettered_total = 0;
  int metadata_breaker_state = 0;  // 0 closed, 1 open, 2 half-open
  int document_breaker_state = 0;
  int64_t read_cache_hits_total = 0;
  int64_t read_cache_misses_total = 0;
  int64_t read_cache_invalidations_total = 0;
  int64_t read_cache_evictions_total = 0;
  int64_t read_cache_entries = 0;
  int64_t read_cache_bytes = 0;
  // Pages read from the document store: on the io thread, from memory, or
  // on the blocking pool (a store that may wait, or a page not all in memory).
  int64_t page_reads_in_memory_total = 0;
  int64_t page_reads_blocking_total = 0;
  int64_t rate_limited_total = 0;
  // The privacy lifecycle, in this process since start.
  int64_t erasures_done_total = 0;
  int64_t erasures_failed_total = 0;
  int64_t retention_metadata_deleted_total = 0;
  int64_t retention_documents_deleted_total = 0;
  int64_t retention_sweep_failures_total = 0;
  // Refused credentials by reason ("missing", "unknown_key", …).
  std::vector<std::pair<std::string_view, int64_t>> auth_failures_total;
};

std::string RenderPrometheus(const MetricsSnapshot& snapshot);

}  // namespace eventlogger
