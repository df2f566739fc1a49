// The retry worker function on the embedded stores: SQS events holding good,
// duplicated and poisoned records; the partial batch response names exactly
// the records not done.
#include "lambda/retry_worker_function.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <rapidjson/document.h>

#include "durability/retry_message.h"
#include "storage/store_factory.h"
#include "support/temp_dir.h"

namespace eventlogger::lambda {
namespace {

std::string Escaped(const std::string& text) {
  std::string out;
  for (const char c : text) {
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  return out;
}

std::string Record(const std::string& message_id, const std::string& body, const std::string& source = "aws:sqs") {
  return R"({"messageId":")" + message_id + R"(","receiptHandle":"r-)" + message_id + R"(","body":")" +
         Escaped(body) + R"(","attributes":{"ApproximateReceiveCount":"1"},"eventSource":")" + source +
         R"(","eventSourceARN":"arn:aws:sqs:us-east-1:123456789012:retries","awsRegion":"us-east-1"})";
}

std::string SqsEvent(const std::vector<std::string>& records) {
  std::string event = R"({"Records":[)";
  for (size_t i = 0; i < records.size(); ++i) event += (i ? "," : "") + records[i];
  return event + "]}";
}

RetryMessage Message(const std::string& event_id, bool metadata_done, bool document_done) {
  RetryMessage message;
  message.event.event_id = event_id;
  message.event.user_id = "worker-user";
  message.event.event_type = "t";
  message.event.timestamp = "2024-07-11T12:09:25.716Z";  // the time in the UUIDv7s below
  message.event.unix_millis = 1720699765716;
  message.event.details_json = R"({"id":")" + event_id.substr(0, 8) + R"("})";
  message.metadata_done = metadata_done;
  message.document_done = document_done;
  return message;
}

std::vector<std::string> Failures(const std::string& answer) {
  rapidjson::Document document;
  document.Parse(answer.data(), answer.size());
  EXPECT_FALSE(document.HasParseError()) << answer;
  std::vector<std::string> ids;
  for (const auto& failure : document["batchItemFailures"].GetArray()) ids.emplace_back(failure["itemIdentifier"].GetString());
  return ids;
}

class RetryWorkerFunctionTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto metadata = OpenMetadataStore("sqlite://" + dir_.path() + "/metadata.db");
    auto documents = OpenDocumentStore("rocksdb://" + dir_.path() + "/documents");
    ASSERT_TRUE(metadata.ok() && documents.ok());
    metadata_ = std::move(metadata).value();
    documents_ = std::move(documents).value();
    ASSERT_TRUE(metadata_->Migrate().ok());
    ASSERT_TRUE(documents_->Migrate().ok());
  }
  bool HasDocument(const std::string& event_id) {
    return documents_->FindEvent("worker-user", event_id, [](const DocumentView&) {}).ok();
  }
  size_t MetadataCount() {
    size_t count = 0;
    EXPECT_TRUE(metadata_->ScanUser("worker-user", [&](const EventMetadata&) { return ++count, true; }).ok());
    return count;
  }

  eventlogger::testing_support::TempDir dir_;
  std::unique_ptr<MetadataStore> metadata_;
  std::unique_ptr<DocumentStore> documents_;
};

constexpr const char* kA = "0190a1b2-c3d4-7e5f-8a9b-000000000001";
constexpr const char* kB = "0190a1b2-c3d4-7e5f-8a9b-000000000002";

TEST_F(RetryWorkerFunctionTest, WritesWhatEachEventLacksAndNamesOnlyPoisonedRecords) {
  RetryWorkerFunction function(*metadata_, *documents_);
  Invocation invocation;
  invocation.event = SqsEvent({Record("m1", EncodeRetryMessage(Message(kA, true, false))),
                               Record("m2", EncodeRetryMessage(Message(kB, false, true))),
                               Record("m3", EncodeRetryMessage(Message(kA, true, false))),  // delivered twice
                               Record("bad-json", "{not json"),
                               Record("not-sqs", EncodeRetryMessage(Message(kB, false, false)), "aws:kinesis")});
  auto answer = function.Invoke(invocation);
  ASSERT_TRUE(answer.ok()) << answer.status().ToString();
  EXPECT_THAT(Failures(*answer), ::testing::ElementsAre("bad-json", "not-sqs"));
  EXPECT_TRUE(HasDocument(kA));   // it lacked its document
  EXPECT_FALSE(HasDocument(kB));  // it said its document was done: not rewritten
  EXPECT_EQ(MetadataCount(), 1u);  // only kB lacked its metadata
}

TEST_F(RetryWorkerFunctionTest, RecordsPastTheDeadlineAreLeftForRedelivery) {
  RetryWorkerFunction function(*metadata_, *documents_, {.deadline_margin = std::chrono::milliseconds(60000)});
  Invocation invocation;
  invocation.deadline_ms = 1;  // long past
  invocation.event = SqsEvent({Record("m1", EncodeRetryMessage(Message(kA, false, false)))});
  auto answer = function.Invoke(invocation);
  ASSERT_TRUE(answer.ok());
  EXPECT_THAT(Failures(*answer), ::testing::ElementsAre("m1"));
  EXPECT_FALSE(HasDocument(kA));
}

TEST_F(RetryWorkerFunctionTest, AnEventThatIsNotAnSqsBatchIsAnInvocationError) {
  RetryWorkerFunction function(*metadata_, *documents_);
  for (const char* event : {"[]", "{}", R"({"Records":{}})", R"({"Records":[{"body":"x"}]})", "nope"}) {
    Invocation invocation;
    invocation.event = event;
    EXPECT_EQ(function.Invoke(invocation).status().code(), StatusCode::kInvalidArgument) << event;
  }
}

}  // namespace
}  // namespace eventlogger::lambda
