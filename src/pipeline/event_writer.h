// EventWriter: the write fan-out. Sends each event to the metadata writer and
// the document writer at once (neither waits for the other) and bounds how
// many events may be in flight across both, so a slow store turns into fast
// 503s instead of growing memory.
//
// The seam for durable retries: a third writer (the outbox) will take a slot
// next to these two, and the retry worker will consume what the outcome
// reports as failed.
//
// Thread safety: Submit may be called from any thread.
#pragma once

#include <atomic>
#include <cstddef>
#include <memory>

#include "core/status.h"
#include "pipeline/batching_writer.h"
#include "pipeline/write_ticket.h"
#include "storage/document_store.h"
#include "storage/metadata_store.h"

namespace eventlogger {

struct EventWriterOptions {
  size_t max_in_flight = 8192;   // events admitted but not yet reported by every store
  size_t max_batch_size = 1024;  // events per store call
};

class EventWriter {
 public:
  // The stores must outlive the writer.
  EventWriter(MetadataStore& metadata, DocumentStore& documents, EventWriterOptions options);
  EventWriter(const EventWriter&) = delete;
  EventWriter& operator=(const EventWriter&) = delete;
  ~EventWriter();

  // Admits the ticket and queues it on both store writers. ResourceExhausted
  // (and nothing queued) when max_in_flight events are already in flight.
  // REQUIRES: the ticket's completion callback, if any, is already set.
  Status Submit(const std::shared_ptr<WriteTicket>& ticket);

  // Finishes every admitted write, then stops the writer threads.
  void Stop();

  size_t in_flight() const { return in_flight_.load(std::memory_order_relaxed); }

 private:
  const EventWriterOptions options_;
  std::atomic<size_t> in_flight_{0};
  BatchingWriter metadata_writer_;
  BatchingWriter document_writer_;
};

}  // namespace eventlogger
