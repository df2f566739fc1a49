#include "durability/sqs_retry_queue.h"

namespace eventlogger {

Status SqsRetryQueue::Enqueue(const RetryMessage& message, std::chrono::steady_clock::time_point deadline) {
  const std::string body = EncodeRetryMessage(message);
  if (body.size() > aws::kSqsMaxMessageBytes) {
    return Status::ResourceExhausted("the event's retry message is " + std::to_string(body.size()) +
                                     " bytes; SQS takes at most " + std::to_string(aws::kSqsMaxMessageBytes));
  }
  Result<aws::SqsSentMessage> sent = client_->SendMessage(body, deadline);
  return sent.ok() ? Status::Ok() : sent.status();
}

Status SqsRetryQueue::Ping() {
  Result<std::map<std::string, std::string>> attributes = client_->GetQueueAttributes(/*max_attempts=*/1);
  return attributes.ok() ? Status::Ok() : attributes.status();
}

}  // namespace eventlogger
