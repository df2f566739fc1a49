#include "durability/retry_message.h"

#include <rapidjson/document.h>
#include <rapidjson/encodings.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include "core/timestamp.h"
#include "core/uuid.h"
#include "core/validation.h"
#include "durability/idempotency.h"

namespace eventlogger {
namespace {

constexpr int kVersion = 1;

// Input UTF-8, output ASCII: every non-ASCII character is written as \uXXXX.
using AsciiWriter = rapidjson::Writer<rapidjson::StringBuffer, rapidjson::UTF8<>, rapidjson::ASCII<>>;

void Field(AsciiWriter& w, const char* name, std::string_view value) {
  w.Key(name);
  w.String(value.data(), static_cast<rapidjson::SizeType>(value.size()));
}

Status Refuse(std::string reason) { return Status::InvalidArgument("retry message: " + std::move(reason)); }

// The string member `name`; empty and nullptr when absent and optional.
Result<std::string_view> StringMember(const rapidjson::Document& document, const char* name, bool required) {
  const auto member = document.FindMember(name);
  if (member == document.MemberEnd()) {
    if (required) return Refuse(std::string("has no ") + name);
    return std::string_view();
  }
  if (!member->value.IsString()) return Refuse(std::string(name) + " is not a string");
  return std::string_view(member->value.GetString(), member->value.GetStringLength());
}

Result<bool> BoolMember(const rapidjson::Document& document, const char* name) {
  const auto member = document.FindMember(name);
  if (member == document.MemberEnd() || !member->value.IsBool()) {
    return Refuse(std::string(name) + " is missing or not a boolean");
  }
  return member->value.GetBool();
}

bool IsPrintableAscii(std::string_view text) {
  for (const char c : text) {
    if (c < 0x20 || c > 0x7E) return false;
  }
  return true;
}

// Whether `text` is one JSON object, as the request path accepts details.
bool IsJsonObject(std::string_view text) {
  rapidjson::Document details;
  details.Parse<rapidjson::kParseValidateEncodingFlag>(text.data(), text.size());
  return !details.HasParseError() && details.IsObject();
}

}  // namespace

std::string EncodeRetryMessage(const RetryMessage& message) {
  const Event& event = message.event;
  rapidjson::StringBuffer buffer;
  AsciiWriter w(buffer);
  w.StartObject();
  w.Key("v");
  w.Int(kVersion);
  Field(w, "eventId", event.event_id);
  Field(w, "userId", event.user_id);
  Field(w, "eventType", event.event_type);
  Field(w, "timestamp", event.timestamp);
  if (!event.occurred_at.empty()) Field(w, "occurredAt", event.occurred_at);
  Field(w, "jsonDetails", event.details_json);
  if (!event.idempotency_key.empty()) Field(w, "idempotencyKey", event.idempotency_key);
  if (!event.request_hash.empty()) Field(w, "requestHash", event.request_hash);
  w.Key("metadataDone");
  w.Bool(message.metadata_done);
  w.Key("documentDone");
  w.Bool(message.document_done);
  if (!message.error.empty()) {
    std::string_view error = message.error;
    if (error.size() > kMaxRetryErrorBytes) error = error.substr(0, kMaxRetryErrorBytes);
    // A cut may split a character; keep only the valid prefix.
    const size_t invalid = FindInvalidUtf8(error);
    if (invalid != std::string_view::npos) error = error.substr(0, invalid);
    Field(w, "error", error);
  }
  w.EndObject();
  return std::string(buffer.GetString(), buffer.GetSize());
}

Result<RetryMessage> DecodeRetryMessage(std::string_view body) {
  rapidjson::Document document;
  document.Parse<rapidjson::kParseValidateEncodingFlag>(body.data(), body.size());
  if (document.HasParseError()) return Refuse("is not JSON");
  if (!document.IsObject()) return Refuse("is not a JSON object");
  const auto version = document.FindMember("v");
  if (version == document.MemberEnd() || !version->value.IsInt() || version->value.GetInt() != kVersion) {
    return Refuse("has no supported version (v: 1)");
  }
  RetryMessage message;
  Event& event = message.event;

  Result<std::string_view> event_id = StringMember(document, "eventId", true);
  if (!event_id.ok()) return event_id.status();
  if (!ParseUuid(*event_id)) return Refuse("eventId is not a UUID");
  event.event_id = std::string(*event_id);

  Result<std::string_view> user_id = StringMember(document, "userId", true);
  if (!user_id.ok()) return user_id.status();
  if (std::string why = CheckUserId(*user_id); !why.empty()) return Refuse("userId " + why);
  event.user_id = std::string(*user_id);

  Result<std::string_view> event_type = StringMember(document, "eventType", true);
  if (!event_type.ok()) return event_type.status();
  if (std::string why = CheckEventType(*event_type); !why.empty()) return Refuse("eventType " + why);
  event.event_type = std::string(*event_type);

  Result<std::string_view> timestamp = StringMember(document, "timestamp", true);
  if (!timestamp.ok()) return timestamp.status();
  const std::optional<int64_t> millis = ParseTimestamp(*timestamp);
  if (!millis) return Refuse("timestamp is not an ISO 8601 UTC time with milliseconds");
  event.timestamp = std::string(*timestamp);
  event.unix_millis = *millis;

  Result<std::string_view> occurred_at = StringMember(document, "occurredAt", false);
  if (!occurred_at.ok()) return occurred_at.status();
  if (!occurred_at->empty() && !ParseTimestamp(*occurred_at)) {
    return Refuse("occurredAt is not an ISO 8601 UTC time with milliseconds");
  }
  event.occurred_at = std::string(*occurred_at);

  Result<std::string_view> details = StringMember(document, "jsonDetails", true);
  if (!details.ok()) return details.status();
  if (!IsJsonObject(*details)) return Refuse("jsonDetails is not the text of a JSON object");
  event.details_json = std::string(*details);

  Result<std::string_view> key = StringMember(document, "idempotencyKey", false);
  if (!key.ok()) return key.status();
  if (!key->empty() && !IsValidIdempotencyKey(*key)) return Refuse("idempotencyKey is not 1-255 printable ASCII");
  event.idempotency_key = std::string(*key);
  Result<std::string_view> hash = StringMember(document, "requestHash", false);
  if (!hash.ok()) return hash.status();
  if (hash->size() > 128 || !IsPrintableAscii(*hash)) return Refuse("requestHash is not printable ASCII");
  event.request_hash = std::string(*hash);

  Result<bool> metadata_done = BoolMember(document, "metadataDone");
  if (!metadata_done.ok()) return metadata_done.status();
  Result<bool> document_done = BoolMember(document, "documentDone");
  if (!document_done.ok()) return document_done.status();
  message.metadata_done = *metadata_done;
  message.document_done = *document_done;

  Result<std::string_view> error = StringMember(document, "error", false);
  if (!error.ok()) return error.status();
  std::string_view reason = error->substr(0, kMaxRetryErrorBytes);
  if (const size_t invalid = FindInvalidUtf8(reason); invalid != std::string_view::npos) reason = reason.substr(0, invalid);
  message.error = std::string(reason);
  return message;
}

}  // namespace eventlogger
