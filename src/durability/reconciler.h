// Reconciler: compares the two stores by eventId and reports (and, asked to,
// repairs) events present in only one of them.
//
// - Document without metadata: the document holds every metadata field, so
//   the metadata row is rebuilt from it.
// - Metadata without document: the JSON details exist only in the document,
//   so this is unrecoverable unless the outbox still holds the event (pending
//   or dead): then it is (re)queued for the retry worker.
// Events still pending in the outbox are in-flight by design, not
// inconsistencies; they are counted apart.
//
// Thread safety: one Reconcile call at a time per instance; the stores may
// be in use by a running service (PostgreSQL, DynamoDB).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/clock.h"
#include "core/status.h"
#include "durability/outbox.h"
#include "storage/document_store.h"
#include "storage/metadata_store.h"

namespace eventlogger {

struct ReconcileOptions {
  ScanFilter filter;   // user / time window to compare
  bool repair = false; // fix what can be fixed
};

struct ReconcileReport {
  int64_t metadata_events = 0;             // events seen in the metadata store
  int64_t document_events = 0;             // events seen in the document store
  std::vector<std::string> document_only;  // eventIds missing their metadata
  std::vector<std::string> metadata_only;  // eventIds missing their document, not queued
  std::vector<std::string> queued;         // one store only, but the outbox holds them
  int64_t repaired = 0;                    // metadata rows rebuilt + outbox entries requeued
};

Result<ReconcileReport> Reconcile(MetadataStore& metadata, DocumentStore& documents, Outbox* outbox,
                                  const Clock& clock, const ReconcileOptions& options);

}  // namespace eventlogger
