// BatchingWriter: group commit for one store.
//
// A dedicated thread takes everything that queued up while the previous batch
// was being written and hands it to the store as one batch (one transaction,
// one fsync), then reports the batch's status into each ticket's slot. Under
// load, batches grow by themselves; when idle, a lone event is written at once.
//
// The queue itself is not bounded here: the EventWriter admits only a bounded
// number of events into all writers together, so memory stays flat.
//
// Thread safety: Submit may be called from any thread; Stop from one.
#pragma once

#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <thread>
#include <vector>

#include "core/event.h"
#include "core/status.h"
#include "pipeline/write_ticket.h"

namespace eventlogger {

struct BatchingWriterOptions {
  std::string name;            // for thread names and logs, e.g. "metadata"
  size_t max_batch_size = 1024;  // events per store call; bigger queues are split
};

class BatchingWriter {
 public:
  using WriteBatchFn = std::function<Status(EventBatch)>;
  // Called for each ticket of a written batch, with the batch's status.
  using TicketDoneFn = std::function<void(const std::shared_ptr<WriteTicket>&, const Status&)>;
  // Writes a batch of tickets and reports whatever slots it owns in each.
  using TicketBatchFn = std::function<void(std::span<const std::shared_ptr<WriteTicket>>)>;

  // Reports each batch's status into the tickets' `slot`.
  BatchingWriter(BatchingWriterOptions options, StoreSlot slot, WriteBatchFn write_batch);
  // Hands each ticket to `ticket_done` instead, which must report the
  // ticket's slot for this writer.
  BatchingWriter(BatchingWriterOptions options, WriteBatchFn write_batch, const TicketDoneFn& ticket_done);
  // Hands each batch of tickets to `write_tickets`, which does the rest;
  // `stopped` answers a ticket submitted after Stop(), on the submitting thread.
  BatchingWriter(BatchingWriterOptions options, TicketBatchFn write_tickets, TicketDoneFn stopped);
  BatchingWriter(const BatchingWriter&) = delete;
  BatchingWriter& operator=(const BatchingWriter&) = delete;
  ~BatchingWriter();  // Stop()s

  // Queues the ticket for the next batch. After Stop(), reports Unavailable
  // for the ticket at once instead.
  void Submit(std::shared_ptr<WriteTicket> ticket);
  // Queues them all at once (one lock, one wake-up): how one writer hands a
  // finished batch to the next.
  void SubmitAll(std::span<const std::shared_ptr<WriteTicket>> tickets);

  // Writes everything already queued, then stops the thread. Idempotent.
  void Stop();

 private:
  void Run();

  const BatchingWriterOptions options_;
  const TicketBatchFn write_tickets_;
  const TicketDoneFn stopped_;
  std::mutex mutex_;
  std::condition_variable wake_;
  std::vector<std::shared_ptr<WriteTicket>> queue_;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace eventlogger
