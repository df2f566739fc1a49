// RFC 9457 problem details: every error response is built here, and the
// mapping from internal Status codes to HTTP status codes lives here too.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "core/event_request.h"
#include "core/status.h"
#include "http/http_types.h"

namespace eventlogger::http {

// Problem type URIs, documented in README.
inline constexpr std::string_view kProblemValidation = "/problems/validation-error";
inline constexpr std::string_view kProblemStoreUnavailable = "/problems/store-unavailable";
inline constexpr std::string_view kProblemOverloaded = "/problems/overloaded";
inline constexpr std::string_view kProblemNotStored = "/problems/not-stored";
inline constexpr std::string_view kProblemNotReady = "/problems/not-ready";
inline constexpr std::string_view kProblemRateLimited = "/problems/rate-limited";
inline constexpr std::string_view kProblemUnauthenticated = "/problems/unauthenticated";
inline constexpr std::string_view kProblemForbidden = "/problems/forbidden";
inline constexpr std::string_view kProblemIdempotencyInFlight = "/problems/idempotency-key-in-use";
inline constexpr std::string_view kProblemIdempotencyMismatch = "/problems/idempotency-key-mismatch";

// An application/problem+json response. `type` "about:blank" means the HTTP
// status says it all, and then `title` is the status's reason phrase.
Response MakeProblem(HttpStatus status, std::string_view detail,
                     std::string_view type = "about:blank", std::string_view title = {},
                     const std::vector<FieldError>& errors = {});

// 400 with the validation errors listed per field.
Response MakeValidationProblem(const ValidationError& error);

// A store or internal failure, mapped to an HTTP status in one place.
Response MakeStatusProblem(const eventlogger::Status& status);

// 405 naming the methods the resource supports, in the problem and in Allow.
Response MethodNotAllowed(std::string_view allow);

// A successful application/json answer.
Response JsonResponse(HttpStatus status, std::string body);

}  // namespace eventlogger::http
