// Routing: from a request target to a route and its decoded path parameters.
// Pure functions, no I/O.
#pragma once

#include <string>
#include <string_view>

namespace eventlogger::http {

enum class RouteKind {
  kNotFound,
  kEvents,       // /events
  kUserEvents,   // /events/{userId}
  kUserEvent,    // /events/{userId}/{eventId}
  kHealth,       // /healthz
  kReady,        // /readyz
  kMetrics,      // /metrics
  kOpenApi,      // /openapi.json
  kUserEventsErasure,  // /users/{userId}/events (DELETE: erase them)
  kUserHold,           // /users/{userId}/hold
  kErasure,            // /erasures/{erasureId}
};

struct Route {
  RouteKind kind = RouteKind::kNotFound;
  std::string_view name = "unmatched";  // template for logs, e.g. "/events/{userId}"
  std::string user_id;                  // percent-decoded
  std::string event_id;                 // percent-decoded
  std::string erasure_id;               // percent-decoded
  bool bad_encoding = false;            // a path segment had a malformed %-escape
};

Route MatchRoute(std::string_view target);

// Decodes %XX escapes ('+' stays '+': this is a path, not a form). False on a
// malformed escape.
bool PercentDecode(std::string_view in, std::string* out);

// Encodes everything but RFC 3986 unreserved characters, for building paths.
std::string PercentEncodePathSegment(std::string_view in);

}  // namespace eventlogger::http
