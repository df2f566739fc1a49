#include "aws/dynamodb_client.h"

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

std::string ToJson(const rapidjson::Value& value) {
  rapidjson::StringBuffer buffer;
  JsonWriter writer(buffer);
  value.Accept(writer);
  return std::string(buffer.GetString(), buffer.GetSize());
}

std::string_view View(const rapidjson::Value& value) {
  return std::string_view(value.GetString(), value.GetStringLength());
}

Result<AttributeValue> ParseValue(const rapidjson::Value& json) {
  if (!json.IsObject() || json.MemberCount() != 1) {
    return Status::Internal("DynamoDB returned an attribute value that is not a one-member object");
  }
  const auto& member = *json.MemberBegin();
  const std::string_view type = View(member.name);
  if (type == "S" && member.value.IsString()) return AttributeValue::S(std::string(View(member.value)));
  if (type == "N" && member.value.IsString()) return AttributeValue::N(std::string(View(member.value)));
  if (type == "BOOL" && member.value.IsBool()) return AttributeValue::Bool(member.value.GetBool());
  if (type == "NULL") return AttributeValue::Null();
  return AttributeValue{AttributeValue::Type::kOtherJson, ToJson(json)};
}

Result<Item> ParseItem(const rapidjson::Value& json) {
  if (!json.IsObject()) return Status::Internal("DynamoDB returned an item that is not an object");
  Item item;
  for (const auto& member : json.GetObject()) {
    Result<AttributeValue> value = ParseValue(member.value);
    if (!value.ok()) return value.status();
    item.emplace(std::string(View(member.name)), std::move(value).value());
  }
  return item;
}

Result<rapidjson::Document> ParseJson(std::string_view operation, const std::string& body) {
  rapidjson::Document document;
  document.Parse(body.data(), body.size());
  if (document.HasParseError() || !document.IsObject()) {
    return Status::Internal("DynamoDB " + std::string(operation) + " returned a response that is not a JSON object");
  }
  return document;
}

Result<ItemPage> ParsePage(std::string_view operation, const std::string& body) {
  Result<rapidjson::Document> document = ParseJson(operation, body);
  if (!document.ok()) return document.status();
  ItemPage page;
  auto items = document->FindMember("Items");
  if (items != document->MemberEnd()) {
    if (!items->value.IsArray()) return Status::Internal("DynamoDB " + std::string(operation) + ": Items is not an array");
    page.items.reserve(items->value.Size());
    for (const auto& json : items->value.GetArray()) {
      Result<Item> item = ParseItem(json);
      if (!item.ok()) return item.status();
      page.items.push_back(std::move(item).value());
    }
  }
  auto last = document->FindMember("LastEvaluatedKey");
  if (last != document->MemberEnd()) {
    Result<Item> key = ParseItem(last->value);
    if (!key.ok()) return key.status();
    page.last_evaluated_key = std::move(key).value();
  }
  return page;
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

  // Error body: {"__type":"com.amazonaws.dynamodb.v20120810#Name","message":"..."}
  std::string name;
  std::string message;
  rapidjson::Document document;
  document.Parse(response->body.data(), response->body.size());
  if (!document.HasParseError() && document.IsObject()) {
    auto type = document.FindMember("__type");
    if (type != document.MemberEnd() && type->value.IsString()) name = std::string(View(type->value));
    for (const char* key : {"message", "Message"}) {
      auto text = document.FindMember(key);
      if (text != document.MemberEnd() && text->value.IsString()) {
        message = std::string(View(text->value));
        break;
      }
    }
  }
  if (name.empty()) {
    if (auto header = response->Header("x-amzn-ErrorType")) name = std::string(header->substr(0, header->find(':')));
  }
  if (const size_t hash = name.rfind('#'); hash != std::string::npos) name.erase(0, hash + 1);

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

size_t NumberSize(std::string_view number) {
  // Significant digits: strip sign, exponent, point, leading/trailing zeros.
  std::string digits;
  for (char c : number) {
    if (c == 'e' || c == 'E') break;
    if (c >= '0' && c <= '9') digits.push_back(c);
  }
  const size_t first = digits.find_first_not_of('0');
  if (first == std::string::npos) return 1;
  const size_t last = digits.find_last_not_of('0');
  const size_t significant = last - first + 1;
  return (significant + 1) / 2 + 1;
}

}  // namespace

std::string AttributeValue::TypeName() const {
  switch (type) {
    case Type::kString: return "S";
    case Type::kNumber: return "N";
    case Type::kBool: return "BOOL";
    case Type::kNull: return "NULL";
    case Type::kOtherJson: {
      rapidjson::Document document;
      document.Parse(value.data(), value.size());
      if (document.HasParseError() || !document.IsObject() || document.MemberCount() != 1) return "?";
      return std::string(View(document.MemberBegin()->name));
    }
  }
  return "?";
}

size_t ItemSizeBytes(const Item& item) {
  size_t total = 0;
  for (const auto& [name, value] : item) {
    total += name.size();
    switch (value.type) {
      case AttributeValue::Type::kString: total += value.value.size(); break;
      case AttributeValue::Type::kNumber: total += NumberSize(value.value); break;
      case AttributeValue::Type::kBool:
      case AttributeValue::Type::kNull: total += 1; break;
      case AttributeValue::Type::kOtherJson: total += value.value.size(); break;
    }
  }
  return total;
}

DynamoDbClient::DynamoDbClient(DynamoDbClientOptions options, std::unique_ptr<HttpClient> http, std::string host)
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
  Result<std::unique_ptr<HttpClient>> http = HttpClient::Create(options.http);
  if (!http.ok()) return http.status();
  std::string host = url->HostHeader();
  return std::unique_ptr<DynamoDbClient>(
      new DynamoDbClient(std::move(options), std::move(http).value(), std::move(host)));
}

std::chrono::milliseconds DynamoDbClient::Backoff(int retry) const {
  const double base = static_cast<double>(options_.retry.base_delay.count());
  const double cap = static_cast<double>(options_.retry.max_delay.count());
  const double ceiling = std::min(cap, base * std::ldexp(1.0, std::min(retry - 1, 40)));
  const double r = std::clamp(options_.random(), 0.0, 1.0);
  return std::chrono::milliseconds(static_cast<int64_t>(std::floor(r * ceiling)));
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
  Result<rapidjson::Document> document = ParseJson("DescribeTable", *body);
  if (!document.ok()) return document.status();
  auto table = document->FindMember("Table");
  if (table == document->MemberEnd() || !table->value.IsObject()) {
    return Status::Internal("DynamoDB DescribeTable: response has no Table");
  }
  const rapidjson::Value& t = table->value;
  TableDescription description;
  auto text = [&t](const char* key) -> std::string {
    auto it = t.FindMember(key);
    return it != t.MemberEnd() && it->value.IsString() ? std::string(View(it->value)) : std::string();
  };
  description.table_name = text("TableName");
  description.table_status = text("TableStatus");
  if (auto it = t.FindMember("KeySchema"); it != t.MemberEnd() && it->value.IsArray()) {
    for (const auto& element : it->value.GetArray()) {
      if (!element.IsObject() || !element.HasMember("AttributeName") || !element["AttributeName"].IsString() ||
          !element.HasMember("KeyType") || !element["KeyType"].IsString()) {
        return Status::Internal("DynamoDB DescribeTable: malformed KeySchema");
      }
      description.key_schema.push_back(
          {std::string(View(element["AttributeName"])),
           View(element["KeyType"]) == "HASH" ? KeyType::kHash : KeyType::kRange});
    }
  }
  if (auto it = t.FindMember("AttributeDefinitions"); it != t.MemberEnd() && it->value.IsArray()) {
    for (const auto& element : it->value.GetArray()) {
      if (!element.IsObject() || !element.HasMember("AttributeName") || !element["AttributeName"].IsString() ||
          !element.HasMember("AttributeType") || !element["AttributeType"].IsString()) {
        return Status::Internal("DynamoDB DescribeTable: malformed AttributeDefinitions");
      }
      description.attribute_definitions.push_back(
          {std::string(View(element["AttributeName"])), std::string(View(element["AttributeType"]))});
    }
  }
  if (auto it = t.FindMember("BillingModeSummary"); it != t.MemberEnd() && it->value.IsObject()) {
    auto mode = it->value.FindMember("BillingMode");
    if (mode != it->value.MemberEnd() && mode->value.IsString()) description.billing_mode = std::string(View(mode->value));
  }
  return description;
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
  Result<rapidjson::Document> document = ParseJson("GetItem", *body);
  if (!document.ok()) return document.status();
  auto item = document->FindMember("Item");
  if (item == document->MemberEnd()) return std::optional<Item>();
  Result<Item> parsed = ParseItem(item->value);
  if (!parsed.ok()) return parsed.status();
  return std::optional<Item>(std::move(parsed).value());
}

Status DynamoDbClient::BatchWriteItem(std::string_view table_name, std::span<const Item> items) {
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
    Key(w, "PutRequest");
    w.StartObject();
    Key(w, "Item");
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
    Result<rapidjson::Document> document = ParseJson("BatchWriteItem", *response);
    if (!document.ok()) return document.status();
    auto unprocessed = document->FindMember("UnprocessedItems");
    if (unprocessed == document->MemberEnd() || !unprocessed->value.IsObject() ||
        unprocessed->value.ObjectEmpty()) {
      return Status::Ok();
    }
    size_t remaining = 0;
    for (const auto& table : unprocessed->value.GetObject()) {
      if (!table.value.IsArray()) return Status::Internal("DynamoDB BatchWriteItem: malformed UnprocessedItems");
      remaining += table.value.Size();
    }
    if (remaining == 0) return Status::Ok();
    if (round >= options_.retry.max_batch_rounds) {
      return Status::Unavailable("DynamoDB BatchWriteItem: " + std::to_string(remaining) + " of " +
                                 std::to_string(items.size()) + " items still unprocessed after " +
                                 std::to_string(round) + " rounds (throttled)");
    }
    // UnprocessedItems has exactly the shape of RequestItems: resend it as is.
    rapidjson::StringBuffer resend;
    JsonWriter rw(resend);
    rw.StartObject();
    Key(rw, "RequestItems");
    unprocessed->value.Accept(rw);
    rw.EndObject();
    body.assign(resend.GetString(), resend.GetSize());
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
  return ParsePage("Query", *body);
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
  return ParsePage("Scan", *body);
}

}  // namespace eventlogger::aws
