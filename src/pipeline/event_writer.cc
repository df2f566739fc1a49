#include "pipeline/event_writer.h"

#include <pthread.h>

#include <chrono>
#include <string>

#include "core/log.h"

namespace eventlogger {
namespace {

// One store's batch write on the request path; every outcome also feeds its
// breaker and the store's stats. The intent log covers the write until the
// syncer has synced it; a failure sends the batch to the outbox.
template <typename Store>
Status WriteUnsynced(Store& store, CircuitBreaker& breaker, StoreWriteStats& stats, EventBatch batch) {
  const auto started = std::chrono::steady_clock::now();
  Status status = store.WriteBatchWithoutSync(batch);
  stats.latency.Observe(std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count());
  stats.batch_size.Observe(static_cast<double>(batch.size()));
  if (status.ok()) {
    breaker.RecordSuccess();
  } else {
    breaker.RecordFailure();
    stats.failures.fetch_add(1, std::memory_order_relaxed);
    log::Warn("store write failed; the events go to the outbox for retry",
              {{"store", store.Kind()}, {"events", static_cast<int64_t>(batch.size())},
               {"eventIds", EventIdList(batch)}, {"error", status.ToString()}});
  }
  return status;
}

Status CircuitOpen(StoreSlot slot) {
  return Status::Unavailable(slot == StoreSlot::kMetadata ? "metadata store circuit open"
                                                          : "document store circuit open");
}

// kIntentWriter: writes `batch` to one store (unless its breaker is open)
// and reports the store's slot in every ticket.
template <typename Store>
void WriteStore(Store& store, CircuitBreaker& breaker, StoreWriteStats& stats, StoreSlot slot, EventBatch batch,
                std::span<const std::shared_ptr<WriteTicket>> tickets) {
  const Status status = breaker.Allow() ? WriteUnsynced(store, breaker, stats, batch) : CircuitOpen(slot);
  for (const auto& ticket : tickets) ticket->Report(slot, status);
}

}  // namespace

EventWriter::EventWriter(EventWriterParts parts, EventWriterOptions options)
    : parts_(parts),
      options_(options),
      intent_writer_({"intents", options.max_batch_size},
                     [this](std::span<const std::shared_ptr<WriteTicket>> tickets) { WriteIntents(tickets); },
                     [this](const std::shared_ptr<WriteTicket>& ticket, const Status& status) {
                       ReportNotRecorded(ticket, status);
                     }) {
  {
    metadata_writer_ = std::make_unique<BatchingWriter>(
        BatchingWriterOptions{"metadata", options.max_batch_size}, StoreSlot::kMetadata,
        [this](EventBatch batch) {
          return WriteUnsynced(parts_.metadata, parts_.metadata_breaker, metadata_stats_, batch);
        });
    document_writer_ = std::make_unique<BatchingWriter>(
        BatchingWriterOptions{"documents", options.max_batch_size}, StoreSlot::kDocument,
        [this](EventBatch batch) {
          return WriteUnsynced(parts_.documents, parts_.document_breaker, document_stats_, batch);
        });
  }
  syncer_ = std::thread([this] { RunSyncer(); });
  pthread_setname_np(syncer_.native_handle(), "store-syncer");
}

EventWriter::~EventWriter() { Stop(); }

Status EventWriter::Submit(const std::shared_ptr<WriteTicket>& ticket) {
  if (unsynced_.load(std::memory_order_relaxed) >= options_.max_unsynced) {
    return Status::ResourceExhausted("the stores have not synced; too many writes wait for it");
  }
  if (in_flight_.fetch_add(1, std::memory_order_relaxed) >= options_.max_in_flight) {
    in_flight_.fetch_sub(1, std::memory_order_relaxed);
    return Status::ResourceExhausted("too many writes in flight");
  }
  ticket->SetOnReleased([this](const WriteTicket& released) { OnReleased(released); });
  intent_writer_.Submit(ticket);
  return Status::Ok();
}

Status EventWriter::SubmitAll(std::span<const std::shared_ptr<WriteTicket>> tickets) {
  if (tickets.empty()) return Status::Ok();
  if (unsynced_.load(std::memory_order_relaxed) >= options_.max_unsynced) {
    return Status::ResourceExhausted("the stores have not synced; too many writes wait for it");
  }
  const size_t count = tickets.size();
  if (in_flight_.fetch_add(count, std::memory_order_relaxed) + count > options_.max_in_flight) {
    in_flight_.fetch_sub(count, std::memory_order_relaxed);
    return Status::ResourceExhausted("too many writes in flight");
  }
  for (const auto& ticket : tickets) {
    ticket->SetOnReleased([this](const WriteTicket& released) { OnReleased(released); });
  }
  // One hand-over: the intent writer takes them in one batch (split only at
  // max_batch_size), so they share an append and its fdatasync.
  intent_writer_.SubmitAll(tickets);
  return Status::Ok();
}

void EventWriter::WriteIntents(std::span<const std::shared_ptr<WriteTicket>> tickets) {
  intent_events_.clear();
  for (const auto& ticket : tickets) intent_events_.push_back(&ticket->event());
  const EventBatch batch(intent_events_);
  const Result<uint64_t> segment = parts_.intent_log.Append(batch);
  if (!segment.ok()) {
    for (const auto& ticket : tickets) ReportNotRecorded(ticket, segment.status());
    return;
  }
  // Reported before any store write, so a store that stalls still lets the
  // request answer "queued" after the store timeout.
  for (const auto& ticket : tickets) {
    ticket->set_intent_segment(*segment);
    ticket->Report(StoreSlot::kOutbox, Status::Ok());
  }
  if (options_.store_writers == StoreWriters::kIntentWriter && tickets.size() < options_.hand_over_batch_events) {
    // Documents first: a GET reads them, and a stalled metadata store then
    // still leaves the event readable.
    WriteStore(parts_.documents, parts_.document_breaker, document_stats_, StoreSlot::kDocument, batch, tickets);
    WriteStore(parts_.metadata, parts_.metadata_breaker, metadata_stats_, StoreSlot::kMetadata, batch, tickets);
    return;
  }
  const auto hand_over = [&tickets](BatchingWriter& writer, CircuitBreaker& breaker, StoreSlot slot) {
    if (breaker.Allow()) {
      writer.SubmitAll(tickets);
    } else {
      for (const auto& ticket : tickets) ticket->Report(slot, CircuitOpen(slot));
    }
  };
  hand_over(*metadata_writer_, parts_.metadata_breaker, StoreSlot::kMetadata);
  hand_over(*document_writer_, parts_.document_breaker, StoreSlot::kDocument);
}

void EventWriter::ReportNotRecorded(const std::shared_ptr<WriteTicket>& ticket, const Status& status) {
  // Nothing durable: do not touch the stores, so "503" means "stored nowhere".
  ticket->Report(StoreSlot::kOutbox, status);
  ticket->Report(StoreSlot::kMetadata, Status::Unavailable("not attempted: intent log write failed"));
  ticket->Report(StoreSlot::kDocument, Status::Unavailable("not attempted: intent log write failed"));
}

void EventWriter::OnReleased(const WriteTicket& ticket) {
  // The admission slot is given back last, after the event is settled or
  // handed to the worker, so that in_flight() == 0 means "nothing left to do".
  struct SlotRelease {
    std::atomic<size_t>& in_flight;
    ~SlotRelease() { in_flight.fetch_sub(1, std::memory_order_relaxed); }
  } slot_release{in_flight_};
  const WriteOutcome results = ticket.Results();
  const std::function<void()>& settled = ticket.on_settled();
  if (!results.outbox.ok()) {
    // Answered "not stored": the log voided what it may have written.
    if (settled) settled();
    return;
  }
  const uint64_t segment = ticket.intent_segment();
  if (results.metadata.ok() && results.document.ok()) {
    DeferRelease(segment);
    if (settled) settled();
    return;
  }
  OutboxResolution resolution;
  resolution.event_id = ticket.event().event_id;
  resolution.event = ticket.shared_event();
  // The store that did succeed wrote without a sync: the record waits for
  // the syncer even once the outbox has the event.
  resolution.on_recorded = [this, segment, settled] {
    DeferRelease(segment);
    if (settled) settled();
  };
  resolution.metadata_done = results.metadata.ok();
  resolution.document_done = results.document.ok();
  if (!resolution.metadata_done) resolution.error = results.metadata.ToString();
  else if (!resolution.document_done) resolution.error = results.document.ToString();
  resolution.next_attempt_ms = parts_.clock.NowUnixMillis() + options_.first_retry_delay.count();
  parts_.retry_worker.Enqueue(std::move(resolution));
}

void EventWriter::DeferRelease(uint64_t segment) {
  unsynced_.fetch_add(1, std::memory_order_relaxed);
  std::lock_guard lock(release_mutex_);
  pending_releases_.push_back(segment);
}

void EventWriter::RunSyncer() {
  std::vector<uint64_t> segments;
  for (;;) {
    bool stopping;
    {
      std::unique_lock lock(release_mutex_);
      release_wake_.wait_for(lock, options_.sync_interval, [&] { return syncer_stopping_; });
      stopping = syncer_stopping_;
    }
    if (stopping) return;  // Stop() flushes after the writers are quiet
    {
      std::lock_guard lock(release_mutex_);
      segments.swap(pending_releases_);
    }
    if (!segments.empty()) SyncAndRelease(segments);
  }
}

void EventWriter::SyncAndRelease(std::vector<uint64_t>& segments) {
  std::lock_guard sync_lock(sync_mutex_);
  // Everything in `segments` was written before this point, so these syncs cover it.
  Status status = parts_.metadata.SyncWrites();
  if (status.ok()) status = parts_.documents.SyncWrites();
  if (!status.ok()) {
    // The records stay (the log grows) until a sync succeeds.
    log::Error("store sync failed; intent records kept", {{"error", status.ToString()}});
    std::lock_guard lock(release_mutex_);
    pending_releases_.insert(pending_releases_.end(), segments.begin(), segments.end());
    segments.clear();
    return;
  }
  // Consecutive events mostly share a segment: one Release per run.
  for (size_t begin = 0; begin < segments.size();) {
    size_t end = begin + 1;
    while (end < segments.size() && segments[end] == segments[begin]) ++end;
    parts_.intent_log.Release(segments[begin], end - begin);
    begin = end;
  }
  unsynced_.fetch_sub(segments.size(), std::memory_order_relaxed);
  segments.clear();
}

void EventWriter::FlushReleases() {
  std::vector<uint64_t> segments;
  {
    std::lock_guard lock(release_mutex_);
    segments.swap(pending_releases_);
  }
  if (!segments.empty()) SyncAndRelease(segments);
}

void EventWriter::Stop() {
  intent_writer_.Stop();  // first: it hands tickets to the store writers
  if (metadata_writer_) metadata_writer_->Stop();
  if (document_writer_) document_writer_->Stop();
  {
    std::lock_guard lock(release_mutex_);
    syncer_stopping_ = true;
  }
  release_wake_.notify_all();
  if (syncer_.joinable()) syncer_.join();
  FlushReleases();
}

}  // namespace eventlogger
