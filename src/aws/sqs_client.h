// SqsClient: the Amazon SQS operations this service needs, on one queue, on
// our own HTTP client and SigV4 signer (Debian ships no AWS SDK for C++).
//
// Protocol: SQS's query protocol (API version 2012-11-05): a signed
// `POST /` to the queue URL's host whose body is
// `application/x-www-form-urlencoded`
// (`Action=SendMessage&Version=2012-11-05&QueueUrl=…&MessageBody=…`),
// answered with XML.
// SQS still serves it beside its newer JSON protocol, and it is the one that
// both the SQS-compatible server our tests run (sqslite, npm) and Debian's
// botocore (whose SQS model the tests check our requests against) speak.
//
// Every message we send carries its body's MD5, as SQS computes it; the
// client checks the MD5OfMessageBody that SQS answers with (what AWS SDKs
// do), so a body altered in transit is a failed, retried send rather than a
// silently different message.
//
// Errors, translated in one place (Classify in sqs_client.cc):
//   retried with backoff and full jitter, then Unavailable (DeadlineExceeded
//   for timeouts): HTTP 5xx, throttling (RequestThrottled,
//   ThrottlingException, ...), ServiceUnavailable, InternalError, network
//   errors and timeouts, an MD5 mismatch;
//   never retried:
//     AWS.SimpleQueueService.NonExistentQueue / QueueDoesNotExist -> NotFound
//     InvalidMessageContents, InvalidParameterValue, MissingParameter,
//     InvalidAttributeName, ... (any other Sender error)          -> InvalidArgument
//     AccessDenied, InvalidClientTokenId, SignatureDoesNotMatch,
//     ExpiredToken, ...                                            -> FailedPrecondition
//     anything else                                                -> Internal
// Status messages name the operation, the error code and SQS's message;
// never credentials or message bodies.
//
// Resending a SendMessage after a lost answer may queue the message twice;
// SQS standard queues deliver at least once anyway, so consumers of this
// client's messages must be idempotent (the retry worker is).
//
// Thread safety: an SqsClient may be shared by any number of threads.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "aws/http_client.h"
#include "aws/retry_options.h"
#include "aws/sigv4_signer.h"
#include "core/status.h"

namespace eventlogger::aws {

// SQS refuses larger message bodies (256 KiB; some regions now allow more,
// but this is what every SQS and SQS-compatible server accepts).
inline constexpr size_t kSqsMaxMessageBytes = 262144;

struct SqsClientOptions {
  // https://sqs.<region>.amazonaws.com/<account>/<queue> (or a compatible
  // server's queue URL, e.g. http://127.0.0.1:4576/queue/retries).
  std::string queue_url;
  // Empty: taken from the queue URL's host (sqs.<region>.amazonaws.com,
  // <region>.queue.amazonaws.com); InvalidArgument when it names none.
  std::string region;
  Credentials credentials;
  RetryOptions retry;
  // Bounds each attempt's exchange (writing the request, reading the answer).
  std::chrono::milliseconds request_timeout{3000};
  HttpClientOptions http;               // used when shared_http is null
  std::shared_ptr<HttpClient> shared_http;  // e.g. the DynamoDB client's
  // Hooks for tests; defaults as in DynamoDbClientOptions.
  std::function<void(std::chrono::milliseconds)> sleep;
  std::function<double()> random;
  std::function<std::chrono::system_clock::time_point()> now;
};

struct SqsSentMessage {
  std::string message_id;
};

struct SqsMessage {
  std::string message_id;
  std::string receipt_handle;
  std::string body;
  std::map<std::string, std::string> attributes;  // ApproximateReceiveCount, SentTimestamp, ...
};

struct SqsReceiveOptions {
  int max_messages = 10;    // 1-10
  int wait_seconds = 0;     // long polling, 0-20
  int visibility_timeout_seconds = -1;  // -1: the queue's default
};

// The region in an AWS queue URL's host, or nullopt for any other host.
std::optional<std::string> RegionFromQueueUrl(std::string_view queue_url);

// The hex MD5 of `body`, as SQS reports it in MD5OfMessageBody.
std::string SqsBodyMd5(std::string_view body);

class SqsClient {
 public:
  // InvalidArgument for a malformed queue URL or missing region/credentials.
  static Result<std::unique_ptr<SqsClient>> Create(SqsClientOptions options);
  SqsClient(const SqsClient&) = delete;
  SqsClient& operator=(const SqsClient&) = delete;
  ~SqsClient();

  // Queues one message (body: 1..kSqsMaxMessageBytes bytes of XML-safe text;
  // InvalidArgument otherwise, before anything is sent). `deadline` bounds
  // the whole call, retries included (steady clock; max() for none).
  Result<SqsSentMessage> SendMessage(std::string_view body,
                                     std::chrono::steady_clock::time_point deadline =
                                         std::chrono::steady_clock::time_point::max());
  Result<std::vector<SqsMessage>> ReceiveMessages(const SqsReceiveOptions& options);
  Status DeleteMessage(std::string_view receipt_handle);
  // Every attribute of the queue; also how readiness checks reach it.
  Result<std::map<std::string, std::string>> GetQueueAttributes(int max_attempts = 0);

  const std::string& queue_url() const { return options_.queue_url; }

 private:
  SqsClient(SqsClientOptions options, std::shared_ptr<HttpClient> http, Url url);
  // One action with the retry policy; the response body (XML) on success.
  Result<std::string> Call(std::string_view action, const std::vector<std::pair<std::string, std::string>>& params,
                           int max_attempts, std::chrono::steady_clock::time_point deadline,
                           std::chrono::milliseconds extra_timeout = std::chrono::milliseconds(0));

  SqsClientOptions options_;
  std::shared_ptr<HttpClient> http_;
  SigV4Signer signer_;
  Url url_;
};

}  // namespace eventlogger::aws
