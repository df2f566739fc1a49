#include "ops/metrics.h"

#include <cstdio>

#include "core/version.h"

namespace eventlogger {
namespace {

void Metric(std::string& out, std::string_view name, std::string_view type, std::string_view help,
            double value, std::string_view labels = {}) {
  out += "# HELP ";
  out += name;
  out += ' ';
  out += help;
  out += "\n# TYPE ";
  out += name;
  out += ' ';
  out += type;
  out += '\n';
  out += name;
  out += labels;
  char buffer[64];
  std::snprintf(buffer, sizeof buffer, " %.17g\n", value);
  out += buffer;
}

}  // namespace

std::string RenderPrometheus(const MetricsSnapshot& s) {
  std::string out;
  out.append("# HELP eventlogger_build_info The running build and the stores it uses (always 1).\n"
             "# TYPE eventlogger_build_info gauge\n"
             "eventlogger_build_info{version=\"")
      .append(kVersion)
      .append("\",metadata_store=\"")
      .append(s.metadata_store)
      .append("\",document_store=\"")
      .append(s.document_store)
      .append("\"} 1\n");
  Metric(out, "eventlogger_writes_in_flight", "gauge", "Events admitted to the write pipeline and not yet finished.",
         static_cast<double>(s.writes_in_flight));
  Metric(out, "eventlogger_intent_log_unreleased_events", "gauge",
         "Events in the intent log not yet in both stores or in the outbox.",
         static_cast<double>(s.intent_log_unreleased_events));
  Metric(out, "eventlogger_intent_log_live_segments", "gauge", "Intent-log segment files still needed.",
         static_cast<double>(s.intent_log_live_segments));
  // Group commit: appended events / appends is the mean batch, seconds /
  // appends the mean time of one write and fdatasync.
  Metric(out, "eventlogger_intent_log_appends_total", "counter",
         "Batches written and synced to the intent log (one write and one fdatasync each).",
         static_cast<double>(s.intent_log_appends_total));
  Metric(out, "eventlogger_intent_log_appended_events_total", "counter",
         "Events in the batches written and synced to the intent log.",
         static_cast<double>(s.intent_log_appended_events_total));
  Metric(out, "eventlogger_intent_log_append_seconds_total", "counter",
         "Time spent writing and syncing intent-log batches.", s.intent_log_append_seconds_total);
  Metric(out, "eventlogger_outbox_pending", "gauge", "Events waiting in the outbox for a store write to succeed.",
         static_cast<double>(s.outbox_pending));
  Metric(out, "eventlogger_outbox_dead_letters", "gauge", "Events the retry worker gave up on, kept for replay.",
         static_cast<double>(s.outbox_dead));
  Metric(out, "eventlogger_outbox_oldest_pending_age_seconds", "gauge",
         "Age of the oldest pending outbox entry (0 when none).", s.outbox_oldest_pending_age_seconds);
  Metric(out, "eventlogger_retry_attempts_total", "counter", "Retry-worker attempts since start.",
         static_cast<double>(s.retry_attempts_total));
  Metric(out, "eventlogger_retry_recovered_total", "counter",
         "Events the retry worker brought into both stores since start.", static_cast<double>(s.retry_recovered_total));
  Metric(out, "eventlogger_retry_dead_lettered_total", "counter", "Events moved to the dead letters since start.",
         static_cast<double>(s.retry_dead_lettered_total));
  Metric(out, "eventlogger_rate_limited_total", "counter", "Requests refused with 429 by the rate limit.",
         static_cast<double>(s.rate_limited_total));
  {
    out += "# HELP eventlogger_auth_failures_total Requests refused with 401, by reason.\n"
           "# TYPE eventlogger_auth_failures_total counter\n";
    for (const auto& [reason, count] : s.auth_failures_total) {
      char buffer[64];
      std::snprintf(buffer, sizeof buffer, " %lld\n", static_cast<long long>(count));
      out.append("eventlogger_auth_failures_total{reason=\"").append(reason).append("\"}").append(buffer);
    }
  }
  Metric(out, "eventlogger_read_cache_hits_total", "counter", "GET /events/{userId} answers served from the read cache.",
         static_cast<double>(s.read_cache_hits_total));
  Metric(out, "eventlogger_read_cache_misses_total", "counter", "GET /events/{userId} answers read from the document store.",
         static_cast<double>(s.read_cache_misses_total));
  Metric(out, "eventlogger_read_cache_invalidations_total", "counter",
         "Cached answers dropped because their user was written.", static_cast<double>(s.read_cache_invalidations_total));
  Metric(out, "eventlogger_read_cache_evictions_total", "counter", "Cached answers dropped for space or age.",
         static_cast<double>(s.read_cache_evictions_total));
  Metric(out, "eventlogger_read_cache_entries", "gauge", "Answers in the read cache.",
         static_cast<double>(s.read_cache_entries));
  Metric(out, "eventlogger_read_cache_bytes", "gauge", "Memory charged to the read cache.",
         static_cast<double>(s.read_cache_bytes));
  out += "# HELP eventlogger_page_reads_total Pages of GET /events/{userId} read from the document store: on the io "
         "thread from memory, or on the blocking pool.\n"
         "# TYPE eventlogger_page_reads_total counter\n";
  out += "eventlogger_page_reads_total{where=\"memory\"} " + std::to_string(s.page_reads_in_memory_total) + "\n";
  out += "eventlogger_page_reads_total{where=\"blocking_pool\"} " + std::to_string(s.page_reads_blocking_total) + "\n";
  Metric(out, "eventlogger_erasures_done_total", "counter", "Erasure jobs this process finished, receipt signed.",
         static_cast<double>(s.erasures_done_total));
  Metric(out, "eventlogger_erasures_failed_total", "counter",
         "Erasure jobs this process ended as failed (a legal hold stopped them).",
         static_cast<double>(s.erasures_failed_total));
  out += "# HELP eventlogger_retention_deleted_total Expired events deleted by retention sweeps, per store.\n"
         "# TYPE eventlogger_retention_deleted_total counter\n";
  out += "eventlogger_retention_deleted_total{store=\"metadata\"} " + std::to_string(s.retention_metadata_deleted_total) + "\n";
  out += "eventlogger_retention_deleted_total{store=\"documents\"} " + std::to_string(s.retention_documents_deleted_total) + "\n";
  Metric(out, "eventlogger_retention_sweep_failures_total", "counter", "Retention sweeps a store error cut short.",
         static_cast<double>(s.retention_sweep_failures_total));
  out += "# HELP eventlogger_store_circuit_state Circuit breaker state per store: 0 closed, 1 open, 2 half-open.\n";
  out += "# TYPE eventlogger_store_circuit_state gauge\n";
  out += "eventlogger_store_circuit_state{store=\"metadata\"} " + std::to_string(s.metadata_breaker_state) + "\n";
  out += "eventlogger_store_circuit_state{store=\"documents\"} " + std::to_string(s.document_breaker_state) + "\n";
  return out;
}

}  // namespace eventlogger
