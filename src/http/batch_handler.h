// POST /events/batch: many events in one request, each validated, made
// idempotent and answered on its own, written through the pipeline together
// (one intent-log append and fdatasync for the batch).
//
// Answer: {"results": [{"index", "status", "eventId"?, "sqlSuccess"?,
// "dynamoSuccess"?, "retryQueued"?, "idempotentReplayed"?, "error"?}, …]}
// in request order, with per-item statuses as single POST gives them (201,
// 202, 400, 403, 409, 413, 422, 503). Overall 200 when every item is
// stored, 207 when some are not, 503 (problem+json, still with the results)
// when none is and store or capacity failures are why; the envelope itself
// wrong: 400; over the limits: 413.
#pragma once

#include <utility>  // Boost 1.74 asio/awaitable.hpp uses std::exchange without it
#include <boost/asio/awaitable.hpp>

#include "http/handlers.h"

namespace eventlogger::http {

// The route: POST to /events/batch. A user named "batch" keeps GET
// /events/batch for their list; only POST means a batch.
boost::asio::awaitable<Response> PostEventBatch(const Request& request, const HandlerContext& context,
                                                const auth::Principal& principal, const RequestInfo& info);

}  // namespace eventlogger::http
