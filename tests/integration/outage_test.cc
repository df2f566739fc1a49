// Real outages of real servers under load: PostgreSQL and dynalite are
// stopped and started again while clients keep posting. Every acknowledged
// event must end up in both stores exactly once, the client's log of
// acknowledgements must match the stores, and eventlogger must recover
// without a restart. Runs in the PostgreSQL+dynalite and ODBC+dynalite passes.
#include <gtest/gtest.h>
#include <rapidjson/document.h>

#include <atomic>
#include <cstdlib>
#include <mutex>
#include <set>
#include <thread>

#include "integration/backend.h"
#include "integration/service_fixture.h"
#include "integration/test_client.h"

namespace eventlogger::testing {
namespace {

// Runs tests/support/test-servers.sh COMMAND on the servers of this run.
void Servers(const std::string& command) {
  const std::string script = std::string(EVENTLOGGER_TEST_DATA_DIR) + "/support/test-servers.sh";
  const std::string state = RequiredEnv("EVENTLOGGER_TEST_SERVERS_DIR");
  const std::string line = script + " " + command + " '" + state + "' >/dev/null";
  ASSERT_EQ(std::system(line.c_str()), 0) << line;
}

class OutageTest : public ServiceFixture {
 protected:
  void SetUp() override {
    if (CurrentBackend() == Backend::kEmbedded) GTEST_SKIP() << "needs real servers to stop";
    ServiceFixture::SetUp();
  }
  void Configure(ServiceOptions& options) override {
    options.handlers.store_timeout = std::chrono::milliseconds(1500);
    options.retry.poll_interval = std::chrono::milliseconds(100);
    options.retry.policy.base = std::chrono::milliseconds(50);
    options.retry.policy.cap = std::chrono::milliseconds(1000);
    options.breaker.open_duration = std::chrono::milliseconds(300);
  }

  // Posts from a few keep-alive clients until `stop`; records what was acknowledged.
  void Load(std::atomic<bool>& stop) {
    std::vector<std::thread> clients;
    for (int c = 0; c < 4; ++c) {
      clients.emplace_back([&, c] {
        int i = 0;
        while (!stop.load()) {
          try {
            TestClient client(port_, 30000);
            while (!stop.load()) {
              ++i;
              const TestResponse r = client.PostEvent(
                  R"({"userId":"outage-)" + std::to_string(c) + R"(","eventType":"t","jsonDetails":{"i":)" +
                  std::to_string(i) + "}}");
              rapidjson::Document body;
              body.Parse(r.body.data(), r.body.size());
              std::lock_guard lock(mutex_);
              ++statuses_[r.status];
              if ((r.status == 201 || r.status == 202) && body.IsObject() && body.HasMember("eventId")) {
                acknowledged_.insert(body["eventId"].GetString());
              }
            }
          } catch (const std::exception&) {
            std::this_thread::sleep_for(std::chrono::milliseconds(20));
          }
        }
      });
    }
    for (auto& t : clients) t.join();
  }

  void ExpectEveryAcknowledgedEventInBothStoresOnce() {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(90);
    while (ReadOutboxPending(dir_.path() / "outbox.db") != 0 && std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    ASSERT_EQ(ReadOutboxPending(dir_.path() / "outbox.db"), 0) << "the outbox did not drain";
    const auto metadata = MetadataRows();
    const auto documents = DocumentRows();
    std::set<std::string> metadata_ids, document_ids;
    for (const auto& row : metadata) metadata_ids.insert(row.event_id);
    for (const auto& row : documents) document_ids.insert(row.event_id);
    EXPECT_EQ(metadata_ids.size(), metadata.size()) << "duplicates in the metadata store";
    EXPECT_EQ(document_ids.size(), documents.size()) << "duplicates in the document store";
    // Every event the service created was acknowledged (there was no 503),
    // so the stores must hold exactly the client's log.
    EXPECT_EQ(metadata_ids, acknowledged_);
    EXPECT_EQ(document_ids, acknowledged_);
  }

  std::mutex mutex_;
  std::set<std::string> acknowledged_;
  std::map<int, int> statuses_;
};

TEST_F(OutageTest, DocumentStoreOutageUnderLoad) {
  std::atomic<bool> stop{false};
  std::thread load([&] { Load(stop); });
  std::this_thread::sleep_for(std::chrono::milliseconds(700));
  Servers("stop-dynalite");
  std::this_thread::sleep_for(std::chrono::milliseconds(1500));
  Servers("start-dynalite");
  std::this_thread::sleep_for(std::chrono::milliseconds(1000));
  stop.store(true);
  load.join();
  EXPECT_GT(statuses_[202], 0) << "the outage was never noticed";
  EXPECT_GT(statuses_[201], 0);
  EXPECT_EQ(statuses_[503] + statuses_[500], 0);
  ExpectEveryAcknowledgedEventInBothStoresOnce();
  // Recovered without a restart: a new write is 201 again.
  EXPECT_EQ(HttpRequest(port_, "POST", "/events", R"({"userId":"after","eventType":"t","jsonDetails":{}})",
                        {{"Content-Type", "application/json"}}).status, 201);
}

TEST_F(OutageTest, MetadataStoreOutageUnderLoad) {
  std::atomic<bool> stop{false};
  std::thread load([&] { Load(stop); });
  std::this_thread::sleep_for(std::chrono::milliseconds(700));
  Servers("stop-postgres");
  std::this_thread::sleep_for(std::chrono::milliseconds(1500));
  Servers("start-postgres");
  std::this_thread::sleep_for(std::chrono::milliseconds(1000));
  stop.store(true);
  load.join();
  EXPECT_GT(statuses_[202], 0) << "the outage was never noticed";
  EXPECT_EQ(statuses_[503] + statuses_[500], 0);
  ExpectEveryAcknowledgedEventInBothStoresOnce();
  EXPECT_EQ(HttpRequest(port_, "POST", "/events", R"({"userId":"after","eventType":"t","jsonDetails":{}})",
                        {{"Content-Type", "application/json"}}).status, 201);
}

}  // namespace
}  // namespace eventlogger::testing
