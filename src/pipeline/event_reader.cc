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

Result<std::string> EventReader::UserEventsJson(std::string_view user_id) const {
  std::string out = "[";
  const Status status = documents_.ScanUser(user_id, [&out](const DocumentView& document) {
    if (out.size() > 1) out += ',';
    AppendEventJson(out, document);
    return true;
  });
  if (!status.ok()) return status;
  out += ']';
  return out;
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
