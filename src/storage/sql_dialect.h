// SqlDialect: every SQL statement the relational metadata stores run, per
// DBMS (PostgreSQL, Microsoft SQL Server), in one place.
//
// The stores (libpq in postgres_metadata_store.cc, ODBC in
// odbc_metadata_store.cc) only move statements and rows; what the SQL says,
// how a batch is encoded into parameters and how SQLSTATEs map to Status are
// decided here, so both stores behave the same and the T-SQL text, which
// cannot run in this environment, is unit-tested as text.
//
// Every value travels as a parameter (text; NULL as nullopt). The only
// things spliced into statement text are the schema name, which
// IsValidSqlIdentifier restricts to [A-Za-z_][A-Za-z0-9_]*, and constants.
//
// Thread safety: SqlDialect is immutable after construction; the free
// functions are pure. All are safe to use from any thread.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/event.h"
#include "core/status.h"
#include "storage/metadata_store.h"

namespace eventlogger {

enum class SqlDialectKind { kPostgres, kSqlServer };

// How parameters are written: "$1, $2" for libpq, "?" for ODBC.
enum class SqlParameterStyle { kDollarNumbered, kQuestionMark };

// The schema version this build writes and expects in eventlogger_schema.
// 1: events; 2: api_keys; 3: events.occurred_at and events.received_at;
// 4: legal_holds and erasure_jobs (with its two indexes).
inline constexpr int kSqlSchemaVersion = 4;

// A statement and the values of its parameters, in order (nullopt is NULL).
struct SqlStatement {
  std::string text;
  std::vector<std::optional<std::string>> parameters;
};

// The dialect for a DBMS as ODBC's SQLGetInfo(SQL_DBMS_NAME) names it
// ("PostgreSQL", "Microsoft SQL Server"); nullopt for anything else.
std::optional<SqlDialectKind> SqlDialectFromDbmsName(std::string_view dbms_name);

// True for names we splice into SQL as identifiers (the schema): 1-63 of
// [A-Za-z0-9_], not starting with a digit. Stricter than either DBMS so
// quoting can never be escaped.
bool IsValidSqlIdentifier(std::string_view name);

// The Status for a failed statement, from its SQLSTATE (PostgreSQL's codes,
// which psqlODBC passes through, plus ODBC's own such as HYT00 and 08S01).
// `message` must already be free of secrets. In one place so the libpq and
// ODBC stores agree:
//   57014 (statement timeout), HYT00, HYT01, HY008 → DeadlineExceeded
//   08xxx, 40001, 40P01, 53xxx, 55P03, 57P0x         → Unavailable
//   22xxx (bad input such as a malformed timestamp)  → InvalidArgument
//   23505, 23000 (a key already taken)               → AlreadyExists
//   42P01, 42S02, 3F000 (table or schema missing)    → FailedPrecondition
//   anything else                                    → Internal
Status SqlStateToStatus(std::string_view sqlstate, std::string message);

// True when the SQLSTATE says the connection itself is gone (08xxx, or the
// server shutting down: 57P01-57P03), so it must not be reused.
bool SqlStateMeansConnectionLost(std::string_view sqlstate);

// CheckSchema's verdict for the version found (nullopt: no version table or
// no row). `where` names the database for the message (no secrets).
Status SchemaVersionStatus(std::optional<int> version, std::string_view where);

// The row a statement's erasure-job columns describe (see SqlDialect);
// nullopt when there are not thirteen of them or a counter is no integer.
std::optional<ErasureJobRow> ErasureJobFromColumns(const std::vector<std::string_view>& columns);

// An integer column read as text (the deleted-row counts); nullopt when it
// is not one.
std::optional<int64_t> ParseSqlInteger(std::string_view text);

class SqlDialect {
 public:
  // `schema` empty means the DBMS default (search_path for PostgreSQL, dbo
  // for SQL Server). REQUIRES: schema is empty or IsValidSqlIdentifier.
  SqlDialect(SqlDialectKind kind, SqlParameterStyle style, std::string schema);

  SqlDialectKind kind() const { return kind_; }
  // "postgresql" or "sqlserver", for Kind() strings and logs.
  std::string_view name() const;
  const std::string& schema() const { return schema_; }

  // True when SessionSetup makes the server enforce the statement timeout
  // (PostgreSQL's statement_timeout); otherwise the client must (ODBC's
  // SQL_ATTR_QUERY_TIMEOUT, for SQL Server).
  bool has_server_statement_timeout() const { return kind_ == SqlDialectKind::kPostgres; }

  // Run once on every new connection, before anything else.
  std::vector<SqlStatement> SessionSetup(std::chrono::milliseconds statement_timeout) const;

  // One statement storing the whole batch, idempotently by eventId (an
  // event already stored, or repeated in the batch, is skipped; so is a
  // second event under an Idempotency-Key the user already used). A single
  // statement is a transaction of its own: all rows or none, one round trip.
  // REQUIRES: !events.empty().
  SqlStatement InsertBatch(EventBatch events) const;

  // Reads return eight text columns in EventMetadata order: event_id,
  // user_id, event_type, timestamp ("2025-06-29T14:32:45.123Z"),
  // idempotency_key, request_hash, occurred_at ('' for NULL) and received_at.
  SqlStatement ScanUser(std::string_view user_id) const;  // oldest first, ties by eventId
  SqlStatement Scan(const ScanFilter& filter) const;
  SqlStatement FindByIdempotencyKey(std::string_view user_id, std::string_view key) const;
  // By the primary key. REQUIRES: event_id parses as a UUID (the column's
  // type; anything else fails the statement as InvalidArgument).
  SqlStatement FindEvent(std::string_view user_id, std::string_view event_id) const;

  // API keys (MetadataStore says what each does). ListApiKeys returns seven
  // text columns in ApiKeyRow order ('' for NULL); RevokeApiKey returns the
  // key's id when the key exists, no row otherwise.
  SqlStatement InsertApiKey(const ApiKeyRow& row) const;
  SqlStatement ListApiKeys() const;
  SqlStatement RevokeApiKey(std::string_view id, std::string_view revoked_at) const;
  SqlStatement RecordApiKeyUse(std::string_view id, std::string_view used_at) const;

  // Privacy lifecycle (MetadataStore says what each does).
  //
  // EraseUserEvents and DeleteExpired each delete at most `limit` events in
  // one statement, so no call holds its locks for long, and return one row,
  // one column: how many they deleted. REQUIRES: limit > 0.
  SqlStatement EraseUserEvents(const UserErasure& erasure, int limit) const;
  SqlStatement DeleteExpired(const ExpiryRule& rule, int limit) const;
  SqlStatement PutLegalHold(const LegalHoldRow& row) const;
  // Returns the user's id when a hold was deleted, no row otherwise.
  SqlStatement DeleteLegalHold(std::string_view user_id) const;
  // Three text columns in LegalHoldRow order ('' for NULL), by user id
  // compared byte for byte (as SQLite does), whatever the collation.
  SqlStatement ListLegalHolds() const;
  // Erasure jobs are read as the thirteen text columns of ErasureJobRow,
  // in its order ('' for NULL); ErasureJobFromColumns turns them back into
  // a row. The id column is a uuid, like eventId: REQUIRES for Insert,
  // Update and Find that the id parses as one (anything else fails the
  // statement as InvalidArgument).
  SqlStatement InsertErasureJob(const ErasureJobRow& row) const;
  // Returns the job's id when it exists, no row otherwise.
  SqlStatement UpdateErasureJob(const ErasureJobRow& row) const;
  SqlStatement FindErasureJob(std::string_view id) const;
  // The jobs created at or after `created_since` plus every pending or
  // running one (MetadataStore::ListErasureJobs); every job when it is
  // empty. Oldest first, ties by id.
  SqlStatement ListErasureJobs(std::string_view created_since = {}) const;

  SqlStatement Ping() const;
  // One row, one column: the schema version, NULL when there is none. Fails
  // with an undefined-table SQLSTATE before the first migration.
  SqlStatement SchemaVersion() const;

  // Migrate runs, in ONE transaction: MigrateBegin() (the cross-process
  // migration lock, then the schema and version table if missing), then
  // SchemaVersion(), then MigrateUpgrade(version found) when it is behind.
  // Statements in a migration run without the statement timeout (index
  // builds can be long); `lock_timeout` bounds the waits for locks instead.
  std::vector<SqlStatement> MigrateBegin(std::chrono::milliseconds lock_timeout) const;
  // REQUIRES: from_version < kSqlSchemaVersion. Ends by recording the version.
  std::vector<SqlStatement> MigrateUpgrade(int from_version) const;

 private:
  // `table` qualified with the schema and quoted for this dialect.
  std::string Table(std::string_view table) const;
  // Turns the $n placeholders statements are written with into this
  // dialect's style.
  SqlStatement Make(std::string text, std::vector<std::optional<std::string>> parameters) const;
  std::string SelectColumns() const;
  // MigrateUpgrade's step to version 3: events.occurred_at and received_at,
  // the latter filled in for the rows already there.
  void AddEventTimeColumns(std::vector<SqlStatement>& statements) const;
  // MigrateUpgrade's step to version 4: legal_holds, and erasure_jobs with
  // its indexes erasure_jobs_by_created and erasure_jobs_unfinished.
  void AddPrivacyTables(std::vector<SqlStatement>& statements) const;
  std::string SelectErasureJobColumns() const;
  // Wraps a DELETE so that the statement returns how many rows it deleted,
  // as one row.
  std::string CountingDeletedRows(const std::string& delete_statement) const;
  // A text parameter read as a timestamp (ISO 8601 with 'Z').
  std::string TimestampParameter(std::string_view placeholder) const;

  SqlDialectKind kind_;
  SqlParameterStyle style_;
  std::string schema_;
};

// Exposed for tests.
namespace sql_internal {

// Rewrites $1, $2, … outside quotes and comments to "?". REQUIRES: each
// placeholder appears once, in increasing order (ODBC binds by position).
std::string DollarToQuestionMarks(std::string_view text);
// Counts parameter placeholders ($n or ?) outside literals and identifiers.
int CountPlaceholders(std::string_view text, SqlParameterStyle style);
// A PostgreSQL array literal of text elements: {"a","b\"c",NULL}.
std::string PostgresArrayLiteral(const std::vector<std::optional<std::string_view>>& elements);

}  // namespace sql_internal

}  // namespace eventlogger
