#include "lambda/api_function.h"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/use_future.hpp>

#include "core/clock.h"
#include "core/log.h"
#include "core/validation.h"
#include "http/problem.h"
#include "lambda/api_gateway.h"

namespace eventlogger::lambda {
namespace asio = boost::asio;

ApiFunction::ApiFunction(const http::HandlerContext& context, http::RequestObserver* observer,
                         ApiFunctionOptions options)
    : context_(context), observer_(observer), options_(options), work_(asio::make_work_guard(io_)) {
  thread_ = std::thread([this] { io_.run(); });
  pthread_setname_np(thread_.native_handle(), "io-lambda");
}

ApiFunction::~ApiFunction() {
  work_.reset();
  io_.stop();
  if (thread_.joinable()) thread_.join();
}

Result<std::string> ApiFunction::Invoke(const Invocation& invocation) {
  Result<ProxyRequest> proxy = ParseProxyEvent(invocation.event);
  if (!proxy.ok()) return proxy.status();
  const auto started = std::chrono::steady_clock::now();
  const http::Request& request = proxy->request;
  http::RequestInfo info;
  info.client_address = proxy->source_ip;
  if (invocation.deadline_ms > 0) {
    const int64_t left_ms = invocation.deadline_ms - SystemClock::Instance().NowUnixMillis();
    info.deadline = started + std::chrono::milliseconds(left_ms) - options_.response_margin;
  }
  http::Response response;
  try {
    response = asio::co_spawn(io_, http::HandleRequest(request, context_, info), asio::use_future).get();
  } catch (const std::exception& e) {
    log::Error("handler failed", {{"route", info.route}, {"error", e.what()}});
    response = http::MakeProblem(http::HttpStatus::internal_server_error, "An internal error occurred.");
    info.shared_body.reset();
  }
  const auto sent = request["X-Request-Id"];
  const std::string_view sent_id(sent.data(), sent.size());
  const std::string request_id(IsAcceptableRequestId(sent_id) ? sent_id : std::string_view(invocation.request_id));
  response.set("X-Content-Type-Options", "nosniff");
  response.set("X-Request-Id", request_id);
  std::string answer = RenderProxyResponse(proxy->version, response, info.shared_body.get());

  const auto elapsed = std::chrono::steady_clock::now() - started;
  const unsigned status = response.result_int();
  if (observer_ != nullptr) observer_->Observe(info.route, status, elapsed);
  if (options_.access_log) {
    const auto method = boost::beast::http::to_string(request.method());
    log::Info("request", {{"requestId", request_id},
                          {"method", std::string_view(method.data(), method.size())},
                          {"route", info.route},
                          {"status", status},
                          {"durationMs", std::chrono::duration<double, std::milli>(elapsed).count()}});
  }
  return answer;
}

}  // namespace eventlogger::lambda
