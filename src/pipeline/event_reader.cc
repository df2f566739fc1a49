#include "pipeline/event_reader.h"

#include "core/json_output.h"

namespace eventlogger {

void AppendEventJson(std::string& out, const DocumentView& document) {
  out += "{\"userId\":";
  AppendJsonString(out, document.user_id);
  out += ",\"eventId\":";
  AppendJsonString(out, document.event_id);
  out += ",\"eventType\":";
  AppendJsonString(out, document.event_type);
  out += ",\"timestamp\":";
  AppendJsonString(out, document.timestamp);
  out += ",\"jsonPayload\":";
  out += document.details_json;
  out += '}';
}

Result<EventPage> EventReader::UserEventsPage(std::string_view user_id, UserRangeQuery range,
                                              size_t limit) const {
  EventPage page;
  page.json = "[";
  range.expected = limit + 1;
  const Status status = documents_.ReadUserRange(user_id, range, [&](const DocumentView& document) {
    if (page.count == limit) {
      page.more = true;
      return false;
    }
    if (page.count > 0) page.json += ',';
    AppendEventJson(page.json, document);
    ++page.count;
    if (page.count == limit) {
      // The views die with this call; keep the key while it is alive.
      page.last.timestamp.assign(document.timestamp);
      page.last.event_id.assign(document.event_id);
    }
    return true;
  });
  if (!status.ok()) return status;
  page.json += ']';
  if (!page.more) page.last = {};
  return page;
}

Result<std::string> EventReader::EventJson(std::string_view user_id,
                                           std::string_view event_id) const {
  std::string out;
  const Status status = documents_.FindEvent(
      user_id, event_id, [&out](const DocumentView& document) { AppendEventJson(out, document); });
  if (!status.ok()) return status;
  return out;
}

}  // namespace eventlogger
