// Tests for the SQLite MetadataStore, each in a fresh temporary directory.
//
// Besides the interface (ordering, idempotency, isolation between users,
// early stop, durability across reopen), the file on disk is inspected with
// the sqlite3 C API directly: WAL mode, schema version and index are what
// operators and the next build rely on, and the API would not show them.
#include "storage/sqlite_metadata_store.h"

#include <gtest/gtest.h>
#include <sqlite3.h>
#include <stdlib.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <filesystem>
#include <thread>
#include <string>
#include <vector>

#include "core/event.h"
#include "core/timestamp.h"
#include "storage/api_key_contract.h"
#include "storage/privacy_contract.h"
#include "support/events.h"
#include "support/temp_dir.h"

namespace eventlogger {
namespace {

using testing_support::TempDir;

Event MakeEvent(std::string event_id, std::string user_id, std::string event_type,
                std::string timestamp) {
  Event event;
  event.event_id = std::move(event_id);
  event.user_id = std::move(user_id);
  event.event_type = std::move(event_type);
  event.timestamp = std::move(timestamp);
  event.details_json = "{}";
  return event;
}

Status Write(MetadataStore& store, const std::vector<Event>& events) {
  std::vector<const Event*> pointers;
  for (const Event& e : events) pointers.push_back(&e);
  return store.WriteBatch(EventBatch(pointers));
}

std::vector<EventMetadata> Scan(MetadataStore& store, std::string_view user_id) {
  std::vector<EventMetadata> rows;
  const Status status = store.ScanUser(user_id, [&](const EventMetadata& row) {
    rows.push_back(row);
    return true;
  });
  EXPECT_TRUE(status.ok()) << status.ToString();
  return rows;
}

std::vector<std::string> EventIds(const std::vector<EventMetadata>& rows) {
  std::vector<std::string> ids;
  for (const auto& row : rows) ids.push_back(row.event_id);
  return ids;
}

std::unique_ptr<MetadataStore> OpenOrDie(const std::string& path) {
  Result<std::unique_ptr<MetadataStore>> store = OpenSqliteMetadataStore({.path = path});
  EXPECT_TRUE(store.ok()) << store.status().ToString();
  return store.ok() ? std::move(store).value() : nullptr;
}

// Direct access to the database file, bypassing the store.
class RawDb {
 public:
  explicit RawDb(const std::string& path, int flags = SQLITE_OPEN_READONLY) {
    const int rc = sqlite3_open_v2(path.c_str(), &db_, flags, nullptr);
    EXPECT_EQ(rc, SQLITE_OK) << sqlite3_errstr(rc);
  }
  ~RawDb() { sqlite3_close_v2(db_); }
  RawDb(const RawDb&) = delete;
  RawDb& operator=(const RawDb&) = delete;

  // The first column of each row of `sql`, as text.
  std::vector<std::string> Column(const std::string& sql) {
    std::vector<std::string> values;
    sqlite3_stmt* st = nullptr;
    const int rc = sqlite3_prepare_v2(db_, sql.c_str(), -1, &st, nullptr);
    EXPECT_EQ(rc, SQLITE_OK) << sql << ": " << sqlite3_errmsg(db_);
    if (rc != SQLITE_OK) return values;
    int step;
    while ((step = sqlite3_step(st)) == SQLITE_ROW) {
      const auto* text = reinterpret_cast<const char*>(sqlite3_column_text(st, 0));
      values.emplace_back(text != nullptr ? text : "");
    }
    EXPECT_EQ(step, SQLITE_DONE) << sql << ": " << sqlite3_errmsg(db_);
    sqlite3_finalize(st);
    return values;
  }
  std::string Scalar(const std::string& sql) {
    const std::vector<std::string> values = Column(sql);
    EXPECT_EQ(values.size(), 1u) << sql;
    return values.empty() ? "" : values[0];
  }
  void Exec(const std::string& sql) {
    char* error = nullptr;
    EXPECT_EQ(sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, &error), SQLITE_OK)
        << sql << ": " << (error != nullptr ? error : "");
    sqlite3_free(error);
  }

 private:
  sqlite3* db_ = nullptr;
};

TEST(SqliteMetadataStoreTest, KindIsSqlite) {
  TempDir dir;
  auto store = OpenOrDie(dir.File("m.db"));
  ASSERT_NE(store, nullptr);
  EXPECT_EQ(store->Kind(), "sqlite");
}

TEST(SqliteMetadataStoreTest, ScanUserReturnsTimestampThenEventIdOrder) {
  TempDir dir;
  auto store = OpenOrDie(dir.File("m.db"));
  ASSERT_NE(store, nullptr);
  // Written out of order, across two batches, with two events sharing a
  // timestamp (their order must come from eventId, not insertion order).
  ASSERT_TRUE(Write(*store, {MakeEvent("id-c", "u", "t3", "2025-01-01T00:00:02.000Z"),
                             MakeEvent("id-b", "u", "t2", "2025-01-01T00:00:01.000Z")})
                  .ok());
  ASSERT_TRUE(Write(*store, {MakeEvent("id-a", "u", "t2", "2025-01-01T00:00:01.000Z"),
                             MakeEvent("id-z", "u", "t1", "2024-12-31T23:59:59.999Z")})
                  .ok());
  const std::vector<EventMetadata> rows = Scan(*store, "u");
  EXPECT_EQ(EventIds(rows), (std::vector<std::string>{"id-z", "id-a", "id-b", "id-c"}));
  ASSERT_EQ(rows.size(), 4u);
  // Every column comes back as written.
  EXPECT_EQ(rows[0].user_id, "u");
  EXPECT_EQ(rows[0].event_type, "t1");
  EXPECT_EQ(rows[0].timestamp, "2024-12-31T23:59:59.999Z");
  EXPECT_EQ(rows[3].event_type, "t3");
}

TEST(SqliteMetadataStoreTest, RewritingAnEventIdKeepsOneRowWithTheOriginalValues) {
  // Retries after an ambiguous failure resend the same event; the store must
  // absorb them, and a conflicting rewrite must not overwrite the original.
  TempDir dir;
  const std::string path = dir.File("m.db");
  auto store = OpenOrDie(path);
  ASSERT_NE(store, nullptr);
  const Event original = MakeEvent("id-1", "u", "login", "2025-01-01T00:00:00.000Z");
  ASSERT_TRUE(Write(*store, {original}).ok());
  ASSERT_TRUE(Write(*store, {original}).ok());
  ASSERT_TRUE(Write(*store, {MakeEvent("id-1", "u", "logout", "2026-01-01T00:00:00.000Z"),
                             MakeEvent("id-2", "u", "x", "2025-06-01T00:00:00.000Z")})
                  .ok());
  // Also within one batch.
  ASSERT_TRUE(Write(*store, {MakeEvent("id-3", "u", "a", "2025-07-01T00:00:00.000Z"),
                             MakeEvent("id-3", "u", "b", "2025-07-01T00:00:00.000Z")})
                  .ok());
  const std::vector<EventMetadata> rows = Scan(*store, "u");
  ASSERT_EQ(EventIds(rows), (std::vector<std::string>{"id-1", "id-2", "id-3"}));
  EXPECT_EQ(rows[0].event_type, "login");
  EXPECT_EQ(rows[0].timestamp, "2025-01-01T00:00:00.000Z");
  EXPECT_EQ(rows[2].event_type, "a");
  store.reset();
  RawDb raw(path);
  EXPECT_EQ(raw.Scalar("SELECT count(*) FROM events"), "3");
  EXPECT_EQ(raw.Scalar("SELECT count(*) FROM events WHERE event_id = 'id-1'"), "1");
}

TEST(SqliteMetadataStoreTest, ScanUserReturnsOnlyThatUser) {
  TempDir dir;
  auto store = OpenOrDie(dir.File("m.db"));
  ASSERT_NE(store, nullptr);
  // Users whose ids are prefixes of each other, or differ only in case.
  ASSERT_TRUE(Write(*store, {MakeEvent("1", "a", "t", "2025-01-01T00:00:00.000Z"),
                             MakeEvent("2", "ab", "t", "2025-01-01T00:00:00.000Z"),
                             MakeEvent("3", "A", "t", "2025-01-01T00:00:00.000Z"),
                             MakeEvent("4", "a ", "t", "2025-01-01T00:00:00.000Z"),
                             MakeEvent("5", "a", "t", "2025-01-02T00:00:00.000Z")})
                  .ok());
  EXPECT_EQ(EventIds(Scan(*store, "a")), (std::vector<std::string>{"1", "5"}));
  EXPECT_EQ(EventIds(Scan(*store, "ab")), (std::vector<std::string>{"2"}));
  EXPECT_EQ(EventIds(Scan(*store, "A")), (std::vector<std::string>{"3"}));
  EXPECT_TRUE(Scan(*store, "nobody").empty());
  EXPECT_TRUE(Scan(*store, "").empty());
  EXPECT_TRUE(Scan(*store, "%").empty());  // no LIKE semantics
}

TEST(SqliteMetadataStoreTest, ScanUserStopsWhenVisitReturnsFalse) {
  TempDir dir;
  auto store = OpenOrDie(dir.File("m.db"));
  ASSERT_NE(store, nullptr);
  std::vector<Event> events;
  for (int i = 0; i < 10; ++i) {
    events.push_back(MakeEvent("id-" + std::to_string(i), "u", "t",
                               "2025-01-01T00:00:0" + std::to_string(i) + ".000Z"));
  }
  ASSERT_TRUE(Write(*store, events).ok());
  std::vector<std::string> seen;
  const Status status = store->ScanUser("u", [&](const EventMetadata& row) {
    seen.push_back(row.event_id);
    return seen.size() < 3;
  });
  EXPECT_TRUE(status.ok()) << status.ToString();
  EXPECT_EQ(seen, (std::vector<std::string>{"id-0", "id-1", "id-2"}));
  // A stopped scan leaves the store usable (its reader connection is reused).
  EXPECT_EQ(Scan(*store, "u").size(), 10u);
}

TEST(SqliteMetadataStoreTest, EmptyBatchIsOk) {
  TempDir dir;
  auto store = OpenOrDie(dir.File("m.db"));
  ASSERT_NE(store, nullptr);
  EXPECT_TRUE(Write(*store, {}).ok());
  EXPECT_TRUE(Scan(*store, "u").empty());
}

TEST(SqliteMetadataStoreTest, DataSurvivesCloseAndReopen) {
  TempDir dir;
  const std::string path = dir.File("m.db");
  {
    auto store = OpenOrDie(path);
    ASSERT_NE(store, nullptr);
    ASSERT_TRUE(Write(*store, {MakeEvent("id-1", "u", "t", "2025-01-01T00:00:00.000Z"),
                               MakeEvent("id-2", "u", "t", "2025-01-01T00:00:01.000Z")})
                    .ok());
  }
  auto reopened = OpenOrDie(path);
  ASSERT_NE(reopened, nullptr);
  EXPECT_EQ(EventIds(Scan(*reopened, "u")), (std::vector<std::string>{"id-1", "id-2"}));
  // And it still accepts writes after reopening (schema creation is idempotent).
  ASSERT_TRUE(Write(*reopened, {MakeEvent("id-3", "u", "t", "2025-01-01T00:00:02.000Z")}).ok());
  EXPECT_EQ(Scan(*reopened, "u").size(), 3u);
}

TEST(SqliteMetadataStoreTest, FileOnDiskHasWalModeSchemaVersionAndNoUserIndexByDefault) {
  TempDir dir;
  const std::string path = dir.File("m.db");
  {
    auto store = OpenOrDie(path);
    ASSERT_NE(store, nullptr);
    std::vector<Event> events;
    for (int i = 0; i < 25; ++i) {
      events.push_back(MakeEvent("id-" + std::to_string(i), "user-" + std::to_string(i % 3), "t",
                                 "2025-01-01T00:00:00.000Z"));
    }
    ASSERT_TRUE(Write(*store, events).ok());

    // While the store is open, a separate connection already sees committed
    // rows: the write is durable when WriteBatch returns, not at close.
    RawDb during(path);
    EXPECT_EQ(during.Scalar("SELECT count(*) FROM events"), "25");
  }
  RawDb raw(path);
  // WAL is persistent in the file header, so it shows after close too.
  EXPECT_EQ(raw.Scalar("PRAGMA journal_mode"), "wal");
  EXPECT_EQ(raw.Scalar("PRAGMA user_version"), std::to_string(kSqliteSchemaVersion));
  EXPECT_EQ(raw.Scalar("PRAGMA user_version"), "4");
  // No by-user index unless asked for (SqliteMetadataOptions::user_index).
  EXPECT_EQ(raw.Scalar("SELECT count(*) FROM sqlite_master WHERE name = 'events_by_user_time'"), "0");
  // Every row carries an insert time in the API's timestamp format.
  EXPECT_EQ(raw.Scalar("SELECT count(*) FROM events WHERE created_at GLOB "
                       "'[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]T[0-9][0-9]:[0-9][0-9]:[0-9][0-9].[0-9][0-9][0-9]Z'"),
            "25");
  EXPECT_EQ(raw.Scalar("SELECT count(*) FROM events"), "25");
  EXPECT_EQ(raw.Scalar("SELECT count(*) FROM events WHERE user_id = 'user-0'"), "9");
  EXPECT_EQ(raw.Scalar("PRAGMA integrity_check"), "ok");
}

TEST(SqliteMetadataStoreTest, UserIndexIsBuiltWhenAskedForAndDroppedWhenNot) {
  TempDir dir;
  const std::string path = dir.File("m.db");
  const auto index_count = [&path] {
    RawDb raw(path);
    return raw.Scalar("SELECT count(*) FROM sqlite_master WHERE type = 'index' AND "
                      "name = 'events_by_user_time' AND tbl_name = 'events'");
  };
  {
    Result<std::unique_ptr<MetadataStore>> store = OpenSqliteMetadataStore({.path = path});
    ASSERT_TRUE(store.ok()) << store.status().ToString();
    ASSERT_TRUE(Write(**store, {MakeEvent("id-2", "u", "t", "2025-01-01T00:00:01.000Z"),
                                MakeEvent("id-1", "u", "t", "2025-01-01T00:00:00.000Z"),
                                MakeEvent("id-3", "v", "t", "2025-01-01T00:00:00.500Z")})
                    .ok());
  }
  EXPECT_EQ(index_count(), "0");
  {
    // Turning it on builds it over the rows already there.
    Result<std::unique_ptr<MetadataStore>> store =
        OpenSqliteMetadataStore({.path = path, .user_index = true});
    ASSERT_TRUE(store.ok()) << store.status().ToString();
    EXPECT_EQ(index_count(), "1");
    // The index covers the scan order, so ScanUser never sorts.
    RawDb raw(path);
    EXPECT_EQ(raw.Column("SELECT name FROM pragma_index_info('events_by_user_time') ORDER BY seqno"),
              (std::vector<std::string>{"user_id", "timestamp", "event_id"}));
    EXPECT_EQ(EventIds(Scan(**store, "u")), (std::vector<std::string>{"id-1", "id-2"}));
  }
  {
    // And off again drops it; the same scan then reads the table, same answer.
    Result<std::unique_ptr<MetadataStore>> store = OpenSqliteMetadataStore({.path = path});
    ASSERT_TRUE(store.ok()) << store.status().ToString();
    EXPECT_EQ(index_count(), "0");
    EXPECT_EQ(EventIds(Scan(**store, "u")), (std::vector<std::string>{"id-1", "id-2"}));
  }
  RawDb raw(path);
  EXPECT_EQ(raw.Scalar("PRAGMA integrity_check"), "ok");
}

TEST(SqliteMetadataStoreTest, KeepsApiKeysByContract) {
  TempDir dir;
  auto store = OpenOrDie(dir.File("m.db"));
  ASSERT_NE(store, nullptr);
  testing_support::CheckApiKeyContract(*store);
}

TEST(SqliteMetadataStoreTest, ApiKeysSurviveReopenAndAreSeenByAnotherProcessStore) {
  TempDir dir;
  auto first = OpenOrDie(dir.File("m.db"));
  auto second = OpenOrDie(dir.File("m.db"));  // as `eventlogger keys create` beside a server
  ASSERT_NE(first, nullptr);
  ASSERT_NE(second, nullptr);
  ASSERT_TRUE(second->InsertApiKey(testing_support::ContractKey("00000000000000c3", "ci", "2026-01-01T00:00:00.000Z")).ok());
  Result<std::vector<ApiKeyRow>> seen = first->ListApiKeys();
  ASSERT_TRUE(seen.ok());
  ASSERT_EQ(seen->size(), 1u);
  ASSERT_TRUE(second->RevokeApiKey("00000000000000c3", "2026-01-02T00:00:00.000Z").ok());
  second.reset();
  first.reset();
  auto reopened = OpenOrDie(dir.File("m.db"));
  seen = reopened->ListApiKeys();
  ASSERT_TRUE(seen.ok());
  ASSERT_EQ(seen->size(), 1u);
  EXPECT_EQ((*seen)[0].revoked_at, "2026-01-02T00:00:00.000Z");
}

TEST(SqliteMetadataStoreTest, UpgradesAVersionOneFileInPlace) {
  TempDir dir;
  const std::string path = dir.File("m.db");
  {
    auto store = OpenOrDie(path);
    ASSERT_TRUE(Write(*store, {MakeEvent("id-1", "u", "t", "2025-01-01T00:00:00.000Z")}).ok());
  }
  {
    RawDb raw(path, SQLITE_OPEN_READWRITE);
    raw.Exec("DROP TABLE api_keys; PRAGMA user_version = 1;");
  }
  auto store = OpenOrDie(path);
  ASSERT_NE(store, nullptr);
  Result<std::vector<ApiKeyRow>> keys = store->ListApiKeys();
  ASSERT_TRUE(keys.ok()) << keys.status().ToString();
  EXPECT_TRUE(keys->empty());
  RawDb raw(path);
  EXPECT_EQ(raw.Scalar("PRAGMA user_version"), "4");
  EXPECT_EQ(raw.Scalar("SELECT count(*) FROM events"), "1");
}

// ---- Event times (schema version 3) ---------------------------------------------

// An event the client timed, as the service makes one: received at
// `received_millis` (the time in its UUIDv7 id), `occurred_at` by the
// client's clock, and `timestamp` that time corrected for the clock's skew.
Event ClientTimedEvent(int64_t received_millis, std::string user_id, std::string occurred_at,
                       std::string timestamp) {
  Event event = testing_support::EventAt(received_millis, std::move(user_id));
  event.occurred_at = std::move(occurred_at);
  event.timestamp = std::move(timestamp);
  event.unix_millis = ParseTimestamp(event.timestamp).value_or(0);
  return event;
}

void ExpectTimes(const EventMetadata& row, std::string_view timestamp, std::string_view occurred_at,
                 std::string_view received_at) {
  EXPECT_EQ(row.timestamp, timestamp) << row.event_id;
  EXPECT_EQ(row.occurred_at, occurred_at) << row.event_id;
  EXPECT_EQ(row.received_at, received_at) << row.event_id;
}

TEST(SqliteMetadataStoreTest, EventTimesRoundTripThroughEveryRead) {
  TempDir dir;
  const std::string path = dir.File("m.db");
  auto store = OpenOrDie(path);
  ASSERT_NE(store, nullptr);
  // Received at 14:32:45.123; the client says 14:30:00.000 by a clock
  // 2.5 s slow. Three different times, each kept in its own column.
  Event timed = ClientTimedEvent(1751207565123, "u", "2025-06-29T14:30:00.000Z", "2025-06-29T14:30:02.500Z");
  timed.idempotency_key = "k1";
  Event server_timed = testing_support::EventAt(1751207566000, "u");
  server_timed.idempotency_key = "k2";
  ASSERT_TRUE(Write(*store, {server_timed, timed}).ok());
  const auto expect_timed = [](const EventMetadata& row) {
    ExpectTimes(row, "2025-06-29T14:30:02.500Z", "2025-06-29T14:30:00.000Z", "2025-06-29T14:32:45.123Z");
  };
  const auto expect_server_timed = [](const EventMetadata& row) {
    ExpectTimes(row, "2025-06-29T14:32:46.000Z", "", "2025-06-29T14:32:46.000Z");
  };

  const std::vector<EventMetadata> rows = Scan(*store, "u");
  ASSERT_EQ(EventIds(rows), (std::vector<std::string>{timed.event_id, server_timed.event_id}));
  expect_timed(rows[0]);
  expect_server_timed(rows[1]);

  int scanned = 0;
  ASSERT_TRUE(store->Scan({.user_id = "u"}, [&](const EventMetadata& row) {
    ++scanned;
    row.event_id == timed.event_id ? expect_timed(row) : expect_server_timed(row);
    return true;
  }).ok());
  EXPECT_EQ(scanned, 2);

  Result<EventMetadata> by_key = store->FindByIdempotencyKey("u", "k1");
  ASSERT_TRUE(by_key.ok()) << by_key.status().ToString();
  expect_timed(*by_key);
  Result<EventMetadata> by_id = store->FindEvent("u", timed.event_id);
  ASSERT_TRUE(by_id.ok()) << by_id.status().ToString();
  EXPECT_EQ(by_id->event_id, timed.event_id);
  EXPECT_EQ(by_id->user_id, "u");
  EXPECT_EQ(by_id->idempotency_key, "k1");
  expect_timed(*by_id);
  by_id = store->FindEvent("u", server_timed.event_id);
  ASSERT_TRUE(by_id.ok()) << by_id.status().ToString();
  expect_server_timed(*by_id);

  // No occurredAt is NULL in the file, not an empty string.
  RawDb raw(path);
  EXPECT_EQ(raw.Scalar("SELECT count(*) FROM events WHERE occurred_at IS NULL"), "1");
  EXPECT_EQ(raw.Scalar("SELECT count(*) FROM events WHERE received_at IS NULL"), "0");
}

TEST(SqliteMetadataStoreTest, FindEventFindsOnlyTheUsersOwnEvent) {
  TempDir dir;
  auto store = OpenOrDie(dir.File("m.db"));
  ASSERT_NE(store, nullptr);
  const Event alices = testing_support::EventAt(1751207565123, "alice", "login");
  const Event bobs = testing_support::EventAt(1751207565123, "bob", "logout");
  ASSERT_TRUE(Write(*store, {alices, bobs}).ok());
  Result<EventMetadata> found = store->FindEvent("alice", alices.event_id);
  ASSERT_TRUE(found.ok()) << found.status().ToString();
  EXPECT_EQ(found->event_type, "login");
  EXPECT_EQ(store->FindEvent("alice", bobs.event_id).status().code(), StatusCode::kNotFound);
  EXPECT_EQ(store->FindEvent("Alice", alices.event_id).status().code(), StatusCode::kNotFound);
  const Event unknown = testing_support::EventAt(1751207565123, "alice");
  EXPECT_EQ(store->FindEvent("alice", unknown.event_id).status().code(), StatusCode::kNotFound);
  EXPECT_EQ(store->FindEvent("alice", "not-an-event-id").status().code(), StatusCode::kNotFound);
}

// What version 2 (the build before event times) created in a new file,
// word for word.
constexpr const char* kVersion2Schema = R"sql(
CREATE TABLE IF NOT EXISTS events (
  event_id   TEXT PRIMARY KEY,
  user_id    TEXT NOT NULL,
  event_type TEXT NOT NULL,
  timestamp  TEXT NOT NULL,
  created_at TEXT NOT NULL,
  idempotency_key TEXT,
  request_hash    TEXT
) WITHOUT ROWID;
CREATE UNIQUE INDEX IF NOT EXISTS events_by_idempotency_key
  ON events (user_id, idempotency_key) WHERE idempotency_key IS NOT NULL;
CREATE TABLE IF NOT EXISTS api_keys (
  key_id        TEXT PRIMARY KEY,
  name          TEXT NOT NULL,
  scopes        TEXT NOT NULL,
  secret_digest TEXT NOT NULL,
  created_at    TEXT NOT NULL,
  last_used_at  TEXT,
  revoked_at    TEXT
) WITHOUT ROWID;
PRAGMA user_version = 2;
)sql";

// A version 2 file holding three events and a key, as that build left it.
// The timestamps differ from the times in the ids on purpose, so the test
// sees which one reads stand in for the missing received_at.
void WriteVersion2File(const std::string& path) {
  RawDb raw(path, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE);
  raw.Exec("PRAGMA journal_mode=WAL");
  raw.Exec(kVersion2Schema);
  raw.Exec(
      "INSERT INTO events (event_id, user_id, event_type, timestamp, created_at, idempotency_key, "
      "request_hash) VALUES "
      "('0190a000-0000-7000-8000-000000000001', 'u', 'login', '2025-01-01T00:00:00.000Z', "
      "'2025-01-01T00:00:00.004Z', 'k1', 'h1'), "
      "('0190a000-0000-7000-8000-000000000002', 'u', 'click', '2025-01-01T00:00:01.000Z', "
      "'2025-01-01T00:00:01.004Z', NULL, NULL), "
      "('0190a000-0000-7000-8000-000000000003', 'v', 'click', '2025-01-01T00:00:02.000Z', "
      "'2025-01-01T00:00:02.004Z', NULL, NULL)");
  raw.Exec(
      "INSERT INTO api_keys (key_id, name, scopes, secret_digest, created_at) VALUES "
      "('00000000000000a1', 'ci', 'admin', 'dd', '2025-01-01T00:00:00.000Z')");
}

std::string EventsColumns(RawDb& raw) {
  std::string names;
  for (const std::string& name : raw.Column("SELECT name FROM pragma_table_info('events') ORDER BY cid")) {
    names += (names.empty() ? "" : ",") + name;
  }
  return names;
}

TEST(SqliteMetadataStoreTest, OpeningAVersionTwoFileAddsEventTimesKeepingEveryRow) {
  TempDir dir;
  const std::string path = dir.File("m.db");
  WriteVersion2File(path);
  {
    RawDb before(path);
    EXPECT_EQ(before.Scalar("PRAGMA user_version"), "2");
  }
  // The embedded store upgrades when it opens (there is no separate
  // `migrate` step for SQLite), so it is current from then on.
  auto store = OpenOrDie(path);
  ASSERT_NE(store, nullptr);
  EXPECT_TRUE(store->CheckSchema().ok());
  {
    RawDb raw(path);
    EXPECT_EQ(raw.Scalar("PRAGMA user_version"), "4");
    EXPECT_EQ(EventsColumns(raw),
              "event_id,user_id,event_type,timestamp,created_at,idempotency_key,request_hash,"
              "occurred_at,received_at");
    // No backfill: the old rows' received_at stays NULL and reads as their
    // timestamp (below).
    EXPECT_EQ(raw.Scalar("SELECT count(*) FROM events WHERE received_at IS NULL AND occurred_at IS NULL"), "3");
    EXPECT_EQ(raw.Scalar("PRAGMA integrity_check"), "ok");
  }
  const std::vector<EventMetadata> rows = Scan(*store, "u");
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(rows[0].event_id, "0190a000-0000-7000-8000-000000000001");
  EXPECT_EQ(rows[0].event_type, "login");
  EXPECT_EQ(rows[0].idempotency_key, "k1");
  EXPECT_EQ(rows[0].request_hash, "h1");
  ExpectTimes(rows[0], "2025-01-01T00:00:00.000Z", "", "2025-01-01T00:00:00.000Z");
  ExpectTimes(rows[1], "2025-01-01T00:00:01.000Z", "", "2025-01-01T00:00:01.000Z");
  Result<EventMetadata> found = store->FindEvent("v", "0190a000-0000-7000-8000-000000000003");
  ASSERT_TRUE(found.ok()) << found.status().ToString();
  ExpectTimes(*found, "2025-01-01T00:00:02.000Z", "", "2025-01-01T00:00:02.000Z");
  EXPECT_EQ(store->FindByIdempotencyKey("u", "k1")->event_id, "0190a000-0000-7000-8000-000000000001");
  Result<std::vector<ApiKeyRow>> keys = store->ListApiKeys();
  ASSERT_TRUE(keys.ok()) << keys.status().ToString();
  EXPECT_EQ(keys->size(), 1u);

  // New writes carry their times.
  const Event timed = ClientTimedEvent(1751207565123, "u", "2025-06-29T14:30:00.000Z", "2025-06-29T14:30:02.500Z");
  ASSERT_TRUE(Write(*store, {timed}).ok());
  found = store->FindEvent("u", timed.event_id);
  ASSERT_TRUE(found.ok()) << found.status().ToString();
  ExpectTimes(*found, "2025-06-29T14:30:02.500Z", "2025-06-29T14:30:00.000Z", "2025-06-29T14:32:45.123Z");

  // A process of the older build that had the file open before the upgrade
  // goes on inserting without received_at; its events were timed by the
  // server, so their timestamp is read as the time they were received.
  {
    RawDb old_build(path, SQLITE_OPEN_READWRITE);
    old_build.Exec(
        "INSERT INTO events (event_id, user_id, event_type, timestamp, created_at) VALUES "
        "('0190a000-0000-7000-8000-000000000009', 'w', 'click', '2025-01-01T00:00:09.000Z', "
        "'2025-01-01T00:00:09.000Z')");
  }
  const std::vector<EventMetadata> late = Scan(*store, "w");
  ASSERT_EQ(late.size(), 1u);
  ExpectTimes(late[0], "2025-01-01T00:00:09.000Z", "", "2025-01-01T00:00:09.000Z");

  // Migrating or opening again changes nothing.
  EXPECT_TRUE(store->Migrate().ok());
  store.reset();
  auto reopened = OpenOrDie(path);
  ASSERT_NE(reopened, nullptr);
  EXPECT_EQ(Scan(*reopened, "u").size(), 3u);
  RawDb raw(path);
  EXPECT_EQ(raw.Scalar("PRAGMA user_version"), "4");
  EXPECT_EQ(raw.Scalar("SELECT received_at FROM events WHERE event_id = '" + timed.event_id + "'"),
            "2025-06-29T14:32:45.123Z");
  EXPECT_EQ(raw.Scalar("SELECT count(*) FROM events WHERE received_at IS NULL"), "4");  // the old rows
}

TEST(SqliteMetadataStoreTest, ProcessesOpeningAVersionTwoFileAtOnceUpgradeItOnce) {
  TempDir dir;
  const std::string path = dir.File("m.db");
  WriteVersion2File(path);
  constexpr int kOpeners = 4;
  std::vector<Status> results(kOpeners);
  std::vector<std::thread> threads;
  for (int i = 0; i < kOpeners; ++i) {
    threads.emplace_back([&, i] {
      Result<std::unique_ptr<MetadataStore>> store = OpenSqliteMetadataStore({.path = path});
      results[i] = store.status();
    });
  }
  for (auto& thread : threads) thread.join();
  for (const Status& result : results) EXPECT_TRUE(result.ok()) << result.ToString();
  RawDb raw(path);
  EXPECT_EQ(raw.Scalar("PRAGMA user_version"), "4");
  EXPECT_EQ(raw.Scalar("SELECT count(*) FROM pragma_table_info('events') WHERE name = 'received_at'"), "1");
  EXPECT_EQ(raw.Scalar("SELECT count(*) FROM pragma_table_info('events') WHERE name = 'occurred_at'"), "1");
}

// ---- Privacy lifecycle (schema version 4) ------------------------------------------

TEST(SqliteMetadataStoreTest, ErasesUsersByContract) {
  TempDir dir;
  auto store = OpenOrDie(dir.File("m.db"));
  ASSERT_NE(store, nullptr);
  testing_support::CheckUserErasureContract(*store);
}

TEST(SqliteMetadataStoreTest, ExpiresEventsByContract) {
  TempDir dir;
  auto store = OpenOrDie(dir.File("m.db"));
  ASSERT_NE(store, nullptr);
  testing_support::CheckRetentionContract(*store);
}

TEST(SqliteMetadataStoreTest, KeepsLegalHoldsByContract) {
  TempDir dir;
  const std::string path = dir.File("m.db");
  auto store = OpenOrDie(path);
  ASSERT_NE(store, nullptr);
  testing_support::CheckLegalHoldContract(*store);
  // A hold without a reason has NULL there, not an empty string.
  RawDb raw(path);
  EXPECT_EQ(raw.Scalar("SELECT user_id FROM legal_holds WHERE reason IS NULL"), "alice");
}

TEST(SqliteMetadataStoreTest, ListsRecentAndUnfinishedErasureJobsByContract) {
  TempDir dir;
  const std::string path = dir.File("m.db");
  auto store = OpenOrDie(path);
  ASSERT_NE(store, nullptr);
  testing_support::CheckRecentErasureJobContract(*store);
  // Each half of the bounded listing has an index.
  RawDb raw(path);
  EXPECT_EQ(raw.Scalar("SELECT group_concat(name, ',') FROM (SELECT name FROM sqlite_master WHERE type = 'index' "
                       "AND tbl_name = 'erasure_jobs' AND sql IS NOT NULL ORDER BY name)"),
            "erasure_jobs_by_created,erasure_jobs_unfinished");
}

TEST(SqliteMetadataStoreTest, KeepsErasureJobsByContract) {
  TempDir dir;
  const std::string path = dir.File("m.db");
  auto store = OpenOrDie(path);
  ASSERT_NE(store, nullptr);
  testing_support::CheckErasureJobContract(*store);
  // Empty fields are NULL in the file.
  RawDb raw(path);
  EXPECT_EQ(raw.Scalar(std::string("SELECT count(*) FROM erasure_jobs WHERE job_id = '") + testing_support::kJobB +
                       "' AND started_at IS NULL AND finished_at IS NULL AND receipt IS NULL AND error IS NULL"),
            "1");
  EXPECT_EQ(raw.Scalar(std::string("SELECT count(*) FROM erasure_jobs WHERE job_id = '") + testing_support::kJobA +
                       "' AND finished_at IS NULL AND receipt IS NULL AND error IS NOT NULL"),
            "1");
}

TEST(SqliteMetadataStoreTest, HoldsAndJobsAreSeenByAnotherProcessStore) {
  TempDir dir;
  auto server = OpenOrDie(dir.File("m.db"));
  auto operator_tool = OpenOrDie(dir.File("m.db"));  // as `eventlogger` admin commands beside a server
  ASSERT_NE(server, nullptr);
  ASSERT_NE(operator_tool, nullptr);
  ASSERT_TRUE(operator_tool->PutLegalHold({"u", "case 9", "2026-01-01T00:00:00.000Z"}).ok());
  ASSERT_TRUE(operator_tool
                  ->InsertErasureJob(testing_support::PendingJob(testing_support::kJobA, "v",
                                                                 "2026-01-01T00:00:00.000Z"))
                  .ok());
  Result<std::vector<LegalHoldRow>> holds = server->ListLegalHolds();
  ASSERT_TRUE(holds.ok()) << holds.status().ToString();
  EXPECT_EQ(holds->size(), 1u);
  EXPECT_TRUE(server->FindErasureJob(testing_support::kJobA).ok());
}

// What version 3 (the build before legal holds and erasure jobs) created in
// a new file, word for word.
constexpr const char* kVersion3Schema = R"sql(
CREATE TABLE IF NOT EXISTS events (
  event_id   TEXT PRIMARY KEY,
  user_id    TEXT NOT NULL,
  event_type TEXT NOT NULL,
  timestamp  TEXT NOT NULL,
  created_at TEXT NOT NULL,
  idempotency_key TEXT,
  request_hash    TEXT,
  occurred_at     TEXT,
  received_at     TEXT
) WITHOUT ROWID;
CREATE UNIQUE INDEX IF NOT EXISTS events_by_idempotency_key
  ON events (user_id, idempotency_key) WHERE idempotency_key IS NOT NULL;
CREATE TABLE IF NOT EXISTS api_keys (
  key_id        TEXT PRIMARY KEY,
  name          TEXT NOT NULL,
  scopes        TEXT NOT NULL,
  secret_digest TEXT NOT NULL,
  created_at    TEXT NOT NULL,
  last_used_at  TEXT,
  revoked_at    TEXT
) WITHOUT ROWID;
PRAGMA user_version = 3;
)sql";

// A version 3 file with a key and three events of user u: one upgraded
// from version 2 (received_at NULL, its timestamp is its receipt), one
// timed by its client (received 2025-06-29T14:32:45.123Z, dated 14:30) and
// one received later than both.
void WriteVersion3File(const std::string& path) {
  RawDb raw(path, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE);
  raw.Exec("PRAGMA journal_mode=WAL");
  raw.Exec(kVersion3Schema);
  raw.Exec(
      "INSERT INTO events (event_id, user_id, event_type, timestamp, created_at, idempotency_key, "
      "request_hash, occurred_at, received_at) VALUES "
      "('0190a000-0000-7000-8000-000000000001', 'u', 'login', '2025-01-01T00:00:00.000Z', "
      "'2025-01-01T00:00:00.004Z', 'k1', 'h1', NULL, NULL), "
      "('0197b4a1-0000-7000-8000-000000000002', 'u', 'click', '2025-06-29T14:30:00.000Z', "
      "'2025-06-29T14:32:45.130Z', NULL, NULL, '2025-06-29T14:30:00.000Z', '2025-06-29T14:32:45.123Z'), "
      "('0197b4a1-0000-7000-8000-000000000003', 'u', 'click', '2025-06-29T15:00:00.000Z', "
      "'2025-06-29T15:00:00.004Z', NULL, NULL, NULL, '2025-06-29T15:00:00.000Z')");
  raw.Exec(
      "INSERT INTO api_keys (key_id, name, scopes, secret_digest, created_at) VALUES "
      "('00000000000000a1', 'ci', 'admin', 'dd', '2025-01-01T00:00:00.000Z')");
}

TEST(SqliteMetadataStoreTest, OpeningAVersionThreeFileAddsHoldsAndJobsKeepingEveryRow) {
  TempDir dir;
  const std::string path = dir.File("m.db");
  WriteVersion3File(path);
  auto store = OpenOrDie(path);
  ASSERT_NE(store, nullptr);
  EXPECT_TRUE(store->CheckSchema().ok());
  {
    RawDb raw(path);
    EXPECT_EQ(raw.Scalar("PRAGMA user_version"), "4");
    EXPECT_EQ(raw.Scalar("SELECT group_concat(name, ',') FROM (SELECT name FROM sqlite_master "
                         "WHERE type = 'table' ORDER BY name)"),
              "api_keys,erasure_jobs,events,legal_holds");
    EXPECT_EQ(raw.Scalar("SELECT count(*) FROM events"), "3");
    EXPECT_EQ(raw.Scalar("PRAGMA integrity_check"), "ok");
  }
  Result<std::vector<ApiKeyRow>> keys = store->ListApiKeys();
  ASSERT_TRUE(keys.ok()) << keys.status().ToString();
  EXPECT_EQ(keys->size(), 1u);
  Result<std::vector<LegalHoldRow>> holds = store->ListLegalHolds();
  ASSERT_TRUE(holds.ok()) << holds.status().ToString();
  EXPECT_TRUE(holds->empty());
  Result<std::vector<ErasureJobRow>> jobs = store->ListErasureJobs();
  ASSERT_TRUE(jobs.ok()) << jobs.status().ToString();
  EXPECT_TRUE(jobs->empty());

  // The old rows are erased by when they were received: the pre-version-3
  // row by its timestamp, the client-timed one by received_at (after its
  // timestamp), and the later one is kept.
  Result<int64_t> erased =
      store->EraseUserEvents(testing_support::ErasureUpTo("u", 1751207565123), 10);
  ASSERT_TRUE(erased.ok()) << erased.status().ToString();
  EXPECT_EQ(*erased, 2);
  EXPECT_EQ(EventIds(Scan(*store, "u")), (std::vector<std::string>{"0197b4a1-0000-7000-8000-000000000003"}));

  // Opening again changes nothing.
  ASSERT_TRUE(store->PutLegalHold({"u", "", "2026-01-01T00:00:00.000Z"}).ok());
  store.reset();
  auto reopened = OpenOrDie(path);
  ASSERT_NE(reopened, nullptr);
  holds = reopened->ListLegalHolds();
  ASSERT_TRUE(holds.ok()) << holds.status().ToString();
  EXPECT_EQ(holds->size(), 1u);
  RawDb raw(path);
  EXPECT_EQ(raw.Scalar("PRAGMA user_version"), "4");
}

TEST(SqliteMetadataStoreTest, ProcessesOpeningAVersionThreeFileAtOnceUpgradeItOnce) {
  TempDir dir;
  const std::string path = dir.File("m.db");
  WriteVersion3File(path);
  constexpr int kOpeners = 4;
  std::vector<Status> results(kOpeners);
  std::vector<std::thread> threads;
  threads.reserve(kOpeners);
  for (int i = 0; i < kOpeners; ++i) {
    threads.emplace_back([&, i] {
      Result<std::unique_ptr<MetadataStore>> store = OpenSqliteMetadataStore({.path = path});
      results[i] = store.status();
      if (store.ok()) results[i] = (*store)->PutLegalHold({"user-" + std::to_string(i), "", "2026-01-01T00:00:00.000Z"});
    });
  }
  for (auto& thread : threads) thread.join();
  for (const Status& result : results) EXPECT_TRUE(result.ok()) << result.ToString();
  RawDb raw(path);
  EXPECT_EQ(raw.Scalar("PRAGMA user_version"), "4");
  EXPECT_EQ(raw.Scalar("SELECT count(*) FROM legal_holds"), std::to_string(kOpeners));
  EXPECT_EQ(raw.Scalar("SELECT count(*) FROM events"), "3");
}

TEST(SqliteMetadataStoreTest, RefusesADatabaseFromANewerSchema) {
  // A newer build may have changed the table; writing to it could corrupt it.
  TempDir dir;
  const std::string path = dir.File("m.db");
  {
    RawDb raw(path, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE);
    raw.Exec(
        "CREATE TABLE events (event_id TEXT PRIMARY KEY, other TEXT); "
        "PRAGMA user_version = 99;");
  }
  Result<std::unique_ptr<MetadataStore>> store = OpenSqliteMetadataStore({.path = path});
  ASSERT_FALSE(store.ok());
  EXPECT_EQ(store.status().code(), StatusCode::kFailedPrecondition) << store.status().ToString();
  EXPECT_NE(store.status().message().find("99"), std::string::npos) << store.status().message();
  // And the file is left as it was.
  RawDb raw(path);
  EXPECT_EQ(raw.Scalar("PRAGMA user_version"), "99");
  EXPECT_EQ(raw.Scalar("SELECT count(*) FROM sqlite_master WHERE name = 'events_by_user_time'"),
            "0");
}

TEST(SqliteMetadataStoreTest, OpeningInAMissingDirectoryFails) {
  // The options say the directory must exist; failing is better than a
  // store silently writing somewhere else.
  TempDir dir;
  Result<std::unique_ptr<MetadataStore>> store =
      OpenSqliteMetadataStore({.path = dir.File("no/such/dir/m.db")});
  EXPECT_FALSE(store.ok());
}

}  // namespace
}  // namespace eventlogger

namespace eventlogger {
namespace {

int64_t FileSize(const std::string& path) {
  std::error_code error;
  const auto size = std::filesystem::file_size(path, error);
  return error ? -1 : static_cast<int64_t>(size);
}

TEST(SqliteMetadataStoreTest, WritesWithoutSyncAreVisibleAndSyncWritesCheckpointsThem) {
  TempDir dir;
  const std::string path = dir.File("m.db");
  auto store = OpenOrDie(path);
  ASSERT_NE(store, nullptr);
  std::vector<Event> events;
  for (int i = 0; i < 2000; ++i) {
    events.push_back(MakeEvent("id-" + std::to_string(100000 + i), "user-" + std::to_string(i % 50), "t",
                               "2025-01-01T00:00:00.000Z"));
  }
  std::vector<const Event*> batch;
  for (const Event& e : events) batch.push_back(&e);
  const int64_t db_before = FileSize(path);
  ASSERT_TRUE(store->WriteBatchWithoutSync(EventBatch(batch)).ok());
  {
    // Committed: another connection sees every row at once.
    RawDb raw(path);
    EXPECT_EQ(raw.Scalar("SELECT count(*) FROM events"), "2000");
  }
  // Commits never checkpoint (the rows are only in the WAL so far)...
  EXPECT_EQ(FileSize(path), db_before);
  EXPECT_GT(FileSize(path + "-wal"), 100 * 1024);
  // ...SyncWrites does, off the writer's connection.
  ASSERT_TRUE(store->SyncWrites().ok());
  EXPECT_GT(FileSize(path), db_before + 50 * 1024);
  // Synced and unsynced writes interleave on one connection.
  ASSERT_TRUE(Write(*store, {MakeEvent("id-z", "u", "t", "2025-01-01T00:00:01.000Z")}).ok());
  const Event late = MakeEvent("id-zz", "u", "t", "2025-01-01T00:00:02.000Z");
  const Event* one[] = {&late};
  ASSERT_TRUE(store->WriteBatchWithoutSync(EventBatch(one)).ok());
  ASSERT_TRUE(store->SyncWrites().ok());
  EXPECT_EQ(EventIds(Scan(*store, "u")), (std::vector<std::string>{"id-z", "id-zz"}));
  RawDb raw(path);
  EXPECT_EQ(raw.Scalar("PRAGMA integrity_check"), "ok");
}

}  // namespace
}  // namespace eventlogger

namespace eventlogger {
namespace {

TEST(SqliteMetadataStoreTest, WalStaysBoundedUnderAContinuousWriterWithPeriodicSyncs) {
  // SQLite rewinds its WAL only when a transaction starts with every frame
  // checkpointed, which a writer that never pauses does not allow by itself;
  // SyncWrites must make that happen (a RESTART checkpoint past a size).
  TempDir dir;
  const std::string path = dir.File("m.db");
  auto store = OpenOrDie(path);
  ASSERT_NE(store, nullptr);
  std::atomic<bool> stop{false};
  std::atomic<int64_t> rows{0};
  std::thread writer([&] {
    std::vector<Event> events(200);
    std::vector<const Event*> batch;
    for (Event& e : events) batch.push_back(&e);
    for (int round = 0; !stop.load(); ++round) {
      for (size_t i = 0; i < events.size(); ++i) {
        events[i] = MakeEvent("id-" + std::to_string(round) + "-" + std::to_string(i),
                              "user-" + std::to_string(i % 97), "t", "2025-01-01T00:00:00.000Z");
      }
      if (!store->WriteBatchWithoutSync(EventBatch(batch)).ok()) return;
      rows.fetch_add(static_cast<int64_t>(events.size()));
    }
  });
  int64_t largest_wal = 0;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(4);
  while (std::chrono::steady_clock::now() < deadline && rows.load() < 400'000) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
    EXPECT_TRUE(store->SyncWrites().ok());
    largest_wal = std::max(largest_wal, FileSize(path + "-wal"));
  }
  stop.store(true);
  writer.join();
  // 4096 frames of 4 KiB trigger the restart; allow what a busy writer adds meanwhile.
  EXPECT_LT(largest_wal, 48 << 20) << "after " << rows.load() << " rows";
  EXPECT_GT(rows.load(), 10'000);
  RawDb raw(path);
  EXPECT_EQ(raw.Scalar("SELECT count(*) FROM events"), std::to_string(rows.load()));
}

}  // namespace
}  // namespace eventlogger
