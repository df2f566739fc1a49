// GET /events/{userId} query strings and page cursors: the query parser
// must accept or refuse without crashing, and a cursor must open only when
// it is one the secret sealed, and then seal back to the same text.
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "http/event_list_query.h"
#include "http/page_cursor.h"
#include "http/query_string.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  (void)eventlogger::http::ParseQueryString(text);
  eventlogger::http::EventListQuery query;
  if (!eventlogger::http::ParseEventListQuery(text, &query)) {
    if (query.limit < 1 || query.limit > 1000) std::abort();
  }
  static const eventlogger::http::PageCursors cursors("fuzzing cursor secret");
  const std::string binding = query.CursorBinding("user");
  if (const auto key = cursors.Open(text, binding)) {
    if (cursors.Seal(*key, binding) != text) std::abort();
  }
  return 0;
}
