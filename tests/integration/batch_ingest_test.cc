// POST /events/batch end to end: real server, loopback sockets, every
// backend. Per-item results, the overall status, limits, idempotency keys
// in batches, and a store failing under a batch.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <rapidjson/document.h>

#include <set>
#include <string>
#include <vector>

#include "integration/faulty_stores.h"
#include "integration/service_fixture.h"
#include "integration/test_client.h"

namespace eventlogger::testing {
namespace {

using ::testing::HasSubstr;

rapidjson::Document ParseJson(const std::string& text) {
  rapidjson::Document document;
  document.Parse(text.c_str(), text.size());
  EXPECT_FALSE(document.HasParseError()) << text;
  return document;
}

std::string Item(const std::string& user, const std::string& type, const std::string& details,
                 const std::string& key = "") {
  std::string item = R"({"userId":")" + user + R"(","eventType":")" + type + R"(","jsonDetails":)" + details;
  if (!key.empty()) item += R"(,"idempotencyKey":")" + key + "\"";
  return item + "}";
}

std::string Batch(const std::vector<std::string>& items) {
  std::string body = R"({"events":[)";
  for (size_t i = 0; i < items.size(); ++i) body += (i > 0 ? "," : "") + items[i];
  return body + "]}";
}

TestResponse PostBatch(TestClient& client, const std::string& body) {
  return client.Send("POST", "/events/batch", body, {{"Content-Type", "application/json"}});
}

std::vector<int> Statuses(const rapidjson::Document& answer) {
  std::vector<int> statuses;
  for (const auto& result : answer["results"].GetArray()) statuses.push_back(result["status"].GetInt());
  return statuses;
}

class BatchIngestTest : public ServiceFixture {
 protected:
  void Configure(ServiceOptions& options) override {
    options.handlers.max_batch_events = 50;
    options.handlers.max_batch_bytes = 256 * 1024;  // above the 64 KiB single-request limit
    options.retry.poll_interval = std::chrono::milliseconds(20);
    options.retry.policy.base = std::chrono::milliseconds(20);
    options.retry.policy.cap = std::chrono::milliseconds(100);
    options.writer.first_retry_delay = std::chrono::milliseconds(20);
    options.handlers.store_timeout = std::chrono::milliseconds(2'000);
  }
  void TearDown() override {
    document_fault_.Set(Fault::Mode::kPass);
    ServiceFixture::TearDown();
  }

  Fault document_fault_;
};

TEST_F(BatchIngestTest, AllStoredIs200WithOneResultPerItemInOrder) {
  TestClient client(port_);
  const TestResponse response = PostBatch(
      client, Batch({Item("batch-a", "view", R"({"i":0})"), Item("batch-b", "click", R"({"i":1})"),
                     Item("batch-a", "view", R"({"i":2,"big":12345678901234567890})")}));
  ASSERT_EQ(response.status, 200) << response.body;
  EXPECT_EQ(response.Header("content-type"), "application/json");
  const rapidjson::Document answer = ParseJson(response.body);
  ASSERT_EQ(answer["results"].Size(), 3u);
  std::vector<std::string> ids;
  for (rapidjson::SizeType i = 0; i < 3; ++i) {
    const auto& result = answer["results"][i];
    EXPECT_EQ(result["index"].GetInt(), static_cast<int>(i));
    EXPECT_EQ(result["status"].GetInt(), 201);
    EXPECT_TRUE(result["sqlSuccess"].GetBool());
    EXPECT_TRUE(result["dynamoSuccess"].GetBool());
    EXPECT_FALSE(result["retryQueued"].GetBool());
    EXPECT_FALSE(result.HasMember("error"));
    ids.push_back(result["eventId"].GetString());
  }
  // Server-assigned UUIDv7s, ascending in request order.
  EXPECT_LT(ids[0], ids[1]);
  EXPECT_LT(ids[1], ids[2]);

  const rapidjson::Document events = ParseJson(client.Get("/events/batch-a").body);
  ASSERT_EQ(events.Size(), 2u);
  EXPECT_EQ(std::string(events[0]["eventId"].GetString()), ids[0]);
  EXPECT_EQ(std::string(events[1]["eventId"].GetString()), ids[2]);
  EXPECT_THAT(client.Get("/events/batch-a/" + ids[2]).body, HasSubstr(R"("big":12345678901234567890)"));
  EXPECT_EQ(client.Get("/events/batch-b/" + ids[1]).status, 200);

  StopService();
  std::set<std::string> metadata_ids, document_ids;
  for (const MetadataRow& row : MetadataRows()) metadata_ids.insert(row.event_id);
  for (const DocumentRow& row : DocumentRows()) document_ids.insert(row.event_id);
  EXPECT_EQ(metadata_ids, std::set<std::string>(ids.begin(), ids.end()));
  EXPECT_EQ(document_ids, metadata_ids);
}

TEST_F(BatchIngestTest, AMixedBatchIs207AndOnlyTheBadItemsFail) {
  TestClient client(port_);
  const TestResponse response = PostBatch(
      client, Batch({Item("mixed", "ok", "{}"), R"({"eventType":"t","jsonDetails":{}})", Item("mixed", "bad type", "{}"),
                     "42", Item("mixed", "ok", "[1]"), Item("mixed", "ok", R"({"last":true})")}));
  ASSERT_EQ(response.status, 207) << response.body;
  const rapidjson::Document answer = ParseJson(response.body);
  EXPECT_EQ(Statuses(answer), (std::vector<int>{201, 400, 400, 400, 400, 201}));
  const auto& missing = answer["results"][1];
  EXPECT_FALSE(missing.HasMember("eventId"));
  EXPECT_STREQ(missing["error"]["type"].GetString(), "/problems/validation-error");
  EXPECT_STREQ(missing["error"]["errors"][0]["field"].GetString(), "userId");
  EXPECT_STREQ(answer["results"][2]["error"]["errors"][0]["field"].GetString(), "eventType");
  EXPECT_STREQ(answer["results"][4]["error"]["errors"][0]["field"].GetString(), "jsonDetails");
  const rapidjson::Document events = ParseJson(client.Get("/events/mixed").body);
  ASSERT_EQ(events.Size(), 2u);
  EXPECT_STREQ(events[0]["eventId"].GetString(), answer["results"][0]["eventId"].GetString());
  EXPECT_STREQ(events[1]["eventId"].GetString(), answer["results"][5]["eventId"].GetString());
}

TEST_F(BatchIngestTest, ABatchOfOnlyBadItemsStoresNothingAndSaysWhyPerItem) {
  TestClient client(port_);
  const TestResponse response = PostBatch(client, Batch({"null", Item("", "t", "{}")}));
  ASSERT_EQ(response.status, 207) << response.body;
  EXPECT_EQ(Statuses(ParseJson(response.body)), (std::vector<int>{400, 400}));
}

TEST_F(BatchIngestTest, AWrongEnvelopeIs400AndLimitsAre413) {
  TestClient client(port_);
  for (const std::string& body : {std::string("{"), std::string("[]"), std::string(R"({"events":[]})"),
                                  std::string(R"({"events":{}})"), std::string(R"({"evnts":[{}]})")}) {
    const TestResponse response = PostBatch(client, body);
    EXPECT_EQ(response.status, 400) << body << "\n" << response.body;
    EXPECT_EQ(response.Header("content-type"), "application/problem+json");
  }
  std::vector<std::string> many(51, Item("limits", "t", "{}"));
  const TestResponse too_many = PostBatch(client, Batch(many));
  EXPECT_EQ(too_many.status, 413) << too_many.body;
  EXPECT_THAT(too_many.body, HasSubstr("more than 50"));
  many.pop_back();
  EXPECT_EQ(PostBatch(client, Batch(many)).status, 200);

  // Above the 64 KiB limit of other requests, within the batch's own.
  const std::string filler(3000, 'x');
  std::vector<std::string> large(40, Item("limits", "t", R"({"f":")" + filler + "\"}"));
  const TestResponse within = PostBatch(client, Batch(large));
  EXPECT_EQ(within.status, 200) << within.body.substr(0, 300);
  // The same body to POST /events is held to 64 KiB.
  TestClient other(port_);
  EXPECT_EQ(other.PostEvent(Batch(large)).status, 413);

  std::vector<std::string> huge(45, Item("limits", "t", R"({"f":")" + std::string(6000, 'x') + "\"}"));
  TestClient third(port_);
  const TestResponse over = PostBatch(third, Batch(huge));
  EXPECT_EQ(over.status, 413);
  EXPECT_THAT(over.body, HasSubstr(std::to_string(256 * 1024)));

  TestClient fourth(port_);
  const TestResponse text = fourth.Send("POST", "/events/batch", Batch({Item("limits", "t", "{}")}),
                                        {{"Content-Type", "text/plain"}});
  EXPECT_EQ(text.status, 415);
  EXPECT_EQ(ParseJson(fourth.Get("/events/limits").body).Size(), 50u + 40u);
}

// A chunked body has no Content-Length to refuse up front: it is held to
// the batch limit as it arrives.
TEST_F(BatchIngestTest, ChunkedBatchesAreHeldToTheBatchLimit) {
  const std::string filler(3000, 'y');
  TestClient within(port_);
  within.WriteRaw(ChunkedPost("/events/batch", Batch(std::vector<std::string>(40, Item("chunked", "t", R"({"f":")" + filler + "\"}")))));
  EXPECT_EQ(within.ReadResponse().status, 200);

  TestClient over(port_);
  try {
    over.WriteRaw(ChunkedPost("/events/batch", Batch(std::vector<std::string>(50, Item("chunked", "t", R"({"f":")" + std::string(6000, 'y') + "\"}")))));
  } catch (const std::exception&) {
    // The server may close before reading everything; the response still counts.
  }
  EXPECT_EQ(over.ReadResponse().status, 413);
  EXPECT_EQ(ParseJson(HttpRequest(port_, "GET", "/events/chunked").body).Size(), 40u);
}

TEST_F(BatchIngestTest, ItemKeysReplayAsTheIdempotencyKeyHeaderDoes) {
  TestClient client(port_);
  const std::string body =
      Batch({Item("keys", "t", R"({"n":1})", "k-1"), Item("keys", "t", R"({"n":2})", "k-2"), Item("keys", "t", "{}")});
  const rapidjson::Document first = ParseJson(PostBatch(client, body).body);
  ASSERT_EQ(Statuses(first), (std::vector<int>{201, 201, 201}));
  const TestResponse again = PostBatch(client, body);
  ASSERT_EQ(again.status, 200) << again.body;
  const rapidjson::Document second = ParseJson(again.body);
  EXPECT_EQ(Statuses(second), (std::vector<int>{201, 201, 201}));
  // Keyed items name their first event; the unkeyed one is a new event.
  EXPECT_STREQ(second["results"][0]["eventId"].GetString(), first["results"][0]["eventId"].GetString());
  EXPECT_STREQ(second["results"][1]["eventId"].GetString(), first["results"][1]["eventId"].GetString());
  EXPECT_TRUE(second["results"][0]["idempotentReplayed"].GetBool());
  EXPECT_STRNE(second["results"][2]["eventId"].GetString(), first["results"][2]["eventId"].GetString());
  EXPECT_FALSE(second["results"][2].HasMember("idempotentReplayed"));

  // A key reused with another event fails that item only; a key repeated
  // within one batch names one event; a key of the header is the same key.
  const TestResponse header = client.PostEvent(R"({"userId":"keys","eventType":"t","jsonDetails":{"h":1}})",
                                               {{"Idempotency-Key", "k-h"}});
  ASSERT_EQ(header.status, 201);
  const TestResponse mixed = PostBatch(
      client, Batch({Item("keys", "t", R"({"n":9})", "k-1"), Item("keys", "t", R"({"n":3})", "k-3"),
                     Item("keys", "t", R"({"n":3})", "k-3"), Item("keys", "t", R"({"n":4})", "k-3"),
                     Item("keys", "t", R"({"h":1})", "k-h"), Item("other-user", "t", R"({"n":1})", "k-1"),
                     Item("keys", "t", "{}", std::string(300, 'k'))}));
  ASSERT_EQ(mixed.status, 207) << mixed.body;
  const rapidjson::Document results = ParseJson(mixed.body);
  EXPECT_EQ(Statuses(results), (std::vector<int>{422, 201, 201, 422, 201, 201, 400}));
  EXPECT_STREQ(results["results"][0]["error"]["type"].GetString(), "/problems/idempotency-key-mismatch");
  EXPECT_STREQ(results["results"][2]["eventId"].GetString(), results["results"][1]["eventId"].GetString());
  EXPECT_TRUE(results["results"][2]["idempotentReplayed"].GetBool());
  EXPECT_STREQ(results["results"][4]["eventId"].GetString(), ParseJson(header.body)["eventId"].GetString());
  EXPECT_STREQ(results["results"][6]["error"]["errors"][0]["field"].GetString(), "idempotencyKey");
  // 2 + 1 from the first two batches, the header's, and k-3 once.
  EXPECT_EQ(ParseJson(client.Get("/events/keys").body).Size(), 6u);
}

TEST_F(BatchIngestTest, AUserNamedBatchKeepsItsListAndOtherMethodsAre405) {
  TestClient client(port_);
  ASSERT_EQ(client.PostEvent(R"({"userId":"batch","eventType":"t","jsonDetails":{}})").status, 201);
  EXPECT_EQ(ParseJson(client.Get("/events/batch").body).Size(), 1u);
  const TestResponse put = client.Send("PUT", "/events/batch", "{}", {{"Content-Type", "application/json"}});
  EXPECT_EQ(put.status, 405);
  EXPECT_EQ(put.Header("allow"), "GET, POST");
}

TEST_F(BatchIngestTest, ADocumentStoreFailureQueuesEveryItemAs202AndTheyAllArrive) {
  RestartWithFaultyDocumentStore(document_fault_);
  document_fault_.Set(Fault::Mode::kFail);
  TestClient client(port_);
  std::vector<std::string> items;
  for (int i = 0; i < 10; ++i) items.push_back(Item("queued-batch", "t", "{\"i\":" + std::to_string(i) + "}"));
  const TestResponse response = PostBatch(client, Batch(items));
  ASSERT_EQ(response.status, 200) << response.body;  // queued is stored: the outbox has each one
  const rapidjson::Document answer = ParseJson(response.body);
  for (const auto& result : answer["results"].GetArray()) {
    EXPECT_EQ(result["status"].GetInt(), 202);
    EXPECT_TRUE(result["sqlSuccess"].GetBool());
    EXPECT_FALSE(result["dynamoSuccess"].GetBool());
    EXPECT_TRUE(result["retryQueued"].GetBool());
  }
  document_fault_.Set(Fault::Mode::kPass);
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  size_t seen = 0;
  while (std::chrono::steady_clock::now() < deadline) {
    seen = ParseJson(client.Get("/events/queued-batch").body).Size();
    if (seen == 10) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  EXPECT_EQ(seen, 10u);
}

}  // namespace
}  // namespace eventlogger::testing
