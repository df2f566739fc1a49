#include "aws/sqs_client.h"

#include <openssl/evp.h>

#include <algorithm>
#include <array>
#include <pugixml.hpp>
#include <random>
#include <thread>

#include "core/hex.h"
#include "core/percent_encoding.h"

namespace eventlogger::aws {
namespace {

constexpr std::string_view kApiVersion = "2012-11-05";
constexpr std::string_view kContentType = "application/x-www-form-urlencoded; charset=utf-8";

using Params = std::vector<std::pair<std::string, std::string>>;

// The characters SQS accepts in a message body (its documented set:
// #x9 #xA #xD #x20-#xD7FF #xE000-#xFFFD #x10000-#x10FFFF), as valid UTF-8.
bool IsSqsText(std::string_view text) {
  size_t i = 0;
  while (i < text.size()) {
    const auto lead = static_cast<unsigned char>(text[i]);
    uint32_t code = 0;
    size_t length = 0;
    if (lead < 0x80) {
      code = lead;
      length = 1;
    } else if ((lead & 0xE0) == 0xC0) {
      code = lead & 0x1F;
      length = 2;
    } else if ((lead & 0xF0) == 0xE0) {
      code = lead & 0x0F;
      length = 3;
    } else if ((lead & 0xF8) == 0xF0) {
      code = lead & 0x07;
      length = 4;
    } else {
      return false;
    }
    if (i + length > text.size()) return false;
    for (size_t k = 1; k < length; ++k) {
      const auto next = static_cast<unsigned char>(text[i + k]);
      if ((next & 0xC0) != 0x80) return false;
      code = (code << 6) | (next & 0x3F);
    }
    static constexpr std::array<uint32_t, 5> kMinimum = {0, 0, 0x80, 0x800, 0x10000};
    if (code < kMinimum[length]) return false;  // overlong
    const bool allowed = code == 0x9 || code == 0xA || code == 0xD || (code >= 0x20 && code <= 0xD7FF) ||
                         (code >= 0xE000 && code <= 0xFFFD) || (code >= 0x10000 && code <= 0x10FFFF);
    if (!allowed) return false;
    i += length;
  }
  return true;
}

// The body as botocore's query serializer writes it: Action and Version
// first, then the input members in the model's order (QueueUrl first).
std::string FormBody(std::string_view action, std::string_view queue_url, const Params& params) {
  std::string body = "Action=";
  body += PercentEncode(action);
  body += "&Version=";
  body += kApiVersion;
  body += "&QueueUrl=";
  body += PercentEncode(queue_url);
  for (const auto& [name, value] : params) {
    body += '&';
    body += PercentEncode(name);
    body += '=';
    body += PercentEncode(value);
  }
  return body;
}

struct Outcome {
  Status status;
  bool retryable = false;
};

bool IsThrottling(std::string_view code) {
  static constexpr std::array<std::string_view, 7> kThrottling = {
      "RequestThrottled",   "ThrottlingException", "Throttling",          "ThrottledException",
      "ServiceUnavailable", "InternalError",       "InternalFailure"};
  return std::find(kThrottling.begin(), kThrottling.end(), code) != kThrottling.end() ||
         code == "AWS.SimpleQueueService.RequestThrottled" || code == "KmsThrottled" ||
         code == "AWS.SimpleQueueService.KmsThrottled";
}

Status MapClientError(std::string_view code, std::string text) {
  static constexpr std::array<std::string_view, 9> kCredentialErrors = {
      "AccessDenied",          "AccessDeniedException", "InvalidClientTokenId",
      "SignatureDoesNotMatch", "ExpiredToken",          "IncompleteSignature",
      "MissingAuthenticationToken", "InvalidSecurity",  "UnrecognizedClientException"};
  if (code == "AWS.SimpleQueueService.NonExistentQueue" || code == "QueueDoesNotExist" ||
      code == "AWS.SimpleQueueService.QueueDeletedRecently") {
    return Status::NotFound(std::move(text));
  }
  if (std::find(kCredentialErrors.begin(), kCredentialErrors.end(), code) != kCredentialErrors.end()) {
    return Status::FailedPrecondition(std::move(text) + " (check the AWS credentials and IAM policy)");
  }
  return Status::InvalidArgument(std::move(text));
}

// The <Error> of an ErrorResponse: its Code, Type and Message.
struct QueryError {
  std::string code;
  std::string type;  // Sender or Receiver
  std::string message;
};

QueryError ParseQueryError(const HttpResponse& response) {
  QueryError error;
  pugi::xml_document document;
  if (document.load_buffer(response.body.data(), response.body.size())) {
    const pugi::xml_node node = document.child("ErrorResponse").child("Error");
    error.code = node.child_value("Code");
    error.type = node.child_value("Type");
    error.message = node.child_value("Message");
  }
  if (error.code.empty()) {
    // Newer SQS front ends also name the error in a header: "Code;Type".
    if (const std::optional<std::string_view> header = response.Header("x-amzn-query-error")) {
      const size_t semicolon = header->find(';');
      error.code = std::string(header->substr(0, semicolon));
      if (semicolon != std::string_view::npos) error.type = std::string(header->substr(semicolon + 1));
    }
  }
  if (error.message.size() > 512) error.message.resize(512);
  return error;
}

// The single place where transport results and SQS errors become a Status
// and a retry decision.
Outcome Classify(std::string_view action, const Result<HttpResponse>& response) {
  if (!response.ok()) {
    const StatusCode code = response.status().code();
    const bool transient = code == StatusCode::kUnavailable || code == StatusCode::kDeadlineExceeded;
    return {Status(response.status()), transient};
  }
  const int http_status = response->status;
  if (http_status == 200) return {Status::Ok(), false};
  const QueryError error = ParseQueryError(*response);
  std::string text = "SQS " + std::string(action) + ": " +
                     (error.code.empty() ? "HTTP " + std::to_string(http_status) : error.code);
  if (!error.message.empty()) text += ": " + error.message;
  if (http_status >= 500 || IsThrottling(error.code)) return {Status::Unavailable(std::move(text)), true};
  if (error.code.empty()) {
    if (http_status == 403 || http_status == 401) return {Status::FailedPrecondition(std::move(text)), false};
    if (http_status == 404) return {Status::NotFound(std::move(text)), false};
    return {Status::Internal(std::move(text)), false};
  }
  return {MapClientError(error.code, std::move(text)), false};
}

Result<pugi::xml_node> ParseResult(const pugi::xml_document& document, std::string_view action) {
  const std::string response_name = std::string(action) + "Response";
  const std::string result_name = std::string(action) + "Result";
  const pugi::xml_node response = document.child(response_name.c_str());
  if (!response) return Status::Internal("SQS " + std::string(action) + ": the answer is not a " + response_name);
  // An action without results (DeleteMessage) answers an empty response.
  return response.child(result_name.c_str());
}

double DefaultRandom() {
  thread_local std::mt19937_64 engine(std::random_device{}());
  return std::uniform_real_distribution<double>(0.0, 1.0)(engine);
}

}  // namespace

std::optional<std::string> RegionFromQueueUrl(std::string_view queue_url) {
  Result<Url> url = ParseUrl(queue_url);
  if (!url.ok()) return std::nullopt;
  std::string_view host = url->host;
  constexpr std::string_view kSuffix = ".amazonaws.com";
  if (!host.ends_with(kSuffix)) return std::nullopt;
  host.remove_suffix(kSuffix.size());
  if (host.starts_with("sqs.")) {  // sqs.<region>.amazonaws.com
    host.remove_prefix(4);
  } else if (host.ends_with(".queue")) {  // <region>.queue.amazonaws.com (legacy)
    host.remove_suffix(6);
  } else {
    return std::nullopt;
  }
  if (host.empty() || host.find('.') != std::string_view::npos) return std::nullopt;
  return std::string(host);
}

std::string SqsBodyMd5(std::string_view body) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int size = 0;
  if (EVP_Digest(body.data(), body.size(), digest, &size, EVP_md5(), nullptr) != 1) return {};
  return LowerHex(digest, size);
}

SqsClient::SqsClient(SqsClientOptions options, std::shared_ptr<HttpClient> http, Url url)
    : options_(std::move(options)), http_(std::move(http)), signer_(options_.region, "sqs"), url_(std::move(url)) {}

SqsClient::~SqsClient() = default;

Result<std::unique_ptr<SqsClient>> SqsClient::Create(SqsClientOptions options) {
  Result<Url> url = ParseUrl(options.queue_url);
  if (!url.ok()) return Status::InvalidArgument("SQS queue URL: " + url.status().message());
  if (url->target.size() < 2 || url->target.find('?') != std::string::npos) {
    return Status::InvalidArgument("SQS queue URL must name a queue (…/<account>/<queue>) and have no query");
  }
  if (options.region.empty()) {
    std::optional<std::string> region = RegionFromQueueUrl(options.queue_url);
    if (!region) {
      return Status::InvalidArgument("SQS queue URL names no AWS region; give one (AWS_REGION or region=)");
    }
    options.region = *region;
  }
  if (options.credentials.access_key_id.empty() || options.credentials.secret_access_key.empty()) {
    return Status::InvalidArgument("SQS client needs AWS credentials");
  }
  if (options.retry.max_attempts < 1) options.retry.max_attempts = 1;
  if (!options.sleep) options.sleep = [](std::chrono::milliseconds d) { std::this_thread::sleep_for(d); };
  if (!options.random) options.random = DefaultRandom;
  if (!options.now) options.now = [] { return std::chrono::system_clock::now(); };
  std::shared_ptr<HttpClient> http = options.shared_http;
  if (!http) {
    Result<std::unique_ptr<HttpClient>> made = HttpClient::Create(options.http);
    if (!made.ok()) return made.status();
    http = std::move(made).value();
  }
  Url parsed = std::move(url).value();
  return std::unique_ptr<SqsClient>(new SqsClient(std::move(options), std::move(http), std::move(parsed)));
}

Result<std::string> SqsClient::Call(std::string_view action, const Params& params, int max_attempts,
                                    std::chrono::steady_clock::time_point deadline,
                                    std::chrono::milliseconds extra_timeout) {
  using SteadyClock = std::chrono::steady_clock;
  const int attempts = max_attempts > 0 ? max_attempts : options_.retry.max_attempts;
  const std::string body = FormBody(action, options_.queue_url, params);
  const std::string host = url_.HostHeader();
  // Sent to the endpoint with the queue named in the body, as AWS SDKs do.
  const std::string url = (url_.https ? "https://" : "http://") + host + "/";
  for (int attempt = 1;; ++attempt) {
    std::chrono::milliseconds timeout = options_.request_timeout + extra_timeout;
    if (deadline != SteadyClock::time_point::max()) {
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - SteadyClock::now());
      if (left.count() <= 0) {
        return Status::DeadlineExceeded("SQS " + std::string(action) + ": no time left (" +
                                        std::to_string(attempt - 1) + " attempts made)");
      }
      timeout = std::min(timeout, left);
    }
    // Signed per attempt: the signature covers the time.
    SigningRequest signing;
    signing.method = "POST";
    signing.path = "/";
    signing.headers = {{"host", host}, {"content-type", std::string(kContentType)}};
    signing.body = body;
    Result<SignedRequest> signature = signer_.Sign(signing, options_.credentials, options_.now());
    if (!signature.ok()) return signature.status();

    HttpRequest request;
    request.method = "POST";
    request.url = url;
    request.headers = std::move(signing.headers);
    for (auto& header : signature->headers_to_add) request.headers.push_back(std::move(header));
    request.body = body;
    request.timeout = timeout;
    Result<HttpResponse> response = http_->Send(request);

    Outcome outcome = Classify(action, response);
    if (outcome.status.ok()) return std::move(response->body);
    if (!outcome.retryable) return outcome.status;
    const std::chrono::milliseconds pause = FullJitterBackoff(options_.retry, attempt, options_.random());
    const bool out_of_time =
        deadline != SteadyClock::time_point::max() && SteadyClock::now() + pause >= deadline;
    if (attempt >= attempts || out_of_time) {
      std::string message = outcome.status.message() + " (gave up after " + std::to_string(attempt) +
                            (attempt == 1 ? " attempt)" : " attempts)");
      return outcome.status.code() == StatusCode::kDeadlineExceeded ? Status::DeadlineExceeded(std::move(message))
                                                                    : Status::Unavailable(std::move(message));
    }
    options_.sleep(pause);
  }
}

Result<SqsSentMessage> SqsClient::SendMessage(std::string_view body, std::chrono::steady_clock::time_point deadline) {
  if (body.empty() || body.size() > kSqsMaxMessageBytes) {
    return Status::InvalidArgument("SQS SendMessage: a message body must be 1-" + std::to_string(kSqsMaxMessageBytes) +
                                   " bytes, this one is " + std::to_string(body.size()));
  }
  if (!IsSqsText(body)) {
    return Status::InvalidArgument("SQS SendMessage: the body holds characters SQS does not accept");
  }
  const std::string expected_md5 = SqsBodyMd5(body);
  for (int attempt = 1;; ++attempt) {
    Result<std::string> answer = Call("SendMessage", {{"MessageBody", std::string(body)}}, 0, deadline);
    if (!answer.ok()) return answer.status();
    pugi::xml_document document;
    if (!document.load_buffer(answer->data(), answer->size())) {
      return Status::Internal("SQS SendMessage: the answer is not XML");
    }
    Result<pugi::xml_node> result = ParseResult(document, "SendMessage");
    if (!result.ok()) return result.status();
    SqsSentMessage sent;
    sent.message_id = result->child_value("MessageId");
    const std::string md5 = result->child_value("MD5OfMessageBody");
    if (sent.message_id.empty()) return Status::Internal("SQS SendMessage: the answer has no MessageId");
    if (md5 == expected_md5) return sent;
    // SQS saw other bytes than we sent: send again (a duplicate message is
    // harmless to an idempotent consumer; a corrupted one is not).
    if (attempt >= 3) {
      return Status::Unavailable("SQS SendMessage: MD5OfMessageBody does not match the body sent (" +
                                 std::to_string(attempt) + " attempts)");
    }
  }
}

Result<std::vector<SqsMessage>> SqsClient::ReceiveMessages(const SqsReceiveOptions& receive) {
  Params params = {{"MaxNumberOfMessages", std::to_string(std::clamp(receive.max_messages, 1, 10))},
                   {"WaitTimeSeconds", std::to_string(std::clamp(receive.wait_seconds, 0, 20))},
                   {"AttributeName.1", "All"}};
  if (receive.visibility_timeout_seconds >= 0) {
    params.emplace_back("VisibilityTimeout", std::to_string(receive.visibility_timeout_seconds));
  }
  // A long poll legitimately holds the exchange open for wait_seconds.
  Result<std::string> answer = Call("ReceiveMessage", params, 0, std::chrono::steady_clock::time_point::max(),
                                    std::chrono::seconds(std::clamp(receive.wait_seconds, 0, 20)));
  if (!answer.ok()) return answer.status();
  pugi::xml_document document;
  if (!document.load_buffer(answer->data(), answer->size())) {
    return Status::Internal("SQS ReceiveMessage: the answer is not XML");
  }
  Result<pugi::xml_node> result = ParseResult(document, "ReceiveMessage");
  if (!result.ok()) return result.status();
  std::vector<SqsMessage> messages;
  for (const pugi::xml_node node : result->children("Message")) {
    SqsMessage message;
    message.message_id = node.child_value("MessageId");
    message.receipt_handle = node.child_value("ReceiptHandle");
    message.body = node.child_value("Body");
    for (const pugi::xml_node attribute : node.children("Attribute")) {
      message.attributes[attribute.child_value("Name")] = attribute.child_value("Value");
    }
    const std::string md5 = node.child_value("MD5OfBody");
    if (!md5.empty() && md5 != SqsBodyMd5(message.body)) {
      return Status::Unavailable("SQS ReceiveMessage: a message's MD5OfBody does not match its body");
    }
    messages.push_back(std::move(message));
  }
  return messages;
}

Status SqsClient::DeleteMessage(std::string_view receipt_handle) {
  Result<std::string> answer = Call("DeleteMessage", {{"ReceiptHandle", std::string(receipt_handle)}}, 0,
                                    std::chrono::steady_clock::time_point::max());
  return answer.ok() ? Status::Ok() : answer.status();
}

Result<std::map<std::string, std::string>> SqsClient::GetQueueAttributes(int max_attempts) {
  Result<std::string> answer = Call("GetQueueAttributes", {{"AttributeName.1", "All"}}, max_attempts,
                                    std::chrono::steady_clock::time_point::max());
  if (!answer.ok()) return answer.status();
  pugi::xml_document document;
  if (!document.load_buffer(answer->data(), answer->size())) {
    return Status::Internal("SQS GetQueueAttributes: the answer is not XML");
  }
  Result<pugi::xml_node> result = ParseResult(document, "GetQueueAttributes");
  if (!result.ok()) return result.status();
  std::map<std::string, std::string> attributes;
  for (const pugi::xml_node attribute : result->children("Attribute")) {
    attributes[attribute.child_value("Name")] = attribute.child_value("Value");
  }
  return attributes;
}

}  // namespace eventlogger::aws
