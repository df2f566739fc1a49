// PostgreSQL implementation of MetadataStore, over libpq.
//
// A fixed-size pool of sessions, each with statement_timeout (and, when a
// schema is configured, search_path) set when it connects. A session found
// broken (the server restarted, the network dropped it) is closed and a new
// one is opened on next use, so the store recovers without a restart of
// eventlogger. Every statement comes from SqlDialect (storage/sql_dialect.h)
// and carries its values as parameters.
//
// Opening does not create anything: `eventlogger migrate` calls Migrate(),
// and `serve` calls CheckSchema() and refuses to start if it fails.
//
// Thread safety: the store is safe to use from any number of threads; each
// call borrows one pooled session for its duration.
#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <string_view>

#include "core/status.h"
#include "storage/metadata_store.h"

namespace eventlogger {

struct PostgresMetadataOptions {
  // A libpq connection URI (postgresql://user:pass@host:port/db?sslmode=…),
  // without our own parameters (see PostgresMetadataOptionsFromUrl).
  std::string url;
  int pool_size = 8;
  std::chrono::milliseconds statement_timeout{5000};  // 0: no limit
  std::chrono::milliseconds connect_timeout{5000};    // libpq rounds up to seconds (minimum 2)
  // Tables live in this schema (created by Migrate) instead of the
  // database's default search_path. Letters, digits and '_' only.
  std::string schema;
  // How long a call waits for a pooled session when all are busy before
  // failing with Unavailable.
  std::chrono::milliseconds pool_timeout{5000};
};

// Splits a metadata URL into options:
//   postgresql://user:pass@host:port/db?sslmode=require&pool_size=16
//       &statement_timeout_ms=3000&schema=name&pool_timeout_ms=2000
// (postgres:// works too). Our parameters are removed; everything else,
// such as sslmode or connect_timeout (seconds, also copied into
// connect_timeout), goes to libpq untouched. InvalidArgument, with the
// password redacted, for a malformed value.
Result<PostgresMetadataOptions> PostgresMetadataOptionsFromUrl(std::string_view url);

// Connects one session to check the URL and credentials; Unavailable if the
// server cannot be reached. Status messages never contain the password.
Result<std::unique_ptr<MetadataStore>> OpenPostgresMetadataStore(
    const PostgresMetadataOptions& options);

}  // namespace eventlogger
