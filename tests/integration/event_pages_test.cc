// GET /events/{userId} page by page, over real HTTP, on every backend:
// limits, order, filters, cursors (and their tampering), Link headers that
// appear only while more events exist, ETag/304, and a full walk while new
// events keep arriving.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <rapidjson/document.h>

#include <algorithm>
#include <atomic>
#include <map>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "integration/service_fixture.h"
#include "integration/test_client.h"

namespace eventlogger::testing {
namespace {

using ::testing::ElementsAreArray;
using ::testing::HasSubstr;

struct Posted {
  std::string event_id, event_type, timestamp;
};

rapidjson::Document Json(const std::string& text) {
  rapidjson::Document document;
  document.Parse(text.c_str(), text.size());
  EXPECT_FALSE(document.HasParseError()) << text;
  return document;
}

// The target of a Link: <target>; rel="next" field, or "" when there is none.
std::string NextTarget(const TestResponse& response) {
  const std::string link = response.Header("link");
  if (link.empty()) return {};
  EXPECT_EQ(link.front(), '<') << link;
  const size_t close = link.find('>');
  EXPECT_NE(close, std::string::npos) << link;
  EXPECT_EQ(link.substr(close), ">; rel=\"next\"") << link;
  return link.substr(1, close - 1);
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

struct Walked {
  std::vector<std::string> ids;
  int pages = 0;
};

class EventPagesTest : public ServiceFixture {
 protected:
  // Posts `count` events for `user`, types cycling through `types`; returns
  // them in (timestamp, eventId) order as the service reports them.
  std::vector<Posted> PostMany(const std::string& user, int count, const std::vector<std::string>& types = {"t"}) {
    TestClient client(port_);
    for (int i = 0; i < count; ++i) {
      const std::string& type = types[i % types.size()];
      const TestResponse posted = client.PostEvent(R"({"userId":")" + user + R"(","eventType":")" + type +
                                                   R"(","jsonDetails":{"i":)" + std::to_string(i) + "}}");
      EXPECT_EQ(posted.status, 201) << posted.body;
    }
    // The whole history, one page, as the reference.
    const TestResponse all = client.Get("/events/" + user + "?limit=1000");
    EXPECT_EQ(all.status, 200);
    std::vector<Posted> out;
    const rapidjson::Document events = Json(all.body);
    for (const auto& event : events.GetArray()) {
      out.push_back({event["eventId"].GetString(), event["eventType"].GetString(), event["timestamp"].GetString()});
    }
    EXPECT_EQ(out.size(), static_cast<size_t>(count));
    return out;
  }

  // Follows Link headers from `target` to the end; checks that every page
  // but the last is full and that no page is empty unless the first.
  Walked Walk(TestClient& client, const std::string& target, size_t limit) {
    Walked walked;
    std::string next = target;
    while (!next.empty()) {
      const TestResponse page = client.Get(next);
      EXPECT_EQ(page.status, 200) << next << ": " << page.body;
      if (page.status != 200) break;
      EXPECT_FALSE(page.Header("etag").empty());
      const rapidjson::Document events = Json(page.body);
      EXPECT_TRUE(events.IsArray());
      ++walked.pages;
      for (const auto& event : events.GetArray()) walked.ids.push_back(event["eventId"].GetString());
      next = NextTarget(page);
      if (!next.empty()) {
        EXPECT_EQ(events.Size(), limit) << "a page with a next link must be full";
        EXPECT_THAT(next, HasSubstr("cursor="));
      } else if (walked.pages > 1) {
        EXPECT_GT(events.Size(), 0u) << "no empty last page";
      }
      if (walked.pages > 2000) {
        ADD_FAILURE() << "the walk does not end";
        break;
      }
    }
    return walked;
  }

  static std::vector<std::string> Ids(const std::vector<Posted>& events) {
    std::vector<std::string> ids;
    for (const Posted& event : events) ids.push_back(event.event_id);
    return ids;
  }
};

TEST_F(EventPagesTest, EmptyUserIsOneEmptyPageWithoutLink) {
  TestClient client(port_);
  const TestResponse page = client.Get("/events/nobody-here");
  EXPECT_EQ(page.status, 200);
  EXPECT_EQ(page.body, "[]");
  EXPECT_EQ(page.Header("link"), "");
  EXPECT_EQ(page.Header("etag").size(), 34u);
  EXPECT_EQ(client.Get("/events/nobody-here?order=desc&limit=1&eventType=x").body, "[]");
}

TEST_F(EventPagesTest, ExactMultipleOfTheLimitEndsWithoutAnEmptyPage) {
  const std::vector<Posted> events = PostMany("pages-exact", 6);
  TestClient client(port_);
  // One page holding exactly everything: no link.
  const TestResponse whole = client.Get("/events/pages-exact?limit=6");
  EXPECT_EQ(Json(whole.body).Size(), 6u);
  EXPECT_EQ(whole.Header("link"), "");
  // Two full pages, no third.
  const Walked walked = Walk(client, "/events/pages-exact?limit=3", 3);
  EXPECT_EQ(walked.pages, 2);
  EXPECT_THAT(walked.ids, ElementsAreArray(Ids(events)));
  // One short of a page: the last page holds one.
  const Walked five = Walk(client, "/events/pages-exact?limit=5", 5);
  EXPECT_EQ(five.pages, 2);
  EXPECT_THAT(five.ids, ElementsAreArray(Ids(events)));
}

TEST_F(EventPagesTest, DefaultLimitIsAHundredAndDefaultOrderOldestFirst) {
  const std::vector<Posted> events = PostMany("pages-default", 130);
  TestClient client(port_);
  const TestResponse first = client.Get("/events/pages-default");
  ASSERT_EQ(first.status, 200);
  const rapidjson::Document page = Json(first.body);
  ASSERT_EQ(page.Size(), 100u);
  EXPECT_EQ(std::string(page[0]["eventId"].GetString()), events.front().event_id);
  EXPECT_EQ(std::string(page[99]["eventId"].GetString()), events[99].event_id);
  const std::string next = NextTarget(first);
  ASSERT_FALSE(next.empty());
  EXPECT_EQ(next.rfind("/events/pages-default?cursor=", 0), 0u) << next;
  const TestResponse second = client.Get(next);
  EXPECT_EQ(Json(second.body).Size(), 30u);
  EXPECT_EQ(second.Header("link"), "");
  // The same first page again (from the cache on the embedded store) has
  // the same body, tag and link.
  const TestResponse again = client.Get("/events/pages-default");
  EXPECT_EQ(again.body, first.body);
  EXPECT_EQ(again.Header("etag"), first.Header("etag"));
  EXPECT_EQ(again.Header("link"), first.Header("link"));
}

TEST_F(EventPagesTest, LimitOneWalksEveryEventInEitherOrder) {
  const std::vector<Posted> events = PostMany("pages-one", 9);
  TestClient client(port_);
  const Walked asc = Walk(client, "/events/pages-one?limit=1", 1);
  EXPECT_EQ(asc.pages, 9);
  EXPECT_THAT(asc.ids, ElementsAreArray(Ids(events)));
  std::vector<std::string> reversed = Ids(events);
  std::reverse(reversed.begin(), reversed.end());
  const Walked desc = Walk(client, "/events/pages-one?limit=1&order=desc", 1);
  EXPECT_THAT(desc.ids, ElementsAreArray(reversed));
  const Walked desc_pages = Walk(client, "/events/pages-one?order=desc&limit=4", 4);
  EXPECT_EQ(desc_pages.pages, 3);
  EXPECT_THAT(desc_pages.ids, ElementsAreArray(reversed));
}

TEST_F(EventPagesTest, EveryFilterCombinationWalksExactlyItsEvents) {
  const std::vector<Posted> events = PostMany("pages-filter", 24, {"view", "click", "view", "buy"});
  TestClient client(port_);
  // Bounds at event timestamps: from inclusive, to exclusive.
  const std::string from = events[5].timestamp, to = events[18].timestamp;
  struct Types {
    std::string query;  // as sent
    std::set<std::string> names;
  };
  const std::vector<Types> type_filters = {{"", {}},
                                           {"&eventType=buy", {"buy"}},
                                           {"&eventType=view,buy", {"view", "buy"}},
                                           {"&eventType=view%2Cbuy", {"view", "buy"}},
                                           {"&eventType=view&eventType=buy", {"view", "buy"}},
                                           {"&eventType=none", {"none"}}};
  int combinations = 0;
  for (const std::string order : {"asc", "desc"}) {
    for (const Types& types : type_filters) {
      for (const bool use_from : {false, true}) {
        for (const bool use_to : {false, true}) {
          for (const size_t limit : {1u, 5u, 100u}) {
            std::vector<std::string> expected;
            for (const Posted& event : events) {
              if (use_from && event.timestamp < from) continue;
              if (use_to && event.timestamp >= to) continue;
              if (!types.names.empty() && types.names.count(event.event_type) == 0) continue;
              expected.push_back(event.event_id);
            }
            if (order == std::string("desc")) std::reverse(expected.begin(), expected.end());
            std::string target = "/events/pages-filter?order=" + std::string(order) +
                                 "&limit=" + std::to_string(limit) + types.query;
            if (use_from) target += "&from=" + from;
            if (use_to) target += "&to=" + to;
            const Walked walked = Walk(client, target, limit);
            EXPECT_THAT(walked.ids, ElementsAreArray(expected)) << target;
            ++combinations;
          }
        }
      }
    }
  }
  EXPECT_EQ(combinations, 2 * 6 * 2 * 2 * 3);
}

TEST_F(EventPagesTest, OffsetsInFromAndToNameTheSameInstant) {
  const std::vector<Posted> events = PostMany("pages-zone", 4);
  TestClient client(port_);
  // events[1].timestamp is like 2026-12-03T12:00:00.123Z; the same instant
  // at +01:00, with a fraction in microseconds.
  const std::string& t = events[1].timestamp;
  const int hour = std::stoi(t.substr(11, 2));
  // Move the wall clock +1 h only when that stays on the same day, to keep
  // the test's own arithmetic trivial; otherwise use -01:00.
  std::string shifted = t.substr(0, 23) + "000";
  std::string zoned;
  if (hour < 23) {
    zoned = t.substr(0, 11) + (hour + 1 < 10 ? "0" : "") + std::to_string(hour + 1) + shifted.substr(13) + "%2B01:00";
  } else {
    zoned = t.substr(0, 11) + std::to_string(hour - 1) + shifted.substr(13) + "-01:00";
  }
  const TestResponse zulu = client.Get("/events/pages-zone?from=" + t);
  const TestResponse offset = client.Get("/events/pages-zone?from=" + zoned);
  ASSERT_EQ(offset.status, 200) << zoned << ": " << offset.body;
  EXPECT_EQ(offset.body, zulu.body);
  // Events posted back to back may share events[1]'s millisecond, and an
  // inclusive `from` keeps those too.
  const auto at_or_after = std::count_if(events.begin(), events.end(),
                                         [&](const Posted& e) { return e.timestamp >= t; });
  EXPECT_EQ(Json(zulu.body).Size(), static_cast<std::size_t>(at_or_after));
  EXPECT_GE(at_or_after, 3);
  // A raw '+' works too: it is not a space in a URI.
  if (hour < 23) {
    std::string raw = zoned;
    raw.replace(raw.find("%2B"), 3, "+");
    EXPECT_EQ(client.Get("/events/pages-zone?from=" + raw).body, zulu.body);
  }
}

TEST_F(EventPagesTest, BadParametersAreNamedInTheProblem) {
  PostMany("pages-bad", 1);
  TestClient client(port_);
  const std::string base = "/events/pages-bad?";
  EXPECT_THAT(ProblemFields(client.Get(base + "limt=5")), ElementsAreArray({"limt"}));
  EXPECT_THAT(ProblemFields(client.Get(base + "limit=")), ElementsAreArray({"limit"}));
  EXPECT_THAT(ProblemFields(client.Get(base + "limit=0")), ElementsAreArray({"limit"}));
  EXPECT_THAT(ProblemFields(client.Get(base + "limit=1001")), ElementsAreArray({"limit"}));
  EXPECT_THAT(ProblemFields(client.Get(base + "limit=ten")), ElementsAreArray({"limit"}));
  EXPECT_THAT(ProblemFields(client.Get(base + "cursor=")), ElementsAreArray({"cursor"}));
  EXPECT_THAT(ProblemFields(client.Get(base + "order=newest")), ElementsAreArray({"order"}));
  EXPECT_THAT(ProblemFields(client.Get(base + "from=yesterday")), ElementsAreArray({"from"}));
  EXPECT_THAT(ProblemFields(client.Get(base + "to=2025-13-01T00:00:00Z")), ElementsAreArray({"to"}));
  EXPECT_THAT(ProblemFields(client.Get(base + "from=2025-01-02T00:00:00Z&to=2025-01-01T00:00:00Z")),
              ElementsAreArray({"to"}));
  EXPECT_THAT(ProblemFields(client.Get(base + "eventType=")), ElementsAreArray({"eventType"}));
  EXPECT_THAT(ProblemFields(client.Get(base + "eventType=a,,b")), ElementsAreArray({"eventType"}));
  EXPECT_THAT(ProblemFields(client.Get(base + "limit=5&limit=5")), ElementsAreArray({"limit"}));
  EXPECT_THAT(ProblemFields(client.Get(base + "limit=%zz")), ElementsAreArray({"query"}));
  EXPECT_THAT(ProblemFields(client.Get(base + "limit=0&colour=red")), ElementsAreArray({"limit", "colour"}));
  // The single-event route: a malformed eventId is 400, an unknown one 404.
  EXPECT_THAT(ProblemFields(client.Get("/events/pages-bad/not-a-uuid")), ElementsAreArray({"eventId"}));
  EXPECT_EQ(client.Get("/events/pages-bad/01890a5d-ac96-774b-bcce-b302099a8057").status, 404);
  // It takes no parameters at all.
  EXPECT_THAT(ProblemFields(client.Get("/events/pages-bad/01890a5d-ac96-774b-bcce-b302099a8057?limit=5")),
              ElementsAreArray({"limit"}));
}

TEST_F(EventPagesTest, ForgedOrMismatchedCursorsAreRefused) {
  PostMany("pages-cursor", 5, {"a", "b"});
  PostMany("pages-cursor-2", 5, {"a", "b"});
  TestClient client(port_);
  const TestResponse first = client.Get("/events/pages-cursor?limit=2&eventType=a&from=2000-01-01T00:00:00Z");
  const std::string next = NextTarget(first);
  ASSERT_FALSE(next.empty());
  const std::string cursor = next.substr(next.find("cursor=") + 7);
  ASSERT_EQ(client.Get(next).status, 200);
  // The same filters in another spelling, and another limit: still valid.
  const std::string same_filters = "eventType=a&from=2000-01-01T01:00:00%2B01:00";
  EXPECT_EQ(client.Get("/events/pages-cursor?limit=1&" + same_filters + "&cursor=" + cursor).status, 200);
  std::string flipped = cursor;
  flipped[10] = flipped[10] == 'A' ? 'B' : 'A';
  const std::vector<std::string> refused = {
      "/events/pages-cursor?limit=2&" + same_filters + "&cursor=" + flipped,
      "/events/pages-cursor?limit=2&" + same_filters + "&cursor=" + cursor.substr(0, cursor.size() - 1),
      "/events/pages-cursor?limit=2&" + same_filters + "&cursor=" + cursor + "A",
      "/events/pages-cursor?limit=2&" + same_filters + "&cursor=garbage",
      "/events/pages-cursor?limit=2&" + same_filters + "&cursor=%00%01",
      "/events/pages-cursor-2?limit=2&" + same_filters + "&cursor=" + cursor,          // other user
      "/events/pages-cursor?limit=2&eventType=b&from=2000-01-01T00:00:00Z&cursor=" + cursor,  // other type
      "/events/pages-cursor?limit=2&eventType=a,b&from=2000-01-01T00:00:00Z&cursor=" + cursor,
      "/events/pages-cursor?limit=2&eventType=a&cursor=" + cursor,                     // no from
      "/events/pages-cursor?limit=2&eventType=a&from=2000-01-01T00:00:01Z&cursor=" + cursor,
      "/events/pages-cursor?limit=2&" + same_filters + "&to=2100-01-01T00:00:00Z&cursor=" + cursor,
      "/events/pages-cursor?limit=2&" + same_filters + "&order=desc&cursor=" + cursor,  // other order
  };
  for (const std::string& target : refused) {
    EXPECT_THAT(ProblemFields(client.Get(target)), ElementsAreArray({"cursor"})) << target;
  }
}

TEST_F(EventPagesTest, CursorsSurviveARestartWithTheSameSecret) {
  const std::vector<Posted> events = PostMany("pages-restart", 5);
  std::string next;
  {
    TestClient client(port_);
    next = NextTarget(client.Get("/events/pages-restart?limit=2"));
    ASSERT_FALSE(next.empty());
  }
  StopService();
  StartService();
  TestClient client(port_);
  const Walked rest = Walk(client, next, 2);
  const std::vector<std::string> ids = Ids(events);
  EXPECT_THAT(rest.ids, ElementsAreArray(std::vector<std::string>(ids.begin() + 2, ids.end())));
}

TEST_F(EventPagesTest, EntityTagsAndConditionalRequests) {
  PostMany("pages-etag", 3);
  TestClient client(port_);
  const TestResponse first = client.Get("/events/pages-etag");
  const std::string tag = first.Header("etag");
  ASSERT_EQ(tag.size(), 34u);
  ASSERT_EQ(tag.front(), '"');
  EXPECT_EQ(client.Get("/events/pages-etag").Header("etag"), tag) << "stable while nothing changes";
  for (const std::string& condition : {tag, "\"other\", " + tag, "W/" + tag, std::string("*")}) {
    const TestResponse cached = client.Send("GET", "/events/pages-etag", "", {{"If-None-Match", condition}});
    EXPECT_EQ(cached.status, 304) << condition;
    EXPECT_EQ(cached.body, "");
    EXPECT_EQ(cached.Header("etag"), tag);
    EXPECT_EQ(cached.Header("content-length"), "");
  }
  EXPECT_EQ(client.Send("GET", "/events/pages-etag", "", {{"If-None-Match", "\"other\""}}).status, 200);
  // Other pages have their own tags; an uncached page answers 304 too.
  const TestResponse limited = client.Get("/events/pages-etag?limit=2");
  EXPECT_NE(limited.Header("etag"), tag);
  EXPECT_EQ(client.Send("GET", "/events/pages-etag?limit=2", "", {{"If-None-Match", limited.Header("etag")}}).status,
            304);
  // A write changes the page, so the old tag no longer matches.
  ASSERT_EQ(client.PostEvent(R"({"userId":"pages-etag","eventType":"t","jsonDetails":{}})").status, 201);
  const TestResponse changed = client.Send("GET", "/events/pages-etag", "", {{"If-None-Match", tag}});
  EXPECT_EQ(changed.status, 200);
  EXPECT_NE(changed.Header("etag"), tag);
  EXPECT_EQ(Json(changed.body).Size(), 4u);
  // A single event has a tag of its own, and 304s the same way.
  const std::string id = Json(changed.body)[0]["eventId"].GetString();
  const TestResponse one = client.Get("/events/pages-etag/" + id);
  ASSERT_EQ(one.status, 200);
  const std::string one_tag = one.Header("etag");
  EXPECT_EQ(one_tag.size(), 34u);
  const TestResponse one_cached = client.Send("GET", "/events/pages-etag/" + id, "", {{"If-None-Match", one_tag}});
  EXPECT_EQ(one_cached.status, 304);
  EXPECT_EQ(one_cached.Header("etag"), one_tag);
}

TEST_F(EventPagesTest, AWalkDuringWritesSeesEveryEarlierEventExactlyOnce) {
  // Many events per millisecond: the posts come from several clients at once.
  constexpr int kWriters = 4;
  constexpr int kPerWriter = 40;
  std::vector<std::thread> preload;
  for (int w = 0; w < kWriters; ++w) {
    preload.emplace_back([this] {
      TestClient client(port_);
      for (int i = 0; i < kPerWriter; ++i) {
        EXPECT_EQ(client.PostEvent(R"({"userId":"pages-live","eventType":"t","jsonDetails":{}})").status, 201);
      }
    });
  }
  for (auto& t : preload) t.join();
  TestClient reader(port_);
  const rapidjson::Document before = Json(reader.Get("/events/pages-live?limit=1000").body);
  std::set<std::string> existing;
  for (const auto& event : before.GetArray()) existing.insert(event["eventId"].GetString());
  ASSERT_EQ(existing.size(), static_cast<size_t>(kWriters * kPerWriter));

  for (const std::string order : {"asc", "desc"}) {
    std::atomic<bool> stop{false};
    std::thread writer([this, &stop] {
      TestClient client(port_);
      while (!stop.load()) {
        EXPECT_EQ(client.PostEvent(R"({"userId":"pages-live","eventType":"t","jsonDetails":{}})").status, 201);
      }
    });
    const Walked walked = Walk(reader, "/events/pages-live?limit=7&order=" + order, 7);
    stop = true;
    writer.join();
    std::map<std::string, int> seen;
    for (const std::string& id : walked.ids) ++seen[id];
    for (const auto& [id, count] : seen) EXPECT_EQ(count, 1) << order << ": " << id << " repeated";
    for (const std::string& id : existing) EXPECT_EQ(seen.count(id), 1u) << order << ": " << id << " skipped";
  }
}

}  // namespace
}  // namespace eventlogger::testing
