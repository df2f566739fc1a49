// MetadataStore: where event metadata (eventId, userId, eventType,
// timestamp) lives, for analytics and compliance. The relational side of the
// design: SQLite embedded, PostgreSQL or SQL Server in deployments.
//
// Implementations are final classes in their own files, created by
// OpenMetadataStore (storage/store_factory.h). They know how to write a batch
// and read back; batching, threading and retries live outside them.
//
// Thread safety: WriteBatch is called from one writer thread at a time; the
// read methods may be called concurrently with it and with each other.
#pragma once

#include <functional>
#include <string>
#include <string_view>

#include "core/event.h"
#include "core/status.h"

namespace eventlogger {

struct EventMetadata {
  std::string event_id;
  std::string user_id;
  std::string event_type;
  std::string timestamp;
};

class MetadataStore {
 public:
  MetadataStore() = default;
  MetadataStore(const MetadataStore&) = delete;
  MetadataStore& operator=(const MetadataStore&) = delete;
  virtual ~MetadataStore() = default;

  // Durably stores every event of the batch in one transaction, or none.
  // Idempotent by eventId: an event already present is left as it is.
  virtual Status WriteBatch(EventBatch events) = 0;

  // Calls `visit` for each of the user's events, oldest first (ties by
  // eventId). Stops early, returning OK, if `visit` returns false.
  virtual Status ScanUser(std::string_view user_id,
                          const std::function<bool(const EventMetadata&)>& visit) = 0;

  // A short name for logs and metrics, e.g. "sqlite".
  virtual std::string_view Kind() const = 0;
};

}  // namespace eventlogger
