// Renders a response's status line and header fields as HTTP/1.1 text.
//
// The server sends that text and the body in one gathered write. Beast's
// generic serializer does the same job through layers of buffer views
// built for every body type; for the small string bodies this service
// sends, walking them cost more CPU per request than parsing the event.
#pragma once

#include <string>

#include "http/http_types.h"

namespace eventlogger::http {

// Replaces `out` with the response's head: the status line, every field in
// order, and the blank line that ends it. The response is sent as it is:
// call prepare_payload() first so Content-Length and Connection are set.
void RenderResponseHead(const Response& response, std::string& out);

}  // namespace eventlogger::http
