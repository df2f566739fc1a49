// Tests for the DynamoDB DocumentStore against dynalite (DynamoDB on
// LevelDB), each in a table of its own that is deleted afterwards.
//
// Besides the DocumentStore contract (order, paging, filters, idempotency,
// non-ASCII text), they pin what matters in deployment: migration from
// several processes at once, the 400 KB item limit computed exactly (an item
// at our limit is accepted by dynalite, one byte over is refused by our own
// check before any write), recovery when the server restarts under a live
// store, and the item format as another client (boto3) sees it.
//
// Needs EVENTLOGGER_TEST_DYNAMODB_ENDPOINT and EVENTLOGGER_TEST_SERVERS_DIR
// (eval "$(tests/support/test-servers.sh start DIR)"); fails without them.
// The restart test restarts that dynalite: run this binary's tests one at a
// time against a dynalite of its own.
#include "storage/dynamodb_document_store.h"

#include <gtest/gtest.h>
#include <rapidjson/document.h>
#include <stdlib.h>

#include <algorithm>
#include <cctype>
#include <fstream>
#include <map>
#include <mutex>
#include <random>
#include <set>
#include <string>
#include <thread>
#include <tuple>
#include <vector>

#include "aws/dynalite_support.h"
#include "aws/fake_http_server.h"
#include "core/clock.h"
#include "core/event.h"
#include "core/timestamp.h"
#include "core/uuid.h"
#include "core/validation.h"
#include "privacy/retention_policy.h"
#include "storage/client_time_contract.h"
#include "storage/privacy_document_contract.h"
#include "storage/user_range_contract.h"
#include "support/events.h"

namespace eventlogger {
namespace {

using testing_support::EventFactory;

using aws::AttributeValue;
using eventlogger::testing::FakeHttpServer;
using eventlogger::testing::FakeRequest;
using eventlogger::testing::FakeResponse;

constexpr int64_t kT0 = 1751207565123;  // 2025-06-29T14:32:45.123Z
constexpr int64_t kHour = 3600 * 1000;
constexpr int64_t kDay = 24 * kHour;


struct Doc {
  std::string user_id, event_id, event_type, timestamp, details_json;
  friend bool operator==(const Doc&, const Doc&) = default;
  friend bool operator<(const Doc& a, const Doc& b) {
    return std::tie(a.user_id, a.timestamp, a.event_id) < std::tie(b.user_id, b.timestamp, b.event_id);
  }
};

std::ostream& operator<<(std::ostream& os, const Doc& d) {
  return os << "{" << d.user_id << ", " << d.timestamp << ", " << d.event_id << ", " << d.event_type << ", "
            << d.details_json.substr(0, 80) << "}";
}

Doc FromView(const DocumentView& view) {
  return {std::string(view.user_id), std::string(view.event_id), std::string(view.event_type),
          std::string(view.timestamp), std::string(view.details_json)};
}

Doc FromEvent(const Event& e) { return {e.user_id, e.event_id, e.event_type, e.timestamp, e.details_json}; }

std::vector<const Event*> Pointers(const std::vector<Event>& events) {
  std::vector<const Event*> pointers;
  for (const Event& e : events) pointers.push_back(&e);
  return pointers;
}

class DynamoDbDocumentStoreTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    // The store resolves credentials like any AWS tool; dynalite ignores
    // them but every request is signed.
    setenv("AWS_ACCESS_KEY_ID", "AKIDEVENTLOGGERTEST", 1);
    setenv("AWS_SECRET_ACCESS_KEY", "dynalite-ignores-this-secret", 1);
    unsetenv("AWS_SESSION_TOKEN");
  }

  void SetUp() override {
    endpoint_ = eventlogger::testing::DynaliteEndpoint();
    ASSERT_FALSE(endpoint_.empty());
    table_ = eventlogger::testing::UniqueTableName("docs");
    admin_ = eventlogger::testing::MakeDynamoClient(endpoint_);
    ASSERT_NE(admin_, nullptr);
    Result<std::unique_ptr<aws::HttpClient>> http = aws::HttpClient::Create();
    ASSERT_TRUE(http.ok());
    proxy_http_ = std::move(http).value();
  }

  void TearDown() override {
    if (!admin_) return;
    Status deleted = admin_->DeleteTable(table_);
    EXPECT_TRUE(deleted.ok() || deleted.code() == StatusCode::kNotFound) << deleted.ToString();
  }

  DynamoDbDocumentOptions Options(const std::string& endpoint = "") {
    DynamoDbDocumentOptions options;
    options.table = table_;
    options.region = "eu-west-1";
    options.endpoint = endpoint.empty() ? endpoint_ : endpoint;
    options.migrate_poll = std::chrono::milliseconds(20);
    return options;
  }

  std::unique_ptr<DocumentStore> Open(const DynamoDbDocumentOptions& options) {
    Result<std::unique_ptr<DocumentStore>> store = OpenDynamoDbDocumentStore(options);
    EXPECT_TRUE(store.ok()) << store.status().ToString();
    return store.ok() ? std::move(store).value() : nullptr;
  }

  std::unique_ptr<DocumentStore> OpenMigrated(DynamoDbDocumentOptions options) {
    auto store = Open(options);
    if (store) {
      Status migrated = store->Migrate();
      EXPECT_TRUE(migrated.ok()) << migrated.ToString();
    }
    return store;
  }
  std::unique_ptr<DocumentStore> OpenMigrated() { return OpenMigrated(Options()); }

  static std::vector<Doc> ScanUser(DocumentStore& store, std::string_view user) {
    std::vector<Doc> docs;
    Status status = store.ScanUser(user, [&docs](const DocumentView& view) {
      docs.push_back(FromView(view));
      return true;
    });
    EXPECT_TRUE(status.ok()) << status.ToString();
    return docs;
  }

  static std::vector<Doc> ScanSorted(DocumentStore& store, const ScanFilter& filter) {
    std::vector<Doc> docs;
    Status status = store.Scan(filter, [&docs](const DocumentView& view) {
      docs.push_back(FromView(view));
      return true;
    });
    EXPECT_TRUE(status.ok()) << status.ToString();
    std::sort(docs.begin(), docs.end());
    return docs;
  }

  static std::optional<Doc> Find(DocumentStore& store, std::string_view user, std::string_view id) {
    std::optional<Doc> found;
    Status status = store.FindEvent(user, id, [&found](const DocumentView& view) { found = FromView(view); });
    if (status.code() == StatusCode::kNotFound) return std::nullopt;
    EXPECT_TRUE(status.ok()) << status.ToString();
    return found;
  }

  FakeResponse Proxy(const FakeRequest& request) {
    return eventlogger::testing::Proxy(*proxy_http_, endpoint_, request);
  }

  static std::shared_ptr<const RetentionPolicy> Retention(std::string_view rules, int64_t default_days) {
    Result<RetentionPolicy> policy = RetentionPolicy::Parse(rules, default_days);
    EXPECT_TRUE(policy.ok()) << policy.status().ToString();
    return policy.ok() ? std::make_shared<const RetentionPolicy>(*policy) : nullptr;
  }

  // The event's item as stored, read past the store.
  aws::Item RawItem(const Event& event) {
    aws::GetItemRequest get;
    get.table_name = table_;
    get.key = {
        {std::string(kDynamoDbUserIdAttribute), AttributeValue::S(event.user_id)},
        {std::string(kDynamoDbSortKeyAttribute),
         AttributeValue::S(DynamoDbSortKey(event.timestamp, event.event_id))}};
    get.consistent_read = true;
    Result<std::optional<aws::Item>> item = admin_->GetItem(get);
    EXPECT_TRUE(item.ok() && item->has_value()) << (item.ok() ? "no such item" : item.status().ToString());
    return item.ok() && item->has_value() ? **item : aws::Item();
  }

  // How many of the user's items carry ExpiresAt, read past the store.
  size_t ItemsWithExpiry(const std::string& user) {
    aws::QueryRequest query;
    query.table_name = table_;
    query.key_condition_expression = "#u = :u";
    query.parameters.names = {{"#u", std::string(kDynamoDbUserIdAttribute)}};
    query.parameters.values = {{":u", AttributeValue::S(user)}};
    query.consistent_read = true;
    Result<aws::ItemPage> page = admin_->Query(query);
    EXPECT_TRUE(page.ok() && !page->last_evaluated_key);
    if (!page.ok()) return 0;
    return static_cast<size_t>(std::count_if(page->items.begin(), page->items.end(), [](const aws::Item& item) {
      return item.count(kDynamoDbExpiresAtAttribute) > 0;
    }));
  }

  // Restarts dynalite under a live store; dynalite keeps its data on disk.
  void RestartAndContinue(DocumentStore& store) {
    const char* servers_dir = std::getenv("EVENTLOGGER_TEST_SERVERS_DIR");
    ASSERT_NE(servers_dir, nullptr) << "EVENTLOGGER_TEST_SERVERS_DIR is not set (tests/support/test-servers.sh start)";
    Result<aws::Url> url = aws::ParseUrl(endpoint_);
    ASSERT_TRUE(url.ok());
    std::vector<Event> before;
    for (int i = 0; i < 5; ++i) before.push_back(factory_.Make("restart", kT0 + i));
    ASSERT_TRUE(store.WriteBatch(Pointers(before)).ok());
    ASSERT_EQ(ScanUser(store, "restart").size(), 5u);  // leaves pooled connections behind

    const std::string command = "EVENTLOGGER_TEST_DYNAMO_PORT=" + std::to_string(url->port) + " " +
                                std::string(EVENTLOGGER_TEST_DATA_DIR) + "/support/test-servers.sh restart-dynalite '" +
                                servers_dir + "'";
    std::string output, error;
    ASSERT_EQ(eventlogger::testing::RunCommand(command, &output, &error), 0) << error;

    // The very first calls after the restart must work: no error surfaces
    // from connections to the dead server.
    EXPECT_TRUE(store.Ping().ok());
    EXPECT_EQ(ScanUser(store, "restart").size(), 5u);
    std::vector<Event> after;
    for (int i = 0; i < 5; ++i) after.push_back(factory_.Make("restart", kT0 + 100 + i));
    Status written = store.WriteBatch(Pointers(after));
    EXPECT_TRUE(written.ok()) << written.ToString();
    EXPECT_EQ(ScanUser(store, "restart").size(), 10u);
    EXPECT_TRUE(store.CheckSchema().ok());
  }

  std::string endpoint_;
  std::string table_;
  std::unique_ptr<aws::DynamoDbClient> admin_;
  std::unique_ptr<aws::HttpClient> proxy_http_;
  EventFactory factory_;
};

TEST_F(DynamoDbDocumentStoreTest, CheckSchemaBeforeAndAfterMigrateAndMigrateIsIdempotent) {
  auto store = Open(Options());
  ASSERT_NE(store, nullptr);
  EXPECT_EQ(store->Kind(), "dynamodb");
  Status before = store->CheckSchema();
  EXPECT_EQ(before.code(), StatusCode::kFailedPrecondition) << before.ToString();
  EXPECT_NE(before.message().find("eventlogger migrate"), std::string::npos) << before.message();
  EXPECT_EQ(store->Ping().code(), StatusCode::kFailedPrecondition);

  ASSERT_TRUE(store->Migrate().ok());
  ASSERT_TRUE(store->Migrate().ok());
  EXPECT_TRUE(store->CheckSchema().ok());
  EXPECT_TRUE(store->Ping().ok());

  Result<aws::TableDescription> table = admin_->DescribeTable(table_);
  ASSERT_TRUE(table.ok());
  EXPECT_EQ(table->table_status, "ACTIVE");
  EXPECT_EQ(table->billing_mode, "PAY_PER_REQUEST");
  EXPECT_EQ(table->key_schema, (std::vector<aws::KeySchemaElement>{{"UserId", aws::KeyType::kHash},
                                                                   {"SortKey", aws::KeyType::kRange}}));
}

TEST_F(DynamoDbDocumentStoreTest, MigrateFromTwoThreadsAtOnce) {
  auto first = Open(Options());
  auto second = Open(Options());
  ASSERT_TRUE(first && second);
  Status a, b;
  std::thread one([&] { a = first->Migrate(); });
  std::thread two([&] { b = second->Migrate(); });
  one.join();
  two.join();
  EXPECT_TRUE(a.ok()) << a.ToString();
  EXPECT_TRUE(b.ok()) << b.ToString();
  EXPECT_TRUE(first->CheckSchema().ok());
  EXPECT_TRUE(second->CheckSchema().ok());
}

TEST_F(DynamoDbDocumentStoreTest, WrongKeySchemaIsFailedPrecondition) {
  aws::CreateTableRequest create;
  create.table_name = table_;
  create.attribute_definitions = {{"UserId", "S"}};
  create.key_schema = {{"UserId", aws::KeyType::kHash}};
  ASSERT_TRUE(admin_->CreateTable(create).ok());
  auto store = Open(Options());
  Status check = store->CheckSchema();
  EXPECT_EQ(check.code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(check.message().find("eventlogger migrate"), std::string::npos) << check.message();
  EXPECT_EQ(store->Migrate().code(), StatusCode::kFailedPrecondition);
}

TEST_F(DynamoDbDocumentStoreTest, WriteOneEventAndReadItBack) {
  auto store = OpenMigrated();
  ASSERT_NE(store, nullptr);
  const Event event = factory_.Make("12345", kT0, "bet", "{\"ip\":\"192.168.1.1\",\"device\":\"Chrome\"}");
  const Event* batch[] = {&event};
  ASSERT_TRUE(store->WriteBatch(batch).ok());
  EXPECT_EQ(ScanUser(*store, "12345"), std::vector<Doc>{FromEvent(event)});
  EXPECT_EQ(Find(*store, "12345", event.event_id), FromEvent(event));
  EXPECT_TRUE(ScanUser(*store, "1234").empty());
  EXPECT_TRUE(ScanUser(*store, "").empty());
}

TEST_F(DynamoDbDocumentStoreTest, SixtyEventsCrossBatchChunksAndQueryPages) {
  std::mutex mu;
  std::map<std::string, int> operations;
  FakeHttpServer counter([&](const FakeRequest& request) {
    {
      std::lock_guard lock(mu);
      ++operations[request.Header("x-amz-target")];
    }
    return Proxy(request);
  });
  DynamoDbDocumentOptions options = Options(counter.url());
  options.page_limit = 7;
  auto store = OpenMigrated(options);
  ASSERT_NE(store, nullptr);

  std::vector<Event> events;
  for (int i = 0; i < 60; ++i) {
    // Pairs share a millisecond: ties are ordered by eventId.
    events.push_back(factory_.Make("user-60", kT0 + (i / 2) * 1000, "click", "{\"i\":" + std::to_string(i) + "}"));
  }
  std::vector<Doc> expected;
  for (const Event& e : events) expected.push_back(FromEvent(e));
  std::sort(expected.begin(), expected.end());
  // Written out of order: the order must come from the sort key.
  std::vector<const Event*> shuffled = Pointers(events);
  std::shuffle(shuffled.begin(), shuffled.end(), std::mt19937(42));
  {
    std::lock_guard lock(mu);
    operations.clear();
  }
  ASSERT_TRUE(store->WriteBatch(shuffled).ok());
  {
    std::lock_guard lock(mu);
    EXPECT_EQ(operations["DynamoDB_20120810.BatchWriteItem"], 3);  // 25 + 25 + 10
    operations.clear();
  }
  EXPECT_EQ(ScanUser(*store, "user-60"), expected);
  {
    std::lock_guard lock(mu);
    EXPECT_GE(operations["DynamoDB_20120810.Query"], 9);  // ceil(60 / 7)
  }

  // Early stop, on the second page.
  int visited = 0;
  ASSERT_TRUE(store->ScanUser("user-60", [&visited](const DocumentView&) { return ++visited < 10; }).ok());
  EXPECT_EQ(visited, 10);

  // A batch of one is one call.
  const Event single = factory_.Make("user-60", kT0 + 100 * kHour);
  const Event* one[] = {&single};
  {
    std::lock_guard lock(mu);
    operations.clear();
  }
  ASSERT_TRUE(store->WriteBatch(one).ok());
  std::lock_guard lock(mu);
  EXPECT_EQ(operations["DynamoDB_20120810.BatchWriteItem"], 1);
}

TEST_F(DynamoDbDocumentStoreTest, WriteBatchFailsIfAnyChunkFails) {
  std::atomic<int> batch_calls{0};
  FakeHttpServer faulty([&](const FakeRequest& request) {
    if (request.Header("x-amz-target") == "DynamoDB_20120810.BatchWriteItem" && batch_calls.fetch_add(1) == 1) {
      return eventlogger::testing::DynamoError(400, "ValidationException", "injected");
    }
    return Proxy(request);
  });
  auto store = OpenMigrated(Options(faulty.url()));
  ASSERT_NE(store, nullptr);
  std::vector<Event> events;
  for (int i = 0; i < 60; ++i) events.push_back(factory_.Make("chunky", kT0 + i));
  Status status = store->WriteBatch(Pointers(events));
  EXPECT_EQ(status.code(), StatusCode::kInvalidArgument) << status.ToString();
  EXPECT_NE(status.message().find(table_), std::string::npos);
  EXPECT_EQ(batch_calls.load(), 2);  // stops at the failed chunk
}

TEST_F(DynamoDbDocumentStoreTest, ReadUserRangeKeepsTheContract) {
  // Pages of at most 4 items: every walk crosses DynamoDB pages, and a type
  // filter gets pages with few or no matches, which must not end the read.
  DynamoDbDocumentOptions options = Options();
  options.page_limit = 4;
  auto store = OpenMigrated(options);
  ASSERT_NE(store, nullptr);
  testing_support::UserRangeContract contract;
  contract.WriteTo(*store);
  contract.CheckEdges(*store);
  for (const size_t page : {1, 7}) contract.CheckWalks(*store, page);
}

TEST_F(DynamoDbDocumentStoreTest, ClientTimedEventsKeepTheContract) {
  auto store = OpenMigrated();
  ASSERT_NE(store, nullptr);
  testing_support::CheckClientTimedDocuments(*store, "late-user");
}

TEST_F(DynamoDbDocumentStoreTest, ErasureKeepsTheContract) {
  // Pages of 4: the erasure's Query crosses pages while it deletes.
  DynamoDbDocumentOptions options = Options();
  options.page_limit = 4;
  auto store = OpenMigrated(options);
  ASSERT_NE(store, nullptr);
  testing_support::CheckErasureKeepsWhatWasReceivedLater(*store);
  testing_support::CheckErasureInSteps(*store, "stepwise-7", 7);
  testing_support::CheckErasureInSteps(*store, "stepwise-30", 30);  // a batch of 25, then one of 5
}

TEST_F(DynamoDbDocumentStoreTest, ErasureDeletesInBatchesOf25NotOneCallPerDocument) {
  std::mutex mu;
  std::map<std::string, int> operations;
  FakeHttpServer counter([&](const FakeRequest& request) {
    {
      std::lock_guard lock(mu);
      ++operations[request.Header("x-amz-target")];
    }
    return Proxy(request);
  });
  auto store = OpenMigrated(Options(counter.url()));
  ASSERT_NE(store, nullptr);
  std::vector<Event> events;
  for (int i = 0; i < 60; ++i) events.push_back(factory_.Make("batched", kT0 + i));
  ASSERT_TRUE(store->WriteBatch(Pointers(events)).ok());
  {
    std::lock_guard lock(mu);
    operations.clear();
  }
  Result<int64_t> erased = store->EraseUserEvents(testing_support::ErasureUntil("batched", kT0 + 60), 100);
  ASSERT_TRUE(erased.ok()) << erased.status().ToString();
  EXPECT_EQ(*erased, 60);
  std::lock_guard lock(mu);
  EXPECT_EQ(operations["DynamoDB_20120810.BatchWriteItem"], 3);  // 25 + 25 + 10
  EXPECT_EQ(operations["DynamoDB_20120810.Query"], 1);
}

TEST_F(DynamoDbDocumentStoreTest, ExpirySweepsKeepTheContract) {
  // Pages of 4: a sweep stops and resumes inside pages and across them.
  DynamoDbDocumentOptions options = Options();
  options.page_limit = 4;
  auto store = OpenMigrated(options);
  ASSERT_NE(store, nullptr);
  testing_support::CheckDeleteExpired(*store);
}

TEST_F(DynamoDbDocumentStoreTest, ExpiresAtOnlyOnExpiringTypesAndNeverForHeldUsers) {
  DynamoDbDocumentOptions options = Options();
  options.retention = Retention("login=30", 0);  // other types: forever
  std::map<std::string, int> asked;
  options.is_held = [&asked](std::string_view user) {
    ++asked[std::string(user)];
    return user == "held";
  };
  auto store = OpenMigrated(options);
  ASSERT_NE(store, nullptr);
  const std::vector<Event> events = {factory_.Make("free", kT0, "login"), factory_.Make("free", kT0 + 1, "view"),
                                     factory_.Make("held", kT0 + 2, "login"), factory_.Make("free", kT0 + 3, "login")};
  ASSERT_TRUE(store->WriteBatch(Pointers(events)).ok());
  EXPECT_EQ(asked, (std::map<std::string, int>{{"free", 1}, {"held", 1}}));  // once per user and batch

  // 30 days after the timestamp, in seconds, rounded up (kT0 ends in .123).
  const aws::Item login = RawItem(events[0]);
  ASSERT_EQ(login.count(kDynamoDbExpiresAtAttribute), 1u);
  EXPECT_EQ(login.at(std::string(kDynamoDbExpiresAtAttribute)),
            AttributeValue::N(std::to_string((kT0 + 30 * kDay) / 1000 + 1)));
  EXPECT_EQ(RawItem(events[1]).count(kDynamoDbExpiresAtAttribute), 0u);  // views never expire
  EXPECT_EQ(RawItem(events[2]).count(kDynamoDbExpiresAtAttribute), 0u);  // held
  EXPECT_EQ(RawItem(events[3]).count(kDynamoDbExpiresAtAttribute), 1u);
  // Reads are as before: ExpiresAt is the store's business.
  EXPECT_EQ(ScanUser(*store, "free"),
            (std::vector<Doc>{FromEvent(events[0]), FromEvent(events[1]), FromEvent(events[3])}));

  // Without a policy nothing expires.
  auto plain = Open(Options());
  ASSERT_NE(plain, nullptr);
  const Event unexpiring = factory_.Make("plain", kT0 + 4, "login");
  const Event* one[] = {&unexpiring};
  ASSERT_TRUE(plain->WriteBatch(one).ok());
  EXPECT_EQ(RawItem(unexpiring).count(kDynamoDbExpiresAtAttribute), 0u);
}

TEST_F(DynamoDbDocumentStoreTest, ClearExpiryRemovesExpiresAtFromEveryItemOfTheUserOnly) {
  DynamoDbDocumentOptions options = Options();
  options.retention = Retention("login=30", 365);
  options.page_limit = 4;  // the user's items span pages
  auto store = OpenMigrated(options);
  ASSERT_NE(store, nullptr);
  std::vector<Event> events;
  for (int i = 0; i < 9; ++i) events.push_back(factory_.Make("soon-held", kT0 + i, i % 2 == 0 ? "login" : "view"));
  for (int i = 0; i < 2; ++i) events.push_back(factory_.Make("other", kT0 + 10 + i, "login"));
  ASSERT_TRUE(store->WriteBatch(Pointers(events)).ok());
  ASSERT_EQ(ItemsWithExpiry("soon-held"), 9u);
  const std::vector<Doc> before = ScanUser(*store, "soon-held");

  Result<int64_t> cleared = store->ClearExpiry("soon-held");
  ASSERT_TRUE(cleared.ok()) << cleared.status().ToString();
  EXPECT_EQ(*cleared, 9);
  EXPECT_EQ(ItemsWithExpiry("soon-held"), 0u);
  EXPECT_EQ(ItemsWithExpiry("other"), 2u);
  EXPECT_EQ(ScanUser(*store, "soon-held"), before);  // nothing else changed
  const aws::Item raw = RawItem(events[0]);
  EXPECT_EQ(raw.size(), 6u);  // the six attributes of an item without OccurredAt

  Result<int64_t> again = store->ClearExpiry("soon-held");
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(*again, 0);
  Result<int64_t> nobody = store->ClearExpiry("nobody");
  ASSERT_TRUE(nobody.ok());
  EXPECT_EQ(*nobody, 0);
}

TEST_F(DynamoDbDocumentStoreTest, ClearExpiryNeverRecreatesAnItemDeletedMeanwhile) {
  // Between the Query and the UpdateItem, TTL (or an erasure) deletes the
  // item: the update must not bring back its bare key.
  DynamoDbDocumentOptions options = Options();
  options.retention = Retention("", 30);
  std::atomic<bool> deleted{false};
  const Event doomed = factory_.Make("racing-ttl", kT0);
  FakeHttpServer racing([&](const FakeRequest& request) {
    if (request.Header("x-amz-target") == "DynamoDB_20120810.UpdateItem" && !deleted.exchange(true)) {
      const aws::Item key = {{std::string(kDynamoDbUserIdAttribute), AttributeValue::S(doomed.user_id)},
                             {std::string(kDynamoDbSortKeyAttribute),
                              AttributeValue::S(DynamoDbSortKey(doomed.timestamp, doomed.event_id))}};
      EXPECT_TRUE(admin_->BatchDeleteItem(table_, std::span<const aws::Item>(&key, 1)).ok());
    }
    return Proxy(request);
  });
  auto store = OpenMigrated(Options(racing.url()));
  auto writer = Open(options);
  ASSERT_TRUE(store && writer);
  const Event* one[] = {&doomed};
  ASSERT_TRUE(writer->WriteBatch(one).ok());
  Result<int64_t> cleared = store->ClearExpiry("racing-ttl");
  ASSERT_TRUE(cleared.ok()) << cleared.status().ToString();
  EXPECT_EQ(*cleared, 0);
  EXPECT_TRUE(ScanUser(*store, "racing-ttl").empty());
}

TEST_F(DynamoDbDocumentStoreTest, MigrateWithRetentionSucceedsAgainstDynaliteWithoutTtl) {
  std::mutex mu;
  std::map<std::string, int> answers;  // "operation status"
  FakeHttpServer watcher([&](const FakeRequest& request) {
    FakeResponse response = Proxy(request);
    std::lock_guard lock(mu);
    ++answers[request.Header("x-amz-target") + " " + std::to_string(response.status)];
    return response;
  });
  DynamoDbDocumentOptions options = Options(watcher.url());
  options.retention = Retention("login=30", 0);
  auto store = Open(options);
  ASSERT_NE(store, nullptr);
  Status migrated = store->Migrate();
  EXPECT_TRUE(migrated.ok()) << migrated.ToString();
  migrated = store->Migrate();
  EXPECT_TRUE(migrated.ok()) << migrated.ToString();
  EXPECT_TRUE(store->CheckSchema().ok());
  // Each Migrate asked, and dynalite said it has no such operation.
  std::lock_guard lock(mu);
  EXPECT_EQ(answers["DynamoDB_20120810.DescribeTimeToLive 200"], 2);
  EXPECT_EQ(answers["DynamoDB_20120810.UpdateTimeToLive 400"], 2);
}

// DynamoDB's side of TTL, which dynalite lacks, played by a fake in front
// of dynalite: `ttl_status`/`ttl_attribute` are what DescribeTimeToLive
// answers; an UpdateTimeToLive sets them.
class TimeToLiveServer {
 public:
  TimeToLiveServer(std::function<FakeResponse(const FakeRequest&)> proxy, std::string status, std::string attribute)
      : status_(std::move(status)),
        attribute_(std::move(attribute)),
        server_([this, proxy = std::move(proxy)](const FakeRequest& request) { return Handle(request, proxy); }) {}

  std::string url() const { return server_.url(); }
  std::vector<std::string> updates() {
    std::lock_guard lock(mu_);
    return updates_;
  }
  int describes() {
    std::lock_guard lock(mu_);
    return describes_;
  }

 private:
  FakeResponse Handle(const FakeRequest& request, const std::function<FakeResponse(const FakeRequest&)>& proxy) {
    const std::string target = request.Header("x-amz-target");
    std::lock_guard lock(mu_);
    FakeResponse response;
    response.headers = {{"Content-Type", "application/x-amz-json-1.0"}};
    if (target == "DynamoDB_20120810.DescribeTimeToLive") {
      ++describes_;
      response.body = R"({"TimeToLiveDescription":{"TimeToLiveStatus":")" + status_ + "\"" +
                      (attribute_.empty() ? "" : R"(,"AttributeName":")" + attribute_ + "\"") + "}}";
      return response;
    }
    if (target == "DynamoDB_20120810.UpdateTimeToLive") {
      updates_.push_back(request.body);
      if (status_ != "DISABLED") {
        return eventlogger::testing::DynamoError(400, "ValidationException", "TimeToLive is already enabled");
      }
      rapidjson::Document body;
      body.Parse(request.body.data(), request.body.size());
      status_ = "ENABLING";
      attribute_ = body["TimeToLiveSpecification"]["AttributeName"].GetString();
      response.body = R"({"TimeToLiveSpecification":{"Enabled":true,"AttributeName":")" + attribute_ + "\"}}";
      return response;
    }
    return proxy(request);
  }

  std::mutex mu_;
  std::string status_, attribute_;
  std::vector<std::string> updates_;
  int describes_ = 0;
  FakeHttpServer server_;
};

TEST_F(DynamoDbDocumentStoreTest, MigrateEnablesTtlOnExpiresAtOnceWhereTheServerHasIt) {
  TimeToLiveServer server([this](const FakeRequest& r) { return Proxy(r); }, "DISABLED", "");
  DynamoDbDocumentOptions options = Options(server.url());
  options.retention = Retention("login=30", 0);
  auto store = Open(options);
  ASSERT_NE(store, nullptr);
  ASSERT_TRUE(store->Migrate().ok());
  ASSERT_EQ(server.updates().size(), 1u);
  rapidjson::Document update;
  update.Parse(server.updates()[0].data(), server.updates()[0].size());
  EXPECT_EQ(std::string(update["TableName"].GetString()), table_);
  EXPECT_TRUE(update["TimeToLiveSpecification"]["Enabled"].GetBool());
  EXPECT_EQ(std::string(update["TimeToLiveSpecification"]["AttributeName"].GetString()), "ExpiresAt");
  // Enabled (or enabling) already: nothing to do.
  ASSERT_TRUE(store->Migrate().ok());
  EXPECT_EQ(server.updates().size(), 1u);

  // Without retention, Migrate leaves TTL alone.
  TimeToLiveServer untouched([this](const FakeRequest& r) { return Proxy(r); }, "DISABLED", "");
  auto plain = Open(Options(untouched.url()));
  ASSERT_TRUE(plain->Migrate().ok());
  EXPECT_EQ(untouched.describes(), 0);
  EXPECT_TRUE(untouched.updates().empty());
}

TEST_F(DynamoDbDocumentStoreTest, MigrateRefusesTtlOnAnotherAttribute) {
  TimeToLiveServer server([this](const FakeRequest& r) { return Proxy(r); }, "ENABLED", "DeleteMe");
  DynamoDbDocumentOptions options = Options(server.url());
  options.retention = Retention("login=30", 0);
  auto store = Open(options);
  ASSERT_NE(store, nullptr);
  Status migrated = store->Migrate();
  EXPECT_EQ(migrated.code(), StatusCode::kFailedPrecondition) << migrated.ToString();
  EXPECT_NE(migrated.message().find("DeleteMe"), std::string::npos) << migrated.message();
  EXPECT_TRUE(server.updates().empty());
}

TEST_F(DynamoDbDocumentStoreTest, FindEventMisses) {
  auto store = OpenMigrated();
  const Event event = factory_.Make("finder", kT0);
  const Event* batch[] = {&event};
  ASSERT_TRUE(store->WriteBatch(batch).ok());
  EXPECT_TRUE(Find(*store, "finder", event.event_id).has_value());
  EXPECT_FALSE(Find(*store, "someone-else", event.event_id).has_value());
  const Event other = factory_.Make("finder", kT0 + 1);
  EXPECT_FALSE(Find(*store, "finder", other.event_id).has_value());
  EXPECT_FALSE(Find(*store, "finder", "not-a-uuid").has_value());
  EXPECT_FALSE(Find(*store, "finder", "8f1c0f7e-8a5b-4c1d-9e2f-0a1b2c3d4e5f").has_value());  // v4
  EXPECT_FALSE(Find(*store, "finder", "ffffffff-ffff-7fff-bfff-ffffffffffff").has_value());  // year > 9999
  EXPECT_FALSE(Find(*store, "", event.event_id).has_value());
  // Upper-case ids name the same event.
  std::string upper = event.event_id;
  std::transform(upper.begin(), upper.end(), upper.begin(), [](unsigned char c) { return std::toupper(c); });
  EXPECT_EQ(Find(*store, "finder", upper), FromEvent(event));
}

TEST_F(DynamoDbDocumentStoreTest, ScanWithFilters) {
  DynamoDbDocumentOptions options = Options();
  options.page_limit = 4;
  auto store = OpenMigrated(options);
  // Made in time order: the UUIDv7 generator never goes back in time.
  std::vector<Event> events;
  for (int i = 0; i < 10; ++i) {
    events.push_back(factory_.Make("alice", kT0 + i * kHour));
    if (i < 5) events.push_back(factory_.Make("bob", kT0 + i * kHour));
    if (i < 3) events.push_back(factory_.Make("alice-2", kT0 + i * kHour));  // prefix trap
  }
  ASSERT_TRUE(store->WriteBatch(Pointers(events)).ok());
  auto expect = [&events](const std::string& user, int64_t since, int64_t until) {
    std::vector<Doc> docs;
    for (const Event& e : events) {
      if ((user.empty() || e.user_id == user) && e.unix_millis >= since && e.unix_millis < until) {
        docs.push_back(FromEvent(e));
      }
    }
    std::sort(docs.begin(), docs.end());
    return docs;
  };
  const std::string t3 = FormatTimestamp(kT0 + 3 * kHour), t5 = FormatTimestamp(kT0 + 5 * kHour),
                    t6 = FormatTimestamp(kT0 + 6 * kHour);
  constexpr int64_t kAll = int64_t{1} << 60;
  EXPECT_EQ(ScanSorted(*store, {"alice", "", ""}), expect("alice", 0, kAll));
  EXPECT_EQ(ScanSorted(*store, {"alice", t3, ""}), expect("alice", kT0 + 3 * kHour, kAll));
  EXPECT_EQ(ScanSorted(*store, {"alice", "", t3}), expect("alice", 0, kT0 + 3 * kHour));
  EXPECT_EQ(ScanSorted(*store, {"alice", t3, t6}), expect("alice", kT0 + 3 * kHour, kT0 + 6 * kHour));
  EXPECT_EQ(ScanSorted(*store, {"", t3, t5}), expect("", kT0 + 3 * kHour, kT0 + 5 * kHour));
  EXPECT_EQ(ScanSorted(*store, {"", t5, ""}), expect("", kT0 + 5 * kHour, kAll));
  EXPECT_EQ(ScanSorted(*store, {}).size(), 18u);
  EXPECT_TRUE(ScanSorted(*store, {"alice", t6, t3}).empty());
  EXPECT_TRUE(ScanSorted(*store, {"nobody", "", ""}).empty());
  // Bounds are exact: an event at `until` is out, one at `since` is in.
  EXPECT_EQ(ScanSorted(*store, {"bob", t3, FormatTimestamp(kT0 + 4 * kHour)}).size(), 1u);

  int visited = 0;
  ASSERT_TRUE(store->Scan({}, [&visited](const DocumentView&) { return ++visited < 6; }).ok());
  EXPECT_EQ(visited, 6);
}

TEST_F(DynamoDbDocumentStoreTest, RewritingEventsIsIdempotent) {
  auto store = OpenMigrated();
  std::vector<Event> events;
  for (int i = 0; i < 30; ++i) events.push_back(factory_.Make("replayer", kT0 + i, "click", "{\"n\":1}"));
  ASSERT_TRUE(store->WriteBatch(Pointers(events)).ok());
  // Replayed, partly twice within one batch (same key twice in one
  // BatchWriteItem would be refused by DynamoDB).
  std::vector<const Event*> replay = Pointers(events);
  replay.push_back(&events[0]);
  replay.push_back(&events[29]);
  ASSERT_TRUE(store->WriteBatch(replay).ok());
  std::vector<Doc> expected;
  for (const Event& e : events) expected.push_back(FromEvent(e));
  EXPECT_EQ(ScanUser(*store, "replayer"), expected);
}

TEST_F(DynamoDbDocumentStoreTest, NonAsciiUserIdsAndPayloads) {
  auto store = OpenMigrated();
  // UTF-8 spelled out in bytes: "Zoë-日本-🎲" and a payload with é, 日本,
  // an emoji, escapes and a raw quote pair.
  const std::string user = "Zo\xC3\xAB-\xE6\x97\xA5\xE6\x9C\xAC-\xF0\x9F\x8E\xB2";
  const std::string payload =
      "{\"caf\xC3\xA9\":\"\xE6\x97\xA5\xE6\x9C\xAC \xF0\x9F\x8E\xB2\",\"esc\":\"\\u00e9\\\"\\\\\\n\",\"n\":[1,2.5,null,true]}";
  std::vector<Event> events = {factory_.Make(user, kT0, "bet", payload), factory_.Make(user, kT0 + 1, "win", "{}"),
                               factory_.Make("Zo\xC3\xAB", kT0 + 1, "bet", payload)};
  ASSERT_TRUE(store->WriteBatch(Pointers(events)).ok());
  EXPECT_EQ(ScanUser(*store, user), (std::vector<Doc>{FromEvent(events[0]), FromEvent(events[1])}));
  EXPECT_EQ(Find(*store, user, events[0].event_id), FromEvent(events[0]));
  EXPECT_EQ(ScanSorted(*store, {user, events[0].timestamp, ""}).size(), 2u);
  EXPECT_EQ(ScanUser(*store, "Zo\xC3\xAB"), std::vector<Doc>{FromEvent(events[2])});
}

TEST_F(DynamoDbDocumentStoreTest, ItemAtTheComputedLimitIsAcceptedOneByteOverIsRefusedByOurCheck) {
  // The fixed part counts an OccurredAt (34 bytes) and the widest ExpiresAt
  // (9 + 7 bytes) whether or not an event has them, so the events below
  // carry both and meet the limit exactly: an ExpiresAt of 12 digits, from
  // a timestamp in the 83rd century and a retention of ten years.
  DynamoDbDocumentOptions options = Options();
  const std::shared_ptr<const RetentionPolicy> retention = Retention("", kMaxRetentionDays);
  options.retention = retention;
  auto store = OpenMigrated(options);
  ASSERT_NE(store, nullptr);
  const size_t limit = store->MaxDocumentBytes();
  EXPECT_EQ(limit, 400u * 1024 - 220);
  const auto expires_at = [&retention](const Event& e) {
    const int64_t seconds = DynamoDbExpiresAtSeconds(*retention->ExpiryMillisOf(e.event_type, e.unix_millis));
    EXPECT_EQ(std::to_string(seconds).size(), 12u);
    EXPECT_NE(seconds % 100, 0);  // a trailing pair of zeros would be stored in a byte less
    return seconds;
  };
  // What the service checks before any write (and answers 413 for).
  auto document_bytes = [](const Event& e) { return e.user_id.size() + e.event_type.size() + e.details_json.size(); };
  auto details = [](size_t bytes) { return "{\"p\":\"" + std::string(bytes - 8, 'x') + "\"}"; };
  // Once with the shortest userId and eventType, once with the longest: the
  // limit is exact either way.
  for (const auto& [user, type] : std::vector<std::pair<std::string, std::string>>{
           {"u", "t"}, {std::string(kMaxUserIdBytes, 'u'), std::string(kMaxEventTypeLength, 't')}}) {
    SCOPED_TRACE(user.size());
    const int64_t when = 200000000001123 + static_cast<int64_t>(user.size()) * 10;  // year 8307
    Event at_limit = factory_.Make(user, when, type, details(limit - user.size() - type.size()));
    at_limit.occurred_at = "2025-01-01T00:00:00.000Z";
    ASSERT_EQ(document_bytes(at_limit), limit);
    EXPECT_EQ(DynamoDbItemBytes(at_limit, expires_at(at_limit)), 400u * 1024);
    const Event* batch[] = {&at_limit};
    Status written = store->WriteBatch(batch);
    ASSERT_TRUE(written.ok()) << written.ToString();
    EXPECT_EQ(Find(*store, user, at_limit.event_id), FromEvent(at_limit));

    Event over = factory_.Make(user, when + 1, type, details(limit - user.size() - type.size() + 1));
    over.occurred_at = "2025-01-01T00:00:00.000Z";
    EXPECT_EQ(document_bytes(over), limit + 1);
    EXPECT_EQ(DynamoDbItemBytes(over, expires_at(over)), 400u * 1024 + 1);
    const Event* too_big[] = {&over};
    Status refused = store->WriteBatch(too_big);
    EXPECT_EQ(refused.code(), StatusCode::kInvalidArgument) << refused.ToString();
    EXPECT_EQ(refused.message().find("xxxx"), std::string::npos);  // no payload in messages
    EXPECT_FALSE(Find(*store, user, over.event_id).has_value());
    // Our count is DynamoDB's (dynalite's): the same item sent without our
    // check is refused by the server too.
    Status direct = admin_->PutItem({table_, DynamoDbItemForEvent(over, expires_at(over)), "", {}});
    EXPECT_EQ(direct.code(), StatusCode::kInvalidArgument) << direct.ToString();
    EXPECT_NE(direct.message().find("size"), std::string::npos) << direct.message();
  }
}

TEST_F(DynamoDbDocumentStoreTest, RecoversAfterDynaliteRestarts) {
  auto store = OpenMigrated();
  ASSERT_NE(store, nullptr);
  RestartAndContinue(*store);
}

TEST_F(DynamoDbDocumentStoreTest, RecoversAfterDynaliteRestartsWithoutIdleProbe) {
  // Without the idle probe every pooled connection fails on first use; the
  // HTTP client's one resend on a fresh connection must hide that.
  DynamoDbDocumentOptions options = Options();
  options.http.probe_before_reuse = false;
  auto store = OpenMigrated(options);
  ASSERT_NE(store, nullptr);
  RestartAndContinue(*store);
}

TEST_F(DynamoDbDocumentStoreTest, Boto3SeesExactlyTheDocumentedItemFormat) {
  auto store = OpenMigrated();
  const std::string user = "Zo\xC3\xAB-\xE6\x97\xA5\xE6\x9C\xAC-\xF0\x9F\x8E\xB2";
  std::vector<Event> events = {
      factory_.Make("12345", kT0, "bet", "{\"ip\":\"192.168.1.1\",\"device\":\"Chrome\"}"),
      factory_.Make(user, kT0 + 1, "login", "{\"caf\xC3\xA9\":\"\\u00e9\\\"\",\"n\":[1,null]}")};
  ASSERT_TRUE(store->WriteBatch(Pointers(events)).ok());

  const std::string script = std::string(EVENTLOGGER_TEST_DATA_DIR) + "/aws/dynamodb_items.py";
  std::string output, error;
  const int exit_code = eventlogger::testing::RunCommand(
      "/usr/bin/python3 " + script + " '" + endpoint_ + "' eu-west-1 '" + table_ + "' dump", &output, &error);
  ASSERT_EQ(exit_code, 0) << "boto3 reader failed (exit " << exit_code << "): " << error;

  rapidjson::Document dump;
  dump.Parse(output.data(), output.size());
  ASSERT_FALSE(dump.HasParseError()) << output;
  const rapidjson::Value& items = dump["Items"];
  ASSERT_EQ(items.Size(), 2u);
  // boto3 sorts by (UserId, SortKey): "12345" < "Zoë…".
  for (rapidjson::SizeType i = 0; i < items.Size(); ++i) {
    const Event& e = events[i];
    const std::map<std::string, std::string> expected = {
        {"UserId", e.user_id},       {"SortKey", e.timestamp + "#" + e.event_id},
        {"EventId", e.event_id},     {"EventType", e.event_type},
        {"Timestamp", e.timestamp},  {"JsonPayload", e.details_json}};
    std::map<std::string, std::string> actual;
    for (const auto& member : items[i].GetObject()) {
      const std::string name(member.name.GetString(), member.name.GetStringLength());
      ASSERT_TRUE(member.value.IsObject() && member.value.MemberCount() == 1) << name;
      const auto& typed = *member.value.MemberBegin();
      EXPECT_EQ(std::string(typed.name.GetString()), "S") << name << " must be a string attribute";
      actual[name] = std::string(typed.value.GetString(), typed.value.GetStringLength());
    }
    EXPECT_EQ(actual, expected);
  }
}

TEST_F(DynamoDbDocumentStoreTest, ReadsItemsWrittenByBoto3AndRefusesMalformedOnes) {
  auto store = OpenMigrated();
  const Event event = factory_.Make("from-boto3", kT0, "import", "{\"source\":\"python\"}");
  const std::string item_json = "{\"UserId\":{\"S\":\"from-boto3\"},\"SortKey\":{\"S\":\"" + event.timestamp + "#" +
                                event.event_id + "\"},\"EventId\":{\"S\":\"" + event.event_id +
                                "\"},\"EventType\":{\"S\":\"import\"},\"Timestamp\":{\"S\":\"" + event.timestamp +
                                "\"},\"JsonPayload\":{\"S\":\"{\\\"source\\\":\\\"python\\\"}\"}}";
  eventlogger::testing::TempDir dir;
  {
    std::ofstream out(dir.File("item.json"));
    out << item_json;
  }
  const std::string script = std::string(EVENTLOGGER_TEST_DATA_DIR) + "/aws/dynamodb_items.py";
  std::string output, error;
  ASSERT_EQ(eventlogger::testing::RunCommand("/usr/bin/python3 " + script + " '" + endpoint_ + "' eu-west-1 '" +
                                                 table_ + "' put < " + dir.File("item.json"),
                                             &output, &error),
            0)
      << error;
  EXPECT_EQ(Find(*store, "from-boto3", event.event_id), FromEvent(event));
  EXPECT_EQ(ScanUser(*store, "from-boto3"), std::vector<Doc>{FromEvent(event)});

  // An item missing an attribute is reported, not half-read.
  aws::Item broken = DynamoDbItemForEvent(factory_.Make("broken", kT0));
  broken.erase(std::string(kDynamoDbPayloadAttribute));
  ASSERT_TRUE(admin_->PutItem({table_, broken, "", {}}).ok());
  EXPECT_EQ(store->ScanUser("broken", [](const DocumentView&) { return true; }).code(), StatusCode::kInternal);
}

// --- No server needed -------------------------------------------------------

TEST(DynamoDbDocumentUrlTest, ParsesTableRegionAndEndpoint) {
  Result<DynamoDbDocumentOptions> full =
      ParseDynamoDbDocumentUrl("dynamodb://Events.v1_prod-2?region=eu-west-1&endpoint=http://127.0.0.1:8000");
  ASSERT_TRUE(full.ok()) << full.status().ToString();
  EXPECT_EQ(full->table, "Events.v1_prod-2");
  EXPECT_EQ(full->region, "eu-west-1");
  EXPECT_EQ(full->endpoint, "http://127.0.0.1:8000");

  Result<DynamoDbDocumentOptions> escaped =
      ParseDynamoDbDocumentUrl("dynamodb://events?endpoint=https%3A%2F%2Fdynamodb.local%3A8443%2F");
  ASSERT_TRUE(escaped.ok()) << escaped.status().ToString();
  EXPECT_EQ(escaped->endpoint, "https://dynamodb.local:8443");
  EXPECT_EQ(escaped->region, "");

  Result<DynamoDbDocumentOptions> bare = ParseDynamoDbDocumentUrl("dynamodb://events");
  ASSERT_TRUE(bare.ok());
  EXPECT_EQ(bare->endpoint, "");
}

TEST(DynamoDbDocumentUrlTest, RefusesMalformedUrls) {
  for (const char* bad : {"rocksdb:///tmp/x", "dynamodb://", "dynamodb://ab", "dynamodb://bad/name",
                          "dynamodb://events?region=EU_WEST", "dynamodb://events?region=a&region=b",
                          "dynamodb://events?endpoint=ftp://x", "dynamodb://events?endpoint=http://h/path",
                          "dynamodb://events?colour=blue", "dynamodb://events?endpoint=%zz"}) {
    EXPECT_EQ(ParseDynamoDbDocumentUrl(bad).status().code(), StatusCode::kInvalidArgument) << bad;
  }
}

TEST(DynamoDbItemFormatTest, SizesAreExact) {
  // The fixed part counts OccurredAt (10 + 24 bytes) and ExpiresAt at its
  // widest (9 + 7) whether or not an event has them, so the 413 bound holds
  // for every event.
  EXPECT_EQ(DynamoDbFixedItemBytes(), 220u);
  EXPECT_EQ(DynamoDbMaxDocumentBytes(), 409600u - 220);
  EventFactory factory;
  for (const auto& [user, type, details] :
       std::vector<std::tuple<std::string, std::string, std::string>>{
           {"1", "a", "{}"},
           {"Zo\xC3\xAB-\xF0\x9F\x8E\xB2", "bet", "{\"k\":\"\xE6\x97\xA5\"}"},
           {std::string(128, 'u'), std::string(64, 't'), std::string(1000, ' ')}}) {
    Event event = factory.Make(user, kT0, type, details);
    const aws::Item item = DynamoDbItemForEvent(event);
    EXPECT_EQ(DynamoDbItemBytes(event), aws::ItemSizeBytes(item));
    EXPECT_EQ(DynamoDbItemBytes(event),
              DynamoDbFixedItemBytes() - 34 - 16 + user.size() + type.size() + details.size());
    EXPECT_EQ(item.at("SortKey").value, event.timestamp + "#" + event.event_id);
    EXPECT_EQ(item.size(), 6u);
    event.occurred_at = "2025-06-29T14:30:00.000Z";
    const aws::Item with_occurred_at = DynamoDbItemForEvent(event);
    EXPECT_EQ(DynamoDbItemBytes(event), aws::ItemSizeBytes(with_occurred_at));
    EXPECT_EQ(DynamoDbItemBytes(event),
              DynamoDbFixedItemBytes() - 16 + user.size() + type.size() + details.size());
    EXPECT_EQ(with_occurred_at.at("OccurredAt").value, event.occurred_at);
    EXPECT_EQ(with_occurred_at.size(), 7u);
    // ExpiresAt in 2026: 10 digits, 5 base-100 digits and a byte.
    const aws::Item expiring = DynamoDbItemForEvent(event, 1782743567);
    EXPECT_EQ(expiring.at("ExpiresAt"), AttributeValue::N("1782743567"));
    EXPECT_EQ(expiring.size(), 8u);
    EXPECT_EQ(DynamoDbItemBytes(event, 1782743567), aws::ItemSizeBytes(expiring));
    EXPECT_EQ(DynamoDbItemBytes(event, 1782743567),
              DynamoDbFixedItemBytes() - 1 + user.size() + type.size() + details.size());
    // 12 digits: the widest.
    EXPECT_EQ(DynamoDbItemBytes(event, 200315619202),
              DynamoDbFixedItemBytes() + user.size() + type.size() + details.size());
  }
}

TEST(DynamoDbItemFormatTest, ExpiresAtIsInSecondsRoundedUp) {
  EXPECT_EQ(DynamoDbExpiresAtSeconds(1782743567000), 1782743567);
  EXPECT_EQ(DynamoDbExpiresAtSeconds(1782743567001), 1782743568);
  EXPECT_EQ(DynamoDbExpiresAtSeconds(1782743567999), 1782743568);
}

TEST(DynamoDbOpenTest, UnreachableEndpointIsUnavailableNotACrash) {
  DynamoDbDocumentOptions options;
  options.table = "events";
  options.region = "eu-west-1";
  options.endpoint = "http://127.0.0.1:1";
  options.credentials = {"AKID", "secret", ""};
  options.retry.max_attempts = 2;
  options.sleep = [](std::chrono::milliseconds) {};
  Result<std::unique_ptr<DocumentStore>> store = OpenDynamoDbDocumentStore(options);
  ASSERT_TRUE(store.ok()) << store.status().ToString();  // opening contacts nothing
  EXPECT_EQ((*store)->Ping().code(), StatusCode::kUnavailable);
  EXPECT_EQ((*store)->CheckSchema().code(), StatusCode::kUnavailable);
  Event event = EventFactory().Make("u", kT0);
  const Event* batch[] = {&event};
  EXPECT_EQ((*store)->WriteBatch(batch).code(), StatusCode::kUnavailable);
  EXPECT_EQ((*store)->MaxDocumentBytes(), DynamoDbMaxDocumentBytes());
}

}  // namespace
}  // namespace eventlogger
