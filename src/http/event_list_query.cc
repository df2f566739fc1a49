#include "http/event_list_query.h"

#include <algorithm>
#include <charconv>

#include "core/timestamp.h"
#include "core/validation.h"
#include "http/query_string.h"
#include "http/router.h"

namespace eventlogger::http {
namespace {

constexpr std::string_view kKnown = "limit, cursor, eventType, from, to, order";
constexpr int64_t kMaxMillis = 253402300799999;  // 9999-12-31T23:59:59.999Z

// The millisecond bound for an instant: rounded up, and clamped to what
// stored timestamps can hold (none lies before the epoch).
int64_t BoundMillis(const Instant& instant) {
  int64_t millis = instant.unix_millis + (instant.sub_millisecond ? 1 : 0);
  return std::clamp<int64_t>(millis, 0, kMaxMillis);
}

}  // namespace

bool EventListQuery::IsDefault() const {
  return limit == kDefaultPageLimit && order == ReadOrder::kOldestFirst && event_types.empty() &&
         !from_millis && !to_millis && cursor.empty();
}

std::string EventListQuery::CursorBinding(std::string_view user_id) const {
  // '\0' never occurs in a valid userId or eventType, so the fields cannot
  // run into each other.
  std::string binding;
  binding.append(user_id).push_back('\0');
  binding.push_back(order == ReadOrder::kOldestFirst ? 'a' : 'd');
  binding.push_back('\0');
  if (from_millis) binding += FormatTimestamp(*from_millis);
  binding.push_back('\0');
  if (to_millis) binding += FormatTimestamp(*to_millis);
  binding.push_back('\0');
  for (const std::string& type : event_types) binding.append(type).push_back(',');
  return binding;
}

UserRangeQuery EventListQuery::Range() const {
  UserRangeQuery range;
  range.order = order;
  range.event_types = event_types;
  if (from_millis) range.from = FormatTimestamp(*from_millis);
  if (to_millis) range.to = FormatTimestamp(*to_millis);
  return range;
}

std::string EventListQuery::NextPageTarget(std::string_view user_id, std::string_view next_cursor) const {
  std::string target = "/events/";
  target += PercentEncodePathSegment(user_id);
  char separator = '?';
  const auto add = [&target, &separator](std::string_view name, std::string_view value) {
    target.push_back(separator);
    separator = '&';
    target.append(name).push_back('=');
    target += PercentEncodePathSegment(value);
  };
  if (limit != kDefaultPageLimit) add("limit", std::to_string(limit));
  if (order == ReadOrder::kNewestFirst) add("order", "desc");
  if (!event_types.empty()) {
    std::string joined;
    for (const std::string& type : event_types) {
      if (!joined.empty()) joined.push_back(',');
      joined += type;
    }
    add("eventType", joined);
  }
  if (from_millis) add("from", FormatTimestamp(*from_millis));
  if (to_millis) add("to", FormatTimestamp(*to_millis));
  add("cursor", next_cursor);
  return target;
}

std::optional<ValidationError> ParseEventListQuery(std::string_view query, EventListQuery* out) {
  *out = EventListQuery{};
  ValidationError error{"The query parameters are not valid.", {}};
  const auto fail = [&error](std::string field, std::string message) {
    error.errors.push_back({std::move(field), std::move(message)});
  };
  std::optional<std::vector<QueryParameter>> parameters = ParseQueryString(query);
  if (!parameters) {
    fail("query", "has a malformed %-escape");
    return error;
  }
  bool seen_limit = false, seen_cursor = false, seen_from = false, seen_to = false, seen_order = false;
  // A parameter that may appear once; false (and an error) on a repeat.
  const auto once = [&fail](bool& seen, const std::string& name) {
    if (seen) {
      fail(name, "must be given at most once");
      return false;
    }
    seen = true;
    return true;
  };
  const char* const kInstant =
      "must be an ISO 8601 instant with a zone, such as 2025-06-29T14:32:45Z or 2025-06-29T16:32:45.123+02:00";
  for (const QueryParameter& p : *parameters) {
    const std::string& name = p.name;
    const std::string& value = p.value;
    if (name == "limit") {
      if (!once(seen_limit, name)) continue;
      size_t limit = 0;
      const auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), limit);
      if (value.empty() || ec != std::errc() || end != value.data() + value.size() || limit < 1 ||
          limit > kMaxPageLimit) {
        fail(name, "must be a whole number from 1 to " + std::to_string(kMaxPageLimit));
        continue;
      }
      out->limit = limit;
    } else if (name == "cursor") {
      if (!once(seen_cursor, name)) continue;
      if (value.empty()) {
        fail(name, "must not be empty; leave it out for the first page");
        continue;
      }
      out->cursor = value;
    } else if (name == "order") {
      if (!once(seen_order, name)) continue;
      if (value == "asc") {
        out->order = ReadOrder::kOldestFirst;
      } else if (value == "desc") {
        out->order = ReadOrder::kNewestFirst;
      } else {
        fail(name, "must be asc (oldest first) or desc (newest first)");
      }
    } else if (name == "from" || name == "to") {
      if (!once(name == "from" ? seen_from : seen_to, name)) continue;
      const std::optional<Instant> instant = ParseInstant(value);
      if (!instant) {
        fail(name, kInstant);
        continue;
      }
      (name == "from" ? out->from_millis : out->to_millis) = BoundMillis(*instant);
    } else if (name == "eventType") {
      // Repeated, comma-separated, or both.
      std::string_view rest = value;
      for (;;) {
        const size_t comma = rest.find(',');
        const std::string_view type = rest.substr(0, comma);
        if (std::string problem = CheckEventType(type); !problem.empty()) {
          fail(name, "each type " + problem + " (got \"" + std::string(type.substr(0, 64)) + "\")");
          break;
        }
        out->event_types.emplace_back(type);
        if (comma == std::string_view::npos) break;
        rest.remove_prefix(comma + 1);
      }
    } else {
      fail(name.empty() ? std::string("query") : name.substr(0, 64),
           "is not a parameter of this resource (known: " + std::string(kKnown) + ")");
    }
  }
  std::sort(out->event_types.begin(), out->event_types.end());
  out->event_types.erase(std::unique(out->event_types.begin(), out->event_types.end()), out->event_types.end());
  if (out->event_types.size() > kMaxEventTypeFilters) {
    fail("eventType", "may name at most " + std::to_string(kMaxEventTypeFilters) + " types");
  }
  if (out->from_millis && out->to_millis && *out->to_millis < *out->from_millis) {
    fail("to", "must not be earlier than from");
  }
  if (!error.errors.empty()) return error;
  return std::nullopt;
}

}  // namespace eventlogger::http
