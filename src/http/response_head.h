// Renders a response's status line and header fields as HTTP/1.1 text.
//
// The server sends that text and the body in one gathered write. Beast's
// generic serializer does the same job through layers of buffer views
// built for every body type; for the small string bodies this service
// sends, walking them cost more CPU per request than parsing the event.
#pragma once

#include <string>
#include <string_view>

#include "http/http_types.h"

namespace eventlogger::http {

// The fields the server adds to every response. They are rendered straight
// into the head rather than stored in the response first: inserting them
// into Beast's field list cost an allocation and a search each.
struct ResponseFraming {
  std::string_view request_id;  // sent as X-Request-Id
  bool keep_alive = true;
  // The body that will follow the head, when it is not the response's own
  // (RequestInfo::shared_body); nullptr: response.body().
  const std::string* body = nullptr;
};

// Replaces `out` with the response's head: the status line, the response's
// own fields in order, then X-Content-Type-Options: nosniff, X-Request-Id, Connection (as Beast's
// keep_alive() sets it for the response's version: "close" on HTTP/1.1,
// "keep-alive" on HTTP/1.0, or nothing) and Content-Length (the body's
// size, framing.body's if set; none on a 304), and the blank line that ends it. The bytes are
// those Beast writes for the response after set("X-Content-Type-Options"),
// set("X-Request-Id"),
// keep_alive() and prepare_payload(), but for the 304's Content-Length.
// REQUIRES: the response has none of those three fields.
void RenderResponseHead(const Response& response, const ResponseFraming& framing, std::string& out);

}  // namespace eventlogger::http
