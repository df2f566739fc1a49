// ApiFunction: the API behind API Gateway, one invocation at a time. Turns
// the proxy event into the request the HTTP server would have parsed,
// hands it to the same handlers (routing, validation, auth, rate limits,
// cache, stores), and the response back into a proxy response.
//
// What the HTTP server adds to every response it adds too (X-Request-Id,
// the client's if acceptable, else the invocation's request id;
// X-Content-Type-Options), writes the same access-log line and reports to
// the same per-route metrics. A write waits for the stores no longer than
// the invocation's deadline allows, less `response_margin`.
//
// Thread safety: Invoke from one thread at a time (the runtime loop's);
// the handlers run on an io thread of the function's own.
#pragma once

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <chrono>
#include <string>
#include <thread>

#include "core/status.h"
#include "http/handlers.h"
#include "http/http_server.h"  // RequestObserver
#include "lambda/function.h"
#include "lambda/runtime_client.h"

namespace eventlogger::lambda {

struct ApiFunctionOptions {
  // Time kept back from the deadline to deliver the answer.
  std::chrono::milliseconds response_margin{300};
  bool access_log = true;
};

class ApiFunction final : public Function {
 public:
  ApiFunction(const http::HandlerContext& context, http::RequestObserver* observer, ApiFunctionOptions options);
  ApiFunction(const ApiFunction&) = delete;
  ApiFunction& operator=(const ApiFunction&) = delete;
  ~ApiFunction() override;

  // The proxy response; InvalidArgument when the event is not an API
  // Gateway proxy event (an invocation error, not an HTTP answer).
  Result<std::string> Invoke(const Invocation& invocation) override;

 private:
  const http::HandlerContext& context_;
  http::RequestObserver* const observer_;
  const ApiFunctionOptions options_;
  boost::asio::io_context io_{1};
  boost::asio::executor_work_guard<boost::asio::io_context::executor_type> work_;
  std::thread thread_;
};

}  // namespace eventlogger::lambda
