// Store faults seen from the HTTP side. Real stores wrapped by a fault
// injector (failures and stalls a real embedded store cannot produce on demand).
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <rapidjson/document.h>

#include <condition_variable>
#include <future>
#include <mutex>
#include <thread>

#include "integration/service_fixture.h"
#include "integration/test_client.h"
#include "storage/rocksdb_document_store.h"
#include "storage/sqlite_metadata_store.h"

namespace eventlogger::testing {
namespace {

using ::testing::HasSubstr;

// What a wrapped store does with the next writes.
class Fault {
 public:
  enum class Mode { kPass, kFail, kStall };
  void Set(Mode mode) {
    std::lock_guard lock(mutex_);
    mode_ = mode;
    changed_.notify_all();
  }
  // Applies the current mode: returns an error to report, or OK to go on.
  Status Apply() {
    std::unique_lock lock(mutex_);
    if (mode_ == Mode::kStall) {
      ++stalled_;
      changed_.notify_all();
      changed_.wait(lock, [&] { return mode_ != Mode::kStall; });
    }
    return mode_ == Mode::kFail ? Status::Unavailable("injected failure") : Status::Ok();
  }
  // Blocks until a write is stalled.
  void WaitForStall() {
    std::unique_lock lock(mutex_);
    changed_.wait(lock, [&] { return stalled_ > 0; });
  }

 private:
  std::mutex mutex_;
  std::condition_variable changed_;
  Mode mode_ = Mode::kPass;
  int stalled_ = 0;
};

class FaultyMetadataStore final : public MetadataStore {
 public:
  FaultyMetadataStore(std::unique_ptr<MetadataStore> inner, Fault& fault) : inner_(std::move(inner)), fault_(fault) {}
  Status WriteBatch(EventBatch events) override {
    if (Status s = fault_.Apply(); !s.ok()) return s;
    return inner_->WriteBatch(events);
  }
  Status ScanUser(std::string_view user, const std::function<bool(const EventMetadata&)>& visit) override {
    return inner_->ScanUser(user, visit);
  }
  std::string_view Kind() const override { return "faulty-sqlite"; }

 private:
  std::unique_ptr<MetadataStore> inner_;
  Fault& fault_;
};

class FaultyDocumentStore final : public DocumentStore {
 public:
  FaultyDocumentStore(std::unique_ptr<DocumentStore> inner, Fault& fault) : inner_(std::move(inner)), fault_(fault) {}
  Status WriteBatch(EventBatch events) override {
    if (Status s = fault_.Apply(); !s.ok()) return s;
    return inner_->WriteBatch(events);
  }
  Status ScanUser(std::string_view user, const std::function<bool(const DocumentView&)>& visit) override {
    return inner_->ScanUser(user, visit);
  }
  Status FindEvent(std::string_view user, std::string_view id,
                   const std::function<void(const DocumentView&)>& visit) override {
    return inner_->FindEvent(user, id, visit);
  }
  std::string_view Kind() const override { return "faulty-rocksdb"; }

 private:
  std::unique_ptr<DocumentStore> inner_;
  Fault& fault_;
};

std::string Body(const std::string& user) {
  return R"({"userId":")" + user + R"(","eventType":"t","jsonDetails":{"k":"v"}})";
}

class StoreFaultTest : public ::testing::Test {
 protected:
  void Start(std::chrono::milliseconds store_timeout = std::chrono::milliseconds(5000), size_t max_in_flight = 8192) {
    log::SetMinimumLevel(log::Level::kError);
    ServiceOptions options;
    options.http.port = 0;
    options.http.access_log = false;
    options.http.shutdown_grace = std::chrono::milliseconds(10000);
    options.handlers.store_timeout = store_timeout;
    options.writer.max_in_flight = max_in_flight;
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
    service_.reset();
  }

  TempDir dir_;
  Fault metadata_fault_;
  Fault document_fault_;
  std::unique_ptr<Service> service_;
  uint16_t port_ = 0;
};

TEST_F(StoreFaultTest, DocumentStoreFailureIs503NamingTheStore) {
  Start();
  document_fault_.Set(Fault::Mode::kFail);
  TestClient client(port_);
  const TestResponse response = client.PostEvent(Body("f1"));
  EXPECT_EQ(response.status, 503);
  EXPECT_EQ(response.Header("retry-after"), "1");
  EXPECT_THAT(response.body, HasSubstr(R"("sqlSuccess": true, "dynamoSuccess": false, "retryQueued": false)"));
  EXPECT_TRUE(response.Header("location").empty());
  // The store recovers, and so do writes.
  document_fault_.Set(Fault::Mode::kPass);
  EXPECT_EQ(client.PostEvent(Body("f1")).status, 201);
}

TEST_F(StoreFaultTest, MetadataStoreFailureIs503NamingTheStore) {
  Start();
  metadata_fault_.Set(Fault::Mode::kFail);
  const TestResponse response = HttpRequest(port_, "POST", "/events", Body("f2"), {{"Content-Type", "application/json"}});
  EXPECT_EQ(response.status, 503);
  EXPECT_THAT(response.body, HasSubstr(R"("sqlSuccess": false, "dynamoSuccess": true)"));
}

TEST_F(StoreFaultTest, SlowStoreTimesOutWith503) {
  Start(std::chrono::milliseconds(200));
  metadata_fault_.Set(Fault::Mode::kStall);
  const TestResponse response = HttpRequest(port_, "POST", "/events", Body("slow"), {{"Content-Type", "application/json"}});
  EXPECT_EQ(response.status, 503);
  EXPECT_THAT(response.body, HasSubstr(R"("sqlSuccess": false, "dynamoSuccess": true)"));
  metadata_fault_.Set(Fault::Mode::kPass);
}

TEST_F(StoreFaultTest, FullPipelineAnswers503AtOnceInsteadOfQueueing) {
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

TEST_F(StoreFaultTest, ShutdownFinishesInFlightWrites) {
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
