// Store faults seen from the HTTP side. Real stores wrapped by a fault
// injector (failures and stalls a real embedded store cannot produce on demand).
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <rapidjson/document.h>

#include <condition_variable>
#include <future>
#include <mutex>
#include <thread>

#include "integration/faulty_stores.h"
#include "integration/service_fixture.h"
#include "integration/test_client.h"
#include "storage/rocksdb_document_store.h"
#include "storage/sqlite_metadata_store.h"

namespace eventlogger::testing {
namespace {

using ::testing::HasSubstr;

std::string Body(const std::string& user) {
  return R"({"userId":")" + user + R"(","eventType":"t","jsonDetails":{"k":"v"}})";
}

// Each test runs with both placements of the store writes (the fault
// wrappers would otherwise get the embedded stores' default).
class StoreFaultTest : public ::testing::TestWithParam<StoreWriters> {
 protected:
  void SetUp() override { EVENTLOGGER_EMBEDDED_ONLY(); }

  void Start(std::chrono::milliseconds store_timeout = std::chrono::milliseconds(5000), size_t max_in_flight = 8192) {
    log::SetMinimumLevel(log::Level::kError);
    ServiceOptions options;
    options.http.port = 0;
    options.http.access_log = false;
    options.http.shutdown_grace = std::chrono::milliseconds(10000);
    options.handlers.store_timeout = store_timeout;
    options.writer.max_in_flight = max_in_flight;
    options.store_writers = GetParam();
    options.data_dir = dir_.path().string();
    options.outbox_busy_timeout_ms = outbox_busy_timeout_ms_;
    options.intent_log.fault_injector = [this](std::string_view step) {
      return step == "sync" ? intent_log_fault_.Apply() : Status::Ok();
    };
    options.retry.poll_interval = std::chrono::milliseconds(50);
    options.retry.policy.base = std::chrono::milliseconds(20);
    options.retry.policy.cap = std::chrono::milliseconds(200);
    auto metadata = OpenSqliteMetadataStore({.path = (dir_.path() / "metadata.db").string()});
    auto documents = OpenRocksDbDocumentStore({.path = (dir_.path() / "documents").string()});
    ASSERT_TRUE(metadata.ok() && documents.ok());
    auto service = Service::StartWithStores(
        options, std::make_unique<FaultyMetadataStore>(std::move(*metadata), metadata_fault_),
        std::make_unique<FaultyDocumentStore>(std::move(*documents), document_fault_));
    ASSERT_TRUE(service.ok()) << service.status().ToString();
    service_ = std::move(*service);
    port_ = service_->endpoint().port();
  }
  void TearDown() override {
    metadata_fault_.Set(Fault::Mode::kPass);
    document_fault_.Set(Fault::Mode::kPass);
    intent_log_fault_.Set(Fault::Mode::kPass);
    service_.reset();
  }

  TempDir dir_;
  int outbox_busy_timeout_ms_ = 10000;
  Fault metadata_fault_;
  Fault intent_log_fault_;
  Fault document_fault_;
  std::unique_ptr<Service> service_;
  uint16_t port_ = 0;
};

INSTANTIATE_TEST_SUITE_P(StoreWriters, StoreFaultTest,
                         ::testing::Values(StoreWriters::kPerStore, StoreWriters::kIntentWriter),
                         [](const ::testing::TestParamInfo<StoreWriters>& info) {
                           return info.param == StoreWriters::kPerStore ? "PerStore" : "IntentWriter";
                         });

std::string EventIdOf(const TestResponse& response) {
  rapidjson::Document body;
  body.Parse(response.body.data(), response.body.size());
  return body.IsObject() && body.HasMember("eventId") ? body["eventId"].GetString() : "";
}

TEST_P(StoreFaultTest, DocumentStoreFailureIsQueuedAndRetriedUntilBothStoresAgree) {
  Start();
  document_fault_.Set(Fault::Mode::kFail);
  TestClient client(port_);
  const TestResponse response = client.PostEvent(Body("f1"));
  EXPECT_EQ(response.status, 202);
  EXPECT_THAT(response.body, HasSubstr(R"("sqlSuccess": true, "dynamoSuccess": false, "retryQueued": true)"));
  EXPECT_FALSE(response.Header("location").empty());
  const std::string event_id = EventIdOf(response);
  // Not readable yet: reads come from the failing document store.
  EXPECT_EQ(client.Get("/events/f1").body, "[]");
  // Counted per store in /metrics.
  const std::string metrics = client.Get("/metrics").body;
  EXPECT_EQ(MetricValue(metrics, "eventlogger_store_write_failures_total{store=\"documents\"}"), 1);
  EXPECT_EQ(MetricValue(metrics, "eventlogger_store_write_failures_total{store=\"metadata\"}"), 0);
  // The store recovers; the retry worker completes the event.
  document_fault_.Set(Fault::Mode::kPass);
  EXPECT_TRUE(Eventually([&] { return client.Get("/events/f1").body.find(event_id) != std::string::npos; }));
  service_.reset();
  const auto rows = ReadSqliteRows(dir_.path() / "metadata.db");
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0].event_id, event_id);
}

TEST_P(StoreFaultTest, ReadyzNamesTheStoreThatIsDownAndRecovers) {
  Start();
  const auto parts = [](const TestResponse& response) {
    std::string fields;
    rapidjson::Document problem;
    problem.Parse(response.body.c_str(), response.body.size());
    if (problem.IsObject() && problem.HasMember("errors")) {
      for (const auto& e : problem["errors"].GetArray()) fields += std::string(e["field"].GetString()) + " ";
    }
    return fields;
  };
  TestResponse ready = HttpRequest(port_, "GET", "/readyz");
  EXPECT_EQ(ready.status, 200) << ready.body;
  EXPECT_EQ(ready.body, R"({"status":"ready"})");
  document_fault_.Set(Fault::Mode::kFail);
  TestResponse down = HttpRequest(port_, "GET", "/readyz");
  EXPECT_EQ(down.status, 503);
  EXPECT_EQ(down.Header("content-type"), "application/problem+json");
  EXPECT_EQ(parts(down), "documentStore ");
  EXPECT_THAT(down.body, ::testing::HasSubstr("/problems/not-ready"));
  metadata_fault_.Set(Fault::Mode::kFail);
  EXPECT_EQ(parts(HttpRequest(port_, "GET", "/readyz")), "metadataStore documentStore ");
  document_fault_.Set(Fault::Mode::kPass);
  EXPECT_EQ(parts(HttpRequest(port_, "GET", "/readyz")), "metadataStore ");
  metadata_fault_.Set(Fault::Mode::kPass);
  EXPECT_EQ(HttpRequest(port_, "GET", "/readyz").status, 200);
  // /healthz only says the process answers: it stays 200 throughout.
  EXPECT_EQ(HttpRequest(port_, "GET", "/healthz").status, 200);
}

TEST_P(StoreFaultTest, MetadataStoreFailureIsQueuedAndRetried) {
  Start();
  metadata_fault_.Set(Fault::Mode::kFail);
  const TestResponse response = HttpRequest(port_, "POST", "/events", Body("f2"), {{"Content-Type", "application/json"}});
  EXPECT_EQ(response.status, 202);
  EXPECT_THAT(response.body, HasSubstr(R"("sqlSuccess": false, "dynamoSuccess": true, "retryQueued": true)"));
  metadata_fault_.Set(Fault::Mode::kPass);
  const std::string event_id = EventIdOf(response);
  service_.reset();  // shutdown must not lose the queued write: it stays in the outbox
  Start();
  EXPECT_TRUE(Eventually([&] { return ReadOutboxPending(dir_.path() / "outbox.db") == 0; }));
  service_.reset();
  const auto rows = ReadSqliteRows(dir_.path() / "metadata.db");
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0].event_id, event_id);
  EXPECT_EQ(ReadRocksDbRows(dir_.path() / "documents").size(), 1u);
}

TEST_P(StoreFaultTest, SlowStoreAnswers202AfterTheStoreTimeout) {
  Start(std::chrono::milliseconds(200));
  metadata_fault_.Set(Fault::Mode::kStall);
  const TestResponse response = HttpRequest(port_, "POST", "/events", Body("slow"), {{"Content-Type", "application/json"}});
  EXPECT_EQ(response.status, 202);
  EXPECT_THAT(response.body, HasSubstr(R"("sqlSuccess": false, "dynamoSuccess": true, "retryQueued": true)"));
  metadata_fault_.Set(Fault::Mode::kPass);
}

TEST_P(StoreFaultTest, IntentLogFailureIs503AndNothingIsStored) {
  // A disk error on the intent log (injected: a real disk cannot fail on
  // demand): the intent cannot be recorded, so no store may see the event.
  intent_log_fault_.Set(Fault::Mode::kFail);
  Start();
  const TestResponse response = HttpRequest(port_, "POST", "/events", Body("nowhere"), {{"Content-Type", "application/json"}});
  EXPECT_EQ(response.status, 503);
  EXPECT_EQ(response.Header("content-type"), "application/problem+json");
  EXPECT_THAT(response.body, HasSubstr("/problems/not-stored"));
  EXPECT_EQ(response.Header("retry-after"), "1");
  // The disk recovers: the log continues in a fresh segment (never after a
  // possibly torn record), and the next event is stored normally.
  intent_log_fault_.Set(Fault::Mode::kPass);
  const TestResponse later = HttpRequest(port_, "POST", "/events", Body("later"), {{"Content-Type", "application/json"}});
  EXPECT_EQ(later.status, 201) << later.body;
  service_.reset();
  const std::vector<MetadataRow> metadata = ReadSqliteRows(dir_.path() / "metadata.db");
  ASSERT_EQ(metadata.size(), 1u);
  EXPECT_EQ(metadata[0].user_id, "later");
  const std::vector<DocumentRow> documents = ReadRocksDbRows(dir_.path() / "documents");
  ASSERT_EQ(documents.size(), 1u);
  EXPECT_EQ(documents[0].user_id, "later");
}

TEST_P(StoreFaultTest, FullPipelineAnswers503AtOnceInsteadOfQueueing) {
  Start(std::chrono::milliseconds(30000), /*max_in_flight=*/1);
  document_fault_.Set(Fault::Mode::kStall);
  // One write fills the pipeline and waits on the stalled store.
  auto first = std::async(std::launch::async, [&] {
    return HttpRequest(port_, "POST", "/events", Body("bp"), {{"Content-Type", "application/json"}});
  });
  document_fault_.WaitForStall();
  const auto started = std::chrono::steady_clock::now();
  const TestResponse refused =
      HttpRequest(port_, "POST", "/events", Body("bp"), {{"Content-Type", "application/json"}});
  EXPECT_EQ(refused.status, 503);
  EXPECT_THAT(refused.body, HasSubstr("/problems/overloaded"));
  EXPECT_EQ(refused.Header("retry-after"), "1");
  // Refused at once, not after the 30 s store timeout (a generous bound, not a benchmark).
  EXPECT_LT(std::chrono::steady_clock::now() - started, std::chrono::seconds(10));
  document_fault_.Set(Fault::Mode::kPass);
  EXPECT_EQ(first.get().status, 201);
  EXPECT_EQ(HttpRequest(port_, "POST", "/events", Body("bp"), {{"Content-Type", "application/json"}}).status, 201);
}

TEST_P(StoreFaultTest, ShutdownFinishesInFlightWrites) {
  Start();
  document_fault_.Set(Fault::Mode::kStall);
  auto in_flight = std::async(std::launch::async, [&] {
    return HttpRequest(port_, "POST", "/events", Body("inflight"), {{"Content-Type", "application/json"}});
  });
  document_fault_.WaitForStall();
  auto stopping = std::async(std::launch::async, [&] { service_->Stop(); });
  // Stop must wait for the in-flight request rather than drop it.
  EXPECT_EQ(stopping.wait_for(std::chrono::milliseconds(300)), std::future_status::timeout);
  document_fault_.Set(Fault::Mode::kPass);
  const TestResponse response = in_flight.get();
  EXPECT_EQ(response.status, 201);
  stopping.get();
  service_.reset();
  EXPECT_EQ(ReadSqliteRows(dir_.path() / "metadata.db").size(), 1u);
  EXPECT_EQ(ReadRocksDbRows(dir_.path() / "documents").size(), 1u);
}

}  // namespace
}  // namespace eventlogger::testing
