#include "durability/reconciler.h"

#include <map>
#include <set>

#include "core/timestamp.h"

namespace eventlogger {

Result<ReconcileReport> Reconcile(MetadataStore& metadata, DocumentStore& documents, Outbox* outbox,
                                  const Clock& clock, const ReconcileOptions& options) {
  ReconcileReport report;
  // eventIds are 36 bytes; a set of ten million is well under a gigabyte.
  // Narrow the window with --since/--until/--user for more.
  std::set<std::string> metadata_ids;
  Status status = metadata.Scan(options.filter, [&](const EventMetadata& row) {
    metadata_ids.insert(row.event_id);
    return true;
  });
  if (!status.ok()) return status;
  report.metadata_events = static_cast<int64_t>(metadata_ids.size());

  std::map<std::string, Event> document_only;  // by eventId, with what rebuilds the metadata
  status = documents.Scan(options.filter, [&](const DocumentView& document) {
    ++report.document_events;
    const std::string event_id(document.event_id);
    if (metadata_ids.erase(event_id) == 0) {
      Event event;
      event.event_id = event_id;
      event.user_id = document.user_id;
      event.event_type = document.event_type;
      event.timestamp = document.timestamp;
      event.unix_millis = ParseTimestamp(event.timestamp).value_or(0);
      event.occurred_at = document.occurred_at;
      document_only.emplace(event_id, std::move(event));
    }
    return true;
  });
  if (!status.ok()) return status;
  // What is left in metadata_ids has no document.

  const auto in_outbox = [&](const std::string& event_id) -> Result<std::optional<OutboxEntry>> {
    if (outbox == nullptr) return std::optional<OutboxEntry>();
    return outbox->Find(event_id);
  };

  std::vector<const Event*> rebuild;
  for (auto& [event_id, event] : document_only) {
    Result<std::optional<OutboxEntry>> queued = in_outbox(event_id);
    if (!queued.ok()) return queued.status();
    if (queued->has_value() && (*queued)->state == OutboxState::kPending) {
      report.queued.push_back(event_id);
      continue;
    }
    report.document_only.push_back(event_id);
    rebuild.push_back(&event);
  }
  for (const std::string& event_id : metadata_ids) {
    Result<std::optional<OutboxEntry>> queued = in_outbox(event_id);
    if (!queued.ok()) return queued.status();
    if (!queued->has_value()) {
      report.metadata_only.push_back(event_id);
      continue;
    }
    report.queued.push_back(event_id);
    if (options.repair && (*queued)->state == OutboxState::kDead) {
      Result<int64_t> replayed = outbox->Replay(event_id, clock.NowUnixMillis());
      if (!replayed.ok()) return replayed.status();
      report.repaired += *replayed;
    }
  }

  if (options.repair && !rebuild.empty()) {
    if (Status s = metadata.WriteBatch(EventBatch(rebuild)); !s.ok()) return s;
    report.repaired += static_cast<int64_t>(rebuild.size());
  }
  return report;
}

}  // namespace eventlogger
