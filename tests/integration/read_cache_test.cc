// The GET read cache seen from the HTTP side: an acknowledged write is in
// every later read (read-your-writes through the cache), on every backend;
// on the embedded store the cache is on and /metrics shows it working; a
// store write made by the retry worker, not the request, invalidates too.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <rapidjson/document.h>

#include <string>

#include "integration/faulty_stores.h"
#include "integration/service_fixture.h"
#include "integration/test_client.h"
#include "storage/rocksdb_document_store.h"
#include "storage/sqlite_metadata_store.h"

namespace eventlogger::testing {
namespace {

std::string Body(const std::string& user, int n) {
  return R"({"userId":")" + user + R"(","eventType":"t","jsonDetails":{"n":)" + std::to_string(n) + "}}";
}

// Number of events in a GET answer (-1 if it is not a JSON array).
int EventCount(const TestResponse& response) {
  rapidjson::Document doc;
  doc.Parse(response.body.data(), response.body.size());
  return doc.IsArray() ? static_cast<int>(doc.Size()) : -1;
}

class ReadCacheTest : public ServiceFixture {};

TEST_F(ReadCacheTest, EveryAcknowledgedWriteIsInTheNextRead) {
  TestClient client(port_);
  for (int n = 1; n <= 25; ++n) {
    // Read twice (the second may be a cache hit), then write, then read again.
    ASSERT_EQ(EventCount(client.Get("/events/rc-user")), n - 1);
    ASSERT_EQ(EventCount(client.Get("/events/rc-user")), n - 1);
    const TestResponse posted = client.PostEvent(Body("rc-user", n));
    ASSERT_EQ(posted.status, 201) << posted.body;
    const TestResponse got = client.Get("/events/rc-user");
    ASSERT_EQ(got.status, 200);
    ASSERT_EQ(EventCount(got), n) << got.body;
    EXPECT_THAT(got.body, ::testing::HasSubstr(R"("jsonPayload":{"n":)" + std::to_string(n) + "}"));
  }
  // Another user's write leaves this user's answer as it was.
  ASSERT_EQ(client.PostEvent(Body("rc-other", 1)).status, 201);
  EXPECT_EQ(EventCount(client.Get("/events/rc-user")), 25);
  EXPECT_EQ(EventCount(client.Get("/events/rc-other")), 1);
}

TEST_F(ReadCacheTest, EmbeddedStoreServesRepeatedReadsFromTheCache) {
  EVENTLOGGER_EMBEDDED_ONLY();
  TestClient client(port_);
  ASSERT_EQ(client.PostEvent(Body("rc-metrics", 1)).status, 201);
  const std::string first = client.Get("/events/rc-metrics").body;
  for (int i = 0; i < 5; ++i) EXPECT_EQ(client.Get("/events/rc-metrics").body, first);
  std::string metrics = client.Get("/metrics").body;
  EXPECT_GE(MetricValue(metrics, "eventlogger_read_cache_hits_total"), 5) << metrics;
  EXPECT_GE(MetricValue(metrics, "eventlogger_read_cache_misses_total"), 1);
  EXPECT_EQ(MetricValue(metrics, "eventlogger_read_cache_entries"), 1);
  EXPECT_GT(MetricValue(metrics, "eventlogger_read_cache_bytes"), static_cast<double>(first.size()));
  // A write for the user drops its entry.
  ASSERT_EQ(client.PostEvent(Body("rc-metrics", 2)).status, 201);
  metrics = client.Get("/metrics").body;
  EXPECT_EQ(MetricValue(metrics, "eventlogger_read_cache_invalidations_total"), 1) << metrics;
  EXPECT_EQ(MetricValue(metrics, "eventlogger_read_cache_entries"), 0);
}

// Pages the cache does not hold are read on the io thread while RocksDB has
// them in memory, and on the blocking pool when a file must be read: right
// after a restart, with the block cache empty.
TEST_F(ReadCacheTest, PagesAreReadFromMemoryAndAfterARestartOnTheBlockingPool) {
  EVENTLOGGER_EMBEDDED_ONLY();
  const std::string memory = "eventlogger_page_reads_total{where=\"memory\"}";
  const std::string blocking = "eventlogger_page_reads_total{where=\"blocking_pool\"}";
  const std::string page = "/events/rc-pages?limit=2&order=desc";  // not the cached default
  {
    TestClient client(port_);
    for (int n = 1; n <= 5; ++n) ASSERT_EQ(client.PostEvent(Body("rc-pages", n)).status, 201);
    ASSERT_EQ(EventCount(client.Get(page)), 2);
    const std::string metrics = client.Get("/metrics").body;
    EXPECT_EQ(MetricValue(metrics, memory), 1) << metrics;
    EXPECT_EQ(MetricValue(metrics, blocking), 0);
  }
  StopService();
  StartService();
  TestClient client(port_);
  const TestResponse cold = client.Get(page);
  ASSERT_EQ(EventCount(cold), 2);
  std::string metrics = client.Get("/metrics").body;
  EXPECT_EQ(MetricValue(metrics, memory), 0) << metrics;
  EXPECT_EQ(MetricValue(metrics, blocking), 1);
  // The same page, its blocks cached now, and the same bytes.
  const TestResponse warm = client.Get(page);
  EXPECT_EQ(warm.body, cold.body);
  metrics = client.Get("/metrics").body;
  EXPECT_EQ(MetricValue(metrics, memory), 1) << metrics;
  EXPECT_EQ(MetricValue(metrics, blocking), 1);
}

class ReadCacheOffTest : public ServiceFixture {
  void Configure(ServiceOptions& options) override { options.read_cache.max_bytes = 0; }
};

TEST_F(ReadCacheOffTest, ZeroBytesTurnsTheCacheOff) {
  EVENTLOGGER_EMBEDDED_ONLY();
  TestClient client(port_);
  ASSERT_EQ(client.PostEvent(Body("rc-off", 1)).status, 201);
  for (int i = 0; i < 3; ++i) EXPECT_EQ(EventCount(client.Get("/events/rc-off")), 1);
  const std::string metrics = client.Get("/metrics").body;
  EXPECT_EQ(MetricValue(metrics, "eventlogger_read_cache_hits_total"), 0) << metrics;
  EXPECT_EQ(MetricValue(metrics, "eventlogger_read_cache_entries"), 0);
}

TEST(ReadCacheRetryTest, ADocumentWrittenByTheRetryWorkerInvalidatesTheCache) {
  EVENTLOGGER_EMBEDDED_ONLY();
  log::SetMinimumLevel(log::Level::kError);
  TempDir dir;
  Fault document_fault;
  ServiceOptions options;
  options.http.port = 0;
  options.http.access_log = false;
  options.data_dir = dir.path().string();
  options.retry.poll_interval = std::chrono::milliseconds(50);
  options.retry.policy.base = std::chrono::milliseconds(20);
  options.retry.policy.cap = std::chrono::milliseconds(200);
  auto metadata = OpenSqliteMetadataStore({.path = (dir.path() / "metadata.db").string()});
  auto documents = OpenRocksDbDocumentStore({.path = (dir.path() / "documents").string()});
  ASSERT_TRUE(metadata.ok() && documents.ok());
  auto service = Service::StartWithStores(
      options, std::move(*metadata), std::make_unique<FaultyDocumentStore>(std::move(*documents), document_fault));
  ASSERT_TRUE(service.ok()) << service.status().ToString();
  TestClient client((*service)->endpoint().port());

  document_fault.Set(Fault::Mode::kFail);
  ASSERT_EQ(client.PostEvent(Body("rc-retry", 1)).status, 202);
  // Cached while the document store still lacks the event.
  ASSERT_EQ(EventCount(client.Get("/events/rc-retry")), 0);
  ASSERT_EQ(EventCount(client.Get("/events/rc-retry")), 0);
  document_fault.Set(Fault::Mode::kPass);
  // The worker's write must drop that entry, or the event would stay invisible.
  EXPECT_TRUE(Eventually([&] { return EventCount(client.Get("/events/rc-retry")) == 1; }));
  (*service)->Stop();
}

}  // namespace
}  // namespace eventlogger::testing
