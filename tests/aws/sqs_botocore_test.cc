// The SQS requests our client sends, checked against an independent
// reference: botocore (Debian's python3-botocore) validates the call, writes
// the query-protocol form it would send, and signs our request itself.
// sqslite (sqs_client_test.cc) accepts what it is sent and never checks a
// signature; this test is what pins the wire format and SigV4 for AWS.
#include <gtest/gtest.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <functional>
#include <mutex>
#include <sstream>
#include <string>
#include <vector>

#include "aws/fake_http_server.h"
#include "aws/sqs_client.h"

namespace eventlogger::aws {
namespace {

using ::eventlogger::testing::FakeHttpServer;
using ::eventlogger::testing::FakeRequest;
using ::eventlogger::testing::FakeResponse;

const std::filesystem::path kScript = std::filesystem::path(EVENTLOGGER_TEST_DATA_DIR) / "aws" / "botocore_sqs_check.py";
// Debian's botocore speaks the query protocol to SQS; a newer one found
// first on PATH may speak JSON, which is not what this client sends.
constexpr const char* kPython = "/usr/bin/python3";

std::string ShellQuote(const std::string& s) {
  std::string quoted = "'";
  for (char c : s) quoted += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return quoted + "'";
}

// The request the client sent, as the fake SQS endpoint saw it.
class CapturingSqs {
 public:
  explicit CapturingSqs(const std::function<std::string(const FakeRequest&)>& answer)
      : server_([this, answer](const FakeRequest& request) {
          std::lock_guard lock(mutex_);
          requests_.push_back(request);
          FakeResponse response;
          response.headers = {{"Content-Type", "text/xml"}};
          response.body = answer(request);
          return response;
        }) {}

  std::string queue_url() const { return server_.url() + "/123456789012/retries"; }
  std::vector<FakeRequest> requests() {
    std::lock_guard lock(mutex_);
    return requests_;
  }

 private:
  std::mutex mutex_;
  std::vector<FakeRequest> requests_;
  FakeHttpServer server_;
};

SqsClientOptions Options(const std::string& queue_url) {
  SqsClientOptions options;
  options.queue_url = queue_url;
  options.region = "eu-central-1";
  // A session token, as Lambda's role credentials always carry one.
  options.credentials = {"ASIAEVENTLOGGERTEST", "eventlogger/test+secret", "FQoGZXIvYXdzEJr//token+with/odd=chars"};
  options.retry.base_delay = std::chrono::milliseconds(1);
  return options;
}

struct BotocoreVerdict {
  int exit_code = -1;
  std::string problems;
};

// params: the operation's input in botocore's terms, as a JSON object.
BotocoreVerdict CheckWithBotocore(const std::string& operation, const std::string& params_json,
                                  const FakeRequest& request, const SqsClientOptions& options,
                                  const std::string& host) {
  rapidjson::StringBuffer buffer;
  rapidjson::Writer<rapidjson::StringBuffer> out(buffer);
  out.StartObject();
  out.Key("operation");
  out.String(operation.c_str());
  out.Key("params");
  out.RawValue(params_json.data(), params_json.size(), rapidjson::kObjectType);
  out.Key("method");
  out.String(request.method.c_str());
  out.Key("url");
  const std::string url = "http://" + host + request.target;
  out.String(url.c_str());
  out.Key("headers");
  out.StartArray();
  for (const auto& [name, value] : request.headers) {
    out.StartArray();
    out.String(name.c_str());
    out.String(value.c_str());
    out.EndArray();
  }
  out.EndArray();
  out.Key("body");
  out.String(request.body.data(), static_cast<rapidjson::SizeType>(request.body.size()));
  out.Key("region");
  out.String(options.region.c_str());
  out.Key("access_key");
  out.String(options.credentials.access_key_id.c_str());
  out.Key("secret_key");
  out.String(options.credentials.secret_access_key.c_str());
  out.Key("token");
  out.String(options.credentials.session_token.c_str());
  out.EndObject();

  static std::atomic<int> counter{0};
  const auto stem = std::filesystem::temp_directory_path() /
                    ("eventlogger_sqs_botocore_" + std::to_string(::getpid()) + "_" + std::to_string(counter++));
  const std::filesystem::path input = stem.string() + ".json";
  const std::filesystem::path errors = stem.string() + ".stderr";
  std::ofstream(input, std::ios::binary) << buffer.GetString();

  BotocoreVerdict verdict;
  const std::string command = ShellQuote(kPython) + " " + ShellQuote(kScript.string()) + " " +
                              ShellQuote(input.string()) + " 2>" + ShellQuote(errors.string());
  if (FILE* pipe = ::popen(command.c_str(), "r"); pipe != nullptr) {
    char sink[512];
    while (std::fread(sink, 1, sizeof(sink), pipe) > 0) {
    }
    const int status = ::pclose(pipe);
    verdict.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  }
  std::ostringstream text;
  text << std::ifstream(errors, std::ios::binary).rdbuf();
  verdict.problems = text.str();
  std::filesystem::remove(input);
  std::filesystem::remove(errors);
  return verdict;
}

std::string HostOf(const std::string& queue_url) {
  const std::string rest = queue_url.substr(queue_url.find("://") + 3);
  return rest.substr(0, rest.find('/'));
}

// Every character class a form body must escape, and non-ASCII text.
const std::string kAwkwardBody = "{\"note\":\"a b+c&d=e%20/f?g#h 'é' 😀\\n\"}";

TEST(SqsBotocoreTest, SendMessageIsTheFormBotocoreWritesAndSignsIdentically) {
  CapturingSqs sqs([](const FakeRequest&) {
    return "<SendMessageResponse><SendMessageResult><MD5OfMessageBody>" + SqsBodyMd5(kAwkwardBody) +
           "</MD5OfMessageBody><MessageId>m-1</MessageId></SendMessageResult></SendMessageResponse>";
  });
  const SqsClientOptions options = Options(sqs.queue_url());
  auto client = SqsClient::Create(options);
  ASSERT_TRUE(client.ok()) << client.status().ToString();
  auto sent = (*client)->SendMessage(kAwkwardBody);
  ASSERT_TRUE(sent.ok()) << sent.status().ToString();
  ASSERT_EQ(sqs.requests().size(), 1u);

  rapidjson::StringBuffer params;
  rapidjson::Writer<rapidjson::StringBuffer> out(params);
  out.StartObject();
  out.Key("QueueUrl");
  out.String(options.queue_url.c_str());
  out.Key("MessageBody");
  out.String(kAwkwardBody.c_str());
  out.EndObject();
  const auto verdict =
      CheckWithBotocore("SendMessage", params.GetString(), sqs.requests()[0], options, HostOf(options.queue_url));
  EXPECT_EQ(verdict.exit_code, 0) << verdict.problems;
}

TEST(SqsBotocoreTest, ReceiveDeleteAndGetQueueAttributesAreTheFormsBotocoreWrites) {
  CapturingSqs sqs([](const FakeRequest& request) -> std::string {
    if (request.body.find("Action=ReceiveMessage") != std::string::npos) {
      return "<ReceiveMessageResponse><ReceiveMessageResult><Message><MessageId>m-1</MessageId>"
             "<ReceiptHandle>r-1</ReceiptHandle><MD5OfBody>" +
             SqsBodyMd5("x") +
             "</MD5OfBody><Body>x</Body></Message></ReceiveMessageResult></ReceiveMessageResponse>";
    }
    if (request.body.find("Action=GetQueueAttributes") != std::string::npos) {
      return "<GetQueueAttributesResponse><GetQueueAttributesResult><Attribute><Name>QueueArn</Name>"
             "<Value>arn:aws:sqs:eu-central-1:123456789012:retries</Value></Attribute>"
             "</GetQueueAttributesResult></GetQueueAttributesResponse>";
    }
    return "<DeleteMessageResponse><ResponseMetadata><RequestId>q</RequestId></ResponseMetadata>"
           "</DeleteMessageResponse>";
  });
  const SqsClientOptions options = Options(sqs.queue_url());
  auto client = SqsClient::Create(options);
  ASSERT_TRUE(client.ok()) << client.status().ToString();
  SqsReceiveOptions receive;
  receive.max_messages = 5;
  receive.wait_seconds = 2;
  receive.visibility_timeout_seconds = 30;
  auto received = (*client)->ReceiveMessages(receive);
  ASSERT_TRUE(received.ok()) << received.status().ToString();
  // A receipt handle as SQS hands them out: base64, so + / = in the form.
  const std::string receipt = "AQEB+zX/9w==r-1";
  ASSERT_TRUE((*client)->DeleteMessage(receipt).ok());
  auto attributes = (*client)->GetQueueAttributes();
  ASSERT_TRUE(attributes.ok()) << attributes.status().ToString();
  const auto requests = sqs.requests();
  ASSERT_EQ(requests.size(), 3u);

  const std::string queue = "\"QueueUrl\":\"" + options.queue_url + "\"";
  const std::string host = HostOf(options.queue_url);
  struct Case {
    const char* operation;
    std::string params;
  };
  const Case cases[] = {
      {"ReceiveMessage", "{" + queue +
                             ",\"MaxNumberOfMessages\":5,\"WaitTimeSeconds\":2,\"VisibilityTimeout\":30,"
                             "\"AttributeNames\":[\"All\"]}"},
      {"DeleteMessage", "{" + queue + ",\"ReceiptHandle\":\"" + receipt + "\"}"},
      {"GetQueueAttributes", "{" + queue + ",\"AttributeNames\":[\"All\"]}"},
  };
  for (size_t i = 0; i < std::size(cases); ++i) {
    SCOPED_TRACE(cases[i].operation);
    const auto verdict = CheckWithBotocore(cases[i].operation, cases[i].params, requests[i], options, host);
    EXPECT_EQ(verdict.exit_code, 0) << verdict.problems;
  }
}

// The check itself can fail: a form field botocore would not write, or a
// signature over a body other than the one sent, is caught.
TEST(SqsBotocoreTest, TheCheckCatchesAWrongFieldAndAWrongSignature) {
  CapturingSqs sqs([](const FakeRequest&) {
    return "<SendMessageResponse><SendMessageResult><MD5OfMessageBody>" + SqsBodyMd5("hello") +
           "</MD5OfMessageBody><MessageId>m-1</MessageId></SendMessageResult></SendMessageResponse>";
  });
  const SqsClientOptions options = Options(sqs.queue_url());
  auto client = SqsClient::Create(options);
  ASSERT_TRUE(client.ok());
  ASSERT_TRUE((*client)->SendMessage("hello").ok());
  const std::string params = "{\"QueueUrl\":\"" + options.queue_url + "\",\"MessageBody\":\"hello\"}";
  const std::string host = HostOf(options.queue_url);

  FakeRequest extra_field = sqs.requests()[0];
  extra_field.body += "&DelaySeconds=0";
  const auto field = CheckWithBotocore("SendMessage", params, extra_field, options, host);
  EXPECT_EQ(field.exit_code, 1);
  EXPECT_NE(field.problems.find("form fields differ"), std::string::npos) << field.problems;
  EXPECT_NE(field.problems.find("Authorization differs"), std::string::npos) << field.problems;

  SqsClientOptions other_secret = options;
  other_secret.credentials.secret_access_key = "not-the-secret";
  const auto signature = CheckWithBotocore("SendMessage", params, sqs.requests()[0], other_secret, host);
  EXPECT_EQ(signature.exit_code, 1);
  EXPECT_EQ(signature.problems.find("form fields differ"), std::string::npos) << signature.problems;
  EXPECT_NE(signature.problems.find("Authorization differs"), std::string::npos) << signature.problems;
}

}  // namespace
}  // namespace eventlogger::aws
