// POST /events/batch bodies: ParseBatchRequest must never crash; a refused
// envelope says why, and every item it accepts satisfies the single POST's
// rules.
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "core/batch_request.h"
#include "core/validation.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view body(reinterpret_cast<const char*>(data), size);
  constexpr size_t kMaxEvents = 8;
  const eventlogger::BatchRequestParse parse = eventlogger::ParseBatchRequest(body, kMaxEvents);
  if (parse.envelope_error) {
    if (parse.envelope_error->errors.empty() || !parse.items.empty()) std::abort();
    return 0;
  }
  if (parse.items.empty() || parse.items.size() > kMaxEvents) std::abort();
  for (const eventlogger::EventRequestParse& item : parse.items) {
    if (item.request) {
      if (!eventlogger::CheckUserId(item.request->user_id).empty()) std::abort();
      if (!eventlogger::CheckEventType(item.request->event_type).empty()) std::abort();
      if (!eventlogger::IsValidUtf8(item.request->details_json)) std::abort();
    } else if (item.error.errors.empty()) {
      std::abort();
    }
  }
  return 0;
}
