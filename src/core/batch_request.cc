#include "core/batch_request.h"

#include <rapidjson/error/en.h>
#include <rapidjson/reader.h>

#include <cstring>
#include <string>

#include "core/validation.h"

namespace eventlogger {
namespace {

constexpr std::string_view kEvents = "events";
constexpr std::string_view kSentAt = "sentAt";

// SAX handler for the envelope: validates its shape and records each item's
// byte range, leaving the items' own members to ParseEventRequest.
class BatchEnvelopeHandler : public rapidjson::BaseReaderHandler<rapidjson::UTF8<>, BatchEnvelopeHandler> {
 public:
  // An item's byte range, or none for an item that is not an object.
  struct Item {
    size_t begin = 0;
    size_t end = 0;
    bool is_object = false;
  };

  BatchEnvelopeHandler(rapidjson::InsituStringStream& stream, size_t max_events)
      : stream_(stream), max_events_(max_events) {}

  bool Default() { return OnScalar(); }
  bool String(const char* text, rapidjson::SizeType length, bool) {
    if (depth_ == 1 && in_sent_at_member_) {
      sent_at_.assign(text, length);
      sent_at_is_string_ = true;
      return true;
    }
    return OnScalar();
  }
  bool RawNumber(const char*, rapidjson::SizeType, bool) { return OnScalar(); }

  bool Key(const char* text, rapidjson::SizeType length, bool) {
    if (depth_ != 1) return true;
    const std::string_view key(text, length);
    in_events_member_ = key == kEvents;
    in_sent_at_member_ = key == kSentAt;
    if (in_events_member_) {
      if (seen_events_) errors_.push_back({"events", "appears more than once"});
      seen_events_ = true;
    } else if (in_sent_at_member_) {
      if (seen_sent_at_) errors_.push_back({"sentAt", "appears more than once"});
      seen_sent_at_ = true;
    } else {
      errors_.push_back({std::string(key.substr(0, 64)), "is not a known member (expected events, sentAt)"});
    }
    return true;
  }

  bool StartObject() {
    if (depth_ == 0) {
      ++depth_;
      return true;
    }
    if (depth_ == 1 && in_events_member_) errors_.push_back({"events", "must be an array of events"});
    if (depth_ == 1 && in_sent_at_member_) errors_.push_back({"sentAt", "must be a string"});
    if (depth_ == 2 && in_events_array_ && !AddItem(/*is_object=*/true)) return false;
    return Enter();
  }
  bool StartArray() {
    if (depth_ == 0) return RootNotObject();
    if (depth_ == 1 && in_events_member_ && !in_events_array_ && !seen_array_) {
      in_events_array_ = true;
      seen_array_ = true;
    } else if (depth_ == 1 && in_events_member_) {
      errors_.push_back({"events", "must be one array of events"});
    } else if (depth_ == 1 && in_sent_at_member_) {
      errors_.push_back({"sentAt", "must be a string"});
    } else if (depth_ == 2 && in_events_array_ && !AddItem(/*is_object=*/false)) {
      return false;
    }
    return Enter();
  }
  bool EndObject(rapidjson::SizeType) { return Leave(); }
  bool EndArray(rapidjson::SizeType) { return Leave(); }

  bool root_not_object() const { return root_not_object_; }
  bool too_deep() const { return too_deep_; }
  bool too_many() const { return too_many_; }
  bool seen_events() const { return seen_events_; }
  // The envelope's sentAt text, when it was a string.
  std::optional<std::string_view> sent_at() const {
    if (!sent_at_is_string_) return std::nullopt;
    return std::string_view(sent_at_);
  }
  const std::vector<Item>& items() const { return items_; }
  const std::vector<FieldError>& errors() const { return errors_; }

 private:
  bool OnScalar() {
    if (depth_ == 0) return RootNotObject();
    if (depth_ == 1 && in_events_member_) errors_.push_back({"events", "must be an array of events"});
    if (depth_ == 1 && in_sent_at_member_) errors_.push_back({"sentAt", "must be a string"});
    if (depth_ == 2 && in_events_array_) return AddItem(/*is_object=*/false);
    return true;
  }

  bool RootNotObject() {
    root_not_object_ = true;
    return false;
  }

  bool AddItem(bool is_object) {
    if (items_.size() == max_events_) {
      too_many_ = true;
      return false;  // no need to read further: the batch is refused
    }
    Item item;
    item.is_object = is_object;
    if (is_object) {
      item.begin = stream_.Tell() - 1;  // the reader has consumed the '{'
      open_item_ = true;
    }
    items_.push_back(item);
    return true;
  }

  bool Enter() {
    ++depth_;
    // The envelope is depth 1, the array 2, an item 3, its jsonDetails 4:
    // the same bound on jsonDetails' nesting as a single POST has.
    if (depth_ - 3 > kMaxDetailsDepth) {
      too_deep_ = true;
      return false;
    }
    return true;
  }

  bool Leave() {
    --depth_;
    if (depth_ == 2 && in_events_array_ && open_item_) {
      items_.back().end = stream_.Tell();  // the reader has consumed the '}'
      open_item_ = false;
    }
    if (depth_ == 1 && in_events_array_) in_events_array_ = false;
    return true;
  }

  rapidjson::InsituStringStream& stream_;
  const size_t max_events_;
  int depth_ = 0;
  bool in_events_member_ = false;
  bool in_events_array_ = false;
  bool seen_events_ = false;
  bool seen_array_ = false;
  bool in_sent_at_member_ = false;
  bool seen_sent_at_ = false;
  bool sent_at_is_string_ = false;
  std::string sent_at_;
  bool open_item_ = false;
  bool root_not_object_ = false;
  bool too_deep_ = false;
  bool too_many_ = false;
  std::vector<Item> items_;
  std::vector<FieldError> errors_;
};

BatchRequestParse Refuse(std::string detail, std::vector<FieldError> errors) {
  BatchRequestParse out;
  out.envelope_error = ValidationError{std::move(detail), std::move(errors)};
  return out;
}

}  // namespace

BatchRequestParse ParseBatchRequest(std::string_view body, size_t max_events) {
  if (const void* nul = std::memchr(body.data(), '\0', body.size())) {
    const size_t offset = static_cast<const char*>(nul) - body.data();
    return Refuse("The request body is not valid JSON.",
                  {{"", "malformed JSON at byte " + std::to_string(offset) + ": NUL byte"}});
  }
  if (const size_t bad = FindInvalidUtf8(body); bad != std::string_view::npos) {
    return Refuse("The request body is not valid JSON.",
                  {{"", "malformed JSON at byte " + std::to_string(bad) + ": invalid UTF-8"}});
  }
  // Parsed in place in a scratch copy (strings are decoded inside it); the
  // items are then cut from `body`, the client's own text. The spare bytes
  // keep RapidJSON's 16-byte loads inside the allocation.
  std::string text;
  text.reserve(body.size() + 16);
  text.assign(body);
  rapidjson::InsituStringStream stream(text.data());
  std::optional<BatchEnvelopeHandler> handler(std::in_place, stream, max_events);
  rapidjson::Reader reader;
  constexpr unsigned kFlags = rapidjson::kParseInsituFlag | rapidjson::kParseNumbersAsStringsFlag;
  rapidjson::ParseResult parsed = reader.Parse<kFlags>(stream, *handler);
  if (parsed.Code() == rapidjson::kParseErrorNumberTooBig) {
    text = DefuseJsonNumbers(body);  // same offsets, in-range numbers
    text.reserve(text.size() + 16);
    stream = rapidjson::InsituStringStream(text.data());
    handler.emplace(stream, max_events);
    parsed = reader.Parse<kFlags>(stream, *handler);
  }
  if (handler->root_not_object()) {
    return Refuse("The request body must be a JSON object.", {{"", "expected {\"events\": [ … ]}"}});
  }
  if (handler->too_many()) {
    BatchRequestParse out = Refuse("The batch holds more than " + std::to_string(max_events) + " events.",
                                   {{"events", "must hold at most " + std::to_string(max_events) + " events"}});
    out.too_many_events = true;
    return out;
  }
  if (handler->too_deep()) {
    return Refuse("The request body is nested too deeply.",
                  {{"events", "each jsonDetails must be nested at most 32 levels deep"}});
  }
  if (parsed.IsError()) {
    if (parsed.Code() == rapidjson::kParseErrorDocumentEmpty) {
      return Refuse("The request body is empty.", {{"", "expected {\"events\": [ … ]}"}});
    }
    return Refuse("The request body is not valid JSON.",
                  {{"", "malformed JSON at byte " + std::to_string(parsed.Offset()) + ": " +
                            rapidjson::GetParseError_En(parsed.Code())}});
  }
  std::vector<FieldError> errors = handler->errors();
  if (!handler->seen_events()) errors.push_back({"events", "is required"});
  if (errors.empty() && handler->items().empty()) errors.push_back({"events", "must hold at least one event"});
  std::optional<Instant> sent_at;
  if (const std::optional<std::string_view> text = handler->sent_at(); text && errors.empty()) {
    sent_at = ParseInstant(*text);
    if (!sent_at) errors.push_back({"sentAt", std::string(kInstantRule)});
  }
  if (!errors.empty()) return Refuse("The batch envelope failed validation.", std::move(errors));

  BatchRequestParse out;
  out.sent_at = sent_at;
  out.items.reserve(handler->items().size());
  EventRequestOptions options;
  options.allow_idempotency_key = true;
  options.allow_sent_at = false;  // the envelope's sentAt covers every item
  options.subject = "The event";
  for (const BatchEnvelopeHandler::Item& item : handler->items()) {
    if (!item.is_object) {
      EventRequestParse refused;
      refused.error = {"The event must be a JSON object.",
                       {{"", "expected a JSON object with userId, eventType and jsonDetails"}}};
      out.items.push_back(std::move(refused));
      continue;
    }
    out.items.push_back(ParseEventRequest(body.substr(item.begin, item.end - item.begin), options));
    if (out.items.back().request) out.items.back().request->times.sent_at = sent_at;
  }
  return out;
}

}  // namespace eventlogger
