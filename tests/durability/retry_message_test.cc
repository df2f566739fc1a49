#include "durability/retry_message.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace eventlogger {
namespace {

using ::testing::HasSubstr;

RetryMessage Sample() {
  RetryMessage message;
  message.event.event_id = "0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b";
  message.event.user_id = "user-é-😀";
  message.event.event_type = "bet.placed";
  message.event.timestamp = "2026-12-04T10:11:12.345Z";
  message.event.unix_millis = 1796379072345;
  message.event.details_json = R"({"q":"\"quoted\" \\ ","u":"ü😀","n":[1,2.5e3,null,true],"c":"\u0001"})";
  message.event.idempotency_key = "key-1";
  message.event.request_hash = "abcdef0123";
  message.metadata_done = true;
  message.document_done = false;
  message.error = "Unavailable: DynamoDB PutItem timed out";
  return message;
}

TEST(RetryMessageTest, RoundTripsEveryFieldExactly) {
  const RetryMessage original = Sample();
  const std::string body = EncodeRetryMessage(original);
  auto decoded = DecodeRetryMessage(body);
  ASSERT_TRUE(decoded.ok()) << decoded.status().ToString() << "\n" << body;
  const Event& e = decoded->event;
  EXPECT_EQ(e.event_id, original.event.event_id);
  EXPECT_EQ(e.user_id, original.event.user_id);
  EXPECT_EQ(e.event_type, original.event.event_type);
  EXPECT_EQ(e.timestamp, original.event.timestamp);
  EXPECT_EQ(e.unix_millis, original.event.unix_millis);
  EXPECT_EQ(e.details_json, original.event.details_json);  // the same bytes, not an equal JSON
  EXPECT_EQ(e.idempotency_key, original.event.idempotency_key);
  EXPECT_EQ(e.request_hash, original.event.request_hash);
  EXPECT_TRUE(decoded->metadata_done);
  EXPECT_FALSE(decoded->document_done);
  EXPECT_EQ(decoded->error, original.error);
}

TEST(RetryMessageTest, CarriesAClientsOccurredAtOnlyWhenThereIsOne) {
  RetryMessage original = Sample();
  EXPECT_EQ(EncodeRetryMessage(original).find("occurredAt"), std::string::npos);
  original.event.occurred_at = "2026-12-04T10:11:02.000Z";
  const std::string body = EncodeRetryMessage(original);
  EXPECT_THAT(body, HasSubstr(R"("occurredAt":"2026-12-04T10:11:02.000Z")"));
  auto decoded = DecodeRetryMessage(body);
  ASSERT_TRUE(decoded.ok()) << decoded.status().ToString();
  EXPECT_EQ(decoded->event.occurred_at, original.event.occurred_at);
  std::string bad = body;
  bad.replace(bad.find("2026-12-04T10:11:02.000Z"), 24, "2026-12-04T10:11:02Z    ");
  EXPECT_FALSE(DecodeRetryMessage(bad).ok());
}

TEST(RetryMessageTest, IsPlainAsciiWhateverTheEventHolds) {
  const std::string body = EncodeRetryMessage(Sample());
  for (const char c : body) {
    EXPECT_TRUE(c >= 0x20 && c < 0x7F) << "byte " << static_cast<int>(static_cast<unsigned char>(c));
  }
  EXPECT_THAT(body, HasSubstr(R"(\uD83D\uDE00)"));  // 😀 as a surrogate pair
}

TEST(RetryMessageTest, StaysWithinTheSizeBoundForTheWorstCharacters) {
  for (const std::string& unit : {std::string("\xF0\x9F\x98\x80"), std::string("\xC3\xBC"), std::string("\""),
                                 std::string("a")}) {
    RetryMessage message = Sample();
    message.error = std::string(kMaxRetryErrorBytes, 'e');
    std::string value;
    while (value.size() < 30000) value += unit;
    message.event.details_json = R"({"v":")" + (unit == "\"" ? std::string(value.size(), 'x') : value) + "\"}";
    if (unit == "\"") {
      message.event.details_json = R"({"v":")";
      for (size_t i = 0; i < 15000; ++i) message.event.details_json += "\\\"";
      message.event.details_json += "\"}";
    }
    const size_t document_bytes =
        message.event.user_id.size() + message.event.event_type.size() + message.event.details_json.size();
    EXPECT_LE(EncodeRetryMessage(message).size(), MaxRetryMessageBytes(document_bytes)) << unit;
  }
}

TEST(RetryMessageTest, KeepsLongErrorsShortAndValid) {
  RetryMessage message = Sample();
  message.error = std::string(kMaxRetryErrorBytes - 1, 'e') + "é and more";  // the cut splits é
  auto decoded = DecodeRetryMessage(EncodeRetryMessage(message));
  ASSERT_TRUE(decoded.ok()) << decoded.status().ToString();
  EXPECT_EQ(decoded->error, std::string(kMaxRetryErrorBytes - 1, 'e'));
}

TEST(RetryMessageTest, OptionalFieldsMayBeAbsent) {
  RetryMessage message = Sample();
  message.event.idempotency_key.clear();
  message.event.request_hash.clear();
  message.error.clear();
  const std::string body = EncodeRetryMessage(message);
  EXPECT_THAT(body, ::testing::Not(HasSubstr("idempotencyKey")));
  auto decoded = DecodeRetryMessage(body);
  ASSERT_TRUE(decoded.ok()) << decoded.status().ToString();
  EXPECT_TRUE(decoded->event.idempotency_key.empty());
  EXPECT_TRUE(decoded->error.empty());
}

// Replaces `from` by `to` in a good message.
std::string Tampered(const std::string& from, const std::string& to) {
  std::string body = EncodeRetryMessage(Sample());
  const size_t at = body.find(from);
  EXPECT_NE(at, std::string::npos) << from;
  return at == std::string::npos ? body : body.replace(at, from.size(), to);
}

TEST(RetryMessageTest, RefusesAnythingElseWithAReason) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"", "not JSON"},
      {"not json", "not JSON"},
      {"[1]", "not a JSON object"},
      {"{}", "version"},
      {Tampered(R"("v":1)", R"("v":2)"), "version"},
      {Tampered(R"("v":1)", R"("v":"1")"), "version"},
      {Tampered("0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b", "nope"), "eventId"},
      {Tampered(R"("eventType":"bet.placed")", R"("eventType":"bad type!")"), "eventType"},
      {Tampered(R"("eventType":"bet.placed",)", ""), "eventType"},
      {Tampered("2026-12-04T10:11:12.345Z", "2026-12-04"), "timestamp"},
      {Tampered(R"("jsonDetails":"{)", R"("jsonDetails":"[1,{)"), "jsonDetails"},
      {Tampered(R"("jsonDetails":")", R"("jsonDetails":12,"x":")"), "jsonDetails"},
      {Tampered(R"("metadataDone":true)", R"("metadataDone":1)"), "metadataDone"},
      {Tampered(R"(,"documentDone":false)", ""), "documentDone"},
      {Tampered(R"("idempotencyKey":"key-1")", R"("idempotencyKey":"k\u0001")"), "idempotencyKey"},
  };
  for (const auto& [body, reason] : cases) {
    auto decoded = DecodeRetryMessage(body);
    EXPECT_EQ(decoded.status().code(), StatusCode::kInvalidArgument) << body;
    EXPECT_THAT(decoded.status().message(), HasSubstr(reason)) << body;
  }
}

}  // namespace
}  // namespace eventlogger
