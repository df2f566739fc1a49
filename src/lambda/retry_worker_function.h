// RetryWorkerFunction: the SQS-triggered function (`eventlogger worker`)
// that completes the store writes an API invocation could not make. Each
// SQS record holds one RetryMessage (durability/retry_message.h).
//
// Per invocation: decode every record; write the events still missing from
// the metadata store in one batch and those missing from the document store
// in another (both synced, idempotent by eventId, so a message delivered
// twice is harmless); answer the partial batch response
//   {"batchItemFailures": [{"itemIdentifier": "<messageId>"}, …]}
// naming every record that is not done, so that SQS deletes the others and
// redelivers only these (and, after the queue's maxReceiveCount, moves them
// to the dead-letter queue). A record is named when:
//   - it is poisoned: not from SQS, or its body is not a retry message;
//   - a store write it needs failed (a batch that fails for another reason
//     than the store being unreachable is retried one event at a time, so
//     one bad event does not hold back the rest);
//   - the invocation's deadline came before it was attempted.
// An event that is not an SQS event at all is an invocation error.
//
// Thread safety: Invoke from one thread at a time.
#pragma once

#include <chrono>

#include "lambda/function.h"
#include "storage/document_store.h"
#include "storage/metadata_store.h"

namespace eventlogger::lambda {

struct RetryWorkerFunctionOptions {
  // No new store write starts closer than this to the deadline.
  std::chrono::milliseconds deadline_margin{2000};
};

class RetryWorkerFunction final : public Function {
 public:
  RetryWorkerFunction(MetadataStore& metadata, DocumentStore& documents, RetryWorkerFunctionOptions options = {});

  Result<std::string> Invoke(const Invocation& invocation) override;

 private:
  MetadataStore& metadata_;
  DocumentStore& documents_;
  const RetryWorkerFunctionOptions options_;
};

}  // namespace eventlogger::lambda
