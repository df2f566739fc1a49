#include "http/router.h"

namespace eventlogger::http {
namespace {

int HexDigit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

}  // namespace

bool PercentDecode(std::string_view in, std::string* out) {
  out->clear();
  out->reserve(in.size());
  for (size_t i = 0; i < in.size(); ++i) {
    if (in[i] != '%') {
      out->push_back(in[i]);
      continue;
    }
    if (i + 2 >= in.size()) return false;
    const int hi = HexDigit(in[i + 1]), lo = HexDigit(in[i + 2]);
    if (hi < 0 || lo < 0) return false;
    out->push_back(static_cast<char>(hi << 4 | lo));
    i += 2;
  }
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
