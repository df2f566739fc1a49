#include "pipeline/event_writer.h"

namespace eventlogger {

EventWriter::EventWriter(MetadataStore& metadata, DocumentStore& documents,
                         EventWriterOptions options)
    : options_(options),
      metadata_writer_({"metadata", options.max_batch_size}, StoreSlot::kMetadata,
                       [&metadata](EventBatch batch) { return metadata.WriteBatch(batch); }),
      document_writer_({"documents", options.max_batch_size}, StoreSlot::kDocument,
                       [&documents](EventBatch batch) { return documents.WriteBatch(batch); }) {}

EventWriter::~EventWriter() { Stop(); }

Status EventWriter::Submit(const std::shared_ptr<WriteTicket>& ticket) {
  if (in_flight_.fetch_add(1, std::memory_order_relaxed) >= options_.max_in_flight) {
    in_flight_.fetch_sub(1, std::memory_order_relaxed);
    return Status::ResourceExhausted("too many writes in flight");
  }
  ticket->SetOnReleased([this] { in_flight_.fetch_sub(1, std::memory_order_relaxed); });
  metadata_writer_.Submit(ticket);
  document_writer_.Submit(ticket);
  return Status::Ok();
}

void EventWriter::Stop() {
  metadata_writer_.Stop();
  document_writer_.Stop();
}

}  // namespace eventlogger
