#include "core/event_request.h"

#include <rapidjson/error/en.h>
#include <rapidjson/reader.h>

#include <cstring>

#include "core/validation.h"

namespace eventlogger {
namespace {

constexpr std::string_view kUserId = "userId";
constexpr std::string_view kEventType = "eventType";
constexpr std::string_view kJsonDetails = "jsonDetails";
constexpr std::string_view kIdempotencyKey = "idempotencyKey";
constexpr std::string_view kOccurredAt = "occurredAt";
constexpr std::string_view kSentAt = "sentAt";

// SAX handler: tracks where it is in the document, captures the top-level
// members and the byte range of jsonDetails, and records field errors. It
// returns false (aborting the parse) only for conditions that make going on
// pointless or unsafe: a non-object root or nesting beyond the limit.
class EventBodyHandler
    : public rapidjson::BaseReaderHandler<rapidjson::UTF8<>, EventBodyHandler> {
 public:
  // `escapes_possible`: the body holds a "\u" escape, so a decoded string
  // may hold a lone surrogate (see DecodedIsUtf8); without one, strings are
  // the body's own bytes, already checked.
  EventBodyHandler(rapidjson::InsituStringStream& stream, bool escapes_possible, const EventRequestOptions& options)
      : stream_(stream), escapes_possible_(escapes_possible), options_(options) {}

  // Every scalar goes through here (BaseReaderHandler's default).
  bool Default() { return OnValue("a JSON object", /*is_string=*/false, {}); }
  bool String(const char* text, rapidjson::SizeType length, bool) {
    if (!DecodedIsUtf8(text, length)) return false;
    return OnValue("", /*is_string=*/true, std::string_view(text, length));
  }
  bool RawNumber(const char*, rapidjson::SizeType, bool) { return Default(); }

  bool Key(const char* text, rapidjson::SizeType length, bool) {
    if (!DecodedIsUtf8(text, length)) return false;
    if (depth_ != 1) return true;
    const std::string_view key(text, length);
    current_ = Member::kUnknown;
    if (key == kUserId) current_ = Member::kUserId;
    if (key == kEventType) current_ = Member::kEventType;
    if (key == kJsonDetails) current_ = Member::kJsonDetails;
    if (key == kIdempotencyKey && options_.allow_idempotency_key) current_ = Member::kIdempotencyKey;
    if (key == kOccurredAt) current_ = Member::kOccurredAt;
    if (key == kSentAt && options_.allow_sent_at) current_ = Member::kSentAt;
    if (current_ == Member::kUnknown) {
      std::string expected = "is not a known member (expected userId, eventType, jsonDetails, ";
      if (options_.allow_idempotency_key) expected += "idempotencyKey, ";
      expected += options_.allow_sent_at ? "occurredAt, sentAt)" : "occurredAt)";
      AddError(std::string(key), std::move(expected));
      return true;
    }
    bool& seen = seen_[static_cast<int>(current_)];
    if (seen) {
      AddError(std::string(key), "appears more than once");
      current_ = Member::kUnknown;  // ignore the repeated value
    }
    seen = true;
    return true;
  }

  bool StartObject() { return OnContainer(/*is_object=*/true); }
  bool StartArray() { return OnContainer(/*is_object=*/false); }
  bool EndObject(rapidjson::SizeType) { return OnEnd(); }
  bool EndArray(rapidjson::SizeType) { return OnEnd(); }

  bool root_is_not_object() const { return root_is_not_object_; }
  bool lone_surrogate() const { return lone_surrogate_; }
  bool too_deep() const { return too_deep_; }
  const std::vector<FieldError>& errors() const { return errors_; }
  bool seen(std::string_view member) const {
    if (member == kUserId) return seen_[static_cast<int>(Member::kUserId)];
    if (member == kEventType) return seen_[static_cast<int>(Member::kEventType)];
    if (member == kIdempotencyKey) return seen_[static_cast<int>(Member::kIdempotencyKey)];
    if (member == kOccurredAt) return seen_[static_cast<int>(Member::kOccurredAt)];
    if (member == kSentAt) return seen_[static_cast<int>(Member::kSentAt)];
    return seen_[static_cast<int>(Member::kJsonDetails)];
  }
  std::string& user_id() { return user_id_; }
  std::string& event_type() { return event_type_; }
  std::string& idempotency_key() { return idempotency_key_; }
  const std::string& occurred_at() const { return occurred_at_; }
  const std::string& sent_at() const { return sent_at_; }
  size_t details_begin() const { return details_begin_; }
  size_t details_end() const { return details_end_; }
  bool details_captured() const { return details_end_ > details_begin_; }

 private:
  enum class Member {
    kUserId = 0,
    kEventType = 1,
    kJsonDetails = 2,
    kIdempotencyKey = 3,
    kOccurredAt = 4,
    kSentAt = 5,
    kUnknown = 6
  };

  static std::string_view Name(Member member) {
    switch (member) {
      case Member::kUserId: return kUserId;
      case Member::kEventType: return kEventType;
      case Member::kJsonDetails: return kJsonDetails;
      case Member::kIdempotencyKey: return kIdempotencyKey;
      case Member::kOccurredAt: return kOccurredAt;
      case Member::kSentAt: return kSentAt;
      case Member::kUnknown: break;
    }
    return "";
  }

  // RapidJSON 1.1 rejects a lone high surrogate escape but decodes a lone
  // low one (\udc00) into the invalid UTF-8 bytes ED B0 80.
  bool DecodedIsUtf8(const char* text, rapidjson::SizeType length) {
    if (!escapes_possible_ || IsValidUtf8(std::string_view(text, length))) return true;
    lone_surrogate_ = true;
    return false;
  }

  bool OnValue(const char*, bool is_string, std::string_view text) {
    if (depth_ == 0) {
      root_is_not_object_ = true;
      return false;
    }
    if (depth_ != 1) return true;
    switch (current_) {
      case Member::kUserId:
        if (is_string) user_id_.assign(text);
        else AddError("userId", "must be a string");
        break;
      case Member::kEventType:
        if (is_string) event_type_.assign(text);
        else AddError("eventType", "must be a string");
        break;
      case Member::kJsonDetails:
        AddError("jsonDetails", "must be a JSON object");
        break;
      case Member::kIdempotencyKey:
        if (is_string) idempotency_key_.assign(text);
        else AddError("idempotencyKey", "must be a string");
        break;
      case Member::kOccurredAt:
        if (is_string) occurred_at_.assign(text);
        else AddError("occurredAt", "must be a string");
        break;
      case Member::kSentAt:
        if (is_string) sent_at_.assign(text);
        else AddError("sentAt", "must be a string");
        break;
      case Member::kUnknown:
        break;
    }
    return true;
  }

  bool OnContainer(bool is_object) {
    if (depth_ == 0 && !is_object) {
      root_is_not_object_ = true;
      return false;
    }
    if (depth_ == 1) {
      if (current_ == Member::kJsonDetails && is_object) {
        details_begin_ = stream_.Tell() - 1;  // the reader has consumed the '{'
        in_details_ = true;
      } else if (current_ != Member::kUnknown) {
        AddError(std::string(Name(current_)),
                 current_ == Member::kJsonDetails ? "must be a JSON object" : "must be a string");
      }
    }
    ++depth_;
    // The root object is depth 1 and jsonDetails depth 2, so jsonDetails'
    // own level is depth - 1. Unknown members get the same bound: nesting is
    // what costs memory, whichever member carries it.
    if (depth_ - 1 > kMaxDetailsDepth) {
      too_deep_ = true;
      return false;
    }
    return true;
  }

  bool OnEnd() {
    --depth_;
    if (depth_ == 1 && in_details_) {
      details_end_ = stream_.Tell();  // the reader has consumed the closing '}'
      in_details_ = false;
    }
    return true;
  }

  void AddError(std::string field, std::string message) {
    errors_.push_back({std::move(field), std::move(message)});
  }

  rapidjson::InsituStringStream& stream_;  // only Tell() is used (it is not const)
  const bool escapes_possible_;
  const EventRequestOptions options_;
  int depth_ = 0;
  Member current_ = Member::kUnknown;
  bool seen_[7] = {false, false, false, false, false, false, false};
  bool root_is_not_object_ = false;
  bool lone_surrogate_ = false;
  bool too_deep_ = false;
  bool in_details_ = false;
  size_t details_begin_ = 0;
  size_t details_end_ = 0;
  std::string user_id_;
  std::string event_type_;
  std::string idempotency_key_;
  std::string occurred_at_;
  std::string sent_at_;
  std::vector<FieldError> errors_;
};

// True if `s` is exactly one JSON number (RFC 8259 section 6).
bool IsJsonNumber(std::string_view s) {
  size_t i = 0;
  const auto digits = [&] {
    const size_t from = i;
    while (i < s.size() && s[i] >= '0' && s[i] <= '9') ++i;
    return i > from;
  };
  if (i < s.size() && s[i] == '-') ++i;
  if (i < s.size() && s[i] == '0') {
    ++i;
  } else if (!digits()) {
    return false;
  }
  if (i < s.size() && s[i] == '.') {
    ++i;
    if (!digits()) return false;
  }
  if (i < s.size() && (s[i] == 'e' || s[i] == 'E')) {
    ++i;
    if (i < s.size() && (s[i] == '+' || s[i] == '-')) ++i;
    if (!digits()) return false;
  }
  return i == s.size();
}

EventRequestParse Reject(std::string detail, std::vector<FieldError> errors) {
  EventRequestParse out;
  out.error.detail = std::move(detail);
  out.error.errors = std::move(errors);
  return out;
}

}  // namespace

EventRequestParse ParseEventRequest(std::string_view body, const EventRequestOptions& options) {
  // RapidJSON treats NUL as end of input, which would hide trailing garbage;
  // a raw NUL is never valid JSON text, so refuse it up front.
  if (const void* nul = std::memchr(body.data(), '\0', body.size())) {
    const size_t offset = static_cast<const char*>(nul) - body.data();
    return Reject(std::string(options.subject) + " is not valid JSON.",
                  {{"", "malformed JSON at byte " + std::to_string(offset) + ": NUL byte"}});
  }
  // One pass over the raw bytes, eight at a time while they are ASCII: far
  // cheaper than RapidJSON's per-character validation (kParseValidateEncodingFlag
  // cost a third of the parse), and it covers every string, key and value.
  if (const size_t bad = FindInvalidUtf8(body); bad != std::string_view::npos) {
    return Reject(std::string(options.subject) + " is not valid JSON.",
                  {{"", "malformed JSON at byte " + std::to_string(bad) + ": invalid UTF-8"}});
  }
  const bool escapes_possible = body.find("\\u") != std::string_view::npos;
  // Parsed in place (kParseInsituFlag): strings are decoded inside this
  // copy, never copied out, so the copy is scratch and `body` keeps the
  // client's text. RapidJSON needs it NUL-terminated; the 16 spare bytes keep
  // its aligned 16-byte loads (RAPIDJSON_SSE2) inside the allocation when
  // they look past the NUL.
  std::string text;
  text.reserve(body.size() + 16);
  text.assign(body);
  rapidjson::InsituStringStream stream(text.data());
  std::optional<EventBodyHandler> parsing(std::in_place, stream, escapes_possible, options);
  rapidjson::Reader reader;
  // The recursive parser (faster than kParseIterativeFlag) recurses once per
  // nesting level, and the handler stops it past kMaxDetailsDepth + 1 levels,
  // so its stack use is bounded whatever the body.
  constexpr unsigned kFlags = rapidjson::kParseInsituFlag | rapidjson::kParseNumbersAsStringsFlag;
  rapidjson::ParseResult parsed = reader.Parse<kFlags>(stream, *parsing);
  std::string defused;
  if (parsed.Code() == rapidjson::kParseErrorNumberTooBig) {
    defused = DefuseJsonNumbers(body);  // see DefuseJsonNumbers; rare, so only on this error
    defused.reserve(defused.size() + 16);  // the same spare bytes as `text`
    stream = rapidjson::InsituStringStream(defused.data());
    parsing.emplace(stream, escapes_possible, options);
    parsed = reader.Parse<kFlags>(stream, *parsing);
  }
  EventBodyHandler& handler = *parsing;

  if (handler.root_is_not_object()) {
    return Reject(std::string(options.subject) + " must be a JSON object.",
                  {{"", "expected a JSON object with userId, eventType and jsonDetails"}});
  }
  if (handler.too_deep()) {
    return Reject(std::string(options.subject) + " is nested too deeply.",
                  {{"jsonDetails", "must be nested at most 32 levels deep"}});
  }
  if (handler.lone_surrogate()) {
    return Reject(std::string(options.subject) + " is not valid JSON.",
                  {{"", "malformed JSON: a string holds a lone UTF-16 surrogate escape"}});
  }
  if (parsed.IsError()) {
    if (parsed.Code() == rapidjson::kParseErrorDocumentEmpty) {
      return Reject(std::string(options.subject) + " is empty.", {{"", "expected a JSON object"}});
    }
    return Reject(std::string(options.subject) + " is not valid JSON.",
                  {{"", "malformed JSON at byte " + std::to_string(parsed.Offset()) + ": " +
                            rapidjson::GetParseError_En(parsed.Code())}});
  }

  std::vector<FieldError> errors = handler.errors();
  for (std::string_view member : {kUserId, kEventType, kJsonDetails}) {
    if (!handler.seen(member)) errors.push_back({std::string(member), "is required"});
  }
  const auto check = [&](std::string_view field, const std::string& value,
                         std::string (*rule)(std::string_view)) {
    if (!handler.seen(field)) return;
    for (const FieldError& e : errors) {
      if (e.field == field) return;  // already wrong in type; don't pile on
    }
    if (std::string problem = rule(value); !problem.empty()) {
      errors.push_back({std::string(field), std::move(problem)});
    }
  };
  check(kUserId, handler.user_id(), &CheckUserId);
  check(kEventType, handler.event_type(), &CheckEventType);
  std::optional<Instant> occurred_at, sent_at;
  const auto instant = [&](std::string_view field, const std::string& value, std::optional<Instant>* out) {
    if (!handler.seen(field)) return;
    for (const FieldError& e : errors) {
      if (e.field == field) return;
    }
    *out = ParseInstant(value);
    if (!*out) errors.push_back({std::string(field), std::string(kInstantRule)});
  };
  instant(kOccurredAt, handler.occurred_at(), &occurred_at);
  instant(kSentAt, handler.sent_at(), &sent_at);
  if (!errors.empty()) {
    return Reject(std::string(options.subject) + " failed validation.", std::move(errors));
  }

  EventRequestParse out;
  out.request.emplace();
  out.request->user_id = std::move(handler.user_id());
  out.request->event_type = std::move(handler.event_type());
  out.request->details_json = MinifyJson(
      body.substr(handler.details_begin(), handler.details_end() - handler.details_begin()));
  if (handler.seen(kIdempotencyKey)) out.request->idempotency_key = std::move(handler.idempotency_key());
  out.request->times.occurred_at = occurred_at;
  out.request->times.sent_at = sent_at;
  return out;
}

// Numbers of any length keep their structure; the client's text is still what
// gets stored. Malformed numbers are left for the parser to reject.
std::string DefuseJsonNumbers(std::string_view json) {
  std::string out(json);
  bool in_string = false;
  for (size_t i = 0; i < out.size(); ++i) {
    const char c = out[i];
    if (in_string) {
      if (c == '\\') {
        ++i;
      } else if (c == '"') {
        in_string = false;
      }
    } else if (c == '"') {
      in_string = true;
    } else if (c == '-' || (c >= '0' && c <= '9')) {
      size_t end = i;
      while (end < out.size() && std::string_view("0123456789+-.eE").find(out[end]) !=
                                     std::string_view::npos) {
        ++end;
      }
      const size_t length = end - i;
      if (IsJsonNumber(std::string_view(out).substr(i, length))) {
        out.replace(i, length, length == 1   ? std::string("0")
                               : length == 2 ? std::string("10")
                                             : "0." + std::string(length - 2, '0'));
      }
      i = end - 1;
    }
  }
  return out;
}

std::string MinifyJson(std::string_view json) {
  // Machine-written JSON rarely has whitespace at all: then the text is
  // already minimal. memchr scans 16 or 32 bytes at a time.
  const bool has_whitespace = std::memchr(json.data(), ' ', json.size()) != nullptr ||
                              std::memchr(json.data(), '\n', json.size()) != nullptr ||
                              std::memchr(json.data(), '\r', json.size()) != nullptr ||
                              std::memchr(json.data(), '\t', json.size()) != nullptr;
  if (!has_whitespace) return std::string(json);
  std::string out;
  out.reserve(json.size());
  const char* p = json.data();
  const char* const end = p + json.size();
  const auto outside_stop = [](char c) {
    return c == '"' || c == ' ' || c == '\n' || c == '\r' || c == '\t';
  };
  // Copies runs, not characters: machine-written JSON is mostly runs.
  while (p < end) {
    const char* run = p;
    while (p < end && !outside_stop(*p)) ++p;
    out.append(run, static_cast<size_t>(p - run));
    if (p == end) break;
    if (*p != '"') {
      ++p;  // whitespace between tokens: dropped
      continue;
    }
    // A string, kept as written up to its closing quote (escapes included).
    run = p++;
    while (p < end) {
      if (*p == '\\') {
        p += 2;  // the escaped character, whatever it is
        continue;
      }
      if (*p++ == '"') break;
    }
    if (p > end) p = end;  // a truncated escape: the caller passes validated JSON, but stay in bounds
    out.append(run, static_cast<size_t>(p - run));
  }
  return out;
}

}  // namespace eventlogger
