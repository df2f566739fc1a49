#include "lambda/runtime_client.h"

#include <charconv>

#include "core/json_output.h"

namespace eventlogger::lambda {
namespace {

constexpr std::string_view kApi = "/2018-06-01/runtime/";

std::string ErrorBody(const ErrorReport& error) {
  std::string body = "{\"errorMessage\":";
  AppendJsonString(body, error.message);
  body += ",\"errorType\":";
  AppendJsonString(body, error.type);
  body += ",\"stackTrace\":[]}";
  return body;
}

}  // namespace

std::string TraceRoot(std::string_view trace_header) {
  size_t start = 0;
  while (start <= trace_header.size()) {
    const size_t end = std::min(trace_header.find(';', start), trace_header.size());
    std::string_view part = trace_header.substr(start, end - start);
    while (!part.empty() && part.front() == ' ') part.remove_prefix(1);
    if (part.starts_with("Root=")) return std::string(part.substr(5));
    start = end + 1;
  }
  return {};
}

Result<std::unique_ptr<RuntimeClient>> RuntimeClient::Create(std::string endpoint) {
  if (endpoint.empty()) return Status::InvalidArgument("AWS_LAMBDA_RUNTIME_API is not set: not running in Lambda");
  aws::HttpClientOptions options;
  // `next` blocks until an event arrives, which may take hours; a timeout
  // only makes the loop ask again.
  options.request_timeout = std::chrono::hours(1);
  options.max_idle_per_endpoint = 1;
  options.max_idle_time = std::chrono::hours(24);
  options.user_agent = "eventlogger-lambda";
  Result<std::unique_ptr<aws::HttpClient>> http = aws::HttpClient::Create(options);
  if (!http.ok()) return http.status();
  std::unique_ptr<RuntimeClient> client(new RuntimeClient(std::move(endpoint), std::move(*http)));
  if (!aws::ParseUrl(client->base_).ok()) {
    return Status::InvalidArgument("AWS_LAMBDA_RUNTIME_API must be host:port, got '" + client->endpoint_ + "'");
  }
  return client;
}

RuntimeClient::RuntimeClient(std::string endpoint, std::unique_ptr<aws::HttpClient> http)
    : endpoint_(std::move(endpoint)), base_("http://" + endpoint_ + std::string(kApi)), http_(std::move(http)) {}

Result<Invocation> RuntimeClient::Next() {
  for (;;) {
    aws::HttpRequest request;
    request.method = "GET";
    request.url = base_ + "invocation/next";
    Result<aws::HttpResponse> response = http_->Send(request);
    if (!response.ok() && response.status().code() == StatusCode::kDeadlineExceeded) continue;
    if (!response.ok()) return response.status();
    if (response->status != 200) {
      return Status::Unavailable("the Runtime API answered next with HTTP " + std::to_string(response->status));
    }
    Invocation invocation;
    invocation.request_id = std::string(response->Header("Lambda-Runtime-Aws-Request-Id").value_or(""));
    // It goes into the paths of the answer: nothing but an id's characters.
    if (invocation.request_id.empty() || invocation.request_id.size() > 128 ||
        invocation.request_id.find_first_not_of("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.") !=
            std::string::npos) {
      return Status::Internal("the Runtime API sent an invocation without a usable request id");
    }
    const std::string_view deadline = response->Header("Lambda-Runtime-Deadline-Ms").value_or("");
    const auto [end, error] = std::from_chars(deadline.data(), deadline.data() + deadline.size(), invocation.deadline_ms);
    if (error != std::errc() || end != deadline.data() + deadline.size()) invocation.deadline_ms = 0;
    invocation.function_arn = std::string(response->Header("Lambda-Runtime-Invoked-Function-Arn").value_or(""));
    invocation.trace_id = std::string(response->Header("Lambda-Runtime-Trace-Id").value_or(""));
    invocation.event = std::move(response->body);
    return invocation;
  }
}

Status RuntimeClient::Post(const std::string& path, std::string body, const ErrorReport* error) {
  aws::HttpRequest request;
  request.method = "POST";
  request.url = base_ + path;
  request.headers.emplace_back("Content-Type", "application/json");
  if (error != nullptr) request.headers.emplace_back("Lambda-Runtime-Function-Error-Type", error->type);
  request.body = std::move(body);
  Result<aws::HttpResponse> response = http_->Send(request);
  if (!response.ok()) return response.status();
  if (response->status != 202) {
    // 413: the response was too large for Lambda; 400: the id is unknown.
    return Status::Unavailable("the Runtime API answered " + path + " with HTTP " + std::to_string(response->status));
  }
  return Status::Ok();
}

Status RuntimeClient::Respond(const std::string& request_id, const std::string& response) {
  return Post("invocation/" + request_id + "/response", response, nullptr);
}

Status RuntimeClient::ReportInvocationError(const std::string& request_id, const ErrorReport& error) {
  return Post("invocation/" + request_id + "/error", ErrorBody(error), &error);
}

Status RuntimeClient::ReportInitError(const ErrorReport& error) { return Post("init/error", ErrorBody(error), &error); }

}  // namespace eventlogger::lambda
