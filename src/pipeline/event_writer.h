// EventWriter: the write pipeline of POST /events.
//
//   admit (bounded) → intent log append (group-committed, one fdatasync per
//   batch) → the batch's metadata and document writes → settled: both stores have it (the intent record is released), or the
//   failure is handed to the retry worker, which records it in the outbox
//   and only then releases the intent record.
//
// The intent is durable before any store sees the event, so a crash at any
// instant leaves either nothing (the request was never acknowledged) or an
// intent-log record that the next start moves into the outbox for the retry
// worker to complete. A store whose circuit breaker is open is skipped: its
// slot reports at once and the worker writes it later.
//
// The store writes themselves skip their fsync (WriteBatchWithoutSync): the
// intent log already holds every event durably, so one fsync per batch is
// enough on the request path. A syncer thread makes the stores durable every
// sync_interval (SyncWrites) and only then releases the intent records of
// the events written before it; after an OS crash or power loss, whatever
// the stores lost is still in the log and is replayed at the next start.
//
// Why a log and not the outbox table for intents: the outbox is a SQLite
// B-tree, and inserting then deleting every event there cost more CPU than
// either store write (docs/performance.md). The log is appended once; only
// the rare failed event enters the outbox.
//
// Who writes the stores (StoreWriters): for remote stores, a writer thread
// per store, so a batch's two network round trips overlap; for the embedded
// stores, the intent writer itself, right after the append. Their unsynced
// writes are a few microseconds of memory work per event, less than what
// handing each batch to two more threads and waking them cost (measured:
// about 12% of the service's CPU under POST load; docs/performance.md).
// Only an append of hundreds of events (batch requests) is handed over
// there too: a few microseconds per event, serial behind each append,
// would otherwise cap batch ingest at what one thread writes.
//
// Admission bounds how many events are anywhere in the pipeline, so a slow
// store turns into fast 503s instead of growing memory.
//
// Thread safety: Submit may be called from any thread.
#pragma once

#include <atomic>
#include <chrono>
#include <cstddef>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <span>
#include <thread>
#include <vector>

#include "core/clock.h"
#include "core/status.h"
#include "durability/circuit_breaker.h"
#include "durability/intent_log.h"
#include "durability/retry_worker.h"
#include "pipeline/batching_writer.h"
#include "pipeline/store_write_stats.h"
#include "pipeline/write_ticket.h"
#include "storage/document_store.h"
#include "storage/metadata_store.h"

namespace eventlogger {

// Which threads write the two stores.
enum class StoreWriters {
  kPerStore,      // one writer thread per store; a batch's two writes run in parallel
  kIntentWriter,  // the intent writer, after each append: documents, then metadata
};

struct EventWriterOptions {
  size_t max_in_flight = 8192;   // events admitted but not yet reported by every writer
  size_t max_batch_size = 1024;  // events per store call
  // How often the stores are synced and settled intent records released:
  // bounds how much of the intent log a restart after a power loss replays.
  std::chrono::milliseconds sync_interval{100};
  // Settled events whose stores have not synced yet; beyond it, new writes
  // get 503 (a store whose syncs keep failing must not grow the intent log,
  // and this queue, without bound).
  size_t max_unsynced = 1'000'000;
  // After a request-path failure, the worker's first retry waits up to this.
  std::chrono::milliseconds first_retry_delay{200};
  StoreWriters store_writers = StoreWriters::kPerStore;
  // kIntentWriter: an append of at least this many events (batch requests)
  // hands its store writes to the per-store threads instead, so the next
  // append need not wait for them: then the intent writer alone is no
  // longer the cap. Smaller appends (single POSTs under load: tens of
  // events) stay on the intent writer, where they cost least.
  size_t hand_over_batch_events = 256;
};

// The parts the pipeline writes to and reports into; all must outlive it.
struct EventWriterParts {
  IntentLog& intent_log;
  MetadataStore& metadata;
  DocumentStore& documents;
  CircuitBreaker& metadata_breaker;
  CircuitBreaker& document_breaker;
  RetryWorker& retry_worker;
  const Clock& clock;
};

class EventWriter {
 public:
  EventWriter(EventWriterParts parts, EventWriterOptions options);
  EventWriter(const EventWriter&) = delete;
  EventWriter& operator=(const EventWriter&) = delete;
  ~EventWriter();

  // Admits the ticket into the pipeline. ResourceExhausted (and nothing
  // queued) when max_in_flight events are already in flight.
  // REQUIRES: the ticket's completion callback, if any, is already set.
  Status Submit(const std::shared_ptr<WriteTicket>& ticket);
  // Admits all the tickets or none (ResourceExhausted): a batch request's
  // events, appended to the intent log together.
  Status SubmitAll(std::span<const std::shared_ptr<WriteTicket>> tickets);

  // Finishes every admitted write, then stops the writer threads, syncs the
  // stores and releases what they hold.
  void Stop();

  // Syncs the stores and releases every settled intent record now. Stop()
  // does this too; call it again after the retry worker has stopped, as its
  // last recordings of failures come after the writers have stopped.
  void FlushReleases();

  size_t in_flight() const { return in_flight_.load(std::memory_order_relaxed); }
  // The request path's batch writes to each store (latency, batch sizes, failures).
  const StoreWriteStats& metadata_stats() const { return metadata_stats_; }
  const StoreWriteStats& document_stats() const { return document_stats_; }

 private:
  // The intent writer's batch: append, then hand over or write the stores.
  void WriteIntents(std::span<const std::shared_ptr<WriteTicket>> tickets);
  // The intent was not recorded: every slot fails, no store is touched.
  void ReportNotRecorded(const std::shared_ptr<WriteTicket>& ticket, const Status& status);
  void OnReleased(const WriteTicket& ticket);
  // The event of `segment` is in both stores (unsynced) or in the outbox:
  // its intent record goes once the stores have synced.
  void DeferRelease(uint64_t segment);
  void RunSyncer();
  // Syncs both stores; on success releases `segments`, else keeps them queued.
  void SyncAndRelease(std::vector<uint64_t>& segments);

  const EventWriterParts parts_;
  const EventWriterOptions options_;
  std::atomic<size_t> in_flight_{0};
  StoreWriteStats metadata_stats_;
  StoreWriteStats document_stats_;

  std::mutex release_mutex_;
  std::condition_variable release_wake_;
  std::vector<uint64_t> pending_releases_;  // one intent-log segment per settled event
  std::atomic<size_t> unsynced_{0};         // events deferred and not yet released
  bool syncer_stopping_ = false;
  std::mutex sync_mutex_;  // one SyncAndRelease at a time (syncer vs FlushReleases)
  std::thread syncer_;
  std::vector<const Event*> intent_events_;  // the intent writer's batch, reused
  std::unique_ptr<BatchingWriter> metadata_writer_;  // kPerStore, or kIntentWriter's large appends
  std::unique_ptr<BatchingWriter> document_writer_;
  BatchingWriter intent_writer_;  // declared last: stopped first, it feeds the other two
};

}  // namespace eventlogger
