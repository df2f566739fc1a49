// Idempotency-Key on POST /events over real HTTP against the in-process
// Service: replays return the original event (and never make a second one),
// a reused key with another body is refused, keys are per user, invalid keys
// are refused, and a key still in use is answered 409. Store faults (a
// stalled or failing document store) come from wrappers around the real
// stores, as in store_fault_test.cc.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <rapidjson/document.h>
#include <sqlite3.h>

#include <condition_variable>
#include <future>
#include <latch>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "integration/backend.h"
#include "integration/faulty_stores.h"
#include "integration/service_fixture.h"
#include "integration/test_client.h"

namespace eventlogger::testing {
namespace {

using ::testing::HasSubstr;

rapidjson::Document Parse(const std::string& text) {
  rapidjson::Document document;
  document.Parse(text.data(), text.size());
  return document;
}

std::string EventIdOf(const TestResponse& response) {
  const rapidjson::Document body = Parse(response.body);
  return body.IsObject() && body.HasMember("eventId") && body["eventId"].IsString() ? body["eventId"].GetString()
                                                                                      : "";
}

std::string Body(const std::string& user, const std::string& details = R"({"amount":10})") {
  return R"({"userId":")" + user + R"(","eventType":"deposit","jsonDetails":)" + details + "}";
}

using Headers = std::vector<std::pair<std::string, std::string>>;

Headers Key(const std::string& key) { return {{"Idempotency-Key", key}}; }

class IdempotencyTest : public ServiceFixture {
 protected:
  void Configure(ServiceOptions& options) override {
    options.retry.poll_interval = std::chrono::milliseconds(20);
    options.retry.policy.base = std::chrono::milliseconds(20);
    options.retry.policy.cap = std::chrono::milliseconds(100);
    options.writer.first_retry_delay = std::chrono::milliseconds(20);
    options.handlers.store_timeout = std::chrono::milliseconds(30'000);
    options.http.shutdown_grace = std::chrono::milliseconds(30'000);
  }
  void TearDown() override {
    document_fault_.Set(Fault::Mode::kPass);
    ServiceFixture::TearDown();
  }

  int64_t OutboxPending() const { return ReadOutboxPending(dir_.path() / "outbox.db"); }

  // Every event in both stores, by eventId (stops the service).
  void ExpectExactlyOneEventInBothStores(const std::string& event_id) {
    StopService();
    const std::vector<MetadataRow> rows = MetadataRows();
    ASSERT_EQ(rows.size(), 1u);
    EXPECT_EQ(rows[0].event_id, event_id);
    const std::vector<DocumentRow> documents = DocumentRows();
    ASSERT_EQ(documents.size(), 1u);
    EXPECT_EQ(documents[0].event_id, event_id);
  }

  Fault document_fault_;
};

TEST_F(IdempotencyTest, SameKeyAndBodyReplaysTheOriginalEvent) {
  // A slow worker beat: the replay below arrives before the worker has
  // applied the first request's outcome to the outbox, which is the common
  // case for a client retrying at once.
  StopService();
  options_.retry.poll_interval = std::chrono::seconds(5);
  StartService();
  TestClient client(port_);
  const TestResponse first = client.PostEvent(Body("idem-1"), Key("order-42"));
  ASSERT_EQ(first.status, 201) << first.body;
  EXPECT_EQ(first.Header("idempotent-replayed"), "");
  const std::string event_id = EventIdOf(first);
  ASSERT_FALSE(event_id.empty());

  // The client retries at once, as it would after a lost response.
  const TestResponse replay = client.PostEvent(Body("idem-1"), Key("order-42"));
  EXPECT_EQ(replay.status, 201) << replay.body;
  EXPECT_THAT(replay.body, HasSubstr(R"("sqlSuccess": true, "dynamoSuccess": true, "retryQueued": false)"));
  EXPECT_EQ(replay.Header("idempotent-replayed"), "true");
  EXPECT_EQ(EventIdOf(replay), event_id);
  EXPECT_EQ(replay.body, first.body);
  EXPECT_EQ(replay.Header("location"), first.Header("location"));

  ExpectExactlyOneEventInBothStores(event_id);
}

TEST_F(IdempotencyTest, ReplayAfterTheOutboxDrainedAndAfterARestart) {
  const TestResponse first = HttpRequest(port_, "POST", "/events", Body("idem-2"),
                                         {{"Content-Type", "application/json"}, {"Idempotency-Key", "k-2"}});
  ASSERT_EQ(first.status, 201) << first.body;
  const std::string event_id = EventIdOf(first);

  ASSERT_TRUE(Eventually([&] { return OutboxPending() == 0; }));
  TestResponse replay = HttpRequest(port_, "POST", "/events", Body("idem-2"),
                                    {{"Content-Type", "application/json"}, {"Idempotency-Key", "k-2"}});
  EXPECT_EQ(replay.status, 201) << replay.body;
  EXPECT_EQ(replay.Header("idempotent-replayed"), "true");
  EXPECT_EQ(EventIdOf(replay), event_id);
  EXPECT_THAT(replay.body, HasSubstr(R"("sqlSuccess": true, "dynamoSuccess": true, "retryQueued": false)"));

  StopService();
  StartService();
  replay = HttpRequest(port_, "POST", "/events", Body("idem-2"),
                       {{"Content-Type", "application/json"}, {"Idempotency-Key", "k-2"}});
  EXPECT_EQ(replay.status, 201) << replay.body;
  EXPECT_EQ(replay.Header("idempotent-replayed"), "true");
  EXPECT_EQ(EventIdOf(replay), event_id);

  ExpectExactlyOneEventInBothStores(event_id);
}

TEST_F(IdempotencyTest, SameKeyWithADifferentBodyIs422) {
  TestClient client(port_);
  const TestResponse first = client.PostEvent(Body("idem-3", R"({"amount":10})"), Key("k-3"));
  ASSERT_EQ(first.status, 201);
  for (const std::string& other : {Body("idem-3", R"({"amount":11})"),
                                   std::string(R"({"userId":"idem-3","eventType":"withdrawal","jsonDetails":{"amount":10}})")}) {
    const TestResponse mismatch = client.PostEvent(other, Key("k-3"));
    EXPECT_EQ(mismatch.status, 422) << mismatch.body;
    EXPECT_EQ(mismatch.Header("content-type"), "application/problem+json");
    EXPECT_THAT(mismatch.body, HasSubstr("/problems/idempotency-key-mismatch"));
    EXPECT_EQ(mismatch.Header("idempotent-replayed"), "");
  }
  // Insignificant whitespace is not a different body.
  const TestResponse spaced = client.PostEvent(
      R"({ "userId" : "idem-3", "eventType" : "deposit", "jsonDetails" : { "amount" : 10 } })", Key("k-3"));
  EXPECT_EQ(spaced.status, 201) << spaced.body;
  EXPECT_EQ(EventIdOf(spaced), EventIdOf(first));
  ExpectExactlyOneEventInBothStores(EventIdOf(first));
}

TEST_F(IdempotencyTest, KeysAreScopedToTheUser) {
  TestClient client(port_);
  const TestResponse alice = client.PostEvent(Body("alice"), Key("shared"));
  const TestResponse bob = client.PostEvent(Body("bob"), Key("shared"));
  ASSERT_EQ(alice.status, 201) << alice.body;
  ASSERT_EQ(bob.status, 201) << bob.body;
  EXPECT_EQ(bob.Header("idempotent-replayed"), "") << "bob's first use of the key is not a replay";
  EXPECT_NE(EventIdOf(alice), EventIdOf(bob));
  // Each replays their own.
  EXPECT_EQ(EventIdOf(client.PostEvent(Body("alice"), Key("shared"))), EventIdOf(alice));
  EXPECT_EQ(EventIdOf(client.PostEvent(Body("bob"), Key("shared"))), EventIdOf(bob));
  // A request without a key is never a replay.
  const TestResponse unkeyed = client.PostEvent(Body("alice"));
  EXPECT_EQ(unkeyed.status, 201);
  EXPECT_NE(EventIdOf(unkeyed), EventIdOf(alice));
  StopService();
  EXPECT_EQ(MetadataRows().size(), 3u);
  EXPECT_EQ(DocumentRows().size(), 3u);
}

TEST_F(IdempotencyTest, InvalidKeysAre400NamingTheHeader) {
  // (Other control characters, and DEL, are already refused by the HTTP
  // parser as malformed header values; a tab inside a value is valid HTTP.)
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"empty", ""},
      {"256 characters", std::string(256, 'k')},
      {"a tab (control character)", "abc\tdef"},
      {"non-ASCII", "caf\xc3\xa9"},
  };
  for (const auto& [what, key] : cases) {
    const TestResponse response = HttpRequest(port_, "POST", "/events", Body("idem-bad"),
                                              {{"Content-Type", "application/json"}, {"Idempotency-Key", key}});
    EXPECT_EQ(response.status, 400) << what << ": " << response.body;
    EXPECT_EQ(response.Header("content-type"), "application/problem+json") << what;
    EXPECT_THAT(response.body, HasSubstr("/problems/validation-error")) << what;
    EXPECT_THAT(response.body, HasSubstr(R"("field":"Idempotency-Key")")) << what;
  }
  // The longest valid key, and printable punctuation, are accepted.
  TestClient client(port_);
  EXPECT_EQ(client.PostEvent(Body("idem-bad"), Key(std::string(255, 'k'))).status, 201);
  EXPECT_EQ(client.PostEvent(Body("idem-bad"), Key("a b~!@#$%^&*()_+{}|:<>?")).status, 201);
  StopService();
  EXPECT_EQ(MetadataRows().size(), 2u) << "refused requests store nothing";
}

TEST_F(IdempotencyTest, KeyStillInUseIs409) {
  RestartWithFaultyDocumentStore(document_fault_);
  document_fault_.Set(Fault::Mode::kStall);
  auto first = std::async(std::launch::async, [&] {
    return HttpRequest(port_, "POST", "/events", Body("idem-4"),
                       {{"Content-Type", "application/json"}, {"Idempotency-Key", "k-4"}});
  });
  document_fault_.WaitForStall();  // the first request holds the key, waiting on the store

  const TestResponse second = HttpRequest(port_, "POST", "/events", Body("idem-4"),
                                          {{"Content-Type", "application/json"}, {"Idempotency-Key", "k-4"}});
  EXPECT_EQ(second.status, 409) << second.body;
  EXPECT_EQ(second.Header("content-type"), "application/problem+json");
  EXPECT_THAT(second.body, HasSubstr("/problems/idempotency-key-in-use"));
  // Another user with this key is not blocked by it (its write waits on the
  // same stalled store, so it answers once the store is released).
  auto other_user = std::async(std::launch::async, [&] {
    return HttpRequest(port_, "POST", "/events", Body("idem-4b"),
                       {{"Content-Type", "application/json"}, {"Idempotency-Key", "k-4"}});
  });
  // Still refused while the first request is in progress.
  EXPECT_EQ(HttpRequest(port_, "POST", "/events", Body("idem-4"),
                        {{"Content-Type", "application/json"}, {"Idempotency-Key", "k-4"}})
                .status,
            409);

  document_fault_.Set(Fault::Mode::kPass);
  EXPECT_EQ(other_user.get().status, 201);
  const TestResponse original = first.get();
  EXPECT_EQ(original.status, 201) << original.body;
  // Now that it is done, the retry is a replay.
  const TestResponse replay = HttpRequest(port_, "POST", "/events", Body("idem-4"),
                                          {{"Content-Type", "application/json"}, {"Idempotency-Key", "k-4"}});
  EXPECT_EQ(replay.status, 201) << replay.body;
  EXPECT_EQ(EventIdOf(replay), EventIdOf(original));
}

TEST_F(IdempotencyTest, ConcurrentRequestsWithOneKeyMakeOneEvent) {
  constexpr int kRequests = 32;
  std::vector<std::unique_ptr<TestClient>> clients;
  for (int i = 0; i < kRequests; ++i) clients.push_back(std::make_unique<TestClient>(port_));
  std::latch start(kRequests);
  std::vector<TestResponse> responses(kRequests);
  std::vector<std::thread> threads;
  for (int i = 0; i < kRequests; ++i) {
    threads.emplace_back([&, i] {
      start.arrive_and_wait();
      responses[i] = clients[i]->PostEvent(Body("idem-race"), Key("race-key"));
    });
  }
  for (auto& t : threads) t.join();

  std::set<std::string> event_ids;
  int successes = 0, conflicts = 0;
  for (const TestResponse& r : responses) {
    if (r.status == 409) {
      EXPECT_THAT(r.body, HasSubstr("/problems/idempotency-key-in-use"));
      ++conflicts;
    } else {
      // The stores are healthy: the original and every replay say 201.
      EXPECT_EQ(r.status, 201) << r.body;
      EXPECT_THAT(r.body, HasSubstr(R"("sqlSuccess": true, "dynamoSuccess": true, "retryQueued": false)"));
      ++successes;
      event_ids.insert(EventIdOf(r));
    }
  }
  EXPECT_GE(successes, 1);
  EXPECT_EQ(successes + conflicts, kRequests);
  ASSERT_EQ(event_ids.size(), 1u) << "every success names the same event";
  EXPECT_FALSE(event_ids.begin()->empty());
  ExpectExactlyOneEventInBothStores(*event_ids.begin());
}

TEST_F(IdempotencyTest, QueuedEventReplaysAs202ThenAs201OnceDelivered) {
  RestartWithFaultyDocumentStore(document_fault_);
  document_fault_.Set(Fault::Mode::kFail);
  TestClient client(port_);
  const TestResponse first = client.PostEvent(Body("idem-5"), Key("k-5"));
  ASSERT_EQ(first.status, 202) << first.body;
  EXPECT_THAT(first.body, HasSubstr(R"("sqlSuccess": true, "dynamoSuccess": false, "retryQueued": true)"));
  const std::string event_id = EventIdOf(first);

  const TestResponse queued = client.PostEvent(Body("idem-5"), Key("k-5"));
  EXPECT_EQ(queued.status, 202) << queued.body;
  EXPECT_EQ(queued.Header("idempotent-replayed"), "true");
  EXPECT_EQ(EventIdOf(queued), event_id);
  EXPECT_THAT(queued.body, HasSubstr(R"("dynamoSuccess": false, "retryQueued": true)"));
  EXPECT_EQ(queued.Header("location"), first.Header("location"));

  // Once the worker has recorded the request path's outcome, the replay
  // reports the metadata write as done.
  ASSERT_TRUE(Eventually([&] {
    return client.PostEvent(Body("idem-5"), Key("k-5")).body.find(R"("sqlSuccess": true)") != std::string::npos;
  }));

  document_fault_.Set(Fault::Mode::kPass);
  ASSERT_TRUE(Eventually([&] {
    return OutboxPending() == 0 && client.PostEvent(Body("idem-5"), Key("k-5")).status == 201;
  }));
  const TestResponse delivered = client.PostEvent(Body("idem-5"), Key("k-5"));
  EXPECT_EQ(delivered.status, 201) << delivered.body;
  EXPECT_EQ(delivered.Header("idempotent-replayed"), "true");
  EXPECT_EQ(EventIdOf(delivered), event_id);
  EXPECT_THAT(delivered.body, HasSubstr(R"("sqlSuccess": true, "dynamoSuccess": true, "retryQueued": false)"));
  EXPECT_THAT(client.Get("/events/idem-5").body, HasSubstr(event_id));

  ExpectExactlyOneEventInBothStores(event_id);
}

TEST_F(IdempotencyTest, RetryBeforeTheFailureReachesTheOutboxGetsTheFirstAnswer) {
  // A failed store write reaches the outbox after the 202 (the retry worker
  // records it). Until then the key cannot be found in any store, so the
  // in-memory claim must answer a retry: with the first answer, not a 409
  // and never a second event. Another process holding the outbox's write
  // lock keeps that window open for as long as the test needs.
  EVENTLOGGER_EMBEDDED_ONLY();
  options_.outbox_busy_timeout_ms = 100;
  RestartWithFaultyDocumentStore(document_fault_);
  document_fault_.Set(Fault::Mode::kFail);
  sqlite3* blocker = nullptr;
  ASSERT_EQ(sqlite3_open((dir_.path() / "outbox.db").c_str(), &blocker), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(blocker, "BEGIN EXCLUSIVE", nullptr, nullptr, nullptr), SQLITE_OK);
  TestClient client(port_);
  const TestResponse first = client.PostEvent(Body("idem-7"), Key("k-7"));
  ASSERT_EQ(first.status, 202) << first.body;
  const std::string event_id = EventIdOf(first);

  for (int i = 0; i < 3; ++i) {
    const TestResponse retry = client.PostEvent(Body("idem-7"), Key("k-7"));
    EXPECT_EQ(retry.status, 202) << retry.body;
    EXPECT_EQ(retry.Header("idempotent-replayed"), "true");
    EXPECT_EQ(EventIdOf(retry), event_id);
    EXPECT_THAT(retry.body, HasSubstr(R"("sqlSuccess": true, "dynamoSuccess": false, "retryQueued": true)"));
  }
  EXPECT_EQ(client.PostEvent(Body("idem-7", R"({"amount":11})"), Key("k-7")).status, 422);

  sqlite3_exec(blocker, "ROLLBACK", nullptr, nullptr, nullptr);
  sqlite3_close(blocker);
  document_fault_.Set(Fault::Mode::kPass);
  ASSERT_TRUE(Eventually([&] { return client.PostEvent(Body("idem-7"), Key("k-7")).status == 201; }));
  ExpectExactlyOneEventInBothStores(event_id);
}

}  // namespace
}  // namespace eventlogger::testing
