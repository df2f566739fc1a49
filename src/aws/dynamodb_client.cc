#include "aws/dynamodb_client.h"
#include "aws/dynamodb_responses.h"

#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <algorithm>
#include <array>
#include <boost/crc.hpp>
#include <charconv>
#include <cmath>
#include <random>
#include <thread>

namespace eventlogger::aws {
namespace {

using JsonWriter = rapidjson::Writer<rapidjson::StringBuffer>;

constexpr std::string_view kTargetPrefix = "DynamoDB_20120810.";
constexpr std::string_view kContentType = "application/x-amz-json-1.0";

void Key(JsonWriter& w, std::string_view key) {
  w.Key(key.data(), static_cast<rapidjson::SizeType>(key.size()));
}

void String(JsonWriter& w, std::string_view text) {
  w.String(text.data(), static_cast<rapidjson::SizeType>(text.size()));
}

void WriteValue(JsonWriter& w, const AttributeValue& value) {
  switch (value.type) {
    case AttributeValue::Type::kString:
      w.StartObject();
      Key(w, "S");
      String(w, value.value);
      w.EndObject();
      return;
    case AttributeValue::Type::kNumber:
      w.StartObject();
      Key(w, "N");
      String(w, value.value);
      w.EndObject();
      return;
    case AttributeValue::Type::kBool:
      w.StartObject();
      Key(w, "BOOL");
      w.Bool(value.value == "true");
      w.EndObject();
      return;
    case AttributeValue::Type::kNull:
      w.StartObject();
      Key(w, "NULL");
      w.Bool(true);
      w.EndObject();
      return;
    case AttributeValue::Type::kOtherJson:
      w.RawValue(value.value.data(), value.value.size(), rapidjson::kObjectType);
      return;
  }
}

void WriteItem(JsonWriter& w, const Item& item) {
  w.StartObject();
  for (const auto& [name, value] : item) {
    Key(w, name);
    WriteValue(w, value);
  }
  w.EndObject();
}

void WriteParameters(JsonWriter& w, const ExpressionParameters& parameters) {
  if (!parameters.names.empty()) {
    Key(w, "ExpressionAttributeNames");
    w.StartObject();
    for (const auto& [placeholder, name] : parameters.names) {
      Key(w, placeholder);
      String(w, name);
    }
    w.EndObject();
  }
  if (!parameters.values.empty()) {
    Key(w, "ExpressionAttributeValues");
    WriteItem(w, Item(parameters.values.begin(), parameters.values.end()));
  }
}



const char* KeyTypeName(KeyType type) { return type == KeyType::kHash ? "HASH" : "RANGE"; }

// The outcome of one attempt, as the retry loop needs it.
struct Outcome {
  Status status;           // OK on success
  bool retryable = false;
};

// Error names that say "try again later": throttling and server trouble.
bool IsRetryableError(std::string_view name) {
  static constexpr std::array<std::string_view, 5> kRetryable = {
      "ProvisionedThroughputExceededException", "ThrottlingException", "RequestLimitExceeded",
      "InternalServerError", "ServiceUnavailable"};
  return std::find(kRetryable.begin(), kRetryable.end(), name) != kRetryable.end();
}

// Client errors mapped to our codes; none of them is retried.
Status MapClientError(std::string_view name, std::string message) {
  static constexpr std::array<std::string_view, 9> kCredentialErrors = {
      "AccessDeniedException",       "UnrecognizedClientException", "InvalidSignatureException",
      "MissingAuthenticationToken",  "MissingAuthenticationTokenException",
      "IncompleteSignatureException", "ExpiredTokenException",      "InvalidClientTokenId",
      "SignatureDoesNotMatch"};
  if (name == "ValidationException" || name == "SerializationException") {
    return Status::InvalidArgument(std::move(message));
  }
  if (name == "ConditionalCheckFailedException" || name == "ResourceInUseException") {
    return Status::AlreadyExists(std::move(message));
  }
  if (name == "ResourceNotFoundException") return Status::NotFound(std::move(message));
  if (std::find(kCredentialErrors.begin(), kCredentialErrors.end(), name) != kCredentialErrors.end() ||
      name.rfind("AccessDenied", 0) == 0) {
    return Status::FailedPrecondition(std::move(message) + " (check the AWS credentials and IAM policy)");
  }
  if (name == "ItemCollectionSizeLimitExceededException" || name == "LimitExceededException") {
    return Status::ResourceExhausted(std::move(message));
  }
  return Status::Internal(std::move(message));
}

// x-amz-crc32 covers the response body; DynamoDB sends it so that clients
// can detect corruption in transit (a retry fixes it).
bool ChecksumMatches(const HttpResponse& response) {
  const std::optional<std::string_view> header = response.Header("x-amz-crc32");
  if (!header) return true;
  uint32_t expected = 0;
  const auto [end, error] = std::from_chars(header->data(), header->data() + header->size(), expected);
  if (error != std::errc() || end != header->data() + header->size()) return false;
  boost::crc_32_type crc;
  crc.process_bytes(response.body.data(), response.body.size());
  return crc.checksum() == expected;
}

// The single place where transport results and DynamoDB errors become a
// Status and a retry decision.
Outcome Classify(std::string_view operation, const Result<HttpResponse>& response) {
  const std::string op(operation);
  if (!response.ok()) {
    const StatusCode code = response.status().code();
    const bool transient = code == StatusCode::kUnavailable || code == StatusCode::kDeadlineExceeded;
    return {Status(response.status()), transient};
  }
  if (!ChecksumMatches(*response)) {
    return {Status::Unavailable("DynamoDB " + op + ": response failed its x-amz-crc32 check"), true};
  }
  const int http_status = response->status;
  if (http_status == 200) return {Status::Ok(), false};

  const ErrorResponse error = ParseErrorResponse(response->body, response->Header("x-amzn-ErrorType"));
  const std::string& name = error.name;
  const std::string& message = error.message;

  std::string text = "DynamoDB " + op + ": " + (name.empty() ? "HTTP " + std::to_string(http_status) : name);
  if (!message.empty()) text += ": " + message;
  if (http_status >= 500 || IsRetryableError(name)) return {Status::Unavailable(std::move(text)), true};
  if (name.empty()) {
    if (http_status == 413) return {Status::InvalidArgument(std::move(text)), false};
    if (http_status == 403 || http_status == 401) return {Status::FailedPrecondition(std::move(text)), false};
    return {Status::Internal(std::move(text)), false};
  }
  return {MapClientError(name, std::move(text)), false};
}

double DefaultRandom() {
  thread_local std::mt19937_64 engine(std::random_device{}());
  return std::uniform_real_distribution<double>(0.0, 1.0)(engine);
}


}  // namespace



DynamoDbClient::DynamoDbClient(DynamoDbClientOptions options, std::shared_ptr<HttpClient> http, std::string host)
    : options_(std::move(options)),
      http_(std::move(http)),
      signer_(options_.region, "dynamodb"),
      url_(options_.endpoint + "/"),
      host_(std::move(host)) {}

DynamoDbClient::~DynamoDbClient() = default;

Result<std::unique_ptr<DynamoDbClient>> DynamoDbClient::Create(DynamoDbClientOptions options) {
  while (!options.endpoint.empty() && options.endpoint.back() == '/') options.endpoint.pop_back();
  Result<Url> url = ParseUrl(options.endpoint);
  if (!url.ok()) return Status::InvalidArgument("DynamoDB endpoint: " + url.status().message());
  if (url->target != "/") return Status::InvalidArgument("DynamoDB endpoint must not have a path or query");
  if (options.region.empty()) return Status::InvalidArgument("DynamoDB client needs a region");
  if (options.credentials.access_key_id.empty() || options.credentials.secret_access_key.empty()) {
    return Status::InvalidArgument("DynamoDB client needs AWS credentials");
  }
  if (options.retry.max_attempts < 1) options.retry.max_attempts = 1;
  if (options.retry.max_batch_rounds < 1) options.retry.max_batch_rounds = 1;
  if (!options.sleep) options.sleep = [](std::chrono::milliseconds d) { std::this_thread::sleep_for(d); };
  if (!options.random) options.random = DefaultRandom;
  if (!options.now) options.now = [] { return std::chrono::system_clock::now(); };
  std::shared_ptr<HttpClient> http = options.shared_http;
  if (!http) {
    Result<std::unique_ptr<HttpClient>> made = HttpClient::Create(options.http);
    if (!made.ok()) return made.status();
    http = std::move(made).value();
  }
  std::string host = url->HostHeader();
  return std::unique_ptr<DynamoDbClient>(new DynamoDbClient(std::move(options), std::move(http), std::move(host)));
}

std::chrono::milliseconds DynamoDbClient::Backoff(int retry) const {
  return FullJitterBackoff(options_.retry, retry, options_.random());
}

Result<std::string> DynamoDbClient::Call(std::string_view operation, const std::string& body, int max_attempts) {
  stats_.calls.fetch_add(1, std::memory_order_relaxed);
  const int attempts = max_attempts > 0 ? max_attempts : options_.retry.max_attempts;
  std::string target(kTargetPrefix);
  target += operation;
  for (int attempt = 1;; ++attempt) {
    stats_.attempts.fetch_add(1, std::memory_order_relaxed);
    // Signed per attempt: the signature covers the time, and a retry can
    // come much later than the first try.
    SigningRequest signing;
    signing.method = "POST";
    signing.path = "/";
    signing.headers = {{"host", host_}, {"content-type", std::string(kContentType)}, {"x-amz-target", target}};
    signing.body = body;
    Result<SignedRequest> signature = signer_.Sign(signing, options_.credentials, options_.now());
    if (!signature.ok()) return signature.status();

    HttpRequest request;
    request.method = "POST";
    request.url = url_;
    request.headers = std::move(signing.headers);
    for (auto& header : signature->headers_to_add) request.headers.push_back(std::move(header));
    request.body = body;  // one copy per attempt; the signer saw the same bytes
    Result<HttpResponse> response = http_->Send(request);

    Outcome outcome = Classify(operation, response);
    if (outcome.status.ok()) return std::move(response->body);
    if (!outcome.retryable) return outcome.status;
    if (attempt >= attempts) {
      std::string message = outcome.status.message() + " (gave up after " + std::to_string(attempt) +
                            (attempt == 1 ? " attempt)" : " attempts)");
      return outcome.status.code() == StatusCode::kDeadlineExceeded ? Status::DeadlineExceeded(std::move(message))
                                                                    : Status::Unavailable(std::move(message));
    }
    stats_.retries.fetch_add(1, std::memory_order_relaxed);
    options_.sleep(Backoff(attempt));
  }
}

Status DynamoDbClient::CreateTable(const CreateTableRequest& request) {
  rapidjson::StringBuffer buffer;
  JsonWriter w(buffer);
  w.StartObject();
  Key(w, "TableName");
  String(w, request.table_name);
  Key(w, "AttributeDefinitions");
  w.StartArray();
  for (const AttributeDefinition& definition : request.attribute_definitions) {
    w.StartObject();
    Key(w, "AttributeName");
    String(w, definition.attribute_name);
    Key(w, "AttributeType");
    String(w, definition.attribute_type);
    w.EndObject();
  }
  w.EndArray();
  Key(w, "KeySchema");
  w.StartArray();
  for (const KeySchemaElement& element : request.key_schema) {
    w.StartObject();
    Key(w, "AttributeName");
    String(w, element.attribute_name);
    Key(w, "KeyType");
    String(w, KeyTypeName(element.key_type));
    w.EndObject();
  }
  w.EndArray();
  Key(w, "BillingMode");
  String(w, request.billing_mode);
  w.EndObject();
  Result<std::string> response = Call("CreateTable", std::string(buffer.GetString(), buffer.GetSize()));
  return response.ok() ? Status::Ok() : response.status();
}

Result<TableDescription> DynamoDbClient::DescribeTable(std::string_view table_name, int max_attempts) {
  rapidjson::StringBuffer buffer;
  JsonWriter w(buffer);
  w.StartObject();
  Key(w, "TableName");
  String(w, table_name);
  w.EndObject();
  Result<std::string> body = Call("DescribeTable", std::string(buffer.GetString(), buffer.GetSize()), max_attempts);
  if (!body.ok()) return body.status();
  return ParseTableDescription(*body);
}

Status DynamoDbClient::DeleteTable(std::string_view table_name) {
  rapidjson::StringBuffer buffer;
  JsonWriter w(buffer);
  w.StartObject();
  Key(w, "TableName");
  String(w, table_name);
  w.EndObject();
  Result<std::string> body = Call("DeleteTable", std::string(buffer.GetString(), buffer.GetSize()));
  return body.ok() ? Status::Ok() : body.status();
}

Status DynamoDbClient::PutItem(const PutItemRequest& request) {
  rapidjson::StringBuffer buffer;
  JsonWriter w(buffer);
  w.StartObject();
  Key(w, "TableName");
  String(w, request.table_name);
  Key(w, "Item");
  WriteItem(w, request.item);
  if (!request.condition_expression.empty()) {
    Key(w, "ConditionExpression");
    String(w, request.condition_expression);
  }
  WriteParameters(w, request.parameters);
  w.EndObject();
  Result<std::string> body = Call("PutItem", std::string(buffer.GetString(), buffer.GetSize()));
  return body.ok() ? Status::Ok() : body.status();
}

Result<std::optional<Item>> DynamoDbClient::GetItem(const GetItemRequest& request) {
  rapidjson::StringBuffer buffer;
  JsonWriter w(buffer);
  w.StartObject();
  Key(w, "TableName");
  String(w, request.table_name);
  Key(w, "Key");
  WriteItem(w, request.key);
  if (request.consistent_read) {
    Key(w, "ConsistentRead");
    w.Bool(true);
  }
  w.EndObject();
  Result<std::string> body = Call("GetItem", std::string(buffer.GetString(), buffer.GetSize()));
  if (!body.ok()) return body.status();
  return ParseGetItemResponse(*body);
}

Status DynamoDbClient::UpdateItem(const UpdateItemRequest& request) {
  rapidjson::StringBuffer buffer;
  JsonWriter w(buffer);
  w.StartObject();
  Key(w, "TableName");
  String(w, request.table_name);
  Key(w, "Key");
  WriteItem(w, request.key);
  Key(w, "UpdateExpression");
  String(w, request.update_expression);
  if (!request.condition_expression.empty()) {
    Key(w, "ConditionExpression");
    String(w, request.condition_expression);
  }
  WriteParameters(w, request.parameters);
  w.EndObject();
  Result<std::string> body = Call("UpdateItem", std::string(buffer.GetString(), buffer.GetSize()));
  return body.ok() ? Status::Ok() : body.status();
}

Status DynamoDbClient::BatchWriteItem(std::string_view table_name, std::span<const Item> items) {
  return SendBatchWrite(table_name, items, "PutRequest", "Item");
}

Status DynamoDbClient::BatchDeleteItem(std::string_view table_name, std::span<const Item> keys) {
  return SendBatchWrite(table_name, keys, "DeleteRequest", "Key");
}

Status DynamoDbClient::SendBatchWrite(std::string_view table_name, std::span<const Item> items,
                                      std::string_view request, std::string_view member) {
  if (items.empty()) return Status::Ok();
  if (items.size() > kMaxBatchWriteItems) {
    return Status::InvalidArgument("BatchWriteItem takes at most 25 items, got " + std::to_string(items.size()));
  }
  rapidjson::StringBuffer buffer;
  JsonWriter w(buffer);
  w.StartObject();
  Key(w, "RequestItems");
  w.StartObject();
  Key(w, table_name);
  w.StartArray();
  for (const Item& item : items) {
    w.StartObject();
    Key(w, request);
    w.StartObject();
    Key(w, member);
    WriteItem(w, item);
    w.EndObject();
    w.EndObject();
  }
  w.EndArray();
  w.EndObject();
  w.EndObject();
  std::string body(buffer.GetString(), buffer.GetSize());

  for (int round = 1;; ++round) {
    Result<std::string> response = Call("BatchWriteItem", body);
    if (!response.ok()) return response.status();
    Result<UnprocessedWrites> unprocessed = ParseBatchWriteResponse(*response);
    if (!unprocessed.ok()) return unprocessed.status();
    if (unprocessed->count == 0) return Status::Ok();
    if (round >= options_.retry.max_batch_rounds) {
      return Status::Unavailable("DynamoDB BatchWriteItem: " + std::to_string(unprocessed->count) + " of " +
                                 std::to_string(items.size()) + " items still unprocessed after " +
                                 std::to_string(round) + " rounds (throttled)");
    }
    body = std::move(unprocessed->request_body);
    stats_.unprocessed_resends.fetch_add(1, std::memory_order_relaxed);
    options_.sleep(Backoff(round));
  }
}

Result<ItemPage> DynamoDbClient::Query(const QueryRequest& request) {
  rapidjson::StringBuffer buffer;
  JsonWriter w(buffer);
  w.StartObject();
  Key(w, "TableName");
  String(w, request.table_name);
  Key(w, "KeyConditionExpression");
  String(w, request.key_condition_expression);
  if (!request.filter_expression.empty()) {
    Key(w, "FilterExpression");
    String(w, request.filter_expression);
  }
  if (!request.projection_expression.empty()) {
    Key(w, "ProjectionExpression");
    String(w, request.projection_expression);
  }
  WriteParameters(w, request.parameters);
  Key(w, "ScanIndexForward");
  w.Bool(request.scan_index_forward);
  if (request.limit > 0) {
    Key(w, "Limit");
    w.Int(request.limit);
  }
  if (request.exclusive_start_key) {
    Key(w, "ExclusiveStartKey");
    WriteItem(w, *request.exclusive_start_key);
  }
  if (request.consistent_read) {
    Key(w, "ConsistentRead");
    w.Bool(true);
  }
  w.EndObject();
  Result<std::string> body = Call("Query", std::string(buffer.GetString(), buffer.GetSize()));
  if (!body.ok()) return body.status();
  return ParseItemPage("Query", *body);
}

Result<ItemPage> DynamoDbClient::Scan(const ScanRequest& request) {
  rapidjson::StringBuffer buffer;
  JsonWriter w(buffer);
  w.StartObject();
  Key(w, "TableName");
  String(w, request.table_name);
  if (!request.filter_expression.empty()) {
    Key(w, "FilterExpression");
    String(w, request.filter_expression);
  }
  if (!request.projection_expression.empty()) {
    Key(w, "ProjectionExpression");
    String(w, request.projection_expression);
  }
  WriteParameters(w, request.parameters);
  if (request.limit > 0) {
    Key(w, "Limit");
    w.Int(request.limit);
  }
  if (request.exclusive_start_key) {
    Key(w, "ExclusiveStartKey");
    WriteItem(w, *request.exclusive_start_key);
  }
  if (request.consistent_read) {
    Key(w, "ConsistentRead");
    w.Bool(true);
  }
  w.EndObject();
  Result<std::string> body = Call("Scan", std::string(buffer.GetString(), buffer.GetSize()));
  if (!body.ok()) return body.status();
  return ParseItemPage("Scan", *body);
}

}  // namespace eventlogger::aws
