// The privacy routes (all need the admin scope, checked by the caller):
//   DELETE /users/{userId}/events   erase the user's events: 202 + a job
//   GET    /erasures/{erasureId}    the job: state, counts, signed receipt
//   PUT    /users/{userId}/hold     place a legal hold ({"reason": "…"})
//   GET    /users/{userId}/hold     the hold, or 404
//   DELETE /users/{userId}/hold     release it: 204, or 404
// Internal to src/http.
#pragma once

#include <utility>  // Boost 1.74 asio/awaitable.hpp uses std::exchange without it
#include <boost/asio/awaitable.hpp>

#include "http/handlers.h"
#include "http/router.h"

namespace eventlogger::http {

boost::asio::awaitable<Response> HandlePrivacyRoute(const Request& request, const Route& route,
                                                    const HandlerContext& context);

// The job as the API shows it (GET /erasures/{id}, the 202 of an erasure).
std::string ErasureJobJson(const ErasureJobRow& job);

}  // namespace eventlogger::http
