#include "http/handlers.h"

#include <boost/asio/post.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/http/field.hpp>

#include "core/log.h"
#include "core/timestamp.h"
#include "core/validation.h"
#include "http/problem.h"
#include "http/router.h"

namespace eventlogger::http {
namespace asio = boost::asio;

namespace {

bool IsJsonContentType(std::string_view value) {
  // "application/json", optionally with parameters such as charset.
  const std::string_view media = value.substr(0, value.find(';'));
  std::string_view trimmed = media;
  while (!trimmed.empty() && (trimmed.back() == ' ' || trimmed.back() == '\t')) trimmed.remove_suffix(1);
  constexpr std::string_view kJson = "application/json";
  if (trimmed.size() != kJson.size()) return false;
  for (size_t i = 0; i < kJson.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(trimmed[i])) != kJson[i]) return false;
  }
  return true;
}

Response JsonResponse(HttpStatus status, std::string body) {
  Response response(status, 11);
  response.set(beast_http::field::content_type, "application/json");
  response.body() = std::move(body);
  return response;
}

Response MethodNotAllowed(std::string_view allow) {
  Response response = MakeProblem(HttpStatus::method_not_allowed,
                                  "This resource supports only: " + std::string(allow) + ".");
  response.set(beast_http::field::allow, std::string(allow));
  return response;
}

// Runs `work` on the blocking pool and resumes the awaiting coroutine on its
// own executor with the result. Deliberately not a coroutine itself: g++ 12
// mishandles lambdas with non-trivial captures passed as coroutine
// parameters, so callers also keep `work` in a named local.
template <typename Work>
auto RunBlocking(asio::thread_pool& pool, Work work) {
  using Value = std::invoke_result_t<Work&>;
  return asio::async_initiate<const asio::use_awaitable_t<>&, void(Value)>(
      [&pool](auto handler, Work work) {
        asio::post(pool, [work = std::move(work), handler = std::move(handler)]() mutable {
          Value value = work();
          auto executor = asio::get_associated_executor(handler);
          asio::post(executor, [handler = std::move(handler), value = std::move(value)]() mutable {
            handler(std::move(value));
          });
        });
      },
      asio::use_awaitable, std::move(work));
}

// Lets a store writer's thread wake the waiting coroutine: the coroutine
// sleeps on `timer` until the store timeout, and completion cancels the
// timer early. Held weakly by the ticket so a late completion after the
// waiter has gone touches nothing.
struct WriteWaiter {
  explicit WriteWaiter(const asio::any_io_executor& executor) : timer(executor) {}
  asio::steady_timer timer;
};

asio::awaitable<Response> PostEvent(const Request& request, const HandlerContext& context) {
  const auto content_type = request[beast_http::field::content_type];
  if (!IsJsonContentType(std::string_view(content_type.data(), content_type.size()))) {
    co_return MakeProblem(HttpStatus::unsupported_media_type,
                          "Send the event as Content-Type: application/json.");
  }
  EventRequestParse parse = ParseEventRequest(request.body());
  if (!parse.request) co_return MakeValidationProblem(parse.error);

  const Uuid7 id = context.ids.Next();
  auto event = std::make_shared<Event>();
  event->event_id = FormatUuid(id.bytes);
  event->user_id = std::move(parse.request->user_id);
  event->event_type = std::move(parse.request->event_type);
  event->unix_millis = id.unix_millis;
  event->timestamp = FormatTimestamp(id.unix_millis);
  event->details_json = std::move(parse.request->details_json);

  auto ticket = std::make_shared<WriteTicket>(std::move(event));
  const asio::any_io_executor executor = co_await asio::this_coro::executor;
  auto waiter = std::make_shared<WriteWaiter>(executor);
  ticket->SetOnComplete([executor, weak = std::weak_ptr<WriteWaiter>(waiter)] {
    asio::post(executor, [weak] {
      if (auto alive = weak.lock()) alive->timer.cancel();
    });
  });
  if (Status admitted = context.writer.Submit(ticket); !admitted.ok()) {
    co_return MakeStatusProblem(admitted);
  }
  if (!ticket->complete()) {
    waiter->timer.expires_after(context.options.store_timeout);
    boost::system::error_code ignored;
    co_await waiter->timer.async_wait(asio::redirect_error(asio::use_awaitable, ignored));
    if (!ticket->complete()) ticket->Expire();
  }

  const WriteOutcome outcome = ticket->Outcome();
  const Event& written = ticket->event();
  if (!outcome.metadata.ok()) {
    log::Error("metadata write failed", {{"eventId", written.event_id},
                                         {"error", outcome.metadata.ToString()}});
  }
  if (!outcome.document.ok()) {
    log::Error("document write failed", {{"eventId", written.event_id},
                                         {"error", outcome.document.ToString()}});
  }
  // Durable retries (the outbox) will turn a partial failure into 202 with
  // retryQueued=true; until then a failure is reported as such.
  Response response = JsonResponse(
      outcome.all_ok() ? HttpStatus::created : HttpStatus::service_unavailable,
      WriteResultJson(written.event_id, outcome.metadata.ok(), outcome.document.ok(),
                      /*retry_queued=*/false));
  if (outcome.all_ok()) {
    response.set(beast_http::field::location,
                 "/events/" + PercentEncodePathSegment(written.user_id) + "/" + written.event_id);
  } else {
    response.set(beast_http::field::retry_after, "1");
  }
  co_return response;
}

asio::awaitable<Response> GetUserEvents(const Route& route, const HandlerContext& context) {
  if (std::string problem = CheckUserId(route.user_id); !problem.empty()) {
    co_return MakeValidationProblem({"The userId in the path is not valid.", {{"userId", problem}}});
  }
  const EventReader& reader = context.reader;
  auto read = [&reader, user_id = route.user_id] { return reader.UserEventsJson(user_id); };
  Result<std::string> body = co_await RunBlocking(context.blocking_pool, std::move(read));
  if (!body.ok()) {
    log::Error("reading events failed", {{"error", body.status().ToString()}});
    co_return MakeStatusProblem(body.status());
  }
  co_return JsonResponse(HttpStatus::ok, std::move(*body));
}

asio::awaitable<Response> GetUserEvent(const Route& route, const HandlerContext& context) {
  if (std::string problem = CheckUserId(route.user_id); !problem.empty()) {
    co_return MakeValidationProblem({"The userId in the path is not valid.", {{"userId", problem}}});
  }
  const EventReader& reader = context.reader;
  auto read = [&reader, user_id = route.user_id, event_id = route.event_id] {
    return reader.EventJson(user_id, event_id);
  };
  Result<std::string> body = co_await RunBlocking(context.blocking_pool, std::move(read));
  if (!body.ok()) {
    if (body.status().code() == StatusCode::kNotFound) {
      co_return MakeProblem(HttpStatus::not_found, "This user has no event with that eventId.");
    }
    log::Error("reading an event failed", {{"error", body.status().ToString()}});
    co_return MakeStatusProblem(body.status());
  }
  co_return JsonResponse(HttpStatus::ok, std::move(*body));
}

}  // namespace

std::string WriteResultJson(std::string_view event_id, bool sql_success, bool document_success,
                            bool retry_queued) {
  const auto flag = [](bool value) { return value ? "true" : "false"; };
  std::string body = "{\"eventId\": \"";
  body += event_id;  // a UUID: nothing to escape
  body += "\", \"sqlSuccess\": ";
  body += flag(sql_success);
  body += ", \"dynamoSuccess\": ";
  body += flag(document_success);
  body += ", \"retryQueued\": ";
  body += flag(retry_queued);
  body += '}';
  return body;
}

asio::awaitable<Response> HandleRequest(const Request& request, const HandlerContext& context,
                                        RequestInfo& info) {
  const Route route = MatchRoute(std::string_view(request.target().data(), request.target().size()));
  info.route = route.name;
  if (route.bad_encoding) {
    co_return MakeProblem(HttpStatus::bad_request, "The request path has a malformed %-escape.");
  }
  const Verb method = request.method();
  switch (route.kind) {
    case RouteKind::kEvents:
      if (method != Verb::post) co_return MethodNotAllowed("POST");
      co_return co_await PostEvent(request, context);
    case RouteKind::kUserEvents:
      if (method != Verb::get) co_return MethodNotAllowed("GET");
      co_return co_await GetUserEvents(route, context);
    case RouteKind::kUserEvent:
      if (method != Verb::get) co_return MethodNotAllowed("GET");
      co_return co_await GetUserEvent(route, context);
    case RouteKind::kHealth:
      if (method != Verb::get) co_return MethodNotAllowed("GET");
      co_return JsonResponse(HttpStatus::ok, "{\"status\":\"ok\"}");
    case RouteKind::kNotFound:
      break;
  }
  co_return MakeProblem(HttpStatus::not_found, "No resource lives at this path.");
}

}  // namespace eventlogger::http
