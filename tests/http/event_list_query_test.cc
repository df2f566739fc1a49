// Tests for ParseEventListQuery and the canonical forms EventListQuery
// derives: store range, cursor binding, next page target.
#include "http/event_list_query.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace eventlogger::http {
namespace {

using ::testing::ElementsAre;

EventListQuery Parsed(std::string_view query) {
  EventListQuery out;
  const std::optional<ValidationError> error = ParseEventListQuery(query, &out);
  EXPECT_FALSE(error) << query << ": " << (error && !error->errors.empty() ? error->errors[0].message : "");
  return out;
}

// The fields the errors name, in order.
std::vector<std::string> ErrorFields(std::string_view query) {
  EventListQuery out;
  const std::optional<ValidationError> error = ParseEventListQuery(query, &out);
  std::vector<std::string> fields;
  if (error) {
    for (const FieldError& e : error->errors) fields.push_back(e.field);
  }
  return fields;
}

TEST(EventListQueryTest, DefaultsWithoutParameters) {
  const EventListQuery query = Parsed("");
  EXPECT_EQ(query.limit, 100u);
  EXPECT_EQ(query.order, ReadOrder::kOldestFirst);
  EXPECT_TRUE(query.event_types.empty());
  EXPECT_FALSE(query.from_millis);
  EXPECT_FALSE(query.to_millis);
  EXPECT_TRUE(query.IsDefault());
  // Spelling out the defaults is still the default query (and cached).
  EXPECT_TRUE(Parsed("limit=100&order=asc").IsDefault());
  EXPECT_FALSE(Parsed("limit=99").IsDefault());
  EXPECT_FALSE(Parsed("order=desc").IsDefault());
  EXPECT_FALSE(Parsed("eventType=a").IsDefault());
  EXPECT_FALSE(Parsed("from=2025-01-01T00:00:00Z").IsDefault());
}

TEST(EventListQueryTest, ParsesEveryParameter) {
  const EventListQuery query =
      Parsed("limit=7&order=desc&eventType=view&eventType=click,buy&from=2025-06-29T16:00:00%2B02:00"
             "&to=2025-06-29T15:00:00.5Z&cursor=abc");
  EXPECT_EQ(query.limit, 7u);
  EXPECT_EQ(query.order, ReadOrder::kNewestFirst);
  EXPECT_THAT(query.event_types, ElementsAre("buy", "click", "view"));
  const UserRangeQuery range = query.Range();
  EXPECT_EQ(range.from, "2025-06-29T14:00:00.000Z");
  EXPECT_EQ(range.to, "2025-06-29T15:00:00.500Z");
  EXPECT_EQ(range.order, ReadOrder::kNewestFirst);
  EXPECT_FALSE(range.after);
  EXPECT_EQ(query.cursor, "abc");
}

TEST(EventListQueryTest, EncodedCommaSplitsLikeAComma) {
  EXPECT_EQ(Parsed("eventType=a%2Cb").event_types, Parsed("eventType=a,b").event_types);
  EXPECT_EQ(Parsed("eventType=a%2cb").event_types, Parsed("eventType=b&eventType=a").event_types);
  EXPECT_THAT(Parsed("eventType=a,a&eventType=a").event_types, ElementsAre("a")) << "deduplicated";
}

TEST(EventListQueryTest, RoundsFinerBoundsUpToTheMillisecond) {
  // t >= 1.0005 s  <=>  t >= 1.001 s for millisecond timestamps, and
  // t <  1.0005 s  <=>  t <  1.001 s.
  const EventListQuery query = Parsed("from=1970-01-01T00:00:01.0005Z&to=1970-01-01T00:00:02.000000Z");
  EXPECT_EQ(query.from_millis, 1001);
  EXPECT_EQ(query.to_millis, 2000);
  // Before the epoch: no stored event is, so the bound clamps to it.
  EXPECT_EQ(Parsed("from=1960-01-01T00:00:00Z").from_millis, 0);
}

TEST(EventListQueryTest, NamesEveryBadParameter) {
  EXPECT_THAT(ErrorFields("limt=5"), ElementsAre("limt"));
  EXPECT_THAT(ErrorFields("limit="), ElementsAre("limit"));
  EXPECT_THAT(ErrorFields("limit"), ElementsAre("limit"));
  EXPECT_THAT(ErrorFields("limit=0"), ElementsAre("limit"));
  EXPECT_THAT(ErrorFields("limit=1001"), ElementsAre("limit"));
  EXPECT_THAT(ErrorFields("limit=-1"), ElementsAre("limit"));
  EXPECT_THAT(ErrorFields("limit=+5"), ElementsAre("limit"));
  EXPECT_THAT(ErrorFields("limit=5x"), ElementsAre("limit"));
  EXPECT_THAT(ErrorFields("limit=99999999999999999999999"), ElementsAre("limit"));
  EXPECT_THAT(ErrorFields("limit=5&limit=6"), ElementsAre("limit"));
  EXPECT_THAT(ErrorFields("cursor="), ElementsAre("cursor"));
  EXPECT_THAT(ErrorFields("cursor=a&cursor=b"), ElementsAre("cursor"));
  EXPECT_THAT(ErrorFields("order=up"), ElementsAre("order"));
  EXPECT_THAT(ErrorFields("order="), ElementsAre("order"));
  EXPECT_THAT(ErrorFields("order=ASC"), ElementsAre("order"));
  EXPECT_THAT(ErrorFields("from=yesterday"), ElementsAre("from"));
  EXPECT_THAT(ErrorFields("from="), ElementsAre("from"));
  EXPECT_THAT(ErrorFields("to=2025-06-29T14:32:45"), ElementsAre("to")) << "an instant needs a zone";
  EXPECT_THAT(ErrorFields("from=2025-06-02T00:00:00Z&to=2025-06-01T00:00:00Z"), ElementsAre("to"));
  EXPECT_THAT(ErrorFields("eventType="), ElementsAre("eventType"));
  EXPECT_THAT(ErrorFields("eventType=a,,b"), ElementsAre("eventType"));
  EXPECT_THAT(ErrorFields("eventType=a,"), ElementsAre("eventType"));
  EXPECT_THAT(ErrorFields("eventType=has%20space"), ElementsAre("eventType"));
  EXPECT_THAT(ErrorFields("limit=%zz"), ElementsAre("query"));
  EXPECT_THAT(ErrorFields("=5"), ElementsAre("query"));
  // Several at once, each under its own name.
  EXPECT_THAT(ErrorFields("limit=0&order=up&colour=red"), ElementsAre("limit", "order", "colour"));
}

TEST(EventListQueryTest, BoundsTheNumberOfTypes) {
  std::string many = "eventType=t0";
  for (int i = 1; i <= 25; ++i) many += ",t" + std::to_string(i);
  EXPECT_THAT(ErrorFields(many), ElementsAre("eventType"));
  many = "eventType=t0";
  for (int i = 1; i < 25; ++i) many += ",t" + std::to_string(i);
  EXPECT_EQ(Parsed(many).event_types.size(), 25u);
}

TEST(EventListQueryTest, BindingCoversUserOrderAndFiltersButNotTheLimit) {
  const std::string base = Parsed("eventType=a").CursorBinding("u");
  EXPECT_EQ(Parsed("eventType=a&limit=5").CursorBinding("u"), base);
  EXPECT_EQ(Parsed("eventType=a&eventType=a").CursorBinding("u"), base);
  EXPECT_NE(Parsed("eventType=a").CursorBinding("v"), base);
  EXPECT_NE(Parsed("eventType=a&order=desc").CursorBinding("u"), base);
  EXPECT_NE(Parsed("eventType=a,b").CursorBinding("u"), base);
  EXPECT_NE(Parsed("").CursorBinding("u"), base);
  EXPECT_NE(Parsed("eventType=a&from=2025-01-01T00:00:00Z").CursorBinding("u"), base);
  EXPECT_NE(Parsed("eventType=a&to=2025-01-01T00:00:00Z").CursorBinding("u"), base);
  // from and to are not interchangeable.
  EXPECT_NE(Parsed("from=2025-01-01T00:00:00Z").CursorBinding("u"),
            Parsed("to=2025-01-01T00:00:00Z").CursorBinding("u"));
  // Equal instants written differently bind alike.
  EXPECT_EQ(Parsed("from=2025-01-01T02:00:00%2B02:00").CursorBinding("u"),
            Parsed("from=2025-01-01T00:00:00.000Z").CursorBinding("u"));
}

TEST(EventListQueryTest, NextPageTargetRepeatsTheFiltersCanonically) {
  EXPECT_EQ(Parsed("").NextPageTarget("a b/c", "CUR"), "/events/a%20b%2Fc?cursor=CUR");
  const EventListQuery query =
      Parsed("eventType=view,click&order=desc&limit=10&from=2025-06-29T16:00:00%2B02:00&to=2025-06-30T00:00:00Z");
  const std::string target = query.NextPageTarget("u", "CUR");
  EXPECT_EQ(target,
            "/events/u?limit=10&order=desc&eventType=click%2Cview&from=2025-06-29T14%3A00%3A00.000Z"
            "&to=2025-06-30T00%3A00%3A00.000Z&cursor=CUR");
  // Parsing it back gives the same query, and the same binding.
  const EventListQuery again = Parsed(target.substr(target.find('?') + 1));
  EXPECT_EQ(again.CursorBinding("u"), query.CursorBinding("u"));
  EXPECT_EQ(again.limit, 10u);
  EXPECT_EQ(again.cursor, "CUR");
}

}  // namespace
}  // namespace eventlogger::http
