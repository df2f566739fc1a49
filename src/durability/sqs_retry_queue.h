// SqsRetryQueue: the RetryQueue on an Amazon SQS queue, one message per
// event (durability/retry_message.h gives the body).
#pragma once

#include <memory>

#include "aws/sqs_client.h"
#include "durability/retry_queue.h"

namespace eventlogger {

class SqsRetryQueue final : public RetryQueue {
 public:
  explicit SqsRetryQueue(std::unique_ptr<aws::SqsClient> client) : client_(std::move(client)) {}

  Status Enqueue(const RetryMessage& message, std::chrono::steady_clock::time_point deadline) override;
  Status Ping() override;
  size_t max_message_bytes() const override { return aws::kSqsMaxMessageBytes; }
  const char* Kind() const override { return "sqs"; }

  aws::SqsClient& client() { return *client_; }

 private:
  std::unique_ptr<aws::SqsClient> client_;
};

}  // namespace eventlogger
