#include "storage/postgres_metadata_store.h"

#include <libpq-fe.h>

#include <algorithm>
#include <charconv>
#include <optional>
#include <utility>
#include <vector>

#include "core/log.h"
#include "core/uuid.h"
#include "storage/connection_pool.h"
#include "storage/sql_dialect.h"
#include "storage/store_factory.h"

namespace eventlogger {
namespace {

constexpr int kMaxPoolSize = 1000;
constexpr int64_t kMaxTimeoutMs = 24LL * 60 * 60 * 1000;

struct ConnectionDeleter {
  void operator()(PGconn* conn) const { PQfinish(conn); }
};
using Connection = std::unique_ptr<PGconn, ConnectionDeleter>;

struct ResultDeleter {
  void operator()(PGresult* result) const { PQclear(result); }
};
using PgResult = std::unique_ptr<PGresult, ResultDeleter>;

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// %XX escapes decoded; a malformed escape is kept as it is (libpq rejects
// the URL later, and we only need the decoded text to redact it).
std::string PercentDecode(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '%' && i + 2 < text.size()) {
      const int high = HexValue(text[i + 1]);
      const int low = HexValue(text[i + 2]);
      if (high >= 0 && low >= 0) {
        out += static_cast<char>(high * 16 + low);
        i += 2;
        continue;
      }
    }
    out += text[i];
  }
  return out;
}

std::vector<std::string_view> Split(std::string_view text, char separator) {
  std::vector<std::string_view> parts;
  size_t start = 0;
  for (;;) {
    const size_t end = text.find(separator, start);
    parts.push_back(text.substr(start, end == std::string_view::npos ? end : end - start));
    if (end == std::string_view::npos) return parts;
    start = end + 1;
  }
}

// The password of a connection URI, in every spelling it could be echoed in
// (as written and percent-decoded; userinfo or ?password=).
std::vector<std::string> UrlSecrets(std::string_view url) {
  std::vector<std::string> secrets;
  const auto add = [&secrets](std::string_view raw) {
    if (raw.empty()) return;
    secrets.emplace_back(raw);
    std::string decoded = PercentDecode(raw);
    if (decoded != raw && !decoded.empty()) secrets.push_back(std::move(decoded));
  };
  const size_t scheme_end = url.find("://");
  if (scheme_end != std::string_view::npos) {
    const std::string_view rest = url.substr(scheme_end + 3);
    const std::string_view authority = rest.substr(0, rest.find_first_of("/?#"));
    const size_t at = authority.rfind('@');
    if (at != std::string_view::npos) {
      const std::string_view userinfo = authority.substr(0, at);
      const size_t colon = userinfo.find(':');
      if (colon != std::string_view::npos) add(userinfo.substr(colon + 1));
    }
  }
  const size_t query = url.find('?');
  if (query != std::string_view::npos) {
    for (std::string_view parameter : Split(url.substr(query + 1), '&')) {
      const size_t equals = parameter.find('=');
      if (equals != std::string_view::npos &&
          PercentDecode(parameter.substr(0, equals)) == "password") {
        add(parameter.substr(equals + 1));
      }
    }
  }
  // Longest first, so a secret containing another is replaced whole.
  std::sort(secrets.begin(), secrets.end(),
            [](const std::string& a, const std::string& b) { return a.size() > b.size(); });
  return secrets;
}

std::string ReplaceSecrets(std::string text, const std::vector<std::string>& secrets) {
  for (const std::string& secret : secrets) {
    for (size_t at = text.find(secret); at != std::string::npos; at = text.find(secret, at + 3)) {
      text.replace(at, secret.size(), "***");
    }
  }
  return text;
}

// RedactUrl covers user:password@; a ?password= parameter needs its own pass.
std::string RedactPostgresUrl(std::string_view url) {
  return ReplaceSecrets(RedactUrl(url), UrlSecrets(url));
}

Result<int64_t> ParseNumber(std::string_view name, std::string_view value, int64_t min, int64_t max,
                            std::string_view url) {
  int64_t number = 0;
  const auto [end, error] = std::from_chars(value.data(), value.data() + value.size(), number);
  if (value.empty() || error != std::errc() || end != value.data() + value.size() || number < min ||
      number > max) {
    return Status::InvalidArgument(std::string(name) + " must be an integer from " +
                                   std::to_string(min) + " to " + std::to_string(max) + " in " +
                                   RedactPostgresUrl(url));
  }
  return number;
}

// Everything that describes the database and never changes: shared by the
// store and its pool.
struct Context {
  PostgresMetadataOptions options;
  SqlDialect dialect;
  std::vector<std::string> secrets;
  std::string where;  // "PostgreSQL postgresql://user:***@host/db", for messages

  std::string Clean(std::string_view text) const {
    // libpq messages end in newlines and may span lines ("DETAIL: …", tab
    // indented hints); make them one line.
    std::string out;
    for (char c : text) {
      const bool space = c == '\n' || c == '\r' || c == '\t' || c == ' ';
      if (space && (out.empty() || out.back() == ' ')) continue;
      out += space ? ' ' : c;
    }
    while (!out.empty() && out.back() == ' ') out.pop_back();
    return ReplaceSecrets(std::move(out), secrets);
  }
};

// Translates a libpq failure into our Status, in one place. `result` is the
// failed statement's result when there is one (it carries the SQLSTATE);
// otherwise the connection's own error message is used.
Status PgFailure(PGconn* conn, const PGresult* result, const Context& context,
                 std::string_view what) {
  const char* detail = result != nullptr ? PQresultErrorMessage(result) : nullptr;
  if (detail == nullptr || *detail == '\0') detail = PQerrorMessage(conn);
  std::string message = std::string(what) + " (" + context.where + "): " + context.Clean(detail);
  const char* sqlstate = result != nullptr ? PQresultErrorField(result, PG_DIAG_SQLSTATE) : nullptr;
  if (PQstatus(conn) != CONNECTION_OK &&
      (sqlstate == nullptr || !SqlStateMeansConnectionLost(sqlstate))) {
    // libpq's own "server closed the connection unexpectedly" has no SQLSTATE.
    return Status::Unavailable(std::move(message));
  }
  if (sqlstate == nullptr) return Status::Internal(std::move(message));
  return SqlStateToStatus(sqlstate, std::move(message));
}

std::vector<const char*> ParameterPointers(const SqlStatement& statement) {
  std::vector<const char*> values;
  values.reserve(statement.parameters.size());
  for (const auto& parameter : statement.parameters) {
    values.push_back(parameter ? parameter->c_str() : nullptr);
  }
  return values;
}

// Runs a statement to completion; `out` receives its result if wanted.
Status Execute(PGconn* conn, const SqlStatement& statement, const Context& context,
               std::string_view what, PgResult* out = nullptr) {
  const std::vector<const char*> values = ParameterPointers(statement);
  PgResult result(PQexecParams(conn, statement.text.c_str(), static_cast<int>(values.size()),
                               nullptr, values.data(), nullptr, nullptr, 0));
  const ExecStatusType status = result ? PQresultStatus(result.get()) : PGRES_FATAL_ERROR;
  if (status != PGRES_COMMAND_OK && status != PGRES_TUPLES_OK) {
    return PgFailure(conn, result.get(), context, what);
  }
  if (out != nullptr) *out = std::move(result);
  return Status::Ok();
}

std::string_view Value(const PGresult* result, int row, int column) {
  return std::string_view(PQgetvalue(result, row, column),
                          static_cast<size_t>(PQgetlength(result, row, column)));
}

// Runs a query returning EventMetadata rows, handing them to `visit` as they
// arrive (single-row mode: a reconciliation scan of millions of rows never
// sits in memory). If `visit` stops early the remaining rows are read and
// dropped: cancelling instead could race with the session's next statement.
Status StreamRows(PGconn* conn, const SqlStatement& statement, const Context& context,
                  std::string_view what, const std::function<bool(const EventMetadata&)>& visit,
                  bool* delivered) {
  const std::vector<const char*> values = ParameterPointers(statement);
  if (PQsendQueryParams(conn, statement.text.c_str(), static_cast<int>(values.size()), nullptr,
                        values.data(), nullptr, nullptr, 0) == 0) {
    return PgFailure(conn, nullptr, context, what);
  }
  PQsetSingleRowMode(conn);
  Status status;
  bool wanted = true;
  EventMetadata row;
  while (PGresult* raw = PQgetResult(conn)) {
    PgResult result(raw);
    switch (PQresultStatus(raw)) {
      case PGRES_SINGLE_TUPLE:
        if (!wanted || !status.ok()) break;
        row.event_id = Value(raw, 0, 0);
        row.user_id = Value(raw, 0, 1);
        row.event_type = Value(raw, 0, 2);
        row.timestamp = Value(raw, 0, 3);
        row.idempotency_key = Value(raw, 0, 4);
        row.request_hash = Value(raw, 0, 5);
        row.occurred_at = Value(raw, 0, 6);
        row.received_at = Value(raw, 0, 7);
        *delivered = true;
        wanted = visit(row);
        break;
      case PGRES_TUPLES_OK:  // the end of the rows
        break;
      default:
        if (status.ok()) status = PgFailure(conn, raw, context, what);
        break;
    }
  }
  return status;
}

// libpq prints server notices to stderr by default. The expected ones
// (NOTICE: "… already exists, skipping" from an idempotent migration) are
// noise; a WARNING is worth a log line. Secrets never reach the server's
// messages, but they go through the same scrubbing as errors anyway.
void OnNotice(void* arg, const PGresult* notice) {
  const char* severity = PQresultErrorField(notice, PG_DIAG_SEVERITY_NONLOCALIZED);
  if (severity == nullptr || std::string_view(severity) != "WARNING") return;
  const auto* context = static_cast<const Context*>(arg);
  const std::string message = context->Clean(PQresultErrorMessage(notice));
  log::Warn("postgres warning", {{"store", context->where}, {"message", message}});
}

Result<Connection> Connect(const Context& context) {
  // libpq takes whole seconds; round up so a 500 ms setting is not "forever".
  const int64_t connect_ms = context.options.connect_timeout.count();
  const std::string connect_seconds =
      std::to_string(connect_ms <= 0 ? 0 : (connect_ms + 999) / 1000);
  // Later entries override what the URL (expanded from dbname) says, earlier
  // ones are overridden by it: the application name is only a default, the
  // encoding and timeout are ours.
  const char* keywords[] = {"application_name", "dbname", "connect_timeout", "client_encoding",
                            nullptr};
  const char* values[] = {"eventlogger", context.options.url.c_str(), connect_seconds.c_str(),
                          "UTF8", nullptr};
  Connection conn(PQconnectdbParams(keywords, values, /*expand_dbname=*/1));
  if (!conn) return Status::Unavailable("connecting to " + context.where + ": out of memory");
  if (PQstatus(conn.get()) != CONNECTION_OK) {
    return Status::Unavailable("connecting to " + context.where + ": " +
                               context.Clean(PQerrorMessage(conn.get())));
  }
  PQsetNoticeReceiver(conn.get(), OnNotice, const_cast<Context*>(&context));
  for (const SqlStatement& statement :
       context.dialect.SessionSetup(context.options.statement_timeout)) {
    if (Status s = Execute(conn.get(), statement, context, "setting up session"); !s.ok()) return s;
  }
  return conn;
}

// A session is reusable only if it is connected and outside any transaction
// (a failed ROLLBACK could leave one open). The probe, PQconsumeInput, reads
// whatever the server sent while the session sat idle; after a server
// shutdown that is a FATAL message and EOF, which flips the status to
// CONNECTION_BAD when both have arrived. When they have not, the first
// statement fails instead and PostgresMetadataStore::Run retries it.
bool LooksHealthy(PGconn* conn, bool probe) {
  if (probe && PQconsumeInput(conn) == 0) return false;
  return PQstatus(conn) == CONNECTION_OK && PQtransactionStatus(conn) == PQTRANS_IDLE;
}

class PostgresMetadataStore final : public MetadataStore {
 public:
  explicit PostgresMetadataStore(Context context)
      : context_(std::move(context)),
        pool_({.size = context_.options.pool_size,
               .wait = context_.options.pool_timeout,
               .noun = "session",
               .where = context_.where,
               .connect = [this] { return Connect(context_); },
               .usable = [](Connection& conn,
                            bool taking) { return LooksHealthy(conn.get(), /*probe=*/taking); },
               .broken = [](Connection& conn) { return PQstatus(conn.get()) != CONNECTION_OK; }}) {}

  // Opens the first session, proving the URL and credentials work.
  Status Start() {
    return pool_.Acquire().status();
  }

  Status WriteBatch(EventBatch events) override {
    if (events.empty()) return Status::Ok();
    const SqlStatement insert = context_.dialect.InsertBatch(events);
    return Run([&](PGconn* conn, bool*) {
      return Execute(conn, insert, context_, "writing event metadata");
    });
  }

  Status ScanUser(std::string_view user_id,
                  const std::function<bool(const EventMetadata&)>& visit) override {
    const SqlStatement query = context_.dialect.ScanUser(user_id);
    return Run([&](PGconn* conn, bool* delivered) {
      return StreamRows(conn, query, context_, "reading a user's event metadata", visit, delivered);
    });
  }

  Status Scan(const ScanFilter& filter,
              const std::function<bool(const EventMetadata&)>& visit) override {
    const SqlStatement query = context_.dialect.Scan(filter);
    return Run([&](PGconn* conn, bool* delivered) {
      return StreamRows(conn, query, context_, "scanning event metadata", visit, delivered);
    });
  }

  Result<EventMetadata> FindByIdempotencyKey(std::string_view user_id,
                                             std::string_view key) override {
    const SqlStatement query = context_.dialect.FindByIdempotencyKey(user_id, key);
    std::optional<EventMetadata> found;
    Status status = Run([&](PGconn* conn, bool* delivered) {
      return StreamRows(
          conn, query, context_, "looking up an idempotency key",
          [&found](const EventMetadata& row) {
            found = row;
            return false;
          },
          delivered);
    });
    if (!status.ok()) return status;
    if (!found) return Status::NotFound("no event with this idempotency key");
    return *found;
  }

  Result<EventMetadata> FindEvent(std::string_view user_id, std::string_view event_id) override {
    // The column is a uuid: any other text would fail the statement, yet
    // it names no event all the same.
    if (!ParseUuid(event_id)) return Status::NotFound("no event with this eventId");
    const SqlStatement query = context_.dialect.FindEvent(user_id, event_id);
    std::optional<EventMetadata> found;
    Status status = Run([&](PGconn* conn, bool* delivered) {
      return StreamRows(
          conn, query, context_, "looking up an event",
          [&found](const EventMetadata& row) {
            found = row;
            return false;
          },
          delivered);
    });
    if (!status.ok()) return status;
    if (!found) return Status::NotFound("no event with this eventId");
    return *found;
  }

  // Not retried after a cut session: a key stored just before the cut
  // would come back as AlreadyExists. Its id is random, so the caller can
  // make a fresh key instead.
  Status InsertApiKey(const ApiKeyRow& row) override {
    const SqlStatement insert = context_.dialect.InsertApiKey(row);
    return Run([&](PGconn* conn, bool* delivered) {
      *delivered = true;
      return Execute(conn, insert, context_, "storing an API key");
    });
  }

  Result<std::vector<ApiKeyRow>> ListApiKeys() override {
    const SqlStatement query = context_.dialect.ListApiKeys();
    PgResult result;
    Status status = Run([&](PGconn* conn, bool*) {
      return Execute(conn, query, context_, "listing API keys", &result);
    });
    if (!status.ok()) return status;
    std::vector<ApiKeyRow> rows;
    const PGresult* raw = result.get();
    rows.reserve(static_cast<size_t>(PQntuples(raw)));
    for (int r = 0; r < PQntuples(raw); ++r) {
      rows.push_back(ApiKeyRow{std::string(Value(raw, r, 0)), std::string(Value(raw, r, 1)),
                               std::string(Value(raw, r, 2)), std::string(Value(raw, r, 3)),
                               std::string(Value(raw, r, 4)), std::string(Value(raw, r, 5)),
                               std::string(Value(raw, r, 6))});
    }
    return rows;
  }

  Status RevokeApiKey(std::string_view id, std::string_view revoked_at) override {
    const SqlStatement update = context_.dialect.RevokeApiKey(id, revoked_at);
    PgResult result;
    Status status = Run([&](PGconn* conn, bool*) {
      return Execute(conn, update, context_, "revoking an API key", &result);
    });
    if (!status.ok()) return status;
    if (PQntuples(result.get()) == 0) return Status::NotFound("no API key has id " + std::string(id));
    return Status::Ok();
  }

  Status RecordApiKeyUse(std::string_view id, std::string_view used_at) override {
    const SqlStatement update = context_.dialect.RecordApiKeyUse(id, used_at);
    return Run([&](PGconn* conn, bool*) {
      return Execute(conn, update, context_, "recording an API key's use");
    });
  }

  // Repeated on a fresh session after a cut one, like any delete here: the
  // rows the lost attempt removed are then missing from the count, which
  // callers use for reporting only.
  Result<int64_t> EraseUserEvents(const UserErasure& erasure, int limit) override {
    if (limit <= 0) return Status::InvalidArgument("a delete's limit must be positive");
    return DeletedCount(context_.dialect.EraseUserEvents(erasure, limit), "erasing a user's event metadata");
  }

  Result<int64_t> DeleteExpired(const ExpiryRule& rule, int limit) override {
    if (limit <= 0) return Status::InvalidArgument("a delete's limit must be positive");
    return DeletedCount(context_.dialect.DeleteExpired(rule, limit), "deleting expired event metadata");
  }

  Status PutLegalHold(const LegalHoldRow& row) override {
    const SqlStatement upsert = context_.dialect.PutLegalHold(row);
    return Run([&](PGconn* conn, bool*) { return Execute(conn, upsert, context_, "placing a legal hold"); });
  }

  // Not retried after a cut session: a hold deleted just before the cut
  // would come back as NotFound.
  Status DeleteLegalHold(std::string_view user_id) override {
    const SqlStatement remove = context_.dialect.DeleteLegalHold(user_id);
    PgResult result;
    Status status = Run([&](PGconn* conn, bool* delivered) {
      *delivered = true;
      return Execute(conn, remove, context_, "removing a legal hold", &result);
    });
    if (!status.ok()) return status;
    if (PQntuples(result.get()) == 0) return Status::NotFound("no legal hold on user " + std::string(user_id));
    return Status::Ok();
  }

  Result<std::vector<LegalHoldRow>> ListLegalHolds() override {
    const SqlStatement query = context_.dialect.ListLegalHolds();
    PgResult result;
    Status status = Run([&](PGconn* conn, bool*) {
      return Execute(conn, query, context_, "listing legal holds", &result);
    });
    if (!status.ok()) return status;
    std::vector<LegalHoldRow> rows;
    const PGresult* raw = result.get();
    rows.reserve(static_cast<size_t>(PQntuples(raw)));
    for (int r = 0; r < PQntuples(raw); ++r) {
      rows.push_back(LegalHoldRow{std::string(Value(raw, r, 0)), std::string(Value(raw, r, 1)),
                                  std::string(Value(raw, r, 2))});
    }
    return rows;
  }

  // Not retried after a cut session (see InsertApiKey).
  Status InsertErasureJob(const ErasureJobRow& row) override {
    const SqlStatement insert = context_.dialect.InsertErasureJob(row);
    return Run([&](PGconn* conn, bool* delivered) {
      *delivered = true;
      return Execute(conn, insert, context_, "storing an erasure job");
    });
  }

  Status UpdateErasureJob(const ErasureJobRow& row) override {
    // The column is a uuid: any other text names no job.
    if (!ParseUuid(row.id)) return Status::NotFound("no erasure job has id " + row.id);
    const SqlStatement update = context_.dialect.UpdateErasureJob(row);
    PgResult result;
    Status status = Run([&](PGconn* conn, bool*) {
      return Execute(conn, update, context_, "updating an erasure job", &result);
    });
    if (!status.ok()) return status;
    if (PQntuples(result.get()) == 0) return Status::NotFound("no erasure job has id " + row.id);
    return Status::Ok();
  }

  Result<ErasureJobRow> FindErasureJob(std::string_view id) override {
    if (!ParseUuid(id)) return Status::NotFound("no erasure job has id " + std::string(id));
    Result<std::vector<ErasureJobRow>> rows =
        ErasureJobs(context_.dialect.FindErasureJob(id), "looking up an erasure job");
    if (!rows.ok()) return rows.status();
    if (rows->empty()) return Status::NotFound("no erasure job has id " + std::string(id));
    return std::move(rows->front());
  }

  Result<std::vector<ErasureJobRow>> ListErasureJobs(std::string_view created_since) override {
    return ErasureJobs(context_.dialect.ListErasureJobs(created_since), "listing erasure jobs");
  }

  Status Migrate() override {
    return Run([&](PGconn* conn, bool*) {
      Status status = MigrateInTransaction(conn);
      if (!status.ok() && PQstatus(conn) == CONNECTION_OK) {
        // The session returns to the pool only outside a transaction, so a
        // failed ROLLBACK merely costs a reconnect.
        (void)Execute(conn, SqlStatement{"ROLLBACK", {}}, context_, "rolling back migration");
      }
      return status;
    });
  }

  Status CheckSchema() override {
    Result<std::optional<int>> version = SchemaVersion();
    if (!version.ok()) {
      // No table (or no schema) yet: the database was never migrated.
      if (version.status().code() == StatusCode::kFailedPrecondition) {
        return SchemaVersionStatus(std::nullopt, context_.where);
      }
      return version.status();
    }
    return SchemaVersionStatus(*version, context_.where);
  }

  Status Ping() override {
    const SqlStatement ping = context_.dialect.Ping();
    return Run([&](PGconn* conn, bool*) { return Execute(conn, ping, context_, "ping"); });
  }

  std::string_view Kind() const override { return "postgresql"; }

 private:
  // Every operation here is idempotent (inserts skip existing rows), so
  // repeating one whose outcome is unknown after a cut session is safe.
  template <typename Operation>
  Status Run(Operation&& operation) {
    return pool_.Run(std::forward<Operation>(operation));
  }

  // Runs one of the dialect's bounded deletes, which return their count.
  Result<int64_t> DeletedCount(const SqlStatement& statement, std::string_view what) {
    PgResult result;
    Status status = Run([&](PGconn* conn, bool*) { return Execute(conn, statement, context_, what, &result); });
    if (!status.ok()) return status;
    const std::optional<int64_t> count =
        PQntuples(result.get()) == 1 ? ParseSqlInteger(Value(result.get(), 0, 0)) : std::nullopt;
    if (!count) return Status::Internal(std::string(what) + " (" + context_.where + "): no row count returned");
    return *count;
  }

  Result<std::vector<ErasureJobRow>> ErasureJobs(const SqlStatement& query, std::string_view what) {
    PgResult result;
    Status status = Run([&](PGconn* conn, bool*) { return Execute(conn, query, context_, what, &result); });
    if (!status.ok()) return status;
    const PGresult* raw = result.get();
    std::vector<ErasureJobRow> rows;
    rows.reserve(static_cast<size_t>(PQntuples(raw)));
    std::vector<std::string_view> columns(static_cast<size_t>(PQnfields(raw)));
    for (int r = 0; r < PQntuples(raw); ++r) {
      for (size_t c = 0; c < columns.size(); ++c) columns[c] = Value(raw, r, static_cast<int>(c));
      std::optional<ErasureJobRow> row = ErasureJobFromColumns(columns);
      if (!row) return Status::Internal(std::string(what) + " (" + context_.where + "): malformed row");
      rows.push_back(std::move(*row));
    }
    return rows;
  }

  Status MigrateInTransaction(PGconn* conn) {
    const SqlDialect& dialect = context_.dialect;
    if (Status s = Execute(conn, SqlStatement{"BEGIN", {}}, context_, "migrating"); !s.ok())
      return s;
    for (const SqlStatement& statement : dialect.MigrateBegin(context_.options.statement_timeout)) {
      if (Status s = Execute(conn, statement, context_, "migrating"); !s.ok()) return s;
    }
    PgResult result;
    if (Status s =
            Execute(conn, dialect.SchemaVersion(), context_, "reading schema version", &result);
        !s.ok()) {
      return s;
    }
    const std::optional<int> version = VersionFrom(result.get());
    if (version && *version > kSqlSchemaVersion) {
      return SchemaVersionStatus(version, context_.where);
    }
    const bool upgrade = !version || *version < kSqlSchemaVersion;
    if (upgrade) {
      for (const SqlStatement& statement : dialect.MigrateUpgrade(version.value_or(0))) {
        if (Status s = Execute(conn, statement, context_, "migrating"); !s.ok()) return s;
      }
    }
    if (Status s = Execute(conn, SqlStatement{"COMMIT", {}}, context_, "committing migration");
        !s.ok()) {
      return s;
    }
    if (upgrade) {
      log::Info("migrated metadata schema", {{"store", context_.where},
                                             {"from_version", version.value_or(0)},
                                             {"to_version", kSqlSchemaVersion}});
    }
    return Status::Ok();
  }

  Result<std::optional<int>> SchemaVersion() {
    const SqlStatement query = context_.dialect.SchemaVersion();
    PgResult result;
    Status status = Run([&](PGconn* conn, bool*) {
      return Execute(conn, query, context_, "reading schema version", &result);
    });
    if (!status.ok()) return status;
    return VersionFrom(result.get());
  }

  static std::optional<int> VersionFrom(const PGresult* result) {
    if (result == nullptr || PQntuples(result) < 1 || PQgetisnull(result, 0, 0))
      return std::nullopt;
    int version = 0;
    const std::string_view text = Value(result, 0, 0);
    if (std::from_chars(text.data(), text.data() + text.size(), version).ec != std::errc()) {
      return std::nullopt;
    }
    return version;
  }

  const Context context_;
  ConnectionPool<Connection> pool_;
};

}  // namespace

Result<PostgresMetadataOptions> PostgresMetadataOptionsFromUrl(std::string_view url) {
  if (!url.starts_with("postgresql://") && !url.starts_with("postgres://")) {
    return Status::InvalidArgument("not a postgresql:// URL: " + RedactPostgresUrl(url));
  }
  PostgresMetadataOptions options;
  const size_t query = url.find('?');
  options.url = std::string(url.substr(0, query));
  if (query == std::string_view::npos) return options;

  std::vector<std::string_view> kept;
  for (std::string_view parameter : Split(url.substr(query + 1), '&')) {
    if (parameter.empty()) continue;
    const size_t equals = parameter.find('=');
    const std::string key = PercentDecode(parameter.substr(0, equals));
    const std::string value = equals == std::string_view::npos
                                  ? std::string()
                                  : PercentDecode(parameter.substr(equals + 1));
    if (key == "pool_size") {
      Result<int64_t> n = ParseNumber(key, value, 1, kMaxPoolSize, url);
      if (!n.ok()) return n.status();
      options.pool_size = static_cast<int>(*n);
    } else if (key == "statement_timeout_ms" || key == "pool_timeout_ms") {
      Result<int64_t> n = ParseNumber(key, value, 0, kMaxTimeoutMs, url);
      if (!n.ok()) return n.status();
      (key == "pool_timeout_ms" ? options.pool_timeout : options.statement_timeout) =
          std::chrono::milliseconds(*n);
    } else if (key == "schema") {
      if (!IsValidSqlIdentifier(value)) {
        return Status::InvalidArgument(
            "schema must be 1-63 letters, digits or '_', not starting with a digit, in " +
            RedactPostgresUrl(url));
      }
      options.schema = value;
    } else {
      if (key == "connect_timeout") {
        // libpq reads it too (seconds); we pass the same value explicitly.
        Result<int64_t> n = ParseNumber(key, value, 0, kMaxTimeoutMs / 1000, url);
        if (!n.ok()) return n.status();
        options.connect_timeout = std::chrono::seconds(*n);
      }
      kept.push_back(parameter);
    }
  }
  for (size_t i = 0; i < kept.size(); ++i) {
    options.url += i == 0 ? '?' : '&';
    options.url += kept[i];
  }
  return options;
}

Result<std::unique_ptr<MetadataStore>> OpenPostgresMetadataStore(
    const PostgresMetadataOptions& options) {
  if (options.pool_size < 1 || options.pool_size > kMaxPoolSize) {
    return Status::InvalidArgument("pool_size must be from 1 to " + std::to_string(kMaxPoolSize));
  }
  if (!options.schema.empty() && !IsValidSqlIdentifier(options.schema)) {
    return Status::InvalidArgument(
        "schema must be 1-63 letters, digits or '_', not starting with a digit");
  }
  std::string where = "PostgreSQL " + RedactPostgresUrl(options.url);
  if (!options.schema.empty()) where += " schema " + options.schema;
  Context context{
      options,
      SqlDialect(SqlDialectKind::kPostgres, SqlParameterStyle::kDollarNumbered, options.schema),
      UrlSecrets(options.url), std::move(where)};
  auto store = std::make_unique<PostgresMetadataStore>(std::move(context));
  if (Status s = store->Start(); !s.ok()) return s;
  return std::unique_ptr<MetadataStore>(std::move(store));
}

}  // namespace eventlogger
