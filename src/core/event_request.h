// Parsing and validation of the POST /events body.
//
// The body must be one JSON object with exactly the members userId,
// eventType and jsonDetails. jsonDetails is kept as the client's own JSON
// text (insignificant whitespace removed), never re-serialised, so numbers
// such as 12345678901234567890 or 0.1000 survive byte for byte.
//
// Parsing is iterative (no recursion), so hostile nesting cannot exhaust the
// stack; it stops as soon as nesting passes the limit.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace eventlogger {

struct FieldError {
  std::string field;    // "userId", "jsonDetails", or "" for the body as a whole
  std::string message;  // what is wrong, as a sentence fragment
};

// Why a request was rejected: a summary plus one entry per offending field.
struct ValidationError {
  std::string detail;
  std::vector<FieldError> errors;
};

struct EventRequest {
  std::string user_id;
  std::string event_type;
  std::string details_json;  // minified JSON object text
};

struct EventRequestParse {
  std::optional<EventRequest> request;  // set on success
  ValidationError error;                // filled on failure
};

EventRequestParse ParseEventRequest(std::string_view body);

// Removes whitespace outside strings. REQUIRES: `json` is valid JSON.
std::string MinifyJson(std::string_view json);

}  // namespace eventlogger
