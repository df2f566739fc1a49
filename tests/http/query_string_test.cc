// Tests for ParseQueryString and QueryOf.
#include "http/query_string.h"

#include <gtest/gtest.h>

namespace eventlogger::http {
namespace {

TEST(ParseQueryStringTest, SplitsDecodesAndKeepsOrder) {
  const auto parameters = ParseQueryString("limit=10&eventType=a%2Cb&eventType=c&from=2025-01-01T00:00:00+02:00");
  ASSERT_TRUE(parameters);
  ASSERT_EQ(parameters->size(), 4u);
  EXPECT_EQ((*parameters)[0].name, "limit");
  EXPECT_EQ((*parameters)[0].value, "10");
  EXPECT_EQ((*parameters)[1].value, "a,b");
  EXPECT_EQ((*parameters)[2].value, "c");
  EXPECT_EQ((*parameters)[3].value, "2025-01-01T00:00:00+02:00") << "'+' is not a space in a URI";
}

TEST(ParseQueryStringTest, BareNamesEmptyValuesAndEmptyPairs) {
  const auto parameters = ParseQueryString("&limit&cursor=&&a=b=c&");
  ASSERT_TRUE(parameters);
  ASSERT_EQ(parameters->size(), 3u);
  EXPECT_EQ((*parameters)[0].name, "limit");
  EXPECT_EQ((*parameters)[0].value, "");
  EXPECT_EQ((*parameters)[1].name, "cursor");
  EXPECT_EQ((*parameters)[1].value, "");
  EXPECT_EQ((*parameters)[2].name, "a");
  EXPECT_EQ((*parameters)[2].value, "b=c");
  EXPECT_TRUE(ParseQueryString("")->empty());
}

TEST(ParseQueryStringTest, RefusesMalformedEscapes) {
  EXPECT_FALSE(ParseQueryString("limit=%zz"));
  EXPECT_FALSE(ParseQueryString("li%2=1"));
  EXPECT_FALSE(ParseQueryString("a=%"));
}

TEST(QueryOfTest, TakesWhatFollowsTheFirstQuestionMarkUpToAFragment) {
  EXPECT_EQ(QueryOf("/events/u"), "");
  EXPECT_EQ(QueryOf("/events/u?"), "");
  EXPECT_EQ(QueryOf("/events/u?limit=1"), "limit=1");
  EXPECT_EQ(QueryOf("/events/u?limit=1?x#frag"), "limit=1?x");
}

}  // namespace
}  // namespace eventlogger::http
