// The Lambda Runtime API (version 2018-06-01), as a custom runtime speaks
// it: ask for the next invocation, answer it or report its error, or
// report that initialisation failed.
//
// Endpoints, under http://$AWS_LAMBDA_RUNTIME_API/2018-06-01/runtime/:
//   GET  invocation/next            blocks until an event arrives
//   POST invocation/{id}/response   the function's result
//   POST invocation/{id}/error      {"errorMessage","errorType","stackTrace"}
//   POST init/error                 the same, before the first next
// Error posts carry Lambda-Runtime-Function-Error-Type.
//
// Thread safety: one loop thread uses it.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "aws/http_client.h"
#include "core/status.h"

namespace eventlogger::lambda {

struct Invocation {
  std::string request_id;    // Lambda-Runtime-Aws-Request-Id
  int64_t deadline_ms = 0;   // Lambda-Runtime-Deadline-Ms: Unix time in ms the invocation must end by
  std::string function_arn;  // Lambda-Runtime-Invoked-Function-Arn
  std::string trace_id;      // Lambda-Runtime-Trace-Id ("Root=1-…;Parent=…;Sampled=…"); may be empty
  std::string event;         // the event JSON
};

struct ErrorReport {
  std::string type;     // e.g. "Runtime.InitError", "Handler.BadEvent"
  std::string message;  // for people; never payloads or secrets
};

class RuntimeClient {
 public:
  // `endpoint` is AWS_LAMBDA_RUNTIME_API: host:port.
  static Result<std::unique_ptr<RuntimeClient>> Create(std::string endpoint);

  // Blocks until Lambda hands over an invocation. Unavailable when the
  // Runtime API cannot be reached (the loop then exits: Lambda restarts it).
  Result<Invocation> Next();
  Status Respond(const std::string& request_id, const std::string& response);
  Status ReportInvocationError(const std::string& request_id, const ErrorReport& error);
  Status ReportInitError(const ErrorReport& error);

  const std::string& endpoint() const { return endpoint_; }

 private:
  RuntimeClient(std::string endpoint, std::unique_ptr<aws::HttpClient> http);
  Status Post(const std::string& path, std::string body, const ErrorReport* error);

  std::string endpoint_;
  std::string base_;
  std::unique_ptr<aws::HttpClient> http_;
};

// The Root= part of a trace header ("1-5759e988-bd862e3fe1be46a994272793"),
// or empty.
std::string TraceRoot(std::string_view trace_header);

}  // namespace eventlogger::lambda
