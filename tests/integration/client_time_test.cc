// Client times (occurredAt, sentAt) end to end: real server, loopback
// sockets, every backend. The skew correction to the millisecond, the
// normalisation of what the client wrote, the bounds (exactly at and past
// them), late events landing in their place of a user's history, batches,
// the single-event GET of a client-timed event, idempotent retries with a
// later sentAt, and a page walk while late events keep arriving.
//
// Expected values are computed here, independently of the service's code:
// an event's receipt time is the millisecond in its eventId (a UUIDv7: the
// first 12 hex digits), and timestamps are formatted by this file's own
// calendar arithmetic.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <rapidjson/document.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <functional>
#include <map>
#include <optional>
#include <random>
#include <set>
#include <string>
#include <thread>
#include <tuple>
#include <vector>

#include "integration/faulty_stores.h"
#include "integration/service_fixture.h"
#include "integration/test_client.h"

namespace eventlogger::testing {
namespace {

using ::testing::ElementsAre;
using ::testing::ElementsAreArray;
using ::testing::HasSubstr;

constexpr int64_t kSecond = 1000;
constexpr int64_t kMinute = 60 * kSecond;
constexpr int64_t kHour = 60 * kMinute;
constexpr int64_t kDay = 24 * kHour;
// The bounds ClientTimeTest configures.
constexpr int64_t kSkewMs = 60 * kSecond;
constexpr int64_t kAgeDays = 1;

rapidjson::Document Json(const std::string& text) {
  rapidjson::Document document;
  document.Parse(text.c_str(), text.size());
  EXPECT_FALSE(document.HasParseError()) << text;
  return document;
}

int64_t NowMs() {
  using namespace std::chrono;
  return duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
}

// "YYYY-MM-DDTHH:MM:SS.mmm" (no zone) for Unix milliseconds >= 0.
std::string Civil(int64_t ms) {
  using namespace std::chrono;
  const sys_days day = floor<days>(sys_time<milliseconds>(milliseconds(ms)));
  const year_month_day ymd(day);
  const int64_t in_day = ms - duration_cast<milliseconds>(day.time_since_epoch()).count();
  char text[96];  // room for any ints, so the compiler can prove no truncation
  std::snprintf(text, sizeof text, "%04d-%02u-%02uT%02d:%02d:%02d.%03d", static_cast<int>(ymd.year()),
                static_cast<unsigned>(ymd.month()), static_cast<unsigned>(ymd.day()),
                static_cast<int>(in_day / kHour), static_cast<int>(in_day / kMinute % 60),
                static_cast<int>(in_day / kSecond % 60), static_cast<int>(in_day % 1000));
  return text;
}

// The service's format: UTC, milliseconds, 'Z'.
std::string Iso(int64_t ms) { return Civil(ms) + "Z"; }

// The same instant as the wall-clock time at `offset_minutes` east of UTC,
// with `sub_ms` appended to the milliseconds (more fraction digits).
std::string Zoned(int64_t ms, int offset_minutes, const std::string& sub_ms = "") {
  const int magnitude = offset_minutes < 0 ? -offset_minutes : offset_minutes;
  char zone[32];  // room for any int, so the compiler can prove no truncation
  std::snprintf(zone, sizeof zone, "%c%02d:%02d", offset_minutes < 0 ? '-' : '+', magnitude / 60, magnitude % 60);
  return Civil(ms + offset_minutes * kMinute) + sub_ms + zone;
}

// The server's receipt of an event: the Unix ms of its UUIDv7.
int64_t IdMillis(const std::string& event_id) {
  EXPECT_EQ(event_id.size(), 36u) << event_id;
  EXPECT_EQ(event_id[14], '7') << event_id << " is not a UUIDv7";
  return std::stoll(event_id.substr(0, 8) + event_id.substr(9, 4), nullptr, 16);
}

std::string Member(const std::string& name, const std::string& value) {
  return ",\"" + name + "\":\"" + value + "\"";
}
std::string Occurred(const std::string& value) { return Member("occurredAt", value); }
std::string Sent(const std::string& value) { return Member("sentAt", value); }

// A POST /events body (or a batch item) with extra members appended.
std::string Body(const std::string& user, const std::string& members = "", const std::string& details = "{}") {
  return R"({"userId":")" + user + R"(","eventType":"t","jsonDetails":)" + details + members + "}";
}

std::string Batch(const std::vector<std::string>& items, const std::string& envelope_members = "") {
  std::string body = R"({"events":[)";
  for (size_t i = 0; i < items.size(); ++i) body += (i > 0 ? "," : "") + items[i];
  return body + "]" + envelope_members + "}";
}

TestResponse PostBatch(TestClient& client, const std::string& body) {
  return client.Send("POST", "/events/batch", body, {{"Content-Type", "application/json"}});
}

std::vector<int> Statuses(const rapidjson::Document& answer) {
  std::vector<int> statuses;
  for (const auto& result : answer["results"].GetArray()) statuses.push_back(result["status"].GetInt());
  return statuses;
}

// The fields a 400 problem names.
std::vector<std::string> ProblemFields(const TestResponse& response) {
  EXPECT_EQ(response.status, 400) << response.body;
  EXPECT_EQ(response.Header("content-type"), "application/problem+json");
  std::vector<std::string> fields;
  const rapidjson::Document problem = Json(response.body);
  if (problem.IsObject() && problem.HasMember("errors")) {
    for (const auto& error : problem["errors"].GetArray()) fields.push_back(error["field"].GetString());
  }
  return fields;
}

std::vector<std::string> ItemProblemFields(const rapidjson::Value& result) {
  std::vector<std::string> fields;
  EXPECT_EQ(result["status"].GetInt(), 400);
  EXPECT_FALSE(result.HasMember("eventId"));
  if (!result.HasMember("error")) {
    ADD_FAILURE() << "no error in a failed item";
    return fields;
  }
  EXPECT_STREQ(result["error"]["type"].GetString(), "/problems/validation-error");
  for (const auto& error : result["error"]["errors"].GetArray()) fields.push_back(error["field"].GetString());
  return fields;
}

// One event as GET shows it.
struct Shown {
  std::string event_id, timestamp, received_at;
  std::optional<std::string> occurred_at;
};

Shown ShownOf(const rapidjson::Value& event) {
  Shown shown;
  EXPECT_TRUE(event.IsObject());
  if (!event.IsObject()) return shown;
  EXPECT_TRUE(event.HasMember("eventId") && event.HasMember("timestamp") && event.HasMember("receivedAt"));
  if (event.HasMember("eventId")) shown.event_id = event["eventId"].GetString();
  if (event.HasMember("timestamp")) shown.timestamp = event["timestamp"].GetString();
  if (event.HasMember("receivedAt")) shown.received_at = event["receivedAt"].GetString();
  if (event.HasMember("occurredAt")) {
    EXPECT_TRUE(event["occurredAt"].IsString());
    shown.occurred_at = event["occurredAt"].GetString();
  }
  return shown;
}

std::vector<Shown> List(TestClient& client, const std::string& target) {
  const TestResponse response = client.Get(target);
  EXPECT_EQ(response.status, 200) << target << ": " << response.body;
  std::vector<Shown> out;
  const rapidjson::Document events = Json(response.body);
  if (!events.IsArray()) return out;
  for (const auto& event : events.GetArray()) out.push_back(ShownOf(event));
  return out;
}

std::vector<std::string> Ids(const std::vector<Shown>& events) {
  std::vector<std::string> ids;
  for (const Shown& event : events) ids.push_back(event.event_id);
  return ids;
}

std::map<std::string, Shown> ById(const std::vector<Shown>& events) {
  std::map<std::string, Shown> out;
  for (const Shown& event : events) out[event.event_id] = event;
  return out;
}

// The target of a Link: <target>; rel="next" field, or "" when there is none.
std::string NextTarget(const TestResponse& response) {
  const std::string link = response.Header("link");
  if (link.empty()) return {};
  const size_t close = link.find('>');
  EXPECT_EQ(link.front(), '<') << link;
  EXPECT_NE(close, std::string::npos) << link;
  EXPECT_EQ(link.substr(close), ">; rel=\"next\"") << link;
  return link.substr(1, close - 1);
}

// Follows Link headers from `target` to the end, calling `between_pages`
// after each page but the last.
std::vector<Shown> Walk(TestClient& client, const std::string& target, size_t limit,
                        const std::function<void()>& between_pages = {}) {
  std::vector<Shown> walked;
  std::string next = target;
  int pages = 0;
  while (!next.empty()) {
    const TestResponse page = client.Get(next);
    EXPECT_EQ(page.status, 200) << next << ": " << page.body;
    if (page.status != 200) break;
    const rapidjson::Document events = Json(page.body);
    for (const auto& event : events.GetArray()) walked.push_back(ShownOf(event));
    next = NextTarget(page);
    if (!next.empty()) {
      EXPECT_EQ(events.Size(), limit) << "a page with a next link must be full";
      if (between_pages) between_pages();
    }
    if (++pages > 2000) {
      ADD_FAILURE() << "the walk does not end";
      break;
    }
  }
  return walked;
}

class ClientTimeTest : public ServiceFixture {
 protected:
  void Configure(ServiceOptions& options) override {
    options.handlers.client_time.max_future_skew_ms = kSkewMs;
    options.handlers.client_time.max_event_age_days = kAgeDays;
  }

  // POSTs one event, expects 201, returns its eventId.
  std::string PostOk(TestClient& client, const std::string& body) {
    const TestResponse response = client.PostEvent(body);
    EXPECT_EQ(response.status, 201) << body << "\n" << response.body;
    const rapidjson::Document answer = Json(response.body);
    if (!answer.IsObject() || !answer.HasMember("eventId")) return {};
    return answer["eventId"].GetString();
  }

  // Expects GET to show the event with exactly these times: receivedAt is
  // always its eventId's millisecond; occurredAt only when given.
  static void ExpectTimes(const Shown& shown, int64_t timestamp_ms, const std::optional<std::string>& occurred_at,
                          const std::string& what) {
    SCOPED_TRACE(what);
    EXPECT_EQ(shown.timestamp, Iso(timestamp_ms));
    EXPECT_EQ(shown.received_at, Iso(IdMillis(shown.event_id)));
    EXPECT_EQ(shown.occurred_at, occurred_at);
    if (!occurred_at) {
      EXPECT_EQ(shown.received_at, shown.timestamp);
    }
  }
};

// Issue 18's rules, each to the millisecond; GET lists and the single-event
// GET show the same times.
TEST_F(ClientTimeTest, TimestampIsCorrectedExactlyAndTimesAreNormalised) {
  TestClient client(port_);
  const int64_t now = NowMs();
  struct Case {
    std::string what, members;
    int64_t correction;                 // timestamp = receivedAt - correction, when !absolute
    std::optional<int64_t> absolute;    // timestamp = this
    std::optional<std::string> occurred_at;
  };
  // A client clock 1 h fast, the event 10 s before sending.
  const int64_t fast_sent = now + kHour;
  // A client clock 2 h slow, written at -02:00 and +05:45, with digits
  // below the millisecond on both (dropped before subtracting).
  const int64_t slow_sent = now - 2 * kHour + 123;
  const int64_t slow_occurred = slow_sent - 2'500;
  // occurredAt alone: 5 min ago at +02:00 with microseconds; 10 min ago at
  // -05:30 without a fraction; 2 min ago ending .9999 (dropped, not rounded).
  const int64_t alone_zoned = now - 5 * kMinute;
  const int64_t alone_whole = (now - 10 * kMinute) / kSecond * kSecond;
  const int64_t alone_nines = (now - 2 * kMinute) / kSecond * kSecond + 999;
  const std::vector<Case> cases = {
      {"1 h fast clock", Occurred(Iso(fast_sent - 10 * kSecond)) + Sent(Iso(fast_sent)), 10 * kSecond, std::nullopt,
       Iso(fast_sent - 10 * kSecond)},
      {"sentAt before occurredAt in the body", Sent(Iso(fast_sent)) + Occurred(Iso(fast_sent - 10 * kSecond)),
       10 * kSecond, std::nullopt, Iso(fast_sent - 10 * kSecond)},
      {"2 h slow clock, offsets, sub-ms digits",
       Occurred(Zoned(slow_occurred, 345, "999")) + Sent(Zoned(slow_sent, -120, "000001")), 2'500, std::nullopt,
       Iso(slow_occurred)},
      {"occurredAt alone at +02:00", Occurred(Zoned(alone_zoned, 120, "456")), 0, alone_zoned, Iso(alone_zoned)},
      {"occurredAt alone at -05:30, whole seconds", Occurred(Zoned(alone_whole, -330).replace(19, 4, "")), 0,
       alone_whole, Iso(alone_whole)},
      {"occurredAt alone, .9999", Occurred(Civil(alone_nines) + "9Z"), 0, alone_nines, Iso(alone_nines)},
      {"occurredAt alone, one fraction digit", Occurred(Civil(alone_whole).substr(0, 19) + ".5Z"), 0,
       alone_whole + 500, Iso(alone_whole + 500)},
      {"occurredAt equal to sentAt", Occurred(Iso(now - kDay)) + Sent(Zoned(now - kDay, 60)), 0, std::nullopt,
       Iso(now - kDay)},
      {"a lone sentAt (1 h fast) changes nothing", Sent(Iso(fast_sent)), 0, std::nullopt, std::nullopt},
      {"a lone sentAt far off changes nothing", Sent("1999-01-01T00:00:00Z"), 0, std::nullopt, std::nullopt},
      {"no client times", "", 0, std::nullopt, std::nullopt},
  };
  std::vector<std::string> ids;
  for (const Case& c : cases) ids.push_back(PostOk(client, Body("ct-exact", c.members)));
  ASSERT_EQ(ids.size(), cases.size());

  const std::vector<Shown> listed = List(client, "/events/ct-exact?limit=1000");
  ASSERT_EQ(listed.size(), cases.size());
  // Ordered by timestamp, then eventId.
  for (size_t i = 1; i < listed.size(); ++i) {
    EXPECT_LT(std::tie(listed[i - 1].timestamp, listed[i - 1].event_id),
              std::tie(listed[i].timestamp, listed[i].event_id));
  }
  const std::map<std::string, Shown> shown = ById(listed);
  for (size_t i = 0; i < cases.size(); ++i) {
    const Case& c = cases[i];
    ASSERT_EQ(shown.count(ids[i]), 1u) << c.what;
    const int64_t expected = c.absolute ? *c.absolute : IdMillis(ids[i]) - c.correction;
    ExpectTimes(shown.at(ids[i]), expected, c.occurred_at, c.what + " (list)");
    const TestResponse one = client.Get("/events/ct-exact/" + ids[i]);
    ASSERT_EQ(one.status, 200) << c.what << ": " << one.body;
    const Shown single = ShownOf(Json(one.body));
    EXPECT_EQ(single.event_id, ids[i]);
    ExpectTimes(single, expected, c.occurred_at, c.what + " (single GET)");
  }
  // The raw JSON: no occurredAt member at all on server-timed events.
  const rapidjson::Document raw = Json(client.Get("/events/ct-exact?limit=1000").body);
  int with_occurred = 0;
  for (const auto& event : raw.GetArray()) with_occurred += event.HasMember("occurredAt") ? 1 : 0;
  EXPECT_EQ(with_occurred, 8);
}

TEST_F(ClientTimeTest, MalformedTimesAre400NamingTheFieldAndStoreNothing) {
  TestClient client(port_);
  const std::string good = Iso(NowMs());
  const std::vector<std::string> malformed = {
      "yesterday", "2025-06-29T16:32:45", "2025-13-01T00:00:00Z", "2025-02-30T00:00:00Z",
      "2025-06-29 16:32:45Z", "2025-06-29T16:32:45.Z", "2025-06-29T16:32:45+0200", "2025-06-29T24:00:00Z",
      "2025-06-29T16:32:45+02", "", " 2025-06-29T16:32:45Z"};
  for (const std::string& bad : malformed) {
    EXPECT_THAT(ProblemFields(client.PostEvent(Body("ct-bad", Occurred(bad)))), ElementsAre("occurredAt")) << bad;
    EXPECT_THAT(ProblemFields(client.PostEvent(Body("ct-bad", Occurred(bad) + Sent(good)))),
                ElementsAre("occurredAt"))
        << bad;
    EXPECT_THAT(ProblemFields(client.PostEvent(Body("ct-bad", Sent(bad)))), ElementsAre("sentAt")) << bad;
    EXPECT_THAT(ProblemFields(client.PostEvent(Body("ct-bad", Occurred(good) + Sent(bad)))), ElementsAre("sentAt"))
        << bad;
  }
  EXPECT_THAT(ProblemFields(client.PostEvent(Body("ct-bad", Occurred("x") + Sent("y")))),
              ElementsAre("occurredAt", "sentAt"));
  for (const std::string& value : {std::string("1751208765000"), std::string("null"), std::string("{}"),
                                   std::string("[\"" + good + "\"]"), std::string("true")}) {
    EXPECT_THAT(ProblemFields(client.PostEvent(Body("ct-bad", ",\"occurredAt\":" + value))),
                ElementsAre("occurredAt"))
        << value;
    EXPECT_THAT(ProblemFields(client.PostEvent(Body("ct-bad", ",\"sentAt\":" + value))), ElementsAre("sentAt"))
        << value;
  }
  EXPECT_EQ(client.Get("/events/ct-bad").body, "[]");
}

// Bounds are on the corrected timestamp: max_future_skew_ms ahead of the
// receipt, max_event_age_days back. With both times given, the timestamp is
// receivedAt - (sentAt - occurredAt), so the limits can be hit exactly.
TEST_F(ClientTimeTest, BoundsRefuseOnlyPastTheirLimits) {
  TestClient client(port_);
  const int64_t now = NowMs();
  const int64_t age_ms = kAgeDays * kDay;
  struct Accepted {
    std::string members;
    int64_t correction;
    std::optional<int64_t> absolute;
    std::string occurred_at;
  };
  // sentAt = S, occurredAt = S + d: timestamp = receivedAt + d.
  const auto pair = [](int64_t sent, int64_t delta) { return Occurred(Iso(sent + delta)) + Sent(Iso(sent)); };
  const std::vector<std::pair<std::string, std::string>> refused = {
      {"skew + 1 ms", pair(now, kSkewMs + 1)},
      {"age + 1 ms", pair(now, -age_ms - 1)},
      {"skew + 1 ms, a clock a year slow", pair(now - 365 * kDay, kSkewMs + 1)},
      {"age + 1 ms, a clock a day fast", pair(now + kDay, -age_ms - 1)},
      {"occurredAt alone 1 h ahead", Occurred(Iso(now + kHour))},
      {"occurredAt alone 2 days back", Occurred(Iso(now - 2 * kDay))},
      {"occurredAt alone in 2999", Occurred("2999-01-01T00:00:00Z")},
      {"occurredAt alone in 1970", Occurred("1970-01-01T00:00:00Z")},
      {"occurredAt before 1970", Occurred("1969-12-31T23:59:59.999Z")},
      {"occurredAt before 1970 by its offset", Occurred("1970-01-01T00:30:00+01:00")},
      {"occurredAt in year 0000", Occurred("0000-01-01T00:00:00Z")},
      // Corrected, this lies 1 ms before receipt: only the 1970 rule refuses it.
      {"occurredAt before 1970, corrected into bounds",
       Occurred("1969-12-31T23:59:59.999Z") + Sent("1970-01-01T00:00:00.000Z")},
  };
  for (const auto& [what, members] : refused) {
    const TestResponse response = client.PostEvent(Body("ct-bounds", members));
    EXPECT_THAT(ProblemFields(response), ElementsAre("occurredAt")) << what << "\n" << response.body;
  }
  const std::vector<Accepted> accepted = {
      {pair(now, kSkewMs), -kSkewMs, std::nullopt, Iso(now + kSkewMs)},
      {pair(now, -age_ms), age_ms, std::nullopt, Iso(now - age_ms)},
      {pair(now - 365 * kDay, kSkewMs), -kSkewMs, std::nullopt, Iso(now - 365 * kDay + kSkewMs)},
      {pair(now + kDay, -age_ms), age_ms, std::nullopt, Iso(now + kDay - age_ms)},
      {Occurred(Iso(now + 30 * kSecond)), 0, now + 30 * kSecond, Iso(now + 30 * kSecond)},
      {Occurred(Iso(now - 23 * kHour)), 0, now - 23 * kHour, Iso(now - 23 * kHour)},
      {Occurred("1970-01-01T00:00:00Z") + Sent("1970-01-01T00:00:00.000+00:00"), 0, std::nullopt,
       "1970-01-01T00:00:00.000Z"},
      {Occurred("1970-01-01T01:00:00+01:00") + Sent("1970-01-01T00:00:01Z"), 1000, std::nullopt,
       "1970-01-01T00:00:00.000Z"},
  };
  std::vector<std::string> ids;
  for (const Accepted& a : accepted) ids.push_back(PostOk(client, Body("ct-bounds", a.members)));
  const std::map<std::string, Shown> shown = ById(List(client, "/events/ct-bounds?limit=1000"));
  ASSERT_EQ(shown.size(), accepted.size()) << "only the accepted events are stored";
  for (size_t i = 0; i < accepted.size(); ++i) {
    ASSERT_EQ(shown.count(ids[i]), 1u) << accepted[i].members;
    const int64_t expected =
        accepted[i].absolute ? *accepted[i].absolute : IdMillis(ids[i]) - accepted[i].correction;
    ExpectTimes(shown.at(ids[i]), expected, accepted[i].occurred_at, accepted[i].members);
  }
}

// Without Configure: the documented defaults, 5 minutes ahead and 30 days back.
class ClientTimeDefaultBoundsTest : public ServiceFixture {};

TEST_F(ClientTimeDefaultBoundsTest, DefaultsAreFiveMinutesAheadAndThirtyDaysBack) {
  TestClient client(port_);
  const int64_t now = NowMs();
  const auto pair = [](int64_t sent, int64_t delta) { return Occurred(Iso(sent + delta)) + Sent(Iso(sent)); };
  EXPECT_EQ(client.PostEvent(Body("ct-defaults", pair(now, 5 * kMinute))).status, 201);
  EXPECT_THAT(ProblemFields(client.PostEvent(Body("ct-defaults", pair(now, 5 * kMinute + 1)))),
              ElementsAre("occurredAt"));
  EXPECT_EQ(client.PostEvent(Body("ct-defaults", pair(now, -30 * kDay))).status, 201);
  EXPECT_THAT(ProblemFields(client.PostEvent(Body("ct-defaults", pair(now, -30 * kDay - 1)))),
              ElementsAre("occurredAt"));
  EXPECT_EQ(client.PostEvent(Body("ct-defaults", Occurred(Iso(now - 29 * kDay)))).status, 201);
  EXPECT_EQ(List(client, "/events/ct-defaults").size(), 3u);
}

// A late event sorts by its timestamp, not by when it arrived; from/to
// filter on the timestamp too.
TEST_F(ClientTimeTest, LateEventsLandInTheirPlaceOfTheHistory) {
  TestClient client(port_);
  std::vector<std::string> on_time;
  for (int i = 0; i < 3; ++i) {
    if (i > 0) std::this_thread::sleep_for(std::chrono::milliseconds(5));  // distinct milliseconds
    on_time.push_back(PostOk(client, Body("ct-late", "", "{\"i\":" + std::to_string(i) + "}")));
  }
  const int64_t t0 = IdMillis(on_time[0]), t1 = IdMillis(on_time[1]), t2 = IdMillis(on_time[2]);
  ASSERT_LT(t0 + 1, t1);
  ASSERT_LT(t1, t2);
  // Read once first so that any cached first page has to be dropped.
  EXPECT_THAT(Ids(List(client, "/events/ct-late")), ElementsAreArray(on_time));
  EXPECT_THAT(Ids(List(client, "/events/ct-late?order=desc")),
              ElementsAre(on_time[2], on_time[1], on_time[0]));

  const int64_t early_ms = t0 - 10 * kMinute;
  const std::string early = PostOk(client, Body("ct-late", Occurred(Iso(early_ms))));
  const std::string between = PostOk(client, Body("ct-late", Occurred(Iso(t0 + 1))));
  // Received last; a clock 1 h slow, the event 30 s ahead of its sentAt:
  // corrected to 30 s after its receipt, so last in the history.
  const int64_t slow_sent = NowMs() - kHour;
  const std::string corrected =
      PostOk(client, Body("ct-late", Occurred(Iso(slow_sent + 30 * kSecond)) + Sent(Iso(slow_sent))));
  ASSERT_LT(on_time[2], early);  // all three were received after the others
  ASSERT_LT(early, between);

  const std::vector<std::string> asc = {early, on_time[0], between, on_time[1], on_time[2], corrected};
  const std::vector<std::string> desc(asc.rbegin(), asc.rend());
  const std::vector<Shown> listed = List(client, "/events/ct-late");
  EXPECT_THAT(Ids(listed), ElementsAreArray(asc));
  EXPECT_THAT(Ids(List(client, "/events/ct-late?order=desc")), ElementsAreArray(desc));
  EXPECT_THAT(Ids(Walk(client, "/events/ct-late?limit=1", 1)), ElementsAreArray(asc));
  EXPECT_THAT(Ids(Walk(client, "/events/ct-late?limit=2&order=desc", 2)), ElementsAreArray(desc));
  ASSERT_EQ(listed.size(), asc.size());
  ExpectTimes(listed[0], early_ms, Iso(early_ms), "early");
  ExpectTimes(listed[2], t0 + 1, Iso(t0 + 1), "between");

  // from is inclusive, to exclusive, both on the timestamp: the late events'
  // receipt (after t2) does not count.
  const std::string base = "/events/ct-late?from=";
  EXPECT_THAT(Ids(List(client, base + Iso(t0))),
              ElementsAre(on_time[0], between, on_time[1], on_time[2], corrected));
  EXPECT_THAT(Ids(List(client, "/events/ct-late?to=" + Iso(t0))), ElementsAre(early));
  EXPECT_THAT(Ids(List(client, base + Iso(early_ms) + "&to=" + Iso(early_ms + 1))), ElementsAre(early));
  EXPECT_THAT(Ids(List(client, base + Iso(t0 + 1) + "&to=" + Iso(t1))), ElementsAre(between));
  EXPECT_THAT(Ids(List(client, base + Iso(t0 + 1) + "&to=" + Iso(t1) + "&order=desc")), ElementsAre(between));
  EXPECT_THAT(Ids(List(client, base + Iso(early_ms + 1) + "&to=" + Iso(t1) + "&order=desc")),
              ElementsAre(between, on_time[0]));
  // The receipt time of `early` (after t2) finds nothing of it.
  const int64_t early_received = IdMillis(early);
  for (const Shown& event : List(client, base + Iso(early_received) + "&to=" + Iso(early_received + 1))) {
    EXPECT_NE(event.event_id, early);
  }
}

TEST_F(ClientTimeTest, BatchesApplyTheEnvelopeSentAtAndRefuseOnlyTheBadItems) {
  TestClient client(port_);
  const int64_t now = NowMs();
  const int64_t sent = now + kHour;  // a clock 1 h fast
  // Envelope sentAt covers every item; an item without occurredAt is
  // server-timed whatever the envelope says.
  {
    const std::vector<std::string> items = {
        Body("ct-batch", Occurred(Iso(sent - 1 * kSecond))),
        Body("ct-batch", Occurred(Zoned(sent - 2 * kSecond, -480, "77"))),
        Body("ct-batch"),
        Body("ct-batch-2", Occurred(Iso(sent - 3 * kSecond))),
    };
    const TestResponse response = PostBatch(client, Batch(items, Sent(Zoned(sent, 60))));
    ASSERT_EQ(response.status, 200) << response.body;
    const rapidjson::Document answer = Json(response.body);
    ASSERT_EQ(Statuses(answer), (std::vector<int>{201, 201, 201, 201}));
    std::vector<std::string> ids;
    for (const auto& result : answer["results"].GetArray()) ids.push_back(result["eventId"].GetString());
    const std::map<std::string, Shown> shown = ById(List(client, "/events/ct-batch"));
    ASSERT_EQ(shown.size(), 3u);
    ExpectTimes(shown.at(ids[0]), IdMillis(ids[0]) - 1 * kSecond, Iso(sent - 1 * kSecond), "item 0");
    ExpectTimes(shown.at(ids[1]), IdMillis(ids[1]) - 2 * kSecond, Iso(sent - 2 * kSecond), "item 1");
    ExpectTimes(shown.at(ids[2]), IdMillis(ids[2]), std::nullopt, "item 2");
    const std::vector<Shown> other = List(client, "/events/ct-batch-2");
    ASSERT_EQ(other.size(), 1u);
    ExpectTimes(other[0], IdMillis(ids[3]) - 3 * kSecond, Iso(sent - 3 * kSecond), "item 3");
    // Read back one by one too (they are client-timed).
    EXPECT_EQ(client.Get("/events/ct-batch/" + ids[1]).status, 200);
    EXPECT_EQ(client.Get("/events/ct-batch-2/" + ids[3]).status, 200);
    EXPECT_EQ(client.Get("/events/ct-batch/" + ids[3]).status, 404);
  }
  // Without an envelope sentAt, occurredAt is taken as it is.
  {
    const int64_t occurred = now - 7 * kMinute;
    const TestResponse response = PostBatch(client, Batch({Body("ct-batch-alone", Occurred(Iso(occurred)))}));
    ASSERT_EQ(response.status, 200) << response.body;
    const std::vector<Shown> shown = List(client, "/events/ct-batch-alone");
    ASSERT_EQ(shown.size(), 1u);
    ExpectTimes(shown[0], occurred, Iso(occurred), "no envelope sentAt");
  }
  // A mixed batch: out-of-bounds items, an item's own sentAt and a malformed
  // occurredAt fail alone; the rest is stored.
  {
    const std::vector<std::string> items = {
        Body("ct-mixed", Occurred(Iso(sent - 5 * kSecond))),
        Body("ct-mixed", Occurred(Iso(sent + kSkewMs + 1))),           // too far ahead once corrected
        Body("ct-mixed", Occurred(Iso(sent + kSkewMs))),               // exactly at the limit
        Body("ct-mixed", Occurred(Iso(sent - kAgeDays * kDay - 1))),   // too old once corrected
        Body("ct-mixed", Occurred(Iso(sent)) + Sent(Iso(sent))),       // sentAt belongs to the envelope
        Body("ct-mixed", Occurred("2025-06-29T16:32:45")),             // no zone
        Body("ct-mixed", Occurred("1969-12-31T23:59:59Z")),            // before 1970
        Body("ct-mixed"),
    };
    const TestResponse response = PostBatch(client, Batch(items, Sent(Iso(sent))));
    ASSERT_EQ(response.status, 207) << response.body;
    const rapidjson::Document answer = Json(response.body);
    EXPECT_EQ(Statuses(answer), (std::vector<int>{201, 400, 201, 400, 400, 400, 400, 201}));
    for (rapidjson::SizeType i = 0; i < answer["results"].Size(); ++i) {
      EXPECT_EQ(answer["results"][i]["index"].GetInt(), static_cast<int>(i));
    }
    EXPECT_THAT(ItemProblemFields(answer["results"][1]), ElementsAre("occurredAt"));
    EXPECT_THAT(ItemProblemFields(answer["results"][3]), ElementsAre("occurredAt"));
    EXPECT_THAT(ItemProblemFields(answer["results"][4]), ElementsAre("sentAt"));
    EXPECT_THAT(ItemProblemFields(answer["results"][5]), ElementsAre("occurredAt"));
    EXPECT_THAT(ItemProblemFields(answer["results"][6]), ElementsAre("occurredAt"));
    const std::string id0 = answer["results"][0]["eventId"].GetString();
    const std::string id2 = answer["results"][2]["eventId"].GetString();
    const std::string id7 = answer["results"][7]["eventId"].GetString();
    const std::vector<Shown> shown = List(client, "/events/ct-mixed");
    ASSERT_THAT(Ids(shown), ElementsAre(id0, id7, id2));  // by timestamp: -5 s, receipt, +skew
    ExpectTimes(shown[0], IdMillis(id0) - 5 * kSecond, Iso(sent - 5 * kSecond), "mixed item 0");
    ExpectTimes(shown[1], IdMillis(id7), std::nullopt, "mixed item 7");
    ExpectTimes(shown[2], IdMillis(id2) + kSkewMs, Iso(sent + kSkewMs), "mixed item 2");
  }
  // A bad envelope sentAt refuses the whole batch.
  for (const std::string& envelope :
       {Sent("not a time"), Sent("2025-06-29T16:32:45"), std::string(",\"sentAt\":12345"),
        std::string(",\"sentAt\":null"), std::string(",\"sentAt\":[\"" + Iso(sent) + "\"]"),
        Sent(Iso(sent)) + Sent(Iso(sent))}) {
    const TestResponse response =
        PostBatch(client, Batch({Body("ct-envelope", Occurred(Iso(now))), Body("ct-envelope")}, envelope));
    EXPECT_THAT(ProblemFields(response), ElementsAre("sentAt")) << envelope << "\n" << response.body;
  }
  EXPECT_EQ(client.Get("/events/ct-envelope").body, "[]");
}

TEST_F(ClientTimeTest, SingleEventGetFindsClientTimedEvents) {
  TestClient client(port_);
  const int64_t now = NowMs();
  const std::string plain = PostOk(client, Body("ct-one", "", R"({"kind":"plain"})"));
  const std::string late = PostOk(client, Body("ct-one", Occurred(Iso(now - 20 * kHour)), R"({"kind":"late"})"));
  const std::string ahead = PostOk(client, Body("ct-one", Occurred(Iso(now + 10 * kSecond)), R"({"kind":"ahead"})"));
  const std::string skewed = PostOk(
      client, Body("ct-one", Occurred(Iso(now - kDay - 500)) + Sent(Iso(now - kDay)), R"({"kind":"skewed"})"));
  PostOk(client, Body("ct-one-other", Occurred(Iso(now - kHour))));

  const std::map<std::string, std::pair<std::string, int64_t>> expected = {
      {plain, {"plain", IdMillis(plain)}},
      {late, {"late", now - 20 * kHour}},
      {ahead, {"ahead", now + 10 * kSecond}},
      {skewed, {"skewed", IdMillis(skewed) - 500}},
  };
  for (const auto& [id, kind_and_time] : expected) {
    const TestResponse one = client.Get("/events/ct-one/" + id);
    ASSERT_EQ(one.status, 200) << kind_and_time.first << ": " << one.body;
    const rapidjson::Document event = Json(one.body);
    EXPECT_STREQ(event["userId"].GetString(), "ct-one");
    EXPECT_STREQ(event["eventId"].GetString(), id.c_str());
    EXPECT_STREQ(event["jsonPayload"]["kind"].GetString(), kind_and_time.first.c_str());
    const Shown shown = ShownOf(event);
    EXPECT_EQ(shown.timestamp, Iso(kind_and_time.second)) << kind_and_time.first;
    EXPECT_EQ(shown.received_at, Iso(IdMillis(id))) << kind_and_time.first;
    EXPECT_EQ(shown.occurred_at.has_value(), id != plain) << kind_and_time.first;
    // The same representation as in the list.
    bool found = false;
    const rapidjson::Document list = Json(client.Get("/events/ct-one").body);
    for (const auto& listed : list.GetArray()) {
      if (listed["eventId"].GetString() != id) continue;
      found = true;
      rapidjson::Document copy;
      copy.CopyFrom(listed, copy.GetAllocator());
      EXPECT_TRUE(copy == event) << kind_and_time.first;
    }
    EXPECT_TRUE(found);
    // Another user does not see it.
    EXPECT_EQ(client.Get("/events/ct-one-other/" + id).status, 404) << kind_and_time.first;
  }
  EXPECT_EQ(client.Get("/events/ct-one/01890a5d-ac96-774b-bcce-b302099a8057").status, 404);
  // An unknown id whose millisecond is that of the late event's timestamp.
  char unknown[40];
  std::snprintf(unknown, sizeof unknown, "%08llx-%04llx-7000-8000-000000000000",
                static_cast<unsigned long long>((now - 20 * kHour) >> 16),
                static_cast<unsigned long long>((now - 20 * kHour) & 0xffff));
  EXPECT_EQ(client.Get(std::string("/events/ct-one/") + unknown).status, 404) << unknown;
}

TEST_F(ClientTimeTest, RetriesWithALaterSentAtReplayAndAnotherOccurredAtIs422) {
  TestClient client(port_);
  const int64_t now = NowMs();
  const int64_t occurred = now - 30 * kSecond;
  const auto body = [&](int64_t occurred_at, int64_t sent_at) {
    return Body("ct-idem", Occurred(Iso(occurred_at)) + Sent(Iso(sent_at)), R"({"n":1})");
  };
  const TestResponse first = client.PostEvent(body(occurred, now), {{"Idempotency-Key", "ct-key"}});
  ASSERT_EQ(first.status, 201) << first.body;
  EXPECT_EQ(first.Header("idempotent-replayed"), "");
  const std::string id = Json(first.body)["eventId"].GetString();

  const auto expect_replay = [&](const std::string& what, const std::string& retry_body) {
    const TestResponse retry = client.PostEvent(retry_body, {{"Idempotency-Key", "ct-key"}});
    EXPECT_EQ(retry.status, 201) << what << ": " << retry.body;
    EXPECT_EQ(retry.Header("idempotent-replayed"), "true") << what;
    EXPECT_EQ(Json(retry.body)["eventId"].GetString(), id) << what;
  };
  const auto expect_mismatch = [&](const std::string& what, const std::string& retry_body) {
    const TestResponse retry = client.PostEvent(retry_body, {{"Idempotency-Key", "ct-key"}});
    EXPECT_EQ(retry.status, 422) << what << ": " << retry.body;
    EXPECT_THAT(retry.body, HasSubstr("/problems/idempotency-key-mismatch")) << what;
  };
  expect_replay("the same body", body(occurred, now));
  expect_replay("a later sentAt", body(occurred, now + 2 * kSecond));
  expect_replay("the same instants written at an offset",
                Body("ct-idem", Occurred(Zoned(occurred, 180)) + Sent(Zoned(now + 9 * kSecond, -60)), R"({"n":1})"));
  expect_replay("no sentAt at all", Body("ct-idem", Occurred(Iso(occurred)), R"({"n":1})"));
  expect_mismatch("occurredAt 1 ms later", body(occurred + 1, now + 3 * kSecond));
  expect_mismatch("no occurredAt", Body("ct-idem", Sent(Iso(now)), R"({"n":1})"));
  expect_mismatch("another payload", Body("ct-idem", Occurred(Iso(occurred)) + Sent(Iso(now)), R"({"n":2})"));

  // The same after a restart: the answer comes from the stores now.
  StopService();
  StartService();
  TestClient again(port_);
  const TestResponse after = again.PostEvent(body(occurred, now + 20 * kSecond), {{"Idempotency-Key", "ct-key"}});
  EXPECT_EQ(after.status, 201) << after.body;
  EXPECT_EQ(after.Header("idempotent-replayed"), "true");
  EXPECT_EQ(Json(after.body)["eventId"].GetString(), id);
  EXPECT_EQ(again.PostEvent(body(occurred - 1, now + 21 * kSecond), {{"Idempotency-Key", "ct-key"}}).status, 422);

  const std::vector<Shown> shown = List(again, "/events/ct-idem");
  ASSERT_EQ(shown.size(), 1u);
  ExpectTimes(shown[0], IdMillis(id) - 30 * kSecond, Iso(occurred), "the one event");

  // Batch items: the envelope's later sentAt replays; another occurredAt is 422.
  const auto item = [](int64_t occurred_at, const std::string& key) {
    return R"({"userId":"ct-idem-batch","eventType":"t","jsonDetails":{},"idempotencyKey":")" + key +
           "\"" + Occurred(Iso(occurred_at)) + "}";
  };
  const TestResponse batch1 =
      PostBatch(again, Batch({item(occurred, "b-1"), item(occurred - kSecond, "b-2")}, Sent(Iso(now))));
  ASSERT_EQ(batch1.status, 200) << batch1.body;
  const rapidjson::Document answer1 = Json(batch1.body);
  const TestResponse batch2 = PostBatch(
      again, Batch({item(occurred, "b-1"), item(occurred, "b-2")}, Sent(Iso(now + 5 * kSecond))));
  ASSERT_EQ(batch2.status, 207) << batch2.body;
  const rapidjson::Document answer2 = Json(batch2.body);
  EXPECT_EQ(Statuses(answer2), (std::vector<int>{201, 422}));
  EXPECT_STREQ(answer2["results"][0]["eventId"].GetString(), answer1["results"][0]["eventId"].GetString());
  EXPECT_TRUE(answer2["results"][0].HasMember("idempotentReplayed") &&
              answer2["results"][0]["idempotentReplayed"].GetBool());
  EXPECT_STREQ(answer2["results"][1]["error"]["type"].GetString(), "/problems/idempotency-key-mismatch");
  // A single POST with the batch item's key and its body is the same request.
  const TestResponse single = again.PostEvent(
      Body("ct-idem-batch", Occurred(Iso(occurred - kSecond)) + Sent(Iso(now + kMinute))), {{"Idempotency-Key", "b-2"}});
  EXPECT_EQ(single.status, 201) << single.body;
  EXPECT_EQ(single.Header("idempotent-replayed"), "true");
  EXPECT_EQ(Json(single.body)["eventId"].GetString(), std::string(answer1["results"][1]["eventId"].GetString()));
  EXPECT_EQ(List(again, "/events/ct-idem-batch").size(), 2u);
}

// A write the document store fails is queued (202) and finished by the
// retry path: the client's times survive the queue exactly.
class ClientTimeRetryTest : public ClientTimeTest {
 protected:
  void Configure(ServiceOptions& options) override {
    ClientTimeTest::Configure(options);
    options.retry.poll_interval = std::chrono::milliseconds(20);
    options.retry.policy.base = std::chrono::milliseconds(20);
    options.retry.policy.cap = std::chrono::milliseconds(100);
    options.writer.first_retry_delay = std::chrono::milliseconds(20);
    options.handlers.store_timeout = std::chrono::milliseconds(2'000);
  }
  void TearDown() override {
    document_fault_.Set(Fault::Mode::kPass);
    ClientTimeTest::TearDown();
  }
  Fault document_fault_;
};

TEST_F(ClientTimeRetryTest, QueuedWritesKeepTheirClientTimes) {
  RestartWithFaultyDocumentStore(document_fault_);
  document_fault_.Set(Fault::Mode::kFail);
  TestClient client(port_);
  const int64_t now = NowMs();
  const int64_t sent = now + kHour;
  const std::string single_body =
      Body("ct-queued", Occurred(Iso(sent - 4 * kSecond)) + Sent(Iso(sent)), R"({"n":1})");
  const TestResponse single = client.PostEvent(single_body, {{"Idempotency-Key", "q-1"}});
  ASSERT_EQ(single.status, 202) << single.body;
  const std::string single_id = Json(single.body)["eventId"].GetString();
  const TestResponse alone = client.PostEvent(Body("ct-queued", Occurred(Iso(now - 3 * kHour))));
  ASSERT_EQ(alone.status, 202) << alone.body;
  const std::string alone_id = Json(alone.body)["eventId"].GetString();
  const TestResponse batch = PostBatch(
      client, Batch({Body("ct-queued", Occurred(Iso(sent - 6 * kSecond))), Body("ct-queued")}, Sent(Iso(sent))));
  ASSERT_EQ(batch.status, 200) << batch.body;
  const rapidjson::Document answer = Json(batch.body);
  ASSERT_EQ(Statuses(answer), (std::vector<int>{202, 202}));
  const std::string batch_id0 = answer["results"][0]["eventId"].GetString();
  const std::string batch_id1 = answer["results"][1]["eventId"].GetString();
  // A retry while queued, with a later sentAt: the same event.
  const TestResponse retry = client.PostEvent(
      Body("ct-queued", Occurred(Iso(sent - 4 * kSecond)) + Sent(Iso(sent + kSecond)), R"({"n":1})"),
      {{"Idempotency-Key", "q-1"}});
  EXPECT_EQ(retry.Header("idempotent-replayed"), "true") << retry.status << " " << retry.body;
  EXPECT_EQ(Json(retry.body)["eventId"].GetString(), single_id);

  document_fault_.Set(Fault::Mode::kPass);
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  std::vector<Shown> shown;
  while (std::chrono::steady_clock::now() < deadline) {
    shown = List(client, "/events/ct-queued");
    if (shown.size() >= 4) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  ASSERT_EQ(shown.size(), 4u);
  // By timestamp: 3 h back, then the corrected ones (-6 s, -4 s), then the
  // server-timed one.
  EXPECT_THAT(Ids(shown), ElementsAre(alone_id, batch_id0, single_id, batch_id1));
  ExpectTimes(shown[0], now - 3 * kHour, Iso(now - 3 * kHour), "occurredAt alone");
  ExpectTimes(shown[1], IdMillis(batch_id0) - 6 * kSecond, Iso(sent - 6 * kSecond), "batch item");
  ExpectTimes(shown[2], IdMillis(single_id) - 4 * kSecond, Iso(sent - 4 * kSecond), "single");
  ExpectTimes(shown[3], IdMillis(batch_id1), std::nullopt, "batch item without occurredAt");
  for (const std::string& id : {alone_id, batch_id0, single_id}) {
    const TestResponse one = client.Get("/events/ct-queued/" + id);
    EXPECT_EQ(one.status, 200) << one.body;
  }
}

// A keyset walk sees every event that existed when it began exactly once,
// while late events (timestamps among those already walked or still ahead)
// and new ones keep arriving; each walk is ordered throughout.
TEST_F(ClientTimeTest, AWalkDuringLateWritesSeesEveryEarlierEventExactlyOnce) {
  const int64_t start = NowMs();
  {
    TestClient client(port_);
    // Half one by one: server-timed, occurredAt alone, and with a sentAt
    // (corrected to 30 s per index before receipt).
    for (int i = 0; i < 15; ++i) {
      std::string members;
      if (i % 3 == 1) members = Occurred(Iso(start - i * kMinute));
      if (i % 3 == 2) members = Occurred(Iso(start + kHour - i * 30 * kSecond)) + Sent(Iso(start + kHour));
      PostOk(client, Body("ct-walk", members, "{\"i\":" + std::to_string(i) + "}"));
    }
    // Half as a batch whose envelope sentAt corrects its items' occurredAt.
    std::vector<std::string> items;
    for (int i = 15; i < 30; ++i) {
      const std::string members = i % 2 == 0 ? Occurred(Iso(start + kHour - i * kMinute)) : std::string();
      items.push_back(Body("ct-walk", members, "{\"i\":" + std::to_string(i) + "}"));
    }
    const TestResponse batch = PostBatch(client, Batch(items, Sent(Iso(start + kHour))));
    ASSERT_EQ(batch.status, 200) << batch.body;
  }
  TestClient reader(port_);
  const std::vector<Shown> before = List(reader, "/events/ct-walk?limit=1000");
  ASSERT_EQ(before.size(), 30u);
  std::set<std::string> existing;
  for (const Shown& event : before) existing.insert(event.event_id);

  std::mt19937_64 random(42);
  // A late event somewhere among the existing ones (up to 35 min back).
  const auto late_event = [&random, start] {
    return Body("ct-walk", Occurred(Iso(start - static_cast<int64_t>(random() % (35 * kMinute)))));
  };
  for (const std::string order : {"asc", "desc"}) {
    // Writes from another connection all along, alternately late and new,
    // and between every two pages one of each for sure.
    std::atomic<bool> stop{false};
    std::thread writer([this, &stop, start] {
      TestClient client(port_);
      std::mt19937_64 own_random(7);
      for (int i = 0; !stop.load(); ++i) {
        const std::string members =
            i % 2 == 0 ? Occurred(Iso(start - static_cast<int64_t>(own_random() % (35 * kMinute)))) : std::string();
        const TestResponse response = client.PostEvent(Body("ct-walk", members));
        EXPECT_EQ(response.status, 201) << response.body;
        if (response.status != 201) break;
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
      }
    });
    TestClient inline_writer(port_);
    int inline_writes = 0;
    const std::vector<Shown> walked = Walk(reader, "/events/ct-walk?limit=7&order=" + order, 7, [&] {
      PostOk(inline_writer, late_event());
      PostOk(inline_writer, Body("ct-walk"));
      inline_writes += 2;
    });
    stop = true;
    writer.join();
    EXPECT_GE(inline_writes, 8) << order;
    std::map<std::string, int> seen;
    for (const Shown& event : walked) ++seen[event.event_id];
    for (const auto& [id, count] : seen) EXPECT_EQ(count, 1) << order << ": " << id << " repeated";
    for (const std::string& id : existing) EXPECT_EQ(seen.count(id), 1u) << order << ": " << id << " skipped";
    for (size_t i = 1; i < walked.size(); ++i) {
      const auto previous = std::tie(walked[i - 1].timestamp, walked[i - 1].event_id);
      const auto current = std::tie(walked[i].timestamp, walked[i].event_id);
      if (order == "asc") {
        EXPECT_LT(previous, current) << "position " << i;
      } else {
        EXPECT_GT(previous, current) << "position " << i;
      }
    }
  }
  // Everything written is there, each event once, in order.
  const std::vector<Shown> after = List(reader, "/events/ct-walk?limit=1000");
  std::set<std::string> unique;
  for (const Shown& event : after) unique.insert(event.event_id);
  EXPECT_EQ(unique.size(), after.size());
  for (const std::string& id : existing) EXPECT_EQ(unique.count(id), 1u);
  for (size_t i = 1; i < after.size(); ++i) {
    EXPECT_LT(std::tie(after[i - 1].timestamp, after[i - 1].event_id), std::tie(after[i].timestamp, after[i].event_id));
  }
}

}  // namespace
}  // namespace eventlogger::testing
