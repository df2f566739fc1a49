// Tests for the relational MetadataStores against a real PostgreSQL 15:
// every behaviour test runs twice, through libpq (PostgresMetadataStore)
// and through ODBC with Debian's psqlODBC driver (OdbcMetadataStore), since
// both must behave the same. PostgreSQL-only tests (URL options, secrets in
// libpq messages) follow at the end.
//
// The server comes from tests/support/test-servers.sh, which exports
// EVENTLOGGER_TEST_POSTGRES_URL and EVENTLOGGER_TEST_SERVERS_DIR; without
// them the tests fail rather than skip, so a broken setup cannot pass
// silently. Each test works in a schema of its own, dropped at the end.
// The restart tests stop the shared server: run this binary alone.
#include "storage/postgres_metadata_store.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <libpq-fe.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <latch>
#include <random>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "core/event.h"
#include "storage/odbc_metadata_store.h"
#include "storage/api_key_contract.h"
#include "storage/privacy_contract.h"
#include "storage/sql_dialect.h"

namespace eventlogger {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

using std::chrono::milliseconds;

// ---- Environment --------------------------------------------------------------

const char* Env(const char* name) {
  const char* value = std::getenv(name);
  return value != nullptr && *value != '\0' ? value : nullptr;
}

constexpr const char* kMissingEnvironment =
    " is not set. These tests need the real PostgreSQL that tests/support/test-servers.sh "
    "starts: run `eval \"$(tests/support/test-servers.sh start /tmp/state)\"` first.";

// host, port, database and user of EVENTLOGGER_TEST_POSTGRES_URL
// (postgresql://user@host:port/db, as test-servers.sh prints it).
struct ServerAddress {
  std::string user = "postgres";
  std::string host = "127.0.0.1";
  std::string port = "5432";
  std::string database = "postgres";
};

ServerAddress ParseServerUrl(std::string_view url) {
  ServerAddress address;
  const size_t scheme = url.find("://");
  if (scheme == std::string_view::npos) return address;
  std::string_view rest = url.substr(scheme + 3);
  rest = rest.substr(0, rest.find('?'));
  const size_t slash = rest.find('/');
  if (slash != std::string_view::npos) address.database = std::string(rest.substr(slash + 1));
  std::string_view authority = rest.substr(0, slash);
  const size_t at = authority.rfind('@');
  if (at != std::string_view::npos) {
    const std::string_view userinfo = authority.substr(0, at);
    address.user = std::string(userinfo.substr(0, userinfo.find(':')));
    authority = authority.substr(at + 1);
  }
  const size_t colon = authority.rfind(':');
  address.host = std::string(authority.substr(0, colon));
  if (colon != std::string_view::npos) address.port = std::string(authority.substr(colon + 1));
  return address;
}

// The same server through psqlODBC.
std::string OdbcConnectionString(const ServerAddress& address) {
  return "Driver={PostgreSQL Unicode};Server=" + address.host + ";Port=" + address.port +
         ";Database=" + address.database + ";Uid=" + address.user + ";";
}

// A schema name no other test (or earlier run) uses.
std::string UniqueSchema() {
  static std::atomic<int> counter{0};
  static const unsigned salt = std::random_device{}() & 0xFFFFFF;
  char name[64];
  std::snprintf(name, sizeof(name), "elt_%d_%06x_%d", static_cast<int>(getpid()), salt,
                counter.fetch_add(1));
  return name;
}

// ---- Direct access to the server, bypassing the stores --------------------------

class Admin {
 public:
  explicit Admin(const std::string& url) : conn_(PQconnectdb(url.c_str())) {
    EXPECT_EQ(PQstatus(conn_), CONNECTION_OK) << PQerrorMessage(conn_);
    PQsetNoticeProcessor(
        conn_, [](void*, const char*) {}, nullptr);  // "drop cascades to …"
  }
  ~Admin() { PQfinish(conn_); }
  Admin(const Admin&) = delete;
  Admin& operator=(const Admin&) = delete;

  void Exec(const std::string& sql) {
    PGresult* result = PQexec(conn_, sql.c_str());
    const ExecStatusType status = PQresultStatus(result);
    EXPECT_TRUE(status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK)
        << sql << ": " << PQresultErrorMessage(result);
    PQclear(result);
  }
  // The first column of the first row ("" for none or NULL).
  std::string Scalar(const std::string& sql) {
    PGresult* result = PQexec(conn_, sql.c_str());
    EXPECT_EQ(PQresultStatus(result), PGRES_TUPLES_OK)
        << sql << ": " << PQresultErrorMessage(result);
    std::string value = PQntuples(result) > 0 ? PQgetvalue(result, 0, 0) : "";
    PQclear(result);
    return value;
  }

 private:
  PGconn* conn_;
};

// ---- Events -------------------------------------------------------------------

// A valid UUID whose text order follows n.
std::string Id(unsigned n) {
  char id[40];
  std::snprintf(id, sizeof(id), "0190a000-0000-7000-8000-%012x", n);
  return id;
}

Event MakeEvent(std::string event_id, std::string user_id, std::string timestamp,
                std::string idempotency_key = "", std::string request_hash = "") {
  Event event;
  event.event_id = std::move(event_id);
  event.user_id = std::move(user_id);
  event.event_type = "page.view";
  event.timestamp = std::move(timestamp);
  event.details_json = "{}";
  event.idempotency_key = std::move(idempotency_key);
  event.request_hash = std::move(request_hash);
  return event;
}

Status Write(MetadataStore& store, const std::vector<Event>& events) {
  std::vector<const Event*> pointers;
  for (const Event& e : events) pointers.push_back(&e);
  return store.WriteBatch(EventBatch(pointers));
}

std::vector<EventMetadata> ScanUser(MetadataStore& store, std::string_view user_id) {
  std::vector<EventMetadata> rows;
  const Status status = store.ScanUser(user_id, [&](const EventMetadata& row) {
    rows.push_back(row);
    return true;
  });
  EXPECT_TRUE(status.ok()) << status.ToString();
  return rows;
}

std::set<std::string> ScanIds(MetadataStore& store, const ScanFilter& filter) {
  std::set<std::string> ids;
  const Status status = store.Scan(filter, [&](const EventMetadata& row) {
    ids.insert(row.event_id);
    return true;
  });
  EXPECT_TRUE(status.ok()) << status.ToString();
  return ids;
}

std::vector<std::string> EventIds(const std::vector<EventMetadata>& rows) {
  std::vector<std::string> ids;
  for (const auto& row : rows) ids.push_back(row.event_id);
  return ids;
}

// ---- The fixture ----------------------------------------------------------------

enum class Backend { kLibpq, kOdbc };

struct Tuning {
  int pool_size = 4;
  milliseconds statement_timeout{5000};
  milliseconds pool_timeout{5000};
  std::string schema;  // empty: the test's own
  // Extra session settings, to prove results do not depend on them.
  std::string session_time_zone;
};

class SqlStoreTest : public ::testing::TestWithParam<Backend> {
 protected:
  void SetUp() override {
    const char* url = Env("EVENTLOGGER_TEST_POSTGRES_URL");
    const char* servers = Env("EVENTLOGGER_TEST_SERVERS_DIR");
    if (url == nullptr) GTEST_FAIL() << "EVENTLOGGER_TEST_POSTGRES_URL" << kMissingEnvironment;
    if (servers == nullptr) GTEST_FAIL() << "EVENTLOGGER_TEST_SERVERS_DIR" << kMissingEnvironment;
    url_ = url;
    servers_dir_ = servers;
    address_ = ParseServerUrl(url_);
    schema_ = UniqueSchema();
    admin_ = std::make_unique<Admin>(url_);
  }

  void TearDown() override {
    if (admin_ == nullptr) return;
    admin_.reset();  // a restart test may have cut it; reconnect for the cleanup
    Admin(url_).Exec("DROP SCHEMA IF EXISTS \"" + schema_ + "\" CASCADE");
  }

  Result<std::unique_ptr<MetadataStore>> Open(const Tuning& tuning = {}) {
    const std::string schema = tuning.schema.empty() ? schema_ : tuning.schema;
    if (GetParam() == Backend::kLibpq) {
      PostgresMetadataOptions options;
      options.url = url_;
      if (!tuning.session_time_zone.empty()) {
        // Any parameter libpq knows passes through; this one sets the
        // session TimeZone on the server.
        options.url += "?options=-c%20TimeZone%3D" + tuning.session_time_zone;
      }
      options.pool_size = tuning.pool_size;
      options.statement_timeout = tuning.statement_timeout;
      options.pool_timeout = tuning.pool_timeout;
      options.schema = schema;
      return OpenPostgresMetadataStore(options);
    }
    OdbcMetadataOptions options;
    options.connection_string = OdbcConnectionString(address_);
    if (!tuning.session_time_zone.empty()) {
      options.connection_string +=
          "ConnSettings={SET TimeZone='" + tuning.session_time_zone + "'};";
    }
    options.pool_size = tuning.pool_size;
    options.statement_timeout = tuning.statement_timeout;
    options.pool_timeout = tuning.pool_timeout;
    options.schema = schema;
    return OpenOdbcMetadataStore(options);
  }

  std::unique_ptr<MetadataStore> OpenOrDie(const Tuning& tuning = {}) {
    Result<std::unique_ptr<MetadataStore>> store = Open(tuning);
    EXPECT_TRUE(store.ok()) << store.status().ToString();
    return store.ok() ? std::move(store).value() : nullptr;
  }

  std::unique_ptr<MetadataStore> OpenMigrated(const Tuning& tuning = {}) {
    std::unique_ptr<MetadataStore> store = OpenOrDie(tuning);
    if (store == nullptr) return nullptr;
    const Status migrated = store->Migrate();
    EXPECT_TRUE(migrated.ok()) << migrated.ToString();
    return migrated.ok() ? std::move(store) : nullptr;
  }

  std::string Table(const std::string& name) const { return "\"" + schema_ + "\"." + name; }

  // Runs a tests/support/test-servers.sh subcommand on our server.
  void Servers(const std::string& command) {
    const std::string script = std::string(EVENTLOGGER_TEST_DATA_DIR) + "/support/test-servers.sh";
    const std::string shell = "EVENTLOGGER_TEST_PG_PORT='" + address_.port + "' '" + script + "' " +
                              command + " '" + servers_dir_ + "'";
    ASSERT_EQ(std::system(shell.c_str()), 0) << shell;
  }

  std::string url_;
  std::string servers_dir_;
  ServerAddress address_;
  std::string schema_;
  std::unique_ptr<Admin> admin_;
};

std::string BackendName(const ::testing::TestParamInfo<Backend>& info) {
  return info.param == Backend::kLibpq ? "libpq" : "odbc";
}

INSTANTIATE_TEST_SUITE_P(Backends, SqlStoreTest, ::testing::Values(Backend::kLibpq, Backend::kOdbc),
                         BackendName);

// ---- Schema ---------------------------------------------------------------------

TEST_P(SqlStoreTest, OpeningCreatesNothingAndCheckSchemaAsksForMigrate) {
  auto store = OpenOrDie();
  ASSERT_NE(store, nullptr);
  EXPECT_EQ(admin_->Scalar("SELECT count(*) FROM pg_namespace WHERE nspname = '" + schema_ + "'"),
            "0");
  const Status check = store->CheckSchema();
  EXPECT_EQ(check.code(), StatusCode::kFailedPrecondition) << check.ToString();
  EXPECT_THAT(check.message(), HasSubstr("eventlogger migrate"));
  // Nor does using the store: a write fails the same way, it does not create.
  const Status write = Write(*store, {MakeEvent(Id(1), "u", "2025-01-01T00:00:00.000Z")});
  EXPECT_EQ(write.code(), StatusCode::kFailedPrecondition) << write.ToString();
  EXPECT_EQ(admin_->Scalar("SELECT count(*) FROM pg_namespace WHERE nspname = '" + schema_ + "'"),
            "0");
}

TEST_P(SqlStoreTest, MigrateCreatesTheSchemaAndIsIdempotent) {
  auto store = OpenOrDie();
  ASSERT_NE(store, nullptr);
  ASSERT_TRUE(store->Migrate().ok());
  EXPECT_TRUE(store->CheckSchema().ok()) << store->CheckSchema().ToString();
  ASSERT_TRUE(Write(*store, {MakeEvent(Id(1), "u", "2025-01-01T00:00:00.000Z")}).ok());
  for (int i = 0; i < 3; ++i) {
    const Status again = store->Migrate();
    EXPECT_TRUE(again.ok()) << again.ToString();
  }
  EXPECT_TRUE(store->CheckSchema().ok());
  EXPECT_EQ(
      admin_->Scalar("SELECT string_agg(version::text, ',') FROM " + Table("eventlogger_schema")),
      std::to_string(kSqlSchemaVersion));
  EXPECT_EQ(admin_->Scalar("SELECT count(*) FROM " + Table("events")), "1");  // data kept
  // The documented schema: column types, and both indexes.
  EXPECT_EQ(
      admin_->Scalar(
          "SELECT string_agg(column_name || ' ' || data_type || ' ' || is_nullable, ', ' "
          "ORDER BY ordinal_position) FROM information_schema.columns WHERE table_schema = '" +
          schema_ + "' AND table_name = 'events'"),
      "event_id uuid NO, user_id text NO, event_type text NO, timestamp timestamp with time zone "
      "NO, "
      "created_at timestamp with time zone NO, idempotency_key text YES, request_hash text YES, "
      "occurred_at timestamp with time zone YES, received_at timestamp with time zone YES");
  EXPECT_EQ(
      admin_->Scalar("SELECT string_agg(indexdef, ' | ' ORDER BY indexname) FROM pg_indexes WHERE "
                     "schemaname = '" +
                     schema_ + "' AND tablename = 'events'"),
      "CREATE UNIQUE INDEX events_by_idempotency_key ON " + schema_ +
          ".events USING btree (user_id, idempotency_key) WHERE (idempotency_key IS NOT NULL) | "
          "CREATE INDEX events_by_user_time ON " +
          schema_ +
          ".events USING btree (user_id, \"timestamp\", event_id) | "
          "CREATE UNIQUE INDEX events_pkey ON " +
          schema_ + ".events USING btree (event_id)");
}

TEST_P(SqlStoreTest, ConcurrentMigrationsAllSucceedOnce) {
  // Separate stores, so separate server sessions: what several eventlogger
  // processes running `migrate` at once look like to the database.
  constexpr int kMigrators = 8;
  std::vector<std::unique_ptr<MetadataStore>> stores;
  for (int i = 0; i < kMigrators; ++i) {
    stores.push_back(OpenOrDie({.pool_size = 1}));
    ASSERT_NE(stores.back(), nullptr);
  }
  std::latch start(kMigrators);
  std::vector<Status> results(kMigrators);
  std::vector<std::thread> threads;
  for (int i = 0; i < kMigrators; ++i) {
    threads.emplace_back([&, i] {
      start.arrive_and_wait();
      results[i] = stores[i]->Migrate();
    });
  }
  for (auto& thread : threads) thread.join();
  for (const Status& result : results) EXPECT_TRUE(result.ok()) << result.ToString();
  EXPECT_EQ(
      admin_->Scalar("SELECT string_agg(version::text, ',') FROM " + Table("eventlogger_schema")),
      std::to_string(kSqlSchemaVersion));
  for (auto& store : stores) EXPECT_TRUE(store->CheckSchema().ok());
}

TEST_P(SqlStoreTest, CheckSchemaRefusesANewerDatabaseAndMigrateLeavesItAlone) {
  auto store = OpenMigrated();
  ASSERT_NE(store, nullptr);
  admin_->Exec("UPDATE " + Table("eventlogger_schema") +
               " SET version = " + std::to_string(kSqlSchemaVersion + 1));
  const Status check = store->CheckSchema();
  EXPECT_EQ(check.code(), StatusCode::kFailedPrecondition) << check.ToString();
  EXPECT_THAT(check.message(), HasSubstr("newer than this build"));
  const Status migrate = store->Migrate();
  EXPECT_EQ(migrate.code(), StatusCode::kFailedPrecondition) << migrate.ToString();
  EXPECT_EQ(admin_->Scalar("SELECT version FROM " + Table("eventlogger_schema")),
            std::to_string(kSqlSchemaVersion + 1));
}

TEST_P(SqlStoreTest, CheckSchemaAsksForMigrateWhenBehindAndMigrateCatchesUp) {
  auto store = OpenMigrated();
  ASSERT_NE(store, nullptr);
  admin_->Exec("UPDATE " + Table("eventlogger_schema") + " SET version = 0");
  const Status check = store->CheckSchema();
  EXPECT_EQ(check.code(), StatusCode::kFailedPrecondition) << check.ToString();
  EXPECT_THAT(check.message(), HasSubstr("run `eventlogger migrate`"));
  ASSERT_TRUE(store->Migrate().ok());
  EXPECT_TRUE(store->CheckSchema().ok());
  // An empty version table (say, a half-restored backup) counts as behind.
  admin_->Exec("DELETE FROM " + Table("eventlogger_schema"));
  EXPECT_EQ(store->CheckSchema().code(), StatusCode::kFailedPrecondition);
  ASSERT_TRUE(store->Migrate().ok());
  EXPECT_TRUE(store->CheckSchema().ok());
}

TEST_P(SqlStoreTest, KeepsApiKeysByContract) {
  auto store = OpenMigrated();
  ASSERT_NE(store, nullptr);
  testing_support::CheckApiKeyContract(*store);
}

// ---- Privacy lifecycle ----------------------------------------------------------------

TEST_P(SqlStoreTest, ErasesUsersByContract) {
  auto store = OpenMigrated();
  ASSERT_NE(store, nullptr);
  testing_support::CheckUserErasureContract(*store);
}

TEST_P(SqlStoreTest, ExpiresEventsByContract) {
  auto store = OpenMigrated();
  ASSERT_NE(store, nullptr);
  testing_support::CheckRetentionContract(*store);
}

TEST_P(SqlStoreTest, KeepsLegalHoldsByContract) {
  auto store = OpenMigrated();
  ASSERT_NE(store, nullptr);
  testing_support::CheckLegalHoldContract(*store);
  // A hold without a reason has NULL there, not an empty string.
  EXPECT_EQ(admin_->Scalar("SELECT user_id FROM " + Table("legal_holds") + " WHERE reason IS NULL"), "alice");
}

TEST_P(SqlStoreTest, ListsRecentAndUnfinishedErasureJobsByContract) {
  auto store = OpenMigrated();
  ASSERT_NE(store, nullptr);
  testing_support::CheckRecentErasureJobContract(*store);
  // Each half of the bounded listing has an index.
  EXPECT_EQ(admin_->Scalar("SELECT string_agg(indexdef, ' | ' ORDER BY indexname) FROM pg_indexes WHERE "
                           "schemaname = '" +
                           schema_ + "' AND tablename = 'erasure_jobs' AND indexname <> 'erasure_jobs_pkey'"),
            "CREATE INDEX erasure_jobs_by_created ON " + schema_ +
                ".erasure_jobs USING btree (created_at) | CREATE INDEX erasure_jobs_unfinished ON " + schema_ +
                ".erasure_jobs USING btree (created_at) WHERE (state = ANY (ARRAY['pending'::text, "
                "'running'::text]))");
}

TEST_P(SqlStoreTest, KeepsErasureJobsByContract) {
  auto store = OpenMigrated();
  ASSERT_NE(store, nullptr);
  testing_support::CheckErasureJobContract(*store);
  // Empty fields are NULL in the table.
  EXPECT_EQ(admin_->Scalar("SELECT count(*) FROM " + Table("erasure_jobs") + " WHERE job_id = '" +
                           testing_support::kJobB +
                           "' AND started_at IS NULL AND finished_at IS NULL AND receipt IS NULL AND error IS NULL"),
            "1");
  EXPECT_EQ(admin_->Scalar("SELECT count(*) FROM " + Table("erasure_jobs") + " WHERE job_id = '" +
                           testing_support::kJobA + "' AND finished_at IS NULL AND receipt IS NULL AND error IS NOT NULL"),
            "1");
  // A job id must be a UUID, as an eventId is.
  const Status bad_id =
      store->InsertErasureJob(testing_support::PendingJob("not-a-uuid", "u", "2026-01-01T00:00:00.000Z"));
  EXPECT_EQ(bad_id.code(), StatusCode::kInvalidArgument) << bad_id.ToString();
}

TEST_P(SqlStoreTest, PrivacyStatementsRunWhateverTheSessionTimeZone) {
  auto store = OpenMigrated({.session_time_zone = "Pacific/Kiritimati"});
  ASSERT_NE(store, nullptr);
  testing_support::CheckUserErasureContract(*store);
  ASSERT_TRUE(store->PutLegalHold({"h", "", "2026-01-01T00:00:00.000Z"}).ok());
  Result<std::vector<LegalHoldRow>> holds = store->ListLegalHolds();
  ASSERT_TRUE(holds.ok()) << holds.status().ToString();
  ASSERT_EQ(holds->size(), 1u);
  EXPECT_EQ((*holds)[0].placed_at, "2026-01-01T00:00:00.000Z");
}

TEST_P(SqlStoreTest, MigrateFromVersionOneAddsTheApiKeyTableAndKeepsEvents) {
  auto store = OpenMigrated();
  ASSERT_NE(store, nullptr);
  ASSERT_TRUE(Write(*store, {MakeEvent(Id(1), "u", "2025-01-01T00:00:00.000Z")}).ok());
  // What a version-1 database looks like.
  admin_->Exec("DROP TABLE " + Table("api_keys"));
  admin_->Exec("UPDATE " + Table("eventlogger_schema") + " SET version = 1");
  EXPECT_EQ(store->CheckSchema().code(), StatusCode::kFailedPrecondition);
  ASSERT_TRUE(store->Migrate().ok());
  EXPECT_TRUE(store->CheckSchema().ok());
  EXPECT_EQ(admin_->Scalar("SELECT count(*) FROM " + Table("events")), "1");
  EXPECT_EQ(admin_->Scalar("SELECT count(*) FROM " + Table("api_keys")), "0");
  Result<std::vector<ApiKeyRow>> keys = store->ListApiKeys();
  ASSERT_TRUE(keys.ok()) << keys.status().ToString();
  EXPECT_TRUE(keys->empty());
}

// What version 2 (the build before event times) created, word for word,
// for the schema `s`, with two events and a key in it. The events'
// timestamps differ from the times in their ids on purpose, so the test sees
// which one reads stand in for the missing received_at.
std::string Version2Database(const std::string& s) {
  const std::string events = "\"" + s + "\".events";
  return "CREATE SCHEMA \"" + s + "\"; "
         "CREATE TABLE \"" + s + "\".eventlogger_schema (version integer NOT NULL); "
         "CREATE TABLE " + events + " (event_id uuid PRIMARY KEY, user_id text NOT NULL, "
         "event_type text NOT NULL, \"timestamp\" timestamptz(3) NOT NULL, created_at timestamptz "
         "NOT NULL DEFAULT now(), idempotency_key text NULL, request_hash text NULL); "
         "CREATE INDEX events_by_user_time ON " + events + " (user_id, \"timestamp\", event_id); "
         "CREATE UNIQUE INDEX events_by_idempotency_key ON " + events +
         " (user_id, idempotency_key) WHERE idempotency_key IS NOT NULL; "
         "CREATE TABLE \"" + s + "\".api_keys (key_id text PRIMARY KEY, name text NOT NULL, "
         "scopes text NOT NULL, secret_digest text NOT NULL, created_at timestamptz(3) NOT NULL, "
         "last_used_at timestamptz(3) NULL, revoked_at timestamptz(3) NULL); "
         "INSERT INTO \"" + s + "\".eventlogger_schema (version) VALUES (2); "
         "INSERT INTO " + events + " (event_id, user_id, event_type, \"timestamp\", idempotency_key, "
         "request_hash) VALUES "
         "('" + Id(1) + "', 'u', 'login', '2025-01-01T00:00:00.000Z', 'k1', 'h1'), "
         "('" + Id(2) + "', 'u', 'click', '2025-01-01T00:00:01.000Z', NULL, NULL); "
         "INSERT INTO \"" + s + "\".api_keys (key_id, name, scopes, secret_digest, created_at) VALUES "
         "('00000000000000a1', 'ci', 'admin', 'dd', '2025-01-01T00:00:00.000Z')";
}

void ExpectTimes(const EventMetadata& row, std::string_view timestamp, std::string_view occurred_at,
                 std::string_view received_at) {
  EXPECT_EQ(row.timestamp, timestamp) << row.event_id;
  EXPECT_EQ(row.occurred_at, occurred_at) << row.event_id;
  EXPECT_EQ(row.received_at, received_at) << row.event_id;
}

TEST_P(SqlStoreTest, MigrateFromVersionTwoAddsEventTimesAndKeepsEveryRow) {
  admin_->Exec(Version2Database(schema_));
  auto store = OpenOrDie();
  ASSERT_NE(store, nullptr);
  const Status behind = store->CheckSchema();
  EXPECT_EQ(behind.code(), StatusCode::kFailedPrecondition) << behind.ToString();
  EXPECT_THAT(behind.message(), HasSubstr("schema version 2, older than this build's 4"));

  ASSERT_TRUE(store->Migrate().ok());
  EXPECT_TRUE(store->CheckSchema().ok()) << store->CheckSchema().ToString();
  EXPECT_EQ(admin_->Scalar("SELECT string_agg(version::text, ',') FROM " + Table("eventlogger_schema")),
            std::to_string(kSqlSchemaVersion));
  // No backfill: the old rows' received_at stays NULL and reads as their
  // timestamp (below).
  EXPECT_EQ(admin_->Scalar("SELECT count(*) FROM " + Table("events") +
                           " WHERE received_at IS NULL AND occurred_at IS NULL"),
            "2");
  const std::vector<EventMetadata> rows = ScanUser(*store, "u");
  ASSERT_EQ(EventIds(rows), (std::vector<std::string>{Id(1), Id(2)}));
  EXPECT_EQ(rows[0].event_type, "login");
  EXPECT_EQ(rows[0].idempotency_key, "k1");
  EXPECT_EQ(rows[0].request_hash, "h1");
  ExpectTimes(rows[0], "2025-01-01T00:00:00.000Z", "", "2025-01-01T00:00:00.000Z");
  ExpectTimes(rows[1], "2025-01-01T00:00:01.000Z", "", "2025-01-01T00:00:01.000Z");
  Result<EventMetadata> found = store->FindEvent("u", Id(2));
  ASSERT_TRUE(found.ok()) << found.status().ToString();
  ExpectTimes(*found, "2025-01-01T00:00:01.000Z", "", "2025-01-01T00:00:01.000Z");
  EXPECT_EQ(store->FindByIdempotencyKey("u", "k1")->event_id, Id(1));
  Result<std::vector<ApiKeyRow>> keys = store->ListApiKeys();
  ASSERT_TRUE(keys.ok()) << keys.status().ToString();
  EXPECT_EQ(keys->size(), 1u);

  // New writes carry their times.
  Event timed = MakeEvent(Id(3), "u", "2024-07-11T04:14:30.500Z");
  timed.occurred_at = "2024-07-11T04:14:31.000Z";
  ASSERT_TRUE(Write(*store, {timed}).ok());
  found = store->FindEvent("u", Id(3));
  ASSERT_TRUE(found.ok()) << found.status().ToString();
  ExpectTimes(*found, "2024-07-11T04:14:30.500Z", "2024-07-11T04:14:31.000Z", "2024-07-11T04:14:32.960Z");

  // An instance still running version 2 inserts without received_at; it
  // timed its events by the server, so their timestamp reads as receipt.
  admin_->Exec("INSERT INTO " + Table("events") +
               " (event_id, user_id, event_type, \"timestamp\") VALUES ('" + Id(4) +
               "', 'w', 'click', '2025-01-01T00:00:04.000Z')");
  const std::vector<EventMetadata> late = ScanUser(*store, "w");
  ASSERT_EQ(late.size(), 1u);
  ExpectTimes(late[0], "2025-01-01T00:00:04.000Z", "", "2025-01-01T00:00:04.000Z");

  // Migrating again changes nothing (and backfills nothing written since).
  ASSERT_TRUE(store->Migrate().ok());
  EXPECT_TRUE(store->CheckSchema().ok());
  EXPECT_EQ(admin_->Scalar("SELECT string_agg(version::text, ',') FROM " + Table("eventlogger_schema")),
            std::to_string(kSqlSchemaVersion));
  EXPECT_EQ(admin_->Scalar("SELECT count(*) FROM information_schema.columns WHERE table_schema = '" +
                           schema_ + "' AND table_name = 'events'"),
            "9");
  EXPECT_EQ(admin_->Scalar("SELECT count(*) FROM " + Table("events")), "4");
  found = store->FindEvent("u", Id(3));
  ASSERT_TRUE(found.ok()) << found.status().ToString();
  ExpectTimes(*found, "2024-07-11T04:14:30.500Z", "2024-07-11T04:14:31.000Z", "2024-07-11T04:14:32.960Z");
}

// What version 3 (the build before legal holds and erasure jobs) created,
// word for word, for the schema `s`, with a key and three events of user u:
// one upgraded from version 2 (received_at NULL, its timestamp is its
// receipt), one timed by its client (received 2025-06-29T14:32:45.123Z,
// dated 14:30) and one received later than both.
std::string Version3Database(const std::string& s) {
  const std::string events = "\"" + s + "\".events";
  return "CREATE SCHEMA \"" + s + "\"; "
         "CREATE TABLE \"" + s + "\".eventlogger_schema (version integer NOT NULL); "
         "CREATE TABLE " + events + " (event_id uuid PRIMARY KEY, user_id text NOT NULL, "
         "event_type text NOT NULL, \"timestamp\" timestamptz(3) NOT NULL, created_at timestamptz "
         "NOT NULL DEFAULT now(), idempotency_key text NULL, request_hash text NULL); "
         "CREATE INDEX events_by_user_time ON " + events + " (user_id, \"timestamp\", event_id); "
         "CREATE UNIQUE INDEX events_by_idempotency_key ON " + events +
         " (user_id, idempotency_key) WHERE idempotency_key IS NOT NULL; "
         "CREATE TABLE \"" + s + "\".api_keys (key_id text PRIMARY KEY, name text NOT NULL, "
         "scopes text NOT NULL, secret_digest text NOT NULL, created_at timestamptz(3) NOT NULL, "
         "last_used_at timestamptz(3) NULL, revoked_at timestamptz(3) NULL); "
         "ALTER TABLE " + events + " ADD COLUMN IF NOT EXISTS occurred_at timestamptz(3) NULL, "
         "ADD COLUMN IF NOT EXISTS received_at timestamptz(3) NULL; "
         "INSERT INTO \"" + s + "\".eventlogger_schema (version) VALUES (3); "
         "INSERT INTO " + events + " (event_id, user_id, event_type, \"timestamp\", idempotency_key, "
         "request_hash, occurred_at, received_at) VALUES "
         "('0190a000-0000-7000-8000-000000000001', 'u', 'login', '2025-01-01T00:00:00.000Z', 'k1', "
         "'h1', NULL, NULL), "
         "('0197b4a1-0000-7000-8000-000000000002', 'u', 'click', '2025-06-29T14:30:00.000Z', NULL, "
         "NULL, '2025-06-29T14:30:00.000Z', '2025-06-29T14:32:45.123Z'), "
         "('0197b4a1-0000-7000-8000-000000000003', 'u', 'click', '2025-06-29T15:00:00.000Z', NULL, "
         "NULL, NULL, '2025-06-29T15:00:00.000Z'); "
         "INSERT INTO \"" + s + "\".api_keys (key_id, name, scopes, secret_digest, created_at) VALUES "
         "('00000000000000a1', 'ci', 'admin', 'dd', '2025-01-01T00:00:00.000Z')";
}

TEST_P(SqlStoreTest, MigrateFromVersionThreeAddsHoldsAndJobsAndKeepsEveryRow) {
  admin_->Exec(Version3Database(schema_));
  // Several migrators at once, as several instances upgrading together.
  constexpr int kMigrators = 4;
  std::vector<std::unique_ptr<MetadataStore>> stores;
  stores.reserve(kMigrators);
  for (int i = 0; i < kMigrators; ++i) {
    stores.push_back(OpenOrDie({.pool_size = 1}));
    ASSERT_NE(stores.back(), nullptr);
  }
  const Status behind = stores[0]->CheckSchema();
  EXPECT_EQ(behind.code(), StatusCode::kFailedPrecondition) << behind.ToString();
  EXPECT_THAT(behind.message(), HasSubstr("schema version 3, older than this build's 4"));
  std::latch start(kMigrators);
  std::vector<Status> results(kMigrators);
  std::vector<std::thread> threads;
  threads.reserve(kMigrators);
  for (int i = 0; i < kMigrators; ++i) {
    threads.emplace_back([&, i] {
      start.arrive_and_wait();
      results[i] = stores[i]->Migrate();
    });
  }
  for (auto& thread : threads) thread.join();
  for (const Status& result : results) EXPECT_TRUE(result.ok()) << result.ToString();
  MetadataStore& store = *stores[0];
  EXPECT_TRUE(store.CheckSchema().ok()) << store.CheckSchema().ToString();
  EXPECT_EQ(admin_->Scalar("SELECT string_agg(version::text, ',') FROM " + Table("eventlogger_schema")), "4");
  // The documented schema of the new tables.
  const auto columns = [&](const std::string& table) {
    return admin_->Scalar(
        "SELECT string_agg(column_name || ' ' || data_type || ' ' || is_nullable, ', ' "
        "ORDER BY ordinal_position) FROM information_schema.columns WHERE table_schema = '" +
        schema_ + "' AND table_name = '" + table + "'");
  };
  EXPECT_EQ(columns("legal_holds"),
            "user_id text NO, reason text YES, placed_at timestamp with time zone NO");
  EXPECT_EQ(columns("erasure_jobs"),
            "job_id uuid NO, user_id text NO, state text NO, received_cutoff timestamp with time zone NO, "
            "created_at timestamp with time zone NO, started_at timestamp with time zone YES, "
            "finished_at timestamp with time zone YES, metadata_erased bigint NO, documents_erased bigint NO, "
            "outbox_erased bigint NO, dead_letters_erased bigint NO, receipt text YES, error text YES");
  EXPECT_EQ(admin_->Scalar("SELECT count(*) FROM " + Table("events")), "3");
  Result<std::vector<ApiKeyRow>> keys = store.ListApiKeys();
  ASSERT_TRUE(keys.ok()) << keys.status().ToString();
  EXPECT_EQ(keys->size(), 1u);
  Result<std::vector<LegalHoldRow>> holds = store.ListLegalHolds();
  ASSERT_TRUE(holds.ok()) << holds.status().ToString();
  EXPECT_TRUE(holds->empty());
  Result<std::vector<ErasureJobRow>> jobs = store.ListErasureJobs();
  ASSERT_TRUE(jobs.ok()) << jobs.status().ToString();
  EXPECT_TRUE(jobs->empty());

  // The old rows are erased by when they were received: the pre-version-3
  // row by its timestamp, the client-timed one by received_at (after its
  // timestamp), and the later one is kept.
  Result<int64_t> erased = store.EraseUserEvents(testing_support::ErasureUpTo("u", 1751207565123), 10);
  ASSERT_TRUE(erased.ok()) << erased.status().ToString();
  EXPECT_EQ(*erased, 2);
  EXPECT_EQ(EventIds(ScanUser(store, "u")),
            (std::vector<std::string>{"0197b4a1-0000-7000-8000-000000000003"}));

  // Migrating again changes nothing.
  ASSERT_TRUE(store.PutLegalHold({"u", "", "2026-01-01T00:00:00.000Z"}).ok());
  ASSERT_TRUE(store.Migrate().ok());
  EXPECT_EQ(admin_->Scalar("SELECT string_agg(version::text, ',') FROM " + Table("eventlogger_schema")), "4");
  EXPECT_EQ(admin_->Scalar("SELECT count(*) FROM " + Table("legal_holds") + " WHERE reason IS NULL"), "1");
}

TEST_P(SqlStoreTest, MigrateWaitsForAnotherMigratorOnlyUpToTheLockTimeout) {
  auto store = OpenOrDie({.statement_timeout = milliseconds(300)});
  ASSERT_NE(store, nullptr);
  // Another session holds the migration lock (as a migrator stuck mid-way would).
  Admin other(url_);
  other.Exec("SELECT pg_advisory_lock(hashtextextended('eventlogger.migrate:" + schema_ + "', 0))");
  const auto started = std::chrono::steady_clock::now();
  const Status blocked = store->Migrate();
  EXPECT_EQ(blocked.code(), StatusCode::kUnavailable) << blocked.ToString();
  EXPECT_LT(std::chrono::steady_clock::now() - started, std::chrono::seconds(3));
  EXPECT_EQ(admin_->Scalar("SELECT count(*) FROM pg_namespace WHERE nspname = '" + schema_ + "'"),
            "0");
  other.Exec("SELECT pg_advisory_unlock_all()");
  const Status migrated = store->Migrate();
  EXPECT_TRUE(migrated.ok()) << migrated.ToString();
}

// ---- Writing and reading ------------------------------------------------------------

TEST_P(SqlStoreTest, ScanUserReturnsTimestampThenEventIdOrder) {
  auto store = OpenMigrated();
  ASSERT_NE(store, nullptr);
  // Out of order, over two batches, two events sharing a timestamp (their
  // order must come from eventId, not insertion order).
  ASSERT_TRUE(Write(*store, {MakeEvent(Id(30), "u", "2025-01-01T00:00:02.000Z"),
                             MakeEvent(Id(20), "u", "2025-01-01T00:00:01.000Z")})
                  .ok());
  ASSERT_TRUE(Write(*store, {MakeEvent(Id(10), "u", "2025-01-01T00:00:01.000Z"),
                             MakeEvent(Id(40), "u", "2024-12-31T23:59:59.999Z"),
                             MakeEvent(Id(50), "other", "2025-01-01T00:00:00.000Z")})
                  .ok());
  const std::vector<EventMetadata> rows = ScanUser(*store, "u");
  EXPECT_EQ(EventIds(rows), (std::vector<std::string>{Id(40), Id(10), Id(20), Id(30)}));
  ASSERT_EQ(rows.size(), 4u);
  EXPECT_EQ(rows[0].user_id, "u");
  EXPECT_EQ(rows[0].event_type, "page.view");
  EXPECT_EQ(rows[0].timestamp, "2024-12-31T23:59:59.999Z");
  EXPECT_TRUE(ScanUser(*store, "nobody").empty());
}

TEST_P(SqlStoreTest, ScanUserAndScanStopWhenVisitReturnsFalse) {
  auto store = OpenMigrated({.pool_size = 1});
  ASSERT_NE(store, nullptr);
  std::vector<Event> events;
  for (unsigned i = 0; i < 50; ++i)
    events.push_back(MakeEvent(Id(i), "u", "2025-01-01T00:00:00.000Z"));
  ASSERT_TRUE(Write(*store, events).ok());
  int seen = 0;
  ASSERT_TRUE(store->ScanUser("u", [&](const EventMetadata&) { return ++seen < 3; }).ok());
  EXPECT_EQ(seen, 3);
  seen = 0;
  ASSERT_TRUE(store->Scan({}, [&](const EventMetadata&) { return ++seen < 5; }).ok());
  EXPECT_EQ(seen, 5);
  // The one pooled session is still good after the early stops.
  EXPECT_EQ(ScanUser(*store, "u").size(), 50u);
}

TEST_P(SqlStoreTest, ScanAppliesEachFilter) {
  auto store = OpenMigrated();
  ASSERT_NE(store, nullptr);
  ASSERT_TRUE(Write(*store, {MakeEvent(Id(1), "a", "2025-01-01T00:00:00.000Z"),
                             MakeEvent(Id(2), "a", "2025-01-02T00:00:00.000Z"),
                             MakeEvent(Id(3), "a", "2025-01-03T00:00:00.000Z"),
                             MakeEvent(Id(4), "b", "2025-01-02T00:00:00.000Z"),
                             MakeEvent(Id(5), "b", "2025-01-02T00:00:00.001Z")})
                  .ok());
  using Ids = std::set<std::string>;
  EXPECT_EQ(ScanIds(*store, {}), (Ids{Id(1), Id(2), Id(3), Id(4), Id(5)}));
  EXPECT_EQ(ScanIds(*store, {.user_id = "a"}), (Ids{Id(1), Id(2), Id(3)}));
  // since is inclusive, until exclusive, to the millisecond.
  EXPECT_EQ(ScanIds(*store, {.since = "2025-01-02T00:00:00.000Z"}),
            (Ids{Id(2), Id(3), Id(4), Id(5)}));
  EXPECT_EQ(ScanIds(*store, {.until = "2025-01-02T00:00:00.001Z"}), (Ids{Id(1), Id(2), Id(4)}));
  EXPECT_EQ(ScanIds(*store, {.user_id = "b",
                             .since = "2025-01-02T00:00:00.000Z",
                             .until = "2025-01-02T00:00:00.001Z"}),
            (Ids{Id(4)}));
  EXPECT_TRUE(ScanIds(*store, {.user_id = "c"}).empty());
  // A malformed bound is the caller's mistake, not an outage.
  const Status bad =
      store->Scan({.since = "yesterday-ish"}, [](const EventMetadata&) { return true; });
  EXPECT_EQ(bad.code(), StatusCode::kInvalidArgument) << bad.ToString();
}

TEST_P(SqlStoreTest, FindByIdempotencyKeyIsScopedToTheUser) {
  auto store = OpenMigrated();
  ASSERT_NE(store, nullptr);
  ASSERT_TRUE(
      Write(*store, {MakeEvent(Id(1), "alice", "2025-01-01T00:00:00.000Z", "key-1", "hash-a"),
                     MakeEvent(Id(2), "bob", "2025-01-01T00:00:00.000Z", "key-1", "hash-b"),
                     MakeEvent(Id(3), "alice", "2025-01-01T00:00:00.000Z")})
          .ok());
  Result<EventMetadata> found = store->FindByIdempotencyKey("alice", "key-1");
  ASSERT_TRUE(found.ok()) << found.status().ToString();
  EXPECT_EQ(found->event_id, Id(1));
  EXPECT_EQ(found->user_id, "alice");
  EXPECT_EQ(found->idempotency_key, "key-1");
  EXPECT_EQ(found->request_hash, "hash-a");
  EXPECT_EQ(store->FindByIdempotencyKey("bob", "key-1")->event_id, Id(2));
  EXPECT_EQ(store->FindByIdempotencyKey("alice", "key-2").status().code(), StatusCode::kNotFound);
  EXPECT_EQ(store->FindByIdempotencyKey("carol", "key-1").status().code(), StatusCode::kNotFound);
  // No key reads back as "", as from the SQLite store.
  const std::vector<EventMetadata> rows = ScanUser(*store, "alice");
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(rows[1].idempotency_key, "");
  EXPECT_EQ(rows[1].request_hash, "");
}

TEST_P(SqlStoreTest, EventTimesRoundTripThroughEveryReadWhateverTheSessionTimeZone) {
  auto store = OpenMigrated({.session_time_zone = "Pacific/Chatham"});
  ASSERT_NE(store, nullptr);
  // Id(n) is a UUIDv7 of 2024-07-11T04:14:32.960Z: when the server received
  // it. The client said 04:14:31.000 by a clock 0.5 s fast.
  Event timed = MakeEvent(Id(1), "u", "2024-07-11T04:14:30.500Z", "k1", "h1");
  timed.occurred_at = "2024-07-11T04:14:31.000Z";
  const Event server_timed = MakeEvent(Id(2), "u", "2024-07-11T04:14:32.960Z", "k2", "h2");
  ASSERT_TRUE(Write(*store, {server_timed, timed}).ok());
  const auto expect_timed = [](const EventMetadata& row) {
    ExpectTimes(row, "2024-07-11T04:14:30.500Z", "2024-07-11T04:14:31.000Z", "2024-07-11T04:14:32.960Z");
  };
  const auto expect_server_timed = [](const EventMetadata& row) {
    ExpectTimes(row, "2024-07-11T04:14:32.960Z", "", "2024-07-11T04:14:32.960Z");
  };

  const std::vector<EventMetadata> rows = ScanUser(*store, "u");
  ASSERT_EQ(EventIds(rows), (std::vector<std::string>{Id(1), Id(2)}));
  expect_timed(rows[0]);
  expect_server_timed(rows[1]);
  int scanned = 0;
  ASSERT_TRUE(store->Scan({.user_id = "u"}, [&](const EventMetadata& row) {
    ++scanned;
    row.event_id == Id(1) ? expect_timed(row) : expect_server_timed(row);
    return true;
  }).ok());
  EXPECT_EQ(scanned, 2);
  Result<EventMetadata> by_key = store->FindByIdempotencyKey("u", "k1");
  ASSERT_TRUE(by_key.ok()) << by_key.status().ToString();
  expect_timed(*by_key);
  Result<EventMetadata> by_id = store->FindEvent("u", Id(1));
  ASSERT_TRUE(by_id.ok()) << by_id.status().ToString();
  EXPECT_EQ(by_id->event_id, Id(1));
  EXPECT_EQ(by_id->user_id, "u");
  EXPECT_EQ(by_id->request_hash, "h1");
  expect_timed(*by_id);
  by_id = store->FindEvent("u", Id(2));
  ASSERT_TRUE(by_id.ok()) << by_id.status().ToString();
  expect_server_timed(*by_id);

  // No occurredAt is NULL, and the instants stored are the right ones.
  EXPECT_EQ(admin_->Scalar("SELECT count(*) FROM " + Table("events") + " WHERE occurred_at IS NULL"), "1");
  EXPECT_EQ(admin_->Scalar("SELECT extract(epoch FROM received_at) * 1000 || ' ' || "
                           "extract(epoch FROM occurred_at) * 1000 FROM " +
                           Table("events") + " WHERE event_id = '" + Id(1) + "'"),
            "1720671272960.000000 1720671271000.000000");
}

TEST_P(SqlStoreTest, FindEventFindsOnlyTheUsersOwnEvent) {
  auto store = OpenMigrated();
  ASSERT_NE(store, nullptr);
  ASSERT_TRUE(Write(*store, {MakeEvent(Id(1), "alice", "2025-01-01T00:00:00.000Z"),
                             MakeEvent(Id(2), "bob", "2025-01-01T00:00:00.000Z")})
                  .ok());
  Result<EventMetadata> found = store->FindEvent("alice", Id(1));
  ASSERT_TRUE(found.ok()) << found.status().ToString();
  EXPECT_EQ(found->user_id, "alice");
  EXPECT_EQ(found->timestamp, "2025-01-01T00:00:00.000Z");
  // Ids are looked up as UUIDs: the uppercase spelling is the same event.
  std::string upper = Id(1);
  std::transform(upper.begin(), upper.end(), upper.begin(), ::toupper);
  EXPECT_EQ(store->FindEvent("alice", upper)->event_id, Id(1));
  EXPECT_EQ(store->FindEvent("alice", Id(2)).status().code(), StatusCode::kNotFound);
  EXPECT_EQ(store->FindEvent("Alice", Id(1)).status().code(), StatusCode::kNotFound);
  EXPECT_EQ(store->FindEvent("alice", Id(3)).status().code(), StatusCode::kNotFound);
  // Not a UUID: no event has it, and the store does not fail over it.
  EXPECT_EQ(store->FindEvent("alice", "not-an-event-id").status().code(), StatusCode::kNotFound);
  EXPECT_TRUE(store->Ping().ok());
}

TEST_P(SqlStoreTest, RewritesAreIdempotentByEventId) {
  auto store = OpenMigrated();
  ASSERT_NE(store, nullptr);
  const std::vector<Event> batch = {MakeEvent(Id(1), "u", "2025-01-01T00:00:00.000Z", "k1", "h1"),
                                    MakeEvent(Id(2), "u", "2025-01-01T00:00:01.000Z")};
  ASSERT_TRUE(Write(*store, batch).ok());
  ASSERT_TRUE(Write(*store, batch).ok());  // a replayed batch
  // The same eventId with other content keeps the original; the same id
  // twice in one batch is stored once.
  ASSERT_TRUE(Write(*store, {MakeEvent(Id(1), "u", "2030-01-01T00:00:00.000Z"),
                             MakeEvent(Id(3), "u", "2025-01-01T00:00:02.000Z"),
                             MakeEvent(Id(3), "u", "2025-01-01T00:00:02.000Z")})
                  .ok());
  // A second event under an Idempotency-Key already taken is dropped, not an
  // error (as in the SQLite store: the service looks the key up first).
  ASSERT_TRUE(Write(*store, {MakeEvent(Id(4), "u", "2025-01-01T00:00:03.000Z", "k1", "h2")}).ok());
  const std::vector<EventMetadata> rows = ScanUser(*store, "u");
  EXPECT_EQ(EventIds(rows), (std::vector<std::string>{Id(1), Id(2), Id(3)}));
  ASSERT_FALSE(rows.empty());
  EXPECT_EQ(rows[0].timestamp, "2025-01-01T00:00:00.000Z");
  EXPECT_EQ(store->FindByIdempotencyKey("u", "k1")->request_hash, "h1");
}

TEST_P(SqlStoreTest, ABatchIsAllOrNothing) {
  auto store = OpenMigrated();
  ASSERT_NE(store, nullptr);
  // The second event cannot be stored (its timestamp does not parse), so
  // neither is the first.
  const Status status = Write(*store, {MakeEvent(Id(1), "u", "2025-01-01T00:00:00.000Z"),
                                       MakeEvent(Id(2), "u", "not a timestamp")});
  EXPECT_FALSE(status.ok());
  EXPECT_TRUE(ScanUser(*store, "u").empty());
  EXPECT_TRUE(Write(*store, {}).ok());  // an empty batch is a no-op
}

TEST_P(SqlStoreTest, AThousandEventsInOneCall) {
  auto store = OpenMigrated();
  ASSERT_NE(store, nullptr);
  std::vector<Event> events;
  for (unsigned i = 0; i < 1000; ++i) {
    char timestamp[32];
    std::snprintf(timestamp, sizeof(timestamp), "2025-03-01T10:%02u:%02u.%03uZ", i / 60 % 60,
                  i % 60, i);
    events.push_back(MakeEvent(Id(i), "user-" + std::to_string(i % 7), timestamp,
                               i % 3 == 0 ? "key-" + std::to_string(i) : "", "hash"));
  }
  const auto started = std::chrono::steady_clock::now();
  ASSERT_TRUE(Write(*store, events).ok());
  const auto elapsed = std::chrono::steady_clock::now() - started;
  EXPECT_LT(elapsed, std::chrono::seconds(5)) << "one statement should not take long";
  EXPECT_EQ(admin_->Scalar("SELECT count(*) FROM " + Table("events")), "1000");
  EXPECT_EQ(ScanIds(*store, {}).size(), 1000u);
  size_t total = 0;
  for (int user = 0; user < 7; ++user) {
    const std::vector<EventMetadata> rows = ScanUser(*store, "user-" + std::to_string(user));
    total += rows.size();
    EXPECT_TRUE(std::is_sorted(rows.begin(), rows.end(), [](const auto& a, const auto& b) {
      return std::tie(a.timestamp, a.event_id) < std::tie(b.timestamp, b.event_id);
    }));
  }
  EXPECT_EQ(total, 1000u);
  EXPECT_EQ(store->FindByIdempotencyKey("user-" + std::to_string(999 % 7), "key-999")->event_id,
            Id(999));
}

TEST_P(SqlStoreTest, TimestampsRoundTripExactlyWhateverTheSessionTimeZone) {
  // A session in UTC+12:45 must still read and write UTC text.
  auto store = OpenMigrated({.session_time_zone = "Pacific/Chatham"});
  ASSERT_NE(store, nullptr);
  const std::vector<std::string> timestamps = {
      "2025-06-29T14:32:45.123Z", "2025-06-29T14:32:45.000Z", "2025-06-29T14:32:45.001Z",
      "2025-06-29T14:32:45.999Z", "1970-01-01T00:00:00.000Z", "2024-02-29T23:59:59.999Z",
      "2025-12-31T23:59:59.990Z", "2038-01-19T03:14:08.100Z", "9999-12-31T23:59:59.999Z"};
  std::vector<Event> events;
  for (unsigned i = 0; i < timestamps.size(); ++i)
    events.push_back(MakeEvent(Id(i), "u" + std::to_string(i), timestamps[i]));
  ASSERT_TRUE(Write(*store, events).ok());
  for (unsigned i = 0; i < timestamps.size(); ++i) {
    const std::vector<EventMetadata> rows = ScanUser(*store, "u" + std::to_string(i));
    ASSERT_EQ(rows.size(), 1u);
    EXPECT_EQ(rows[0].timestamp, timestamps[i]);
  }
  // And the stored instant is the right one, not merely the same text.
  EXPECT_EQ(admin_->Scalar("SELECT extract(epoch FROM \"timestamp\") * 1000 FROM " +
                           Table("events") + " WHERE user_id = 'u0'"),
            "1751207565123.000000");
}

TEST_P(SqlStoreTest, NonAsciiUserIdsAndKeys) {
  auto store = OpenMigrated();
  ASSERT_NE(store, nullptr);
  const std::vector<std::string> users = {
      "Zo\xc3\xab",                // Zoë
      "\xe7\x94\xa8\xe6\x88\xb7",  // 用户
      "\xf0\x9f\x8e\x89 party",    // 🎉 (outside the BMP: a surrogate pair in UTF-16)
      "\xd0\x9f\xd1\x80\xd0\xb8\xd0\xb2\xd0\xb5\xd1\x82",  // Привет
      "quote\"back\\slash,comma{brace} NULL",              // array-literal syntax
      "it's; DROP TABLE events; --"};
  std::vector<Event> events;
  for (unsigned i = 0; i < users.size(); ++i) {
    events.push_back(
        MakeEvent(Id(i), users[i], "2025-01-01T00:00:00.000Z", "cl\xc3\xa9-" + users[i], "h"));
  }
  ASSERT_TRUE(Write(*store, events).ok());
  for (unsigned i = 0; i < users.size(); ++i) {
    const std::vector<EventMetadata> rows = ScanUser(*store, users[i]);
    ASSERT_EQ(rows.size(), 1u) << users[i];
    EXPECT_EQ(rows[0].user_id, users[i]);
    EXPECT_EQ(rows[0].event_id, Id(i));
    Result<EventMetadata> found = store->FindByIdempotencyKey(users[i], "cl\xc3\xa9-" + users[i]);
    ASSERT_TRUE(found.ok()) << users[i] << ": " << found.status().ToString();
    EXPECT_EQ(found->idempotency_key, "cl\xc3\xa9-" + users[i]);
    EXPECT_EQ(ScanIds(*store, {.user_id = users[i]}), std::set<std::string>{Id(i)});
  }
  // Stored as the same characters, not mangled on the way in.
  EXPECT_EQ(admin_->Scalar("SELECT user_id FROM " + Table("events") + " WHERE event_id = '" +
                           Id(2) + "'"),
            users[2]);
  // User ids compare exactly: no case folding.
  EXPECT_TRUE(ScanUser(*store, "zo\xc3\xab").empty());
}

// ---- Failures ------------------------------------------------------------------------

TEST_P(SqlStoreTest, StatementTimeoutEndsAStatementBlockedOnALock) {
  auto store = OpenMigrated({.statement_timeout = milliseconds(300)});
  ASSERT_NE(store, nullptr);
  ASSERT_TRUE(Write(*store, {MakeEvent(Id(1), "u", "2025-01-01T00:00:00.000Z")}).ok());
  Admin locker(url_);
  locker.Exec("BEGIN");
  locker.Exec("LOCK TABLE " + Table("events") + " IN ACCESS EXCLUSIVE MODE");
  const auto started = std::chrono::steady_clock::now();
  const Status write = Write(*store, {MakeEvent(Id(2), "u", "2025-01-01T00:00:01.000Z")});
  const auto elapsed = std::chrono::steady_clock::now() - started;
  EXPECT_TRUE(write.code() == StatusCode::kDeadlineExceeded ||
              write.code() == StatusCode::kUnavailable)
      << write.ToString();
  EXPECT_EQ(write.code(), StatusCode::kDeadlineExceeded) << write.ToString();
  EXPECT_LT(elapsed, std::chrono::seconds(3));
  const Status read = store->ScanUser("u", [](const EventMetadata&) { return true; });
  EXPECT_EQ(read.code(), StatusCode::kDeadlineExceeded) << read.ToString();
  locker.Exec("ROLLBACK");
  // The sessions that timed out are still usable.
  EXPECT_TRUE(Write(*store, {MakeEvent(Id(2), "u", "2025-01-01T00:00:01.000Z")}).ok());
  EXPECT_EQ(ScanUser(*store, "u").size(), 2u);
}

TEST_P(SqlStoreTest, RecoversAfterThePostgresServerRestarts) {
  auto store = OpenMigrated({.pool_size = 4, .statement_timeout = milliseconds(5000)});
  ASSERT_NE(store, nullptr);
  ASSERT_TRUE(Write(*store, {MakeEvent(Id(1), "u", "2025-01-01T00:00:00.000Z")}).ok());
  // Fill the pool with idle sessions, all about to go stale.
  {
    std::latch start(4);
    std::vector<std::thread> threads;
    for (int i = 0; i < 4; ++i) {
      threads.emplace_back([&] {
        start.arrive_and_wait();
        for (int n = 0; n < 5; ++n) EXPECT_TRUE(store->Ping().ok());
      });
    }
    for (auto& thread : threads) thread.join();
  }

  // A restart between two writes is invisible to the caller.
  Servers("restart-postgres");
  Status status = Write(*store, {MakeEvent(Id(2), "u", "2025-01-01T00:00:01.000Z")});
  EXPECT_TRUE(status.ok()) << status.ToString();
  EXPECT_TRUE(store->Ping().ok());

  // While the server is down, calls fail as Unavailable (retry later)...
  Servers("stop-postgres");
  status = Write(*store, {MakeEvent(Id(3), "u", "2025-01-01T00:00:02.000Z")});
  EXPECT_EQ(status.code(), StatusCode::kUnavailable) << status.ToString();
  EXPECT_EQ(store->Ping().code(), StatusCode::kUnavailable);
  EXPECT_EQ(store->ScanUser("u", [](const EventMetadata&) { return true; }).code(),
            StatusCode::kUnavailable);

  // ...and the same store object works again once it is back.
  Servers("start-postgres");
  status = Write(*store, {MakeEvent(Id(3), "u", "2025-01-01T00:00:02.000Z")});
  EXPECT_TRUE(status.ok()) << status.ToString();
  EXPECT_EQ(EventIds(ScanUser(*store, "u")), (std::vector<std::string>{Id(1), Id(2), Id(3)}));
  EXPECT_TRUE(store->CheckSchema().ok());
}

TEST_P(SqlStoreTest, CallersWaitForABusyPoolThenGiveUp) {
  auto store = OpenMigrated({.pool_size = 1, .pool_timeout = milliseconds(300)});
  ASSERT_NE(store, nullptr);
  ASSERT_TRUE(Write(*store, {MakeEvent(Id(1), "u", "2025-01-01T00:00:00.000Z")}).ok());
  // While the only session is busy streaming rows to us, a second call
  // cannot get one.
  Status inner;
  std::chrono::steady_clock::duration waited{};
  ASSERT_TRUE(store
                  ->ScanUser("u",
                             [&](const EventMetadata&) {
                               const auto started = std::chrono::steady_clock::now();
                               inner = store->Ping();
                               waited = std::chrono::steady_clock::now() - started;
                               return true;
                             })
                  .ok());
  EXPECT_EQ(inner.code(), StatusCode::kUnavailable) << inner.ToString();
  EXPECT_GE(waited, milliseconds(250));
  EXPECT_TRUE(store->Ping().ok());
}

TEST_P(SqlStoreTest, ManyThreadsShareASmallPool) {
  auto store = OpenMigrated({.pool_size = 2});
  ASSERT_NE(store, nullptr);
  constexpr int kThreads = 8;
  std::vector<std::thread> threads;
  std::atomic<int> failures{0};
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int n = 0; n < 10; ++n) {
        const unsigned id = static_cast<unsigned>(t * 100 + n);
        if (!Write(*store, {MakeEvent(Id(id), "u" + std::to_string(t), "2025-01-01T00:00:00.000Z")})
                 .ok())
          ++failures;
        if (!store->ScanUser("u" + std::to_string(t), [](const EventMetadata&) { return true; })
                 .ok())
          ++failures;
      }
    });
  }
  for (auto& thread : threads) thread.join();
  EXPECT_EQ(failures.load(), 0);
  EXPECT_EQ(ScanIds(*store, {}).size(), static_cast<size_t>(kThreads * 10));
}

TEST_P(SqlStoreTest, PingAndKind) {
  auto store = OpenOrDie();
  ASSERT_NE(store, nullptr);
  EXPECT_TRUE(store->Ping().ok());  // needs no schema
  EXPECT_EQ(store->Kind(), GetParam() == Backend::kLibpq ? "postgresql" : "odbc-postgresql");
}

TEST_P(SqlStoreTest, BothStoresShareOneSchema) {
  // What one writes through libpq the other reads through ODBC, and back:
  // the two are interchangeable on the same database.
  auto store = OpenMigrated();
  ASSERT_NE(store, nullptr);
  Event timed = MakeEvent(Id(1), "u", "2025-06-29T14:32:45.123Z", "k", "h");
  timed.occurred_at = "2025-06-29T14:32:44.000Z";
  ASSERT_TRUE(Write(*store, {timed}).ok());
  PostgresMetadataOptions pg;
  pg.url = url_;
  pg.schema = schema_;
  OdbcMetadataOptions odbc;
  odbc.connection_string = OdbcConnectionString(address_);
  odbc.schema = schema_;
  Result<std::unique_ptr<MetadataStore>> other =
      GetParam() == Backend::kLibpq ? OpenOdbcMetadataStore(odbc) : OpenPostgresMetadataStore(pg);
  ASSERT_TRUE(other.ok()) << other.status().ToString();
  EXPECT_TRUE((*other)->CheckSchema().ok());
  ASSERT_TRUE(Write(**other, {MakeEvent(Id(2), "u", "2025-06-29T14:32:45.124Z")}).ok());
  const std::vector<EventMetadata> mine = ScanUser(*store, "u");
  const std::vector<EventMetadata> theirs = ScanUser(**other, "u");
  ASSERT_EQ(mine.size(), 2u);
  ASSERT_EQ(theirs.size(), 2u);
  for (size_t i = 0; i < 2; ++i) {
    EXPECT_EQ(mine[i].event_id, theirs[i].event_id);
    EXPECT_EQ(mine[i].timestamp, theirs[i].timestamp);
    EXPECT_EQ(mine[i].idempotency_key, theirs[i].idempotency_key);
    EXPECT_EQ(mine[i].request_hash, theirs[i].request_hash);
    EXPECT_EQ(mine[i].occurred_at, theirs[i].occurred_at);
    EXPECT_EQ(mine[i].received_at, theirs[i].received_at);
  }
}

// ---- PostgreSQL (libpq) only ---------------------------------------------------------------

TEST(PostgresMetadataOptionsTest, OurParametersAreStrippedAndTheRestKept) {
  Result<PostgresMetadataOptions> options = PostgresMetadataOptionsFromUrl(
      "postgresql://el:pw@db.example:6432/"
      "events?sslmode=require&pool_size=16&statement_timeout_ms=3000"
      "&schema=tenant_1&application_name=x&pool_timeout_ms=250&connect_timeout=7");
  ASSERT_TRUE(options.ok()) << options.status().ToString();
  EXPECT_EQ(options->url,
            "postgresql://el:pw@db.example:6432/"
            "events?sslmode=require&application_name=x&connect_timeout=7");
  EXPECT_EQ(options->pool_size, 16);
  EXPECT_EQ(options->statement_timeout, milliseconds(3000));
  EXPECT_EQ(options->pool_timeout, milliseconds(250));
  EXPECT_EQ(options->connect_timeout, milliseconds(7000));
  EXPECT_EQ(options->schema, "tenant_1");

  Result<PostgresMetadataOptions> plain =
      PostgresMetadataOptionsFromUrl("postgres://h/db?pool_size=2");
  ASSERT_TRUE(plain.ok());
  EXPECT_EQ(plain->url, "postgres://h/db");
  EXPECT_EQ(plain->pool_size, 2);
  EXPECT_EQ(plain->statement_timeout, milliseconds(5000));  // defaults kept
  EXPECT_EQ(plain->schema, "");
}

TEST(PostgresMetadataOptionsTest, BadValuesAreRejectedWithoutThePassword) {
  for (const char* url :
       {"postgresql://el:S3cretPw@h/db?pool_size=0", "postgresql://el:S3cretPw@h/db?pool_size=lots",
        "postgresql://el:S3cretPw@h/db?statement_timeout_ms=-1",
        "postgresql://el:S3cretPw@h/db?schema=bad-name",
        "postgresql://el:S3cretPw@h/db?schema=x%22%3B%20DROP",
        "postgresql://h/db?password=S3cretPw&pool_size=0", "mysql://el:S3cretPw@h/db"}) {
    Result<PostgresMetadataOptions> options = PostgresMetadataOptionsFromUrl(url);
    ASSERT_FALSE(options.ok()) << url;
    EXPECT_EQ(options.status().code(), StatusCode::kInvalidArgument) << url;
    EXPECT_THAT(options.status().message(), Not(HasSubstr("S3cretPw")))
        << options.status().ToString();
  }
}

TEST(PostgresMetadataStoreTest, PasswordsNeverAppearInStatusMessages) {
  const char* url = Env("EVENTLOGGER_TEST_POSTGRES_URL");
  if (url == nullptr) GTEST_FAIL() << "EVENTLOGGER_TEST_POSTGRES_URL" << kMissingEnvironment;
  const ServerAddress address = ParseServerUrl(url);
  const std::string server = address.host + ":" + address.port + "/" + address.database;
  // The test server trusts every login, so a wrong password alone would
  // connect: these fail for a role that does not exist, a closed port, and
  // a password libpq cannot even parse (its message quotes the bad token).
  for (const std::string& bad :
       {"postgresql://no_such_role:Sup3r-Secret-PW@" + server,
        std::string("postgresql://no_such_role:Sup3r-Secret-PW@127.0.0.1:1/db"),
        "postgresql://postgres:Sup3r%zzSecret-PW@" + server,
        "postgresql://no_such_role@" + server + "?password=Sup3r-Secret-PW"}) {
    Result<std::unique_ptr<MetadataStore>> store = OpenPostgresMetadataStore({.url = bad});
    ASSERT_FALSE(store.ok()) << bad;
    EXPECT_EQ(store.status().code(), StatusCode::kUnavailable) << store.status().ToString();
    EXPECT_THAT(store.status().message(), Not(HasSubstr("Secret"))) << store.status().ToString();
    EXPECT_THAT(store.status().message(), Not(HasSubstr("Sup3r"))) << store.status().ToString();
  }
}

}  // namespace
}  // namespace eventlogger
