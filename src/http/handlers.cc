#include "http/handlers.h"

#include <boost/asio/post.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/http/field.hpp>
#include <algorithm>
#include <chrono>

#include "core/log.h"
#include "core/timestamp.h"
#include "core/validation.h"
#include "core/uuid.h"
#include "http/batch_handler.h"
#include "http/entity_tag.h"
#include "http/event_list_query.h"
#include "http/openapi_document.h"
#include "http/privacy_handlers.h"
#include "http/problem.h"
#include "http/query_string.h"
#include "http/router.h"
#include "http/write_support.h"

namespace eventlogger::http {
namespace asio = boost::asio;

namespace {

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

// A write that failed in a store and could not reach the retry queue
// either: not acknowledged.
Response NotQueued(const std::string& event_id, const RetryQueue& queue, const Status& error) {
  log::Error("a store write failed and the event could not be queued for retry; refused",
             {{"eventId", event_id}, {"retryQueue", queue.Kind()}, {"error", error.ToString()}});
  Response response = MakeProblem(
      HttpStatus::service_unavailable,
      "A store failed and the event could not be queued for retry, so it is not acknowledged (it may be "
      "stored in part). Retry with the same Idempotency-Key.",
      kProblemNotStored, "Not stored");
  response.set(beast_http::field::retry_after, "1");
  return response;
}

Response Forbidden(std::string_view detail, std::string_view scope) {
  Response response = MakeProblem(HttpStatus::forbidden, detail, kProblemForbidden, "Forbidden");
  std::string challenge = "Bearer error=\"insufficient_scope\"";
  if (!scope.empty()) challenge += ", scope=\"" + std::string(scope) + "\"";
  response.set(beast_http::field::www_authenticate, challenge);
  return response;
}

// The scope check every events route makes first.
std::optional<Response> RequireScope(const auth::Principal& principal, auth::Scope scope) {
  if (principal.scopes.Allow(scope)) return std::nullopt;
  return Forbidden("These credentials lack the " + std::string(auth::ScopeName(scope)) + " scope.",
                   auth::ScopeName(scope));
}

Response NotYourUser() {
  return Forbidden("This token may reach only the events of the user it names (its sub).", "");
}

asio::awaitable<Response> PostEvent(const Request& request, const HandlerContext& context,
                                    const auth::Principal& principal, const RequestInfo& info) {
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
  if (!principal.MayActFor(parse.request->user_id)) co_return NotYourUser();

  const size_t document_bytes = parse.request->user_id.size() + parse.request->event_type.size() +
                                parse.request->details_json.size();
  if (document_bytes > context.max_document_bytes) {
    co_return MakeProblem(HttpStatus::payload_too_large,
                          "The event is " + std::to_string(document_bytes) +
                              " bytes; the document store accepts at most " +
                              std::to_string(context.max_document_bytes) + ".");
  }

  const ClientTimes times = parse.request->times;
  const std::string request_hash = has_key ? RequestHashOf(*parse.request) : std::string();
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
        if (answered->request_hash != request_hash) {
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
    event->request_hash = request_hash;
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
      // Pending in the local outbox only: the first try may have been
      // refused because the retry queue failed, so queue it now, before
      // this answer says "queued".
      std::optional<Event>& pending = (*existing)->pending_event;
      if (context.retry_queue != nullptr && pending) {
        RetryMessage message{*std::move(pending), (*existing)->metadata_done, (*existing)->document_done,
                             "a retry of a request whose first answer may not have queued it"};
        RetryQueue& queue = *context.retry_queue;
        const auto deadline = info.deadline;
        auto enqueue = [&queue, message = std::move(message), deadline] { return queue.Enqueue(message, deadline); };
        if (const Status sent = co_await RunBlocking(context.blocking_pool, std::move(enqueue)); !sent.ok()) {
          co_return NotQueued((*existing)->event_id, queue, sent);
        }
      }
      co_return ReplayResponse(**existing, event->user_id);
    }
  }

  if (std::string error; !AssignIdAndTime(*event, times, context.ids, context.options.client_time, &error)) {
    co_return MakeValidationProblem({"The event's time is out of bounds.", {{"occurredAt", std::move(error)}}});
  }
  if (context.retry_queue != nullptr &&
      MaxRetryMessageBytes(document_bytes) > context.retry_queue->max_message_bytes()) {
    // Only a large event can outgrow a retry message: measure it exactly,
    // and refuse now what could not be queued if a store failed later.
    const size_t message_bytes = EncodeRetryMessage(RetryMessage{*event, false, false, {}}).size();
    if (message_bytes > context.retry_queue->max_message_bytes()) {
      co_return MakeProblem(HttpStatus::payload_too_large,
                            "The event would take " + std::to_string(message_bytes) +
                                " bytes as a retry message; the retry queue takes at most " +
                                std::to_string(context.retry_queue->max_message_bytes()) + ".");
    }
  }
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
  std::chrono::steady_clock::time_point store_deadline = info.deadline;
  if (context.retry_queue != nullptr && info.deadline != std::chrono::steady_clock::time_point::max()) {
    store_deadline -= context.options.retry_queue_reserve;  // leaves time to queue a failure
  }
  co_await AwaitTicket(ticket, waiter, StoreWait(context.options.store_timeout, store_deadline));

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
  if (queued && context.retry_queue != nullptr) {
    // The local outbox retries too, but does not outlive this process: the
    // answer says "queued" only once the remote queue has the event.
    RetryMessage message{written, outcome.metadata.ok(), outcome.document.ok(),
                         !outcome.metadata.ok() ? outcome.metadata.ToString() : outcome.document.ToString()};
    RetryQueue& queue = *context.retry_queue;
    const auto deadline = info.deadline;
    auto enqueue = [&queue, message = std::move(message), deadline] { return queue.Enqueue(message, deadline); };
    const Status sent = co_await RunBlocking(context.blocking_pool, std::move(enqueue));
    if (!sent.ok()) co_return NotQueued(written.event_id, queue, sent);
    log::Info("event queued for retry", {{"eventId", written.event_id}, {"retryQueue", queue.Kind()}});
  }
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

// The answer to a GET of a list or an event: 304 when the client already
// holds this representation (If-None-Match names its tag, or is "*"), the
// body otherwise. Every If-None-Match field line counts (a list may be split
// over several).
Response RepresentationResponse(const Request& request, const CachedAnswer& answer, std::string body) {
  const auto [first, last] = request.equal_range(beast_http::field::if_none_match);
  for (auto field = first; field != last; ++field) {
    const auto value = field->value();
    if (IfNoneMatchMatches(std::string_view(value.data(), value.size()), answer.etag)) {
      Response response(HttpStatus::not_modified, 11);
      response.set(beast_http::field::etag, answer.etag);
      return response;
    }
  }
  Response response = JsonResponse(HttpStatus::ok, std::move(body));
  response.set(beast_http::field::etag, answer.etag);
  if (!answer.next_link.empty()) response.set(beast_http::field::link, answer.next_link);
  return response;
}

// The same for an answer the cache holds: its body is sent from the cache's
// copy (RequestInfo::shared_body), not copied into the response.
Response SharedRepresentationResponse(const Request& request, const UserEventsCache::Body& answer,
                                      RequestInfo& info) {
  Response response = RepresentationResponse(request, *answer, std::string());
  if (response.result() == HttpStatus::ok) info.shared_body = std::shared_ptr<const std::string>(answer, &answer->body);
  return response;
}

Response InvalidUserId(const std::string& problem) {
  return MakeValidationProblem({"The userId in the path is not valid.", {{"userId", problem}}});
}

asio::awaitable<Response> GetUserEvents(const Request& request, const Route& route,
                                        const HandlerContext& context, RequestInfo& info) {
  if (std::string problem = CheckUserId(route.user_id); !problem.empty()) co_return InvalidUserId(problem);
  EventListQuery list;
  const std::string_view query = QueryOf(std::string_view(request.target().data(), request.target().size()));
  if (!query.empty()) {
    if (std::optional<ValidationError> error = ParseEventListQuery(query, &list)) {
      co_return MakeValidationProblem(*error);
    }
  }
  // Only the default query's first page is cached: it is what nearly every
  // read asks for, and one entry per user keeps invalidation exact.
  const bool cacheable = list.IsDefault();
  UserEventsCache& cache = context.read_cache;
  // A hit is answered right here on the io thread: no store, no thread hop.
  if (cacheable) {
    const UserEventsCache::Body cached = cache.Find(route.user_id);
    // An answer holding an event whose retention has ended since is stale.
    if (cached && (cached->visible_until_ms == ReadVisibility::kNever ||
                   cached->visible_until_ms > SystemClock::Instance().NowUnixMillis())) {
      co_return SharedRepresentationResponse(request, cached, info);
    }
  }
  UserRangeQuery range = list.Range();
  std::string binding = list.CursorBinding(route.user_id);
  if (!list.cursor.empty()) {
    std::optional<DocumentKey> after = context.cursors.Open(list.cursor, binding);
    if (!after) {
      co_return MakeValidationProblem(
          {"The cursor is not valid for this request.",
           {{"cursor", "is not one this service issued for this user, order and filters; "
                       "start again without a cursor"}}});
    }
    range.after = std::move(*after);
  }
  struct Read {
    std::shared_ptr<CachedAnswer> answer;
    bool cached = false;  // the cache holds `answer`: copy its body, don't move it
  };
  const EventReader& reader = context.reader;
  const PageCursors& cursors = context.cursors;
  const PrivacyRegistry* privacy = context.privacy;
  const std::string user_id = route.user_id;  // in the frame, alive across the co_await
  auto read = [&reader, &cache, &cursors, &list, &range, &binding, cacheable, privacy,
               &user_id](bool memory_only) -> Result<Read> {
    const UserEventsCache::Token token = cacheable ? cache.BeginRead(user_id) : 0;
    const ReadVisibility visibility =
        privacy == nullptr ? ReadVisibility{} : privacy->VisibilityFor(user_id, SystemClock::Instance().NowUnixMillis());
    UserRangeQuery query;
    if (memory_only) {
      query = range;  // kept for the read that may follow
      query.memory_only = true;
    } else {
      query = std::move(range);
    }
    Result<EventPage> page = reader.UserEventsPage(user_id, std::move(query), list.limit, visibility);
    if (!page.ok()) return page.status();
    Read out;
    out.answer = std::make_shared<CachedAnswer>();
    CachedAnswer& answer = *out.answer;
    answer.etag = StrongEntityTag(page->json);
    if (page->more) {
      const std::string cursor = cursors.Seal(page->last, binding);
      if (cursor.empty()) return Status::Internal("a stored event has a key no cursor can hold");
      answer.next_link = "<" + list.NextPageTarget(user_id, cursor) + ">; rel=\"next\"";
    }
    answer.body = std::move(page->json);
    answer.visible_until_ms = page->visible_until_ms;
    if (cacheable && cache.enabled()) {
      // The answer grew by appending, so up to half its allocation can be
      // slack; the cache charges the allocation, and a copy of the exact
      // size fits twice as many answers in the same budget. Without a cache
      // (the DynamoDB default) the answer is sent once and freed: no copy.
      answer.body.shrink_to_fit();
      out.cached = cache.Insert(user_id, token, out.answer);
    }
    return out;
  };
  // A page whose documents are all in memory (the memtables and the block
  // cache: the hot users' pages) is read right here on the io thread; one
  // that needs a file read goes to the blocking pool, so an io thread never
  // waits on the disk. The hop there and back cost more than the read.
  Result<Read> done = Status::WouldBlock("not read yet");
  if (reader.ReadsFromMemory()) done = read(/*memory_only=*/true);
  if (!done.ok() && done.status().code() == StatusCode::kWouldBlock) {
    done = co_await RunBlocking(context.blocking_pool, [&read] { return read(/*memory_only=*/false); });
  }
  if (!done.ok()) {
    log::Error("reading events failed", {{"error", done.status().ToString()}});
    co_return MakeStatusProblem(done.status());
  }
  if (done->cached) co_return SharedRepresentationResponse(request, done->answer, info);
  CachedAnswer& answer = *done->answer;
  co_return RepresentationResponse(request, answer, std::move(answer.body));
}

asio::awaitable<Response> GetUserEvent(const Request& request, const Route& route,
                                       const HandlerContext& context) {
  if (std::string problem = CheckUserId(route.user_id); !problem.empty()) co_return InvalidUserId(problem);
  // The one event takes no parameters; one sent anyway is a mistake worth
  // naming (a filter meant for the list), not something to ignore.
  const std::string_view query = QueryOf(std::string_view(request.target().data(), request.target().size()));
  if (!query.empty()) {
    ValidationError error{"This resource takes no query parameters.", {}};
    const std::optional<std::vector<QueryParameter>> parameters = ParseQueryString(query);
    if (!parameters) error.errors.push_back({"query", "has a malformed %-escape"});
    for (const QueryParameter& p : parameters.value_or(std::vector<QueryParameter>{})) {
      error.errors.push_back({p.name.substr(0, 64), "is not a parameter of this resource (it takes none)"});
    }
    if (!error.errors.empty()) co_return MakeValidationProblem(error);
  }
  if (!ParseUuid(route.event_id)) {
    co_return MakeValidationProblem(
        {"The eventId in the path is not valid.",
         {{"eventId", "must be a UUID such as 0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b"}}});
  }
  const EventReader& reader = context.reader;
  const PrivacyRegistry* privacy = context.privacy;
  auto read = [&reader, privacy, user_id = route.user_id, event_id = route.event_id] {
    const ReadVisibility visibility =
        privacy == nullptr ? ReadVisibility{} : privacy->VisibilityFor(user_id, SystemClock::Instance().NowUnixMillis());
    return reader.EventJson(user_id, event_id, visibility);
  };
  Result<std::string> body = co_await RunBlocking(context.blocking_pool, std::move(read));
  if (!body.ok()) {
    if (body.status().code() == StatusCode::kNotFound) {
      co_return MakeProblem(HttpStatus::not_found, "This user has no event with that eventId.");
    }
    log::Error("reading an event failed", {{"error", body.status().ToString()}});
    co_return MakeStatusProblem(body.status());
  }
  CachedAnswer answer;
  answer.etag = StrongEntityTag(*body);
  co_return RepresentationResponse(request, answer, std::move(*body));
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

namespace {

void SetRateLimitFields(Response& response, const RateDecision& decision) {
  response.set("RateLimit-Limit", std::to_string(decision.limit));
  response.set("RateLimit-Remaining", std::to_string(decision.remaining));
  response.set("RateLimit-Reset", std::to_string(decision.reset_seconds));
}

asio::awaitable<Response> Dispatch(const Request& request, Route route, const HandlerContext& context,
                                   RequestInfo& info, auth::Principal principal);

// Answers no credential, or a bad one: 401 with the Bearer challenge
// (RFC 6750 §3; error="invalid_token" only when a token was sent).
Response Unauthenticated(const auth::AuthFailure& failure) {
  Response response = MakeProblem(HttpStatus::unauthorized, failure.description, kProblemUnauthenticated,
                                  "Unauthenticated");
  std::string challenge = "Bearer realm=\"eventlogger\"";
  if (failure.reason != "missing") challenge += ", error=\"invalid_token\"";
  response.set(beast_http::field::www_authenticate, challenge);
  return response;
}

// Dispatch behind authentication and/or the rate limit: refused, or
// answered with the limit's fields.
asio::awaitable<Response> GuardedDispatch(const Request& request, Route route, const HandlerContext& context,
                                          RequestInfo& info, bool authenticate, bool limited) {
  auth::Principal principal = auth::Principal::Anonymous();
  if (authenticate) {
    const auto field = request.find(beast_http::field::authorization);
    const std::string_view authorization =
        field == request.end() ? std::string_view() : std::string_view(field->value().data(), field->value().size());
    const auto now = std::chrono::duration_cast<std::chrono::seconds>(
        std::chrono::system_clock::now().time_since_epoch());
    auth::AuthOutcome outcome = context.authenticator.Authenticate(authorization, now.count());
    if (!outcome.ok) {
      co_return Unauthenticated(outcome.failure);
    }
    principal = std::move(outcome.principal);
  }
  std::optional<RateDecision> decision;
  if (limited) {
    // One bucket per key or end user; an anonymous client's is its address.
    std::string bucket;
    switch (principal.kind) {
      case auth::Principal::Kind::kApiKey:
        bucket = "key:" + principal.id;
        break;
      case auth::Principal::Kind::kEndUser:
        bucket = "user:" + principal.id;
        break;
      case auth::Principal::Kind::kAnonymous:
        bucket = info.client_address;
        break;
    }
    decision = context.rate_limiter.Take(bucket, RateLimiter::Clock::now());
    if (!decision->allowed) {
      Response response = MakeProblem(HttpStatus::too_many_requests,
                                      "Too many requests from this client; retry after Retry-After seconds.",
                                      kProblemRateLimited, "Rate limited");
      response.set(beast_http::field::retry_after, std::to_string(decision->retry_after_seconds));
      SetRateLimitFields(response, *decision);
      co_return response;
    }
  }
  Response response = co_await Dispatch(request, std::move(route), context, info, std::move(principal));
  if (decision) SetRateLimitFields(response, *decision);
  // Answers to authenticated requests are the caller's alone; one without a
  // validator must not sit in any cache (RFC 9111 §5.2.2.5).
  if (authenticate && response.find(beast_http::field::etag) == response.end()) {
    response.set(beast_http::field::cache_control, "no-store");
  }
  co_return response;
}

bool IsPublic(RouteKind kind) {
  return kind == RouteKind::kHealth || kind == RouteKind::kReady || kind == RouteKind::kMetrics ||
         kind == RouteKind::kOpenApi;
}

}  // namespace

// Not a coroutine itself: with nothing to check, the request goes straight
// to Dispatch's coroutine, with no coroutine frame of its own in between.
asio::awaitable<Response> HandleRequest(const Request& request, const HandlerContext& context,
                                        RequestInfo& info) {
  Route route = MatchRoute(std::string_view(request.target().data(), request.target().size()));
  info.route = route.name;
  // Probes and scrapes need no credentials and are never limited: a limit
  // must not make a healthy instance look down.
  const bool open = IsPublic(route.kind);
  const bool authenticate = !open && context.authenticator.enforced();
  const bool limited = !open && context.rate_limiter.enabled();
  if (!authenticate && !limited) {
    return Dispatch(request, std::move(route), context, info, auth::Principal::Anonymous());
  }
  return GuardedDispatch(request, std::move(route), context, info, authenticate, limited);
}

namespace {

asio::awaitable<Response> Dispatch(const Request& request, Route route, const HandlerContext& context,
                                   RequestInfo& info, auth::Principal principal) {
  if (route.bad_encoding) {
    co_return MakeProblem(HttpStatus::bad_request, "The request path has a malformed %-escape.");
  }
  const Verb method = request.method();
  switch (route.kind) {
    case RouteKind::kEvents:
      if (method != Verb::post) co_return MethodNotAllowed("POST");
      if (auto refused = RequireScope(principal, auth::Scope::kEventsWrite)) co_return std::move(*refused);
      co_return co_await PostEvent(request, context, principal, info);
    case RouteKind::kUserEvents:
      if (route.user_id == "batch") {
        // POST /events/batch; GET still lists the events of a user named "batch".
        if (method == Verb::post) {
          info.route = "/events/batch";
          if (auto refused = RequireScope(principal, auth::Scope::kEventsWrite)) co_return std::move(*refused);
          co_return co_await PostEventBatch(request, context, principal, info);
        }
        if (method != Verb::get) co_return MethodNotAllowed("GET, POST");
      }
      if (method != Verb::get) co_return MethodNotAllowed("GET");
      if (auto refused = RequireScope(principal, auth::Scope::kEventsRead)) co_return std::move(*refused);
      if (!principal.MayActFor(route.user_id)) co_return NotYourUser();
      co_return co_await GetUserEvents(request, route, context, info);
    case RouteKind::kUserEvent:
      if (method != Verb::get) co_return MethodNotAllowed("GET");
      if (auto refused = RequireScope(principal, auth::Scope::kEventsRead)) co_return std::move(*refused);
      if (!principal.MayActFor(route.user_id)) co_return NotYourUser();
      co_return co_await GetUserEvent(request, route, context);
    case RouteKind::kHealth:
      if (method != Verb::get) co_return MethodNotAllowed("GET");
      co_return JsonResponse(HttpStatus::ok, "{\"status\":\"ok\"}");
    case RouteKind::kReady: {
      if (method != Verb::get) co_return MethodNotAllowed("GET");
      auto check = context.check_readiness;
      const std::vector<FieldError> failing = co_await RunBlocking(context.blocking_pool, std::move(check));
      if (failing.empty()) co_return JsonResponse(HttpStatus::ok, "{\"status\":\"ready\"}");
      std::string detail = "Not ready:";
      for (const FieldError& part : failing) detail += " " + part.field + ";";
      detail.back() = '.';
      Response response = MakeProblem(HttpStatus::service_unavailable, detail, kProblemNotReady, "Not ready", failing);
      response.set(beast_http::field::retry_after, "1");
      co_return response;
    }
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
    case RouteKind::kOpenApi:
      if (method != Verb::get) co_return MethodNotAllowed("GET");
      co_return JsonResponse(HttpStatus::ok, std::string(OpenApiDocument()));
    case RouteKind::kUserEventsErasure:
    case RouteKind::kUserHold:
    case RouteKind::kErasure:
      if (auto refused = RequireScope(principal, auth::Scope::kAdmin)) co_return std::move(*refused);
      co_return co_await HandlePrivacyRoute(request, route, context);
    case RouteKind::kNotFound:
      break;
  }
  co_return MakeProblem(HttpStatus::not_found, "No resource lives at this path.");
}

}  // namespace

}  // namespace eventlogger::http
