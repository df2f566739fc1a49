// ODBC implementation of MetadataStore (unixODBC), for PostgreSQL (psqlODBC)
// and Microsoft SQL Server (Microsoft's ODBC driver).
//
// The SQL dialect is chosen from the DBMS the first connection reports
// (SQLGetInfo SQL_DBMS_NAME); all statements come from SqlDialect
// (storage/sql_dialect.h), with values bound as UTF-16 parameters so
// non-ASCII text survives any driver and nvarchar columns. Otherwise it
// behaves as the libpq store: a fixed-size pool of connections opened on
// demand, each set up once (statement timeout, schema); a connection found
// dead is dropped and replaced on next use, so the store recovers from a
// server restart; each batch is one statement, hence one transaction.
// The statement timeout is enforced by the server where it can be
// (PostgreSQL's statement_timeout), else by the driver (SQL_ATTR_QUERY_TIMEOUT,
// whole seconds).
//
// Opening does not create anything; Migrate() does, CheckSchema() checks.
//
// Thread safety: the store is safe to use from any number of threads; each
// call borrows one pooled connection for its duration.
#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <string_view>

#include "core/status.h"
#include "storage/metadata_store.h"

namespace eventlogger {

struct OdbcMetadataOptions {
  // An ODBC connection string: "DSN=name;UID=…;PWD=…;" or
  // "Driver={PostgreSQL Unicode};Server=…;Port=…;Database=…;Uid=…;".
  std::string connection_string;
  int pool_size = 8;
  std::chrono::milliseconds statement_timeout{5000};  // 0: no limit
  std::chrono::milliseconds connect_timeout{5000};    // SQL_ATTR_LOGIN_TIMEOUT, whole seconds
  std::string schema;  // as PostgresMetadataOptions::schema; dbo when empty on SQL Server
  std::chrono::milliseconds pool_timeout{5000};
};

// Splits "odbc:<connection string>" into options. Our own attributes
// (pool_size, statement_timeout_ms, connect_timeout_ms, pool_timeout_ms,
// schema; case-insensitive) are removed; the rest goes to the driver
// manager untouched. InvalidArgument, with passwords redacted, for a
// malformed string or value.
Result<OdbcMetadataOptions> OdbcMetadataOptionsFromUrl(std::string_view url);

// The connection string (or "odbc:" URL) with PWD/Password values replaced
// by "***", for logs and messages; RedactUrl only knows scheme:// URLs.
std::string RedactOdbcConnectionString(std::string_view text);

// Connects once to pick the dialect and check the credentials: Unavailable
// if the server cannot be reached, InvalidArgument for an unknown DSN or
// driver or a DBMS other than PostgreSQL and SQL Server. Kind() is
// "odbc-postgresql" or "odbc-sqlserver".
Result<std::unique_ptr<MetadataStore>> OpenOdbcMetadataStore(const OdbcMetadataOptions& options);

}  // namespace eventlogger
