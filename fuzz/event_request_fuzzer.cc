// POST /events bodies: ParseEventRequest must never crash, and whatever it
// accepts must satisfy the rules it enforces.
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "core/event_request.h"
#include "core/validation.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view body(reinterpret_cast<const char*>(data), size);
  const eventlogger::EventRequestParse parse = eventlogger::ParseEventRequest(body);
  if (parse.request) {
    if (!eventlogger::CheckUserId(parse.request->user_id).empty()) std::abort();
    if (!eventlogger::CheckEventType(parse.request->event_type).empty()) std::abort();
    if (!eventlogger::IsValidUtf8(parse.request->details_json)) std::abort();
  } else if (parse.error.errors.empty()) {
    std::abort();  // a refusal always says why
  }
  return 0;
}
