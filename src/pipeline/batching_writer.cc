#include "pipeline/batching_writer.h"

#include <pthread.h>

#include <algorithm>

namespace eventlogger {

BatchingWriter::BatchingWriter(BatchingWriterOptions options, StoreSlot slot, WriteBatchFn write_batch)
    : BatchingWriter(std::move(options), std::move(write_batch),
                     [slot](const std::shared_ptr<WriteTicket>& ticket, const Status& status) {
                       ticket->Report(slot, status);
                     }) {}

namespace {

// Adapts a store's batch write and a per-ticket report to a TicketBatchFn.
BatchingWriter::TicketBatchFn WriteThenReport(BatchingWriter::WriteBatchFn write_batch,
                                              BatchingWriter::TicketDoneFn ticket_done) {
  return [write_batch = std::move(write_batch), ticket_done = std::move(ticket_done),
          events = std::vector<const Event*>()](std::span<const std::shared_ptr<WriteTicket>> tickets) mutable {
    events.clear();
    for (const auto& ticket : tickets) events.push_back(&ticket->event());
    const Status status = write_batch(EventBatch(events));
    for (const auto& ticket : tickets) ticket_done(ticket, status);
  };
}

}  // namespace

BatchingWriter::BatchingWriter(BatchingWriterOptions options, WriteBatchFn write_batch,
                               const TicketDoneFn& ticket_done)
    : BatchingWriter(std::move(options), WriteThenReport(std::move(write_batch), ticket_done), ticket_done) {}

BatchingWriter::BatchingWriter(BatchingWriterOptions options, TicketBatchFn write_tickets, TicketDoneFn stopped)
    : options_(std::move(options)), write_tickets_(std::move(write_tickets)), stopped_(std::move(stopped)) {
  thread_ = std::thread([this] { Run(); });
  const std::string thread_name = ("w-" + options_.name).substr(0, 15);
  pthread_setname_np(thread_.native_handle(), thread_name.c_str());
}

BatchingWriter::~BatchingWriter() { Stop(); }

void BatchingWriter::Submit(std::shared_ptr<WriteTicket> ticket) {
  {
    std::lock_guard lock(mutex_);
    if (!stopping_) {
      queue_.push_back(std::move(ticket));
      ticket = nullptr;
    }
  }
  if (ticket != nullptr) {
    // Only during shutdown, which stops the HTTP side first; keep the
    // contract that every slot is reported once.
    stopped_(ticket, Status::Unavailable(options_.name + " writer is stopped"));
    return;
  }
  wake_.notify_one();
}

void BatchingWriter::SubmitAll(std::span<const std::shared_ptr<WriteTicket>> tickets) {
  if (tickets.empty()) return;
  bool stopped;
  {
    std::lock_guard lock(mutex_);
    stopped = stopping_;
    if (!stopped) queue_.insert(queue_.end(), tickets.begin(), tickets.end());
  }
  if (stopped) {
    for (const auto& ticket : tickets) stopped_(ticket, Status::Unavailable(options_.name + " writer is stopped"));
    return;
  }
  wake_.notify_one();
}

void BatchingWriter::Stop() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_one();
  if (thread_.joinable()) thread_.join();
}

void BatchingWriter::Run() {
  std::vector<std::shared_ptr<WriteTicket>> taken;
  for (;;) {
    {
      std::unique_lock lock(mutex_);
      wake_.wait(lock, [&] { return stopping_ || !queue_.empty(); });
      if (queue_.empty()) return;  // stopping, and everything is written
      taken.swap(queue_);
    }
    for (size_t begin = 0; begin < taken.size(); begin += options_.max_batch_size) {
      const size_t end = std::min(taken.size(), begin + options_.max_batch_size);
      write_tickets_(std::span<const std::shared_ptr<WriteTicket>>(taken).subspan(begin, end - begin));
    }
    taken.clear();
  }
}

}  // namespace eventlogger
