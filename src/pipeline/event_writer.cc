#include "pipeline/event_writer.h"

namespace eventlogger {
namespace {

// Wraps a store's batch write so every outcome also feeds its breaker.
template <typename Store>
BatchingWriter::WriteBatchFn GuardedWrite(Store& store, CircuitBreaker& breaker) {
  return [&store, &breaker](EventBatch batch) {
    Status status = store.WriteBatch(batch);
    status.ok() ? breaker.RecordSuccess() : breaker.RecordFailure();
    return status;
  };
}

}  // namespace

EventWriter::EventWriter(EventWriterParts parts, EventWriterOptions options)
    : parts_(parts),
      options_(options),
      metadata_writer_({"metadata", options.max_batch_size}, StoreSlot::kMetadata,
                       GuardedWrite(parts.metadata, parts.metadata_breaker)),
      document_writer_({"documents", options.max_batch_size}, StoreSlot::kDocument,
                       GuardedWrite(parts.documents, parts.document_breaker)),
      outbox_writer_(
          {"outbox", options.max_batch_size},
          [this](EventBatch batch) {
            return parts_.outbox.RecordIntents(
                batch, parts_.clock.NowUnixMillis() + options_.retry_grace.count());
          },
          [this](const std::shared_ptr<WriteTicket>& ticket, const Status& status) {
            OnIntentWritten(ticket, status);
          }) {}

EventWriter::~EventWriter() { Stop(); }

Status EventWriter::Submit(const std::shared_ptr<WriteTicket>& ticket) {
  if (in_flight_.fetch_add(1, std::memory_order_relaxed) >= options_.max_in_flight) {
    in_flight_.fetch_sub(1, std::memory_order_relaxed);
    return Status::ResourceExhausted("too many writes in flight");
  }
  ticket->SetOnReleased([this](const WriteTicket& released) { OnReleased(released); });
  outbox_writer_.Submit(ticket);
  return Status::Ok();
}

void EventWriter::OnIntentWritten(const std::shared_ptr<WriteTicket>& ticket, const Status& status) {
  ticket->Report(StoreSlot::kOutbox, status);
  if (!status.ok()) {
    // Nothing durable: do not touch the stores, so "503" means "stored nowhere".
    ticket->Report(StoreSlot::kMetadata, Status::Unavailable("not attempted: outbox write failed"));
    ticket->Report(StoreSlot::kDocument, Status::Unavailable("not attempted: outbox write failed"));
    return;
  }
  if (parts_.metadata_breaker.Allow()) {
    metadata_writer_.Submit(ticket);
  } else {
    ticket->Report(StoreSlot::kMetadata, Status::Unavailable("metadata store circuit open"));
  }
  if (parts_.document_breaker.Allow()) {
    document_writer_.Submit(ticket);
  } else {
    ticket->Report(StoreSlot::kDocument, Status::Unavailable("document store circuit open"));
  }
}

void EventWriter::OnReleased(const WriteTicket& ticket) {
  in_flight_.fetch_sub(1, std::memory_order_relaxed);
  const WriteOutcome results = ticket.Results();
  if (!results.outbox.ok()) return;  // never recorded, never acknowledged
  OutboxResolution resolution;
  resolution.event_id = ticket.event().event_id;
  resolution.metadata_done = results.metadata.ok();
  resolution.document_done = results.document.ok();
  if (!resolution.metadata_done) resolution.error = results.metadata.ToString();
  else if (!resolution.document_done) resolution.error = results.document.ToString();
  resolution.next_attempt_ms = parts_.clock.NowUnixMillis() + options_.first_retry_delay.count();
  parts_.retry_worker.Enqueue(std::move(resolution));
}

void EventWriter::Stop() {
  outbox_writer_.Stop();  // first: it hands tickets to the store writers
  metadata_writer_.Stop();
  document_writer_.Stop();
}

}  // namespace eventlogger
