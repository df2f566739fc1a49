// DynamoDbClient: the operations of Amazon DynamoDB's JSON protocol
// (API version 2012-08-10) that this service needs, on our own HTTP client
// and SigV4 signer, since Debian ships no AWS SDK for C++.
//
// Every call is a signed POST / with `X-Amz-Target: DynamoDB_20120810.<Op>`
// and a JSON body in the low-level typed format ({"S": "..."} etc.).
//
// Errors are translated in one place (see dynamodb_client.cc, Classify):
//   retried with exponential backoff and full jitter, then Unavailable
//   (or DeadlineExceeded for timeouts) when the attempts run out:
//     ProvisionedThroughputExceededException, ThrottlingException,
//     RequestLimitExceeded, InternalServerError, ServiceUnavailable,
//     any HTTP 5xx, network errors and timeouts, a response whose
//     x-amz-crc32 does not match its body;
//   never retried:
//     ValidationException, SerializationException  -> InvalidArgument
//     ConditionalCheckFailedException              -> AlreadyExists
//     ResourceNotFoundException                    -> NotFound
//     ResourceInUseException                       -> AlreadyExists
//     AccessDenied / UnrecognizedClient / signature / token errors
//                                                  -> FailedPrecondition
//     ItemCollectionSizeLimitExceeded, LimitExceeded -> ResourceExhausted
//     anything else                                -> Internal
// Status messages carry the operation, the error name and DynamoDB's
// message; never credentials, and never item contents.
//
// All requests are idempotent as this service uses them (writes put whole
// items under fixed keys; deletes and updates name exact keys), which is
// what makes resending after a timeout safe. A PutItem or UpdateItem with a
// condition that is retried after a lost response may report AlreadyExists
// for its own first attempt.
//
// Thread safety: a DynamoDbClient may be shared by any number of threads.
// The injected hooks must be thread-safe if it is.
#pragma once

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "aws/dynamodb_types.h"
#include "aws/http_client.h"
#include "aws/retry_options.h"
#include "aws/sigv4_signer.h"
#include "core/status.h"

namespace eventlogger::aws {

struct DynamoDbClientOptions {
  // scheme://host[:port], no path; e.g. https://dynamodb.eu-west-1.amazonaws.com
  std::string endpoint;
  std::string region;
  Credentials credentials;
  RetryOptions retry;
  HttpClientOptions http;
  // A client to share (its connection pool and TLS context) with other AWS
  // clients of the process; when null, one is made from `http`.
  std::shared_ptr<HttpClient> shared_http;

  // Hooks for tests; defaults: std::this_thread::sleep_for, a per-thread
  // uniform [0, 1) generator, std::chrono::system_clock::now.
  std::function<void(std::chrono::milliseconds)> sleep;
  std::function<double()> random;
  std::function<std::chrono::system_clock::time_point()> now;
};

// Counters for metrics and tests; monotonic.
struct DynamoDbClientStats {
  std::atomic<uint64_t> calls{0};            // operations started
  std::atomic<uint64_t> attempts{0};         // HTTP requests sent
  std::atomic<uint64_t> retries{0};          // attempts after a retryable failure
  std::atomic<uint64_t> unprocessed_resends{0};  // BatchWriteItem rounds resending UnprocessedItems
};


struct CreateTableRequest {
  std::string table_name;
  std::vector<AttributeDefinition> attribute_definitions;
  std::vector<KeySchemaElement> key_schema;
  // Only on-demand capacity is offered: provisioned throughput needs capacity
  // planning that this service has no business doing.
  std::string billing_mode = "PAY_PER_REQUEST";
};


// Expression placeholders: "#name" -> attribute name, ":value" -> value.
// Only placeholders used by the expressions may be given: DynamoDB refuses
// unused ones.
struct ExpressionParameters {
  std::map<std::string, std::string> names;
  std::map<std::string, AttributeValue> values;
};

struct PutItemRequest {
  std::string table_name;
  Item item;
  std::string condition_expression;  // e.g. "attribute_not_exists(#pk)"; empty: none
  ExpressionParameters parameters;
};

struct UpdateItemRequest {
  std::string table_name;
  Item key;
  std::string update_expression;     // e.g. "REMOVE #ttl"
  std::string condition_expression;  // e.g. "attribute_exists(#pk)"; empty: none
  ExpressionParameters parameters;
};

struct GetItemRequest {
  std::string table_name;
  Item key;
  bool consistent_read = false;
};

struct QueryRequest {
  std::string table_name;
  std::string key_condition_expression;  // e.g. "#pk = :pk AND #sk >= :since"
  std::string filter_expression;         // optional
  std::string projection_expression;     // e.g. "#pk, #sk"; empty: every attribute
  ExpressionParameters parameters;
  bool scan_index_forward = true;        // ascending sort key
  int limit = 0;                         // items evaluated per page; 0: DynamoDB's 1 MB pages
  std::optional<Item> exclusive_start_key;
  bool consistent_read = false;
};

struct ScanRequest {
  std::string table_name;
  std::string filter_expression;      // optional
  std::string projection_expression;  // optional, as in QueryRequest
  ExpressionParameters parameters;
  int limit = 0;
  std::optional<Item> exclusive_start_key;
  bool consistent_read = false;
};


class DynamoDbClient {
 public:
  // InvalidArgument for a malformed endpoint or missing region/credentials.
  static Result<std::unique_ptr<DynamoDbClient>> Create(DynamoDbClientOptions options);

  DynamoDbClient(const DynamoDbClient&) = delete;
  DynamoDbClient& operator=(const DynamoDbClient&) = delete;
  ~DynamoDbClient();

  Status CreateTable(const CreateTableRequest& request);
  // NotFound when the table does not exist. max_attempts overrides the
  // retry policy when positive (health probes want one quick answer).
  Result<TableDescription> DescribeTable(std::string_view table_name, int max_attempts = 0);
  Status DeleteTable(std::string_view table_name);

  // AlreadyExists when the condition expression is false.
  Status PutItem(const PutItemRequest& request);
  // nullopt when no item has the key.
  Result<std::optional<Item>> GetItem(const GetItemRequest& request);
  // AlreadyExists when the condition expression is false. Without a
  // condition, an update of a missing key creates the item.
  Status UpdateItem(const UpdateItemRequest& request);

  // Puts up to 25 items (InvalidArgument beyond that, or with duplicate
  // keys, which DynamoDB refuses) and resends UnprocessedItems until all
  // are written or retry.max_batch_rounds is exhausted (then Unavailable;
  // some items may have been written). Each round is itself retried as any
  // call is.
  Status BatchWriteItem(std::string_view table_name, std::span<const Item> items);
  // The same for deletes: `keys` are up to 25 primary keys (the key
  // attributes only), resent as BatchWriteItem resends puts. Deleting a key
  // that holds no item succeeds, so a resend after a lost answer is safe.
  Status BatchDeleteItem(std::string_view table_name, std::span<const Item> keys);

  Result<ItemPage> Query(const QueryRequest& request);
  Result<ItemPage> Scan(const ScanRequest& request);

  // One operation with the retry policy: `body` is the request JSON; the
  // response JSON on success. For operations this class does not wrap.
  Result<std::string> Call(std::string_view operation, const std::string& body, int max_attempts = 0);

  const DynamoDbClientStats& stats() const { return stats_; }
  HttpClient& http() { return *http_; }
  const std::string& endpoint() const { return options_.endpoint; }

 private:
  DynamoDbClient(DynamoDbClientOptions options, std::shared_ptr<HttpClient> http, std::string host);

  std::chrono::milliseconds Backoff(int retry) const;
  // BatchWriteItem with one kind of request for every item: "PutRequest"
  // with each as "Item", or "DeleteRequest" with each as "Key".
  Status SendBatchWrite(std::string_view table_name, std::span<const Item> items, std::string_view request,
                        std::string_view member);

  DynamoDbClientOptions options_;
  std::shared_ptr<HttpClient> http_;
  SigV4Signer signer_;
  std::string url_;   // endpoint + "/"
  std::string host_;  // Host header value, signed
  DynamoDbClientStats stats_;
};

}  // namespace eventlogger::aws
