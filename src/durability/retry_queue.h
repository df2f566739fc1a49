// RetryQueue: a durable place outside this process for an event that did
// not reach both stores, for deployments whose local disk does not outlive
// the process (AWS Lambda, containers without a volume). There the local
// intent log and outbox still retry while the process lives, but the
// request path answers "queued" (202) only once the event is also here.
//
// SqsRetryQueue (durability/sqs_retry_queue.h) is the one implementation;
// `eventlogger worker` consumes it.
//
// Thread safety: implementations may be called from any thread.
#pragma once

#include <chrono>
#include <cstddef>

#include "core/status.h"
#include "durability/retry_message.h"

namespace eventlogger {

class RetryQueue {
 public:
  RetryQueue() = default;
  RetryQueue(const RetryQueue&) = delete;
  RetryQueue& operator=(const RetryQueue&) = delete;
  virtual ~RetryQueue() = default;

  // Durably queues the message, or fails (nothing queued, or possibly
  // queued twice: consumers are idempotent). Bounded by `deadline`.
  virtual Status Enqueue(const RetryMessage& message, std::chrono::steady_clock::time_point deadline) = 0;
  // Whether the queue is reachable and accepts us (readiness, init).
  virtual Status Ping() = 0;
  // The largest encoded message it takes.
  virtual size_t max_message_bytes() const = 0;
  virtual const char* Kind() const = 0;
};

}  // namespace eventlogger
