// EventReader: renders a user's events as the API's JSON, straight from the
// document store ("document-first"). Stored jsonDetails text is spliced into
// the response without being parsed again. A read cache, when it comes,
// wraps this class rather than living inside a backend.
//
// Thread safety: all methods may be called concurrently; they block on the
// document store, so callers run them off the io threads.
#pragma once

#include <atomic>
#include <cstdint>
#include <string>
#include <string_view>

#include "core/status.h"
#include "privacy/read_visibility.h"
#include "storage/document_store.h"
#include "storage/metadata_store.h"

namespace eventlogger {

// One page of a user's events, rendered.
struct EventPage {
  // `[{"userId":…,"eventId":…,"eventType":…,"timestamp":…,"jsonPayload":{…}}, …]`;
  // "[]" when the range holds none.
  std::string json;
  size_t count = 0;
  // Whether the range holds more events past this page; `last` is then the
  // key to resume after.
  bool more = false;
  DocumentKey last;
  // When the first of its events stops being visible (retention): a cached
  // copy of the page is stale from then on.
  int64_t visible_until_ms = ReadVisibility::kNever;
};

// Pages UserEventsPage read, by how: counters since start.
struct PageReadStats {
  int64_t in_memory = 0;  // with memory_only, answered
  int64_t blocking = 0;   // without it (the read could wait)
};

class EventReader {
 public:
  // `metadata` (optional) finds the timestamp of an event whose client gave
  // occurredAt, for EventJson: its eventId alone does not locate it.
  explicit EventReader(DocumentStore& documents, MetadataStore* metadata = nullptr)
      : documents_(documents), metadata_(metadata) {}

  // Up to `limit` (>= 1) of the user's events that `range` covers, in its
  // order. Reads one document past the page to know whether more exist, so
  // a range that ends exactly on a page boundary has no empty last page.
  // Documents `visibility` hides are skipped as if absent (they do not
  // count towards the page, nor announce more). With range.memory_only
  // (when ReadsFromMemory()), kWouldBlock if the page is not all in memory.
  Result<EventPage> UserEventsPage(std::string_view user_id, UserRangeQuery range, size_t limit,
                                   const ReadVisibility& visibility = {}) const;

  // One event as a JSON object; NotFound if the user has no such event.
  // Found by its eventId's time in one read; an event stored under another
  // timestamp (a client's occurredAt) takes a metadata lookup first.
  // NotFound too when `visibility` hides it.
  Result<std::string> EventJson(std::string_view user_id, std::string_view event_id,
                                const ReadVisibility& visibility = {}) const;

  // Whether a page may be tried from memory first (UserRangeQuery::memory_only).
  bool ReadsFromMemory() const { return documents_.ReadsFromMemory(); }

  PageReadStats page_read_stats() const {
    return {pages_in_memory_.load(std::memory_order_relaxed), pages_blocking_.load(std::memory_order_relaxed)};
  }

 private:
  DocumentStore& documents_;
  MetadataStore* metadata_;
  mutable std::atomic<int64_t> pages_in_memory_{0};
  mutable std::atomic<int64_t> pages_blocking_{0};
};

// Appends one document as the API's event object.
void AppendEventJson(std::string& out, const DocumentView& document);

}  // namespace eventlogger
