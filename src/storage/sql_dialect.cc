#include "storage/sql_dialect.h"

#include <cctype>
#include <charconv>
#include <iterator>
#include <string_view>
#include <unordered_set>
#include <utility>

#include "core/event_time.h"
#include "core/json_output.h"

namespace eventlogger {
namespace {

constexpr std::string_view kPostgresDbmsName = "PostgreSQL";
constexpr std::string_view kSqlServerDbmsName = "Microsoft SQL Server";

// User ids and idempotency keys compare byte for byte in PostgreSQL; SQL
// Server's default collations are case- and accent-insensitive, which would
// merge "Alice" and "alice". A binary collation keeps them apart.
constexpr std::string_view kSqlServerBinaryCollation = "Latin1_General_100_BIN2";

bool StartsWith(std::string_view text, std::string_view prefix) {
  return text.substr(0, prefix.size()) == prefix;
}

// Walks SQL text, calling `on_code` for each character outside string
// literals, quoted identifiers ("x" and T-SQL's [x]; PostgreSQL's "uuid[]"
// reads as an empty one, harmlessly) and comments. `on_code` returns where to
// continue. Enough for the statements in this file (no dollar quoting, no
// E'' strings, no array subscripts).
template <typename OnCode>
void ForEachCodeChar(std::string_view text, OnCode on_code) {
  size_t i = 0;
  while (i < text.size()) {
    const char c = text[i];
    if (c == '\'' || c == '"' || c == '[') {
      const char close = c == '[' ? ']' : c;
      ++i;
      while (i < text.size()) {
        if (text[i] == close) {
          // A doubled closing character is an escaped one inside the quotes.
          if (i + 1 < text.size() && text[i + 1] == close) {
            i += 2;
            continue;
          }
          break;
        }
        ++i;
      }
      ++i;
    } else if (c == '-' && i + 1 < text.size() && text[i + 1] == '-') {
      while (i < text.size() && text[i] != '\n') ++i;
    } else if (c == '/' && i + 1 < text.size() && text[i + 1] == '*') {
      const size_t end = text.find("*/", i + 2);
      i = end == std::string_view::npos ? text.size() : end + 2;
    } else {
      i = on_code(i);
    }
  }
}

std::optional<std::string_view> NullIfEmpty(const std::string& text) {
  if (text.empty()) return std::nullopt;
  return std::string_view(text);
}

// ---- PostgreSQL -----------------------------------------------------------

// The API's timestamp text, from a timestamptz, whatever the session's
// TimeZone: AT TIME ZONE 'UTC' gives the UTC wall clock, formatted with
// exactly three fractional digits and a literal Z.
constexpr std::string_view kPostgresTimestampText =
    "to_char(\"timestamp\" AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"')";

// The same for any timestamptz column; '' for NULL.
std::string PostgresTimeText(std::string_view column) {
  return "COALESCE(to_char(" + std::string(column) +
         " AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"'), '')";
}

// received_at, or the timestamp where it is NULL: a row written before
// schema version 3, or after the migration by an instance still running an
// older build (a rolling upgrade), has none, and such an event was timed by
// the server, so its timestamp is when it was received.
std::string PostgresReceivedAtText() { return PostgresTimeText("COALESCE(received_at, \"timestamp\")"); }

std::string PostgresQuote(std::string_view identifier) {
  return "\"" + std::string(identifier) + "\"";
}

// ---- SQL Server -----------------------------------------------------------

// CONVERT style 121 always prints the three fractional digits of a
// datetime2(3) ("2025-06-29 14:32:45.123"), unlike style 126, which drops a
// zero fraction; the space becomes the 'T'.
constexpr std::string_view kSqlServerTimestampText =
    "CONCAT(REPLACE(CONVERT(char(23), [timestamp], 121), ' ', 'T'), 'Z')";

// The same for any datetime2(3) column; N'' for NULL ('+' yields NULL on
// NULL, unlike CONCAT).
std::string SqlServerTimeText(std::string_view column) {
  return "COALESCE(REPLACE(CONVERT(char(23), " + std::string(column) + ", 121), ' ', 'T') + 'Z', N'')";
}

// As PostgresReceivedAtText.
std::string SqlServerReceivedAtText() { return SqlServerTimeText("COALESCE(received_at, [timestamp])"); }

// The batch as one JSON array for OPENJSON: SQL Server has no array
// parameters, and one nvarchar(max) parameter keeps the batch to one round
// trip whatever its size (a VALUES list would hit the 2,100-parameter limit at
// 350 events). Repeats within the batch are dropped here because NOT EXISTS
// only sees rows stored before the statement.
std::string SqlServerBatchJson(EventBatch events) {
  std::unordered_set<std::string_view> ids;
  std::unordered_set<std::string> keys;
  std::string json = "[";
  for (const Event* event : events) {
    if (!ids.insert(event->event_id).second) continue;
    if (!event->idempotency_key.empty()) {
      // user_id has no NUL (validated), so it separates the pair unambiguously.
      if (!keys.insert(event->user_id + '\0' + event->idempotency_key).second) continue;
    }
    if (json.size() > 1) json += ',';
    const auto field = [&json](std::string_view name, const std::string& value, bool nullable) {
      json += '"';
      json += name;
      json += "\":";
      if (nullable && value.empty()) {
        json += "null";
      } else {
        AppendJsonString(json, value);
      }
    };
    json += '{';
    field("i", event->event_id, false);
    json += ',';
    field("u", event->user_id, false);
    json += ',';
    field("t", event->event_type, false);
    json += ',';
    field("s", event->timestamp, false);
    json += ',';
    field("k", event->idempotency_key, true);
    json += ',';
    field("h", event->request_hash, true);
    json += ',';
    field("o", event->occurred_at, true);
    json += ',';
    field("r", ReceivedAtOf(event->event_id, event->timestamp), false);
    json += '}';
  }
  json += ']';
  return json;
}

// A list of strings as one JSON array for OPENJSON (SQL Server has no
// array parameters; see SqlServerBatchJson).
std::string SqlServerJsonArray(const std::vector<std::string>& values) {
  std::string json = "[";
  for (const std::string& value : values) {
    if (json.size() > 1) json += ',';
    AppendJsonString(json, value);
  }
  json += ']';
  return json;
}

std::optional<std::string> NullIfEmptyCopy(const std::string& text) {
  if (text.empty()) return std::nullopt;
  return text;
}

}  // namespace

namespace sql_internal {

std::string DollarToQuestionMarks(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  size_t copied = 0;
  ForEachCodeChar(text, [&](size_t i) {
    if (text[i] != '$' || i + 1 >= text.size() ||
        !std::isdigit(static_cast<unsigned char>(text[i + 1]))) {
      return i + 1;
    }
    size_t end = i + 1;
    while (end < text.size() && std::isdigit(static_cast<unsigned char>(text[end]))) ++end;
    out.append(text.substr(copied, i - copied));
    out += '?';
    copied = end;
    return end;
  });
  out.append(text.substr(copied));
  return out;
}

int CountPlaceholders(std::string_view text, SqlParameterStyle style) {
  int count = 0;
  ForEachCodeChar(text, [&](size_t i) {
    if (style == SqlParameterStyle::kQuestionMark) {
      if (text[i] == '?') ++count;
      return i + 1;
    }
    if (text[i] == '$' && i + 1 < text.size() &&
        std::isdigit(static_cast<unsigned char>(text[i + 1]))) {
      ++count;
      size_t end = i + 1;
      while (end < text.size() && std::isdigit(static_cast<unsigned char>(text[end]))) ++end;
      return end;
    }
    return i + 1;
  });
  return count;
}

std::string PostgresArrayLiteral(const std::vector<std::optional<std::string_view>>& elements) {
  std::string out = "{";
  for (size_t i = 0; i < elements.size(); ++i) {
    if (i > 0) out += ',';
    if (!elements[i]) {
      out += "NULL";
      continue;
    }
    // Always quoted, so commas, braces, spaces and the word NULL stay text.
    out += '"';
    for (char c : *elements[i]) {
      if (c == '"' || c == '\\') out += '\\';
      out += c;
    }
    out += '"';
  }
  out += '}';
  return out;
}

}  // namespace sql_internal

std::optional<SqlDialectKind> SqlDialectFromDbmsName(std::string_view dbms_name) {
  if (dbms_name == kPostgresDbmsName) return SqlDialectKind::kPostgres;
  if (dbms_name == kSqlServerDbmsName) return SqlDialectKind::kSqlServer;
  return std::nullopt;
}

bool IsValidSqlIdentifier(std::string_view name) {
  if (name.empty() || name.size() > 63) return false;
  if (std::isdigit(static_cast<unsigned char>(name[0]))) return false;
  for (char c : name) {
    const bool ok =
        (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
    if (!ok) return false;
  }
  return true;
}

bool SqlStateMeansConnectionLost(std::string_view sqlstate) {
  return StartsWith(sqlstate, "08") || sqlstate == "57P01" || sqlstate == "57P02" ||
         sqlstate == "57P03";
}

Status SqlStateToStatus(std::string_view sqlstate, std::string message) {
  if (!sqlstate.empty()) {
    message += " [SQLSTATE ";
    message += sqlstate;
    message += "]";
  }
  if (sqlstate == "57014" || sqlstate == "HYT00" || sqlstate == "HYT01" || sqlstate == "HY008") {
    return Status::DeadlineExceeded(std::move(message));
  }
  if (SqlStateMeansConnectionLost(sqlstate) || StartsWith(sqlstate, "57P") ||
      StartsWith(sqlstate, "53") || sqlstate == "40001" || sqlstate == "40P01" ||
      sqlstate == "55P03") {
    return Status::Unavailable(std::move(message));
  }
  if (StartsWith(sqlstate, "22")) return Status::InvalidArgument(std::move(message));
  // 23505: PostgreSQL's unique violation; 23000: SQL Server's (and ODBC's
  // generic integrity violation). The schema's only constraints are keys.
  if (sqlstate == "23505" || sqlstate == "23000") return Status::AlreadyExists(std::move(message));
  if (sqlstate == "42P01" || sqlstate == "42S02" || sqlstate == "3F000") {
    message += "; is the schema migrated? run `eventlogger migrate`";
    return Status::FailedPrecondition(std::move(message));
  }
  return Status::Internal(std::move(message));
}

Status SchemaVersionStatus(std::optional<int> version, std::string_view where) {
  const std::string expected = std::to_string(kSqlSchemaVersion);
  if (!version) {
    return Status::FailedPrecondition(std::string(where) +
                                      " has no eventlogger schema; run `eventlogger migrate` "
                                      "against it before serving");
  }
  if (*version < kSqlSchemaVersion) {
    return Status::FailedPrecondition(std::string(where) + " has schema version " +
                                      std::to_string(*version) + ", older than this build's " +
                                      expected + "; run `eventlogger migrate`");
  }
  if (*version > kSqlSchemaVersion) {
    return Status::FailedPrecondition(
        std::string(where) + " has schema version " + std::to_string(*version) +
        ", newer than this build's " + expected +
        "; a newer eventlogger migrated it, so run that version (do not run `eventlogger "
        "migrate` from this one)");
  }
  return Status::Ok();
}

std::optional<int64_t> ParseSqlInteger(std::string_view text) {
  int64_t value = 0;
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (text.empty() || error != std::errc() || end != text.data() + text.size()) return std::nullopt;
  return value;
}

std::optional<ErasureJobRow> ErasureJobFromColumns(const std::vector<std::string_view>& columns) {
  if (columns.size() != 13) return std::nullopt;
  ErasureJobRow row;
  row.id = columns[0];
  row.user_id = columns[1];
  row.state = columns[2];
  row.received_cutoff = columns[3];
  row.created_at = columns[4];
  row.started_at = columns[5];
  row.finished_at = columns[6];
  int64_t* const counters[] = {&row.metadata_erased, &row.documents_erased, &row.outbox_erased,
                               &row.dead_letters_erased};
  for (size_t i = 0; i < std::size(counters); ++i) {
    const std::optional<int64_t> value = ParseSqlInteger(columns[7 + i]);
    if (!value) return std::nullopt;
    *counters[i] = *value;
  }
  row.receipt = columns[11];
  row.error = columns[12];
  return row;
}

SqlDialect::SqlDialect(SqlDialectKind kind, SqlParameterStyle style, std::string schema)
    : kind_(kind),
      // ODBC is the only way to SQL Server, and ODBC binds by position.
      style_(kind == SqlDialectKind::kSqlServer ? SqlParameterStyle::kQuestionMark : style),
      schema_(std::move(schema)) {}

std::string_view SqlDialect::name() const {
  return kind_ == SqlDialectKind::kPostgres ? "postgresql" : "sqlserver";
}

std::string SqlDialect::Table(std::string_view table) const {
  if (kind_ == SqlDialectKind::kPostgres) {
    // Qualified even though sessions also set search_path: a statement then
    // means the same table whatever a pooler or an operator did to the path.
    return schema_.empty() ? std::string(table) : PostgresQuote(schema_) + "." + std::string(table);
  }
  return "[" + (schema_.empty() ? std::string("dbo") : schema_) + "].[" + std::string(table) + "]";
}

SqlStatement SqlDialect::Make(std::string text,
                              std::vector<std::optional<std::string>> parameters) const {
  if (style_ == SqlParameterStyle::kQuestionMark) text = sql_internal::DollarToQuestionMarks(text);
  return SqlStatement{std::move(text), std::move(parameters)};
}

std::string SqlDialect::SelectColumns() const {
  if (kind_ == SqlDialectKind::kPostgres) {
    return "SELECT event_id::text, user_id, event_type, " + std::string(kPostgresTimestampText) +
           ", COALESCE(idempotency_key, ''), COALESCE(request_hash, ''), " +
           PostgresTimeText("occurred_at") + ", " + PostgresReceivedAtText() + " FROM " + Table("events");
  }
  return "SELECT LOWER(CONVERT(char(36), event_id)), user_id, event_type, " +
         std::string(kSqlServerTimestampText) +
         ", COALESCE(idempotency_key, N''), COALESCE(request_hash, N''), " +
         SqlServerTimeText("occurred_at") + ", " + SqlServerReceivedAtText() + " FROM " + Table("events");
}

std::vector<SqlStatement> SqlDialect::SessionSetup(
    std::chrono::milliseconds statement_timeout) const {
  if (kind_ == SqlDialectKind::kSqlServer) {
    // XACT_ABORT: any error rolls the whole transaction back instead of
    // leaving it half done and open. NOCOUNT: no "rows affected" results
    // between a batch's statements, so its errors surface in order. SQL
    // Server has no server-side statement timeout; the ODBC store sets
    // SQL_ATTR_QUERY_TIMEOUT on each statement instead.
    return {Make("SET XACT_ABORT ON; SET NOCOUNT ON;", {})};
  }
  // set_config takes the values as parameters, unlike SET.
  const std::string timeout = std::to_string(statement_timeout.count());
  if (schema_.empty()) {
    return {Make("SELECT set_config('statement_timeout', $1, false)", {timeout})};
  }
  return {
      Make("SELECT set_config('statement_timeout', $1, false), "
           "set_config('search_path', $2, false)",
           {timeout, PostgresQuote(schema_)})};
}

SqlStatement SqlDialect::InsertBatch(EventBatch events) const {
  if (kind_ == SqlDialectKind::kSqlServer) {
    const std::string events_table = Table("events");
    return Make("INSERT INTO " + events_table +
                    " (event_id, user_id, event_type, [timestamp], idempotency_key, request_hash, "
                    "occurred_at, received_at) "
                    "SELECT v.event_id, v.user_id, v.event_type, CONVERT(datetime2(3), "
                    "v.[timestamp], 127), "
                    "v.idempotency_key, v.request_hash, CONVERT(datetime2(3), v.occurred_at, 127), "
                    "CONVERT(datetime2(3), v.received_at, 127) "
                    "FROM OPENJSON(?) WITH ("
                    "event_id uniqueidentifier '$.i', "
                    "user_id nvarchar(128) '$.u', "
                    "event_type nvarchar(64) '$.t', "
                    "[timestamp] nvarchar(30) '$.s', "
                    "idempotency_key nvarchar(255) '$.k', "
                    "request_hash nvarchar(128) '$.h', "
                    "occurred_at nvarchar(30) '$.o', "
                    "received_at nvarchar(30) '$.r') AS v "
                    // UPDLOCK, HOLDLOCK: range locks, so two writers racing on one
                    // eventId serialize here instead of failing on the primary key.
                    "WHERE NOT EXISTS (SELECT 1 FROM " +
                    events_table +
                    " AS e WITH (UPDLOCK, HOLDLOCK) WHERE e.event_id = v.event_id) "
                    "AND (v.idempotency_key IS NULL OR NOT EXISTS (SELECT 1 FROM " +
                    events_table +
                    " AS e WITH (UPDLOCK, HOLDLOCK) WHERE e.user_id = v.user_id "
                    "AND e.idempotency_key = v.idempotency_key))",
                {SqlServerBatchJson(events)});
  }
  // Eight arrays, one per column, unnested into rows: one statement and a
  // fixed parameter count whatever the batch size. ON CONFLICT DO NOTHING
  // without a target skips rows clashing on any unique index (eventId, or an
  // Idempotency-Key already taken), also within the batch.
  std::vector<std::string> received_at;  // the array below views these
  received_at.reserve(events.size());
  for (const Event* event : events) received_at.push_back(ReceivedAtOf(event->event_id, event->timestamp));
  std::vector<std::optional<std::string_view>> columns[8];
  for (auto& column : columns) column.reserve(events.size());
  for (size_t i = 0; i < events.size(); ++i) {
    const Event* event = events[i];
    columns[0].emplace_back(event->event_id);
    columns[1].emplace_back(event->user_id);
    columns[2].emplace_back(event->event_type);
    columns[3].emplace_back(event->timestamp);
    columns[4].push_back(NullIfEmpty(event->idempotency_key));
    columns[5].push_back(NullIfEmpty(event->request_hash));
    columns[6].push_back(NullIfEmpty(event->occurred_at));
    columns[7].emplace_back(received_at[i]);
  }
  std::vector<std::optional<std::string>> parameters;
  for (const auto& column : columns)
    parameters.emplace_back(sql_internal::PostgresArrayLiteral(column));
  return Make(
      "INSERT INTO " + Table("events") +
          " (event_id, user_id, event_type, \"timestamp\", idempotency_key, request_hash, "
          "occurred_at, received_at) "
          "SELECT * FROM unnest(CAST($1 AS uuid[]), CAST($2 AS text[]), CAST($3 AS text[]), "
          "CAST($4 AS timestamptz[]), CAST($5 AS text[]), CAST($6 AS text[]), "
          "CAST($7 AS timestamptz[]), CAST($8 AS timestamptz[])) "
          "ON CONFLICT DO NOTHING",
      std::move(parameters));
}

SqlStatement SqlDialect::ScanUser(std::string_view user_id) const {
  if (kind_ == SqlDialectKind::kSqlServer) {
    // uniqueidentifier sorts by its last bytes first, not as text; the
    // promise is text order of eventIds, so ties sort on the text form.
    return Make(SelectColumns() +
                    " WHERE user_id = ? ORDER BY [timestamp], CONVERT(char(36), "
                    "event_id) COLLATE " +
                    std::string(kSqlServerBinaryCollation),
                {std::string(user_id)});
  }
  // uuid compares bytewise, which is the text order of the lowercase form.
  return Make(SelectColumns() + " WHERE user_id = $1 ORDER BY \"timestamp\", event_id",
              {std::string(user_id)});
}

SqlStatement SqlDialect::Scan(const ScanFilter& filter) const {
  const bool postgres = kind_ == SqlDialectKind::kPostgres;
  const std::string timestamp_column = postgres ? "\"timestamp\"" : "[timestamp]";
  std::string text = SelectColumns() + " WHERE 1 = 1";
  std::vector<std::optional<std::string>> parameters;
  const auto add = [&](const std::string& value, const std::string& condition_prefix,
                       bool is_timestamp) {
    if (value.empty()) return;
    parameters.emplace_back(value);
    const std::string placeholder = "$" + std::to_string(parameters.size());
    text += " AND " + condition_prefix;
    if (!is_timestamp) {
      text += placeholder;
    } else if (postgres) {
      text += "CAST(" + placeholder + " AS timestamptz)";
    } else {
      text += "CONVERT(datetime2(3), " + placeholder + ", 127)";
    }
  };
  add(filter.user_id, "user_id = ", false);
  add(filter.since, timestamp_column + " >= ", true);
  add(filter.until, timestamp_column + " < ", true);
  return Make(std::move(text), std::move(parameters));
}

SqlStatement SqlDialect::FindByIdempotencyKey(std::string_view user_id,
                                              std::string_view key) const {
  return Make(SelectColumns() + " WHERE user_id = $1 AND idempotency_key = $2",
              {std::string(user_id), std::string(key)});
}

SqlStatement SqlDialect::FindEvent(std::string_view user_id, std::string_view event_id) const {
  // The primary key finds the row; the user check keeps one user from
  // reading another's event by its id.
  const std::string id = kind_ == SqlDialectKind::kPostgres ? "CAST($1 AS uuid)" : "CONVERT(uniqueidentifier, $1)";
  return Make(SelectColumns() + " WHERE event_id = " + id + " AND user_id = $2",
              {std::string(event_id), std::string(user_id)});
}

std::string SqlDialect::TimestampParameter(std::string_view placeholder) const {
  if (kind_ == SqlDialectKind::kPostgres) return "CAST(" + std::string(placeholder) + " AS timestamptz)";
  return "CONVERT(datetime2(3), " + std::string(placeholder) + ", 127)";
}

SqlStatement SqlDialect::InsertApiKey(const ApiKeyRow& row) const {
  return Make("INSERT INTO " + Table("api_keys") +
                  " (key_id, name, scopes, secret_digest, created_at) VALUES ($1, $2, $3, $4, " +
                  TimestampParameter("$5") + ")",
              {row.id, row.name, row.scopes, row.secret_digest, row.created_at});
}

SqlStatement SqlDialect::ListApiKeys() const {
  const bool pg = kind_ == SqlDialectKind::kPostgres;
  const auto time = [pg](std::string_view column) {
    return pg ? PostgresTimeText(column) : SqlServerTimeText(column);
  };
  return Make("SELECT key_id, name, scopes, secret_digest, " + time("created_at") + ", " +
                  time("last_used_at") + ", " + time("revoked_at") + " FROM " + Table("api_keys") +
                  " ORDER BY created_at, key_id",
              {});
}

SqlStatement SqlDialect::RevokeApiKey(std::string_view id, std::string_view revoked_at) const {
  // Returns the key's id when it exists, so a missing key is told apart
  // from one already revoked.
  const std::string set =
      "UPDATE " + Table("api_keys") + " SET revoked_at = COALESCE(revoked_at, " + TimestampParameter("$1") + ")";
  if (kind_ == SqlDialectKind::kPostgres) {
    return Make(set + " WHERE key_id = $2 RETURNING key_id", {std::string(revoked_at), std::string(id)});
  }
  return Make(set + " OUTPUT inserted.key_id WHERE key_id = $2", {std::string(revoked_at), std::string(id)});
}

SqlStatement SqlDialect::RecordApiKeyUse(std::string_view id, std::string_view used_at) const {
  return Make("UPDATE " + Table("api_keys") + " SET last_used_at = " + TimestampParameter("$1") +
                  " WHERE key_id = $2 AND (last_used_at IS NULL OR last_used_at < " + TimestampParameter("$3") +
                  ")",
              {std::string(used_at), std::string(id), std::string(used_at)});
}

std::string SqlDialect::CountingDeletedRows(const std::string& delete_statement) const {
  if (kind_ == SqlDialectKind::kPostgres) {
    return "WITH deleted AS (" + delete_statement + " RETURNING 1) SELECT count(*) FROM deleted";
  }
  // NOCOUNT (SessionSetup) hides the DELETE's own count from the client,
  // not from @@ROWCOUNT.
  return delete_statement + "; SELECT @@ROWCOUNT;";
}

SqlStatement SqlDialect::EraseUserEvents(const UserErasure& erasure, int limit) const {
  // received_at is NULL on rows stored before schema version 3 (see
  // PostgresReceivedAtText); their timestamp is when they were received.
  if (kind_ == SqlDialectKind::kSqlServer) {
    return Make(CountingDeletedRows("DELETE TOP (CAST($1 AS int)) FROM " + Table("events") +
                                    " WHERE user_id = $2 AND COALESCE(received_at, [timestamp]) <= " +
                                    TimestampParameter("$3")),
                {std::to_string(limit), erasure.user_id, erasure.received_cutoff});
  }
  // PostgreSQL's DELETE has no LIMIT: the bound goes on a subselect of
  // primary keys, which the user's index (user_id, timestamp, event_id) answers.
  const std::string events = Table("events");
  return Make(CountingDeletedRows("DELETE FROM " + events + " WHERE event_id IN (SELECT event_id FROM " + events +
                                  " WHERE user_id = $1 AND COALESCE(received_at, \"timestamp\") <= " +
                                  TimestampParameter("$2") + " LIMIT CAST($3 AS integer))"),
              {erasure.user_id, erasure.received_cutoff, std::to_string(limit)});
}

SqlStatement SqlDialect::DeleteExpired(const ExpiryRule& rule, int limit) const {
  // Either the rule's own types, or every type but the excepted ones (an
  // empty exception list matches every type: NOT IN / <> ALL of nothing is
  // true). The list travels as one parameter, whatever its length.
  const bool own_types = !rule.event_types.empty();
  const std::vector<std::string>& types = own_types ? rule.event_types : rule.except_types;
  if (kind_ == SqlDialectKind::kSqlServer) {
    // event_type has the database's collation, usually case-insensitive;
    // retention matches types byte for byte, as the other stores do.
    return Make(CountingDeletedRows(
                    "DELETE TOP (CAST($1 AS int)) e FROM " + Table("events") + " AS e WHERE e.[timestamp] < " +
                    TimestampParameter("$2") + " AND e.event_type COLLATE " +
                    std::string(kSqlServerBinaryCollation) + (own_types ? " IN" : " NOT IN") +
                    " (SELECT t.event_type FROM OPENJSON($3) WITH (event_type nvarchar(64) '$') AS t) "
                    "AND NOT EXISTS (SELECT 1 FROM " +
                    Table("legal_holds") + " AS h WHERE h.user_id = e.user_id)"),
                {std::to_string(limit), rule.before, SqlServerJsonArray(types)});
  }
  std::vector<std::optional<std::string_view>> elements(types.begin(), types.end());
  const std::string events = Table("events");
  return Make(CountingDeletedRows("DELETE FROM " + events + " WHERE event_id IN (SELECT e.event_id FROM " + events +
                                  " AS e WHERE e.\"timestamp\" < " + TimestampParameter("$1") +
                                  (own_types ? " AND e.event_type = ANY (CAST($2 AS text[]))"
                                             : " AND e.event_type <> ALL (CAST($2 AS text[]))") +
                                  " AND NOT EXISTS (SELECT 1 FROM " + Table("legal_holds") +
                                  " AS h WHERE h.user_id = e.user_id) LIMIT CAST($3 AS integer))"),
              {rule.before, sql_internal::PostgresArrayLiteral(elements), std::to_string(limit)});
}

SqlStatement SqlDialect::PutLegalHold(const LegalHoldRow& row) const {
  const std::string holds = Table("legal_holds");
  if (kind_ == SqlDialectKind::kSqlServer) {
    // The range lock taken by the UPDATE lasts to COMMIT, so a concurrent
    // placement of the same hold waits instead of failing on the key.
    return Make("BEGIN TRANSACTION; UPDATE " + holds + " WITH (UPDLOCK, SERIALIZABLE) SET reason = $1, placed_at = " +
                    TimestampParameter("$2") + " WHERE user_id = $3; IF @@ROWCOUNT = 0 INSERT INTO " + holds +
                    " (user_id, reason, placed_at) VALUES ($4, $5, " + TimestampParameter("$6") +
                    "); COMMIT TRANSACTION;",
                {NullIfEmptyCopy(row.reason), row.placed_at, row.user_id, row.user_id, NullIfEmptyCopy(row.reason),
                 row.placed_at});
  }
  return Make("INSERT INTO " + holds + " (user_id, reason, placed_at) VALUES ($1, $2, " + TimestampParameter("$3") +
                  ") ON CONFLICT (user_id) DO UPDATE SET reason = EXCLUDED.reason, placed_at = EXCLUDED.placed_at",
              {row.user_id, NullIfEmptyCopy(row.reason), row.placed_at});
}

SqlStatement SqlDialect::DeleteLegalHold(std::string_view user_id) const {
  if (kind_ == SqlDialectKind::kSqlServer) {
    return Make("DELETE FROM " + Table("legal_holds") + " OUTPUT deleted.user_id WHERE user_id = $1",
                {std::string(user_id)});
  }
  return Make("DELETE FROM " + Table("legal_holds") + " WHERE user_id = $1 RETURNING user_id",
              {std::string(user_id)});
}

SqlStatement SqlDialect::ListLegalHolds() const {
  if (kind_ == SqlDialectKind::kSqlServer) {
    // user_id's binary collation already orders byte for byte.
    return Make("SELECT user_id, COALESCE(reason, N''), " + SqlServerTimeText("placed_at") + " FROM " +
                    Table("legal_holds") + " ORDER BY user_id",
                {});
  }
  // The "C" collation compares bytes; the database default (say
  // en_US.UTF-8) would put "alice" before "Zed".
  return Make("SELECT user_id, COALESCE(reason, ''), " + PostgresTimeText("placed_at") + " FROM " +
                  Table("legal_holds") + " ORDER BY user_id COLLATE \"C\"",
              {});
}

std::string SqlDialect::SelectErasureJobColumns() const {
  const bool pg = kind_ == SqlDialectKind::kPostgres;
  const auto time = [pg](std::string_view column) {
    return pg ? PostgresTimeText(column) : SqlServerTimeText(column);
  };
  const std::string empty = pg ? "''" : "N''";
  return std::string(pg ? "SELECT job_id::text" : "SELECT LOWER(CONVERT(char(36), job_id))") +
         ", user_id, state, " + time("received_cutoff") + ", " + time("created_at") + ", " + time("started_at") +
         ", " + time("finished_at") +
         ", metadata_erased, documents_erased, outbox_erased, dead_letters_erased, COALESCE(receipt, " + empty +
         "), COALESCE(error, " + empty + ") FROM " + Table("erasure_jobs");
}

namespace {

// A text parameter read as a job's counter: both DBMSs spell it the same.
std::string BigintParameter(std::string_view placeholder) {
  return "CAST(" + std::string(placeholder) + " AS bigint)";
}

}  // namespace

SqlStatement SqlDialect::InsertErasureJob(const ErasureJobRow& row) const {
  const bool pg = kind_ == SqlDialectKind::kPostgres;
  const std::string id = pg ? "CAST($1 AS uuid)" : "CONVERT(uniqueidentifier, $1)";
  return Make("INSERT INTO " + Table("erasure_jobs") +
                  " (job_id, user_id, state, received_cutoff, created_at, started_at, finished_at, "
                  "metadata_erased, documents_erased, outbox_erased, dead_letters_erased, receipt, error) VALUES (" +
                  id + ", $2, $3, " + TimestampParameter("$4") + ", " + TimestampParameter("$5") + ", " +
                  TimestampParameter("$6") + ", " + TimestampParameter("$7") + ", " + BigintParameter("$8") + ", " +
                  BigintParameter("$9") + ", " + BigintParameter("$10") + ", " + BigintParameter("$11") + ", $12, $13)",
              {row.id, row.user_id, row.state, row.received_cutoff, row.created_at, NullIfEmptyCopy(row.started_at),
               NullIfEmptyCopy(row.finished_at), std::to_string(row.metadata_erased),
               std::to_string(row.documents_erased), std::to_string(row.outbox_erased),
               std::to_string(row.dead_letters_erased), NullIfEmptyCopy(row.receipt), NullIfEmptyCopy(row.error)});
}

SqlStatement SqlDialect::UpdateErasureJob(const ErasureJobRow& row) const {
  const bool pg = kind_ == SqlDialectKind::kPostgres;
  // Returns the id when the job exists, so a missing job is told apart
  // from an update that changed nothing.
  const std::string set = "UPDATE " + Table("erasure_jobs") + " SET user_id = $1, state = $2, received_cutoff = " +
                          TimestampParameter("$3") + ", created_at = " + TimestampParameter("$4") +
                          ", started_at = " + TimestampParameter("$5") + ", finished_at = " +
                          TimestampParameter("$6") + ", metadata_erased = " + BigintParameter("$7") +
                          ", documents_erased = " + BigintParameter("$8") + ", outbox_erased = " + BigintParameter("$9") +
                          ", dead_letters_erased = " + BigintParameter("$10") + ", receipt = $11, error = $12";
  std::vector<std::optional<std::string>> parameters = {
      row.user_id,
      row.state,
      row.received_cutoff,
      row.created_at,
      NullIfEmptyCopy(row.started_at),
      NullIfEmptyCopy(row.finished_at),
      std::to_string(row.metadata_erased),
      std::to_string(row.documents_erased),
      std::to_string(row.outbox_erased),
      std::to_string(row.dead_letters_erased),
      NullIfEmptyCopy(row.receipt),
      NullIfEmptyCopy(row.error),
      row.id};
  if (pg) return Make(set + " WHERE job_id = CAST($13 AS uuid) RETURNING job_id", std::move(parameters));
  return Make(set + " OUTPUT inserted.job_id WHERE job_id = CONVERT(uniqueidentifier, $13)", std::move(parameters));
}

SqlStatement SqlDialect::FindErasureJob(std::string_view id) const {
  const std::string key = kind_ == SqlDialectKind::kPostgres ? "CAST($1 AS uuid)" : "CONVERT(uniqueidentifier, $1)";
  return Make(SelectErasureJobColumns() + " WHERE job_id = " + key, {std::string(id)});
}

SqlStatement SqlDialect::ListErasureJobs(std::string_view created_since) const {
  const bool pg = kind_ == SqlDialectKind::kPostgres;
  std::string text = SelectErasureJobColumns();
  std::vector<std::optional<std::string>> parameters;
  if (!created_since.empty()) {
    // Each side of the OR has an index (erasure_jobs_by_created, and the
    // partial erasure_jobs_unfinished, whose predicate this repeats word
    // for word so the planner can match it), so the DBMS reads only the rows
    // it returns instead of every job.
    text += " WHERE created_at >= " + TimestampParameter("$1") +
            (pg ? " OR state IN ('pending', 'running')" : " OR state IN (N'pending', N'running')");
    parameters.emplace_back(created_since);
  }
  // As in ScanUser: uniqueidentifier does not sort as its text does.
  text += pg ? " ORDER BY created_at, job_id"
             : " ORDER BY created_at, CONVERT(char(36), job_id) COLLATE " + std::string(kSqlServerBinaryCollation);
  return Make(std::move(text), std::move(parameters));
}

SqlStatement SqlDialect::Ping() const { return Make("SELECT 1", {}); }

SqlStatement SqlDialect::SchemaVersion() const {
  return Make("SELECT MAX(version) FROM " + Table("eventlogger_schema"), {});
}

std::vector<SqlStatement> SqlDialect::MigrateBegin(std::chrono::milliseconds lock_timeout) const {
  // One lock per schema: migrations of different schemas (parallel tests,
  // several deployments in one database) do not wait for each other.
  const std::string lock_name =
      "eventlogger.migrate:" + (schema_.empty() ? std::string("(default)") : schema_);
  std::vector<SqlStatement> statements;
  if (kind_ == SqlDialectKind::kPostgres) {
    // For this transaction only: a migration may build an index on a large
    // table, so no statement timeout; but waiting for a lock (the migration
    // lock, or the events table behind a long query) is bounded, so a stuck
    // migrator fails instead of queueing every writer behind its request.
    statements.push_back(
        Make("SELECT set_config('statement_timeout', '0', true), "
             "set_config('lock_timeout', $1, true)",
             {std::to_string(lock_timeout.count())}));
    // Held until the transaction ends, so a second migrator waits here and
    // then finds the work done.
    statements.push_back(
        Make("SELECT pg_advisory_xact_lock(hashtextextended($1, 0))", {lock_name}));
    if (!schema_.empty()) {
      statements.push_back(Make("CREATE SCHEMA IF NOT EXISTS " + PostgresQuote(schema_), {}));
    }
    statements.push_back(Make(
        "CREATE TABLE IF NOT EXISTS " + Table("eventlogger_schema") + " (version integer NOT NULL)",
        {}));
    return statements;
  }
  statements.push_back(
      Make("DECLARE @result int; "
           "EXEC @result = sp_getapplock @Resource = ?, @LockMode = 'Exclusive', "
           "@LockOwner = 'Transaction', @LockTimeout = ?; "
           "IF @result < 0 THROW 51000, 'eventlogger: could not take the migration lock', 1;",
           {lock_name, std::to_string(lock_timeout.count())}));
  if (!schema_.empty()) {
    // CREATE SCHEMA must be alone in its batch, hence EXEC.
    statements.push_back(
        Make("IF SCHEMA_ID(?) IS NULL EXEC(N'CREATE SCHEMA [" + schema_ + "]')", {schema_}));
  }
  statements.push_back(Make("IF OBJECT_ID(?, N'U') IS NULL CREATE TABLE " +
                                Table("eventlogger_schema") + " (version int NOT NULL)",
                            {Table("eventlogger_schema")}));
  return statements;
}

std::vector<SqlStatement> SqlDialect::MigrateUpgrade(int from_version) const {
  std::vector<SqlStatement> statements;
  const std::string events = Table("events");
  // Each step is idempotent on its own (IF NOT EXISTS, or a look at the
  // catalog first), so a version row lost or rolled back never makes a
  // rerun fail.
  if (from_version < 1) {
    if (kind_ == SqlDialectKind::kPostgres) {
      statements.push_back(Make("CREATE TABLE IF NOT EXISTS " + events +
                                    " ("
                                    "event_id uuid PRIMARY KEY, "
                                    "user_id text NOT NULL, "
                                    "event_type text NOT NULL, "
                                    "\"timestamp\" timestamptz(3) NOT NULL, "
                                    "created_at timestamptz NOT NULL DEFAULT now(), "
                                    "idempotency_key text NULL, "
                                    "request_hash text NULL)",
                                {}));
      statements.push_back(Make("CREATE INDEX IF NOT EXISTS events_by_user_time ON " + events +
                                    " (user_id, \"timestamp\", event_id)",
                                {}));
      statements.push_back(Make("CREATE UNIQUE INDEX IF NOT EXISTS events_by_idempotency_key ON " +
                                    events +
                                    " (user_id, idempotency_key) WHERE idempotency_key IS NOT NULL",
                                {}));
    } else {
      const std::string collation(kSqlServerBinaryCollation);
      statements.push_back(
          Make("IF OBJECT_ID(?, N'U') IS NULL CREATE TABLE " + events +
                   " ("
                   "event_id uniqueidentifier NOT NULL, "
                   "user_id nvarchar(128) COLLATE " +
                   collation +
                   " NOT NULL, "
                   "event_type nvarchar(64) NOT NULL, "
                   "[timestamp] datetime2(3) NOT NULL, "
                   "created_at datetime2(3) NOT NULL CONSTRAINT DF_events_created_at "
                   "DEFAULT SYSUTCDATETIME(), "
                   "idempotency_key nvarchar(255) COLLATE " +
                   collation +
                   " NULL, "
                   "request_hash nvarchar(128) NULL, "
                   // Nonclustered: uniqueidentifier order is not time order, so a
                   // clustered key on it would split pages on every insert.
                   "CONSTRAINT PK_events PRIMARY KEY NONCLUSTERED (event_id))",
               {events}));
      // Clustered on the ScanUser order: a user's events are contiguous.
      statements.push_back(
          Make("IF INDEXPROPERTY(OBJECT_ID(?), N'events_by_user_time', 'IndexID') IS NULL "
               "CREATE UNIQUE CLUSTERED INDEX events_by_user_time ON " +
                   events + " (user_id, [timestamp], event_id)",
               {events}));
      statements.push_back(
          Make("IF INDEXPROPERTY(OBJECT_ID(?), N'events_by_idempotency_key', 'IndexID') IS NULL "
               "CREATE UNIQUE NONCLUSTERED INDEX events_by_idempotency_key ON " +
                   events + " (user_id, idempotency_key) WHERE idempotency_key IS NOT NULL",
               {events}));
    }
  }
  if (from_version < 2) {
    const std::string keys = Table("api_keys");
    if (kind_ == SqlDialectKind::kPostgres) {
      statements.push_back(Make("CREATE TABLE IF NOT EXISTS " + keys +
                                    " ("
                                    "key_id text PRIMARY KEY, "
                                    "name text NOT NULL, "
                                    "scopes text NOT NULL, "
                                    "secret_digest text NOT NULL, "
                                    "created_at timestamptz(3) NOT NULL, "
                                    "last_used_at timestamptz(3) NULL, "
                                    "revoked_at timestamptz(3) NULL)",
                                {}));
    } else {
      const std::string collation(kSqlServerBinaryCollation);
      statements.push_back(Make("IF OBJECT_ID(?, N'U') IS NULL CREATE TABLE " + keys +
                                    " ("
                                    "key_id varchar(16) COLLATE " +
                                    collation +
                                    " NOT NULL CONSTRAINT PK_api_keys PRIMARY KEY, "
                                    "name nvarchar(100) NOT NULL, "
                                    "scopes nvarchar(200) NOT NULL, "
                                    "secret_digest char(64) NOT NULL, "
                                    "created_at datetime2(3) NOT NULL, "
                                    "last_used_at datetime2(3) NULL, "
                                    "revoked_at datetime2(3) NULL)",
                                {keys}));
    }
  }
  if (from_version < 3) AddEventTimeColumns(statements);
  if (from_version < 4) AddPrivacyTables(statements);
  const std::string versions = Table("eventlogger_schema");
  statements.push_back(Make("DELETE FROM " + versions, {}));
  statements.push_back(
      Make("INSERT INTO " + versions + " (version) VALUES (CAST($1 AS " +
               std::string(kind_ == SqlDialectKind::kPostgres ? "integer" : "int") + "))",
           {std::to_string(kSqlSchemaVersion)}));
  return statements;
}

// Version 3. Rows stored before it keep received_at NULL and reads take
// their timestamp instead (COALESCE): every earlier event was timed by the
// server, so that is exactly when it was received. No backfill: on a large
// table an UPDATE of every row would hold the ALTER's lock for minutes and
// outlast the statement timeout, where adding nullable columns is a change
// to the catalog only.
void SqlDialect::AddEventTimeColumns(std::vector<SqlStatement>& statements) const {
  const std::string events = Table("events");
  if (kind_ == SqlDialectKind::kPostgres) {
    // Nullable without a default: a change to the catalog only, however
    // large the table.
    statements.push_back(Make("ALTER TABLE " + events +
                                  " ADD COLUMN IF NOT EXISTS occurred_at timestamptz(3) NULL, "
                                  "ADD COLUMN IF NOT EXISTS received_at timestamptz(3) NULL",
                              {}));
    return;
  }
  for (const char* column : {"occurred_at", "received_at"}) {
    statements.push_back(Make("IF COL_LENGTH(?, N'" + std::string(column) + "') IS NULL ALTER TABLE " +
                                  events + " ADD " + column + " datetime2(3) NULL",
                              {events}));
  }
}

// Version 4: new tables and their indexes only, so the step is the same on
// any table size. Holds are few (a row per held user); erasure jobs grow by
// a row per erasure request, so ListErasureJobs with a bound reads them
// through two indexes: every job by created_at, and the unfinished ones
// (a partial, or in SQL Server filtered, index holding only those rows).
void SqlDialect::AddPrivacyTables(std::vector<SqlStatement>& statements) const {
  const std::string holds = Table("legal_holds");
  const std::string jobs = Table("erasure_jobs");
  if (kind_ == SqlDialectKind::kPostgres) {
    statements.push_back(Make("CREATE TABLE IF NOT EXISTS " + holds +
                                  " (user_id text PRIMARY KEY, reason text NULL, placed_at timestamptz(3) NOT NULL)",
                              {}));
    statements.push_back(Make("CREATE TABLE IF NOT EXISTS " + jobs +
                                  " ("
                                  "job_id uuid PRIMARY KEY, "
                                  "user_id text NOT NULL, "
                                  "state text NOT NULL, "
                                  "received_cutoff timestamptz(3) NOT NULL, "
                                  "created_at timestamptz(3) NOT NULL, "
                                  "started_at timestamptz(3) NULL, "
                                  "finished_at timestamptz(3) NULL, "
                                  "metadata_erased bigint NOT NULL, "
                                  "documents_erased bigint NOT NULL, "
                                  "outbox_erased bigint NOT NULL, "
                                  "dead_letters_erased bigint NOT NULL, "
                                  "receipt text NULL, "
                                  "error text NULL)",
                              {}));
    statements.push_back(
        Make("CREATE INDEX IF NOT EXISTS erasure_jobs_by_created ON " + jobs + " (created_at)", {}));
    statements.push_back(Make("CREATE INDEX IF NOT EXISTS erasure_jobs_unfinished ON " + jobs +
                                  " (created_at) WHERE state IN ('pending', 'running')",
                              {}));
    return;
  }
  // user_id as in events (the same collation, or the NOT EXISTS join of
  // DeleteExpired would not compare them as equal bytes).
  const std::string collation(kSqlServerBinaryCollation);
  statements.push_back(Make("IF OBJECT_ID(?, N'U') IS NULL CREATE TABLE " + holds +
                                " ("
                                "user_id nvarchar(128) COLLATE " +
                                collation +
                                " NOT NULL CONSTRAINT PK_legal_holds PRIMARY KEY, "
                                "reason nvarchar(max) NULL, "
                                "placed_at datetime2(3) NOT NULL)",
                            {holds}));
  statements.push_back(Make("IF OBJECT_ID(?, N'U') IS NULL CREATE TABLE " + jobs +
                                " ("
                                "job_id uniqueidentifier NOT NULL CONSTRAINT PK_erasure_jobs PRIMARY KEY, "
                                "user_id nvarchar(128) COLLATE " +
                                collation +
                                " NOT NULL, "
                                "state nvarchar(16) NOT NULL, "
                                "received_cutoff datetime2(3) NOT NULL, "
                                "created_at datetime2(3) NOT NULL, "
                                "started_at datetime2(3) NULL, "
                                "finished_at datetime2(3) NULL, "
                                "metadata_erased bigint NOT NULL, "
                                "documents_erased bigint NOT NULL, "
                                "outbox_erased bigint NOT NULL, "
                                "dead_letters_erased bigint NOT NULL, "
                                "receipt nvarchar(max) NULL, "
                                "error nvarchar(max) NULL)",
                            {jobs}));
  statements.push_back(Make("IF INDEXPROPERTY(OBJECT_ID(?), N'erasure_jobs_by_created', 'IndexID') IS NULL "
                            "CREATE NONCLUSTERED INDEX erasure_jobs_by_created ON " +
                                jobs + " (created_at)",
                            {jobs}));
  statements.push_back(Make("IF INDEXPROPERTY(OBJECT_ID(?), N'erasure_jobs_unfinished', 'IndexID') IS NULL "
                            "CREATE NONCLUSTERED INDEX erasure_jobs_unfinished ON " +
                                jobs + " (created_at) WHERE state IN (N'pending', N'running')",
                            {jobs}));
}

}  // namespace eventlogger
