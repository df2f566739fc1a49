// SqsClient against a real SQS-compatible server (sqslite, from npm) for
// what it accepts and answers, and against a fault-injecting server for
// what sqslite cannot be made to do (throttling, a corrupted body, 5xx).
#include "aws/sqs_client.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <atomic>

#include "aws/fake_http_server.h"
#include "aws/sqslite_support.h"

namespace eventlogger::aws {
namespace {

using ::eventlogger::testing::CreateSqsTestQueue;
using ::eventlogger::testing::FakeHttpServer;
using ::eventlogger::testing::FakeRequest;
using ::eventlogger::testing::FakeResponse;
using ::testing::HasSubstr;

SqsClientOptions Options(const std::string& queue_url) {
  SqsClientOptions options;
  options.queue_url = queue_url;
  options.region = "us-east-1";
  options.credentials = {"AKIDEVENTLOGGERTEST", "eventlogger-test-secret", ""};
  options.retry.base_delay = std::chrono::milliseconds(1);
  options.retry.max_delay = std::chrono::milliseconds(5);
  return options;
}

std::unique_ptr<SqsClient> Client(const std::string& queue_url) {
  auto client = SqsClient::Create(Options(queue_url));
  EXPECT_TRUE(client.ok()) << client.status().ToString();
  return client.ok() ? std::move(client).value() : nullptr;
}

std::string SendAnswer(const std::string& md5) {
  return "<SendMessageResponse><SendMessageResult><MD5OfMessageBody>" + md5 +
         "</MD5OfMessageBody><MessageId>m-1</MessageId></SendMessageResult></SendMessageResponse>";
}

TEST(SqsRegionTest, ComesFromTheAwsHostNames) {
  EXPECT_EQ(RegionFromQueueUrl("https://sqs.eu-west-1.amazonaws.com/123456789012/q"), "eu-west-1");
  EXPECT_EQ(RegionFromQueueUrl("https://us-east-2.queue.amazonaws.com/123456789012/q"), "us-east-2");
  EXPECT_EQ(RegionFromQueueUrl("http://localhost:4576/queues/q"), std::nullopt);
  EXPECT_EQ(RegionFromQueueUrl("https://sqs.amazonaws.com/1/q"), std::nullopt);
  EXPECT_EQ(RegionFromQueueUrl("not a url"), std::nullopt);
}

TEST(SqsMd5Test, IsTheHexMd5OfTheBody) {
  EXPECT_EQ(SqsBodyMd5(""), "d41d8cd98f00b204e9800998ecf8427e");  // RFC 1321 test suite
  EXPECT_EQ(SqsBodyMd5("abc"), "900150983cd24fb0d6963f7d28e17f72");
}

TEST(SqsClientCreateTest, RefusesBadUrlsAndMissingRegionOrCredentials) {
  EXPECT_EQ(SqsClient::Create(Options("ftp://x/q")).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(SqsClient::Create(Options("http://localhost:1")).status().code(), StatusCode::kInvalidArgument);
  SqsClientOptions no_region = Options("http://localhost:1/queues/q");
  no_region.region.clear();
  EXPECT_THAT(SqsClient::Create(no_region).status().message(), HasSubstr("region"));
  SqsClientOptions aws = Options("https://sqs.ap-south-1.amazonaws.com/1/q");
  aws.region.clear();
  EXPECT_TRUE(SqsClient::Create(aws).ok());
  SqsClientOptions no_credentials = Options("http://localhost:1/queues/q");
  no_credentials.credentials = {};
  EXPECT_EQ(SqsClient::Create(no_credentials).status().code(), StatusCode::kInvalidArgument);
}

TEST(SqsClientTest, SendsAndReceivesMessagesExactlyOnARealServer) {
  const std::string queue = CreateSqsTestQueue();
  ASSERT_FALSE(queue.empty());
  auto client = Client(queue);
  ASSERT_NE(client, nullptr);
  // Characters a form body and XML must both carry: & = + % < > " ' and non-ASCII.
  const std::string body = R"({"a":"x&y=z+1%20<b>\"q\" 'é' 😀"})";
  auto sent = client->SendMessage(body);
  ASSERT_TRUE(sent.ok()) << sent.status().ToString();
  EXPECT_FALSE(sent->message_id.empty());

  auto received = client->ReceiveMessages({.max_messages = 10, .wait_seconds = 1});
  ASSERT_TRUE(received.ok()) << received.status().ToString();
  ASSERT_EQ(received->size(), 1u);
  EXPECT_EQ((*received)[0].body, body);
  EXPECT_EQ((*received)[0].message_id, sent->message_id);
  EXPECT_FALSE((*received)[0].receipt_handle.empty());
  EXPECT_EQ((*received)[0].attributes.count("ApproximateReceiveCount"), 1u);

  ASSERT_TRUE(client->DeleteMessage((*received)[0].receipt_handle).ok());
  auto again = client->ReceiveMessages({.max_messages = 10, .wait_seconds = 0, .visibility_timeout_seconds = 0});
  ASSERT_TRUE(again.ok());
  EXPECT_TRUE(again->empty());
}

TEST(SqsClientTest, ReadsTheQueuesAttributes) {
  const std::string queue = CreateSqsTestQueue();
  auto client = Client(queue);
  ASSERT_NE(client, nullptr);
  ASSERT_TRUE(client->SendMessage("one").ok());
  auto attributes = client->GetQueueAttributes();
  ASSERT_TRUE(attributes.ok()) << attributes.status().ToString();
  EXPECT_EQ((*attributes)["ApproximateNumberOfMessages"], "1");
}

TEST(SqsClientTest, AQueueThatDoesNotExistIsNotFoundAndNotRetried) {
  std::string queue = CreateSqsTestQueue();
  ASSERT_FALSE(queue.empty());
  queue += "-missing";
  auto client = Client(queue);
  ASSERT_NE(client, nullptr);
  auto sent = client->SendMessage("x");
  EXPECT_EQ(sent.status().code(), StatusCode::kNotFound) << sent.status().ToString();
  EXPECT_THAT(sent.status().message(), HasSubstr("NonExistentQueue"));
}

TEST(SqsClientTest, RefusesBodiesSqsWouldRefuseBeforeSending) {
  std::atomic<int> requests{0};
  FakeHttpServer server([&](const FakeRequest&) {
    ++requests;
    return FakeResponse{.status = 500};
  });
  auto client = Client(server.url() + "/queues/q");
  ASSERT_NE(client, nullptr);
  EXPECT_EQ(client->SendMessage("").status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(client->SendMessage(std::string(kSqsMaxMessageBytes + 1, 'a')).status().code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(client->SendMessage(std::string("a\x01", 2)).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(client->SendMessage("\xEF\xBF\xBE").status().code(), StatusCode::kInvalidArgument);  // U+FFFE
  EXPECT_EQ(client->SendMessage("\xC0\xAF").status().code(), StatusCode::kInvalidArgument);      // overlong
  EXPECT_EQ(requests.load(), 0);
}

TEST(SqsClientTest, SignsAFormPostToTheEndpointRootNamingTheQueue) {
  FakeRequest seen;
  std::mutex mutex;
  FakeHttpServer server([&](const FakeRequest& request) {
    std::lock_guard lock(mutex);
    seen = request;
    return FakeResponse{.status = 200, .body = SendAnswer(SqsBodyMd5("hello world"))};
  });
  const std::string queue = server.url() + "/123456789012/retries";
  auto client = Client(queue);
  ASSERT_NE(client, nullptr);
  ASSERT_TRUE(client->SendMessage("hello world").ok());
  std::lock_guard lock(mutex);
  EXPECT_EQ(seen.method, "POST");
  EXPECT_EQ(seen.target, "/");
  EXPECT_EQ(seen.Header("Content-Type"), "application/x-www-form-urlencoded; charset=utf-8");
  EXPECT_EQ(seen.body, "Action=SendMessage&Version=2012-11-05&QueueUrl=" + PercentEncode(queue) +
                           "&MessageBody=hello%20world");
  EXPECT_THAT(seen.Header("Authorization"),
              HasSubstr("Credential=AKIDEVENTLOGGERTEST/"));
  EXPECT_THAT(seen.Header("Authorization"), HasSubstr("/us-east-1/sqs/aws4_request"));
}

TEST(SqsClientTest, RetriesThrottlingAndServerErrorsThenSucceeds) {
  std::atomic<int> requests{0};
  FakeHttpServer server([&](const FakeRequest&) {
    const int n = ++requests;
    if (n == 1) {
      return FakeResponse{.status = 400,
                          .body = "<ErrorResponse><Error><Type>Sender</Type><Code>RequestThrottled</Code>"
                                  "<Message>slow down</Message></Error></ErrorResponse>"};
    }
    if (n == 2) return FakeResponse{.status = 503};
    return FakeResponse{.status = 200, .body = SendAnswer(SqsBodyMd5("x"))};
  });
  auto client = Client(server.url() + "/1/q");
  ASSERT_NE(client, nullptr);
  auto sent = client->SendMessage("x");
  ASSERT_TRUE(sent.ok()) << sent.status().ToString();
  EXPECT_EQ(requests.load(), 3);
}

TEST(SqsClientTest, AnAnswerWhoseMd5DoesNotMatchIsSentAgainThenFails) {
  std::atomic<int> requests{0};
  FakeHttpServer server([&](const FakeRequest&) {
    ++requests;
    return FakeResponse{.status = 200, .body = SendAnswer(SqsBodyMd5("not what was sent"))};
  });
  auto client = Client(server.url() + "/1/q");
  ASSERT_NE(client, nullptr);
  auto sent = client->SendMessage("x");
  EXPECT_EQ(sent.status().code(), StatusCode::kUnavailable);
  EXPECT_THAT(sent.status().message(), HasSubstr("MD5"));
  EXPECT_EQ(requests.load(), 3);
}

TEST(SqsClientTest, CredentialErrorsAreNotRetriedAndSayWhatToCheck) {
  std::atomic<int> requests{0};
  FakeHttpServer server([&](const FakeRequest&) {
    ++requests;
    return FakeResponse{.status = 403,
                        .body = "<ErrorResponse><Error><Type>Sender</Type><Code>AccessDenied</Code>"
                                "<Message>not allowed</Message></Error></ErrorResponse>"};
  });
  auto client = Client(server.url() + "/1/q");
  ASSERT_NE(client, nullptr);
  auto sent = client->SendMessage("x");
  EXPECT_EQ(sent.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_THAT(sent.status().message(), HasSubstr("IAM"));
  EXPECT_EQ(requests.load(), 1);
}

TEST(SqsClientTest, TheDeadlineBoundsTheWholeCallRetriesIncluded) {
  FakeHttpServer server([&](const FakeRequest&) {
    return FakeResponse{.status = 200, .body = SendAnswer(SqsBodyMd5("x")), .delay = std::chrono::milliseconds(1500)};
  });
  auto client = Client(server.url() + "/1/q");
  ASSERT_NE(client, nullptr);
  const auto started = std::chrono::steady_clock::now();
  auto sent = client->SendMessage("x", started + std::chrono::milliseconds(300));
  const auto took = std::chrono::steady_clock::now() - started;
  EXPECT_EQ(sent.status().code(), StatusCode::kDeadlineExceeded) << sent.status().ToString();
  EXPECT_LT(took, std::chrono::milliseconds(1200));
}

TEST(SqsClientTest, AnUnreachableServerIsUnavailable) {
  auto client = Client("http://127.0.0.1:1/1/q");
  ASSERT_NE(client, nullptr);
  auto sent = client->SendMessage("x");
  EXPECT_EQ(sent.status().code(), StatusCode::kUnavailable) << sent.status().ToString();
}

}  // namespace
}  // namespace eventlogger::aws
