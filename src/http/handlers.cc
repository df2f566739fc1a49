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

Response WriteResponse(HttpStatus status, const std::string& user_id, const std::string& event_id,
                       bool sql_success, bool document_success, bool retry_queued) {
  Response response = JsonResponse(
      status, WriteResultJson(event_id, sql_success, document_success, retry_queued));
  const std::string encoded_user = PercentEncodePathSegment(user_id);
  std::string location;
  location.reserve(sizeof "/events//" + encoded_user.size() + event_id.size());
  location.append("/events/").append(encoded_user).append("/").append(event_id);
  response.set(beast_http::field::location, location);
  return response;
}

// The answer to a retry that carries an Idempotency-Key already used: the
// original event, as things stand now.
Response ReplayResponse(const IdempotentRecord& record, const std::string& user_id) {
  const bool queued = record.queued && !(record.metadata_done && record.document_done);
  Response response = WriteResponse(queued ? HttpStatus::accepted : HttpStatus::created, user_id,
                                     record.event_id, record.metadata_done, record.document_done, queued);
  response.set("Idempotent-Replayed", "true");
  return response;
}

// Waits for the pipeline to finish with the ticket, or for the store timeout.
// The timeout never cuts the outbox short: whether the intent is durable
// decides between "queued" (202) and "stored nowhere" (503), so the answer
// must wait for it; it is a local disk write.
asio::awaitable<void> AwaitTicket(const std::shared_ptr<WriteTicket>& ticket,
                                  const std::shared_ptr<WriteWaiter>& waiter,
                                  std::chrono::milliseconds store_timeout) {
  while (!ticket->complete()) {
    waiter->timer.expires_after(store_timeout);
    boost::system::error_code ignored;
    co_await waiter->timer.async_wait(asio::redirect_error(asio::use_awaitable, ignored));
    if (ticket->complete()) break;
    if (ticket->reported(StoreSlot::kOutbox)) {
      ticket->Expire();
      break;
    }
  }
}

asio::awaitable<Response> PostEvent(const Request& request, const HandlerContext& context) {
  const auto content_type = request[beast_http::field::content_type];
  if (!IsJsonContentType(std::string_view(content_type.data(), content_type.size()))) {
    co_return MakeProblem(HttpStatus::unsupported_media_type,
                          "Send the event as Content-Type: application/json.");
  }
  const auto key_field = request.find("Idempotency-Key");  // one lookup: most requests have none
  const bool has_key = key_field != request.end();
  const std::string idempotency_key =
      has_key ? std::string(key_field->value().data(), key_field->value().size()) : std::string();
  if (has_key && !IsValidIdempotencyKey(idempotency_key)) {
    co_return MakeValidationProblem(
        {"The Idempotency-Key header is not valid.",
         {{"Idempotency-Key", "must be 1-255 printable ASCII characters"}}});
  }
  EventRequestParse parse = ParseEventRequest(request.body());
  if (!parse.request) co_return MakeValidationProblem(parse.error);

  const size_t document_bytes = parse.request->user_id.size() + parse.request->event_type.size() +
                                parse.request->details_json.size();
  if (document_bytes > context.max_document_bytes) {
    co_return MakeProblem(HttpStatus::payload_too_large,
                          "The event is " + std::to_string(document_bytes) +
                              " bytes; the document store accepts at most " +
                              std::to_string(context.max_document_bytes) + ".");
  }

  auto event = std::make_shared<Event>();
  event->user_id = std::move(parse.request->user_id);
  event->event_type = std::move(parse.request->event_type);
  event->details_json = std::move(parse.request->details_json);

  // An Idempotency-Key is claimed for the whole request, so concurrent
  // retries cannot both create an event.
  struct KeyClaim {
    IdempotencyIndex* index = nullptr;
    std::string scope, key;
    ~KeyClaim() {
      if (index != nullptr) index->End(scope, key);
    }
  } claim;
  if (has_key) {
    if (!context.idempotency.TryBegin(event->user_id, idempotency_key)) {
      if (std::optional<IdempotentRecord> answered = context.idempotency.Answered(event->user_id, idempotency_key)) {
        if (answered->request_hash != RequestHash(event->user_id, event->event_type, event->details_json)) {
          co_return MakeProblem(HttpStatus::unprocessable_entity,
                                "This Idempotency-Key was used with a different request body.",
                                kProblemIdempotencyMismatch, "Idempotency-Key reused");
        }
        co_return ReplayResponse(*answered, event->user_id);
      }
      co_return MakeProblem(HttpStatus::conflict,
                            "A request with this Idempotency-Key is still being processed.",
                            kProblemIdempotencyInFlight, "Request in progress");
    }
    claim.index = &context.idempotency;
    claim.scope = event->user_id;
    claim.key = idempotency_key;
    event->idempotency_key = idempotency_key;
    event->request_hash = RequestHash(event->user_id, event->event_type, event->details_json);
    IdempotencyIndex& index = context.idempotency;
    auto lookup = [&index, user_id = event->user_id, key = idempotency_key] { return index.Find(user_id, key); };
    Result<std::optional<IdempotentRecord>> existing = co_await RunBlocking(context.blocking_pool, std::move(lookup));
    if (!existing.ok()) {
      log::Error("idempotency lookup failed", {{"error", existing.status().ToString()}});
      co_return MakeStatusProblem(existing.status());
    }
    if (existing->has_value()) {
      if ((*existing)->request_hash != event->request_hash) {
        co_return MakeProblem(HttpStatus::unprocessable_entity,
                              "This Idempotency-Key was used with a different request body.",
                              kProblemIdempotencyMismatch, "Idempotency-Key reused");
      }
      co_return ReplayResponse(**existing, event->user_id);
    }
  }

  const Uuid7 id = context.ids.Next();
  event->event_id = FormatUuid(id.bytes);
  event->unix_millis = id.unix_millis;
  event->timestamp = FormatTimestamp(id.unix_millis);
  auto ticket = std::make_shared<WriteTicket>(std::move(event));
  const asio::any_io_executor executor = co_await asio::this_coro::executor;
  auto waiter = std::make_shared<WriteWaiter>(executor);
  ticket->SetOnComplete([executor, weak = std::weak_ptr<WriteWaiter>(waiter)] {
    asio::post(executor, [weak] {
      if (auto alive = weak.lock()) alive->timer.cancel();
    });
  });
  if (claim.index != nullptr) {
    // The claim lasts until the event can be found by its key (both stores,
    // or the outbox after a failure), which may be after this response: a
    // retry in between gets this request's answer (409 before there is one),
    // never a second event.
    ticket->SetOnSettled([index = claim.index, scope = claim.scope, key = claim.key] { index->End(scope, key); });
  }
  if (Status admitted = context.writer.Submit(ticket); !admitted.ok()) {
    co_return MakeStatusProblem(admitted);
  }
  claim.index = nullptr;  // the pipeline ends it now
  co_await AwaitTicket(ticket, waiter, context.options.store_timeout);

  const WriteOutcome outcome = ticket->Outcome();
  const Event& written = ticket->event();
  if (!outcome.outbox.ok()) {
    log::Error("write intent not recorded; event refused",
               {{"eventId", written.event_id}, {"error", outcome.outbox.ToString()}});
    Response response = MakeProblem(HttpStatus::service_unavailable,
                                    "The event could not be recorded; nothing was stored. Retry shortly.",
                                    kProblemNotStored, "Not stored");
    response.set(beast_http::field::retry_after, "1");
    co_return response;
  }
  if (!outcome.metadata.ok()) {
    log::Write(log::Level::kDebug, "metadata write deferred to retry", {{"eventId", written.event_id},
                                                   {"error", outcome.metadata.ToString()}});
  }
  if (!outcome.document.ok()) {
    log::Write(log::Level::kDebug, "document write deferred to retry", {{"eventId", written.event_id},
                                                   {"error", outcome.document.ToString()}});
  }
  const bool queued = !outcome.all_ok();
  if (!written.idempotency_key.empty()) {
    // Until the pipeline settles the event (the claim ends), a retry gets
    // this answer rather than a 409.
    context.idempotency.RecordAnswer(written.user_id, written.idempotency_key,
                                     IdempotentRecord{written.event_id, written.request_hash, queued,
                                                      outcome.metadata.ok(), outcome.document.ok()});
  }
  co_return WriteResponse(queued ? HttpStatus::accepted : HttpStatus::created, written.user_id,
                          written.event_id, outcome.metadata.ok(), outcome.document.ok(), queued);
}

asio::awaitable<Response> GetUserEvents(const Route& route, const HandlerContext& context) {
  if (std::string problem = CheckUserId(route.user_id); !problem.empty()) {
    co_return MakeValidationProblem({"The userId in the path is not valid.", {{"userId", problem}}});
  }
  UserEventsCache& cache = context.read_cache;
  // A hit is answered right here on the io thread: no store, no thread hop.
  if (const UserEventsCache::Body cached = cache.Find(route.user_id)) {
    co_return JsonResponse(HttpStatus::ok, *cached);
  }
  const EventReader& reader = context.reader;
  auto read = [&reader, &cache, user_id = route.user_id]() -> Result<UserEventsCache::Body> {
    const UserEventsCache::Token token = cache.BeginRead(user_id);
    Result<std::string> json = reader.UserEventsJson(user_id);
    if (!json.ok()) return json.status();
    // The answer grew by appending, so up to half its allocation can be
    // slack; the cache charges the allocation, and a copy of the exact size
    // fits twice as many answers in the same budget (after a POST load the
    // cache's 64 MiB held 90 MiB of RSS). Without a cache (the DynamoDB
    // default) the answer is sent once and freed: no copy.
    if (cache.enabled()) json->shrink_to_fit();
    auto body = std::make_shared<const std::string>(std::move(*json));
    cache.Insert(user_id, token, body);
    return UserEventsCache::Body(std::move(body));
  };
  Result<UserEventsCache::Body> body = co_await RunBlocking(context.blocking_pool, std::move(read));
  if (!body.ok()) {
    log::Error("reading events failed", {{"error", body.status().ToString()}});
    co_return MakeStatusProblem(body.status());
  }
  co_return JsonResponse(HttpStatus::ok, **body);
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
  std::string body;
  body.reserve(128);  // one allocation: the answer to every POST is about 110 bytes
  body += "{\"eventId\": \"";
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
    case RouteKind::kMetrics: {
      if (method != Verb::get) co_return MethodNotAllowed("GET");
      auto render = context.render_metrics;
      Result<std::string> text = co_await RunBlocking(context.blocking_pool, std::move(render));
      if (!text.ok()) co_return MakeStatusProblem(text.status());
      Response response(HttpStatus::ok, 11);
      response.set(beast_http::field::content_type, "text/plain; version=0.0.4; charset=utf-8");
      response.body() = std::move(*text);
      co_return response;
    }
    case RouteKind::kNotFound:
      break;
  }
  co_return MakeProblem(HttpStatus::not_found, "No resource lives at this path.");
}

}  // namespace eventlogger::http
