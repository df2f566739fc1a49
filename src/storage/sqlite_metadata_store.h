// SQLite implementation of MetadataStore: the embedded default.
//
// One file in WAL mode with synchronous=FULL, so a committed batch is on disk
// (one fsync per transaction, hence group commit). Writes go through one
// connection owned by the writer thread; reads open their own connection so
// they never wait behind a batch.
#pragma once

#include <memory>
#include <string>

#include "core/status.h"
#include "storage/metadata_store.h"

namespace eventlogger {

struct SqliteMetadataOptions {
  std::string path;             // database file; its directory must exist
  int busy_timeout_ms = 5000;   // wait this long for a lock held by another process
  // Keep the events_by_user_time index (user_id, timestamp, event_id). Off by
  // default: nothing on the request path reads metadata by user (GET is
  // answered from the document store), and the index dirties one random
  // B-tree page per event, which the benchmark measured at about 30% of the
  // POST throughput. Without it, by-user scans (reconcile --user) read the
  // whole table. Turning it off drops an existing index; turning it on
  // builds it. URL: sqlite:///path/metadata.db?user_index=on
  bool user_index = false;
};

// The schema version this build writes and expects (PRAGMA user_version).
// 2: api_keys; 3: events.occurred_at and received_at; 4: legal_holds and
// erasure_jobs. Opening a file of an older version upgrades it in place.
inline constexpr int kSqliteSchemaVersion = 4;

Result<std::unique_ptr<MetadataStore>> OpenSqliteMetadataStore(const SqliteMetadataOptions& options);

}  // namespace eventlogger
