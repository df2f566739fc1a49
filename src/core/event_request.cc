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

// SAX handler: tracks where it is in the document, captures the top-level
// members and the byte range of jsonDetails, and records field errors. It
// returns false (aborting the parse) only for conditions that make going on
// pointless or unsafe: a non-object root or nesting beyond the limit.
class EventBodyHandler
    : public rapidjson::BaseReaderHandler<rapidjson::UTF8<>, EventBodyHandler> {
 public:
  explicit EventBodyHandler(const rapidjson::StringStream& stream) : stream_(stream) {}

  // Every scalar goes through here (BaseReaderHandler's default).
  bool Default() { return OnValue("a JSON object", /*is_string=*/false, {}); }
  bool String(const char* text, rapidjson::SizeType length, bool) {
    return OnValue("", /*is_string=*/true, std::string_view(text, length));
  }
  bool RawNumber(const char*, rapidjson::SizeType, bool) { return Default(); }

  bool Key(const char* text, rapidjson::SizeType length, bool) {
    if (depth_ != 1) return true;
    const std::string_view key(text, length);
    current_ = Member::kUnknown;
    if (key == kUserId) current_ = Member::kUserId;
    if (key == kEventType) current_ = Member::kEventType;
    if (key == kJsonDetails) current_ = Member::kJsonDetails;
    if (current_ == Member::kUnknown) {
      AddError(std::string(key), "is not a known member (expected userId, eventType, jsonDetails)");
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
  bool too_deep() const { return too_deep_; }
  const std::vector<FieldError>& errors() const { return errors_; }
  bool seen(std::string_view member) const {
    if (member == kUserId) return seen_[static_cast<int>(Member::kUserId)];
    if (member == kEventType) return seen_[static_cast<int>(Member::kEventType)];
    return seen_[static_cast<int>(Member::kJsonDetails)];
  }
  std::string& user_id() { return user_id_; }
  std::string& event_type() { return event_type_; }
  size_t details_begin() const { return details_begin_; }
  size_t details_end() const { return details_end_; }
  bool details_captured() const { return details_end_ > details_begin_; }

 private:
  enum class Member { kUserId = 0, kEventType = 1, kJsonDetails = 2, kUnknown = 3 };

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
        details_begin_ = stream_.Tell();  // the iterative reader calls us before consuming '{'
        in_details_ = true;
      } else if (current_ != Member::kUnknown) {
        AddError(current_ == Member::kUserId      ? "userId"
                 : current_ == Member::kEventType ? "eventType"
                                                  : "jsonDetails",
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
      details_end_ = stream_.Tell() + 1;  // include the closing '}' not yet consumed
      in_details_ = false;
    }
    return true;
  }

  void AddError(std::string field, std::string message) {
    errors_.push_back({std::move(field), std::move(message)});
  }

  const rapidjson::StringStream& stream_;
  int depth_ = 0;
  Member current_ = Member::kUnknown;
  bool seen_[4] = {false, false, false, false};
  bool root_is_not_object_ = false;
  bool too_deep_ = false;
  bool in_details_ = false;
  size_t details_begin_ = 0;
  size_t details_end_ = 0;
  std::string user_id_;
  std::string event_type_;
  std::vector<FieldError> errors_;
};

EventRequestParse Reject(std::string detail, std::vector<FieldError> errors) {
  EventRequestParse out;
  out.error.detail = std::move(detail);
  out.error.errors = std::move(errors);
  return out;
}

}  // namespace

EventRequestParse ParseEventRequest(std::string_view body) {
  // RapidJSON treats NUL as end of input, which would hide trailing garbage;
  // a raw NUL is never valid JSON text, so refuse it up front.
  if (const void* nul = std::memchr(body.data(), '\0', body.size())) {
    const size_t offset = static_cast<const char*>(nul) - body.data();
    return Reject("The request body is not valid JSON.",
                  {{"", "malformed JSON at byte " + std::to_string(offset) + ": NUL byte"}});
  }
  // StringStream needs a terminated buffer; string_view may not be one.
  const std::string text(body);
  rapidjson::StringStream stream(text.c_str());
  EventBodyHandler handler(stream);
  rapidjson::Reader reader;
  constexpr unsigned kFlags = rapidjson::kParseIterativeFlag | rapidjson::kParseValidateEncodingFlag |
                              rapidjson::kParseNumbersAsStringsFlag;
  const rapidjson::ParseResult parsed = reader.Parse<kFlags>(stream, handler);

  if (handler.root_is_not_object()) {
    return Reject("The request body must be a JSON object.",
                  {{"", "expected a JSON object with userId, eventType and jsonDetails"}});
  }
  if (handler.too_deep()) {
    return Reject("The request body is nested too deeply.",
                  {{"jsonDetails", "must be nested at most 32 levels deep"}});
  }
  if (parsed.IsError()) {
    if (parsed.Code() == rapidjson::kParseErrorDocumentEmpty) {
      return Reject("The request body is empty.", {{"", "expected a JSON object"}});
    }
    return Reject("The request body is not valid JSON.",
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
  if (!errors.empty()) {
    return Reject("The request body failed validation.", std::move(errors));
  }

  EventRequestParse out;
  out.request.emplace();
  out.request->user_id = std::move(handler.user_id());
  out.request->event_type = std::move(handler.event_type());
  out.request->details_json = MinifyJson(
      std::string_view(text).substr(handler.details_begin(),
                                    handler.details_end() - handler.details_begin()));
  return out;
}

std::string MinifyJson(std::string_view json) {
  std::string out;
  out.reserve(json.size());
  bool in_string = false;
  for (size_t i = 0; i < json.size(); ++i) {
    const char c = json[i];
    if (in_string) {
      out.push_back(c);
      if (c == '\\') {
        out.push_back(json[++i]);  // the escaped character, whatever it is
      } else if (c == '"') {
        in_string = false;
      }
    } else if (c == '"') {
      in_string = true;
      out.push_back(c);
    } else if (c != ' ' && c != '\t' && c != '\n' && c != '\r') {
      out.push_back(c);
    }
  }
  return out;
}

}  // namespace eventlogger
