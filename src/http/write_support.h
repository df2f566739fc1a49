// What the write handlers (POST /events, POST /events/batch) share: the
// media type check, ids and times, request hashes, running blocking work off the io thread, and waiting
// for the write pipeline with the store timeout. Internal to src/http.
#pragma once

#include <utility>  // Boost 1.74 asio/awaitable.hpp uses std::exchange without it
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <algorithm>
#include <cctype>
#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>

#include "core/event.h"
#include "core/event_request.h"
#include "core/event_time.h"
#include "core/timestamp.h"
#include "core/uuid.h"
#include "durability/idempotency.h"
#include "pipeline/write_ticket.h"

namespace eventlogger::http {
namespace asio = boost::asio;

// "application/json", in any case, optionally with parameters such as charset.
inline bool IsJsonContentType(std::string_view value) {
  std::string_view media = value.substr(0, value.find(';'));
  while (!media.empty() && (media.back() == ' ' || media.back() == '\t')) media.remove_suffix(1);
  constexpr std::string_view kJson = "application/json";
  if (media.size() != kJson.size()) return false;
  for (size_t i = 0; i < kJson.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(media[i])) != kJson[i]) return false;
  }
  return true;
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

// Gives `event` its id (a UUIDv7: when the server received it) and its
// timestamp from the client's times; false, with *error saying why, when
// those fall outside the bounds (the event is then refused with 400).
inline bool AssignIdAndTime(Event& event, const ClientTimes& times, Uuid7Generator& ids,
                            const ClientTimeOptions& options, std::string* error) {
  const Uuid7 id = ids.Next();
  std::optional<ResolvedEventTime> time = ResolveEventTime(id.unix_millis, times, options, error);
  if (!time) return false;
  event.event_id = FormatUuid(id.bytes);
  event.unix_millis = time->unix_millis;
  event.timestamp = FormatTimestamp(time->unix_millis);
  event.occurred_at = std::move(time->occurred_at);
  return true;
}

// The idempotency hash of a parsed request (occurredAt included: it names
// when the event happened; sentAt is not: a retry resends it later).
inline std::string RequestHashOf(const EventRequest& request) {
  std::optional<int64_t> occurred;
  if (request.times.occurred_at) occurred = request.times.occurred_at->unix_millis;
  return RequestHash(request.user_id, request.event_type, request.details_json, occurred);
}

// How long a write waits for the stores: the store timeout, or less when
// the transport must answer by a deadline (a Lambda invocation's).
inline std::chrono::milliseconds StoreWait(std::chrono::milliseconds store_timeout,
                                    std::chrono::steady_clock::time_point deadline) {
  if (deadline == std::chrono::steady_clock::time_point::max()) return store_timeout;
  const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
  return std::clamp(left, std::chrono::milliseconds(0), store_timeout);
}

// Waits for the pipeline to finish with the ticket, or for the store timeout.
// The timeout never cuts the outbox short: whether the intent is durable
// decides between "queued" (202) and "stored nowhere" (503), so the answer
// must wait for it; it is a local disk write.
inline asio::awaitable<void> AwaitTicket(const std::shared_ptr<WriteTicket>& ticket,
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

}  // namespace eventlogger::http
