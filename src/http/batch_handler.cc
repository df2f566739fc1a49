#include "http/batch_handler.h"

#include <boost/asio/post.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/beast/http/field.hpp>

#include <atomic>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "core/batch_request.h"
#include "core/json_output.h"
#include "core/log.h"
#include "core/timestamp.h"
#include "durability/retry_message.h"
#include "http/problem.h"
#include "http/write_support.h"

namespace eventlogger::http {
namespace {

// What one item of the batch comes to.
struct ItemResult {
  int status = 0;  // 0 while the item is still on its way
  std::string event_id;
  bool sql_success = false;
  bool document_success = false;
  bool retry_queued = false;
  bool replayed = false;
  // For an item that failed: a problem object's members.
  std::string_view type = "about:blank";
  std::string title;
  ValidationError error;
};

struct Item {
  std::optional<EventRequest> request;
  std::string idempotency_key;  // empty: none
  std::string request_hash;     // with a key
  bool claimed = false;         // this request holds the key's claim
  int duplicate_of = -1;        // an earlier item of this batch with the same key and body
  std::shared_ptr<WriteTicket> ticket;
  // A replay of an event pending in the local outbox, to send to the retry
  // queue before it is answered.
  std::optional<RetryMessage> requeue;
  ItemResult result;
};

void Fail(Item& item, int status, std::string_view type, std::string title, std::string detail,
          std::vector<FieldError> errors = {}) {
  item.result.status = status;
  item.result.type = type;
  item.result.title = std::move(title);
  item.result.error = {std::move(detail), std::move(errors)};
}

void Replay(Item& item, const IdempotentRecord& record) {
  const bool queued = record.queued && !(record.metadata_done && record.document_done);
  item.result.status = queued ? 202 : 201;
  item.result.event_id = record.event_id;
  item.result.sql_success = record.metadata_done;
  item.result.document_success = record.document_done;
  item.result.retry_queued = queued;
  item.result.replayed = true;
}

void FailMismatch(Item& item) {
  Fail(item, 422, kProblemIdempotencyMismatch, "Idempotency-Key reused",
       "This idempotencyKey was used with a different event.");
}

// Releases every claim still held when the handler returns; a claim handed
// to the pipeline (ticket's on-settled) is no longer the handler's.
struct Claims {
  IdempotencyIndex& index;
  std::vector<Item>& items;
  ~Claims() {
    for (Item& item : items) {
      if (item.claimed) index.End(item.request->user_id, item.idempotency_key);
    }
  }
};

bool Stored(const ItemResult& result) { return result.status == 201 || result.status == 202; }

void AppendResult(std::string& out, size_t index, const ItemResult& result) {
  const auto flag = [](bool value) { return value ? "true" : "false"; };
  out += "{\"index\": ";
  out += std::to_string(index);
  out += ", \"status\": ";
  out += std::to_string(result.status);
  if (Stored(result)) {
    out += ", \"eventId\": \"";
    out += result.event_id;  // a UUID: nothing to escape
    out += "\", \"sqlSuccess\": ";
    out += flag(result.sql_success);
    out += ", \"dynamoSuccess\": ";
    out += flag(result.document_success);
    out += ", \"retryQueued\": ";
    out += flag(result.retry_queued);
    if (result.replayed) out += ", \"idempotentReplayed\": true";
    out += '}';
    return;
  }
  out += ", \"error\": {\"type\": ";
  AppendJsonString(out, result.type);
  out += ", \"title\": ";
  AppendJsonString(out, result.title);
  out += ", \"detail\": ";
  AppendJsonString(out, result.error.detail);
  if (!result.error.errors.empty()) {
    out += ", \"errors\": [";
    for (size_t i = 0; i < result.error.errors.size(); ++i) {
      if (i > 0) out += ", ";
      out += "{\"field\": ";
      AppendJsonString(out, result.error.errors[i].field);
      out += ", \"message\": ";
      AppendJsonString(out, result.error.errors[i].message);
      out += '}';
    }
    out += ']';
  }
  out += "}}";
}

std::string ResultsJson(const std::vector<Item>& items) {
  std::string out;
  out.reserve(items.size() * 140 + 16);
  out += "\"results\": [";
  for (size_t i = 0; i < items.size(); ++i) {
    if (i > 0) out += ", ";
    AppendResult(out, i, items[i].result);
  }
  out += ']';
  return out;
}

// Validation, authorisation and limits of one parsed item; what passes
// stays with status 0.
void CheckItem(Item& item, EventRequestParse& parse, const HandlerContext& context,
               const auth::Principal& principal) {
  if (!parse.request) {
    Fail(item, 400, kProblemValidation, "Your request is not valid.", std::move(parse.error.detail),
         std::move(parse.error.errors));
    return;
  }
  item.request = std::move(parse.request);
  EventRequest& request = *item.request;
  if (request.idempotency_key) {
    item.idempotency_key = std::move(*request.idempotency_key);
    if (!IsValidIdempotencyKey(item.idempotency_key)) {
      Fail(item, 400, kProblemValidation, "Your request is not valid.", "The event failed validation.",
           {{"idempotencyKey", "must be 1-255 printable ASCII characters"}});
      return;
    }
  }
  if (!principal.MayActFor(request.user_id)) {
    Fail(item, 403, kProblemForbidden, "Forbidden",
         "This token may reach only the events of the user it names (its sub).");
    return;
  }
  const size_t document_bytes = request.user_id.size() + request.event_type.size() + request.details_json.size();
  if (document_bytes > context.max_document_bytes) {
    Fail(item, 413, "about:blank", "Content Too Large",
         "The event is " + std::to_string(document_bytes) + " bytes; the document store accepts at most " +
             std::to_string(context.max_document_bytes) + ".");
    return;
  }
  if (!item.idempotency_key.empty()) {
    item.request_hash = RequestHashOf(request);
  }
}

// Waits for every ticket as AwaitTicket waits for one: until all are
// complete, or the store timeout has passed and each one left has at least
// its intent recorded (then it is answered as queued).
asio::awaitable<void> AwaitTickets(const std::vector<std::shared_ptr<WriteTicket>>& tickets,
                                   const std::shared_ptr<WriteWaiter>& waiter,
                                   std::chrono::milliseconds store_timeout) {
  std::vector<bool> done(tickets.size(), false);
  for (;;) {
    bool all_done = true;
    for (size_t i = 0; i < tickets.size(); ++i) {
      if (!done[i] && tickets[i]->complete()) done[i] = true;
      all_done = all_done && done[i];
    }
    if (all_done) co_return;
    waiter->timer.expires_after(store_timeout);
    boost::system::error_code timed_out;
    co_await waiter->timer.async_wait(asio::redirect_error(asio::use_awaitable, timed_out));
    if (timed_out == asio::error::operation_aborted) continue;  // woken: every ticket completed
    bool waiting_for_intents = false;
    for (size_t i = 0; i < tickets.size(); ++i) {
      if (done[i] || tickets[i]->complete()) continue;
      if (tickets[i]->reported(StoreSlot::kOutbox)) {
        tickets[i]->Expire();
        done[i] = true;
      } else {
        waiting_for_intents = true;
      }
    }
    if (!waiting_for_intents) co_return;
  }
}

}  // namespace

asio::awaitable<Response> PostEventBatch(const Request& request, const HandlerContext& context,
                                         const auth::Principal& principal, const RequestInfo& info) {
  const auto content_type = request[beast_http::field::content_type];
  if (!IsJsonContentType(std::string_view(content_type.data(), content_type.size()))) {
    co_return MakeProblem(HttpStatus::unsupported_media_type, "Send the batch as Content-Type: application/json.");
  }
  if (request.body().size() > context.options.max_batch_bytes) {
    co_return MakeProblem(HttpStatus::payload_too_large,
                          "The batch is " + std::to_string(request.body().size()) + " bytes; at most " +
                              std::to_string(context.options.max_batch_bytes) + " are accepted.");
  }
  BatchRequestParse parse = ParseBatchRequest(request.body(), context.options.max_batch_events);
  if (parse.envelope_error) {
    if (parse.too_many_events) {
      co_return MakeProblem(HttpStatus::payload_too_large, parse.envelope_error->detail, "about:blank", {},
                            parse.envelope_error->errors);
    }
    co_return MakeValidationProblem(*parse.envelope_error);
  }

  std::vector<Item> items(parse.items.size());
  Claims claims{context.idempotency, items};
  // Keys are claimed per user, as the Idempotency-Key header is; a key
  // repeated within the batch names the earlier item's event.
  std::map<std::pair<std::string_view, std::string_view>, size_t> keys_in_batch;
  for (size_t i = 0; i < items.size(); ++i) {
    Item& item = items[i];
    CheckItem(item, parse.items[i], context, principal);
    if (item.result.status != 0 || item.idempotency_key.empty()) continue;
    const auto [first, inserted] =
        keys_in_batch.try_emplace({item.request->user_id, item.idempotency_key}, i);
    if (!inserted) {
      if (items[first->second].request_hash == item.request_hash) {
        item.duplicate_of = static_cast<int>(first->second);
      } else {
        FailMismatch(item);
      }
      continue;
    }
    IdempotencyIndex& index = context.idempotency;
    if (!index.TryBegin(item.request->user_id, item.idempotency_key)) {
      if (std::optional<IdempotentRecord> answered = index.Answered(item.request->user_id, item.idempotency_key)) {
        if (answered->request_hash != item.request_hash) {
          FailMismatch(item);
        } else {
          Replay(item, *answered);
        }
      } else {
        Fail(item, 409, kProblemIdempotencyInFlight, "Request in progress",
             "A request with this idempotencyKey is still being processed.");
      }
      continue;
    }
    item.claimed = true;
  }

  // The keys' earlier events, looked up in one trip to the blocking pool.
  bool any_claimed = false;
  for (const Item& item : items) any_claimed = any_claimed || item.claimed;
  if (any_claimed) {
    IdempotencyIndex& index = context.idempotency;
    auto lookup = [&index, &items] {
      std::vector<Result<std::optional<IdempotentRecord>>> found;
      for (const Item& item : items) {
        if (item.claimed) found.push_back(index.Find(item.request->user_id, item.idempotency_key));
      }
      return found;
    };
    std::vector<Result<std::optional<IdempotentRecord>>> found =
        co_await RunBlocking(context.blocking_pool, std::move(lookup));
    size_t next = 0;
    for (Item& item : items) {
      if (!item.claimed) continue;
      Result<std::optional<IdempotentRecord>>& existing = found[next++];
      if (!existing.ok()) {
        log::Error("idempotency lookup failed", {{"error", existing.status().ToString()}});
        Fail(item, 503, kProblemStoreUnavailable, "Store unavailable",
             "A storage backend is unavailable; retry shortly.");
      } else if (existing->has_value()) {
        if ((*existing)->request_hash != item.request_hash) {
          FailMismatch(item);
        } else {
          Replay(item, **existing);
          // Pending in the local outbox only: queued remotely below, before
          // the answer says "queued" (the first try may have been refused
          // because the retry queue failed).
          if (context.retry_queue != nullptr && (*existing)->pending_event) {
            item.requeue.emplace(RetryMessage{*std::move((*existing)->pending_event), (*existing)->metadata_done,
                                              (*existing)->document_done,
                                              "a retry of a request whose first answer may not have queued it"});
          }
        }
      }
    }
  }

  // The items to write, each with a server-assigned id in request order
  // (UUIDv7s from one generator ascend, so the batch keeps its order).
  std::vector<std::shared_ptr<WriteTicket>> tickets;
  std::vector<size_t> written;  // the item behind each ticket
  const asio::any_io_executor executor = co_await asio::this_coro::executor;
  auto waiter = std::make_shared<WriteWaiter>(executor);
  for (size_t i = 0; i < items.size(); ++i) {
    Item& item = items[i];
    if (item.result.status != 0 || item.duplicate_of >= 0) continue;
    auto event = std::make_shared<Event>();
    event->user_id = item.request->user_id;  // the claim and keys_in_batch still name it
    event->event_type = std::move(item.request->event_type);
    event->details_json = std::move(item.request->details_json);
    if (std::string error;
        !AssignIdAndTime(*event, item.request->times, context.ids, context.options.client_time, &error)) {
      Fail(item, 400, kProblemValidation, "Your request is not valid.", "The event's time is out of bounds.",
           {{"occurredAt", std::move(error)}});
      continue;
    }
    if (!item.idempotency_key.empty()) {
      event->idempotency_key = item.idempotency_key;
      event->request_hash = item.request_hash;
    }
    if (context.retry_queue != nullptr) {
      const size_t document_bytes = event->user_id.size() + event->event_type.size() + event->details_json.size();
      if (MaxRetryMessageBytes(document_bytes) > context.retry_queue->max_message_bytes()) {
        const size_t message_bytes = EncodeRetryMessage(RetryMessage{*event, false, false, {}}).size();
        if (message_bytes > context.retry_queue->max_message_bytes()) {
          Fail(item, 413, "about:blank", "Content Too Large",
               "The event would take " + std::to_string(message_bytes) +
                   " bytes as a retry message; the retry queue takes at most " +
                   std::to_string(context.retry_queue->max_message_bytes()) + ".");
          continue;
        }
      }
    }
    item.ticket = std::make_shared<WriteTicket>(std::move(event));
    tickets.push_back(item.ticket);
    written.push_back(i);
  }
  // One wake-up for the whole batch: the last ticket to complete cancels
  // the waiter's timer.
  auto remaining = std::make_shared<std::atomic<size_t>>(tickets.size());
  for (size_t t = 0; t < tickets.size(); ++t) {
    tickets[t]->SetOnComplete([executor, remaining, weak = std::weak_ptr<WriteWaiter>(waiter)] {
      if (remaining->fetch_sub(1) != 1) return;
      asio::post(executor, [weak] {
        if (auto alive = weak.lock()) alive->timer.cancel();
      });
    });
    Item& item = items[written[t]];
    if (item.claimed) {
      tickets[t]->SetOnSettled([index = &context.idempotency, user = item.ticket->event().user_id,
                                key = item.idempotency_key] { index->End(user, key); });
    }
  }

  if (!tickets.empty()) {
    if (Status admitted = context.writer.SubmitAll(tickets); !admitted.ok()) {
      for (size_t i : written) {
        Fail(items[i], 503, kProblemOverloaded, "Overloaded", "The service is at capacity; retry shortly.");
      }
      tickets.clear();
    } else {
      for (size_t i : written) items[i].claimed = false;  // the pipeline ends these claims now
    }
  }
  if (!tickets.empty()) {
    std::chrono::steady_clock::time_point store_deadline = info.deadline;
    if (context.retry_queue != nullptr && info.deadline != std::chrono::steady_clock::time_point::max()) {
      store_deadline -= context.options.retry_queue_reserve;
    }
    co_await AwaitTickets(tickets, waiter, StoreWait(context.options.store_timeout, store_deadline));
  }

  std::vector<RetryMessage> to_queue;
  std::vector<size_t> queued_items;
  for (size_t i : written) {
    Item& item = items[i];
    if (item.result.status != 0) continue;
    const WriteOutcome outcome = item.ticket->Outcome();
    const Event& event = item.ticket->event();
    if (!outcome.outbox.ok()) {
      log::Error("write intent not recorded; event refused",
                 {{"eventId", event.event_id}, {"error", outcome.outbox.ToString()}});
      Fail(item, 503, kProblemNotStored, "Not stored",
           "The event could not be recorded; nothing was stored. Retry shortly.");
      continue;
    }
    item.result.event_id = event.event_id;
    item.result.sql_success = outcome.metadata.ok();
    item.result.document_success = outcome.document.ok();
    item.result.retry_queued = !outcome.all_ok();
    item.result.status = item.result.retry_queued ? 202 : 201;
    if (item.result.retry_queued && context.retry_queue != nullptr) {
      to_queue.push_back(RetryMessage{event, outcome.metadata.ok(), outcome.document.ok(),
                                      !outcome.metadata.ok() ? outcome.metadata.ToString() : outcome.document.ToString()});
      queued_items.push_back(i);
    }
  }
  for (size_t i = 0; i < items.size(); ++i) {
    if (!items[i].requeue) continue;
    to_queue.push_back(std::move(*items[i].requeue));
    queued_items.push_back(i);
  }
  if (!to_queue.empty()) {
    // The local outbox does not outlive this process: "queued" only once
    // the remote queue has the event.
    RetryQueue& queue = *context.retry_queue;
    const auto deadline = info.deadline;
    auto enqueue = [&queue, &to_queue, deadline] {
      std::vector<Status> sent;
      sent.reserve(to_queue.size());
      for (const RetryMessage& message : to_queue) sent.push_back(queue.Enqueue(message, deadline));
      return sent;
    };
    const std::vector<Status> sent = co_await RunBlocking(context.blocking_pool, std::move(enqueue));
    for (size_t q = 0; q < queued_items.size(); ++q) {
      Item& item = items[queued_items[q]];
      if (sent[q].ok()) continue;
      log::Error("a store write failed and the event could not be queued for retry; refused",
                 {{"eventId", item.result.event_id}, {"retryQueue", queue.Kind()}, {"error", sent[q].ToString()}});
      Fail(item, 503, kProblemNotStored, "Not stored",
           "A store failed and the event could not be queued for retry, so it is not acknowledged (it may be "
           "stored in part). Retry with the same idempotencyKey.");
    }
  }
  for (size_t i : written) {
    Item& item = items[i];
    if (item.idempotency_key.empty() || !Stored(item.result)) continue;
    context.idempotency.RecordAnswer(item.ticket->event().user_id, item.idempotency_key,
                                     IdempotentRecord{item.result.event_id, item.request_hash, item.result.retry_queued,
                                                      item.result.sql_success, item.result.document_success});
  }
  for (Item& item : items) {
    if (item.duplicate_of < 0) continue;
    item.result = items[static_cast<size_t>(item.duplicate_of)].result;
    if (Stored(item.result)) item.result.replayed = true;
  }

  size_t stored = 0;
  bool unavailable = false;
  for (const Item& item : items) {
    if (Stored(item.result)) ++stored;
    unavailable = unavailable || item.result.status == 503;
  }
  if (stored == 0 && unavailable) {
    // Nothing was stored, and not because of the items: retry the batch.
    std::string body = "{\"type\": \"";
    body += kProblemNotStored;
    body += "\", \"title\": \"Not stored\", \"status\": 503, \"detail\": ";
    AppendJsonString(body, "No event of the batch was stored; retry the batch shortly.");
    body += ", " + ResultsJson(items) + "}";
    Response response(HttpStatus::service_unavailable, 11);
    response.set(beast_http::field::content_type, "application/problem+json");
    response.set(beast_http::field::retry_after, "1");
    response.body() = std::move(body);
    co_return response;
  }
  Response response(stored == items.size() ? HttpStatus::ok : HttpStatus::multi_status, 11);
  response.set(beast_http::field::content_type, "application/json");
  response.body() = "{" + ResultsJson(items) + "}";
  co_return response;
}

}  // namespace eventlogger::http
