#include "pipeline/batching_writer.h"

#include <pthread.h>

#include <algorithm>

namespace eventlogger {

BatchingWriter::BatchingWriter(BatchingWriterOptions options, StoreSlot slot, WriteBatchFn write_batch)
    : BatchingWriter(std::move(options), std::move(write_batch),
                     [slot](const std::shared_ptr<WriteTicket>& ticket, const Status& status) {
                       ticket->Report(slot, status);
                     }) {}

BatchingWriter::BatchingWriter(BatchingWriterOptions options, WriteBatchFn write_batch,
                               TicketDoneFn ticket_done)
    : options_(std::move(options)),
      write_batch_(std::move(write_batch)),
      ticket_done_(std::move(ticket_done)) {
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
    ticket_done_(ticket, Status::Unavailable(options_.name + " writer is stopped"));
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
  std::vector<const Event*> batch;
  for (;;) {
    {
      std::unique_lock lock(mutex_);
      wake_.wait(lock, [&] { return stopping_ || !queue_.empty(); });
      if (queue_.empty()) return;  // stopping, and everything is written
      taken.swap(queue_);
    }
    for (size_t begin = 0; begin < taken.size(); begin += options_.max_batch_size) {
      const size_t end = std::min(taken.size(), begin + options_.max_batch_size);
      batch.clear();
      for (size_t i = begin; i < end; ++i) batch.push_back(&taken[i]->event());
      const Status status = write_batch_(EventBatch(batch));
      for (size_t i = begin; i < end; ++i) ticket_done_(taken[i], status);
    }
    taken.clear();
  }
}

}  // namespace eventlogger
