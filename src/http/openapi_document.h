// The OpenAPI 3.1 description of the HTTP API, served at GET /openapi.json.
// The document is src/http/openapi/openapi.json, compiled in; the
// integration tests validate every response they receive against it, so it
// cannot drift from what the handlers answer.
#pragma once

#include <string_view>

namespace eventlogger::http {

std::string_view OpenApiDocument();

}  // namespace eventlogger::http
