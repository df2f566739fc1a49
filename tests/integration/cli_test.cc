// The operator commands of the real `eventlogger` binary, run as child
// processes: `migrate`, `retry stats|list|dead|replay|purge-dead` (also
// while an in-process service runs on the same data dir, which is how they
// are used), `reconcile` on a stopped data dir with gaps made by editing the
// store files directly, and argument errors (exit 2).
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <rapidjson/document.h>
#include <rocksdb/db.h>
#include <sqlite3.h>

#include <condition_variable>
#include <filesystem>
#include <mutex>
#include <optional>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "app/cli.h"
#include "core/clock.h"
#include "core/timestamp.h"
#include "durability/intent_log.h"
#include "integration/backend.h"
#include "integration/child_process.h"
#include "integration/faulty_stores.h"
#include "integration/service_fixture.h"
#include "integration/test_client.h"
#include "storage/rocksdb_document_store.h"
#include "storage/sqlite_metadata_store.h"
#include "support/events.h"

namespace eventlogger::testing {
namespace {

using ::testing::HasSubstr;

struct CliResult {
  int exit_code = -1;
  std::string output;  // stdout and stderr

  // The first output line that is a JSON object with `member`.
  std::optional<rapidjson::Document> Json(const char* member) const {
    std::istringstream lines(output);
    std::string line;
    while (std::getline(lines, line)) {
      if (line.empty() || line[0] != '{') continue;
      rapidjson::Document document;
      document.Parse(line.data(), line.size());
      if (!document.HasParseError() && document.IsObject() && document.HasMember(member)) return document;
    }
    return std::nullopt;
  }
  // Every output line that is a JSON object with `member`.
  std::vector<std::string> JsonLines(const char* member) const {
    std::vector<std::string> out;
    std::istringstream lines(output);
    std::string line;
    while (std::getline(lines, line)) {
      rapidjson::Document document;
      document.Parse(line.data(), line.size());
      if (!document.HasParseError() && document.IsObject() && document.HasMember(member)) out.push_back(line);
    }
    return out;
  }
};

CliResult RunCli(std::vector<std::string> args) {
  ChildProcess child(std::move(args));
  CliResult result;
  result.exit_code = child.WaitForExit(std::chrono::seconds(60));
  result.output = child.Output();
  return result;
}


// Dead letters in an outbox file (read-only; works while the service runs).
int64_t ReadOutboxDead(const std::filesystem::path& file) {
  sqlite3* db = nullptr;
  int64_t dead = -1;
  if (sqlite3_open_v2(file.c_str(), &db, SQLITE_OPEN_READONLY, nullptr) == SQLITE_OK) {
    sqlite3_busy_timeout(db, 5000);
    sqlite3_stmt* st = nullptr;
    if (sqlite3_prepare_v2(db, "SELECT COUNT(*) FROM outbox WHERE state = 'dead'", -1, &st, nullptr) == SQLITE_OK &&
        sqlite3_step(st) == SQLITE_ROW) {
      dead = sqlite3_column_int64(st, 0);
    }
    sqlite3_finalize(st);
  }
  sqlite3_close(db);
  return dead;
}

std::string EventIdOf(const TestResponse& response) {
  rapidjson::Document body;
  body.Parse(response.body.data(), response.body.size());
  return body.IsObject() && body.HasMember("eventId") ? body["eventId"].GetString() : "";
}

std::string Body(const std::string& user, const std::string& type = "login") {
  return R"({"userId":")" + user + R"(","eventType":")" + type + R"(","jsonDetails":{"ip":"10.1.2.3"}})";
}

std::vector<std::string> Ids(const rapidjson::Value& array) {
  std::vector<std::string> ids;
  if (!array.IsArray()) return {"<not an array>"};
  for (const auto& v : array.GetArray()) ids.push_back(v.IsString() ? v.GetString() : "<not a string>");
  return ids;
}

class CliTest : public ::testing::Test {
 protected:
  void SetUp() override {
    EVENTLOGGER_EMBEDDED_ONLY();
    log::SetMinimumLevel(log::Level::kError);
  }
  void TearDown() override {
    document_fault_.Set(Fault::Mode::kPass);
    service_.reset();
  }

  // The in-process service on data_dir_, its document store wrapped so tests
  // can fail it, giving up on an event after one failed worker attempt.
  void StartService() {
    ServiceOptions options;
    options.data_dir = data_dir_;
    options.http.host = "127.0.0.1";
    options.http.port = 0;
    options.http.io_threads = 2;
    options.http.access_log = false;
    options.retry.poll_interval = std::chrono::milliseconds(20);
    options.retry.policy.base = std::chrono::milliseconds(10);
    options.retry.policy.cap = std::chrono::milliseconds(50);
    options.retry.policy.max_attempts = 1;
    options.writer.first_retry_delay = std::chrono::milliseconds(10);
    std::filesystem::create_directories(data_dir_);
    auto metadata = OpenSqliteMetadataStore({.path = data_dir_ + "/metadata.db"});
    ASSERT_TRUE(metadata.ok()) << metadata.status().ToString();
    auto inner = OpenRocksDbDocumentStore({.path = data_dir_ + "/documents"});
    ASSERT_TRUE(inner.ok()) << inner.status().ToString();
    auto documents = std::make_unique<FaultyDocumentStore>(std::move(*inner), document_fault_);
    auto service = Service::StartWithStores(options, std::move(*metadata), std::move(documents));
    ASSERT_TRUE(service.ok()) << service.status().ToString();
    service_ = std::move(*service);
    port_ = service_->endpoint().port();
  }
  void StopService() {
    service_.reset();
  }

  // Posts an event while the document store fails, and waits for the worker
  // to give up on it. Returns its eventId.
  std::string MakeDeadLetter(const std::string& user) {
    document_fault_.Set(Fault::Mode::kFail);
    const int64_t dead_before = ReadOutboxDead(outbox_path());
    const TestResponse response =
        HttpRequest(port_, "POST", "/events", Body(user), {{"Content-Type", "application/json"}});
    EXPECT_EQ(response.status, 202) << response.body;
    EXPECT_TRUE(Eventually([&] { return ReadOutboxDead(outbox_path()) == dead_before + 1; }));
    return EventIdOf(response);
  }

  CliResult Retry(std::vector<std::string> args) {
    args.insert(args.begin(), "retry");
    args.push_back("--data-dir");
    args.push_back(data_dir_);
    return RunCli(std::move(args));
  }
  CliResult Reconcile(std::vector<std::string> args = {}) {
    args.insert(args.begin(), "reconcile");
    args.push_back("--data-dir");
    args.push_back(data_dir_);
    return RunCli(std::move(args));
  }

  std::filesystem::path outbox_path() const { return std::filesystem::path(data_dir_) / "outbox.db"; }

  TempDir dir_;
  std::string data_dir_ = (dir_.path() / "data").string();
  Fault document_fault_;  // drives the service's wrapped document store
  std::unique_ptr<Service> service_;
  uint16_t port_ = 0;
};

TEST_F(CliTest, MigrateCreatesTheStoresAndReportsJson) {
  const CliResult result = RunCli({"migrate", "--data-dir", data_dir_});
  ASSERT_EQ(result.exit_code, 0) << result.output;
  const auto json = result.Json("metadata");
  ASSERT_TRUE(json.has_value()) << result.output;
  EXPECT_STREQ((*json)["metadata"].GetString(), "migrated");
  EXPECT_STREQ((*json)["documents"].GetString(), "migrated");
  EXPECT_TRUE(std::filesystem::exists(std::filesystem::path(data_dir_) / "metadata.db"));
  EXPECT_TRUE(std::filesystem::is_directory(std::filesystem::path(data_dir_) / "documents"));
  // Idempotent.
  EXPECT_EQ(RunCli({"migrate", "--data-dir", data_dir_}).exit_code, 0);
}

TEST_F(CliTest, RetryStatsOnAFreshDataDir) {
  StartService();
  StopService();
  const CliResult result = Retry({"stats"});
  ASSERT_EQ(result.exit_code, 0) << result.output;
  const auto json = result.Json("pending");
  ASSERT_TRUE(json.has_value()) << result.output;
  EXPECT_EQ((*json)["pending"].GetInt64(), 0);
  EXPECT_EQ((*json)["dead"].GetInt64(), 0);
  ASSERT_TRUE(json->HasMember("oldestPendingAgeMs"));
  EXPECT_EQ((*json)["oldestPendingAgeMs"].GetInt64(), 0);
  // Nothing listed.
  const CliResult list = Retry({"list"});
  EXPECT_EQ(list.exit_code, 0);
  EXPECT_TRUE(list.JsonLines("eventId").empty()) << list.output;
  const CliResult dead = Retry({"dead"});
  EXPECT_EQ(dead.exit_code, 0);
  EXPECT_TRUE(dead.JsonLines("eventId").empty()) << dead.output;
}

// The intentLog part of `retry stats`: {"inUse", "replayOnStart", "oldestReplayAgeMs"}.
const rapidjson::Value& IntentLogStats(const std::optional<rapidjson::Document>& json) {
  static const rapidjson::Value kMissing;
  if (!json || !json->HasMember("intentLog") || !(*json)["intentLog"].IsObject()) return kMissing;
  return (*json)["intentLog"];
}

TEST_F(CliTest, RetryStatsCountsEventsACrashLeftInTheIntentLog) {
  StartService();
  const auto running = Retry({"stats"}).Json("intentLog");
  ASSERT_TRUE(IntentLogStats(running).IsObject()) << "no intentLog in the stats";
  EXPECT_TRUE(IntentLogStats(running)["inUse"].GetBool()) << "the running service's log is in flight";
  StopService();
  const auto stopped = Retry({"stats"}).Json("intentLog");
  ASSERT_TRUE(IntentLogStats(stopped).IsObject());
  EXPECT_FALSE(IntentLogStats(stopped)["inUse"].GetBool());
  EXPECT_EQ(IntentLogStats(stopped)["replayOnStart"].GetInt64(), 0) << "a clean stop leaves nothing";

  // What a crash leaves: three events durable in the log, in neither store.
  const int64_t written_at = SystemClock::Instance().NowUnixMillis() - 5000;
  std::vector<Event> events(3);
  for (int i = 0; i < 3; ++i) {
    // UUIDv7 ids of that time, as the service makes them: the age counts
    // from when an event was received, which its id carries.
    events[i] = testing_support::EventAt(written_at + i, "cli-crash", "crash.left",
                                         "{\"n\":" + std::to_string(i) + "}");
  }
  {
    std::vector<Event> replayed;
    auto log = IntentLog::Open({.directory = data_dir_ + "/intent-log"}, &replayed);
    ASSERT_TRUE(log.ok()) << log.status().ToString();
    std::vector<const Event*> batch;
    for (const Event& event : events) batch.push_back(&event);
    ASSERT_TRUE((*log)->Append(EventBatch(batch)).ok());
  }  // closed without CloseCleanly, as a crash leaves it

  const CliResult crashed = Retry({"stats"});
  ASSERT_EQ(crashed.exit_code, 0) << crashed.output;
  const auto json = crashed.Json("intentLog");
  ASSERT_TRUE(IntentLogStats(json).IsObject()) << crashed.output;
  EXPECT_EQ((*json)["pending"].GetInt64(), 0) << "not in the outbox yet";
  EXPECT_FALSE(IntentLogStats(json)["inUse"].GetBool());
  EXPECT_EQ(IntentLogStats(json)["replayOnStart"].GetInt64(), 3);
  EXPECT_GE(IntentLogStats(json)["oldestReplayAgeMs"].GetInt64(), 5000);
  EXPECT_LT(IntentLogStats(json)["oldestReplayAgeMs"].GetInt64(), 60000);

  // The next start writes them to the stores, and then nothing waits.
  StartService();
  EXPECT_TRUE(Eventually([&] {
    return HttpRequest(port_, "GET", "/events/cli-crash").body.find(events[2].event_id) != std::string::npos;
  }));
  StopService();
  const auto after = Retry({"stats"}).Json("intentLog");
  ASSERT_TRUE(IntentLogStats(after).IsObject());
  EXPECT_EQ(IntentLogStats(after)["replayOnStart"].GetInt64(), 0);
}

TEST_F(CliTest, RetryWithoutAnOutboxSaysSo) {
  const CliResult result = Retry({"stats"});
  EXPECT_EQ(result.exit_code, 1) << result.output;
  EXPECT_THAT(result.output, HasSubstr("no outbox"));
  EXPECT_FALSE(std::filesystem::exists(outbox_path())) << "a typo in --data-dir must not create an outbox";
}

TEST_F(CliTest, MigratePreparesTheOutboxToo) {
  ASSERT_EQ(RunCli({"migrate", "--data-dir", data_dir_}).exit_code, 0);
  const CliResult result = Retry({"stats"});
  ASSERT_EQ(result.exit_code, 0) << result.output;
  const auto json = result.Json("pending");
  ASSERT_TRUE(json.has_value()) << result.output;
  EXPECT_EQ((*json)["pending"].GetInt64(), 0);
}

TEST_F(CliTest, DeadLettersAreInspectedAndReplayedWhileTheServiceRuns) {
  StartService();
  const std::string event_id = MakeDeadLetter("cli-dead");
  ASSERT_FALSE(event_id.empty());

  CliResult stats = Retry({"stats"});
  ASSERT_EQ(stats.exit_code, 0) << stats.output;
  auto json = stats.Json("dead");
  ASSERT_TRUE(json.has_value()) << stats.output;
  EXPECT_GE((*json)["dead"].GetInt64(), 1);
  EXPECT_EQ((*json)["pending"].GetInt64(), 0);

  const CliResult dead = Retry({"dead"});
  ASSERT_EQ(dead.exit_code, 0) << dead.output;
  const std::vector<std::string> lines = dead.JsonLines("eventId");
  ASSERT_EQ(lines.size(), 1u) << dead.output;
  rapidjson::Document entry;
  entry.Parse(lines[0].data(), lines[0].size());
  EXPECT_STREQ(entry["eventId"].GetString(), event_id.c_str());
  EXPECT_STREQ(entry["userId"].GetString(), "cli-dead");
  EXPECT_STREQ(entry["eventType"].GetString(), "login");
  EXPECT_STREQ(entry["state"].GetString(), "dead");
  EXPECT_EQ(entry["attempts"].GetInt(), 1);
  EXPECT_TRUE(entry["metadataDone"].GetBool());
  EXPECT_FALSE(entry["documentDone"].GetBool());
  EXPECT_THAT(entry["lastError"].GetString(), HasSubstr("injected failure"));
  EXPECT_TRUE(Retry({"list"}).JsonLines("eventId").empty()) << "a dead letter is not pending";

  // Not readable yet: the document never arrived.
  EXPECT_THAT(HttpRequest(port_, "GET", "/events/cli-dead").body, ::testing::Not(HasSubstr(event_id)));

  // The store recovers; the operator replays; the running worker completes it.
  document_fault_.Set(Fault::Mode::kPass);
  const CliResult replay = Retry({"replay", event_id});
  ASSERT_EQ(replay.exit_code, 0) << replay.output;
  json = replay.Json("replayed");
  ASSERT_TRUE(json.has_value()) << replay.output;
  EXPECT_EQ((*json)["replayed"].GetInt64(), 1);
  EXPECT_TRUE(Eventually([&] {
    return HttpRequest(port_, "GET", "/events/cli-dead").body.find(event_id) != std::string::npos;
  }));
  EXPECT_TRUE(Eventually([&] { return ReadOutboxPending(outbox_path()) == 0; }));
  json = Retry({"stats"}).Json("dead");
  ASSERT_TRUE(json.has_value());
  EXPECT_EQ((*json)["dead"].GetInt64(), 0);
  EXPECT_EQ((*json)["pending"].GetInt64(), 0);

  // Replaying it again: it is no dead letter any more.
  const CliResult again = Retry({"replay", event_id});
  EXPECT_EQ(again.exit_code, 1) << again.output;
  EXPECT_THAT(again.output, HasSubstr("no dead letter"));
}

TEST_F(CliTest, ReplayAllDeadWhileTheServiceRuns) {
  StartService();
  const std::string first = MakeDeadLetter("cli-all");
  const std::string second = MakeDeadLetter("cli-all");
  document_fault_.Set(Fault::Mode::kPass);

  const CliResult replay = Retry({"replay", "--all-dead"});
  ASSERT_EQ(replay.exit_code, 0) << replay.output;
  const auto json = replay.Json("replayed");
  ASSERT_TRUE(json.has_value()) << replay.output;
  EXPECT_EQ((*json)["replayed"].GetInt64(), 2);
  EXPECT_TRUE(Eventually([&] {
    const std::string body = HttpRequest(port_, "GET", "/events/cli-all").body;
    return body.find(first) != std::string::npos && body.find(second) != std::string::npos;
  }));
  EXPECT_TRUE(Eventually([&] { return ReadOutboxPending(outbox_path()) == 0; }));
  EXPECT_EQ(ReadOutboxDead(outbox_path()), 0);

  // Nothing left to replay: still a success, with a count of 0.
  const CliResult none = Retry({"replay", "--all-dead"});
  EXPECT_EQ(none.exit_code, 0) << none.output;
  ASSERT_TRUE(none.Json("replayed").has_value());
  EXPECT_EQ((*none.Json("replayed"))["replayed"].GetInt64(), 0);
}

TEST_F(CliTest, PurgeDeadWhileTheServiceRuns) {
  StartService();
  const std::string event_id = MakeDeadLetter("cli-purge");

  // Younger than a day: kept.
  CliResult purge = Retry({"purge-dead", "--older-than", "1d"});
  ASSERT_EQ(purge.exit_code, 0) << purge.output;
  ASSERT_TRUE(purge.Json("purged").has_value()) << purge.output;
  EXPECT_EQ((*purge.Json("purged"))["purged"].GetInt64(), 0);
  EXPECT_EQ(ReadOutboxDead(outbox_path()), 1);

  purge = Retry({"purge-dead", "--older-than", "0ms"});
  ASSERT_EQ(purge.exit_code, 0) << purge.output;
  ASSERT_TRUE(purge.Json("purged").has_value()) << purge.output;
  EXPECT_EQ((*purge.Json("purged"))["purged"].GetInt64(), 1);
  EXPECT_EQ(ReadOutboxDead(outbox_path()), 0);
  EXPECT_TRUE(Retry({"dead"}).JsonLines("eventId").empty());

  // Gone for good: a replay finds nothing, even with the store healthy.
  document_fault_.Set(Fault::Mode::kPass);
  EXPECT_EQ(Retry({"replay", event_id}).exit_code, 1);
  EXPECT_THAT(HttpRequest(port_, "GET", "/events/cli-purge").body, ::testing::Not(HasSubstr(event_id)));
}

TEST_F(CliTest, BadArgumentsExitWith2) {
  StartService();
  StopService();  // an outbox exists, so only the arguments are wrong
  const std::vector<std::vector<std::string>> cases = {
      {"retry"},
      {"retry", "frobnicate", "--data-dir", data_dir_},
      {"retry", "replay", "--data-dir", data_dir_},
      {"retry", "replay", "01938c4e-7f10-7a3b-9c1d-2b6f0e8a4d21", "--all-dead", "--data-dir", data_dir_},
      {"retry", "purge-dead", "--data-dir", data_dir_},
      {"retry", "purge-dead", "--older-than", "7x", "--data-dir", data_dir_},
      {"retry", "purge-dead", "--older-than", "ms", "--data-dir", data_dir_},
      {"retry", "stats", "--no-such-option", "--data-dir", data_dir_},
      {"retry", "stats", "extra", "positional", "--data-dir", data_dir_},
      {"reconcile", "--since", "yesterday", "--data-dir", data_dir_},
      {"reconcile", "--until", "2025-13-45", "--data-dir", data_dir_},
      {"reconcile", "--no-such-option", "--data-dir", data_dir_},
      {"migrate", "--no-such-option"},
      {"no-such-command"},
      {},
  };
  for (const auto& args : cases) {
    std::string joined;
    for (const auto& a : args) joined += a + " ";
    const CliResult result = RunCli(args);
    EXPECT_EQ(result.exit_code, 2) << joined << "\n" << result.output;
  }
}

TEST(ParseServeOptionsTest, StoreWritersIsAutoUnlessNamed) {
  std::string help;
  Result<ServiceOptions> automatic = ParseServeOptions({}, &help);
  ASSERT_TRUE(automatic.ok()) << automatic.status().ToString();
  EXPECT_FALSE(automatic->store_writers.has_value());
  Result<ServiceOptions> per_store = ParseServeOptions({"--store-writers", "per-store"}, &help);
  ASSERT_TRUE(per_store.ok()) << per_store.status().ToString();
  EXPECT_EQ(per_store->store_writers, StoreWriters::kPerStore);
  Result<ServiceOptions> intent = ParseServeOptions({"--store-writers", "intent-writer"}, &help);
  ASSERT_TRUE(intent.ok()) << intent.status().ToString();
  EXPECT_EQ(intent->store_writers, StoreWriters::kIntentWriter);
  Result<ServiceOptions> bad = ParseServeOptions({"--store-writers", "both"}, &help);
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(bad.status().message(), ::testing::HasSubstr("--store-writers"));
}

TEST(ParseServeOptionsTest, CursorSecretFromFlagOrEnvironmentAndAtLeastSixteenBytes) {
  std::string help;
  Result<ServiceOptions> none = ParseServeOptions({}, &help);
  ASSERT_TRUE(none.ok());
  EXPECT_EQ(none->cursor_secret, "");
  Result<ServiceOptions> flag = ParseServeOptions({"--cursor-secret", "0123456789abcdef"}, &help);
  ASSERT_TRUE(flag.ok()) << flag.status().ToString();
  EXPECT_EQ(flag->cursor_secret, "0123456789abcdef");
  Result<ServiceOptions> short_secret = ParseServeOptions({"--cursor-secret", "0123456789abcde"}, &help);
  ASSERT_FALSE(short_secret.ok());
  EXPECT_THAT(short_secret.status().message(), ::testing::HasSubstr("--cursor-secret"));
  ::setenv("EVENTLOGGER_CURSOR_SECRET", "from-the-environment-secret", 1);
  Result<ServiceOptions> env = ParseServeOptions({}, &help);
  ::unsetenv("EVENTLOGGER_CURSOR_SECRET");
  ASSERT_TRUE(env.ok()) << env.status().ToString();
  EXPECT_EQ(env->cursor_secret, "from-the-environment-secret");
}

TEST(ParseServeOptionsTest, RateLimitFlags) {
  std::string help;
  Result<ServiceOptions> off = ParseServeOptions({}, &help);
  ASSERT_TRUE(off.ok());
  EXPECT_EQ(off->rate_limit.rate, 0);
  Result<ServiceOptions> on = ParseServeOptions({"--rate-limit", "50.5", "--rate-burst", "100"}, &help);
  ASSERT_TRUE(on.ok()) << on.status().ToString();
  EXPECT_EQ(on->rate_limit.rate, 50.5);
  EXPECT_EQ(on->rate_limit.burst, 100);
  for (const char* bad : {"-1", "nan", "inf", "ten"}) {
    EXPECT_FALSE(ParseServeOptions({"--rate-limit", bad}, &help).ok()) << bad;
  }
  EXPECT_FALSE(ParseServeOptions({"--rate-burst", "-5"}, &help).ok());
}

TEST(ParseServeOptionsTest, HelpDocumentsTheFlagsAndTheReadParameters) {
  std::string help;
  ASSERT_TRUE(ParseServeOptions({"--help"}, &help).ok());
  for (const char* text : {"--cursor-secret", "--read-cache-bytes", "limit=1..1000", "order=asc|desc",
                           "eventType=a,b", "from=INSTANT", "to=INSTANT", "cursor=", "rel=\"next\"", "304"}) {
    EXPECT_THAT(help, ::testing::HasSubstr(text));
  }
}

class CliReconcileTest : public CliTest {
 protected:
  struct Posted {
    std::string event_id, user_id, event_type, timestamp;
  };

  // Three events through the real service, then a stopped data dir.
  void SetUp() override {
    CliTest::SetUp();
    if (IsSkipped()) return;
    StartService();
    for (const auto& [user, type] : std::vector<std::pair<std::string, std::string>>{
             {"rec-a", "login"}, {"rec-a", "bet"}, {"rec-b", "logout"}}) {
      const TestResponse response =
          HttpRequest(port_, "POST", "/events", Body(user, type), {{"Content-Type", "application/json"}});
      ASSERT_EQ(response.status, 201) << response.body;
      posted_.push_back({EventIdOf(response), user, type, ""});
    }
    StopService();
    for (const DocumentRow& row : ReadRocksDbRows(std::filesystem::path(data_dir_) / "documents")) {
      for (Posted& p : posted_) {
        if (p.event_id == row.event_id) p.timestamp = row.timestamp;
      }
    }
    for (const Posted& p : posted_) ASSERT_FALSE(p.timestamp.empty()) << p.event_id;
  }

  std::vector<MetadataRow> MetadataRows() const {
    return ReadSqliteRows(std::filesystem::path(data_dir_) / "metadata.db");
  }

  void DeleteMetadataRow(const std::string& event_id) {
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open((std::filesystem::path(data_dir_) / "metadata.db").c_str(), &db), SQLITE_OK);
    sqlite3_stmt* st = nullptr;
    ASSERT_EQ(sqlite3_prepare_v2(db, "DELETE FROM events WHERE event_id = ?1", -1, &st, nullptr), SQLITE_OK);
    sqlite3_bind_text(st, 1, event_id.c_str(), -1, SQLITE_TRANSIENT);
    EXPECT_EQ(sqlite3_step(st), SQLITE_DONE);
    EXPECT_EQ(sqlite3_changes(db), 1);
    sqlite3_finalize(st);
    EXPECT_EQ(sqlite3_close(db), SQLITE_OK);
  }

  void DeleteDocument(const Posted& event) {
    rocksdb::DB* raw = nullptr;
    rocksdb::Options options;
    const rocksdb::Status opened =
        rocksdb::DB::Open(options, (std::filesystem::path(data_dir_) / "documents").string(), &raw);
    ASSERT_TRUE(opened.ok()) << opened.ToString();
    std::unique_ptr<rocksdb::DB> db(raw);
    const std::string key = RocksDbDocumentKey(event.user_id, event.timestamp, event.event_id);
    std::string value;
    ASSERT_TRUE(db->Get(rocksdb::ReadOptions(), key, &value).ok()) << "the key layout changed?";
    rocksdb::WriteOptions write;
    write.sync = true;
    ASSERT_TRUE(db->Delete(write, key).ok());
    ASSERT_TRUE(db->Close().ok());
  }

  std::vector<Posted> posted_;
};

TEST_F(CliReconcileTest, ConsistentStoresExit0) {
  const CliResult result = Reconcile();
  ASSERT_EQ(result.exit_code, 0) << result.output;
  const auto json = result.Json("metadataEvents");
  ASSERT_TRUE(json.has_value()) << result.output;
  EXPECT_EQ((*json)["metadataEvents"].GetInt64(), 3);
  EXPECT_EQ((*json)["documentEvents"].GetInt64(), 3);
  EXPECT_TRUE(Ids((*json)["documentOnly"]).empty());
  EXPECT_TRUE(Ids((*json)["metadataOnlyUnrecoverable"]).empty());
  EXPECT_TRUE(Ids((*json)["queued"]).empty());
  EXPECT_EQ((*json)["repaired"].GetInt64(), 0);
}

TEST_F(CliReconcileTest, MissingMetadataRowIsReportedThenRepaired) {
  const Posted& victim = posted_[1];
  DeleteMetadataRow(victim.event_id);
  ASSERT_EQ(MetadataRows().size(), 2u);

  CliResult result = Reconcile();
  EXPECT_EQ(result.exit_code, 3) << result.output;
  auto json = result.Json("documentOnly");
  ASSERT_TRUE(json.has_value()) << result.output;
  EXPECT_EQ((*json)["metadataEvents"].GetInt64(), 2);
  EXPECT_EQ((*json)["documentEvents"].GetInt64(), 3);
  EXPECT_EQ(Ids((*json)["documentOnly"]), std::vector<std::string>{victim.event_id});
  EXPECT_TRUE(Ids((*json)["metadataOnlyUnrecoverable"]).empty());
  EXPECT_EQ(MetadataRows().size(), 2u) << "no change without --repair";

  // Filters: another user's events are consistent; a window around it is not.
  EXPECT_EQ(Reconcile({"--user", "rec-b"}).exit_code, 0);
  EXPECT_EQ(Reconcile({"--user", victim.user_id}).exit_code, 3);
  EXPECT_EQ(Reconcile({"--since", victim.timestamp, "--until", "2999-01-01T00:00:00.000Z"}).exit_code, 3);
  EXPECT_EQ(Reconcile({"--until", victim.timestamp}).exit_code, 0);

  result = Reconcile({"--repair"});
  EXPECT_EQ(result.exit_code, 0) << result.output;
  json = result.Json("repaired");
  ASSERT_TRUE(json.has_value()) << result.output;
  EXPECT_EQ((*json)["repaired"].GetInt64(), 1);

  // The row is back, read straight from the file.
  const std::vector<MetadataRow> rows = MetadataRows();
  ASSERT_EQ(rows.size(), 3u);
  bool found = false;
  for (const MetadataRow& row : rows) {
    if (row.event_id != victim.event_id) continue;
    found = true;
    EXPECT_EQ(row.user_id, victim.user_id);
    EXPECT_EQ(row.event_type, victim.event_type);
    EXPECT_EQ(row.timestamp, victim.timestamp);
  }
  EXPECT_TRUE(found);
  EXPECT_EQ(Reconcile().exit_code, 0);
}

TEST_F(CliReconcileTest, MissingDocumentIsUnrecoverable) {
  const Posted& victim = posted_[2];
  DeleteDocument(victim);

  CliResult result = Reconcile();
  EXPECT_EQ(result.exit_code, 3) << result.output;
  auto json = result.Json("metadataOnlyUnrecoverable");
  ASSERT_TRUE(json.has_value()) << result.output;
  EXPECT_EQ((*json)["metadataEvents"].GetInt64(), 3);
  EXPECT_EQ((*json)["documentEvents"].GetInt64(), 2);
  EXPECT_EQ(Ids((*json)["metadataOnlyUnrecoverable"]), std::vector<std::string>{victim.event_id});
  EXPECT_TRUE(Ids((*json)["documentOnly"]).empty());
  EXPECT_TRUE(Ids((*json)["queued"]).empty());

  // --repair cannot invent the JSON details: still exit 3.
  result = Reconcile({"--repair"});
  EXPECT_EQ(result.exit_code, 3) << result.output;
  json = result.Json("repaired");
  ASSERT_TRUE(json.has_value()) << result.output;
  EXPECT_EQ((*json)["repaired"].GetInt64(), 0);
}

}  // namespace
}  // namespace eventlogger::testing
