// Tests for DynamoDbClient against dynalite, directly and through a
// FakeHttpServer that injects faults in front of it: throttling, server
// errors, dropped connections, timeouts, corrupted checksums and
// UnprocessedItems. Sleeps are injected (recorded, not slept) so retry
// tests take no time and the backoff schedule can be checked exactly.
//
// Needs EVENTLOGGER_TEST_DYNAMODB_ENDPOINT (tests/support/test-servers.sh);
// fails without it.
#include "aws/dynamodb_client.h"

#include <gtest/gtest.h>
#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <map>
#include <mutex>
#include <vector>

#include "aws/dynalite_support.h"
#include "aws/fake_http_server.h"

namespace eventlogger::aws {
namespace {

using eventlogger::testing::DynamoError;
using eventlogger::testing::FakeHttpServer;
using eventlogger::testing::FakeRequest;
using eventlogger::testing::FakeResponse;

class DynamoDbClientTest : public ::testing::Test {
 protected:
  void SetUp() override {
    endpoint_ = eventlogger::testing::DynaliteEndpoint();
    ASSERT_FALSE(endpoint_.empty());
    table_ = eventlogger::testing::UniqueTableName("client");
    direct_ = eventlogger::testing::MakeDynamoClient(endpoint_);
    ASSERT_NE(direct_, nullptr);
    CreateTableRequest create;
    create.table_name = table_;
    create.attribute_definitions = {{"pk", "S"}, {"sk", "S"}};
    create.key_schema = {{"pk", KeyType::kHash}, {"sk", KeyType::kRange}};
    ASSERT_TRUE(direct_->CreateTable(create).ok());
    Result<std::unique_ptr<HttpClient>> http = HttpClient::Create();
    ASSERT_TRUE(http.ok());
    proxy_http_ = std::move(http).value();
  }

  void TearDown() override {
    if (direct_) (void)direct_->DeleteTable(table_);
  }

  // A client whose sleeps are recorded in sleeps_ instead of slept.
  std::unique_ptr<DynamoDbClient> ClientFor(const std::string& endpoint, RetryOptions retry = {},
                                            HttpClientOptions http = {}) {
    DynamoDbClientOptions options;
    options.retry = retry;
    options.http = http;
    options.sleep = [this](std::chrono::milliseconds d) {
      std::lock_guard lock(mu_);
      sleeps_.push_back(d);
    };
    return eventlogger::testing::MakeDynamoClient(endpoint, std::move(options));
  }

  FakeResponse Proxy(const FakeRequest& request) {
    return eventlogger::testing::Proxy(*proxy_http_, endpoint_, request);
  }

  Item Row(const std::string& pk, const std::string& sk, const std::string& data = "x") {
    return Item{{"pk", AttributeValue::S(pk)}, {"sk", AttributeValue::S(sk)}, {"data", AttributeValue::S(data)}};
  }

  std::vector<std::chrono::milliseconds> Sleeps() {
    std::lock_guard lock(mu_);
    return sleeps_;
  }

  size_t CountItems(const std::string& pk) {
    QueryRequest query;
    query.table_name = table_;
    query.key_condition_expression = "pk = :pk";
    query.parameters.values[":pk"] = AttributeValue::S(pk);
    size_t count = 0;
    while (true) {
      Result<ItemPage> page = direct_->Query(query);
      EXPECT_TRUE(page.ok()) << page.status().ToString();
      if (!page.ok()) return count;
      count += page->items.size();
      if (!page->last_evaluated_key) return count;
      query.exclusive_start_key = page->last_evaluated_key;
    }
  }

  std::string endpoint_;
  std::string table_;
  std::unique_ptr<DynamoDbClient> direct_;
  std::unique_ptr<HttpClient> proxy_http_;
  std::mutex mu_;
  std::vector<std::chrono::milliseconds> sleeps_;
};

TEST_F(DynamoDbClientTest, PutGetQueryScanRoundTripEveryValueType) {
  Item item = Row("user-1", "0001", "caf\xC3\xA9 \xE6\x97\xA5\xE6\x9C\xAC \"quoted\" \\ \n");
  item["n"] = AttributeValue::N("-12.5e3");
  item["flag"] = AttributeValue::Bool(true);
  item["nothing"] = AttributeValue::Null();
  item["list"] = AttributeValue{AttributeValue::Type::kOtherJson, "{\"L\":[{\"S\":\"a\"},{\"N\":\"1\"}]}"};
  ASSERT_TRUE(direct_->PutItem({table_, item, "", {}}).ok());

  Result<std::optional<Item>> got = direct_->GetItem({table_, {{"pk", item["pk"]}, {"sk", item["sk"]}}, true});
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  ASSERT_TRUE(got->has_value());
  const Item& back = **got;
  EXPECT_EQ(back.at("data"), item["data"]);
  EXPECT_EQ(back.at("n").type, AttributeValue::Type::kNumber);
  EXPECT_EQ(back.at("flag"), AttributeValue::Bool(true));
  EXPECT_EQ(back.at("nothing"), AttributeValue::Null());
  EXPECT_EQ(back.at("list").TypeName(), "L");

  Result<std::optional<Item>> missing =
      direct_->GetItem({table_, {{"pk", AttributeValue::S("user-1")}, {"sk", AttributeValue::S("9999")}}, false});
  ASSERT_TRUE(missing.ok());
  EXPECT_FALSE(missing->has_value());

  for (int i = 2; i <= 7; ++i) ASSERT_TRUE(direct_->PutItem({table_, Row("user-1", "000" + std::to_string(i)), "", {}}).ok());
  // Descending, two per page: 7 6 | 5 4 | 3 2 | 1 (then maybe an empty page).
  QueryRequest query;
  query.table_name = table_;
  query.key_condition_expression = "#p = :p AND #s >= :from";
  query.parameters.names = {{"#p", "pk"}, {"#s", "sk"}};
  query.parameters.values = {{":p", AttributeValue::S("user-1")}, {":from", AttributeValue::S("0001")}};
  query.scan_index_forward = false;
  query.limit = 2;
  std::vector<std::string> order;
  int pages = 0;
  while (true) {
    Result<ItemPage> page = direct_->Query(query);
    ASSERT_TRUE(page.ok()) << page.status().ToString();
    ++pages;
    for (const Item& row : page->items) order.push_back(row.at("sk").value);
    if (!page->last_evaluated_key) break;
    query.exclusive_start_key = page->last_evaluated_key;
  }
  EXPECT_EQ(order, (std::vector<std::string>{"0007", "0006", "0005", "0004", "0003", "0002", "0001"}));
  EXPECT_GE(pages, 4);

  ScanRequest scan;
  scan.table_name = table_;
  scan.filter_expression = "#s > :s";
  scan.parameters.names = {{"#s", "sk"}};
  scan.parameters.values = {{":s", AttributeValue::S("0004")}};
  scan.limit = 3;
  size_t scanned = 0;
  while (true) {
    Result<ItemPage> page = direct_->Scan(scan);
    ASSERT_TRUE(page.ok()) << page.status().ToString();
    scanned += page->items.size();
    if (!page->last_evaluated_key) break;
    scan.exclusive_start_key = page->last_evaluated_key;
  }
  EXPECT_EQ(scanned, 3u);  // 0005, 0006, 0007
}

TEST_F(DynamoDbClientTest, ConditionalPutMapsToAlreadyExistsWithoutRetry) {
  PutItemRequest put{table_, Row("u", "1"), "attribute_not_exists(#p)", {}};
  put.parameters.names["#p"] = "pk";
  ASSERT_TRUE(direct_->PutItem(put).ok());
  const uint64_t attempts = direct_->stats().attempts.load();
  Status again = direct_->PutItem(put);
  EXPECT_EQ(again.code(), StatusCode::kAlreadyExists) << again.ToString();
  EXPECT_NE(again.message().find("ConditionalCheckFailedException"), std::string::npos);
  EXPECT_EQ(direct_->stats().attempts.load(), attempts + 1);
}

TEST_F(DynamoDbClientTest, MissingTableIsNotFoundAndValidationIsInvalidArgument) {
  Result<TableDescription> missing = direct_->DescribeTable(table_ + "-absent");
  EXPECT_EQ(missing.status().code(), StatusCode::kNotFound) << missing.status().ToString();
  QueryRequest bad;
  bad.table_name = table_;
  bad.key_condition_expression = "this is not an expression";
  Result<ItemPage> page = direct_->Query(bad);
  EXPECT_EQ(page.status().code(), StatusCode::kInvalidArgument) << page.status().ToString();
  Result<TableDescription> described = direct_->DescribeTable(table_);
  ASSERT_TRUE(described.ok());
  EXPECT_EQ(described->table_status, "ACTIVE");
  EXPECT_EQ(described->key_schema, (std::vector<KeySchemaElement>{{"pk", KeyType::kHash}, {"sk", KeyType::kRange}}));
}

TEST_F(DynamoDbClientTest, ThrottlingTwiceThenSuccess) {
  std::atomic<int> calls{0};
  FakeHttpServer server([&](const FakeRequest& request) {
    if (calls.fetch_add(1) < 2) return DynamoError(400, "ThrottlingException", "Rate of requests exceeds the allowed throughput.");
    return Proxy(request);
  });
  auto client = ClientFor(server.url());
  Status put = client->PutItem({table_, Row("throttled", "1"), "", {}});
  ASSERT_TRUE(put.ok()) << put.ToString();
  EXPECT_EQ(server.requests(), 3);
  EXPECT_EQ(Sleeps().size(), 2u);
  EXPECT_EQ(client->stats().retries.load(), 2u);
  EXPECT_EQ(CountItems("throttled"), 1u);
}

TEST_F(DynamoDbClientTest, ProvisionedThroughputAndRequestLimitAreRetriedToo) {
  std::atomic<int> calls{0};
  FakeHttpServer server([&](const FakeRequest& request) {
    switch (calls.fetch_add(1)) {
      case 0: return DynamoError(400, "ProvisionedThroughputExceededException", "slow down");
      case 1: return DynamoError(400, "RequestLimitExceeded", "account limit");
      case 2: return DynamoError(500, "InternalServerError", "oops");
      case 3: return DynamoError(503, "ServiceUnavailable", "later");
      default: return Proxy(request);
    }
  });
  auto client = ClientFor(server.url());
  Result<TableDescription> table = client->DescribeTable(table_);
  ASSERT_TRUE(table.ok()) << table.status().ToString();
  EXPECT_EQ(server.requests(), 5);
}

TEST_F(DynamoDbClientTest, ValidationExceptionIsExactlyOneAttempt) {
  FakeHttpServer server([](const FakeRequest&) {
    return DynamoError(400, "ValidationException", "One or more parameter values were invalid");
  });
  auto client = ClientFor(server.url());
  Status put = client->PutItem({table_, Row("u", "1"), "", {}});
  EXPECT_EQ(put.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(put.message().find("ValidationException"), std::string::npos);
  EXPECT_EQ(server.requests(), 1);
  EXPECT_TRUE(Sleeps().empty());
}

TEST_F(DynamoDbClientTest, CredentialErrorsAreFailedPreconditionAndNeverLeakTheSecret) {
  FakeHttpServer server([](const FakeRequest&) {
    return DynamoError(400, "UnrecognizedClientException", "The security token included in the request is invalid.");
  });
  auto client = ClientFor(server.url());
  Status put = client->PutItem({table_, Row("u", "1"), "", {}});
  EXPECT_EQ(put.code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(put.message().find(eventlogger::testing::TestCredentials().secret_access_key), std::string::npos);
  EXPECT_EQ(server.requests(), 1);
}

TEST_F(DynamoDbClientTest, ServerErrorsAreRetriedUntilAttemptsRunOut) {
  FakeHttpServer server([](const FakeRequest&) {
    FakeResponse response;
    response.status = 502;
    response.headers = {{"Content-Type", "text/html"}};
    response.body = "<html>bad gateway</html>";
    return response;
  });
  RetryOptions retry;
  retry.max_attempts = 4;
  auto client = ClientFor(server.url(), retry);
  Result<TableDescription> table = client->DescribeTable(table_);
  EXPECT_EQ(table.status().code(), StatusCode::kUnavailable);
  EXPECT_NE(table.status().message().find("gave up after 4 attempts"), std::string::npos) << table.status().message();
  EXPECT_EQ(server.requests(), 4);
  EXPECT_EQ(Sleeps().size(), 3u);
}

TEST_F(DynamoDbClientTest, BackoffIsExponentialWithFullJitterAndCapped) {
  FakeHttpServer server([](const FakeRequest&) { return DynamoError(400, "ThrottlingException", "no"); });
  DynamoDbClientOptions options;
  options.retry.max_attempts = 6;
  options.retry.base_delay = std::chrono::milliseconds(10);
  options.retry.max_delay = std::chrono::milliseconds(50);
  options.random = [] { return 0.999; };  // the top of each jitter range
  options.sleep = [this](std::chrono::milliseconds d) {
    std::lock_guard lock(mu_);
    sleeps_.push_back(d);
  };
  auto top = eventlogger::testing::MakeDynamoClient(server.url(), options);
  EXPECT_EQ(top->DescribeTable(table_).status().code(), StatusCode::kUnavailable);
  using std::chrono::milliseconds;
  EXPECT_EQ(Sleeps(), (std::vector<milliseconds>{milliseconds(9), milliseconds(19), milliseconds(39),
                                                 milliseconds(49), milliseconds(49)}));
  {
    std::lock_guard lock(mu_);
    sleeps_.clear();
  }
  options.random = [] { return 0.5; };
  auto middle = eventlogger::testing::MakeDynamoClient(server.url(), options);
  EXPECT_EQ(middle->DescribeTable(table_).status().code(), StatusCode::kUnavailable);
  EXPECT_EQ(Sleeps(), (std::vector<milliseconds>{milliseconds(5), milliseconds(10), milliseconds(20),
                                                 milliseconds(25), milliseconds(25)}));
}

TEST_F(DynamoDbClientTest, DroppedConnectionsAndTimeoutsAreRetried) {
  std::atomic<int> calls{0};
  FakeHttpServer server([&](const FakeRequest& request) {
    const int call = calls.fetch_add(1);
    if (call == 0) {
      FakeResponse drop;
      drop.drop = true;
      return drop;
    }
    if (call == 1) {
      FakeResponse slow = Proxy(request);
      slow.delay = std::chrono::milliseconds(800);
      return slow;
    }
    return Proxy(request);
  });
  HttpClientOptions http;
  http.request_timeout = std::chrono::milliseconds(200);
  auto client = ClientFor(server.url(), {}, http);
  Status put = client->PutItem({table_, Row("flaky", "1"), "", {}});
  ASSERT_TRUE(put.ok()) << put.ToString();
  EXPECT_EQ(server.requests(), 3);
  EXPECT_EQ(Sleeps().size(), 2u);
}

TEST_F(DynamoDbClientTest, TimeoutsThatNeverEndAreDeadlineExceeded) {
  FakeHttpServer server([&](const FakeRequest& request) {
    FakeResponse slow = Proxy(request);
    slow.delay = std::chrono::milliseconds(400);
    return slow;
  });
  RetryOptions retry;
  retry.max_attempts = 2;
  HttpClientOptions http;
  http.request_timeout = std::chrono::milliseconds(100);
  auto client = ClientFor(server.url(), retry, http);
  EXPECT_EQ(client->DescribeTable(table_).status().code(), StatusCode::kDeadlineExceeded);
}

TEST_F(DynamoDbClientTest, ChecksumMismatchIsRetried) {
  std::atomic<int> calls{0};
  FakeHttpServer server([&](const FakeRequest& request) {
    FakeResponse response = Proxy(request);
    if (calls.fetch_add(1) == 0) {
      bool replaced = false;
      for (auto& [name, value] : response.headers) {
        if (name == "x-amz-crc32" || name == "X-Amz-Crc32") {
          value = "12345";
          replaced = true;
        }
      }
      EXPECT_TRUE(replaced) << "dynalite sends x-amz-crc32";
    }
    return response;
  });
  auto client = ClientFor(server.url());
  Result<TableDescription> table = client->DescribeTable(table_);
  ASSERT_TRUE(table.ok()) << table.status().ToString();
  EXPECT_EQ(server.requests(), 2);
}

// Splits a BatchWriteItem body: forwards the first `keep` puts to dynalite
// and answers with the rest as UnprocessedItems.
FakeResponse PartiallyProcess(const FakeRequest& request, const std::string& table, size_t keep,
                              const std::function<FakeResponse(const FakeRequest&)>& proxy) {
  rapidjson::Document body;
  body.Parse(request.body.data(), request.body.size());
  EXPECT_FALSE(body.HasParseError());
  rapidjson::Value& puts = body["RequestItems"][table.c_str()];
  rapidjson::Document rest(rapidjson::kObjectType);
  rapidjson::Value rest_puts(rapidjson::kArrayType);
  while (puts.Size() > keep) {
    rapidjson::Value copy(puts[puts.Size() - 1], rest.GetAllocator());
    rest_puts.PushBack(copy, rest.GetAllocator());
    puts.PopBack();
  }
  if (puts.Size() > 0) {
    FakeRequest forward = request;
    rapidjson::StringBuffer text;
    rapidjson::Writer<rapidjson::StringBuffer> writer(text);
    body.Accept(writer);
    forward.body = text.GetString();
    FakeResponse processed = proxy(forward);
    EXPECT_EQ(processed.status, 200) << processed.body;
  }

  rapidjson::Value table_name(table.c_str(), rest.GetAllocator());
  rapidjson::Value unprocessed_items(rapidjson::kObjectType);
  unprocessed_items.AddMember(table_name, rest_puts, rest.GetAllocator());
  rest.AddMember("UnprocessedItems", unprocessed_items, rest.GetAllocator());
  rapidjson::StringBuffer out;
  rapidjson::Writer<rapidjson::StringBuffer> out_writer(out);
  rest.Accept(out_writer);
  FakeResponse response;
  response.headers = {{"Content-Type", "application/x-amz-json-1.0"}};
  response.body = out.GetString();
  return response;
}

TEST_F(DynamoDbClientTest, UnprocessedItemsAreResentUntilDone) {
  std::atomic<int> batch_calls{0};
  std::vector<size_t> sent_sizes;
  std::mutex sizes_mu;
  FakeHttpServer server([&](const FakeRequest& request) {
    if (request.Header("x-amz-target") != "DynamoDB_20120810.BatchWriteItem") return Proxy(request);
    rapidjson::Document body;
    body.Parse(request.body.data(), request.body.size());
    {
      std::lock_guard lock(sizes_mu);
      sent_sizes.push_back(body["RequestItems"][table_.c_str()].Size());
    }
    if (batch_calls.fetch_add(1) == 0) {
      return PartiallyProcess(request, table_, 20, [this](const FakeRequest& r) { return Proxy(r); });
    }
    return Proxy(request);
  });
  auto client = ClientFor(server.url());
  std::vector<Item> items;
  for (int i = 0; i < 25; ++i) items.push_back(Row("batch", "item-" + std::to_string(100 + i)));
  Status written = client->BatchWriteItem(table_, items);
  ASSERT_TRUE(written.ok()) << written.ToString();
  EXPECT_EQ(sent_sizes, (std::vector<size_t>{25, 5}));
  EXPECT_EQ(client->stats().unprocessed_resends.load(), 1u);
  EXPECT_EQ(Sleeps().size(), 1u);
  EXPECT_EQ(CountItems("batch"), 25u);
}

TEST_F(DynamoDbClientTest, UnprocessedItemsForeverGiveUpAfterMaxRounds) {
  FakeHttpServer server([&](const FakeRequest& request) {
    return PartiallyProcess(request, table_, 0, [this](const FakeRequest& r) { return Proxy(r); });
  });
  RetryOptions retry;
  retry.max_batch_rounds = 3;
  auto client = ClientFor(server.url(), retry);
  std::vector<Item> items = {Row("stuck", "1"), Row("stuck", "2")};
  Status written = client->BatchWriteItem(table_, items);
  EXPECT_EQ(written.code(), StatusCode::kUnavailable);
  EXPECT_NE(written.message().find("2 of 2 items still unprocessed after 3 rounds"), std::string::npos)
      << written.message();
  EXPECT_EQ(server.requests(), 3);
}

TEST_F(DynamoDbClientTest, BatchWriteItemTakesAtMost25Items) {
  std::vector<Item> items;
  for (int i = 0; i < 26; ++i) items.push_back(Row("too-many", std::to_string(i)));
  EXPECT_EQ(direct_->BatchWriteItem(table_, items).code(), StatusCode::kInvalidArgument);
  EXPECT_TRUE(direct_->BatchWriteItem(table_, std::span<const Item>()).ok());
}

TEST_F(DynamoDbClientTest, BatchDeleteItemResendsUnprocessedKeysAsPutsAre) {
  std::vector<Item> rows, keys;
  for (int i = 0; i < 25; ++i) {
    rows.push_back(Row("doomed", "item-" + std::to_string(100 + i)));
    keys.push_back(Item{{"pk", rows.back()["pk"]}, {"sk", rows.back()["sk"]}});
  }
  ASSERT_TRUE(direct_->BatchWriteItem(table_, rows).ok());
  ASSERT_TRUE(direct_->PutItem({table_, Row("kept", "1"), "", {}}).ok());
  std::atomic<int> batch_calls{0};
  std::vector<std::string> kinds;
  std::mutex kinds_mu;
  FakeHttpServer server([&](const FakeRequest& request) {
    if (request.Header("x-amz-target") != "DynamoDB_20120810.BatchWriteItem") return Proxy(request);
    rapidjson::Document body;
    body.Parse(request.body.data(), request.body.size());
    {
      std::lock_guard lock(kinds_mu);
      for (const auto& write : body["RequestItems"][table_.c_str()].GetArray()) {
        kinds.emplace_back(write.MemberBegin()->name.GetString());
      }
    }
    if (batch_calls.fetch_add(1) == 0) {
      return PartiallyProcess(request, table_, 20, [this](const FakeRequest& r) { return Proxy(r); });
    }
    return Proxy(request);
  });
  auto client = ClientFor(server.url());
  Status deleted = client->BatchDeleteItem(table_, keys);
  ASSERT_TRUE(deleted.ok()) << deleted.ToString();
  EXPECT_EQ(kinds, std::vector<std::string>(30, "DeleteRequest"));  // 25, then the 5 unprocessed
  EXPECT_EQ(client->stats().unprocessed_resends.load(), 1u);
  EXPECT_EQ(CountItems("doomed"), 0u);
  EXPECT_EQ(CountItems("kept"), 1u);
  // Deleting keys that hold nothing succeeds: a resend is harmless.
  EXPECT_TRUE(direct_->BatchDeleteItem(table_, keys).ok());
  keys.push_back(keys.front());
  EXPECT_EQ(direct_->BatchDeleteItem(table_, keys).code(), StatusCode::kInvalidArgument);  // 26
}

TEST_F(DynamoDbClientTest, UpdateItemWithConditionAndProjectedQueryAndScan) {
  Item row = Row("user-1", "0001");
  row["ttl"] = AttributeValue::N("1782743565");
  ASSERT_TRUE(direct_->PutItem({table_, row, "", {}}).ok());
  UpdateItemRequest update;
  update.table_name = table_;
  update.key = {{"pk", row["pk"]}, {"sk", row["sk"]}};
  update.update_expression = "REMOVE #t";
  update.condition_expression = "attribute_exists(#s)";
  update.parameters.names = {{"#t", "ttl"}, {"#s", "sk"}};
  Status updated = direct_->UpdateItem(update);
  ASSERT_TRUE(updated.ok()) << updated.ToString();
  Result<std::optional<Item>> got = direct_->GetItem({table_, update.key, true});
  ASSERT_TRUE(got.ok() && got->has_value());
  EXPECT_EQ(**got, Row("user-1", "0001"));
  // The condition keeps an update from creating a missing item.
  update.key["sk"] = AttributeValue::S("0002");
  EXPECT_EQ(direct_->UpdateItem(update).code(), StatusCode::kAlreadyExists);
  EXPECT_EQ(CountItems("user-1"), 1u);

  QueryRequest query;
  query.table_name = table_;
  query.key_condition_expression = "#p = :p";
  query.projection_expression = "#p, #s";
  query.parameters.names = {{"#p", "pk"}, {"#s", "sk"}};
  query.parameters.values = {{":p", AttributeValue::S("user-1")}};
  Result<ItemPage> page = direct_->Query(query);
  ASSERT_TRUE(page.ok()) << page.status().ToString();
  ASSERT_EQ(page->items.size(), 1u);
  EXPECT_EQ(page->items[0], (Item{{"pk", row["pk"]}, {"sk", row["sk"]}}));

  ScanRequest scan;
  scan.table_name = table_;
  scan.projection_expression = "#d";
  scan.parameters.names = {{"#d", "data"}};
  page = direct_->Scan(scan);
  ASSERT_TRUE(page.ok()) << page.status().ToString();
  ASSERT_EQ(page->items.size(), 1u);
  EXPECT_EQ(page->items[0], (Item{{"data", row["data"]}}));
}

TEST_F(DynamoDbClientTest, RequestsAreSignedForDynamoDb) {
  std::mutex seen_mu;
  FakeRequest seen;
  FakeHttpServer server([&](const FakeRequest& request) {
    {
      std::lock_guard lock(seen_mu);
      seen = request;
    }
    return Proxy(request);
  });
  DynamoDbClientOptions options;
  options.credentials = {"AKIDSIGNED", "secret-not-sent", "session-token-value"};
  options.now = [] { return std::chrono::system_clock::time_point(std::chrono::seconds(1709544615)); };
  auto client = eventlogger::testing::MakeDynamoClient(server.url(), options);
  ASSERT_TRUE(client->DescribeTable(table_).ok());
  std::lock_guard lock(seen_mu);
  EXPECT_EQ(seen.method, "POST");
  EXPECT_EQ(seen.target, "/");
  EXPECT_EQ(seen.Header("x-amz-target"), "DynamoDB_20120810.DescribeTable");
  EXPECT_EQ(seen.Header("content-type"), "application/x-amz-json-1.0");
  EXPECT_EQ(seen.Header("x-amz-date"), "20240304T093015Z");
  EXPECT_EQ(seen.Header("x-amz-security-token"), "session-token-value");
  EXPECT_EQ(seen.Header("host"), "127.0.0.1:" + std::to_string(server.port()));
  const std::string authorization = seen.Header("authorization");
  EXPECT_EQ(authorization.rfind("AWS4-HMAC-SHA256 Credential=AKIDSIGNED/20240304/eu-west-1/dynamodb/aws4_request, "
                                "SignedHeaders=content-type;host;x-amz-date;x-amz-security-token;x-amz-target, "
                                "Signature=",
                                0),
            0u)
      << authorization;
  for (const auto& [name, value] : seen.headers) EXPECT_EQ(value.find("secret-not-sent"), std::string::npos);
}

TEST(DynamoDbItemSizeTest, CountsUtf8BytesOfNamesAndValues) {
  Item item{{"UserId", AttributeValue::S("Zo\xC3\xAB")},  // 6 + 4
            {"n", AttributeValue::N("12345")},             // 1 + (3 + 1)
            {"b", AttributeValue::Bool(false)},            // 1 + 1
            {"z", AttributeValue::Null()}};                // 1 + 1
  EXPECT_EQ(ItemSizeBytes(item), 6u + 4 + 1 + 4 + 1 + 1 + 1 + 1);
  EXPECT_EQ(ItemSizeBytes({{"x", AttributeValue::N("0")}}), 2u);
  EXPECT_EQ(ItemSizeBytes({{"x", AttributeValue::N("-1200")}}), 3u);  // 2 digits: 1 + 1
}

TEST(DynamoDbClientCreateTest, RefusesBadOptions) {
  DynamoDbClientOptions options;
  options.endpoint = "http://127.0.0.1:1/path";
  options.region = "eu-west-1";
  options.credentials = eventlogger::testing::TestCredentials();
  EXPECT_EQ(DynamoDbClient::Create(options).status().code(), StatusCode::kInvalidArgument);
  options.endpoint = "http://127.0.0.1:1";
  options.region = "";
  EXPECT_EQ(DynamoDbClient::Create(options).status().code(), StatusCode::kInvalidArgument);
  options.region = "eu-west-1";
  options.credentials = {};
  EXPECT_EQ(DynamoDbClient::Create(options).status().code(), StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace eventlogger::aws
