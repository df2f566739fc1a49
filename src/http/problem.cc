#include "http/problem.h"

#include <boost/beast/http/field.hpp>

#include "core/json_output.h"

namespace eventlogger::http {

Response MakeProblem(HttpStatus status, std::string_view detail, std::string_view type,
                     std::string_view title, const std::vector<FieldError>& errors) {
  if (title.empty()) {
    const auto reason = beast_http::obsolete_reason(status);
    title = std::string_view(reason.data(), reason.size());
  }
  std::string body = "{\"type\":";
  AppendJsonString(body, type);
  body += ",\"title\":";
  AppendJsonString(body, title);
  body += ",\"status\":";
  body += std::to_string(static_cast<unsigned>(status));
  body += ",\"detail\":";
  AppendJsonString(body, detail);
  if (!errors.empty()) {
    body += ",\"errors\":[";
    for (size_t i = 0; i < errors.size(); ++i) {
      if (i > 0) body += ',';
      body += "{\"field\":";
      AppendJsonString(body, errors[i].field);
      body += ",\"message\":";
      AppendJsonString(body, errors[i].message);
      body += '}';
    }
    body += ']';
  }
  body += '}';
  Response response(status, 11);
  response.set(beast_http::field::content_type, "application/problem+json");
  response.body() = std::move(body);
  return response;
}

Response MakeValidationProblem(const ValidationError& error) {
  return MakeProblem(HttpStatus::bad_request, error.detail, kProblemValidation,
                     "Your request is not valid.", error.errors);
}

Response MakeStatusProblem(const eventlogger::Status& status) {
  switch (status.code()) {
    case StatusCode::kInvalidArgument:
      return MakeProblem(HttpStatus::bad_request, status.message());
    case StatusCode::kNotFound:
      return MakeProblem(HttpStatus::not_found, status.message());
    case StatusCode::kResourceExhausted: {
      Response response = MakeProblem(HttpStatus::service_unavailable,
                                      "The service is at capacity; retry shortly.",
                                      kProblemOverloaded, "Overloaded");
      response.set(beast_http::field::retry_after, "1");
      return response;
    }
    case StatusCode::kUnavailable:
    case StatusCode::kDeadlineExceeded: {
      Response response = MakeProblem(HttpStatus::service_unavailable,
                                      "A storage backend is unavailable; retry shortly.",
                                      kProblemStoreUnavailable, "Store unavailable");
      response.set(beast_http::field::retry_after, "1");
      return response;
    }
    default:
      // Internal details stay in the log, not in the response.
      return MakeProblem(HttpStatus::internal_server_error, "An internal error occurred.");
  }
}

Response MethodNotAllowed(std::string_view allow) {
  Response response = MakeProblem(HttpStatus::method_not_allowed,
                                  "This resource supports only: " + std::string(allow) + ".");
  response.set(beast_http::field::allow, std::string(allow));
  return response;
}

Response JsonResponse(HttpStatus status, std::string body) {
  Response response(status, 11);
  response.set(beast_http::field::content_type, "application/json");
  response.body() = std::move(body);
  return response;
}

}  // namespace eventlogger::http
