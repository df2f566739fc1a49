#include "storage/odbc_metadata_store.h"

#include <sql.h>
#include <sqlext.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cstdint>
#include <optional>
#include <utility>
#include <vector>

#include "core/log.h"
#include "core/uuid.h"
#include "storage/connection_pool.h"
#include "storage/sql_dialect.h"

namespace eventlogger {
namespace {

// ODBC passes an integer attribute's value in the pointer argument of
// SQLSet*Attr (the length argument says which it is).
SQLPOINTER IntegerAttribute(uintptr_t value) {
  return reinterpret_cast<SQLPOINTER>(value);  // NOLINT(performance-no-int-to-ptr): the ODBC calling convention
}

static_assert(sizeof(SQLWCHAR) == sizeof(char16_t), "unixODBC's SQLWCHAR is UTF-16");

constexpr int kMaxPoolSize = 1000;
constexpr int64_t kMaxTimeoutMs = 24LL * 60 * 60 * 1000;
// Longer parameters go as SQL_WLONGVARCHAR: SQL Server's nvarchar(n) stops
// at 4,000 characters.
constexpr size_t kMaxVarcharParameter = 4000;

// ---- Text -------------------------------------------------------------------

// UTF-8 → UTF-16. Input is validated UTF-8; a malformed byte still becomes
// U+FFFD rather than garbage.
std::u16string Utf8ToUtf16(std::string_view text) {
  std::u16string out;
  out.reserve(text.size());
  size_t i = 0;
  while (i < text.size()) {
    const auto byte = static_cast<unsigned char>(text[i]);
    uint32_t code = 0xFFFD;
    size_t length = 1;
    if (byte < 0x80) {
      code = byte;
    } else {
      const size_t need = byte >= 0xF0 && byte < 0xF5   ? 4
                          : byte >= 0xE0                ? 3
                          : byte >= 0xC2 && byte < 0xE0 ? 2
                                                        : 0;
      if (need > 0 && i + need <= text.size()) {
        uint32_t value = byte & (0xFF >> (need + 1));
        bool valid = true;
        for (size_t k = 1; k < need; ++k) {
          const auto next = static_cast<unsigned char>(text[i + k]);
          if ((next & 0xC0) != 0x80) {
            valid = false;
            break;
          }
          value = (value << 6) | (next & 0x3F);
        }
        const uint32_t min = need == 2 ? 0x80 : need == 3 ? 0x800 : 0x10000;
        if (valid && value >= min && value <= 0x10FFFF && (value < 0xD800 || value > 0xDFFF)) {
          code = value;
          length = need;
        }
      }
    }
    if (code >= 0x10000) {
      code -= 0x10000;
      out += static_cast<char16_t>(0xD800 + (code >> 10));
      out += static_cast<char16_t>(0xDC00 + (code & 0x3FF));
    } else {
      out += static_cast<char16_t>(code);
    }
    i += length;
  }
  return out;
}

std::string Utf16ToUtf8(std::u16string_view text) {
  std::string out;
  out.reserve(text.size());
  for (size_t i = 0; i < text.size(); ++i) {
    uint32_t code = text[i];
    if (code >= 0xD800 && code <= 0xDBFF && i + 1 < text.size() && text[i + 1] >= 0xDC00 &&
        text[i + 1] <= 0xDFFF) {
      code = 0x10000 + ((code - 0xD800) << 10) + (text[i + 1] - 0xDC00);
      ++i;
    } else if (code >= 0xD800 && code <= 0xDFFF) {
      code = 0xFFFD;  // unpaired surrogate
    }
    if (code < 0x80) {
      out += static_cast<char>(code);
    } else if (code < 0x800) {
      out += static_cast<char>(0xC0 | (code >> 6));
      out += static_cast<char>(0x80 | (code & 0x3F));
    } else if (code < 0x10000) {
      out += static_cast<char>(0xE0 | (code >> 12));
      out += static_cast<char>(0x80 | ((code >> 6) & 0x3F));
      out += static_cast<char>(0x80 | (code & 0x3F));
    } else {
      out += static_cast<char>(0xF0 | (code >> 18));
      out += static_cast<char>(0x80 | ((code >> 12) & 0x3F));
      out += static_cast<char>(0x80 | ((code >> 6) & 0x3F));
      out += static_cast<char>(0x80 | (code & 0x3F));
    }
  }
  return out;
}

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) ==
                  std::tolower(static_cast<unsigned char>(y));
         });
}

std::string_view Trim(std::string_view text) {
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.front())))
    text.remove_prefix(1);
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.back())))
    text.remove_suffix(1);
  return text;
}

// ---- Connection strings -------------------------------------------------------

// One "key=value" of a connection string. `raw` is the attribute as written
// (so it can be passed on byte for byte); `value` has {braces} removed.
struct Attribute {
  std::string key;
  std::string value;
  std::string_view raw;
};

// ODBC's grammar: attributes separated by ';', a value in braces may
// contain ';' and '}' (written "}}").
std::optional<std::vector<Attribute>> ParseConnectionString(std::string_view text) {
  std::vector<Attribute> attributes;
  size_t i = 0;
  while (i < text.size()) {
    const size_t start = i;
    const size_t equals = text.find('=', i);
    const size_t semicolon = text.find(';', i);
    if (equals == std::string_view::npos ||
        (semicolon != std::string_view::npos && semicolon < equals)) {
      // A piece without '=' is only acceptable when blank (";;", trailing).
      const size_t end = semicolon == std::string_view::npos ? text.size() : semicolon;
      if (!Trim(text.substr(i, end - i)).empty()) return std::nullopt;
      i = end + 1;
      continue;
    }
    Attribute attribute;
    attribute.key = std::string(Trim(text.substr(i, equals - i)));
    if (attribute.key.empty()) return std::nullopt;
    i = equals + 1;
    while (i < text.size() && text[i] == ' ') ++i;
    if (i < text.size() && text[i] == '{') {
      ++i;
      for (;;) {
        if (i >= text.size()) return std::nullopt;  // unclosed brace
        if (text[i] == '}') {
          if (i + 1 < text.size() && text[i + 1] == '}') {
            attribute.value += '}';
            i += 2;
            continue;
          }
          ++i;
          break;
        }
        attribute.value += text[i++];
      }
      while (i < text.size() && text[i] == ' ') ++i;
      if (i < text.size() && text[i] != ';') return std::nullopt;
    } else {
      const size_t end = text.find(';', i);
      attribute.value = std::string(
          Trim(text.substr(i, (end == std::string_view::npos ? text.size() : end) - i)));
      i = end == std::string_view::npos ? text.size() : end;
    }
    attribute.raw = text.substr(start, i - start);
    attributes.push_back(std::move(attribute));
    ++i;  // past ';'
  }
  return attributes;
}

bool IsPasswordKey(std::string_view key) {
  return EqualsIgnoreCase(key, "PWD") || EqualsIgnoreCase(key, "Password");
}

std::vector<std::string> ConnectionStringSecrets(std::string_view text) {
  std::vector<std::string> secrets;
  if (auto attributes = ParseConnectionString(text)) {
    for (const Attribute& attribute : *attributes) {
      if (IsPasswordKey(attribute.key) && !attribute.value.empty()) {
        secrets.push_back(attribute.value);
        const std::string_view raw_value = Trim(attribute.raw.substr(attribute.raw.find('=') + 1));
        if (raw_value != attribute.value) secrets.emplace_back(raw_value);  // braced spelling
      }
    }
  }
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

Result<int64_t> ParseNumber(std::string_view name, std::string_view value, int64_t min,
                            int64_t max) {
  int64_t number = 0;
  const auto [end, error] = std::from_chars(value.data(), value.data() + value.size(), number);
  if (value.empty() || error != std::errc() || end != value.data() + value.size() || number < min ||
      number > max) {
    return Status::InvalidArgument(std::string(name) + " must be an integer from " +
                                   std::to_string(min) + " to " + std::to_string(max) +
                                   " in the ODBC connection string");
  }
  return number;
}

// ---- Handles and diagnostics --------------------------------------------------

struct EnvironmentDeleter {
  void operator()(void* env) const { SQLFreeHandle(SQL_HANDLE_ENV, env); }
};
using Environment = std::unique_ptr<void, EnvironmentDeleter>;

// A connection handle, disconnected and freed on destruction.
class OdbcConnection {
 public:
  explicit OdbcConnection(SQLHDBC dbc) : dbc_(dbc) {}
  ~OdbcConnection() {
    if (connected_) SQLDisconnect(dbc_);
    SQLFreeHandle(SQL_HANDLE_DBC, dbc_);
  }
  OdbcConnection(const OdbcConnection&) = delete;
  OdbcConnection& operator=(const OdbcConnection&) = delete;

  SQLHDBC dbc() const { return dbc_; }
  void set_connected() { connected_ = true; }
  // Set when a statement failed with a connection-level SQLSTATE.
  void set_lost() { lost_ = true; }
  // Set while autocommit is off (a migration); a connection is reusable only
  // when it is back on.
  bool in_transaction() const { return in_transaction_; }
  void set_in_transaction(bool value) { in_transaction_ = value; }

  bool Broken() const {
    if (lost_) return true;
    // The driver's own view (psqlODBC and msodbcsql both answer it).
    SQLUINTEGER dead = SQL_CD_FALSE;
    const SQLRETURN rc = SQLGetConnectAttr(dbc_, SQL_ATTR_CONNECTION_DEAD, &dead, 0, nullptr);
    return SQL_SUCCEEDED(rc) && dead == SQL_CD_TRUE;
  }

 private:
  SQLHDBC dbc_;
  bool connected_ = false;
  bool lost_ = false;
  bool in_transaction_ = false;
};
using Connection = std::unique_ptr<OdbcConnection>;

struct StatementDeleter {
  void operator()(void* stmt) const { SQLFreeHandle(SQL_HANDLE_STMT, stmt); }
};
using Statement = std::unique_ptr<void, StatementDeleter>;

struct Diagnostics {
  std::string sqlstate;  // of the first record
  std::string message;   // all records, "; "-separated
};

Diagnostics ReadDiagnostics(SQLSMALLINT handle_type, SQLHANDLE handle) {
  Diagnostics out;
  for (SQLSMALLINT record = 1;; ++record) {
    SQLWCHAR state[6] = {};
    SQLINTEGER native = 0;
    SQLWCHAR text[1024] = {};
    SQLSMALLINT length = 0;
    const SQLRETURN rc = SQLGetDiagRecW(handle_type, handle, record, state, &native, text,
                                        static_cast<SQLSMALLINT>(std::size(text)), &length);
    if (!SQL_SUCCEEDED(rc)) break;
    const auto* state16 = reinterpret_cast<const char16_t*>(state);
    const auto* text16 = reinterpret_cast<const char16_t*>(text);
    const size_t text_length =
        std::min<size_t>(std::max<SQLSMALLINT>(length, 0), std::size(text) - 1);
    // The first record may be a mere warning (class 01, e.g. unixODBC's
    // "Can't open lib" comes as 01000 before IM004); the error is what counts.
    const std::string sqlstate = Utf16ToUtf8(std::u16string_view(state16, 5));
    if (out.sqlstate.empty() || (out.sqlstate.starts_with("01") && !sqlstate.starts_with("01"))) {
      out.sqlstate = sqlstate;
    }
    if (!out.message.empty()) out.message += "; ";
    out.message += Utf16ToUtf8(std::u16string_view(text16, text_length));
  }
  // Driver messages may span lines and carry tabs; make them one line.
  std::string flat;
  for (char c : out.message) {
    const bool space = c == '\n' || c == '\r' || c == '\t' || c == ' ';
    if (space && (flat.empty() || flat.back() == ' ')) continue;
    flat += space ? ' ' : c;
  }
  while (!flat.empty() && flat.back() == ' ') flat.pop_back();
  out.message = std::move(flat);
  return out;
}

// Everything that describes the data source and never changes: shared by
// the store and its pool.
struct Context {
  OdbcMetadataOptions options;
  Environment env;
  SqlDialect dialect;
  std::vector<std::string> secrets;
  std::string where;  // "ODBC Driver={…};…;PWD=***;", for messages

  // Translates an ODBC failure into our Status, in one place. Marks the
  // connection lost when the SQLSTATE says the link is gone.
  Status Failure(SQLSMALLINT handle_type, SQLHANDLE handle, OdbcConnection* conn,
                 std::string_view what) const {
    Diagnostics diagnostics = ReadDiagnostics(handle_type, handle);
    std::string message = std::string(what) + " (" + where +
                          "): " + ReplaceSecrets(std::move(diagnostics.message), secrets);
    if (conn != nullptr && SqlStateMeansConnectionLost(diagnostics.sqlstate)) conn->set_lost();
    if (conn != nullptr && conn->Broken() && !SqlStateMeansConnectionLost(diagnostics.sqlstate)) {
      // Some drivers report a dropped link with a generic SQLSTATE.
      return Status::Unavailable(std::move(message) + " [connection lost]");
    }
    return SqlStateToStatus(diagnostics.sqlstate, std::move(message));
  }
};

// Receives each row's columns as UTF-8 (nullopt for NULL); returns false to
// stop reading.
using RowVisitor = std::function<bool(const std::vector<std::optional<std::string>>& columns)>;

Status ReadColumn(SQLHSTMT stmt, SQLUSMALLINT column, const Context& context, OdbcConnection* conn,
                  std::optional<std::string>* out) {
  std::u16string text;
  SQLWCHAR buffer[1024];
  constexpr SQLLEN kBufferBytes = sizeof(buffer);
  for (;;) {
    SQLLEN indicator = 0;
    const SQLRETURN rc = SQLGetData(stmt, column, SQL_C_WCHAR, buffer, kBufferBytes, &indicator);
    if (rc == SQL_NO_DATA) break;
    if (!SQL_SUCCEEDED(rc)) return context.Failure(SQL_HANDLE_STMT, stmt, conn, "reading a column");
    if (indicator == SQL_NULL_DATA) {
      out->reset();
      return Status::Ok();
    }
    // Truncated (more to come): the buffer holds all it can, less the NUL.
    const bool truncated = indicator == SQL_NO_TOTAL || indicator >= kBufferBytes;
    const size_t chars =
        truncated ? std::size(buffer) - 1 : static_cast<size_t>(indicator) / sizeof(SQLWCHAR);
    text.append(reinterpret_cast<const char16_t*>(buffer), chars);
    if (rc == SQL_SUCCESS) break;
  }
  *out = Utf16ToUtf8(text);
  return Status::Ok();
}

// Runs one statement with its parameters bound as UTF-16 text. Rows, if any,
// go to `visit`; `delivered` records whether any did. Later result sets
// (T-SQL batches) are drained so their errors are seen.
Status Execute(OdbcConnection* conn, const SqlStatement& statement, const Context& context,
               std::string_view what, const RowVisitor& visit = nullptr,
               bool* delivered = nullptr) {
  SQLHSTMT raw = nullptr;
  if (!SQL_SUCCEEDED(SQLAllocHandle(SQL_HANDLE_STMT, conn->dbc(), &raw))) {
    return context.Failure(SQL_HANDLE_DBC, conn->dbc(), conn, what);
  }
  Statement stmt(raw);
  // Autocommit is off only in a migration, whose statements (index builds)
  // may rightly take longer than a request's.
  const int64_t timeout_ms = context.options.statement_timeout.count();
  if (!context.dialect.has_server_statement_timeout() && timeout_ms > 0 &&
      !conn->in_transaction()) {
    const auto seconds = static_cast<SQLULEN>((timeout_ms + 999) / 1000);
    SQLSetStmtAttr(raw, SQL_ATTR_QUERY_TIMEOUT, IntegerAttribute(seconds),
                   SQL_IS_UINTEGER);
  }
  // Bound buffers must stay put until execution: sized up front.
  std::vector<std::u16string> values(statement.parameters.size());
  std::vector<SQLLEN> indicators(statement.parameters.size());
  for (size_t i = 0; i < statement.parameters.size(); ++i) {
    const auto number = static_cast<SQLUSMALLINT>(i + 1);
    SQLRETURN rc;
    if (!statement.parameters[i]) {
      indicators[i] = SQL_NULL_DATA;
      rc = SQLBindParameter(raw, number, SQL_PARAM_INPUT, SQL_C_WCHAR, SQL_WVARCHAR, 1, 0, nullptr,
                            0, &indicators[i]);
    } else {
      values[i] = Utf8ToUtf16(*statement.parameters[i]);
      indicators[i] = static_cast<SQLLEN>(values[i].size() * sizeof(SQLWCHAR));
      const SQLSMALLINT type =
          values[i].size() > kMaxVarcharParameter ? SQL_WLONGVARCHAR : SQL_WVARCHAR;
      rc = SQLBindParameter(raw, number, SQL_PARAM_INPUT, SQL_C_WCHAR, type,
                            std::max<SQLULEN>(values[i].size(), 1), 0, values[i].data(),
                            indicators[i], &indicators[i]);
    }
    if (!SQL_SUCCEEDED(rc)) return context.Failure(SQL_HANDLE_STMT, raw, conn, what);
  }
  SQLRETURN rc = SQLExecDirect(
      raw, reinterpret_cast<SQLCHAR*>(const_cast<char*>(statement.text.c_str())), SQL_NTS);
  // SQL_NO_DATA: a DELETE or UPDATE that matched nothing, or a batch whose
  // first statement returns nothing; a later one may still fail.
  if (rc != SQL_NO_DATA && !SQL_SUCCEEDED(rc))
    return context.Failure(SQL_HANDLE_STMT, raw, conn, what);
  for (bool has_result = rc != SQL_NO_DATA;; has_result = true) {
    SQLSMALLINT columns = 0;
    if (has_result && !SQL_SUCCEEDED(SQLNumResultCols(raw, &columns))) {
      return context.Failure(SQL_HANDLE_STMT, raw, conn, what);
    }
    if (columns > 0) {
      std::vector<std::optional<std::string>> row(static_cast<size_t>(columns));
      for (;;) {
        rc = SQLFetch(raw);
        if (rc == SQL_NO_DATA) break;
        if (!SQL_SUCCEEDED(rc)) return context.Failure(SQL_HANDLE_STMT, raw, conn, what);
        for (SQLSMALLINT c = 0; c < columns; ++c) {
          if (Status s = ReadColumn(raw, static_cast<SQLUSMALLINT>(c + 1), context, conn,
                                    &row[static_cast<size_t>(c)]);
              !s.ok()) {
            return s;
          }
        }
        if (!visit) continue;
        if (delivered != nullptr) *delivered = true;
        // Stopping early: freeing the statement closes the cursor.
        if (!visit(row)) return Status::Ok();
      }
    }
    rc = SQLMoreResults(raw);
    if (rc == SQL_NO_DATA) return Status::Ok();
    if (!SQL_SUCCEEDED(rc)) return context.Failure(SQL_HANDLE_STMT, raw, conn, what);
  }
}

Status SetAutocommit(OdbcConnection* conn, bool on, const Context& context) {
  const SQLRETURN rc = SQLSetConnectAttr(conn->dbc(), SQL_ATTR_AUTOCOMMIT,
                                         IntegerAttribute(on ? SQL_AUTOCOMMIT_ON : SQL_AUTOCOMMIT_OFF),
                                         SQL_IS_UINTEGER);
  if (!SQL_SUCCEEDED(rc))
    return context.Failure(SQL_HANDLE_DBC, conn->dbc(), conn, "setting autocommit");
  conn->set_in_transaction(!on);
  return Status::Ok();
}

Status EndTransaction(OdbcConnection* conn, bool commit, const Context& context) {
  const SQLRETURN rc = SQLEndTran(SQL_HANDLE_DBC, conn->dbc(), commit ? SQL_COMMIT : SQL_ROLLBACK);
  if (!SQL_SUCCEEDED(rc)) {
    return context.Failure(SQL_HANDLE_DBC, conn->dbc(), conn,
                           commit ? "committing migration" : "rolling back migration");
  }
  return SetAutocommit(conn, true, context);
}

// Opens a connection, without any session setup (the dialect may not be
// known yet).
Result<Connection> ConnectRaw(SQLHENV env, const OdbcMetadataOptions& options,
                              const std::vector<std::string>& secrets, const std::string& where) {
  SQLHDBC dbc = nullptr;
  if (!SQL_SUCCEEDED(SQLAllocHandle(SQL_HANDLE_DBC, env, &dbc))) {
    return Status::Unavailable("allocating an ODBC connection handle for " + where);
  }
  Connection conn = std::make_unique<OdbcConnection>(dbc);
  const int64_t connect_ms = options.connect_timeout.count();
  if (connect_ms > 0) {
    const auto seconds = static_cast<uintptr_t>((connect_ms + 999) / 1000);
    SQLSetConnectAttr(dbc, SQL_ATTR_LOGIN_TIMEOUT, IntegerAttribute(seconds),
                      SQL_IS_UINTEGER);
  }
  const SQLRETURN rc = SQLDriverConnect(
      dbc, nullptr,
      reinterpret_cast<SQLCHAR*>(const_cast<char*>(options.connection_string.c_str())), SQL_NTS,
      nullptr, 0, nullptr, SQL_DRIVER_NOPROMPT);
  if (!SQL_SUCCEEDED(rc)) {
    Diagnostics diagnostics = ReadDiagnostics(SQL_HANDLE_DBC, dbc);
    std::string message = "connecting to " + where + ": " +
                          ReplaceSecrets(std::move(diagnostics.message), secrets) + " [SQLSTATE " +
                          diagnostics.sqlstate + "]";
    // IMxxx: the driver manager found no such DSN or driver. It reports a
    // driver library it cannot load with only a warning record (01000,
    // "Can't open lib"): no driver ever ran. Either way, retrying will not help.
    if (diagnostics.sqlstate.starts_with("IM") || diagnostics.sqlstate.starts_with("01")) {
      return Status::InvalidArgument(std::move(message));
    }
    return Status::Unavailable(std::move(message));
  }
  conn->set_connected();
  return conn;
}

Result<Connection> Connect(const Context& context) {
  Result<Connection> conn =
      ConnectRaw(context.env.get(), context.options, context.secrets, context.where);
  if (!conn.ok()) return conn;
  for (const SqlStatement& statement :
       context.dialect.SessionSetup(context.options.statement_timeout)) {
    if (Status s = Execute(conn->get(), statement, context, "setting up session"); !s.ok())
      return s;
  }
  return conn;
}

EventMetadata RowToMetadata(const std::vector<std::optional<std::string>>& columns) {
  const auto text = [&columns](size_t i) {
    return i < columns.size() && columns[i] ? *columns[i] : std::string();
  };
  return EventMetadata{text(0), text(1), text(2), text(3), text(4), text(5), text(6), text(7)};
}

class OdbcMetadataStore final : public MetadataStore {
 public:
  explicit OdbcMetadataStore(Context context)
      : context_(std::move(context)),
        kind_("odbc-" + std::string(context_.dialect.name())),
        pool_({.size = context_.options.pool_size,
               .wait = context_.options.pool_timeout,
               .noun = "connection",
               .where = context_.where,
               .connect = [this] { return Connect(context_); },
               // ODBC has no cheap liveness probe, so an idle connection is
               // taken as it is: a stale one shows itself on first use, and
               // Run retries once on a fresh one.
               .usable = [](Connection& conn,
                            bool taking) {
                 return taking || (!conn->in_transaction() && !conn->Broken());
               },
               .broken = [](Connection& conn) { return conn->Broken(); }}) {}

  void Adopt(Connection conn) { pool_.Adopt(std::move(conn)); }

  Status WriteBatch(EventBatch events) override {
    if (events.empty()) return Status::Ok();
    const SqlStatement insert = context_.dialect.InsertBatch(events);
    return Run([&](OdbcConnection* conn, bool*) {
      return Execute(conn, insert, context_, "writing event metadata");
    });
  }

  Status ScanUser(std::string_view user_id,
                  const std::function<bool(const EventMetadata&)>& visit) override {
    return Query(context_.dialect.ScanUser(user_id), "reading a user's event metadata", visit);
  }

  Status Scan(const ScanFilter& filter,
              const std::function<bool(const EventMetadata&)>& visit) override {
    return Query(context_.dialect.Scan(filter), "scanning event metadata", visit);
  }

  Result<EventMetadata> FindByIdempotencyKey(std::string_view user_id,
                                             std::string_view key) override {
    std::optional<EventMetadata> found;
    const Status status =
        Query(context_.dialect.FindByIdempotencyKey(user_id, key), "looking up an idempotency key",
              [&found](const EventMetadata& row) {
                found = row;
                return false;
              });
    if (!status.ok()) return status;
    if (!found) return Status::NotFound("no event with this idempotency key");
    return *found;
  }

  Result<EventMetadata> FindEvent(std::string_view user_id, std::string_view event_id) override {
    // The column is a uuid (uniqueidentifier): any other text would fail the
    // statement, yet it names no event all the same.
    if (!ParseUuid(event_id)) return Status::NotFound("no event with this eventId");
    std::optional<EventMetadata> found;
    const Status status = Query(context_.dialect.FindEvent(user_id, event_id), "looking up an event",
                                [&found](const EventMetadata& row) {
                                  found = row;
                                  return false;
                                });
    if (!status.ok()) return status;
    if (!found) return Status::NotFound("no event with this eventId");
    return *found;
  }

  // Not retried after a cut connection (see the PostgreSQL store).
  Status InsertApiKey(const ApiKeyRow& row) override {
    const SqlStatement insert = context_.dialect.InsertApiKey(row);
    return Run([&](OdbcConnection* conn, bool* delivered) {
      *delivered = true;
      return Execute(conn, insert, context_, "storing an API key");
    });
  }

  Result<std::vector<ApiKeyRow>> ListApiKeys() override {
    const SqlStatement query = context_.dialect.ListApiKeys();
    std::vector<ApiKeyRow> rows;
    Status status = Run([&](OdbcConnection* conn, bool* delivered) {
      rows.clear();
      return Execute(
          conn, query, context_, "listing API keys",
          [&rows](const std::vector<std::optional<std::string>>& c) {
            const auto text = [&c](size_t i) { return i < c.size() ? c[i].value_or("") : std::string(); };
            rows.push_back(ApiKeyRow{text(0), text(1), text(2), text(3), text(4), text(5), text(6)});
            return true;
          },
          delivered);
    });
    if (!status.ok()) return status;
    return rows;
  }

  Status RevokeApiKey(std::string_view id, std::string_view revoked_at) override {
    const SqlStatement update = context_.dialect.RevokeApiKey(id, revoked_at);
    bool found = false;
    Status status = Run([&](OdbcConnection* conn, bool* delivered) {
      return Execute(
          conn, update, context_, "revoking an API key",
          [&found](const auto&) {
            found = true;
            return true;
          },
          delivered);
    });
    if (!status.ok()) return status;
    if (!found) return Status::NotFound("no API key has id " + std::string(id));
    return Status::Ok();
  }

  Status RecordApiKeyUse(std::string_view id, std::string_view used_at) override {
    const SqlStatement update = context_.dialect.RecordApiKeyUse(id, used_at);
    return Run([&](OdbcConnection* conn, bool*) {
      return Execute(conn, update, context_, "recording an API key's use");
    });
  }

  // Repeated on a fresh connection after a cut one (see the PostgreSQL store).
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
    return Run([&](OdbcConnection* conn, bool*) {
      return Execute(conn, upsert, context_, "placing a legal hold");
    });
  }

  // Not retried after a cut connection (see the PostgreSQL store).
  Status DeleteLegalHold(std::string_view user_id) override {
    const SqlStatement remove = context_.dialect.DeleteLegalHold(user_id);
    bool found = false;
    Status status = Run([&](OdbcConnection* conn, bool* delivered) {
      *delivered = true;
      return Execute(conn, remove, context_, "removing a legal hold", [&found](const auto&) {
        found = true;
        return true;
      });
    });
    if (!status.ok()) return status;
    if (!found) return Status::NotFound("no legal hold on user " + std::string(user_id));
    return Status::Ok();
  }

  Result<std::vector<LegalHoldRow>> ListLegalHolds() override {
    const SqlStatement query = context_.dialect.ListLegalHolds();
    std::vector<LegalHoldRow> rows;
    Status status = Run([&](OdbcConnection* conn, bool* delivered) {
      rows.clear();
      return Execute(
          conn, query, context_, "listing legal holds",
          [&rows](const std::vector<std::optional<std::string>>& c) {
            const auto text = [&c](size_t i) { return i < c.size() ? c[i].value_or("") : std::string(); };
            rows.push_back(LegalHoldRow{text(0), text(1), text(2)});
            return true;
          },
          delivered);
    });
    if (!status.ok()) return status;
    return rows;
  }

  // Not retried after a cut connection (see the PostgreSQL store).
  Status InsertErasureJob(const ErasureJobRow& row) override {
    const SqlStatement insert = context_.dialect.InsertErasureJob(row);
    return Run([&](OdbcConnection* conn, bool* delivered) {
      *delivered = true;
      return Execute(conn, insert, context_, "storing an erasure job");
    });
  }

  Status UpdateErasureJob(const ErasureJobRow& row) override {
    // The column is a uuid (uniqueidentifier): any other text names no job.
    if (!ParseUuid(row.id)) return Status::NotFound("no erasure job has id " + row.id);
    const SqlStatement update = context_.dialect.UpdateErasureJob(row);
    bool found = false;
    Status status = Run([&](OdbcConnection* conn, bool* delivered) {
      return Execute(
          conn, update, context_, "updating an erasure job",
          [&found](const auto&) {
            found = true;
            return true;
          },
          delivered);
    });
    if (!status.ok()) return status;
    if (!found) return Status::NotFound("no erasure job has id " + row.id);
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
    return Run([&](OdbcConnection* conn, bool*) {
      Status status = MigrateInTransaction(conn);
      if (!status.ok() && conn->in_transaction() && !conn->Broken()) {
        // Otherwise the pool drops the connection, which rolls back too.
        (void)EndTransaction(conn, /*commit=*/false, context_);
      }
      return status;
    });
  }

  Status CheckSchema() override {
    Result<std::optional<int>> version = SchemaVersion();
    if (!version.ok()) {
      if (version.status().code() == StatusCode::kFailedPrecondition) {
        return SchemaVersionStatus(std::nullopt, context_.where);
      }
      return version.status();
    }
    return SchemaVersionStatus(*version, context_.where);
  }

  Status Ping() override {
    const SqlStatement ping = context_.dialect.Ping();
    return Run([&](OdbcConnection* conn, bool*) {
      return Execute(conn, ping, context_, "ping", [](const auto&) { return true; });
    });
  }

  std::string_view Kind() const override { return kind_; }

 private:
  // Every operation here is idempotent (inserts skip existing rows), so
  // repeating one whose outcome is unknown after a cut connection is safe.
  template <typename Operation>
  Status Run(Operation&& operation) {
    return pool_.Run(std::forward<Operation>(operation));
  }

  Status Query(const SqlStatement& query, std::string_view what,
               const std::function<bool(const EventMetadata&)>& visit) {
    return Run([&](OdbcConnection* conn, bool* delivered) {
      return Execute(
          conn, query, context_, what,
          [&visit](const std::vector<std::optional<std::string>>& columns) {
            return visit(RowToMetadata(columns));
          },
          delivered);
    });
  }

  // Runs one of the dialect's bounded deletes, which return their count.
  Result<int64_t> DeletedCount(const SqlStatement& statement, std::string_view what) {
    std::optional<int64_t> count;
    Status status = Run([&](OdbcConnection* conn, bool*) {
      count.reset();
      return Execute(conn, statement, context_, what, [&count](const std::vector<std::optional<std::string>>& c) {
        if (!c.empty() && c[0]) count = ParseSqlInteger(*c[0]);
        return true;
      });
    });
    if (!status.ok()) return status;
    if (!count) return Status::Internal(std::string(what) + " (" + context_.where + "): no row count returned");
    return *count;
  }

  Result<std::vector<ErasureJobRow>> ErasureJobs(const SqlStatement& query, std::string_view what) {
    std::vector<ErasureJobRow> rows;
    bool malformed = false;
    Status status = Run([&](OdbcConnection* conn, bool* delivered) {
      rows.clear();
      return Execute(
          conn, query, context_, what,
          [&](const std::vector<std::optional<std::string>>& c) {
            std::vector<std::string_view> columns;
            columns.reserve(c.size());
            for (const auto& column : c) columns.push_back(column ? std::string_view(*column) : std::string_view());
            std::optional<ErasureJobRow> row = ErasureJobFromColumns(columns);
            if (!row) {
              malformed = true;
              return false;
            }
            rows.push_back(std::move(*row));
            return true;
          },
          delivered);
    });
    if (!status.ok()) return status;
    if (malformed) return Status::Internal(std::string(what) + " (" + context_.where + "): malformed row");
    return rows;
  }

  Status MigrateInTransaction(OdbcConnection* conn) {
    const SqlDialect& dialect = context_.dialect;
    if (Status s = SetAutocommit(conn, false, context_); !s.ok()) return s;
    for (const SqlStatement& statement : dialect.MigrateBegin(context_.options.statement_timeout)) {
      if (Status s = Execute(conn, statement, context_, "migrating"); !s.ok()) return s;
    }
    std::optional<int> version;
    if (Status s = Execute(conn, dialect.SchemaVersion(), context_, "reading schema version",
                           VersionReader(&version));
        !s.ok()) {
      return s;
    }
    if (version && *version > kSqlSchemaVersion)
      return SchemaVersionStatus(version, context_.where);
    const bool upgrade = !version || *version < kSqlSchemaVersion;
    if (upgrade) {
      for (const SqlStatement& statement : dialect.MigrateUpgrade(version.value_or(0))) {
        if (Status s = Execute(conn, statement, context_, "migrating"); !s.ok()) return s;
      }
    }
    if (Status s = EndTransaction(conn, /*commit=*/true, context_); !s.ok()) return s;
    if (upgrade) {
      log::Info("migrated metadata schema", {{"store", context_.where},
                                             {"from_version", version.value_or(0)},
                                             {"to_version", kSqlSchemaVersion}});
    }
    return Status::Ok();
  }

  Result<std::optional<int>> SchemaVersion() {
    const SqlStatement query = context_.dialect.SchemaVersion();
    std::optional<int> version;
    Status status = Run([&](OdbcConnection* conn, bool*) {
      return Execute(conn, query, context_, "reading schema version", VersionReader(&version));
    });
    if (!status.ok()) return status;
    return version;
  }

  static RowVisitor VersionReader(std::optional<int>* version) {
    return [version](const std::vector<std::optional<std::string>>& columns) {
      version->reset();
      if (!columns.empty() && columns[0]) {
        int value = 0;
        const std::string& text = *columns[0];
        if (std::from_chars(text.data(), text.data() + text.size(), value).ec == std::errc())
          *version = value;
      }
      return false;
    };
  }

  const Context context_;
  const std::string kind_;
  ConnectionPool<Connection> pool_;
};

}  // namespace

std::string RedactOdbcConnectionString(std::string_view text) {
  const bool url = text.starts_with("odbc:");
  const std::string_view body = url ? text.substr(5) : text;
  const auto attributes = ParseConnectionString(body);
  // Unparseable: it may hold a password anywhere, so show none of it.
  if (!attributes)
    return url ? "odbc:(malformed connection string)" : "(malformed connection string)";
  std::string out = url ? "odbc:" : "";
  for (const Attribute& attribute : *attributes) {
    if (IsPasswordKey(attribute.key)) {
      out += attribute.key + "=***";
    } else {
      out += attribute.raw;
    }
    out += ';';
  }
  return out;
}

Result<OdbcMetadataOptions> OdbcMetadataOptionsFromUrl(std::string_view url) {
  if (!url.starts_with("odbc:")) {
    return Status::InvalidArgument("not an odbc: URL: " + RedactOdbcConnectionString(url));
  }
  const std::string_view body = url.substr(5);
  const auto attributes = ParseConnectionString(body);
  if (!attributes) {
    return Status::InvalidArgument(
        "malformed ODBC connection string (expected key=value;…, "
        "with {braces} around values containing ';')");
  }
  OdbcMetadataOptions options;
  for (const Attribute& attribute : *attributes) {
    const std::string& key = attribute.key;
    if (EqualsIgnoreCase(key, "pool_size")) {
      Result<int64_t> n = ParseNumber(key, attribute.value, 1, kMaxPoolSize);
      if (!n.ok()) return n.status();
      options.pool_size = static_cast<int>(*n);
    } else if (EqualsIgnoreCase(key, "statement_timeout_ms")) {
      Result<int64_t> n = ParseNumber(key, attribute.value, 0, kMaxTimeoutMs);
      if (!n.ok()) return n.status();
      options.statement_timeout = std::chrono::milliseconds(*n);
    } else if (EqualsIgnoreCase(key, "connect_timeout_ms")) {
      Result<int64_t> n = ParseNumber(key, attribute.value, 0, kMaxTimeoutMs);
      if (!n.ok()) return n.status();
      options.connect_timeout = std::chrono::milliseconds(*n);
    } else if (EqualsIgnoreCase(key, "pool_timeout_ms")) {
      Result<int64_t> n = ParseNumber(key, attribute.value, 0, kMaxTimeoutMs);
      if (!n.ok()) return n.status();
      options.pool_timeout = std::chrono::milliseconds(*n);
    } else if (EqualsIgnoreCase(key, "schema")) {
      if (!IsValidSqlIdentifier(attribute.value)) {
        return Status::InvalidArgument(
            "schema must be 1-63 letters, digits or '_', not starting with a digit, in " +
            RedactOdbcConnectionString(url));
      }
      options.schema = attribute.value;
    } else {
      options.connection_string += attribute.raw;
      options.connection_string += ';';
    }
  }
  if (options.connection_string.empty()) {
    return Status::InvalidArgument("empty ODBC connection string in " +
                                   RedactOdbcConnectionString(url));
  }
  return options;
}

Result<std::unique_ptr<MetadataStore>> OpenOdbcMetadataStore(const OdbcMetadataOptions& options) {
  if (options.pool_size < 1 || options.pool_size > kMaxPoolSize) {
    return Status::InvalidArgument("pool_size must be from 1 to " + std::to_string(kMaxPoolSize));
  }
  if (!options.schema.empty() && !IsValidSqlIdentifier(options.schema)) {
    return Status::InvalidArgument(
        "schema must be 1-63 letters, digits or '_', not starting with a digit");
  }
  SQLHENV raw_env = nullptr;
  if (!SQL_SUCCEEDED(SQLAllocHandle(SQL_HANDLE_ENV, SQL_NULL_HANDLE, &raw_env))) {
    return Status::Internal("cannot allocate an ODBC environment");
  }
  Environment env(raw_env);
  SQLSetEnvAttr(raw_env, SQL_ATTR_ODBC_VERSION, IntegerAttribute(SQL_OV_ODBC3), 0);

  std::string where = "ODBC " + RedactOdbcConnectionString(options.connection_string);
  if (!options.schema.empty()) where += " schema " + options.schema;
  std::vector<std::string> secrets = ConnectionStringSecrets(options.connection_string);

  Result<Connection> first = ConnectRaw(raw_env, options, secrets, where);
  if (!first.ok()) return first.status();
  SQLCHAR dbms[256] = {};
  SQLSMALLINT length = 0;
  if (!SQL_SUCCEEDED(SQLGetInfo((*first)->dbc(), SQL_DBMS_NAME, dbms, sizeof(dbms), &length))) {
    Diagnostics diagnostics = ReadDiagnostics(SQL_HANDLE_DBC, (*first)->dbc());
    return Status::Unavailable(
        "asking " + where + " for its DBMS name: " + ReplaceSecrets(diagnostics.message, secrets));
  }
  const std::string dbms_name(reinterpret_cast<const char*>(dbms));
  const std::optional<SqlDialectKind> kind = SqlDialectFromDbmsName(dbms_name);
  if (!kind) {
    return Status::InvalidArgument(where + " is " + dbms_name +
                                   "; the ODBC store supports PostgreSQL and Microsoft SQL Server");
  }
  Context context{options, std::move(env),
                  SqlDialect(*kind, SqlParameterStyle::kQuestionMark, options.schema),
                  std::move(secrets), std::move(where)};
  for (const SqlStatement& statement : context.dialect.SessionSetup(options.statement_timeout)) {
    if (Status s = Execute(first->get(), statement, context, "setting up session"); !s.ok()) {
      first->reset();  // before `context` frees the environment it belongs to
      return s;
    }
  }
  auto store = std::make_unique<OdbcMetadataStore>(std::move(context));
  store->Adopt(std::move(*first));
  return std::unique_ptr<MetadataStore>(std::move(store));
}

}  // namespace eventlogger
