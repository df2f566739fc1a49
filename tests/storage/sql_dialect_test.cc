// Tests for SqlDialect: the statement text per DBMS.
//
// The PostgreSQL statements also run for real in the store tests; the T-SQL
// ones cannot (no SQL Server here), so this file pins them down: exact text
// for the simple ones, structure (locking hints, types, collations, lock
// owner) for the rest, and for every statement of both dialects that the
// placeholders match the parameters and that no value leaks into the text.
#include "storage/sql_dialect.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <rapidjson/document.h>

#include <string>
#include <vector>

namespace eventlogger {
namespace {

using ::testing::AllOf;
using ::testing::HasSubstr;
using ::testing::Not;
using ::testing::StartsWith;

Event MakeEvent(std::string id, std::string user, std::string timestamp, std::string key = "",
                std::string hash = "") {
  Event event;
  event.event_id = std::move(id);
  event.user_id = std::move(user);
  event.event_type = "page.view";
  event.timestamp = std::move(timestamp);
  event.idempotency_key = std::move(key);
  event.request_hash = std::move(hash);
  return event;
}

// An event the client timed: its timestamp (occurredAt corrected for skew)
// differs from both occurredAt and the time in its id (UUIDv7, received at
// 2024-07-11T04:14:32.960Z).
Event ClientTimedEvent() {
  Event event = MakeEvent("0190a000-0000-7000-8000-000000000005", "u", "2024-07-11T04:14:30.500Z");
  event.occurred_at = "2024-07-11T04:14:31.000Z";
  return event;
}

std::vector<const Event*> Pointers(const std::vector<Event>& events) {
  std::vector<const Event*> pointers;
  for (const Event& event : events) pointers.push_back(&event);
  return pointers;
}

SqlDialect Postgres(std::string schema = "") {
  return SqlDialect(SqlDialectKind::kPostgres, SqlParameterStyle::kDollarNumbered,
                    std::move(schema));
}
SqlDialect PostgresOdbc(std::string schema = "") {
  return SqlDialect(SqlDialectKind::kPostgres, SqlParameterStyle::kQuestionMark, std::move(schema));
}
SqlDialect SqlServer(std::string schema = "") {
  return SqlDialect(SqlDialectKind::kSqlServer, SqlParameterStyle::kQuestionMark,
                    std::move(schema));
}

// A job with every field set.
ErasureJobRow FullErasureJob() {
  return ErasureJobRow{"0197b4a1-0000-7000-8000-0000000000a1",
                       "user-1",
                       "done",
                       "2026-01-01T00:00:00.000Z",
                       "2026-01-01T00:00:00.001Z",
                       "2026-01-01T00:00:01.000Z",
                       "2026-01-01T00:00:02.000Z",
                       5'000'000'000,
                       2,
                       3,
                       4,
                       "{\"receipt\":1}",
                       "none"};
}

// Every statement a dialect can produce, for the checks that apply to all.
std::vector<SqlStatement> AllStatements(const SqlDialect& dialect, EventBatch batch) {
  std::vector<SqlStatement> all = {
      dialect.InsertBatch(batch),
      dialect.ScanUser("user-1"),
      dialect.Scan({}),
      dialect.Scan({.user_id = "user-1"}),
      dialect.Scan({.since = "2025-01-01T00:00:00.000Z"}),
      dialect.Scan({.until = "2025-01-02T00:00:00.000Z"}),
      dialect.Scan({.user_id = "user-1",
                    .since = "2025-01-01T00:00:00.000Z",
                    .until = "2025-01-02T00:00:00.000Z"}),
      dialect.FindByIdempotencyKey("user-1", "key-1"),
      dialect.FindEvent("user-1", "0190a000-0000-7000-8000-000000000001"),
      dialect.Ping(),
      dialect.SchemaVersion(),
      dialect.InsertApiKey(ApiKeyRow{"00000000000000a1", "n", "admin", "dd", "2026-01-01T00:00:00.000Z", "", ""}),
      dialect.ListApiKeys(),
      dialect.RevokeApiKey("00000000000000a1", "2026-01-01T00:00:00.000Z"),
      dialect.RecordApiKeyUse("00000000000000a1", "2026-01-01T00:00:00.000Z"),
      dialect.EraseUserEvents(UserErasure{"user-1", "2026-01-01T00:00:00.000Z", 1767225600000}, 500),
      dialect.DeleteExpired(ExpiryRule{{"click", "login"}, {}, "2026-01-01T00:00:00.000Z", 1767225600000}, 500),
      dialect.DeleteExpired(ExpiryRule{{}, {"click"}, "2026-01-01T00:00:00.000Z", 1767225600000}, 500),
      dialect.DeleteExpired(ExpiryRule{{}, {}, "2026-01-01T00:00:00.000Z", 1767225600000}, 500),
      dialect.PutLegalHold(LegalHoldRow{"user-1", "case 1", "2026-01-01T00:00:00.000Z"}),
      dialect.DeleteLegalHold("user-1"),
      dialect.ListLegalHolds(),
      dialect.InsertErasureJob(FullErasureJob()),
      dialect.UpdateErasureJob(FullErasureJob()),
      dialect.FindErasureJob(FullErasureJob().id),
      dialect.ListErasureJobs(),
      dialect.ListErasureJobs("2026-01-01T00:00:00.000Z"),
  };
  for (auto& s : dialect.SessionSetup(std::chrono::milliseconds(1500))) all.push_back(std::move(s));
  for (auto& s : dialect.MigrateBegin(std::chrono::milliseconds(1500))) all.push_back(std::move(s));
  for (auto& s : dialect.MigrateUpgrade(0)) all.push_back(std::move(s));
  return all;
}

TEST(SqlDialectTest, DialectFromDbmsName) {
  EXPECT_EQ(SqlDialectFromDbmsName("PostgreSQL"), SqlDialectKind::kPostgres);
  EXPECT_EQ(SqlDialectFromDbmsName("Microsoft SQL Server"), SqlDialectKind::kSqlServer);
  EXPECT_EQ(SqlDialectFromDbmsName("MySQL"), std::nullopt);
  EXPECT_EQ(SqlDialectFromDbmsName(""), std::nullopt);
}

TEST(SqlDialectTest, IdentifiersAreRestricted) {
  EXPECT_TRUE(IsValidSqlIdentifier("eventlogger"));
  EXPECT_TRUE(IsValidSqlIdentifier("_t1_Schema"));
  EXPECT_TRUE(IsValidSqlIdentifier(std::string(63, 'a')));
  EXPECT_FALSE(IsValidSqlIdentifier(""));
  EXPECT_FALSE(IsValidSqlIdentifier(std::string(64, 'a')));
  EXPECT_FALSE(IsValidSqlIdentifier("1abc"));
  for (const char* bad : {"a b", "a\"b", "a]b", "a;b", "a'b", "a-b", "a.b", "sch\xc3\xa9ma"}) {
    EXPECT_FALSE(IsValidSqlIdentifier(bad)) << bad;
  }
}

TEST(SqlDialectTest, DollarPlaceholdersBecomeQuestionMarksOutsideQuotes) {
  EXPECT_EQ(sql_internal::DollarToQuestionMarks(
                "SELECT '$1', \"$2\", [$3], $1, x($2) -- $9\n/* $8 */ FROM t WHERE a = $10"),
            "SELECT '$1', \"$2\", [$3], ?, x(?) -- $9\n/* $8 */ FROM t WHERE a = ?");
  EXPECT_EQ(sql_internal::DollarToQuestionMarks("SELECT 'it''s $1', $1"), "SELECT 'it''s $1', ?");
  EXPECT_EQ(sql_internal::DollarToQuestionMarks("CAST($1 AS uuid[]), $2"), "CAST(? AS uuid[]), ?");
}

TEST(SqlDialectTest, CountsPlaceholdersOutsideQuotes) {
  EXPECT_EQ(sql_internal::CountPlaceholders("SELECT '?', \"?\", ?, [?], ?",
                                            SqlParameterStyle::kQuestionMark),
            2);
  EXPECT_EQ(sql_internal::CountPlaceholders("SELECT '$1', $1, $12 -- $3",
                                            SqlParameterStyle::kDollarNumbered),
            2);
}

TEST(SqlDialectTest, PostgresArrayLiteralQuotesEveryElement) {
  EXPECT_EQ(sql_internal::PostgresArrayLiteral({}), "{}");
  EXPECT_EQ(
      sql_internal::PostgresArrayLiteral({"a", std::nullopt, "NULL", "x,y", "{}", "q\"b\\s", ""}),
      "{\"a\",NULL,\"NULL\",\"x,y\",\"{}\",\"q\\\"b\\\\s\",\"\"}");
}

TEST(SqlDialectTest, EveryStatementHasOnePlaceholderPerParameter) {
  const std::vector<Event> events = {
      MakeEvent("0190a000-0000-7000-8000-000000000001", "u", "2025-01-01T00:00:00.000Z", "k", "h")};
  const std::vector<const Event*> batch = Pointers(events);
  struct Case {
    const char* name;
    SqlDialect dialect;
    SqlParameterStyle style;
  };
  for (const Case& c :
       {Case{"postgres/libpq", Postgres("s1"), SqlParameterStyle::kDollarNumbered},
        Case{"postgres/libpq default schema", Postgres(), SqlParameterStyle::kDollarNumbered},
        Case{"postgres/odbc", PostgresOdbc("s1"), SqlParameterStyle::kQuestionMark},
        Case{"sqlserver", SqlServer("s1"), SqlParameterStyle::kQuestionMark},
        Case{"sqlserver dbo", SqlServer(), SqlParameterStyle::kQuestionMark}}) {
    for (const SqlStatement& statement : AllStatements(c.dialect, batch)) {
      EXPECT_EQ(sql_internal::CountPlaceholders(statement.text, c.style),
                static_cast<int>(statement.parameters.size()))
          << c.name << ": " << statement.text;
      if (c.style == SqlParameterStyle::kQuestionMark) {
        // No $n left over for the driver to choke on.
        EXPECT_EQ(
            sql_internal::CountPlaceholders(statement.text, SqlParameterStyle::kDollarNumbered), 0)
            << c.name << ": " << statement.text;
      } else {
        EXPECT_EQ(sql_internal::CountPlaceholders(statement.text, SqlParameterStyle::kQuestionMark),
                  0)
            << c.name << ": " << statement.text;
      }
    }
  }
}

TEST(SqlDialectTest, ValuesNeverAppearInStatementText) {
  const std::string hostile_user = "robert'); DROP TABLE events; --";
  const std::string hostile_key = "k\"]; EXEC xp_cmdshell 'x'";
  const std::vector<Event> events = {MakeEvent("0190a000-0000-7000-8000-000000000001", hostile_user,
                                               "2025-01-01T00:00:00.000Z", hostile_key, "h")};
  const std::vector<const Event*> batch = Pointers(events);
  for (const SqlDialect& dialect : {Postgres("s1"), PostgresOdbc(), SqlServer("s1")}) {
    const std::vector<SqlStatement> statements = {
        dialect.InsertBatch(batch), dialect.ScanUser(hostile_user),
        dialect.Scan({.user_id = hostile_user, .since = hostile_key, .until = hostile_key}),
        dialect.FindByIdempotencyKey(hostile_user, hostile_key),
        dialect.FindEvent(hostile_user, "0190a000-0000-7000-8000-000000000001"),
        dialect.EraseUserEvents(UserErasure{hostile_user, hostile_key, 0}, 10),
        dialect.DeleteExpired(ExpiryRule{{hostile_user}, {}, hostile_key, 0}, 10),
        dialect.DeleteExpired(ExpiryRule{{}, {hostile_user, hostile_key}, hostile_key, 0}, 10),
        dialect.PutLegalHold(LegalHoldRow{hostile_user, hostile_key, hostile_key}),
        dialect.DeleteLegalHold(hostile_user),
        dialect.InsertErasureJob(ErasureJobRow{hostile_key, hostile_user, hostile_key, hostile_key, hostile_key,
                                               hostile_key, hostile_key, 0, 0, 0, 0, hostile_user, hostile_key}),
        dialect.UpdateErasureJob(ErasureJobRow{hostile_key, hostile_user, hostile_key, hostile_key, hostile_key,
                                               hostile_key, hostile_key, 0, 0, 0, 0, hostile_user, hostile_key}),
        dialect.FindErasureJob(hostile_key)};
    for (const SqlStatement& statement : statements) {
      EXPECT_THAT(statement.text, AllOf(Not(HasSubstr("robert")), Not(HasSubstr("xp_cmdshell"))))
          << dialect.name();
    }
  }
}

// ---- PostgreSQL -------------------------------------------------------------

TEST(SqlDialectTest, PostgresInsertIsOneUnnestWithEightArrays) {
  std::vector<Event> events = {
      MakeEvent("0190a000-0000-7000-8000-000000000001", "alice", "2025-06-29T14:32:45.123Z",
                "key-1", "hash-1"),
      MakeEvent("0190a000-0000-7000-8000-000000000002", "b\"ob", "2025-06-29T14:32:45.000Z")};
  events[0].occurred_at = "2025-06-29T14:32:44.999Z";
  const SqlStatement insert = Postgres("el").InsertBatch(Pointers(events));
  EXPECT_EQ(
      insert.text,
      "INSERT INTO \"el\".events (event_id, user_id, event_type, \"timestamp\", idempotency_key, "
      "request_hash, occurred_at, received_at) SELECT * FROM unnest(CAST($1 AS uuid[]), CAST($2 AS "
      "text[]), CAST($3 AS text[]), "
      "CAST($4 AS timestamptz[]), CAST($5 AS text[]), CAST($6 AS text[]), "
      "CAST($7 AS timestamptz[]), CAST($8 AS timestamptz[])) ON CONFLICT DO NOTHING");
  ASSERT_EQ(insert.parameters.size(), 8u);
  EXPECT_EQ(insert.parameters[0],
            "{\"0190a000-0000-7000-8000-000000000001\",\"0190a000-0000-7000-8000-000000000002\"}");
  EXPECT_EQ(insert.parameters[1], "{\"alice\",\"b\\\"ob\"}");
  EXPECT_EQ(insert.parameters[2], "{\"page.view\",\"page.view\"}");
  EXPECT_EQ(insert.parameters[3], "{\"2025-06-29T14:32:45.123Z\",\"2025-06-29T14:32:45.000Z\"}");
  EXPECT_EQ(insert.parameters[4], "{\"key-1\",NULL}");
  EXPECT_EQ(insert.parameters[5], "{\"hash-1\",NULL}");
  EXPECT_EQ(insert.parameters[6], "{\"2025-06-29T14:32:44.999Z\",NULL}");
  // When the server received each: the time in its eventId (a UUIDv7).
  EXPECT_EQ(insert.parameters[7], "{\"2024-07-11T04:14:32.960Z\",\"2024-07-11T04:14:32.960Z\"}");

  // The parameter count does not grow with the batch.
  std::vector<Event> many(5000, events[0]);
  EXPECT_EQ(Postgres().InsertBatch(Pointers(many)).parameters.size(), 8u);
}

TEST(SqlDialectTest, PostgresOdbcInsertUsesQuestionMarks) {
  const std::vector<Event> events = {
      MakeEvent("0190a000-0000-7000-8000-000000000001", "u", "2025-01-01T00:00:00.000Z")};
  EXPECT_THAT(PostgresOdbc().InsertBatch(Pointers(events)).text,
              HasSubstr("unnest(CAST(? AS uuid[]), CAST(? AS text[]), CAST(? AS text[]), "
                        "CAST(? AS timestamptz[]), CAST(? AS text[]), CAST(? AS text[]), "
                        "CAST(? AS timestamptz[]), CAST(? AS timestamptz[]))"));
}

TEST(SqlDialectTest, PostgresReadsFormatTimestampsInUtc) {
  const SqlStatement scan = Postgres("el").ScanUser("u");
  EXPECT_EQ(scan.text,
            "SELECT event_id::text, user_id, event_type, to_char(\"timestamp\" AT TIME ZONE 'UTC', "
            "'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"'), COALESCE(idempotency_key, ''), "
            "COALESCE(request_hash, ''), "
            "COALESCE(to_char(occurred_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"'), ''), "
            "COALESCE(to_char(COALESCE(received_at, \"timestamp\") AT TIME ZONE 'UTC', "
            "'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"'), '') "
            "FROM \"el\".events WHERE user_id = $1 ORDER BY \"timestamp\", event_id");
  EXPECT_EQ(scan.parameters, (std::vector<std::optional<std::string>>{"u"}));
}

TEST(SqlDialectTest, PostgresFindEventLooksUpThePrimaryKeyAndChecksTheUser) {
  const SqlStatement find = Postgres("el").FindEvent("u", "0190a000-0000-7000-8000-000000000001");
  EXPECT_THAT(find.text, AllOf(StartsWith("SELECT event_id::text, user_id, event_type, "),
                               HasSubstr(" FROM \"el\".events WHERE event_id = CAST($1 AS uuid) "
                                         "AND user_id = $2")));
  EXPECT_EQ(find.parameters,
            (std::vector<std::optional<std::string>>{"0190a000-0000-7000-8000-000000000001", "u"}));
  EXPECT_THAT(PostgresOdbc().FindEvent("u", "x").text,
              HasSubstr("WHERE event_id = CAST(? AS uuid) AND user_id = ?"));
}

TEST(SqlDialectTest, PostgresScanAddsOnlyTheBoundsGiven) {
  const SqlStatement all = Postgres().Scan({});
  EXPECT_THAT(all.text, AllOf(HasSubstr("FROM events WHERE 1 = 1"), Not(HasSubstr("AND"))));
  EXPECT_TRUE(all.parameters.empty());

  const SqlStatement bounded = Postgres().Scan({.since = "S", .until = "U"});
  EXPECT_THAT(bounded.text,
              HasSubstr("WHERE 1 = 1 AND \"timestamp\" >= CAST($1 AS timestamptz) AND "
                        "\"timestamp\" < CAST($2 AS timestamptz)"));
  EXPECT_EQ(bounded.parameters, (std::vector<std::optional<std::string>>{"S", "U"}));
}

TEST(SqlDialectTest, PostgresSessionSetupSetsTimeoutAndSearchPath) {
  const auto plain = Postgres().SessionSetup(std::chrono::milliseconds(2500));
  ASSERT_EQ(plain.size(), 1u);
  EXPECT_EQ(plain[0].text, "SELECT set_config('statement_timeout', $1, false)");
  EXPECT_EQ(plain[0].parameters, (std::vector<std::optional<std::string>>{"2500"}));

  const auto with_schema = Postgres("el_1").SessionSetup(std::chrono::milliseconds(0));
  ASSERT_EQ(with_schema.size(), 1u);
  EXPECT_THAT(with_schema[0].text, HasSubstr("set_config('search_path', $2, false)"));
  EXPECT_EQ(with_schema[0].parameters, (std::vector<std::optional<std::string>>{"0", "\"el_1\""}));
}

TEST(SqlDialectTest, PostgresMigrationLocksCreatesAndRecordsVersion) {
  const auto begin = Postgres("el").MigrateBegin(std::chrono::milliseconds(5000));
  ASSERT_EQ(begin.size(), 4u);
  // Transaction-local (is_local = true): no statement timeout, bounded lock waits.
  EXPECT_EQ(
      begin[0].text,
      "SELECT set_config('statement_timeout', '0', true), set_config('lock_timeout', $1, true)");
  EXPECT_EQ(begin[0].parameters, (std::vector<std::optional<std::string>>{"5000"}));
  EXPECT_EQ(begin[1].text, "SELECT pg_advisory_xact_lock(hashtextextended($1, 0))");
  EXPECT_EQ(begin[1].parameters,
            (std::vector<std::optional<std::string>>{"eventlogger.migrate:el"}));
  EXPECT_EQ(begin[2].text, "CREATE SCHEMA IF NOT EXISTS \"el\"");
  EXPECT_EQ(begin[3].text,
            "CREATE TABLE IF NOT EXISTS \"el\".eventlogger_schema (version integer NOT NULL)");
  // Without a schema there is nothing to create but the table.
  EXPECT_EQ(Postgres().MigrateBegin(std::chrono::milliseconds(5000)).size(), 3u);

  const auto upgrade = Postgres("el").MigrateUpgrade(0);
  ASSERT_EQ(upgrade.size(), 11u);
  EXPECT_EQ(
      upgrade[0].text,
      "CREATE TABLE IF NOT EXISTS \"el\".events (event_id uuid PRIMARY KEY, user_id text NOT NULL, "
      "event_type text NOT NULL, \"timestamp\" timestamptz(3) NOT NULL, created_at timestamptz NOT "
      "NULL "
      "DEFAULT now(), idempotency_key text NULL, request_hash text NULL)");
  EXPECT_EQ(upgrade[1].text,
            "CREATE INDEX IF NOT EXISTS events_by_user_time ON \"el\".events (user_id, "
            "\"timestamp\", event_id)");
  EXPECT_EQ(
      upgrade[2].text,
      "CREATE UNIQUE INDEX IF NOT EXISTS events_by_idempotency_key ON \"el\".events (user_id, "
      "idempotency_key) WHERE idempotency_key IS NOT NULL");
  EXPECT_EQ(upgrade[3].text,
            "CREATE TABLE IF NOT EXISTS \"el\".api_keys (key_id text PRIMARY KEY, name text NOT NULL, "
            "scopes text NOT NULL, secret_digest text NOT NULL, created_at timestamptz(3) NOT NULL, "
            "last_used_at timestamptz(3) NULL, revoked_at timestamptz(3) NULL)");
  EXPECT_EQ(upgrade[9].text, "DELETE FROM \"el\".eventlogger_schema");
  EXPECT_EQ(upgrade[10].text,
            "INSERT INTO \"el\".eventlogger_schema (version) VALUES (CAST($1 AS integer))");
  EXPECT_EQ(upgrade[10].parameters,
            (std::vector<std::optional<std::string>>{std::to_string(kSqlSchemaVersion)}));
}

TEST(SqlDialectTest, PostgresUpgradeFromVersionTwoAddsTheEventTimeColumns) {
  const auto upgrade = Postgres("el").MigrateUpgrade(2);
  ASSERT_EQ(upgrade.size(), 7u);
  // Nullable columns and no backfill (reads take the timestamp where
  // received_at is NULL): a catalog change, whatever the table's size.
  EXPECT_EQ(upgrade[0].text,
            "ALTER TABLE \"el\".events ADD COLUMN IF NOT EXISTS occurred_at timestamptz(3) NULL, "
            "ADD COLUMN IF NOT EXISTS received_at timestamptz(3) NULL");
  EXPECT_THAT(upgrade[1].text, StartsWith("CREATE TABLE IF NOT EXISTS \"el\".legal_holds"));
  EXPECT_THAT(upgrade[2].text, StartsWith("CREATE TABLE IF NOT EXISTS \"el\".erasure_jobs"));
  EXPECT_THAT(upgrade[3].text, StartsWith("CREATE INDEX IF NOT EXISTS erasure_jobs_by_created"));
  EXPECT_THAT(upgrade[4].text, StartsWith("CREATE INDEX IF NOT EXISTS erasure_jobs_unfinished"));
  EXPECT_EQ(upgrade[5].text, "DELETE FROM \"el\".eventlogger_schema");
  EXPECT_EQ(upgrade[6].parameters, (std::vector<std::optional<std::string>>{"4"}));
  // Version 1 gets the api_keys table first.
  const auto from_one = Postgres("el").MigrateUpgrade(1);
  ASSERT_EQ(from_one.size(), 8u);
  EXPECT_THAT(from_one[0].text, StartsWith("CREATE TABLE IF NOT EXISTS \"el\".api_keys"));
  EXPECT_EQ(from_one[1].text, upgrade[0].text);
}

TEST(SqlDialectTest, PostgresApiKeyStatementsExactText) {
  const SqlDialect dialect = Postgres("el");
  ApiKeyRow row{"00000000000000a1", "n", "admin", std::string(64, 'd'), "2026-01-01T00:00:00.000Z", "", ""};
  const SqlStatement insert = dialect.InsertApiKey(row);
  EXPECT_EQ(insert.text,
            "INSERT INTO \"el\".api_keys (key_id, name, scopes, secret_digest, created_at) VALUES ($1, $2, $3, "
            "$4, CAST($5 AS timestamptz))");
  EXPECT_EQ(insert.parameters, (std::vector<std::optional<std::string>>{
                                   row.id, row.name, row.scopes, row.secret_digest, row.created_at}));
  EXPECT_THAT(dialect.ListApiKeys().text,
              AllOf(HasSubstr("SELECT key_id, name, scopes, secret_digest, COALESCE(to_char(created_at AT TIME "
                              "ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"'), ''), "),
                    HasSubstr(" FROM \"el\".api_keys ORDER BY created_at, key_id")));
  const SqlStatement revoke = dialect.RevokeApiKey("00000000000000a1", "2026-02-02T00:00:00.000Z");
  EXPECT_EQ(revoke.text,
            "UPDATE \"el\".api_keys SET revoked_at = COALESCE(revoked_at, CAST($1 AS timestamptz)) WHERE key_id "
            "= $2 RETURNING key_id");
  EXPECT_EQ(revoke.parameters,
            (std::vector<std::optional<std::string>>{"2026-02-02T00:00:00.000Z", "00000000000000a1"}));
  EXPECT_EQ(sql_internal::CountPlaceholders(dialect.RecordApiKeyUse("k", "t").text,
                                            SqlParameterStyle::kDollarNumbered),
            3);
}

TEST(SqlDialectTest, SqlServerApiKeyStatementsExactText) {
  const SqlDialect dialect = SqlServer("el");
  const SqlStatement revoke = dialect.RevokeApiKey("00000000000000a1", "2026-02-02T00:00:00.000Z");
  EXPECT_EQ(revoke.text,
            "UPDATE [el].[api_keys] SET revoked_at = COALESCE(revoked_at, CONVERT(datetime2(3), ?, 127)) OUTPUT "
            "inserted.key_id WHERE key_id = ?");
  EXPECT_THAT(dialect.ListApiKeys().text,
              HasSubstr("COALESCE(REPLACE(CONVERT(char(23), revoked_at, 121), ' ', 'T') + 'Z', N'') FROM "
                        "[el].[api_keys]"));
  const SqlStatement use = dialect.RecordApiKeyUse("00000000000000a1", "2026-02-02T00:00:00.000Z");
  EXPECT_EQ(use.text,
            "UPDATE [el].[api_keys] SET last_used_at = CONVERT(datetime2(3), ?, 127) WHERE key_id = ? AND "
            "(last_used_at IS NULL OR last_used_at < CONVERT(datetime2(3), ?, 127))");
  EXPECT_EQ(use.parameters.size(), 3u);
}

TEST(SqlDialectTest, KeyConflictsMapToAlreadyExists) {
  EXPECT_EQ(SqlStateToStatus("23505", "dup").code(), StatusCode::kAlreadyExists);
  EXPECT_EQ(SqlStateToStatus("23000", "dup").code(), StatusCode::kAlreadyExists);
}

// ---- SQL Server (T-SQL) -----------------------------------------------------------

TEST(SqlDialectTest, SqlServerAlwaysUsesQuestionMarks) {
  const SqlDialect dialect(SqlDialectKind::kSqlServer, SqlParameterStyle::kDollarNumbered, "");
  EXPECT_EQ(dialect.FindByIdempotencyKey("u", "k").text.find('$'), std::string::npos);
  EXPECT_FALSE(dialect.has_server_statement_timeout());
  EXPECT_TRUE(Postgres().has_server_statement_timeout());
  EXPECT_EQ(dialect.name(), "sqlserver");
}

TEST(SqlDialectTest, SqlServerSimpleStatementsExactText) {
  const SqlDialect dialect = SqlServer("el");
  EXPECT_EQ(dialect.Ping().text, "SELECT 1");
  EXPECT_EQ(dialect.SchemaVersion().text, "SELECT MAX(version) FROM [el].[eventlogger_schema]");
  const SqlStatement find = dialect.FindByIdempotencyKey("u", "k");
  EXPECT_EQ(find.text,
            "SELECT LOWER(CONVERT(char(36), event_id)), user_id, event_type, "
            "CONCAT(REPLACE(CONVERT(char(23), [timestamp], 121), ' ', 'T'), 'Z'), "
            "COALESCE(idempotency_key, N''), COALESCE(request_hash, N''), "
            "COALESCE(REPLACE(CONVERT(char(23), occurred_at, 121), ' ', 'T') + 'Z', N''), "
            "COALESCE(REPLACE(CONVERT(char(23), COALESCE(received_at, [timestamp]), 121), ' ', 'T') "
            "+ 'Z', N'') FROM [el].[events] "
            "WHERE user_id = ? AND idempotency_key = ?");
  EXPECT_EQ(find.parameters, (std::vector<std::optional<std::string>>{"u", "k"}));
  const SqlStatement find_event = dialect.FindEvent("u", "0190a000-0000-7000-8000-000000000001");
  EXPECT_THAT(find_event.text,
              AllOf(StartsWith("SELECT LOWER(CONVERT(char(36), event_id)), user_id, "),
                    HasSubstr(" FROM [el].[events] WHERE event_id = CONVERT(uniqueidentifier, ?) "
                              "AND user_id = ?")));
  EXPECT_EQ(find_event.parameters,
            (std::vector<std::optional<std::string>>{"0190a000-0000-7000-8000-000000000001", "u"}));
  const auto setup = dialect.SessionSetup(std::chrono::milliseconds(5000));
  ASSERT_EQ(setup.size(), 1u);
  EXPECT_EQ(setup[0].text, "SET XACT_ABORT ON; SET NOCOUNT ON;");
}

TEST(SqlDialectTest, SqlServerDefaultsToDbo) {
  EXPECT_THAT(SqlServer().ScanUser("u").text, HasSubstr("FROM [dbo].[events] WHERE"));
}

TEST(SqlDialectTest, SqlServerScanUserOrdersTiesByEventIdText) {
  EXPECT_THAT(
      SqlServer("el").ScanUser("u").text,
      HasSubstr("WHERE user_id = ? ORDER BY [timestamp], CONVERT(char(36), event_id) COLLATE "
                "Latin1_General_100_BIN2"));
}

TEST(SqlDialectTest, SqlServerScanParsesIsoBounds) {
  const SqlStatement scan = SqlServer().Scan({.user_id = "u", .since = "S", .until = "U"});
  EXPECT_THAT(
      scan.text,
      HasSubstr("WHERE 1 = 1 AND user_id = ? AND [timestamp] >= CONVERT(datetime2(3), ?, 127) "
                "AND [timestamp] < CONVERT(datetime2(3), ?, 127)"));
  EXPECT_EQ(scan.parameters, (std::vector<std::optional<std::string>>{"u", "S", "U"}));
}

TEST(SqlDialectTest, SqlServerInsertIsOneOpenJsonStatementSkippingExistingRows) {
  const SqlStatement insert = SqlServer("el").InsertBatch(Pointers(
      {MakeEvent("0190a000-0000-7000-8000-000000000001", "u", "2025-01-01T00:00:00.000Z")}));
  ASSERT_EQ(insert.parameters.size(), 1u);
  EXPECT_THAT(
      insert.text,
      AllOf(
          StartsWith("INSERT INTO [el].[events] (event_id, user_id, event_type, [timestamp], "
                     "idempotency_key, request_hash, occurred_at, received_at) SELECT "),
          HasSubstr("CONVERT(datetime2(3), v.[timestamp], 127)"),
          HasSubstr("v.request_hash, CONVERT(datetime2(3), v.occurred_at, 127), "
                    "CONVERT(datetime2(3), v.received_at, 127) FROM"),
          HasSubstr("FROM OPENJSON(?) WITH (event_id uniqueidentifier '$.i', user_id nvarchar(128) "
                    "'$.u', event_type nvarchar(64) '$.t', [timestamp] nvarchar(30) '$.s', "
                    "idempotency_key nvarchar(255) '$.k', request_hash nvarchar(128) '$.h', "
                    "occurred_at nvarchar(30) '$.o', received_at nvarchar(30) '$.r') AS v"),
          HasSubstr("WHERE NOT EXISTS (SELECT 1 FROM [el].[events] AS e WITH (UPDLOCK, HOLDLOCK) "
                    "WHERE e.event_id = v.event_id)"),
          HasSubstr(
              "AND (v.idempotency_key IS NULL OR NOT EXISTS (SELECT 1 FROM [el].[events] AS e "
              "WITH (UPDLOCK, HOLDLOCK) WHERE e.user_id = v.user_id AND e.idempotency_key = "
              "v.idempotency_key))")));
}

TEST(SqlDialectTest, SqlServerBatchJsonCarriesEveryFieldAndDropsRepeats) {
  const std::vector<Event> events = {
      MakeEvent("0190a000-0000-7000-8000-000000000001", "Zo\xc3\xab \"q\"",
                "2025-06-29T14:32:45.123Z", "key-1", "hash-1"),
      MakeEvent("0190a000-0000-7000-8000-000000000002", "u2", "2025-06-29T14:32:45.000Z"),
      // Same eventId again: dropped.
      MakeEvent("0190a000-0000-7000-8000-000000000001", "other", "2025-01-01T00:00:00.000Z"),
      // Same (user, key) as the first under a new eventId: dropped.
      MakeEvent("0190a000-0000-7000-8000-000000000003", "Zo\xc3\xab \"q\"",
                "2025-01-01T00:00:00.000Z", "key-1", "hash-2"),
      // Same key, other user: kept.
      MakeEvent("0190a000-0000-7000-8000-000000000004", "u2", "2025-01-01T00:00:00.000Z", "key-1"),
      ClientTimedEvent()};
  const SqlStatement insert = SqlServer().InsertBatch(Pointers(events));
  ASSERT_EQ(insert.parameters.size(), 1u);
  rapidjson::Document json;
  json.Parse(insert.parameters[0]->data(), insert.parameters[0]->size());
  ASSERT_FALSE(json.HasParseError()) << *insert.parameters[0];
  ASSERT_TRUE(json.IsArray());
  ASSERT_EQ(json.Size(), 4u);
  EXPECT_STREQ(json[0]["i"].GetString(), "0190a000-0000-7000-8000-000000000001");
  EXPECT_STREQ(json[0]["u"].GetString(), "Zo\xc3\xab \"q\"");
  EXPECT_STREQ(json[0]["t"].GetString(), "page.view");
  EXPECT_STREQ(json[0]["s"].GetString(), "2025-06-29T14:32:45.123Z");
  EXPECT_STREQ(json[0]["k"].GetString(), "key-1");
  EXPECT_STREQ(json[0]["h"].GetString(), "hash-1");
  EXPECT_TRUE(json[0]["o"].IsNull());
  EXPECT_STREQ(json[0]["r"].GetString(), "2024-07-11T04:14:32.960Z");  // the eventId's time
  EXPECT_STREQ(json[1]["i"].GetString(), "0190a000-0000-7000-8000-000000000002");
  EXPECT_TRUE(json[1]["k"].IsNull());
  EXPECT_TRUE(json[1]["h"].IsNull());
  EXPECT_STREQ(json[2]["i"].GetString(), "0190a000-0000-7000-8000-000000000004");
  // Timed by the client: three different times.
  EXPECT_STREQ(json[3]["s"].GetString(), "2024-07-11T04:14:30.500Z");
  EXPECT_STREQ(json[3]["o"].GetString(), "2024-07-11T04:14:31.000Z");
  EXPECT_STREQ(json[3]["r"].GetString(), "2024-07-11T04:14:32.960Z");
}

TEST(SqlDialectTest, SqlServerMigrationTakesAnAppLockInTheTransaction) {
  const auto begin = SqlServer("el").MigrateBegin(std::chrono::milliseconds(7000));
  ASSERT_EQ(begin.size(), 3u);
  EXPECT_EQ(
      begin[0].text,
      "DECLARE @result int; EXEC @result = sp_getapplock @Resource = ?, @LockMode = 'Exclusive', "
      "@LockOwner = 'Transaction', @LockTimeout = ?; IF @result < 0 THROW 51000, 'eventlogger: "
      "could "
      "not take the migration lock', 1;");
  EXPECT_EQ(begin[0].parameters,
            (std::vector<std::optional<std::string>>{"eventlogger.migrate:el", "7000"}));
  EXPECT_EQ(begin[1].text, "IF SCHEMA_ID(?) IS NULL EXEC(N'CREATE SCHEMA [el]')");
  EXPECT_EQ(begin[1].parameters, (std::vector<std::optional<std::string>>{"el"}));
  EXPECT_EQ(begin[2].text,
            "IF OBJECT_ID(?, N'U') IS NULL CREATE TABLE [el].[eventlogger_schema] (version int NOT "
            "NULL)");
  EXPECT_EQ(begin[2].parameters,
            (std::vector<std::optional<std::string>>{"[el].[eventlogger_schema]"}));
  // dbo always exists.
  EXPECT_EQ(SqlServer().MigrateBegin(std::chrono::milliseconds(7000)).size(), 2u);
}

TEST(SqlDialectTest, SqlServerSchemaUsesNativeTypesAndAFilteredUniqueIndex) {
  const auto upgrade = SqlServer("el").MigrateUpgrade(0);
  ASSERT_EQ(upgrade.size(), 12u);
  EXPECT_THAT(
      upgrade[0].text,
      AllOf(StartsWith("IF OBJECT_ID(?, N'U') IS NULL CREATE TABLE [el].[events] ("),
            HasSubstr("event_id uniqueidentifier NOT NULL"),
            HasSubstr("user_id nvarchar(128) COLLATE Latin1_General_100_BIN2 NOT NULL"),
            HasSubstr("event_type nvarchar(64) NOT NULL"),
            HasSubstr("[timestamp] datetime2(3) NOT NULL"),
            HasSubstr("created_at datetime2(3) NOT NULL CONSTRAINT DF_events_created_at DEFAULT "
                      "SYSUTCDATETIME()"),
            HasSubstr("idempotency_key nvarchar(255) COLLATE Latin1_General_100_BIN2 NULL"),
            HasSubstr("request_hash nvarchar(128) NULL"),
            HasSubstr("CONSTRAINT PK_events PRIMARY KEY NONCLUSTERED (event_id))")));
  EXPECT_EQ(
      upgrade[1].text,
      "IF INDEXPROPERTY(OBJECT_ID(?), N'events_by_user_time', 'IndexID') IS NULL CREATE UNIQUE "
      "CLUSTERED INDEX events_by_user_time ON [el].[events] (user_id, [timestamp], event_id)");
  EXPECT_EQ(upgrade[2].text,
            "IF INDEXPROPERTY(OBJECT_ID(?), N'events_by_idempotency_key', 'IndexID') IS NULL "
            "CREATE UNIQUE "
            "NONCLUSTERED INDEX events_by_idempotency_key ON [el].[events] (user_id, "
            "idempotency_key) WHERE "
            "idempotency_key IS NOT NULL");
  EXPECT_THAT(upgrade[3].text,
              AllOf(HasSubstr("IF OBJECT_ID(?, N'U') IS NULL CREATE TABLE [el].[api_keys] ("),
                    HasSubstr("key_id varchar(16) COLLATE Latin1_General_100_BIN2 NOT NULL CONSTRAINT "
                              "PK_api_keys PRIMARY KEY"),
                    HasSubstr("revoked_at datetime2(3) NULL)")));
  EXPECT_THAT(upgrade[4].text, StartsWith("IF COL_LENGTH(?, N'occurred_at') IS NULL"));
  EXPECT_THAT(upgrade[6].text, StartsWith("IF OBJECT_ID(?, N'U') IS NULL CREATE TABLE [el].[legal_holds] ("));
  EXPECT_EQ(upgrade[10].text, "DELETE FROM [el].[eventlogger_schema]");
  EXPECT_EQ(upgrade[11].text,
            "INSERT INTO [el].[eventlogger_schema] (version) VALUES (CAST(? AS int))");
  // From version 1: the api_keys table, the event time columns, the privacy
  // tables and their indexes.
  EXPECT_EQ(SqlServer("el").MigrateUpgrade(1).size(), 9u);
  // Already current: only the version row is rewritten.
  EXPECT_TRUE(SqlServer("el").MigrateUpgrade(kSqlSchemaVersion).size() == 2u);
}

TEST(SqlDialectTest, SqlServerUpgradeFromVersionTwoAddsEachColumnOnce) {
  const auto upgrade = SqlServer("el").MigrateUpgrade(2);
  ASSERT_EQ(upgrade.size(), 8u);
  EXPECT_EQ(upgrade[0].text,
            "IF COL_LENGTH(?, N'occurred_at') IS NULL ALTER TABLE [el].[events] ADD occurred_at "
            "datetime2(3) NULL");
  EXPECT_EQ(upgrade[0].parameters, (std::vector<std::optional<std::string>>{"[el].[events]"}));
  EXPECT_EQ(upgrade[1].text,
            "IF COL_LENGTH(?, N'received_at') IS NULL ALTER TABLE [el].[events] ADD received_at "
            "datetime2(3) NULL");
  EXPECT_EQ(upgrade[1].parameters, (std::vector<std::optional<std::string>>{"[el].[events]"}));
  EXPECT_EQ(upgrade[6].text, "DELETE FROM [el].[eventlogger_schema]");
  EXPECT_EQ(upgrade[7].parameters, (std::vector<std::optional<std::string>>{"4"}));
}

// ---- Privacy lifecycle (schema version 4) -------------------------------------------

TEST(SqlDialectTest, PostgresUpgradeFromVersionThreeCreatesTheTwoPrivacyTables) {
  EXPECT_EQ(kSqlSchemaVersion, 4);
  const auto upgrade = Postgres("el").MigrateUpgrade(3);
  ASSERT_EQ(upgrade.size(), 6u);
  EXPECT_EQ(upgrade[0].text,
            "CREATE TABLE IF NOT EXISTS \"el\".legal_holds (user_id text PRIMARY KEY, reason text NULL, "
            "placed_at timestamptz(3) NOT NULL)");
  EXPECT_EQ(upgrade[1].text,
            "CREATE TABLE IF NOT EXISTS \"el\".erasure_jobs (job_id uuid PRIMARY KEY, user_id text NOT NULL, "
            "state text NOT NULL, received_cutoff timestamptz(3) NOT NULL, created_at timestamptz(3) NOT NULL, "
            "started_at timestamptz(3) NULL, finished_at timestamptz(3) NULL, metadata_erased bigint NOT NULL, "
            "documents_erased bigint NOT NULL, outbox_erased bigint NOT NULL, dead_letters_erased bigint NOT "
            "NULL, receipt text NULL, error text NULL)");
  // Bounded listings (ListErasureJobs) read recent jobs by the first index,
  // old unfinished ones by the second, which holds only those rows.
  EXPECT_EQ(upgrade[2].text, "CREATE INDEX IF NOT EXISTS erasure_jobs_by_created ON \"el\".erasure_jobs (created_at)");
  EXPECT_EQ(upgrade[3].text,
            "CREATE INDEX IF NOT EXISTS erasure_jobs_unfinished ON \"el\".erasure_jobs (created_at) WHERE state IN "
            "('pending', 'running')");
  EXPECT_EQ(upgrade[4].text, "DELETE FROM \"el\".eventlogger_schema");
  EXPECT_EQ(upgrade[5].parameters, (std::vector<std::optional<std::string>>{"4"}));
}

TEST(SqlDialectTest, PostgresErasureIsOneBoundedDeleteReturningItsCount) {
  const SqlStatement erase =
      Postgres("el").EraseUserEvents(UserErasure{"u", "2026-01-01T00:00:00.000Z", 1767225600000}, 500);
  EXPECT_EQ(erase.text,
            "WITH deleted AS (DELETE FROM \"el\".events WHERE event_id IN (SELECT event_id FROM \"el\".events "
            "WHERE user_id = $1 AND COALESCE(received_at, \"timestamp\") <= CAST($2 AS timestamptz) "
            "LIMIT CAST($3 AS integer)) RETURNING 1) SELECT count(*) FROM deleted");
  EXPECT_EQ(erase.parameters,
            (std::vector<std::optional<std::string>>{"u", "2026-01-01T00:00:00.000Z", "500"}));
  // Through ODBC the same text, with question marks.
  EXPECT_THAT(PostgresOdbc("el").EraseUserEvents(UserErasure{"u", "t", 0}, 1).text,
              HasSubstr("WHERE user_id = ? AND COALESCE(received_at, \"timestamp\") <= CAST(? AS timestamptz) "
                        "LIMIT CAST(? AS integer))"));
}

TEST(SqlDialectTest, PostgresExpiryPassesTheTypesAsOneArrayAndSkipsHeldUsers) {
  const SqlDialect dialect = Postgres("el");
  const SqlStatement typed =
      dialect.DeleteExpired(ExpiryRule{{"click", "a,\"b"}, {"ignored"}, "2026-01-01T00:00:00.000Z", 0}, 100);
  EXPECT_EQ(typed.text,
            "WITH deleted AS (DELETE FROM \"el\".events WHERE event_id IN (SELECT e.event_id FROM "
            "\"el\".events AS e WHERE e.\"timestamp\" < CAST($1 AS timestamptz) AND e.event_type = ANY "
            "(CAST($2 AS text[])) AND NOT EXISTS (SELECT 1 FROM \"el\".legal_holds AS h WHERE h.user_id = "
            "e.user_id) LIMIT CAST($3 AS integer)) RETURNING 1) SELECT count(*) FROM deleted");
  EXPECT_EQ(typed.parameters, (std::vector<std::optional<std::string>>{
                                  "2026-01-01T00:00:00.000Z", "{\"click\",\"a,\\\"b\"}", "100"}));
  const SqlStatement by_default = dialect.DeleteExpired(ExpiryRule{{}, {"click"}, "T", 0}, 100);
  EXPECT_THAT(by_default.text, HasSubstr(" AND e.event_type <> ALL (CAST($2 AS text[])) AND NOT EXISTS"));
  EXPECT_EQ(by_default.parameters[1], "{\"click\"}");
  // No exceptions: an empty array, which <> ALL lets every type through.
  EXPECT_EQ(dialect.DeleteExpired(ExpiryRule{{}, {}, "T", 0}, 100).parameters[1], "{}");
}

TEST(SqlDialectTest, PostgresHoldAndJobStatementsExactText) {
  const SqlDialect dialect = Postgres("el");
  const SqlStatement put = dialect.PutLegalHold(LegalHoldRow{"u", "", "2026-01-01T00:00:00.000Z"});
  EXPECT_EQ(put.text,
            "INSERT INTO \"el\".legal_holds (user_id, reason, placed_at) VALUES ($1, $2, CAST($3 AS timestamptz)) "
            "ON CONFLICT (user_id) DO UPDATE SET reason = EXCLUDED.reason, placed_at = EXCLUDED.placed_at");
  // An empty reason is NULL.
  EXPECT_EQ(put.parameters,
            (std::vector<std::optional<std::string>>{"u", std::nullopt, "2026-01-01T00:00:00.000Z"}));
  EXPECT_EQ(dialect.DeleteLegalHold("u").text, "DELETE FROM \"el\".legal_holds WHERE user_id = $1 RETURNING user_id");
  EXPECT_THAT(dialect.ListLegalHolds().text,
              AllOf(StartsWith("SELECT user_id, COALESCE(reason, ''), COALESCE(to_char(placed_at AT TIME ZONE"),
                    HasSubstr(" FROM \"el\".legal_holds ORDER BY user_id COLLATE \"C\"")));

  ErasureJobRow pending = FullErasureJob();
  pending.started_at = pending.finished_at = pending.receipt = pending.error = "";
  const SqlStatement insert = dialect.InsertErasureJob(pending);
  EXPECT_EQ(insert.text,
            "INSERT INTO \"el\".erasure_jobs (job_id, user_id, state, received_cutoff, created_at, started_at, "
            "finished_at, metadata_erased, documents_erased, outbox_erased, dead_letters_erased, receipt, error) "
            "VALUES (CAST($1 AS uuid), $2, $3, CAST($4 AS timestamptz), CAST($5 AS timestamptz), CAST($6 AS "
            "timestamptz), CAST($7 AS timestamptz), CAST($8 AS bigint), CAST($9 AS bigint), CAST($10 AS bigint), "
            "CAST($11 AS bigint), $12, $13)");
  EXPECT_EQ(insert.parameters,
            (std::vector<std::optional<std::string>>{pending.id, "user-1", "done", "2026-01-01T00:00:00.000Z",
                                                     "2026-01-01T00:00:00.001Z", std::nullopt, std::nullopt,
                                                     "5000000000", "2", "3", "4", std::nullopt, std::nullopt}));
  const SqlStatement update = dialect.UpdateErasureJob(FullErasureJob());
  EXPECT_THAT(update.text,
              AllOf(StartsWith("UPDATE \"el\".erasure_jobs SET user_id = $1, state = $2, received_cutoff = "
                               "CAST($3 AS timestamptz), "),
                    HasSubstr("receipt = $11, error = $12 WHERE job_id = CAST($13 AS uuid) RETURNING job_id")));
  EXPECT_EQ(update.parameters.size(), 13u);
  EXPECT_EQ(update.parameters.back(), FullErasureJob().id);
  EXPECT_THAT(dialect.FindErasureJob("id").text,
              AllOf(StartsWith("SELECT job_id::text, user_id, state, "),
                    HasSubstr(", metadata_erased, documents_erased, outbox_erased, dead_letters_erased, "
                              "COALESCE(receipt, ''), COALESCE(error, '') FROM \"el\".erasure_jobs WHERE job_id = "
                              "CAST($1 AS uuid)")));
  EXPECT_THAT(dialect.ListErasureJobs().text, HasSubstr(" FROM \"el\".erasure_jobs ORDER BY created_at, job_id"));
  EXPECT_TRUE(dialect.ListErasureJobs().parameters.empty());
  EXPECT_EQ(dialect.ListErasureJobs("").text, dialect.ListErasureJobs().text);
  // Recent jobs and every unfinished one; the state list repeats the
  // partial index's predicate so that the planner uses it.
  const SqlStatement recent = dialect.ListErasureJobs("2026-01-01T00:00:00.000Z");
  EXPECT_THAT(recent.text, HasSubstr(" FROM \"el\".erasure_jobs WHERE created_at >= CAST($1 AS timestamptz) OR "
                                     "state IN ('pending', 'running') ORDER BY created_at, job_id"));
  EXPECT_EQ(recent.parameters, (std::vector<std::optional<std::string>>{"2026-01-01T00:00:00.000Z"}));
}

TEST(SqlDialectTest, SqlServerUpgradeFromVersionThreeCreatesTheTwoPrivacyTables) {
  const auto upgrade = SqlServer("el").MigrateUpgrade(3);
  ASSERT_EQ(upgrade.size(), 6u);
  EXPECT_EQ(upgrade[0].text,
            "IF OBJECT_ID(?, N'U') IS NULL CREATE TABLE [el].[legal_holds] (user_id nvarchar(128) COLLATE "
            "Latin1_General_100_BIN2 NOT NULL CONSTRAINT PK_legal_holds PRIMARY KEY, reason nvarchar(max) NULL, "
            "placed_at datetime2(3) NOT NULL)");
  EXPECT_EQ(upgrade[0].parameters, (std::vector<std::optional<std::string>>{"[el].[legal_holds]"}));
  EXPECT_EQ(upgrade[1].text,
            "IF OBJECT_ID(?, N'U') IS NULL CREATE TABLE [el].[erasure_jobs] (job_id uniqueidentifier NOT NULL "
            "CONSTRAINT PK_erasure_jobs PRIMARY KEY, user_id nvarchar(128) COLLATE Latin1_General_100_BIN2 NOT "
            "NULL, state nvarchar(16) NOT NULL, received_cutoff datetime2(3) NOT NULL, created_at datetime2(3) "
            "NOT NULL, started_at datetime2(3) NULL, finished_at datetime2(3) NULL, metadata_erased bigint NOT "
            "NULL, documents_erased bigint NOT NULL, outbox_erased bigint NOT NULL, dead_letters_erased bigint "
            "NOT NULL, receipt nvarchar(max) NULL, error nvarchar(max) NULL)");
  EXPECT_EQ(upgrade[1].parameters, (std::vector<std::optional<std::string>>{"[el].[erasure_jobs]"}));
  EXPECT_EQ(upgrade[2].text,
            "IF INDEXPROPERTY(OBJECT_ID(?), N'erasure_jobs_by_created', 'IndexID') IS NULL CREATE NONCLUSTERED "
            "INDEX erasure_jobs_by_created ON [el].[erasure_jobs] (created_at)");
  EXPECT_EQ(upgrade[2].parameters, (std::vector<std::optional<std::string>>{"[el].[erasure_jobs]"}));
  // A filtered index: only the unfinished jobs, whatever their age.
  EXPECT_EQ(upgrade[3].text,
            "IF INDEXPROPERTY(OBJECT_ID(?), N'erasure_jobs_unfinished', 'IndexID') IS NULL CREATE NONCLUSTERED "
            "INDEX erasure_jobs_unfinished ON [el].[erasure_jobs] (created_at) WHERE state IN (N'pending', "
            "N'running')");
  EXPECT_EQ(upgrade[3].parameters, (std::vector<std::optional<std::string>>{"[el].[erasure_jobs]"}));
  EXPECT_EQ(upgrade[4].text, "DELETE FROM [el].[eventlogger_schema]");
  EXPECT_EQ(upgrade[5].parameters, (std::vector<std::optional<std::string>>{"4"}));
}

TEST(SqlDialectTest, SqlServerErasureIsOneDeleteTopThenItsRowCount) {
  const SqlStatement erase =
      SqlServer("el").EraseUserEvents(UserErasure{"u", "2026-01-01T00:00:00.000Z", 1767225600000}, 500);
  EXPECT_EQ(erase.text,
            "DELETE TOP (CAST(? AS int)) FROM [el].[events] WHERE user_id = ? AND COALESCE(received_at, "
            "[timestamp]) <= CONVERT(datetime2(3), ?, 127); SELECT @@ROWCOUNT;");
  // The limit comes first: ODBC binds by position.
  EXPECT_EQ(erase.parameters,
            (std::vector<std::optional<std::string>>{"500", "u", "2026-01-01T00:00:00.000Z"}));
}

TEST(SqlDialectTest, SqlServerExpiryReadsTheTypesFromOneJsonArrayAndSkipsHeldUsers) {
  const SqlDialect dialect = SqlServer("el");
  const SqlStatement typed = dialect.DeleteExpired(
      ExpiryRule{{"click", "Zo\xc3\xab \"q\""}, {"ignored"}, "2026-01-01T00:00:00.000Z", 0}, 100);
  EXPECT_EQ(typed.text,
            "DELETE TOP (CAST(? AS int)) e FROM [el].[events] AS e WHERE e.[timestamp] < CONVERT(datetime2(3), "
            "?, 127) AND e.event_type COLLATE Latin1_General_100_BIN2 IN (SELECT t.event_type FROM OPENJSON(?) "
            "WITH (event_type nvarchar(64) '$') AS t) AND NOT EXISTS (SELECT 1 FROM [el].[legal_holds] AS h "
            "WHERE h.user_id = e.user_id); SELECT @@ROWCOUNT;");
  ASSERT_EQ(typed.parameters.size(), 3u);
  EXPECT_EQ(typed.parameters[0], "100");
  EXPECT_EQ(typed.parameters[1], "2026-01-01T00:00:00.000Z");
  rapidjson::Document json;
  json.Parse(typed.parameters[2]->data(), typed.parameters[2]->size());
  ASSERT_FALSE(json.HasParseError()) << *typed.parameters[2];
  ASSERT_TRUE(json.IsArray());
  ASSERT_EQ(json.Size(), 2u);
  EXPECT_STREQ(json[0].GetString(), "click");
  EXPECT_STREQ(json[1].GetString(), "Zo\xc3\xab \"q\"");

  const SqlStatement by_default = dialect.DeleteExpired(ExpiryRule{{}, {"click"}, "T", 0}, 100);
  EXPECT_THAT(by_default.text,
              HasSubstr("AND e.event_type COLLATE Latin1_General_100_BIN2 NOT IN (SELECT t.event_type FROM "
                        "OPENJSON(?)"));
  EXPECT_EQ(by_default.parameters[2], "[\"click\"]");
  // No exceptions: NOT IN an empty list lets every type through.
  EXPECT_EQ(dialect.DeleteExpired(ExpiryRule{{}, {}, "T", 0}, 100).parameters[2], "[]");
}

TEST(SqlDialectTest, SqlServerHoldAndJobStatementsExactText) {
  const SqlDialect dialect = SqlServer("el");
  const SqlStatement put = dialect.PutLegalHold(LegalHoldRow{"u", "case 1", "2026-01-01T00:00:00.000Z"});
  EXPECT_EQ(put.text,
            "BEGIN TRANSACTION; UPDATE [el].[legal_holds] WITH (UPDLOCK, SERIALIZABLE) SET reason = ?, "
            "placed_at = CONVERT(datetime2(3), ?, 127) WHERE user_id = ?; IF @@ROWCOUNT = 0 INSERT INTO "
            "[el].[legal_holds] (user_id, reason, placed_at) VALUES (?, ?, CONVERT(datetime2(3), ?, 127)); "
            "COMMIT TRANSACTION;");
  EXPECT_EQ(put.parameters,
            (std::vector<std::optional<std::string>>{"case 1", "2026-01-01T00:00:00.000Z", "u", "u", "case 1",
                                                     "2026-01-01T00:00:00.000Z"}));
  EXPECT_EQ(dialect.PutLegalHold(LegalHoldRow{"u", "", "T"}).parameters[0], std::nullopt);
  EXPECT_EQ(dialect.DeleteLegalHold("u").text,
            "DELETE FROM [el].[legal_holds] OUTPUT deleted.user_id WHERE user_id = ?");
  EXPECT_EQ(dialect.ListLegalHolds().text,
            "SELECT user_id, COALESCE(reason, N''), COALESCE(REPLACE(CONVERT(char(23), placed_at, 121), ' ', "
            "'T') + 'Z', N'') FROM [el].[legal_holds] ORDER BY user_id");

  const SqlStatement insert = dialect.InsertErasureJob(FullErasureJob());
  EXPECT_EQ(insert.text,
            "INSERT INTO [el].[erasure_jobs] (job_id, user_id, state, received_cutoff, created_at, started_at, "
            "finished_at, metadata_erased, documents_erased, outbox_erased, dead_letters_erased, receipt, error) "
            "VALUES (CONVERT(uniqueidentifier, ?), ?, ?, CONVERT(datetime2(3), ?, 127), CONVERT(datetime2(3), ?, "
            "127), CONVERT(datetime2(3), ?, 127), CONVERT(datetime2(3), ?, 127), CAST(? AS bigint), CAST(? AS "
            "bigint), CAST(? AS bigint), CAST(? AS bigint), ?, ?)");
  EXPECT_EQ(insert.parameters.size(), 13u);
  const SqlStatement update = dialect.UpdateErasureJob(FullErasureJob());
  EXPECT_EQ(update.text,
            "UPDATE [el].[erasure_jobs] SET user_id = ?, state = ?, received_cutoff = CONVERT(datetime2(3), ?, "
            "127), created_at = CONVERT(datetime2(3), ?, 127), started_at = CONVERT(datetime2(3), ?, 127), "
            "finished_at = CONVERT(datetime2(3), ?, 127), metadata_erased = CAST(? AS bigint), documents_erased "
            "= CAST(? AS bigint), outbox_erased = CAST(? AS bigint), dead_letters_erased = CAST(? AS bigint), "
            "receipt = ?, error = ? OUTPUT inserted.job_id WHERE job_id = CONVERT(uniqueidentifier, ?)");
  EXPECT_EQ(update.parameters.back(), FullErasureJob().id);
  const std::string columns =
      "SELECT LOWER(CONVERT(char(36), job_id)), user_id, state, COALESCE(REPLACE(CONVERT(char(23), "
      "received_cutoff, 121), ' ', 'T') + 'Z', N''), COALESCE(REPLACE(CONVERT(char(23), created_at, 121), ' ', "
      "'T') + 'Z', N''), COALESCE(REPLACE(CONVERT(char(23), started_at, 121), ' ', 'T') + 'Z', N''), "
      "COALESCE(REPLACE(CONVERT(char(23), finished_at, 121), ' ', 'T') + 'Z', N''), metadata_erased, "
      "documents_erased, outbox_erased, dead_letters_erased, COALESCE(receipt, N''), COALESCE(error, N'') FROM "
      "[el].[erasure_jobs]";
  EXPECT_EQ(dialect.FindErasureJob("id").text, columns + " WHERE job_id = CONVERT(uniqueidentifier, ?)");
  // As ScanUser: ties sort on the id's text, not uniqueidentifier order.
  EXPECT_EQ(dialect.ListErasureJobs().text,
            columns + " ORDER BY created_at, CONVERT(char(36), job_id) COLLATE Latin1_General_100_BIN2");
  const SqlStatement recent = dialect.ListErasureJobs("2026-01-01T00:00:00.000Z");
  EXPECT_EQ(recent.text, columns +
                             " WHERE created_at >= CONVERT(datetime2(3), ?, 127) OR state IN (N'pending', "
                             "N'running') ORDER BY created_at, CONVERT(char(36), job_id) COLLATE "
                             "Latin1_General_100_BIN2");
  EXPECT_EQ(recent.parameters, (std::vector<std::optional<std::string>>{"2026-01-01T00:00:00.000Z"}));
}

TEST(SqlDialectTest, ErasureJobColumnsParseBackIntoARow) {
  const ErasureJobRow full = FullErasureJob();
  std::vector<std::string> text = {full.id,          full.user_id,    full.state,   full.received_cutoff,
                                   full.created_at,  full.started_at, full.finished_at, "5000000000",
                                   "2",              "3",             "4",          full.receipt,
                                   full.error};
  std::vector<std::string_view> columns(text.begin(), text.end());
  EXPECT_EQ(ErasureJobFromColumns(columns), full);
  columns[8] = "2.5";
  EXPECT_EQ(ErasureJobFromColumns(columns), std::nullopt);
  columns.pop_back();
  EXPECT_EQ(ErasureJobFromColumns(columns), std::nullopt);
  EXPECT_EQ(ParseSqlInteger("-12"), -12);
  EXPECT_EQ(ParseSqlInteger(""), std::nullopt);
  EXPECT_EQ(ParseSqlInteger("7 "), std::nullopt);
}

// ---- Errors -------------------------------------------------------------------

TEST(SqlDialectTest, SqlStatesMapToStatusCodes) {
  struct Case {
    const char* sqlstate;
    StatusCode code;
  };
  for (const Case& c :
       {Case{"57014", StatusCode::kDeadlineExceeded}, Case{"HYT00", StatusCode::kDeadlineExceeded},
        Case{"HYT01", StatusCode::kDeadlineExceeded}, Case{"08006", StatusCode::kUnavailable},
        Case{"08S01", StatusCode::kUnavailable}, Case{"08001", StatusCode::kUnavailable},
        Case{"40001", StatusCode::kUnavailable}, Case{"40P01", StatusCode::kUnavailable},
        Case{"53300", StatusCode::kUnavailable}, Case{"57P01", StatusCode::kUnavailable},
        Case{"55P03", StatusCode::kUnavailable}, Case{"22007", StatusCode::kInvalidArgument},
        Case{"42P01", StatusCode::kFailedPrecondition},
        Case{"42S02", StatusCode::kFailedPrecondition},
        Case{"3F000", StatusCode::kFailedPrecondition}, Case{"23505", StatusCode::kAlreadyExists},
        Case{"42601", StatusCode::kInternal}, Case{"", StatusCode::kInternal}}) {
    const Status status = SqlStateToStatus(c.sqlstate, "boom");
    EXPECT_EQ(status.code(), c.code) << c.sqlstate << " → " << status.ToString();
    EXPECT_THAT(status.message(), StartsWith("boom")) << c.sqlstate;
  }
  EXPECT_THAT(SqlStateToStatus("42P01", "m").message(), HasSubstr("eventlogger migrate"));
  EXPECT_TRUE(SqlStateMeansConnectionLost("08006"));
  EXPECT_TRUE(SqlStateMeansConnectionLost("57P01"));
  EXPECT_FALSE(SqlStateMeansConnectionLost("57014"));
  EXPECT_FALSE(SqlStateMeansConnectionLost("40001"));
}

TEST(SqlDialectTest, SchemaVersionVerdicts) {
  EXPECT_TRUE(SchemaVersionStatus(kSqlSchemaVersion, "db").ok());
  const Status missing = SchemaVersionStatus(std::nullopt, "db");
  EXPECT_EQ(missing.code(), StatusCode::kFailedPrecondition);
  EXPECT_THAT(missing.message(), HasSubstr("run `eventlogger migrate`"));
  const Status behind = SchemaVersionStatus(kSqlSchemaVersion - 1, "db");
  EXPECT_EQ(behind.code(), StatusCode::kFailedPrecondition);
  EXPECT_THAT(behind.message(), HasSubstr("run `eventlogger migrate`"));
  const Status newer = SchemaVersionStatus(kSqlSchemaVersion + 1, "db");
  EXPECT_EQ(newer.code(), StatusCode::kFailedPrecondition);
  EXPECT_THAT(newer.message(), HasSubstr("newer than this build"));
}

}  // namespace
}  // namespace eventlogger
