// The privacy lifecycle end to end, on every backend: erasure through the
// HTTP API (both stores, the outbox, Idempotency-Keys, the read cache), its
// cutoff against concurrent writes, signed receipts checked with the
// verifier and tampered with, legal holds (409, then erasure once
// released), retention per event type (hidden at once, swept from the
// stores, a held user's kept), and an erasure that survives a restart.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <rapidjson/document.h>

#include <atomic>
#include <chrono>
#include <fstream>
#include <sstream>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "app/cli.h"
#include "auth/api_key.h"
#include "auth/scopes.h"
#include "core/clock.h"
#include "core/event_time.h"
#include "core/timestamp.h"
#include "integration/child_process.h"
#include "integration/faulty_stores.h"
#include "integration/service_fixture.h"
#include "integration/test_client.h"
#include "privacy/erasure_receipt.h"

namespace eventlogger::testing {
namespace {

using ::testing::HasSubstr;

using Headers = std::vector<std::pair<std::string, std::string>>;

rapidjson::Document Json(const std::string& text) {
  rapidjson::Document document;
  document.Parse(text.c_str(), text.size());
  EXPECT_FALSE(document.HasParseError()) << text;
  return document;
}

int64_t NowMs() { return SystemClock::Instance().NowUnixMillis(); }

// An event's receipt time: the millisecond in its UUIDv7 eventId (the first
// 12 hex digits), read here independently of the service's code.
int64_t IdMillis(const std::string& event_id) {
  std::string hex = event_id.substr(0, 8) + event_id.substr(9, 4);
  return static_cast<int64_t>(std::stoull(hex, nullptr, 16));
}

class PrivacyTest : public ServiceFixture {
 protected:
  void Configure(ServiceOptions& options) override {
    options.api_keys.refresh_interval = std::chrono::milliseconds(50);
    options.privacy.erasure.settle = std::chrono::milliseconds(300);
    options.privacy.erasure.poll_interval = std::chrono::milliseconds(100);
    options.handlers.client_time.max_event_age_days = 60;
    ConfigurePrivacy(options);
    Result<std::unique_ptr<MetadataStore>> store =
        OpenMetadataStore(ResolveStoreUrls(options.stores, options.data_dir).metadata);
    ASSERT_TRUE(store.ok()) << store.status().ToString();
    admin_ = CreateKey(**store, "admin", "admin");
    writer_ = CreateKey(**store, "writer", "events:write events:read");
  }
  virtual void ConfigurePrivacy(ServiceOptions& /*options*/) {}

  static std::string CreateKey(MetadataStore& store, const std::string& name, const std::string& scopes) {
    Result<auth::NewApiKey> key = auth::MakeApiKey(name, *auth::ParseScopes(scopes, nullptr),
                                                   FormatTimestamp(SystemClock::Instance().NowUnixMillis()));
    EXPECT_TRUE(key.ok());
    EXPECT_TRUE(store.InsertApiKey(key->row).ok());
    return key->key;
  }

  Headers As(const std::string& key, bool json = false) const {
    Headers headers{{"Authorization", "Bearer " + key}};
    if (json) headers.emplace_back("Content-Type", "application/json");
    return headers;
  }
  TestResponse Send(const std::string& method, const std::string& target, const std::string& body = {},
                    const std::string& key = {}) {
    return HttpRequest(port_, method, target, body, As(key.empty() ? admin_ : key, !body.empty()));
  }

  // Posts one event; its eventId.
  std::string Post(const std::string& user, const std::string& type, const std::string& extra = "",
                   const Headers& more = {}) {
    Headers headers = As(writer_, true);
    headers.insert(headers.end(), more.begin(), more.end());
    const TestResponse r = HttpRequest(port_, "POST", "/events",
                                       R"({"userId":")" + user + R"(","eventType":")" + type +
                                           R"(","jsonDetails":{"n":1})" + extra + "}",
                                       headers);
    EXPECT_TRUE(r.status == 201 || r.status == 202) << r.status << " " << r.body;
    return Json(r.body)["eventId"].GetString();
  }

  // The eventIds GET /events/{user} shows (one page of up to 1000).
  std::vector<std::string> Listed(const std::string& user) {
    const TestResponse r = HttpRequest(port_, "GET", "/events/" + user + "?limit=1000", "", As(writer_));
    EXPECT_EQ(r.status, 200) << r.body;
    std::vector<std::string> ids;
    const rapidjson::Document page = Json(r.body);
    if (!page.IsArray()) return ids;
    for (const auto& event : page.GetArray()) ids.emplace_back(event["eventId"].GetString());
    return ids;
  }

  // DELETE /users/{user}/events; the erasure id.
  std::string Erase(const std::string& user) {
    const TestResponse r = Send("DELETE", "/users/" + user + "/events");
    EXPECT_EQ(r.status, 202) << r.body;
    const rapidjson::Document job = Json(r.body);
    if (!job.IsObject() || !job.HasMember("erasureId")) return {};
    const std::string id = job["erasureId"].GetString();
    EXPECT_EQ(r.Header("location"), "/erasures/" + id);
    EXPECT_STREQ(job["state"].GetString(), "pending");
    return id;
  }

  // Polls GET /erasures/{id} until the job has ended; its last answer.
  rapidjson::Document WaitForErasure(const std::string& id) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    while (true) {
      const TestResponse r = Send("GET", "/erasures/" + id);
      EXPECT_EQ(r.status, 200) << r.body;
      rapidjson::Document job = Json(r.body);
      const std::string state = job.IsObject() && job.HasMember("state") ? job["state"].GetString() : "";
      if (state == "done" || state == "failed" || std::chrono::steady_clock::now() > deadline) {
        EXPECT_EQ(state, "done") << r.body;
        return job;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
  }

  std::set<std::string> StoredIds(const std::string& user, bool documents) const {
    std::set<std::string> ids;
    if (documents) {
      for (const DocumentRow& row : DocumentRows()) {
        if (row.user_id == user) ids.insert(row.event_id);
      }
    } else {
      for (const MetadataRow& row : MetadataRows()) {
        if (row.user_id == user) ids.insert(row.event_id);
      }
    }
    return ids;
  }

  std::string ReceiptKeyPath() const { return (dir_.path() / "receipt-key.pem").string(); }

  std::string admin_, writer_;
};

TEST_F(PrivacyTest, ErasureEmptiesBothStoresHidesAtOnceAndSignsAReceipt) {
  std::vector<std::string> erased;
  for (int i = 0; i < 12; ++i) erased.push_back(Post("alice", "login"));
  // Client-timed: dated days back, so stored away from its receipt time.
  erased.push_back(Post("alice", "purchase", R"(,"occurredAt":")" + FormatTimestamp(NowMs() - 3 * 86'400'000) + "\""));
  const std::string bob = Post("bob", "login");
  ASSERT_EQ(Listed("alice").size(), erased.size());
  // The default query's first page, twice: the second answer comes from
  // the read cache (embedded), which the erasure must drop.
  for (int i = 0; i < 2; ++i) {
    EXPECT_EQ(HttpRequest(port_, "GET", "/events/alice", "", As(writer_)).body.find(erased[0]) == std::string::npos,
              false);
  }

  const std::string job_id = Erase("alice");
  // Hidden from the answer on, before the job has deleted anything, from
  // the cached page too.
  EXPECT_TRUE(Listed("alice").empty());
  EXPECT_EQ(HttpRequest(port_, "GET", "/events/alice", "", As(writer_)).body, "[]");
  EXPECT_EQ(HttpRequest(port_, "GET", "/events/alice/" + erased[0], "", As(writer_)).status, 404);

  const rapidjson::Document job = WaitForErasure(job_id);
  EXPECT_STREQ(job["userId"].GetString(), "alice");
  EXPECT_EQ(job["erased"]["metadata"].GetInt64(), static_cast<int64_t>(erased.size()));
  EXPECT_EQ(job["erased"]["documents"].GetInt64(), static_cast<int64_t>(erased.size()));
  EXPECT_EQ(job["erased"]["outbox"].GetInt64(), 0);
  EXPECT_TRUE(job.HasMember("startedAt") && job.HasMember("finishedAt"));
  ASSERT_TRUE(job.HasMember("receipt") && job["receipt"].IsObject());
  const std::string metrics = HttpRequest(port_, "GET", "/metrics").body;
  EXPECT_EQ(MetricValue(metrics, "eventlogger_erasures_done_total"), 1) << metrics;
  EXPECT_EQ(MetricValue(metrics, "eventlogger_erasures_failed_total"), 0);

  StopService();
  EXPECT_TRUE(StoredIds("alice", false).empty());
  EXPECT_TRUE(StoredIds("alice", true).empty());
  EXPECT_EQ(StoredIds("bob", false), std::set<std::string>{bob});
  EXPECT_EQ(StoredIds("bob", true), std::set<std::string>{bob});

  // The receipt verifies with the service's key, names alice only by hash,
  // and fails once any byte of it changes.
  const TestResponse again = [&] {
    StartService();
    return Send("GET", "/erasures/" + job_id);
  }();
  const rapidjson::Document answer = Json(again.body);
  const std::string body = again.body;
  const size_t at = body.find("\"receipt\":") + 10;
  const std::string envelope = body.substr(at, body.rfind('}') - at);
  Result<ReceiptVerifier> verifier = ReceiptVerifier::FromEd25519PrivateKeyFile(ReceiptKeyPath());
  ASSERT_TRUE(verifier.ok()) << verifier.status().ToString();
  Result<ErasureReceipt> receipt = VerifyReceipt(envelope, *verifier);
  ASSERT_TRUE(receipt.ok()) << receipt.status().ToString() << "\n" << envelope;
  EXPECT_EQ(receipt->job_id, job_id);
  EXPECT_TRUE(receipt->subject.Names("alice"));
  EXPECT_FALSE(receipt->subject.Names("bob"));
  EXPECT_EQ(envelope.find("alice"), std::string::npos);
  EXPECT_EQ(receipt->counts.metadata, static_cast<int64_t>(erased.size()));
  EXPECT_EQ(receipt->counts.documents, static_cast<int64_t>(erased.size()));
  EXPECT_EQ(FormatTimestamp(receipt->received_cutoff_ms), answer["receivedCutoff"].GetString());
  std::string tampered = envelope;
  const size_t payload = tampered.find("\"payload\":\"") + 11;
  tampered[payload + 5] = tampered[payload + 5] == 'A' ? 'B' : 'A';
  EXPECT_FALSE(VerifyReceipt(tampered, *verifier).ok());
}

TEST_F(PrivacyTest, EventsAcceptedAfterTheAnswerAreKeptAndConcurrentOnesFollowTheCutoff) {
  for (int i = 0; i < 5; ++i) Post("carol", "login");
  // Writers keep posting for carol while the erasure is accepted and runs.
  std::atomic<bool> stop{false};
  std::mutex mutex;
  std::vector<std::string> during;
  std::vector<std::thread> writers;
  for (int w = 0; w < 3; ++w) {
    writers.emplace_back([&] {
      TestClient client(port_);
      while (!stop.load()) {
        const TestResponse r = client.Send("POST", "/events", R"({"userId":"carol","eventType":"tick","jsonDetails":{}})",
                                           As(writer_, true));
        if (r.status == 201 || r.status == 202) {
          std::lock_guard lock(mutex);
          during.push_back(Json(r.body)["eventId"].GetString());
        }
      }
    });
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  const std::string job_id = Erase("carol");
  const std::string after = Post("carol", "after");
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  stop.store(true);
  for (std::thread& t : writers) t.join();
  const rapidjson::Document job = WaitForErasure(job_id);
  const std::optional<int64_t> cutoff = ParseTimestamp(job["receivedCutoff"].GetString());
  ASSERT_TRUE(cutoff.has_value());
  EXPECT_GT(IdMillis(after), *cutoff);

  // Exactly the events received after the cutoff remain, in both stores
  // and in reads; the rule is the eventId's time, whichever request won.
  std::set<std::string> kept{after};
  int64_t erased_during = 0;
  for (const std::string& id : during) {
    if (IdMillis(id) > *cutoff) {
      kept.insert(id);
    } else {
      ++erased_during;
    }
  }
  EXPECT_GT(erased_during, 0) << "no write landed before the cutoff; the test proved little";
  EXPECT_EQ(job["erased"]["metadata"].GetInt64(), 5 + erased_during);
  const std::vector<std::string> listed = Listed("carol");
  EXPECT_EQ(std::set<std::string>(listed.begin(), listed.end()), kept);
  StopService();
  EXPECT_EQ(StoredIds("carol", false), kept);
  EXPECT_EQ(StoredIds("carol", true), kept);
}

TEST_F(PrivacyTest, AnErasedUsersIdempotencyKeysAreForgotten) {
  const std::string first = Post("dave", "signup", "", {{"Idempotency-Key", "k-1"}});
  EXPECT_EQ(Post("dave", "signup", "", {{"Idempotency-Key", "k-1"}}), first);  // a replay
  WaitForErasure(Erase("dave"));
  const std::string second = Post("dave", "signup", "", {{"Idempotency-Key", "k-1"}});
  EXPECT_NE(second, first);
  EXPECT_EQ(Listed("dave"), std::vector<std::string>{second});
}

TEST_F(PrivacyTest, ALegalHoldRefusesErasureUntilReleased) {
  const std::string id = Post("erin", "login");
  TestResponse r = Send("PUT", "/users/erin/hold", R"({"reason":"case 2026-114"})");
  EXPECT_EQ(r.status, 201) << r.body;
  EXPECT_STREQ(Json(r.body)["reason"].GetString(), "case 2026-114");
  r = Send("PUT", "/users/erin/hold", R"({"reason":"case 2026-115"})");
  EXPECT_EQ(r.status, 200) << r.body;
  r = Send("GET", "/users/erin/hold");
  EXPECT_EQ(r.status, 200);
  EXPECT_STREQ(Json(r.body)["reason"].GetString(), "case 2026-115");

  r = Send("DELETE", "/users/erin/events");
  EXPECT_EQ(r.status, 409) << r.body;
  EXPECT_EQ(r.Header("content-type"), "application/problem+json");
  EXPECT_THAT(r.body, HasSubstr("case 2026-115"));
  EXPECT_EQ(Listed("erin"), std::vector<std::string>{id});

  EXPECT_EQ(Send("DELETE", "/users/erin/hold").status, 204);
  EXPECT_EQ(Send("DELETE", "/users/erin/hold").status, 404);
  EXPECT_EQ(Send("GET", "/users/erin/hold").status, 404);
  WaitForErasure(Erase("erin"));
  EXPECT_TRUE(Listed("erin").empty());
}

TEST_F(PrivacyTest, BadRequestsAreClearProblems) {
  EXPECT_EQ(Send("GET", "/erasures/not-a-uuid").status, 400);
  EXPECT_EQ(Send("GET", "/erasures/01a24c09-b6a3-70d8-9fea-8a4076fb0518").status, 404);
  EXPECT_EQ(Send("POST", "/users/frank/events", "{}").status, 405);
  EXPECT_EQ(Send("POST", "/users/frank/hold", "{}").status, 405);
  for (const std::string& body : {std::string("[1]"), std::string("{\"reason\":7}"), std::string("{\"why\":\"x\"}"),
                                  std::string("{\"reason\":\"") + std::string(1025, 'x') + "\"}", std::string("{")}) {
    const TestResponse r = Send("PUT", "/users/frank/hold", body);
    EXPECT_EQ(r.status, 400) << body;
    EXPECT_EQ(r.Header("content-type"), "application/problem+json");
  }
  // Only admin credentials reach these routes; none at all is a 401.
  EXPECT_EQ(Send("DELETE", "/users/frank/events", "", writer_).status, 403);
  EXPECT_EQ(Send("PUT", "/users/frank/hold", "", writer_).status, 403);
  EXPECT_EQ(HttpRequest(port_, "DELETE", "/users/frank/events").status, 401);
  // A userId the events routes would refuse is refused here too.
  EXPECT_EQ(Send("DELETE", "/users/%00x/events").status, 400);
}

TEST_F(PrivacyTest, AnErasedEventsRetryIsDroppedNotWrittenBack) {
  Fault fault;
  RestartWithFaultyDocumentStore(fault);
  fault.Set(Fault::Mode::kFail);
  const std::string pending = Post("gina", "login");  // 202: the document store failed
  const std::string job_id = Erase("gina");
  fault.Set(Fault::Mode::kPass);
  const rapidjson::Document job = WaitForErasure(job_id);
  EXPECT_EQ(job["erased"]["metadata"].GetInt64(), 1);
  // Whichever came first, the job or the retry worker's next beat, the
  // event is not in the document store afterwards, nor in the outbox.
  std::this_thread::sleep_for(std::chrono::milliseconds(600));
  StopService();
  EXPECT_TRUE(StoredIds("gina", true).empty());
  EXPECT_TRUE(StoredIds("gina", false).empty());
  EXPECT_EQ(ReadOutboxPending(dir_.path() / "outbox.db"), 0);
}

class RetentionTest : public PrivacyTest {
 protected:
  void ConfigurePrivacy(ServiceOptions& options) override {
    Result<RetentionPolicy> policy = RetentionPolicy::Parse("login=7", 0);
    ASSERT_TRUE(policy.ok());
    options.privacy.retention = std::make_shared<const RetentionPolicy>(std::move(*policy));
    options.privacy.sweep.interval = std::chrono::milliseconds(200);
  }
};

TEST_F(RetentionTest, ExpiredEventsAreHiddenAtOnceAndSweptExceptAHeldUsers) {
  const std::string old_login_at = FormatTimestamp(NowMs() - 8 * 86'400'000);
  const std::string fresh_login_at = FormatTimestamp(NowMs() - 6 * 86'400'000);
  ASSERT_EQ(Send("PUT", "/users/held/hold", R"({"reason":"audit"})").status, 201);
  std::map<std::string, std::string> ids;
  for (const std::string user : {"hank", "held"}) {
    ids[user + "/old-login"] = Post(user, "login", R"(,"occurredAt":")" + old_login_at + "\"");
    ids[user + "/fresh-login"] = Post(user, "login", R"(,"occurredAt":")" + fresh_login_at + "\"");
    ids[user + "/old-purchase"] = Post(user, "purchase", R"(,"occurredAt":")" + old_login_at + "\"");
  }
  // Hidden from reads at once; the held user sees everything.
  EXPECT_EQ(Listed("hank"), (std::vector<std::string>{ids["hank/old-purchase"], ids["hank/fresh-login"]}));
  EXPECT_EQ(Listed("held").size(), 3u);
  EXPECT_EQ(HttpRequest(port_, "GET", "/events/hank/" + ids["hank/old-login"], "", As(writer_)).status, 404);
  // Swept from both stores within a few beats.
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  while (std::chrono::steady_clock::now() < deadline &&
         (StoredIds("hank", false).count(ids["hank/old-login"]) || StoredIds("hank", true).count(ids["hank/old-login"]))) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  // The counters move right after the deletes they count.
  std::string metrics;
  for (int i = 0; i < 100; ++i) {
    metrics = HttpRequest(port_, "GET", "/metrics").body;
    if (metrics.find("eventlogger_retention_deleted_total{store=\"documents\"} 1\n") != std::string::npos) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  EXPECT_THAT(metrics, HasSubstr("eventlogger_retention_deleted_total{store=\"metadata\"} 1\n"));
  EXPECT_THAT(metrics, HasSubstr("eventlogger_retention_deleted_total{store=\"documents\"} 1\n"));
  StopService();
  const std::set<std::string> hank{ids["hank/old-purchase"], ids["hank/fresh-login"]};
  EXPECT_EQ(StoredIds("hank", false), hank);
  EXPECT_EQ(StoredIds("hank", true), hank);
  EXPECT_EQ(StoredIds("held", false).size(), 3u);
  EXPECT_EQ(StoredIds("held", true).size(), 3u);
}

// kill -9 while a job is deleting (one row per batch, so it runs long
// enough to be caught); the next start resumes it to the end.
TEST(PrivacyProcessTest, AnErasureKilledMidwayFinishesAfterRestart) {
  if (CurrentBackend() != Backend::kEmbedded) GTEST_SKIP() << "runs the binary on its embedded stores";
  TempDir dir;
  const std::string data_dir = (dir.path() / "data").string();
  std::string admin;
  {
    Result<std::unique_ptr<MetadataStore>> store = OpenMetadataStore(ResolveStoreUrls({}, data_dir).metadata);
    ASSERT_TRUE(store.ok()) << store.status().ToString();
    ASSERT_TRUE((*store)->Migrate().ok());
    Result<auth::NewApiKey> key = auth::MakeApiKey("admin", *auth::ParseScopes("admin", nullptr),
                                                   FormatTimestamp(SystemClock::Instance().NowUnixMillis()));
    ASSERT_TRUE(key.ok());
    ASSERT_TRUE((*store)->InsertApiKey(key->row).ok());
    admin = key->key;
  }
  const Headers headers{{"Authorization", "Bearer " + admin}, {"Content-Type", "application/json"}};
  constexpr int kEvents = 400;
  std::string job_id;
  {
    ChildProcess server({"serve", "--listen", "127.0.0.1:0", "--data-dir", data_dir, "--access-log", "false",
                         "--erasure-batch-size", "1", "--erasure-settle-ms", "0"});
    const uint16_t port = WaitForPort(server);
    ASSERT_NE(port, 0) << server.Output();
    std::string batch = R"({"events":[)";
    for (int i = 0; i < kEvents; ++i) {
      batch += std::string(i > 0 ? "," : "") + R"({"userId":"ivan","eventType":"t","jsonDetails":{"i":)" +
               std::to_string(i) + "}}";
    }
    batch += "]}";
    ASSERT_EQ(HttpRequest(port, "POST", "/events/batch", batch, headers).status, 200);
    const TestResponse accepted = HttpRequest(port, "DELETE", "/users/ivan/events", "", headers);
    ASSERT_EQ(accepted.status, 202) << accepted.body;
    job_id = Json(accepted.body)["erasureId"].GetString();
    // Kill it once it has deleted some rows but not all.
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
    int64_t erased = 0;
    while (std::chrono::steady_clock::now() < deadline) {
      const rapidjson::Document job = Json(HttpRequest(port, "GET", "/erasures/" + job_id, "", headers).body);
      erased = job["erased"]["metadata"].GetInt64();
      if (erased > 0) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(2));
    }
    ASSERT_GT(erased, 0);
    ASSERT_LT(erased, kEvents) << "the job finished before it could be killed";
    server.Signal(SIGKILL);
    EXPECT_EQ(server.WaitForExit(std::chrono::seconds(10)), -1);
  }
  ChildProcess server({"serve", "--listen", "127.0.0.1:0", "--data-dir", data_dir, "--access-log", "false"});
  const uint16_t port = WaitForPort(server);
  ASSERT_NE(port, 0) << server.Output();
  // Hidden while it resumes, gone when it is done.
  EXPECT_EQ(HttpRequest(port, "GET", "/events/ivan", "", headers).body, "[]");
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  rapidjson::Document job;
  while (std::chrono::steady_clock::now() < deadline) {
    job = Json(HttpRequest(port, "GET", "/erasures/" + job_id, "", headers).body);
    if (std::string(job["state"].GetString()) == "done") break;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  ASSERT_STREQ(job["state"].GetString(), "done");
  // Counted once each, give or take the one batch whose count the kill
  // may have lost before it was saved.
  EXPECT_GE(job["erased"]["metadata"].GetInt64(), kEvents - 1);
  EXPECT_LE(job["erased"]["metadata"].GetInt64(), kEvents);
  server.Signal(SIGTERM);
  EXPECT_EQ(server.WaitForExit(std::chrono::seconds(10)), 0);
  for (const MetadataRow& row : ReadSqliteRows(std::filesystem::path(data_dir) / "metadata.db")) {
    EXPECT_NE(row.user_id, "ivan");
  }
  for (const DocumentRow& row : ReadRocksDbRows(std::filesystem::path(data_dir) / "documents")) {
    EXPECT_NE(row.user_id, "ivan");
  }
}

struct CliRun {
  int exit_code = -1;
  std::string output;
};

CliRun Cli(std::vector<std::string> args) {
  ChildProcess child(std::move(args));
  CliRun run;
  run.exit_code = child.WaitForExit(std::chrono::seconds(60));
  run.output = child.Output();
  return run;
}

// The one output line that is a JSON object (the commands log to the same
// stream, also as JSON lines with "time").
std::string JsonLine(const std::string& output, const std::string& member) {
  std::istringstream lines(output);
  std::string line;
  while (std::getline(lines, line)) {
    if (line.rfind('{', 0) == 0 && line.find("\"" + member + "\"") != std::string::npos) return line;
  }
  return {};
}

// `erase`, `receipt-key` and `verify-receipt` on a stopped data dir: the
// receipt checks out with the public key, the private key file, and (for
// an HMAC-signed one) the secret; a changed byte, another user, or another
// key do not.
TEST(PrivacyCliTest, EraseSignsAReceiptThatVerifyReceiptChecks) {
  if (CurrentBackend() != Backend::kEmbedded) GTEST_SKIP() << "runs the binary on its embedded stores";
  TempDir dir;
  const std::string data_dir = (dir.path() / "data").string();
  std::vector<std::string> ids;
  {
    ChildProcess server({"serve", "--listen", "127.0.0.1:0", "--data-dir", data_dir, "--access-log", "false"});
    const uint16_t port = WaitForPort(server);
    ASSERT_NE(port, 0) << server.Output();
    for (const std::string user : {"jane", "jane", "jane", "kim"}) {
      const TestResponse r = HttpRequest(port, "POST", "/events",
                                         R"({"userId":")" + user + R"(","eventType":"t","jsonDetails":{}})",
                                         {{"Content-Type", "application/json"}});
      ASSERT_EQ(r.status, 201) << r.body;
    }
    server.Signal(SIGTERM);
    ASSERT_EQ(server.WaitForExit(std::chrono::seconds(10)), 0);
  }
  const CliRun erased = Cli({"erase", "--user", "jane", "--settle-ms", "0", "--data-dir", data_dir});
  ASSERT_EQ(erased.exit_code, 0) << erased.output;
  const std::string job_text = JsonLine(erased.output, "erasureId");
  const rapidjson::Document job = Json(job_text);
  ASSERT_TRUE(job.IsObject()) << erased.output;
  EXPECT_STREQ(job["state"].GetString(), "done");
  EXPECT_EQ(job["erased"]["metadata"].GetInt64(), 3);
  EXPECT_EQ(job["erased"]["documents"].GetInt64(), 3);
  for (const MetadataRow& row : ReadSqliteRows(std::filesystem::path(data_dir) / "metadata.db")) {
    EXPECT_EQ(row.user_id, "kim");
  }
  for (const DocumentRow& row : ReadRocksDbRows(std::filesystem::path(data_dir) / "documents")) {
    EXPECT_EQ(row.user_id, "kim");
  }

  const std::string job_file = (dir.path() / "job.json").string();
  std::ofstream(job_file) << job_text;
  const CliRun key = Cli({"receipt-key", "--data-dir", data_dir});
  ASSERT_EQ(key.exit_code, 0) << key.output;
  ASSERT_THAT(key.output, HasSubstr("-----BEGIN PUBLIC KEY-----"));
  const std::string public_key = (dir.path() / "public.pem").string();
  std::ofstream(public_key) << key.output.substr(key.output.find("-----BEGIN"));
  const CliRun verified = Cli({"verify-receipt", "--key", public_key, "--user", "jane", job_file});
  EXPECT_EQ(verified.exit_code, 0) << verified.output;
  EXPECT_THAT(verified.output, HasSubstr("\"valid\":true"));
  EXPECT_THAT(verified.output, HasSubstr("\"documents\":3"));
  EXPECT_EQ(Cli({"verify-receipt", "--key", data_dir + "/receipt-key.pem", job_file}).exit_code, 0);
  EXPECT_EQ(Cli({"verify-receipt", "--key", public_key, "--user", "kim", job_file}).exit_code, 1);

  // One changed character of the signed payload.
  std::string tampered = job_text;
  const size_t payload = tampered.find("\"payload\":\"") + 11;
  tampered[payload + 10] = tampered[payload + 10] == 'A' ? 'B' : 'A';
  const std::string tampered_file = (dir.path() / "tampered.json").string();
  std::ofstream(tampered_file) << tampered;
  const CliRun refused = Cli({"verify-receipt", "--key", public_key, tampered_file});
  EXPECT_EQ(refused.exit_code, 1) << refused.output;
  EXPECT_THAT(refused.output, HasSubstr("NOT VALID"));

  // HMAC-signed: the secret verifies it, the Ed25519 key does not.
  const std::string secret = "a-receipt-secret-of-at-least-32-bytes!!";
  const CliRun hmac = Cli({"erase", "--user", "kim", "--settle-ms", "0", "--receipt-hmac-secret", secret,
                           "--receipt-subject", "user-id", "--data-dir", data_dir});
  ASSERT_EQ(hmac.exit_code, 0) << hmac.output;
  const std::string hmac_file = (dir.path() / "hmac.json").string();
  std::ofstream(hmac_file) << JsonLine(hmac.output, "erasureId");
  const CliRun hmac_ok = Cli({"verify-receipt", "--hmac-secret", secret, "--user", "kim", hmac_file});
  EXPECT_EQ(hmac_ok.exit_code, 0) << hmac_ok.output;
  EXPECT_THAT(hmac_ok.output, HasSubstr("\"subject\":\"kim\""));
  EXPECT_EQ(Cli({"verify-receipt", "--key", public_key, hmac_file}).exit_code, 1);
  // Argument errors exit 2.
  EXPECT_EQ(Cli({"erase", "--data-dir", data_dir}).exit_code, 2);
  EXPECT_EQ(Cli({"verify-receipt", job_file}).exit_code, 2);
}

TEST(PrivacyCliTest, ServeParsesTheRetentionAndReceiptFlags) {
  std::string help;
  Result<ServiceOptions> options =
      ParseServeOptions({"--retention", "login=30,purchase=3653", "--retention-default-days", "365",
                         "--store-timeout-ms", "2000", "--receipt-subject", "user-id"},
                        &help);
  ASSERT_TRUE(options.ok()) << options.status().ToString();
  EXPECT_EQ(options->privacy.retention->DaysFor("login"), 30);
  EXPECT_EQ(options->privacy.retention->DaysFor("other"), 365);
  EXPECT_EQ(options->privacy.erasure.settle, std::chrono::milliseconds(3000));  // the store timeout + 1 s
  EXPECT_FALSE(options->privacy.erasure.hash_subject_in_receipts);
  for (const std::vector<std::string>& bad :
       {std::vector<std::string>{"--retention", "login=3"}, {"--retention-default-days", "5"},
        {"--receipt-subject", "plain"}, {"--erasure-batch-size", "0"},
        {"--receipt-key", "k.pem", "--receipt-hmac-secret", "0123456789abcdef0123456789abcdef"}}) {
    Result<ServiceOptions> refused = ParseServeOptions(bad, &help);
    EXPECT_FALSE(refused.ok()) << bad[0];
  }
  ASSERT_TRUE(ParseServeOptions({"--help"}, &help).ok());
  for (const char* text : {"--retention", "--retention-default-days", "--receipt-key", "--erasure-settle-ms",
                           "DELETE /users/{userId}/events", "/users/{userId}/hold", "GET  /erasures/{erasureId}"}) {
    EXPECT_THAT(help, HasSubstr(text));
  }
}

}  // namespace
}  // namespace eventlogger::testing
