#include "http/router.h"

#include "core/percent_encoding.h"

namespace eventlogger::http {

bool PercentDecode(std::string_view in, std::string* out) {
  std::optional<std::string> decoded = eventlogger::PercentDecode(in);
  if (!decoded) return false;
  *out = std::move(*decoded);
  return true;
}

std::string PercentEncodePathSegment(std::string_view in) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(in.size());
  for (char c : in) {
    const auto byte = static_cast<unsigned char>(c);
    const bool unreserved = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                            (c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_' || c == '~';
    if (unreserved) {
      out.push_back(c);
    } else {
      out.push_back('%');
      out.push_back(kHex[byte >> 4]);
      out.push_back(kHex[byte & 0xF]);
    }
  }
  return out;
}

Route MatchRoute(std::string_view target) {
  Route route;
  const std::string_view path = target.substr(0, target.find_first_of("?#"));
  constexpr std::string_view kEventsPrefix = "/events";
  if (path == "/healthz") {
    route.kind = RouteKind::kHealth;
    route.name = "/healthz";
    return route;
  }
  if (path == "/readyz") {
    route.kind = RouteKind::kReady;
    route.name = "/readyz";
    return route;
  }
  if (path == "/openapi.json") {
    route.kind = RouteKind::kOpenApi;
    route.name = "/openapi.json";
    return route;
  }
  if (path == "/metrics") {
    route.kind = RouteKind::kMetrics;
    route.name = "/metrics";
    return route;
  }
  if (path == kEventsPrefix) {
    route.kind = RouteKind::kEvents;
    route.name = "/events";
    return route;
  }
  if (path.starts_with("/users/")) {
    // /users/{userId}/events and /users/{userId}/hold: the privacy routes.
    const std::string_view rest = path.substr(sizeof "/users/" - 1);
    const size_t slash = rest.rfind('/');
    if (slash == std::string_view::npos || slash == 0) return route;
    const std::string_view tail = rest.substr(slash + 1);
    if (tail == "events") {
      route.kind = RouteKind::kUserEventsErasure;
      route.name = "/users/{userId}/events";
    } else if (tail == "hold") {
      route.kind = RouteKind::kUserHold;
      route.name = "/users/{userId}/hold";
    } else {
      return route;
    }
    const std::string_view user_segment = rest.substr(0, slash);
    // A userId's own slashes arrive %-encoded; a raw one is another path.
    if (user_segment.find('/') != std::string_view::npos) {
      route = Route();
      return route;
    }
    if (!PercentDecode(user_segment, &route.user_id)) route.bad_encoding = true;
    return route;
  }
  if (path.starts_with("/erasures/")) {
    const std::string_view segment = path.substr(sizeof "/erasures/" - 1);
    if (segment.empty() || segment.find('/') != std::string_view::npos) return route;
    route.kind = RouteKind::kErasure;
    route.name = "/erasures/{erasureId}";
    if (!PercentDecode(segment, &route.erasure_id)) route.bad_encoding = true;
    return route;
  }
  if (!path.starts_with("/events/")) return route;
  std::string_view rest = path.substr(kEventsPrefix.size() + 1);
  const size_t slash = rest.find('/');
  std::string_view user_segment = rest.substr(0, slash);
  if (slash == std::string_view::npos) {
    route.kind = RouteKind::kUserEvents;
    route.name = "/events/{userId}";
  } else {
    const std::string_view event_segment = rest.substr(slash + 1);
    if (event_segment.empty() || event_segment.find('/') != std::string_view::npos) return route;
    route.kind = RouteKind::kUserEvent;
    route.name = "/events/{userId}/{eventId}";
    if (!PercentDecode(event_segment, &route.event_id)) route.bad_encoding = true;
  }
  if (!PercentDecode(user_segment, &route.user_id)) route.bad_encoding = true;
  return route;
}

}  // namespace eventlogger::http
