// API Gateway proxy events to HTTP requests, and HTTP responses back to
// proxy responses, so that the Lambda front-end hands the very same
// requests to the very same handlers as the HTTP server.
//
// Both payload formats are read:
//   1.0 (REST APIs, and HTTP APIs set to 1.0): httpMethod, path,
//       multiValueHeaders / headers, multiValueQueryStringParameters /
//       queryStringParameters (values decoded by API Gateway, re-encoded
//       here), requestContext.identity.sourceIp;
//   2.0 (HTTP APIs): requestContext.http.method, rawPath, rawQueryString
//       (as the client sent it), headers (repeated ones comma-joined),
//       cookies, requestContext.http.sourceIp.
// Either may carry a base64 body (isBase64Encoded). Header names are
// matched in any case (HTTP fields are case-insensitive; API Gateway
// passes them as the client or a proxy spelled them).
//
// Responses go back in the request's format: 1.0 with multiValueHeaders
// (every field, repeated ones as several values), 2.0 with headers
// (repeated ones comma-joined) and Set-Cookie as cookies. A body that is
// not UTF-8 goes base64-encoded.
//
// Pure functions, no I/O.
#pragma once

#include <string>
#include <string_view>

#include "core/status.h"
#include "http/http_types.h"

namespace eventlogger::lambda {

enum class PayloadVersion { kV1, kV2 };

struct ProxyRequest {
  PayloadVersion version = PayloadVersion::kV2;
  http::Request request;        // target = path + "?" + query, as on the wire
  std::string source_ip;        // the client's address as API Gateway saw it; may be empty
  std::string gateway_request_id;  // requestContext.requestId; may be empty
};

// InvalidArgument when the event is not a proxy event of either format (or
// is malformed: a body that is not base64 when it says it is, a method
// that is not HTTP's, a path that does not start with '/').
Result<ProxyRequest> ParseProxyEvent(std::string_view event_json);

// The proxy response for `response` in `version`'s format. `body`, when
// set, is sent instead of response.body() (RequestInfo::shared_body).
std::string RenderProxyResponse(PayloadVersion version, const http::Response& response,
                                const std::string* body = nullptr);

}  // namespace eventlogger::lambda
