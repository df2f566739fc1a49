// EventReader: renders a user's events as the API's JSON, straight from the
// document store ("document-first"). Stored jsonDetails text is spliced into
// the response without being parsed again. A read cache, when it comes,
// wraps this class rather than living inside a backend.
//
// Thread safety: all methods may be called concurrently; they block on the
// document store, so callers run them off the io threads.
#pragma once

#include <string>
#include <string_view>

#include "core/status.h"
#include "storage/document_store.h"

namespace eventlogger {

class EventReader {
 public:
  explicit EventReader(DocumentStore& documents) : documents_(documents) {}

  // `[{"userId":…,"eventId":…,"eventType":…,"timestamp":…,"jsonPayload":{…}}, …]`,
  // oldest first; "[]" for a user with no events.
  Result<std::string> UserEventsJson(std::string_view user_id) const;

  // One event as a JSON object; NotFound if the user has no such event.
  Result<std::string> EventJson(std::string_view user_id, std::string_view event_id) const;

 private:
  DocumentStore& documents_;
};

// Appends one document as the API's event object.
void AppendEventJson(std::string& out, const DocumentView& document);

}  // namespace eventlogger
