#include "pipeline/event_reader.h"

#include <algorithm>
#include <cstring>
#include <optional>
#include <string>

#include "core/json_output.h"
#include "core/event_time.h"

namespace eventlogger {

namespace {

// `{"userId":"…","eventId":` for one user: every event of a page starts
// with it, so the userId is escaped once per page, not once per event.
std::string EventPrefix(std::string_view user_id) {
  std::string prefix = "{\"userId\":";
  AppendJsonString(prefix, user_id);
  prefix += ",\"eventId\":";
  return prefix;
}

void AppendEventJsonAfterPrefix(std::string& out, std::string_view prefix, const DocumentView& document) {
  constexpr std::string_view kType = "\",\"eventType\":\"";
  constexpr std::string_view kTimestamp = "\",\"timestamp\":\"";
  constexpr std::string_view kReceivedAt = "\",\"receivedAt\":\"";
  constexpr std::string_view kOccurredAt = "\",\"occurredAt\":\"";
  constexpr std::string_view kPayload = "\",\"jsonPayload\":";
  // Without a client occurredAt the timestamp is the server's receipt; only
  // a client-timed event needs its eventId read for it.
  std::string received_storage;
  std::string_view received_at = document.timestamp;
  if (!document.occurred_at.empty()) {
    received_storage = ReceivedAtOf(document.event_id, document.timestamp);
    received_at = received_storage;
  }
  if (JsonStringNeedsEscape(document.event_id) || JsonStringNeedsEscape(document.event_type) ||
      JsonStringNeedsEscape(document.timestamp) || JsonStringNeedsEscape(document.occurred_at)) {
    out += prefix;
    AppendJsonString(out, document.event_id);
    out += ",\"eventType\":";
    AppendJsonString(out, document.event_type);
    out += ",\"timestamp\":";
    AppendJsonString(out, document.timestamp);
    out += ",\"receivedAt\":";
    AppendJsonString(out, received_at);
    if (!document.occurred_at.empty()) {
      out += ",\"occurredAt\":";
      AppendJsonString(out, document.occurred_at);
    }
    out += ",\"jsonPayload\":";
    out += document.details_json;
    out += '}';
    return;
  }
  // The usual case (ids, types and timestamps never need escaping): one
  // resize and straight copies, not a dozen appends that each check the
  // capacity (a third of rendering a page).
  const bool occurred = !document.occurred_at.empty();
  const std::string_view parts[] = {prefix, "\"", document.event_id, kType, document.event_type,
                                    kTimestamp, document.timestamp, kReceivedAt, received_at,
                                    occurred ? kOccurredAt : std::string_view(), document.occurred_at,
                                    kPayload, document.details_json, "}"};
  size_t size = 0;
  for (const std::string_view part : parts) size += part.size();
  const size_t at = out.size();
  out.resize(at + size);
  char* p = out.data() + at;
  for (const std::string_view part : parts) {
    // An absent occurredAt is an empty view whose data() may be null, which
    // memcpy must not be given even for zero bytes.
    if (part.empty()) continue;
    std::memcpy(p, part.data(), part.size());
    p += part.size();
  }
}

}  // namespace

void AppendEventJson(std::string& out, const DocumentView& document) {
  AppendEventJsonAfterPrefix(out, EventPrefix(document.user_id), document);
}

Result<EventPage> EventReader::UserEventsPage(std::string_view user_id, UserRangeQuery range, size_t limit,
                                              const ReadVisibility& visibility) const {
  EventPage page;
  page.json = "[";
  range.expected = limit + 1;
  const std::string prefix = EventPrefix(user_id);
  const bool filtered = !visibility.HidesNothing();
  const Status status = documents_.ReadUserRange(user_id, range, [&](const DocumentView& document) {
    if (filtered) {
      if (visibility.Hides(document)) return true;
      if (page.count < limit) {
        page.visible_until_ms = std::min(page.visible_until_ms, visibility.VisibleUntilMs(document));
      }
    }
    if (page.count == limit) {
      page.more = true;
      return false;
    }
    if (page.count > 0) page.json += ',';
    const size_t before = page.json.size();
    AppendEventJsonAfterPrefix(page.json, prefix, document);
    if (page.count == 0) {
      // Room for the whole page at once, sized by its first event: growing
      // by doubling copied the page over and over (a tenth of an uncached
      // page's instructions went to those copies).
      page.json.reserve(before + (page.json.size() - before + 1) * limit * 5 / 4 + 2);
    }
    ++page.count;
    if (page.count == limit) {
      // The views die with this call; keep the key while it is alive.
      page.last.timestamp.assign(document.timestamp);
      page.last.event_id.assign(document.event_id);
    }
    return true;
  });
  if (!status.ok()) return status;
  (range.memory_only ? pages_in_memory_ : pages_blocking_).fetch_add(1, std::memory_order_relaxed);
  page.json += ']';
  if (!page.more) page.last = {};
  return page;
}

Result<std::string> EventReader::EventJson(std::string_view user_id, std::string_view event_id,
                                           const ReadVisibility& visibility) const {
  std::string out;
  bool hidden = false;
  const auto render = [&out, &hidden, &visibility](const DocumentView& document) {
    if (!visibility.HidesNothing() && visibility.Hides(document)) {
      hidden = true;
      return;
    }
    AppendEventJson(out, document);
  };
  Status status = documents_.FindEvent(user_id, event_id, render);
  if (status.code() != StatusCode::kNotFound || metadata_ == nullptr) {
    if (!status.ok()) return status;
    if (hidden) return Status::NotFound("the event is erased or expired");
    return out;
  }
  // Not under its eventId's time: a client-timed event, or none at all.
  Result<EventMetadata> metadata = metadata_->FindEvent(user_id, event_id);
  if (!metadata.ok()) return metadata.status();
  status = documents_.FindEventAt(user_id, DocumentKey{metadata->timestamp, metadata->event_id}, render);
  if (!status.ok()) return status;
  if (hidden) return Status::NotFound("the event is erased or expired");
  return out;
}

}  // namespace eventlogger
