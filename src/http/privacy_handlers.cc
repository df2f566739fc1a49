#include "http/privacy_handlers.h"

#include <rapidjson/document.h>
#include <rapidjson/error/en.h>

#include <boost/beast/http/field.hpp>

#include "core/json_output.h"
#include "core/log.h"
#include "core/uuid.h"
#include "core/validation.h"
#include "http/problem.h"
#include "http/write_support.h"

namespace eventlogger::http {
namespace asio = boost::asio;

namespace {

// Legal case references and the like; a hold is not a document store.
constexpr size_t kMaxHoldReasonBytes = 1024;
constexpr std::string_view kProblemLegalHold = "/problems/legal-hold";

Response NotConfigured() {
  return MakeProblem(HttpStatus::not_implemented,
                     "Erasure and legal holds run where the service has its background workers: "
                     "`eventlogger serve`, or `eventlogger erase` against the same stores.");
}

void AppendMember(std::string& out, std::string_view name, std::string_view value) {
  out += ",\"";
  out += name;
  out += "\":";
  AppendJsonString(out, value);
}

std::string HoldJson(const LegalHoldRow& hold) {
  std::string out = "{\"userId\":";
  AppendJsonString(out, hold.user_id);
  AppendMember(out, "reason", hold.reason);
  AppendMember(out, "placedAt", hold.placed_at);
  out += '}';
  return out;
}

// The reason of a PUT .../hold body: none, or {"reason": "…"}.
std::optional<ValidationError> ParseHoldReason(const Request& request, std::string* reason) {
  const std::string& body = request.body();
  if (body.find_first_not_of(" \t\r\n") == std::string::npos) return std::nullopt;
  const auto content_type = request.find(beast_http::field::content_type);
  if (content_type == request.end() ||
      !IsJsonContentType(std::string_view(content_type->value().data(), content_type->value().size()))) {
    return ValidationError{"The body must be JSON.", {{"Content-Type", "must be application/json"}}};
  }
  rapidjson::Document document;
  document.Parse(body.data(), body.size());
  if (document.HasParseError()) {
    return ValidationError{"The body is not valid JSON.",
                           {{"", rapidjson::GetParseError_En(document.GetParseError())}}};
  }
  if (!document.IsObject()) return ValidationError{"The body must be a JSON object.", {{"", "is not an object"}}};
  ValidationError error{"The hold is not valid.", {}};
  for (const auto& member : document.GetObject()) {
    const std::string_view name(member.name.GetString(), member.name.GetStringLength());
    if (name != "reason") {
      error.errors.push_back({std::string(name.substr(0, 64)), "is not a member of a hold (only reason is)"});
      continue;
    }
    if (!member.value.IsString()) {
      error.errors.push_back({"reason", "must be a string"});
      continue;
    }
    const std::string_view text(member.value.GetString(), member.value.GetStringLength());
    if (text.size() > kMaxHoldReasonBytes) {
      error.errors.push_back({"reason", "must be at most " + std::to_string(kMaxHoldReasonBytes) + " bytes"});
    } else if (!IsValidUtf8(text)) {
      error.errors.push_back({"reason", "must be valid UTF-8"});
    } else {
      *reason = std::string(text);
    }
  }
  if (!error.errors.empty()) return error;
  return std::nullopt;
}

Response InvalidUser(const std::string& problem) {
  return MakeValidationProblem({"The userId in the path is not valid.", {{"userId", problem}}});
}

asio::awaitable<Response> EraseUser(const Route& route, const HandlerContext& context) {
  ErasureService& erasures = *context.erasures;
  struct Outcome {
    Result<ErasureJobRow> job;
    ErasureRefusal refusal;
  };
  auto request = [&erasures, user_id = route.user_id]() {
    Outcome out{Status::Internal("unset"), {}};
    out.job = erasures.Request(user_id, &out.refusal);
    return out;
  };
  Outcome outcome = co_await RunBlocking(context.blocking_pool, std::move(request));
  if (!outcome.job.ok()) {
    if (outcome.job.status().code() == StatusCode::kFailedPrecondition) {
      std::string detail = "The user is under a legal hold, so their events cannot be erased";
      detail += outcome.refusal.reason.empty() ? "." : " (" + outcome.refusal.reason + ").";
      co_return MakeProblem(HttpStatus::conflict, detail, kProblemLegalHold, "Under legal hold");
    }
    log::Error("accepting an erasure failed", {{"error", outcome.job.status().ToString()}});
    co_return MakeStatusProblem(outcome.job.status());
  }
  // The cached page must not outlive the request: reads hide the erased
  // events from now on, and a cached answer would not.
  context.read_cache.Invalidate(route.user_id);
  Response response = JsonResponse(HttpStatus::accepted, ErasureJobJson(*outcome.job));
  response.set(beast_http::field::location, "/erasures/" + outcome.job->id);
  co_return response;
}

asio::awaitable<Response> GetErasure(const Route& route, const HandlerContext& context) {
  if (!ParseUuid(route.erasure_id)) {
    co_return MakeValidationProblem({"The erasureId in the path is not valid.",
                                     {{"erasureId", "must be a UUID, as DELETE /users/{userId}/events returned"}}});
  }
  ErasureService& erasures = *context.erasures;
  auto find = [&erasures, id = route.erasure_id] { return erasures.Find(id); };
  Result<ErasureJobRow> job = co_await RunBlocking(context.blocking_pool, std::move(find));
  if (!job.ok()) {
    if (job.status().code() == StatusCode::kNotFound) {
      co_return MakeProblem(HttpStatus::not_found, "No erasure has that id.");
    }
    co_return MakeStatusProblem(job.status());
  }
  co_return JsonResponse(HttpStatus::ok, ErasureJobJson(*job));
}

asio::awaitable<Response> Hold(const Request& request, const Route& route, const HandlerContext& context) {
  LegalHolds& holds = *context.holds;
  const Verb method = request.method();
  if (method == Verb::get) {
    auto find = [&holds, user_id = route.user_id] { return holds.Find(user_id); };
    Result<std::optional<LegalHoldRow>> hold = co_await RunBlocking(context.blocking_pool, std::move(find));
    if (!hold.ok()) co_return MakeStatusProblem(hold.status());
    if (!*hold) co_return MakeProblem(HttpStatus::not_found, "The user is not under a legal hold.");
    co_return JsonResponse(HttpStatus::ok, HoldJson(**hold));
  }
  if (method == Verb::delete_) {
    auto release = [&holds, user_id = route.user_id] { return holds.Release(user_id); };
    const Status released = co_await RunBlocking(context.blocking_pool, std::move(release));
    if (released.code() == StatusCode::kNotFound) {
      co_return MakeProblem(HttpStatus::not_found, "The user is not under a legal hold.");
    }
    if (!released.ok()) co_return MakeStatusProblem(released);
    co_return Response(HttpStatus::no_content, 11);
  }
  if (method != Verb::put) co_return MethodNotAllowed("GET, PUT, DELETE");
  std::string reason;
  if (std::optional<ValidationError> error = ParseHoldReason(request, &reason)) {
    co_return MakeValidationProblem(*error);
  }
  struct Placed {
    Result<LegalHoldRow> hold;
    bool existed = false;
  };
  auto place = [&holds, user_id = route.user_id, reason = std::move(reason)]() {
    Placed out{Status::Internal("unset")};
    Result<std::optional<LegalHoldRow>> before = holds.Find(user_id);
    if (!before.ok()) {
      out.hold = before.status();
      return out;
    }
    out.existed = before->has_value();
    out.hold = holds.Place(user_id, reason);
    return out;
  };
  Placed placed = co_await RunBlocking(context.blocking_pool, std::move(place));
  if (!placed.hold.ok()) co_return MakeStatusProblem(placed.hold.status());
  co_return JsonResponse(placed.existed ? HttpStatus::ok : HttpStatus::created, HoldJson(*placed.hold));
}

}  // namespace

std::string ErasureJobJson(const ErasureJobRow& job) {
  std::string out = "{\"erasureId\":";
  AppendJsonString(out, job.id);
  AppendMember(out, "userId", job.user_id);
  AppendMember(out, "state", job.state);
  AppendMember(out, "receivedCutoff", job.received_cutoff);
  AppendMember(out, "createdAt", job.created_at);
  if (!job.started_at.empty()) AppendMember(out, "startedAt", job.started_at);
  if (!job.finished_at.empty()) AppendMember(out, "finishedAt", job.finished_at);
  out += ",\"erased\":{\"metadata\":" + std::to_string(job.metadata_erased) +
         ",\"documents\":" + std::to_string(job.documents_erased) +
         ",\"outbox\":" + std::to_string(job.outbox_erased) +
         ",\"deadLetters\":" + std::to_string(job.dead_letters_erased) + "}";
  // The receipt is this service's own JSON envelope, kept as signed.
  if (!job.receipt.empty()) out += ",\"receipt\":" + job.receipt;
  if (!job.error.empty()) AppendMember(out, "error", job.error);
  out += '}';
  return out;
}

asio::awaitable<Response> HandlePrivacyRoute(const Request& request, const Route& route,
                                             const HandlerContext& context) {
  const bool erasure_route = route.kind == RouteKind::kErasure || route.kind == RouteKind::kUserEventsErasure;
  if (erasure_route ? context.erasures == nullptr : context.holds == nullptr) co_return NotConfigured();
  if (route.kind == RouteKind::kErasure) {
    if (request.method() != Verb::get) co_return MethodNotAllowed("GET");
    co_return co_await GetErasure(route, context);
  }
  if (std::string problem = CheckUserId(route.user_id); !problem.empty()) co_return InvalidUser(problem);
  if (route.kind == RouteKind::kUserEventsErasure) {
    if (request.method() != Verb::delete_) co_return MethodNotAllowed("DELETE");
    co_return co_await EraseUser(route, context);
  }
  co_return co_await Hold(request, route, context);
}

}  // namespace eventlogger::http
