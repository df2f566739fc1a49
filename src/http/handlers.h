// The service's request handlers: plain functions from a parsed request to a
// response, kept apart from socket code so any transport can call them.
//
// They are coroutines because writes wait for both stores and reads run on
// a blocking pool; neither ever blocks the calling io thread.
#pragma once

#include <utility>  // Boost 1.74 asio/awaitable.hpp uses std::exchange without it
#include <boost/asio/awaitable.hpp>
#include <boost/asio/thread_pool.hpp>
#include <chrono>
#include <functional>
#include <vector>

#include "auth/authenticator.h"
#include "cache/user_events_cache.h"
#include "core/event_request.h"  // FieldError
#include "core/uuid.h"
#include "durability/idempotency.h"
#include "durability/retry_queue.h"
#include "http/http_types.h"
#include "http/page_cursor.h"
#include "http/rate_limiter.h"
#include "pipeline/event_reader.h"
#include "core/event_time.h"
#include "pipeline/event_writer.h"
#include "privacy/erasure_service.h"
#include "privacy/legal_holds.h"
#include "privacy/privacy_registry.h"

namespace eventlogger::http {

struct HandlerOptions {
  // How long a write waits for the stores before answering 202 (the outbox
  // holds the event and the retry worker finishes it).
  std::chrono::milliseconds store_timeout{5000};
  // With a retry queue: time kept back from a transport deadline (a Lambda
  // invocation's) for queueing a failed write before answering.
  std::chrono::milliseconds retry_queue_reserve{1500};
  // POST /events/batch: most events, and most body bytes, in one batch.
  size_t max_batch_events = 1000;
  size_t max_batch_bytes = size_t{1} << 20;
  // Bounds on a client's occurredAt / sentAt.
  ClientTimeOptions client_time;
};

// Everything handlers need, owned elsewhere (by the Service).
struct HandlerContext {
  EventWriter& writer;
  EventReader& reader;
  UserEventsCache& read_cache;  // GET /events/{userId} first pages; may be disabled
  const PageCursors& cursors;   // seals and opens the pages' cursors
  RateLimiter& rate_limiter;    // per API key, token subject or client address; may be disabled
  const auth::Authenticator& authenticator;  // may enforce nothing (the loopback default)
  Uuid7Generator& ids;
  IdempotencyIndex& idempotency;
  boost::asio::thread_pool& blocking_pool;  // where store reads run
  // Largest userId + eventType + jsonDetails the document store accepts.
  size_t max_document_bytes;
  // Renders GET /metrics; may block (runs on the blocking pool).
  std::function<Result<std::string>()> render_metrics;
  // What keeps the service from being ready (GET /readyz): one entry per
  // failing part, e.g. {"documentStore", "Unavailable: …"}; empty when
  // ready. May block (runs on the blocking pool).
  std::function<std::vector<FieldError>()> check_readiness;
  HandlerOptions options;
  // Where a write that failed in a store must also go before it is answered
  // 202, when the local outbox does not outlive the process; null otherwise.
  RetryQueue* retry_queue = nullptr;
  // The privacy lifecycle: what reads must hide (erased, expired), and the
  // admin routes' services. Null where not run (a Lambda): reads hide
  // nothing extra and the routes answer 501.
  const PrivacyRegistry* privacy = nullptr;
  ErasureService* erasures = nullptr;
  LegalHolds* holds = nullptr;
};

// Routes and handles one request. Never throws; failures become problem
// responses. Sets info.route.
boost::asio::awaitable<Response> HandleRequest(const Request& request, const HandlerContext& context,
                                               RequestInfo& info);

// The exact POST /events response body.
std::string WriteResultJson(std::string_view event_id, bool sql_success, bool document_success,
                            bool retry_queued);

}  // namespace eventlogger::http
