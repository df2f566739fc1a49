// The HTTP API end to end: real server, real loopback sockets, real embedded
// stores, checked on disk after a clean stop.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <rapidjson/document.h>

#include <atomic>
#include <regex>
#include <set>
#include <thread>

#include <fstream>
#include <sstream>

#include "core/uuid.h"
#include "core/version.h"
#include "integration/service_fixture.h"
#include "integration/test_client.h"

namespace eventlogger::testing {
namespace {

using ::testing::HasSubstr;

rapidjson::Document ParseJson(const std::string& text) {
  rapidjson::Document document;
  document.Parse<rapidjson::kParseNumbersAsStringsFlag>(text.c_str(), text.size());
  EXPECT_FALSE(document.HasParseError()) << text;
  return document;
}

std::string EventBody(const std::string& user, const std::string& type, const std::string& details) {
  return R"({"userId":")" + user + R"(","eventType":")" + type + R"(","jsonDetails":)" + details + "}";
}

// Asserts an RFC 9457 problem response and returns its parsed body.
rapidjson::Document ExpectProblem(const TestResponse& response, int status) {
  EXPECT_EQ(response.status, status) << response.body;
  EXPECT_EQ(response.Header("content-type"), "application/problem+json");
  rapidjson::Document problem = ParseJson(response.body);
  EXPECT_TRUE(problem.IsObject());
  if (problem.IsObject()) {
    EXPECT_TRUE(problem.HasMember("type") && problem["type"].IsString());
    EXPECT_TRUE(problem.HasMember("title") && problem["title"].IsString());
    EXPECT_TRUE(problem.HasMember("detail") && problem["detail"].IsString());
    EXPECT_TRUE(problem.HasMember("status"));
    if (problem.HasMember("status")) {
      EXPECT_EQ(std::string(problem["status"].GetString()), std::to_string(status));
    }
  }
  return problem;
}

// The fields named in a problem's "errors" array.
std::set<std::string> ErrorFields(const rapidjson::Document& problem) {
  std::set<std::string> fields;
  if (!problem.IsObject() || !problem.HasMember("errors")) return fields;
  for (const auto& error : problem["errors"].GetArray()) fields.insert(error["field"].GetString());
  return fields;
}

class HttpApiTest : public ServiceFixture {};

TEST_F(HttpApiTest, PostReturnsCreatedWithExactBodyAndLocation) {
  TestClient client(port_);
  const TestResponse response = client.PostEvent(EventBody("12345", "bet", R"({"ip":"192.168.1.1","device":"Chrome"})"));
  ASSERT_EQ(response.status, 201) << response.body;
  EXPECT_EQ(response.Header("content-type"), "application/json");
  const std::regex shape(
      R"re(\{"eventId": "([0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12})", )re"
      R"re("sqlSuccess": true, "dynamoSuccess": true, "retryQueued": false\})re");
  std::smatch match;
  ASSERT_TRUE(std::regex_match(response.body, match, shape)) << response.body;
  EXPECT_EQ(response.Header("location"), "/events/12345/" + match[1].str());
  EXPECT_FALSE(response.Header("x-request-id").empty());
}

TEST_F(HttpApiTest, GetReturnsPayloadExactlyAsSent) {
  const std::string details =
      R"({"big":12345678901234567890,"frac":0.1000,"exp":1E+2,"neg":-0,"s":"caf\u00e9 \"q\"","nested":{"a":[1,2,{"b":null}]},"t":true})";
  TestClient client(port_);
  const TestResponse posted = client.PostEvent(EventBody("u-1", "login", details));
  ASSERT_EQ(posted.status, 201);
  const TestResponse got = client.Get("/events/u-1");
  ASSERT_EQ(got.status, 200);
  EXPECT_EQ(got.Header("content-type"), "application/json");
  const rapidjson::Document events = ParseJson(got.body);
  ASSERT_TRUE(events.IsArray());
  ASSERT_EQ(events.Size(), 1u);
  const auto& event = events[0];
  EXPECT_EQ(std::string(event["userId"].GetString()), "u-1");
  EXPECT_EQ(std::string(event["eventType"].GetString()), "login");
  EXPECT_TRUE(std::regex_match(std::string(event["timestamp"].GetString()),
                               std::regex(R"(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z)")));
  EXPECT_TRUE(event["jsonPayload"].IsObject());
  // Byte for byte: the payload text appears verbatim in the response.
  EXPECT_THAT(got.body, HasSubstr("\"jsonPayload\":" + details + "}"));
  EXPECT_THAT(posted.body, HasSubstr(event["eventId"].GetString()));
}

TEST_F(HttpApiTest, WhitespaceInPayloadIsRemovedButStringsAreNot) {
  TestClient client(port_);
  ASSERT_EQ(client.PostEvent(EventBody("ws", "t", "{ \"a\" : [ 1 , 2 ] ,\n\t\"b\" : \"x  y\" }")).status, 201);
  EXPECT_THAT(client.Get("/events/ws").body, HasSubstr(R"("jsonPayload":{"a":[1,2],"b":"x  y"})"));
}

TEST_F(HttpApiTest, EventsComeBackOldestFirstWithTiesByEventId) {
  TestClient client(port_);
  std::vector<std::string> ids;
  for (int i = 0; i < 20; ++i) {
    const TestResponse r = client.PostEvent(EventBody("ordered", "step", "{\"i\":" + std::to_string(i) + "}"));
    ASSERT_EQ(r.status, 201);
    ids.push_back(ParseJson(r.body)["eventId"].GetString());
  }
  const rapidjson::Document events = ParseJson(client.Get("/events/ordered").body);
  ASSERT_EQ(events.Size(), 20u);
  for (rapidjson::SizeType i = 0; i < events.Size(); ++i) {
    EXPECT_EQ(std::string(events[i]["eventId"].GetString()), ids[i]);
    EXPECT_EQ(std::string(events[i]["jsonPayload"]["i"].GetString()), std::to_string(i));
    if (i > 0) {
      const std::string previous = events[i - 1]["timestamp"].GetString();
      const std::string current = events[i]["timestamp"].GetString();
      EXPECT_LE(previous, current);
    }
  }
}

TEST_F(HttpApiTest, UnknownUserGetsEmptyArray) {
  const TestResponse response = HttpRequest(port_, "GET", "/events/nobody");
  EXPECT_EQ(response.status, 200);
  EXPECT_EQ(response.body, "[]");
}

TEST_F(HttpApiTest, UsersDoNotSeeEachOthersEvents) {
  TestClient client(port_);
  ASSERT_EQ(client.PostEvent(EventBody("a", "t", "{}")).status, 201);
  ASSERT_EQ(client.PostEvent(EventBody("ab", "t", "{}")).status, 201);
  EXPECT_EQ(ParseJson(client.Get("/events/a").body).Size(), 1u);
  EXPECT_EQ(ParseJson(client.Get("/events/ab").body).Size(), 1u);
}

TEST_F(HttpApiTest, UserIdInPathIsPercentDecoded) {
  TestClient client(port_);
  ASSERT_EQ(client.PostEvent(EventBody("team/ü 1", "t", "{}")).status, 201);
  const TestResponse got = client.Get("/events/team%2F%C3%BC%201");
  ASSERT_EQ(got.status, 200);
  const rapidjson::Document events = ParseJson(got.body);
  ASSERT_EQ(events.Size(), 1u);
  EXPECT_EQ(std::string(events[0]["userId"].GetString()), "team/ü 1");
}

TEST_F(HttpApiTest, LocationLeadsToTheSingleEvent) {
  TestClient client(port_);
  const TestResponse posted = client.PostEvent(EventBody("x y", "t", R"({"k":1})"));
  ASSERT_EQ(posted.status, 201);
  const std::string location = posted.Header("location");
  EXPECT_THAT(location, HasSubstr("/events/x%20y/"));
  const TestResponse got = client.Get(location);
  ASSERT_EQ(got.status, 200) << got.body;
  const rapidjson::Document event = ParseJson(got.body);
  EXPECT_EQ(std::string(event["eventId"].GetString()), ParseJson(posted.body)["eventId"].GetString());
  EXPECT_THAT(got.body, HasSubstr(R"("jsonPayload":{"k":1})"));
  ExpectProblem(client.Get("/events/x%20y/01890a5d-ac96-774b-bcce-b302099a8057"), 404);
  ExpectProblem(client.Get("/events/someone-else/" + std::string(event["eventId"].GetString())), 404);
  // A malformed eventId is the client's mistake, not a missing event.
  ExpectProblem(client.Get("/events/x%20y/not-a-uuid"), 400);
}

TEST_F(HttpApiTest, EveryWriteReachesBothStoresLinkedByEventId) {
  TestClient client(port_);
  const TestResponse posted = client.PostEvent(EventBody("both", "purchase", R"({"amount": 12.50})"));
  ASSERT_EQ(posted.status, 201);
  const std::string event_id = ParseJson(posted.body)["eventId"].GetString();
  const std::string timestamp = ParseJson(client.Get("/events/both").body)[0]["timestamp"].GetString();
  StopService();

  const std::vector<MetadataRow> rows = MetadataRows();
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0].event_id, event_id);
  EXPECT_EQ(rows[0].user_id, "both");
  EXPECT_EQ(rows[0].event_type, "purchase");
  EXPECT_EQ(rows[0].timestamp, timestamp);

  const std::vector<DocumentRow> documents = DocumentRows();
  ASSERT_EQ(documents.size(), 1u);
  EXPECT_EQ(documents[0].event_id, event_id);
  EXPECT_EQ(documents[0].user_id, "both");
  EXPECT_EQ(documents[0].event_type, "purchase");
  EXPECT_EQ(documents[0].timestamp, timestamp);
  EXPECT_EQ(documents[0].details_json, R"({"amount":12.50})");

  // The UUIDv7 carries the same millisecond as the timestamp.
  const auto uuid = ParseUuid(event_id);
  ASSERT_TRUE(uuid.has_value());
  EXPECT_EQ(UuidVersion(*uuid), 7);
}

TEST_F(HttpApiTest, DataSurvivesRestart) {
  ASSERT_EQ(HttpRequest(port_, "POST", "/events", EventBody("durable", "t", "{}"),
                        {{"Content-Type", "application/json"}}).status, 201);
  StopService();
  StartService();
  EXPECT_EQ(ParseJson(HttpRequest(port_, "GET", "/events/durable").body).Size(), 1u);
}

TEST_F(HttpApiTest, ValidationErrorsNameTheField) {
  struct Case {
    std::string body;
    std::set<std::string> fields;
  };
  const std::vector<Case> cases = {
      {R"({"eventType":"t","jsonDetails":{}})", {"userId"}},
      {R"({"userId":"u","jsonDetails":{}})", {"eventType"}},
      {R"({"userId":"u","eventType":"t"})", {"jsonDetails"}},
      {R"({"userId":5,"eventType":"t","jsonDetails":{}})", {"userId"}},
      {R"({"userId":"u","eventType":"t","jsonDetails":"{}"})", {"jsonDetails"}},
      {R"({"userId":"u","eventType":"t","jsonDetails":[]})", {"jsonDetails"}},
      {R"({"userId":"u","userId":"v","eventType":"t","jsonDetails":{}})", {"userId"}},
      {R"({"userId":"u","eventType":"t","jsonDetails":{},"extra":1})", {"extra"}},
      {R"({"userId":"","eventType":"t","jsonDetails":{}})", {"userId"}},
      {R"({"userId":"a\u0001b","eventType":"t","jsonDetails":{}})", {"userId"}},
      {"{\"userId\":\"" + std::string(129, 'x') + R"(","eventType":"t","jsonDetails":{}})", {"userId"}},
      {R"({"userId":"u","eventType":"has space","jsonDetails":{}})", {"eventType"}},
      {"{\"userId\":\"u\",\"eventType\":\"" + std::string(65, 'e') + R"(","jsonDetails":{}})", {"eventType"}},
      {R"({"userId":"","eventType":"","jsonDetails":null})", {"userId", "eventType", "jsonDetails"}},
  };
  TestClient client(port_);
  for (const Case& c : cases) {
    SCOPED_TRACE(c.body);
    const rapidjson::Document problem = ExpectProblem(client.PostEvent(c.body), 400);
    EXPECT_EQ(ErrorFields(problem), c.fields);
  }
}

TEST_F(HttpApiTest, MalformedJsonIsRejected) {
  const std::vector<std::string> bodies = {
      "", "{", "not json", R"({"userId":"u","eventType":"t","jsonDetails":{}} trailing)",
      R"({"userId":"u","eventType":"t","jsonDetails":{}}{})", "[1,2]", "\"just a string\"",
      std::string("{\"userId\":\"u\xff\",\"eventType\":\"t\",\"jsonDetails\":{}}"),
      std::string(R"({"userId":"u","eventType":"t","jsonDetails":{}})") + std::string(1, '\0') + "x",
      R"({"userId":"\ud800","eventType":"t","jsonDetails":{}})",
  };
  TestClient client(port_);
  for (const std::string& body : bodies) {
    SCOPED_TRACE(body);
    ExpectProblem(client.PostEvent(body), 400);
  }
  // The connection is still usable afterwards.
  EXPECT_EQ(client.PostEvent(EventBody("after", "t", "{}")).status, 201);
}

TEST_F(HttpApiTest, NestingLimitIs32Levels) {
  const auto nested = [](int levels) {
    std::string details;
    for (int i = 1; i < levels; ++i) details += "{\"n\":";
    details += "{}";
    for (int i = 1; i < levels; ++i) details += "}";
    return details;
  };
  TestClient client(port_);
  EXPECT_EQ(client.PostEvent(EventBody("deep", "t", nested(32))).status, 201);
  const rapidjson::Document problem = ExpectProblem(client.PostEvent(EventBody("deep", "t", nested(33))), 400);
  EXPECT_EQ(ErrorFields(problem), std::set<std::string>{"jsonDetails"});
  // Far deeper than any stack would allow if parsing recursed.
  ExpectProblem(client.PostEvent(EventBody("deep", "t", std::string(30000, '[') + std::string(30000, ']'))), 400);
}

TEST_F(HttpApiTest, ContentTypeMustBeJson) {
  TestClient client(port_);
  const std::string body = EventBody("u", "t", "{}");
  ExpectProblem(client.Send("POST", "/events", body), 415);
  ExpectProblem(client.Send("POST", "/events", body, {{"Content-Type", "text/plain"}}), 415);
  ExpectProblem(client.Send("POST", "/events", body, {{"Content-Type", "application/jsonx"}}), 415);
  EXPECT_EQ(client.Send("POST", "/events", body, {{"Content-Type", "Application/JSON; charset=utf-8"}}).status, 201);
}

TEST_F(HttpApiTest, OversizedBodyGets413) {
  const std::string big = EventBody("u", "t", "{\"pad\":\"" + std::string(70 * 1024, 'x') + "\"}");
  ExpectProblem(HttpRequest(port_, "POST", "/events", big, {{"Content-Type", "application/json"}}), 413);

  // Chunked bodies count the same.
  TestClient chunked(port_);
  try {
    chunked.WriteRaw(ChunkedPost("/events", big));
  } catch (const std::exception&) {
    // The server may close before reading everything; the response still counts.
  }
  ExpectProblem(chunked.ReadResponse(), 413);

  // Just under the limit is fine.
  const std::string fits = EventBody("u", "t", "{\"pad\":\"" + std::string(60 * 1024, 'x') + "\"}");
  EXPECT_EQ(HttpRequest(port_, "POST", "/events", fits, {{"Content-Type", "application/json"}}).status, 201);
}

TEST_F(HttpApiTest, ChunkedBodyWithinLimitIsAccepted) {
  TestClient client(port_);
  const std::string body = EventBody("chunky", "t", R"({"a":1})");
  const std::string half1 = body.substr(0, 10), half2 = body.substr(10);
  char s1[16], s2[16];
  std::snprintf(s1, sizeof s1, "%zx", half1.size());
  std::snprintf(s2, sizeof s2, "%zx", half2.size());
  client.WriteRaw("POST /events HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                  "Transfer-Encoding: chunked\r\n\r\n" + std::string(s1) + "\r\n" + half1 + "\r\n" +
                  std::string(s2) + "\r\n" + half2 + "\r\n0\r\n\r\n");
  EXPECT_EQ(client.ReadResponse().status, 201);
}

TEST_F(HttpApiTest, ExpectContinueIsHonoured) {
  TestClient client(port_);
  const std::string body = EventBody("expect", "t", "{}");
  client.WriteRaw("POST /events HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nExpect: 100-continue\r\n"
                  "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n");
  // The client waits for the interim 100 before it sends the body.
  EXPECT_EQ(client.ReadResponse(/*skip_interim=*/false).status, 100);
  client.WriteRaw(body);
  EXPECT_EQ(client.ReadResponse().status, 201);

  // An oversized declared body is refused before the client sends it.
  TestClient refused(port_);
  refused.WriteRaw("POST /events HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                   "Expect: 100-continue\r\nContent-Length: 10000000\r\n\r\n");
  EXPECT_EQ(refused.ReadResponse(/*skip_interim=*/false).status, 413);
}

TEST_F(HttpApiTest, UnknownRoutesAndWrongMethods) {
  TestClient client(port_);
  ExpectProblem(client.Get("/nope"), 404);
  ExpectProblem(client.Get("/events/a/b/c"), 404);
  const TestResponse get_collection = client.Get("/events");
  ExpectProblem(get_collection, 405);
  EXPECT_EQ(get_collection.Header("allow"), "POST");
  const TestResponse post_user = client.Send("POST", "/events/u1", "{}", {{"Content-Type", "application/json"}});
  ExpectProblem(post_user, 405);
  EXPECT_EQ(post_user.Header("allow"), "GET");
  const TestResponse delete_user = client.Send("DELETE", "/events/u1");
  EXPECT_EQ(delete_user.status, 405);
  EXPECT_EQ(delete_user.Header("allow"), "GET");
  EXPECT_EQ(client.Get("/healthz").status, 200);
}

TEST_F(HttpApiTest, ReadyzIsOkWhenEveryStoreAnswers) {
  TestClient client(port_);
  const TestResponse ready = client.Get("/readyz");
  EXPECT_EQ(ready.status, 200) << ready.body;
  EXPECT_EQ(ready.body, R"({"status":"ready"})");
  EXPECT_EQ(client.Send("POST", "/readyz", "{}", {{"Content-Type", "application/json"}}).status, 405);
}

TEST_F(HttpApiTest, EveryResponseForbidsContentSniffing) {
  TestClient client(port_);
  const TestResponse created = client.PostEvent(EventBody("sniff", "t", "{}"));
  const TestResponse list = client.Get("/events/sniff");
  std::vector<TestResponse> responses = {
      created, list, client.Get(created.Header("location")), client.Get("/events/sniff?limit=0"),
      client.Get("/nowhere"), client.Send("DELETE", "/events/sniff"), client.Get("/healthz"), client.Get("/readyz"),
      client.Get("/metrics"), client.Send("GET", "/events/sniff", "", {{"If-None-Match", list.Header("etag")}}),
      client.Send("POST", "/events", "not json", {{"Content-Type", "application/json"}})};
  std::set<int> statuses;
  for (const TestResponse& response : responses) {
    EXPECT_EQ(response.Header("x-content-type-options"), "nosniff") << response.status;
    EXPECT_EQ(response.Header("server"), "") << "no version banner";
    statuses.insert(response.status);
  }
  EXPECT_EQ(statuses, (std::set<int>{200, 201, 304, 400, 404, 405}));
}

TEST_F(HttpApiTest, InvalidUserIdInPathIs400) {
  TestClient client(port_);
  EXPECT_EQ(ErrorFields(ExpectProblem(client.Get("/events/"), 400)), std::set<std::string>{"userId"});
  EXPECT_EQ(ErrorFields(ExpectProblem(client.Get("/events/a%01b"), 400)), std::set<std::string>{"userId"});
  EXPECT_EQ(ErrorFields(ExpectProblem(client.Get("/events/a%FFb"), 400)), std::set<std::string>{"userId"});
  EXPECT_EQ(ErrorFields(ExpectProblem(client.Get("/events/" + std::string(129, 'u')), 400)),
            std::set<std::string>{"userId"});
  ExpectProblem(client.Get("/events/bad%zzescape"), 400);
}

TEST_F(HttpApiTest, RequestIdIsEchoedWhenAcceptableAndGeneratedOtherwise) {
  TestClient client(port_);
  EXPECT_EQ(client.Send("GET", "/events/u", "", {{"X-Request-Id", "abc-123.x:y_z"}}).Header("x-request-id"),
            "abc-123.x:y_z");
  const std::string replaced = client.Send("GET", "/events/u", "", {{"X-Request-Id", "bad id!"}}).Header("x-request-id");
  EXPECT_FALSE(replaced.empty());
  EXPECT_NE(replaced, "bad id!");
  const std::string too_long = std::string(129, 'a');
  EXPECT_NE(client.Send("GET", "/events/u", "", {{"X-Request-Id", too_long}}).Header("x-request-id"), too_long);
  const std::string a = client.Get("/events/u").Header("x-request-id");
  const std::string b = client.Get("/events/u").Header("x-request-id");
  EXPECT_NE(a, b);
  // Errors carry it too.
  EXPECT_EQ(client.Send("GET", "/nope", "", {{"X-Request-Id", "trace-1"}}).Header("x-request-id"), "trace-1");
}

TEST_F(HttpApiTest, PipelinedRequestsAreAnsweredInOrder) {
  TestClient client(port_);
  const std::string body = EventBody("pipe", "t", "{}");
  const std::string post = "POST /events HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: " +
                           std::to_string(body.size()) + "\r\n\r\n" + body;
  client.WriteRaw(post + "GET /nope HTTP/1.1\r\nHost: x\r\n\r\n" + post +
                  "GET /events/pipe HTTP/1.1\r\nHost: x\r\nX-Request-Id: last\r\n\r\n");
  EXPECT_EQ(client.ReadResponse().status, 201);
  EXPECT_EQ(client.ReadResponse().status, 404);
  EXPECT_EQ(client.ReadResponse().status, 201);
  const TestResponse last = client.ReadResponse();
  EXPECT_EQ(last.status, 200);
  EXPECT_EQ(last.Header("x-request-id"), "last");
  EXPECT_EQ(ParseJson(last.body).Size(), 2u);
}

TEST_F(HttpApiTest, MalformedHttpGets400AndTheServerCarriesOn) {
  for (const std::string& garbage : {std::string("GARBAGE\r\n\r\n"), std::string("GET / HTTP/9.9\r\n\r\n"),
                                    std::string("GET /events/u HTTP/1.1\r\nBad Header\r\n\r\n"),
                                    std::string("POST /events HTTP/1.1\r\nContent-Length: zz\r\n\r\n")}) {
    SCOPED_TRACE(garbage);
    TestClient client(port_);
    client.WriteRaw(garbage);
    const TestResponse response = client.ReadResponse();
    EXPECT_EQ(response.status, 400);
    EXPECT_TRUE(client.ServerClosed());
  }
  TestClient huge_header(port_);
  huge_header.WriteRaw("GET /events/u HTTP/1.1\r\nX-Big: " + std::string(20000, 'a') + "\r\n\r\n");
  EXPECT_EQ(huge_header.ReadResponse().status, 431);
  EXPECT_EQ(HttpRequest(port_, "GET", "/healthz").status, 200);
}

TEST_F(HttpApiTest, ConnectionCloseIsRespected) {
  TestClient client(port_);
  const TestResponse response = client.Send("GET", "/healthz", "", {{"Connection", "close"}});
  EXPECT_EQ(response.status, 200);
  EXPECT_TRUE(client.ServerClosed());
}

TEST_F(HttpApiTest, ALoneWriteIsSyncedInABatchOfItsOwn) {
  // One client, one request at a time: nothing else is waiting, so each
  // write gets its own intent-log append and fdatasync at once.
  TestClient client(port_);
  for (int i = 0; i < 5; ++i) {
    ASSERT_EQ(client.PostEvent(EventBody("lone", "click", "{\"i\":" + std::to_string(i) + "}")).status, 201);
  }
  const std::string metrics = client.Get("/metrics").body;
  EXPECT_EQ(MetricValue(metrics, "eventlogger_intent_log_appends_total"), 5) << metrics;
  EXPECT_EQ(MetricValue(metrics, "eventlogger_intent_log_appended_events_total"), 5);
  EXPECT_GT(MetricValue(metrics, "eventlogger_intent_log_append_seconds_total"), 0);
}

// 32 clients x 200 events over keep-alive connections: every acknowledged
// event is in both stores exactly once, and each user's events come back in
// order.
TEST_F(HttpApiTest, ConcurrentClientsLoseNothing) {
  constexpr int kClients = 32;
  constexpr int kEventsPerClient = 200;
  std::vector<std::vector<std::string>> acknowledged(kClients);
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  for (int c = 0; c < kClients; ++c) {
    threads.emplace_back([&, c] {
      try {
        TestClient client(port_);
        for (int i = 0; i < kEventsPerClient; ++i) {
          const std::string user = "user-" + std::to_string((c * kEventsPerClient + i) % 50);
          const TestResponse r = client.PostEvent(
              EventBody(user, "click", "{\"client\":" + std::to_string(c) + ",\"i\":" + std::to_string(i) + "}"));
          if (r.status != 201) {
            ++failures;
            continue;
          }
          acknowledged[c].push_back(ParseJson(r.body)["eventId"].GetString());
        }
      } catch (const std::exception&) {
        ++failures;
      }
    });
  }
  for (auto& t : threads) t.join();
  ASSERT_EQ(failures.load(), 0);

  // Group commit: the intent log wrote every event, in batches that 32
  // concurrent clients made larger than one.
  const std::string metrics = HttpRequest(port_, "GET", "/metrics").body;
  EXPECT_EQ(MetricValue(metrics, "eventlogger_intent_log_appended_events_total"), kClients * kEventsPerClient)
      << metrics;
  EXPECT_GE(MetricValue(metrics, "eventlogger_intent_log_appends_total"), 1);
  EXPECT_LT(MetricValue(metrics, "eventlogger_intent_log_appends_total"), kClients * kEventsPerClient);
  EXPECT_GT(MetricValue(metrics, "eventlogger_intent_log_append_seconds_total"), 0);

  std::set<std::string> ids;
  for (const auto& list : acknowledged) ids.insert(list.begin(), list.end());
  ASSERT_EQ(ids.size(), static_cast<size_t>(kClients * kEventsPerClient)) << "duplicate eventIds";

  // Reads see every event, in order, per user.
  size_t seen = 0;
  for (int u = 0; u < 50; ++u) {
    // One page holds a user's whole history (128 events < limit).
    const rapidjson::Document events =
        ParseJson(HttpRequest(port_, "GET", "/events/user-" + std::to_string(u) + "?limit=1000").body);
    ASSERT_TRUE(events.IsArray());
    for (rapidjson::SizeType i = 0; i < events.Size(); ++i) {
      EXPECT_EQ(ids.count(events[i]["eventId"].GetString()), 1u);
      if (i > 0) {
        const std::pair<std::string, std::string> previous{events[i - 1]["timestamp"].GetString(), events[i - 1]["eventId"].GetString()};
        const std::pair<std::string, std::string> current{events[i]["timestamp"].GetString(), events[i]["eventId"].GetString()};
        EXPECT_LT(previous, current);
      }
    }
    seen += events.Size();
  }
  EXPECT_EQ(seen, ids.size());

  StopService();
  const std::vector<MetadataRow> rows = MetadataRows();
  const std::vector<DocumentRow> documents = DocumentRows();
  ASSERT_EQ(rows.size(), ids.size());
  ASSERT_EQ(documents.size(), ids.size());
  std::set<std::string> metadata_ids, document_ids;
  for (const auto& row : rows) metadata_ids.insert(row.event_id);
  for (const auto& row : documents) document_ids.insert(row.event_id);
  EXPECT_EQ(metadata_ids, ids);
  EXPECT_EQ(document_ids, ids);
}

TEST_F(HttpApiTest, ServesItsOpenApiDocumentAsBuilt) {
  const TestResponse response = HttpRequest(port_, "GET", "/openapi.json");
  ASSERT_EQ(response.status, 200);
  EXPECT_EQ(response.Header("content-type"), "application/json");
  std::ifstream source(std::string(EVENTLOGGER_SOURCE_DIR) + "/src/http/openapi/openapi.json");
  std::stringstream text;
  text << source.rdbuf();
  EXPECT_EQ(response.body, text.str());
  rapidjson::Document document;
  document.Parse(response.body.data(), response.body.size());
  ASSERT_TRUE(document.IsObject());
  EXPECT_STREQ(document["openapi"].GetString(), "3.1.0");
  EXPECT_EQ(std::string(document["info"]["version"].GetString()), std::string(kVersion));
  // Every route the router knows is described.
  for (const char* path : {"/events", "/events/batch", "/events/{userId}", "/events/{userId}/{eventId}", "/healthz", "/readyz",
                           "/metrics", "/openapi.json"}) {
    EXPECT_TRUE(document["paths"].HasMember(path)) << path;
  }
  EXPECT_EQ(HttpRequest(port_, "POST", "/openapi.json").status, 405);
}

}  // namespace

}  // namespace eventlogger::testing
