// Tests for ParseBatchRequest: the envelope is refused as a whole, items
// fail one by one.
#include "core/batch_request.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>

namespace eventlogger {
namespace {

using ::testing::HasSubstr;

std::string Item(const std::string& user, const std::string& details = "{}") {
  return R"({"userId":")" + user + R"(","eventType":"t","jsonDetails":)" + details + "}";
}

std::string FieldsOf(const ValidationError& error) {
  std::string fields;
  for (const FieldError& e : error.errors) fields += "[" + e.field + "]";
  return fields;
}

TEST(ParseBatchRequestTest, ParsesEachItemOnItsOwnInOrder) {
  const std::string body = R"({"events": [)" + Item("u1", R"({"big":12345678901234567890, "f":0.10})") + ", " +
                           R"({"userId":"u2","eventType":"bad type!","jsonDetails":{}})" + ", 7, [1], " +
                           R"({"userId":"u3","eventType":"t","jsonDetails":{},"idempotencyKey":"k-1"})" + "]}";
  const BatchRequestParse parse = ParseBatchRequest(body, 10);
  ASSERT_FALSE(parse.envelope_error) << parse.envelope_error->detail;
  ASSERT_EQ(parse.items.size(), 5u);
  ASSERT_TRUE(parse.items[0].request);
  EXPECT_EQ(parse.items[0].request->user_id, "u1");
  // The client's own text, minified, numbers untouched.
  EXPECT_EQ(parse.items[0].request->details_json, R"({"big":12345678901234567890,"f":0.10})");
  EXPECT_FALSE(parse.items[0].request->idempotency_key);
  ASSERT_FALSE(parse.items[1].request);
  EXPECT_EQ(FieldsOf(parse.items[1].error), "[eventType]");
  EXPECT_THAT(parse.items[1].error.detail, HasSubstr("The event"));
  ASSERT_FALSE(parse.items[2].request);
  EXPECT_THAT(parse.items[2].error.detail, HasSubstr("must be a JSON object"));
  ASSERT_FALSE(parse.items[3].request);
  ASSERT_TRUE(parse.items[4].request);
  EXPECT_EQ(parse.items[4].request->idempotency_key, "k-1");
}

TEST(ParseBatchRequestTest, NumbersBeyondDoubleRangeKeepTheirText) {
  const std::string body = R"({"events":[)" + Item("u", R"({"n":1e400,"m":)" + std::string(400, '9') + "}") + "]}";
  const BatchRequestParse parse = ParseBatchRequest(body, 10);
  ASSERT_FALSE(parse.envelope_error) << parse.envelope_error->detail;
  ASSERT_TRUE(parse.items[0].request) << parse.items[0].error.detail;
  EXPECT_EQ(parse.items[0].request->details_json, R"({"n":1e400,"m":)" + std::string(400, '9') + "}");
}

TEST(ParseBatchRequestTest, ItemMembersAreCheckedAsForASinglePost) {
  const BatchRequestParse parse = ParseBatchRequest(
      R"({"events":[{"userId":"u","eventType":"t","jsonDetails":{},"extra":1,"idempotencyKey":5}]})", 10);
  ASSERT_FALSE(parse.envelope_error);
  ASSERT_FALSE(parse.items[0].request);
  EXPECT_EQ(FieldsOf(parse.items[0].error), "[extra][idempotencyKey]");
}

TEST(ParseBatchRequestTest, RefusesABadEnvelopeAsAWhole) {
  struct Case {
    std::string body;
    std::string field;
  };
  const Case cases[] = {
      {"", ""},
      {"[]", ""},
      {"not json", ""},
      {R"({"events":[)" + Item("u") + "]", ""},       // truncated
      {"{}", "[events]"},                             // missing
      {R"({"events":[]})", "[events]"},               // empty
      {R"({"events":{}})", "[events]"},               // not an array
      {R"({"events":"x"})", "[events]"},
      {R"({"events":[)" + Item("u") + R"(],"other":1})", "[other]"},
      {R"({"events":[)" + Item("u") + R"(],"events":[]})", "[events][events]"},
      {std::string("{\"events\":[\0]}", 14), ""},     // a NUL byte
      {"{\"events\":[\xff]}", ""},                     // invalid UTF-8
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.body);
    const BatchRequestParse parse = ParseBatchRequest(c.body, 10);
    ASSERT_TRUE(parse.envelope_error);
    EXPECT_FALSE(parse.too_many_events);
    EXPECT_TRUE(parse.items.empty());
    if (!c.field.empty()) {
      EXPECT_EQ(FieldsOf(*parse.envelope_error), c.field);
    }
  }
}

TEST(ParseBatchRequestTest, TheEnvelopesSentAtCoversEveryItem) {
  const std::string body = R"({"sentAt":"2025-06-29T14:33:00.000Z","events":[)" + Item("u1") + "," +
                           R"({"userId":"u2","eventType":"t","jsonDetails":{},"occurredAt":"2025-06-29T14:32:45.123Z"})" +
                           "," + R"({"userId":"u3","eventType":"t","jsonDetails":{},"sentAt":"2025-06-29T14:33:00Z"})" +
                           "]}";
  const BatchRequestParse parse = ParseBatchRequest(body, 10);
  ASSERT_FALSE(parse.envelope_error) << parse.envelope_error->detail;
  ASSERT_TRUE(parse.sent_at);
  EXPECT_EQ(parse.sent_at->unix_millis, 1751207580000);
  ASSERT_EQ(parse.items.size(), 3u);
  ASSERT_TRUE(parse.items[0].request);
  EXPECT_FALSE(parse.items[0].request->times.occurred_at);
  ASSERT_TRUE(parse.items[0].request->times.sent_at);
  EXPECT_EQ(parse.items[0].request->times.sent_at->unix_millis, 1751207580000);
  ASSERT_TRUE(parse.items[1].request);
  EXPECT_EQ(parse.items[1].request->times.occurred_at->unix_millis, 1751207565123);
  EXPECT_EQ(parse.items[1].request->times.sent_at->unix_millis, 1751207580000);
  // An item may not carry a sentAt of its own.
  ASSERT_FALSE(parse.items[2].request);
  EXPECT_EQ(FieldsOf(parse.items[2].error), "[sentAt]");
}

TEST(ParseBatchRequestTest, ABadSentAtRefusesTheEnvelope) {
  for (const std::string sent_at : {R"("soon")", "12", "null", "[]", "{}", R"("2025-06-29T14:33:00")"}) {
    const BatchRequestParse parse = ParseBatchRequest(R"({"events":[)" + Item("u") + R"(],"sentAt":)" + sent_at + "}", 10);
    ASSERT_TRUE(parse.envelope_error) << sent_at;
    EXPECT_EQ(FieldsOf(*parse.envelope_error), "[sentAt]") << sent_at;
  }
  const BatchRequestParse twice = ParseBatchRequest(
      R"({"sentAt":"2025-06-29T14:33:00Z","events":[)" + Item("u") + R"(],"sentAt":"2025-06-29T14:33:00Z"})", 10);
  ASSERT_TRUE(twice.envelope_error);
  EXPECT_EQ(FieldsOf(*twice.envelope_error), "[sentAt]");
  const BatchRequestParse without = ParseBatchRequest(R"({"events":[)" + Item("u") + "]}", 10);
  ASSERT_FALSE(without.envelope_error);
  EXPECT_FALSE(without.sent_at);
  EXPECT_FALSE(without.items[0].request->times.sent_at);
}

TEST(ParseBatchRequestTest, MoreEventsThanTheLimitIsTooMany) {
  std::string body = R"({"events":[)";
  for (int i = 0; i < 4; ++i) body += (i > 0 ? "," : "") + Item("u" + std::to_string(i));
  body += "]}";
  EXPECT_EQ(ParseBatchRequest(body, 4).items.size(), 4u);
  const BatchRequestParse parse = ParseBatchRequest(body, 3);
  ASSERT_TRUE(parse.envelope_error);
  EXPECT_TRUE(parse.too_many_events);
  EXPECT_THAT(parse.envelope_error->detail, HasSubstr("more than 3"));
}

TEST(ParseBatchRequestTest, NestingIsBoundedAsForASinglePost) {
  const auto nested = [](int depth) {
    return std::string(static_cast<size_t>(depth), '[') + std::string(static_cast<size_t>(depth), ']');
  };
  // jsonDetails' own object is level 1; 31 arrays inside it make 32.
  const BatchRequestParse ok = ParseBatchRequest(R"({"events":[)" + Item("u", "{\"a\":" + nested(31) + "}") + "]}", 10);
  ASSERT_FALSE(ok.envelope_error) << ok.envelope_error->detail;
  EXPECT_TRUE(ok.items[0].request) << ok.items[0].error.detail;
  const BatchRequestParse deep =
      ParseBatchRequest(R"({"events":[)" + Item("u", "{\"a\":" + nested(100000) + "}") + "]}", 10);
  ASSERT_TRUE(deep.envelope_error);
  EXPECT_THAT(deep.envelope_error->detail, HasSubstr("nested too deeply"));
}

}  // namespace
}  // namespace eventlogger
