// Tests for MatchRoute, PercentDecode and PercentEncodePathSegment.
//
// Routing decides which handler sees a request and what userId it reads, so
// the tests pin the edges: empty and extra segments, query strings, and
// percent-escapes (an encoded '/' is part of the userId, not a separator).
#include "http/router.h"

#include <gtest/gtest.h>

#include <random>
#include <string>

namespace eventlogger::http {
namespace {

TEST(MatchRouteTest, EventsCollection) {
  const Route route = MatchRoute("/events");
  EXPECT_EQ(route.kind, RouteKind::kEvents);
  EXPECT_EQ(route.name, "/events");
  EXPECT_EQ(route.user_id, "");
  EXPECT_FALSE(route.bad_encoding);
}

TEST(MatchRouteTest, UserEvents) {
  const Route route = MatchRoute("/events/u1");
  EXPECT_EQ(route.kind, RouteKind::kUserEvents);
  EXPECT_EQ(route.name, "/events/{userId}");
  EXPECT_EQ(route.user_id, "u1");
  EXPECT_EQ(route.event_id, "");
  EXPECT_FALSE(route.bad_encoding);
}

TEST(MatchRouteTest, UserEvent) {
  const Route route = MatchRoute("/events/u1/ev");
  EXPECT_EQ(route.kind, RouteKind::kUserEvent);
  EXPECT_EQ(route.name, "/events/{userId}/{eventId}");
  EXPECT_EQ(route.user_id, "u1");
  EXPECT_EQ(route.event_id, "ev");
  EXPECT_FALSE(route.bad_encoding);
}

TEST(MatchRouteTest, EmptyUserIdStillRoutesToUserEvents) {
  // The handler answers 400 naming userId, which is more useful than 404.
  const Route route = MatchRoute("/events/");
  EXPECT_EQ(route.kind, RouteKind::kUserEvents);
  EXPECT_EQ(route.user_id, "");
  EXPECT_FALSE(route.bad_encoding);
}

TEST(MatchRouteTest, Health) {
  EXPECT_EQ(MatchRoute("/healthz").kind, RouteKind::kHealth);
  EXPECT_EQ(MatchRoute("/readyz").kind, RouteKind::kReady);
  EXPECT_EQ(MatchRoute("/readyz").name, "/readyz");
  EXPECT_EQ(MatchRoute("/healthz").name, "/healthz");
  EXPECT_EQ(MatchRoute("/healthz?verbose=1").kind, RouteKind::kHealth);
}

TEST(MatchRouteTest, UnknownPathsAreNotFound) {
  for (const char* target : {"", "/", "/event", "/eventsx", "/events/a/b/c", "/events/u1/",
                             "/events/u1/ev/", "/events//ev/x", "/healthz/", "/HEALTHZ",
                             "/Events/u1", "events/u1", "//events/u1", "/api/events"}) {
    const Route route = MatchRoute(target);
    EXPECT_EQ(route.kind, RouteKind::kNotFound) << target;
    EXPECT_EQ(route.name, "unmatched") << target;
  }
}

TEST(MatchRouteTest, QueryStringAndFragmentAreStripped) {
  EXPECT_EQ(MatchRoute("/events?x=1").kind, RouteKind::kEvents);
  Route route = MatchRoute("/events/u1?limit=10&x=/a/b");
  EXPECT_EQ(route.kind, RouteKind::kUserEvents);
  EXPECT_EQ(route.user_id, "u1");
  route = MatchRoute("/events/u1/ev?x=%zz");  // the query is not decoded at all
  EXPECT_EQ(route.kind, RouteKind::kUserEvent);
  EXPECT_EQ(route.event_id, "ev");
  EXPECT_FALSE(route.bad_encoding);
  route = MatchRoute("/events/u1#frag/ment");
  EXPECT_EQ(route.kind, RouteKind::kUserEvents);
  EXPECT_EQ(route.user_id, "u1");
  EXPECT_EQ(MatchRoute("/events/?").kind, RouteKind::kUserEvents);
}

TEST(MatchRouteTest, EncodedSlashBelongsToTheUserId) {
  Route route = MatchRoute("/events/team%2Fa");
  EXPECT_EQ(route.kind, RouteKind::kUserEvents);
  EXPECT_EQ(route.user_id, "team/a");
  route = MatchRoute("/events/team%2fa/ev%2F1");
  EXPECT_EQ(route.kind, RouteKind::kUserEvent);
  EXPECT_EQ(route.user_id, "team/a");
  EXPECT_EQ(route.event_id, "ev/1");
}

TEST(MatchRouteTest, DecodesUtf8AndSpacesInUserId) {
  const Route route = MatchRoute("/events/team%2F%C3%BC%201");
  EXPECT_EQ(route.user_id, "team/\xC3\xBC 1");
  // '+' is literal in a path.
  EXPECT_EQ(MatchRoute("/events/a+b").user_id, "a+b");
  // %00 decodes to a NUL the userId rules then reject; routing just decodes.
  EXPECT_EQ(MatchRoute("/events/a%00b").user_id, std::string("a\0b", 3));
}

TEST(MatchRouteTest, MalformedEscapesAreFlagged) {
  for (const char* target :
       {"/events/%", "/events/%4", "/events/%zz", "/events/a%", "/events/%g0", "/events/a%4/ev",
        "/events/u1/%", "/events/u1/%4", "/events/u1/%zz", "/events/%2/x"}) {
    const Route route = MatchRoute(target);
    EXPECT_NE(route.kind, RouteKind::kNotFound) << target;
    EXPECT_TRUE(route.bad_encoding) << target;
  }
}

TEST(PercentDecodeTest, DecodesEscapesInEitherCase) {
  std::string out;
  ASSERT_TRUE(PercentDecode("%41%42c", &out));
  EXPECT_EQ(out, "ABc");
  ASSERT_TRUE(PercentDecode("%e2%82%AC", &out));
  EXPECT_EQ(out, "\xE2\x82\xAC");
  ASSERT_TRUE(PercentDecode("%25%2525", &out));  // decoded once, not twice
  EXPECT_EQ(out, "%%25");
  ASSERT_TRUE(PercentDecode("", &out));
  EXPECT_EQ(out, "");
  ASSERT_TRUE(PercentDecode("a+b%20c", &out));
  EXPECT_EQ(out, "a+b c");
  ASSERT_TRUE(PercentDecode("%FF%00", &out));
  EXPECT_EQ(out, std::string("\xFF\0", 2));
}

TEST(PercentDecodeTest, RejectsMalformedEscapes) {
  std::string out = "stale";
  for (const char* bad :
       {"%", "%4", "%zz", "%4z", "%z4", "a%", "a%4", "%%", "%%41", "%-1", "%+1", "% 1", "ok%2"}) {
    EXPECT_FALSE(PercentDecode(bad, &out)) << bad;
  }
}

TEST(PercentDecodeTest, NeverReadsPastTheEndOfTheView) {
  // Path segments are views into the request target, so the bytes after a
  // truncated escape may well be hex digits; they must not complete it.
  const std::string buffer = "%4142";
  std::string out;
  EXPECT_FALSE(PercentDecode(std::string_view(buffer).substr(0, 1), &out));
  EXPECT_FALSE(PercentDecode(std::string_view(buffer).substr(0, 2), &out));
  ASSERT_TRUE(PercentDecode(std::string_view(buffer).substr(0, 3), &out));
  EXPECT_EQ(out, "A");
}

TEST(PercentEncodePathSegmentTest, KeepsOnlyUnreservedCharacters) {
  EXPECT_EQ(PercentEncodePathSegment("AZaz09-._~"), "AZaz09-._~");
  EXPECT_EQ(PercentEncodePathSegment("x y"), "x%20y");
  EXPECT_EQ(PercentEncodePathSegment("a/b?c#d%e+f"), "a%2Fb%3Fc%23d%25e%2Bf");
  EXPECT_EQ(PercentEncodePathSegment("\xC3\xBC"), "%C3%BC");
  EXPECT_EQ(PercentEncodePathSegment(std::string("\0\xFF", 2)), "%00%FF");
  EXPECT_EQ(PercentEncodePathSegment(""), "");
}

TEST(PercentEncodePathSegmentTest, EveryByteRoundTrips) {
  for (int b = 0; b < 256; ++b) {
    const std::string in(1, static_cast<char>(b));
    const std::string encoded = PercentEncodePathSegment(in);
    std::string decoded;
    ASSERT_TRUE(PercentDecode(encoded, &decoded)) << b;
    EXPECT_EQ(decoded, in) << b;
  }
}

TEST(PercentEncodePathSegmentTest, RandomBytesRoundTripAndStayOneSegment) {
  // An encoded segment must never contain '/', '?' or '#', or routing would
  // split it; and it must decode back to exactly the input.
  std::mt19937 random(1234);
  std::uniform_int_distribution<int> byte(0, 255), length(0, 64);
  for (int i = 0; i < 10000; ++i) {
    std::string in(length(random), '\0');
    for (char& c : in) c = static_cast<char>(byte(random));
    const std::string encoded = PercentEncodePathSegment(in);
    ASSERT_EQ(encoded.find_first_of("/?#"), std::string::npos) << encoded;
    std::string decoded;
    ASSERT_TRUE(PercentDecode(encoded, &decoded));
    ASSERT_EQ(decoded, in);
    // And as a route: the userId comes back whole.
    if (!in.empty()) {
      const Route route = MatchRoute("/events/" + encoded + "/ev");
      ASSERT_EQ(route.kind, RouteKind::kUserEvent);
      ASSERT_EQ(route.user_id, in);
      ASSERT_FALSE(route.bad_encoding);
    }
  }
}

}  // namespace
}  // namespace eventlogger::http
