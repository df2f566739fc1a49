// `eventlogger lambda` as Lambda runs it: the real binary, started with
// AWS_LAMBDA_RUNTIME_API pointing at a Runtime API emulator on loopback,
// handed API Gateway events of both payload formats; on every backend.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <rapidjson/document.h>

#include <chrono>
#include <cstdlib>
#include <string>
#include <thread>

#include <unistd.h>

#include "aws/sqs_client.h"
#include "aws/sqslite_support.h"
#include "durability/retry_message.h"
#include "integration/backend.h"
#include "integration/child_process.h"
#include "integration/runtime_api_emulator.h"
#include "integration/service_fixture.h"

namespace eventlogger::testing {
namespace {

using ::testing::HasSubstr;
using ::testing::StartsWith;

// A payload 2.0 (HTTP API) event.
std::string V2Event(const std::string& method, const std::string& path, const std::string& query = "",
                    const std::string& body = "", const std::string& extra_headers = "") {
  std::string event = R"({"version":"2.0","routeKey":"$default","rawPath":")" + path + R"(","rawQueryString":")" +
                      query + R"(","headers":{"content-type":"application/json")" + extra_headers +
                      R"(},"requestContext":{"requestId":"gw-1","http":{"method":")" + method + R"(","path":")" +
                      path + R"(","sourceIp":"203.0.113.9"}},"isBase64Encoded":false)";
  if (!body.empty()) {
    std::string escaped;
    for (char c : body) {
      if (c == '"' || c == '\\') escaped += '\\';
      escaped += c;
    }
    event += R"(,"body":")" + escaped + "\"";
  }
  return event + "}";
}

// A payload 1.0 (REST API) event with its body in base64.
std::string V1Event(const std::string& method, const std::string& path, const std::string& multi_query,
                    const std::string& base64_body) {
  return R"({"version":"1.0","resource":"/{proxy+}","path":")" + path + R"(","httpMethod":")" + method +
         R"(","headers":{"Content-Type":"application/json"},"multiValueHeaders":{"Content-Type":["application/json"]},)"
         R"("multiValueQueryStringParameters":)" + multi_query +
         R"(,"requestContext":{"requestId":"gw-2","identity":{"sourceIp":"198.51.100.7"}},"body":)" +
         (base64_body.empty() ? "null" : "\"" + base64_body + "\"") + R"(,"isBase64Encoded":)" +
         (base64_body.empty() ? "false" : "true") + "}";
}

rapidjson::Document ParseAnswer(const RuntimeApiEmulator::Outcome& outcome) {
  rapidjson::Document answer;
  answer.Parse(outcome.body.data(), outcome.body.size());
  EXPECT_FALSE(answer.HasParseError()) << outcome.body;
  return answer;
}

class LambdaTest : public ::testing::Test {
 protected:
  void SetUp() override {
    urls_ = BackendUrls();
    MigrateBackend(urls_);
  }
  // Starts `eventlogger lambda` against the emulator; `args` come after it.
  std::unique_ptr<ChildProcess> StartLambda(std::vector<std::string> args = {"--insecure"}) {
    return StartLambdaOn(runtime_, "data", std::move(args));
  }

  // A function in an execution environment of its own: its own Runtime API
  // and its own local disk.
  std::unique_ptr<ChildProcess> StartLambdaOn(RuntimeApiEmulator& runtime, const std::string& data_dir,
                                              std::vector<std::string> args = {"--insecure"}) {
    std::vector<std::string> all = {"lambda", "--data-dir", (dir_.path() / data_dir).string()};
    if (!urls_.metadata.empty()) all.insert(all.end(), {"--metadata", urls_.metadata, "--documents", urls_.documents});
    all.insert(all.end(), args.begin(), args.end());
    return std::make_unique<ChildProcess>(all, std::vector<std::string>{"AWS_LAMBDA_RUNTIME_API=" + runtime.endpoint()});
  }

  TempDir dir_;
  StoreUrls urls_;
  RuntimeApiEmulator runtime_;
};

TEST_F(LambdaTest, Payload2EventsWriteAndReadThroughTheSameHandlers) {
  auto function = StartLambda();
  const std::string posted = runtime_.Enqueue(
      V2Event("POST", "/events", "", R"({"userId":"lambda-u1","eventType":"click","jsonDetails":{"n":1}})"));
  const auto post = runtime_.WaitFor(posted);
  ASSERT_TRUE(post.has_value()) << function->Output();
  ASSERT_FALSE(post->is_error) << post->body;
  const auto answer = ParseAnswer(*post);
  EXPECT_EQ(answer["statusCode"].GetInt(), 201) << post->body;
  EXPECT_THAT(answer["body"].GetString(), HasSubstr(R"("sqlSuccess": true, "dynamoSuccess": true)"));
  // The same response fields as the HTTP server: the invocation's id names the request.
  EXPECT_STREQ(answer["headers"]["X-Request-Id"].GetString(), posted.c_str());
  EXPECT_STREQ(answer["headers"]["X-Content-Type-Options"].GetString(), "nosniff");

  runtime_.Enqueue(V2Event("POST", "/events", "", R"({"userId":"lambda-u1","eventType":"view","jsonDetails":{"n":2}})"));
  const std::string listed = runtime_.Enqueue(V2Event("GET", "/events/lambda-u1", "limit=1"));
  const auto list = runtime_.WaitFor(listed);
  ASSERT_TRUE(list.has_value()) << function->Output();
  const auto page = ParseAnswer(*list);
  EXPECT_EQ(page["statusCode"].GetInt(), 200) << list->body;
  EXPECT_THAT(page["body"].GetString(), HasSubstr(R"("jsonPayload":{"n":1})"));
  // The next page is announced as over HTTP.
  ASSERT_TRUE(page["headers"].HasMember("Link")) << list->body;
  EXPECT_THAT(page["headers"]["Link"].GetString(), HasSubstr("rel=\"next\""));
  ASSERT_TRUE(page["headers"].HasMember("ETag"));

  // A conditional request with the page's own tag, header name in another case.
  const std::string etag = page["headers"]["ETag"].GetString();
  std::string quoted;
  for (char c : etag) {
    if (c == '"') quoted += '\\';
    quoted += c;
  }
  const auto again = runtime_.WaitFor(runtime_.Enqueue(
      V2Event("GET", "/events/lambda-u1", "limit=1", "", R"(,"IF-NONE-MATCH":")" + quoted + "\"")));
  ASSERT_TRUE(again.has_value());
  EXPECT_EQ(ParseAnswer(*again)["statusCode"].GetInt(), 304) << again->body;
}

TEST_F(LambdaTest, ABatchGoesThroughTheSameHandlerWithItsPerEventResults) {
  auto function = StartLambda();
  const auto batch = runtime_.WaitFor(runtime_.Enqueue(V2Event(
      "POST", "/events/batch", "",
      R"({"events":[{"userId":"lambda-batch","eventType":"a","jsonDetails":{"n":1}},{"userId":"","eventType":"a","jsonDetails":{}}]})")));
  ASSERT_TRUE(batch.has_value()) << function->Output();
  const auto answer = ParseAnswer(*batch);
  EXPECT_EQ(answer["statusCode"].GetInt(), 207) << batch->body;
  rapidjson::Document results;
  results.Parse(answer["body"].GetString());
  ASSERT_TRUE(results.IsObject()) << answer["body"].GetString();
  EXPECT_EQ(results["results"][0]["status"].GetInt(), 201);
  EXPECT_EQ(results["results"][1]["status"].GetInt(), 400);
  const auto list = runtime_.WaitFor(runtime_.Enqueue(V2Event("GET", "/events/lambda-batch")));
  ASSERT_TRUE(list.has_value());
  EXPECT_THAT(ParseAnswer(*list)["body"].GetString(), HasSubstr(results["results"][0]["eventId"].GetString()));
}

TEST_F(LambdaTest, Payload1EventsTakeBase64BodiesAndMultiValueQueriesAndGetMultiValueHeaders) {
  auto function = StartLambda();
  // {"userId":"lambda-v1","eventType":"t","jsonDetails":{"a":"b"}}
  const auto post = runtime_.WaitFor(runtime_.Enqueue(
      V1Event("POST", "/events", "null", "eyJ1c2VySWQiOiJsYW1iZGEtdjEiLCJldmVudFR5cGUiOiJ0IiwianNvbkRldGFpbHMiOnsiYSI6ImIifX0=")));
  ASSERT_TRUE(post.has_value()) << function->Output();
  const auto created = ParseAnswer(*post);
  EXPECT_EQ(created["statusCode"].GetInt(), 201) << post->body;
  ASSERT_TRUE(created["multiValueHeaders"]["Content-Type"].IsArray());
  EXPECT_THAT(created["multiValueHeaders"]["Content-Type"][0].GetString(), StartsWith("application/json"));

  const auto list = runtime_.WaitFor(runtime_.Enqueue(
      V1Event("GET", "/events/lambda-v1", R"({"eventType":["t","other"],"order":["desc"]})", "")));
  ASSERT_TRUE(list.has_value());
  const auto page = ParseAnswer(*list);
  EXPECT_EQ(page["statusCode"].GetInt(), 200) << list->body;
  EXPECT_THAT(page["body"].GetString(), HasSubstr(R"("jsonPayload":{"a":"b"})"));

  // A bad parameter is the same 400 problem as over HTTP.
  const auto bad = runtime_.WaitFor(runtime_.Enqueue(V1Event("GET", "/events/lambda-v1", R"({"limt":["5"]})", "")));
  ASSERT_TRUE(bad.has_value());
  const auto problem = ParseAnswer(*bad);
  EXPECT_EQ(problem["statusCode"].GetInt(), 400);
  EXPECT_THAT(problem["multiValueHeaders"]["Content-Type"][0].GetString(), StartsWith("application/problem+json"));
  EXPECT_THAT(problem["body"].GetString(), HasSubstr("limt"));
}

TEST_F(LambdaTest, AnEventThatIsNotFromApiGatewayIsAnInvocationErrorAndTheLoopGoesOn) {
  auto function = StartLambda();
  const auto error = runtime_.WaitFor(runtime_.Enqueue(R"({"Records":[{"eventSource":"aws:sqs","body":"x"}]})"));
  ASSERT_TRUE(error.has_value()) << function->Output();
  EXPECT_TRUE(error->is_error);
  EXPECT_EQ(error->error_type, "Handler.BadEvent");
  EXPECT_THAT(error->body, HasSubstr(R"("errorType":"Handler.BadEvent")"));
  EXPECT_THAT(error->body, HasSubstr("not an API Gateway proxy event"));
  const auto health = runtime_.WaitFor(runtime_.Enqueue(V2Event("GET", "/healthz")));
  ASSERT_TRUE(health.has_value());
  EXPECT_EQ(ParseAnswer(*health)["statusCode"].GetInt(), 200);
}

TEST_F(LambdaTest, InvocationLogLinesCarryTheRequestAndTraceIds) {
  auto function = StartLambda();
  const std::string id = runtime_.Enqueue(V2Event("GET", "/healthz"), std::chrono::seconds(30),
                                          "Root=1-67891233-abcdef012345678912345678;Parent=463ac35c9f6413ad;Sampled=1");
  ASSERT_TRUE(runtime_.WaitFor(id).has_value());
  // Written out before the runtime asks for the next invocation.
  ASSERT_TRUE(runtime_.WaitForNextCalls(2));
  const auto line = function->WaitForLine(std::regex(R"("msg":"request".*"route":"/healthz")"), std::chrono::seconds(10));
  ASSERT_TRUE(line.has_value()) << function->Output();
  EXPECT_THAT(line->suffix().str(), HasSubstr(R"("awsRequestId":")" + id + "\""));
  EXPECT_THAT(line->suffix().str(), HasSubstr(R"("traceId":"1-67891233-abcdef012345678912345678")"));
}

TEST_F(LambdaTest, AnInvocationPastItsDeadlineStillAnswersAndKeepsTheEvent) {
  auto function = StartLambda();
  // No time left: the write cannot wait for the stores, yet the event is
  // admitted (201 or, when the stores were slower than no time, 202).
  const auto post = runtime_.WaitFor(runtime_.Enqueue(
      V2Event("POST", "/events", "", R"({"userId":"lambda-late","eventType":"t","jsonDetails":{}})"),
      std::chrono::milliseconds(-1000)));
  ASSERT_TRUE(post.has_value()) << function->Output();
  const int status = ParseAnswer(*post)["statusCode"].GetInt();
  EXPECT_TRUE(status == 201 || status == 202) << post->body;
  for (int attempt = 0; attempt < 50; ++attempt) {
    const auto list = runtime_.WaitFor(runtime_.Enqueue(V2Event("GET", "/events/lambda-late")));
    ASSERT_TRUE(list.has_value());
    if (std::string(ParseAnswer(*list)["body"].GetString()).find("lambda-late") != std::string::npos) return;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  ADD_FAILURE() << "the event never became readable";
}

// Runs tests/support/test-servers.sh COMMAND on the servers of this run.
void Servers(const std::string& command) {
  const std::string script = std::string(EVENTLOGGER_TEST_DATA_DIR) + "/support/test-servers.sh";
  const std::string line = script + " " + command + " '" + RequiredEnv("EVENTLOGGER_TEST_SERVERS_DIR") + "' >/dev/null";
  ASSERT_EQ(std::system(line.c_str()), 0) << line;
}

TEST_F(LambdaTest, AnEventWrittenWhileTheDocumentStoreIsDownIsNotLost) {
  if (CurrentBackend() == Backend::kEmbedded) GTEST_SKIP() << "needs a real server to stop";
  auto function = StartLambda({"--insecure", "--store-timeout-ms", "1500"});
  ASSERT_TRUE(runtime_.WaitFor(runtime_.Enqueue(V2Event("GET", "/healthz"))).has_value()) << function->Output();
  Servers("stop-dynalite");
  const auto post = runtime_.WaitFor(runtime_.Enqueue(
      V2Event("POST", "/events", "", R"({"userId":"lambda-outage","eventType":"t","jsonDetails":{"kept":true}})")));
  Servers("start-dynalite");
  ASSERT_TRUE(post.has_value()) << function->Output();
  const auto accepted = ParseAnswer(*post);
  // Accepted, not refused: the metadata is in, the document waits for a retry.
  EXPECT_EQ(accepted["statusCode"].GetInt(), 202) << post->body;
  EXPECT_THAT(accepted["body"].GetString(), HasSubstr(R"("retryQueued": true)"));
  // The retry worker, running between invocations, completes the write.
  for (int attempt = 0; attempt < 120; ++attempt) {
    const auto list = runtime_.WaitFor(runtime_.Enqueue(V2Event("GET", "/events/lambda-outage")));
    ASSERT_TRUE(list.has_value());
    if (std::string(ParseAnswer(*list)["body"].GetString()).find(R"("kept":true)") != std::string::npos) return;
    std::this_thread::sleep_for(std::chrono::milliseconds(250));
  }
  ADD_FAILURE() << "the event never reached the document store\n" << function->Output();
}

std::string JsonEscaped(const std::string& text) {
  std::string out;
  for (const char c : text) {
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  return out;
}

// An SQS-triggered invocation's event, as Lambda builds it from messages.
std::string SqsEvent(const std::vector<aws::SqsMessage>& messages) {
  std::string event = R"({"Records":[)";
  for (size_t i = 0; i < messages.size(); ++i) {
    event += (i ? "," : "") + std::string(R"({"messageId":")") + messages[i].message_id + R"(","receiptHandle":")" +
             JsonEscaped(messages[i].receipt_handle) + R"(","body":")" + JsonEscaped(messages[i].body) +
             R"(","attributes":{"ApproximateReceiveCount":"1"},"messageAttributes":{},"eventSource":"aws:sqs",)"
             R"("eventSourceARN":"arn:aws:sqs:us-east-1:000000000000:retries","awsRegion":"us-east-1"})";
  }
  return event + "]}";
}

// Waits for up to `count` messages on the queue (sqslite: long polling).
std::vector<aws::SqsMessage> ReceiveFrom(const std::string& queue_url, size_t count) {
  aws::SqsClientOptions options;
  options.queue_url = queue_url;
  options.region = "us-east-1";
  options.credentials = {"AKIDEVENTLOGGERTEST", "eventlogger-test-secret", ""};
  auto client = aws::SqsClient::Create(options);
  EXPECT_TRUE(client.ok()) << client.status().ToString();
  std::vector<aws::SqsMessage> received;
  for (int attempt = 0; client.ok() && attempt < 10 && received.size() < count; ++attempt) {
    aws::SqsReceiveOptions receive;
    receive.wait_seconds = 1;
    auto batch = (*client)->ReceiveMessages(receive);
    EXPECT_TRUE(batch.ok()) << batch.status().ToString();
    if (!batch.ok()) break;
    received.insert(received.end(), batch->begin(), batch->end());
  }
  return received;
}

// The deployment's whole retry path, with the processes Lambda would run:
// the API function answers 202 only once SQS has the event, its execution
// environment then goes away (and with it the local outbox), and the worker
// function, handed the queue's messages, completes the write.
TEST_F(LambdaTest, AWriteThatFailsGoesToTheRetryQueueAndTheWorkerFunctionCompletesIt) {
  if (CurrentBackend() == Backend::kEmbedded) GTEST_SKIP() << "needs a real server to stop";
  const std::string queue_url = CreateSqsTestQueue("lambda-retries");
  ASSERT_FALSE(queue_url.empty());
  auto function = StartLambda({"--insecure", "--store-timeout-ms", "1500", "--retry-queue-url", queue_url});
  const auto ready = runtime_.WaitFor(runtime_.Enqueue(V2Event("GET", "/readyz")));
  ASSERT_TRUE(ready.has_value()) << function->Output();
  EXPECT_EQ(ParseAnswer(*ready)["statusCode"].GetInt(), 200) << ready->body;

  Servers("stop-dynalite");
  const auto post = runtime_.WaitFor(runtime_.Enqueue(
      V2Event("POST", "/events", "", R"({"userId":"lambda-queued","eventType":"t","jsonDetails":{"via":"sqs"}})")));
  ASSERT_TRUE(post.has_value()) << function->Output();
  // The function's environment is gone before the store is back: only the
  // queue holds the missing write now.
  function->Signal(SIGKILL);
  function->WaitForExit(std::chrono::seconds(10));
  Servers("start-dynalite");
  const auto accepted = ParseAnswer(*post);
  ASSERT_EQ(accepted["statusCode"].GetInt(), 202) << post->body;
  EXPECT_THAT(accepted["body"].GetString(), HasSubstr(R"("sqlSuccess": true, "dynamoSuccess": false, "retryQueued": true)"));
  rapidjson::Document body;
  body.Parse(accepted["body"].GetString());
  const std::string event_id = body["eventId"].GetString();

  std::vector<aws::SqsMessage> messages = ReceiveFrom(queue_url, 1);
  ASSERT_EQ(messages.size(), 1u);
  const auto message = DecodeRetryMessage(messages[0].body);
  ASSERT_TRUE(message.ok()) << message.status().ToString() << "\n" << messages[0].body;
  EXPECT_EQ(message->event.event_id, event_id);
  EXPECT_EQ(message->event.user_id, "lambda-queued");
  EXPECT_EQ(message->event.details_json, R"({"via":"sqs"})");
  EXPECT_TRUE(message->metadata_done);
  EXPECT_FALSE(message->document_done);

  // The worker gets the message together with a poisoned one (a body that
  // is no retry message): only the poisoned one comes back as a failure.
  messages.push_back({"poisoned-1", "receipt-poisoned", "{not a retry message", {}});
  RuntimeApiEmulator worker_runtime;
  std::vector<std::string> worker_args = {"worker"};
  worker_args.insert(worker_args.end(), {"--metadata", urls_.metadata, "--documents", urls_.documents});
  ChildProcess worker(worker_args, {"AWS_LAMBDA_RUNTIME_API=" + worker_runtime.endpoint()});
  const auto batch = worker_runtime.WaitFor(worker_runtime.Enqueue(SqsEvent(messages)));
  ASSERT_TRUE(batch.has_value()) << worker.Output();
  ASSERT_FALSE(batch->is_error) << batch->body;
  EXPECT_EQ(batch->body, R"({"batchItemFailures":[{"itemIdentifier":"poisoned-1"}]})") << worker.Output();

  // Readable through a new API function: the document store has it. The
  // new environment has a Runtime API of its own (the killed function may
  // have been holding a /next request on the old one) and a disk of its own.
  RuntimeApiEmulator reader_runtime;
  auto reader = StartLambdaOn(reader_runtime, "reader-data");
  const auto list = reader_runtime.WaitFor(reader_runtime.Enqueue(V2Event("GET", "/events/lambda-queued")));
  ASSERT_TRUE(list.has_value()) << reader->Output();
  EXPECT_THAT(ParseAnswer(*list)["body"].GetString(), HasSubstr(R"("jsonPayload":{"via":"sqs"})"));
  EXPECT_THAT(ParseAnswer(*list)["body"].GetString(), HasSubstr(event_id));
}

TEST_F(LambdaTest, AFailedWriteThatCannotBeQueuedIsRefusedNotAcknowledged) {
  if (CurrentBackend() == Backend::kEmbedded) GTEST_SKIP() << "needs a real server to stop";
  // Nothing listens there: every send fails.
  auto function = StartLambda({"--insecure", "--store-timeout-ms", "1000", "--retry-queue-url",
                               "http://127.0.0.1:9/000000000000/retries", "--retry-queue-region", "us-east-1"});
  const auto ready = runtime_.WaitFor(runtime_.Enqueue(V2Event("GET", "/readyz")));
  ASSERT_TRUE(ready.has_value()) << function->Output();
  const auto readiness = ParseAnswer(*ready);
  EXPECT_EQ(readiness["statusCode"].GetInt(), 503) << ready->body;
  EXPECT_THAT(readiness["body"].GetString(), HasSubstr("retryQueue"));

  Servers("stop-dynalite");
  const auto post = runtime_.WaitFor(runtime_.Enqueue(
      V2Event("POST", "/events", "", R"({"userId":"lambda-unqueued","eventType":"t","jsonDetails":{}})")));
  Servers("start-dynalite");
  ASSERT_TRUE(post.has_value()) << function->Output();
  const auto refused = ParseAnswer(*post);
  EXPECT_EQ(refused["statusCode"].GetInt(), 503) << post->body;
  EXPECT_THAT(refused["headers"]["Content-Type"].GetString(), StartsWith("application/problem+json"));
  EXPECT_THAT(refused["body"].GetString(), HasSubstr("could not be queued for retry"));
  EXPECT_STREQ(refused["headers"]["Retry-After"].GetString(), "1");
}

// A write refused because neither the store nor the retry queue took it
// stays in the local outbox; a retry with the same Idempotency-Key must not
// be answered "queued" from there alone, which a new execution environment
// would not have: it queues the event first, and is refused again if it
// still cannot.
TEST_F(LambdaTest, ARetryOfAWriteTheQueueRefusedQueuesItBeforeAcknowledging) {
  if (CurrentBackend() == Backend::kEmbedded) GTEST_SKIP() << "needs a real server to stop";
  const std::string name = "lambda-requeue-" + std::to_string(::getpid());
  const std::string queue_url = CreateSqsQueueNamed(name);
  ASSERT_FALSE(queue_url.empty());
  auto function = StartLambda({"--insecure", "--store-timeout-ms", "1000", "--retry-queue-url", queue_url});
  ASSERT_TRUE(runtime_.WaitFor(runtime_.Enqueue(V2Event("GET", "/healthz"))).has_value()) << function->Output();
  const std::string body = R"({"userId":"lambda-requeue","eventType":"t","jsonDetails":{"try":1}})";
  const auto post = [&] {  // the same Idempotency-Key on every try
    const auto answer = runtime_.WaitFor(
        runtime_.Enqueue(V2Event("POST", "/events", "", body, R"(,"idempotency-key":"requeue-1")")));
    EXPECT_TRUE(answer.has_value()) << function->Output();
    return answer.has_value() ? ParseAnswer(*answer) : rapidjson::Document();
  };

  Servers("stop-dynalite");
  Servers("stop-sqslite");
  const rapidjson::Document refused = post();
  EXPECT_EQ(refused["statusCode"].GetInt(), 503) << refused["body"].GetString();
  // Still no queue: refused again, from the outbox's record this time (or
  // 409 while the first try is still settling).
  rapidjson::Document again = post();
  for (int i = 0; i < 50 && again["statusCode"].GetInt() == 409; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    again = post();
  }
  EXPECT_EQ(again["statusCode"].GetInt(), 503) << again["body"].GetString();

  Servers("start-sqslite");
  ASSERT_EQ(CreateSqsQueueNamed(name), queue_url);
  const rapidjson::Document accepted = post();
  Servers("start-dynalite");
  ASSERT_EQ(accepted["statusCode"].GetInt(), 202) << accepted["body"].GetString();
  EXPECT_STREQ(accepted["headers"]["Idempotent-Replayed"].GetString(), "true");
  rapidjson::Document answer;
  answer.Parse(accepted["body"].GetString());
  const std::vector<aws::SqsMessage> messages = ReceiveFrom(queue_url, 1);
  ASSERT_EQ(messages.size(), 1u);
  const auto message = DecodeRetryMessage(messages[0].body);
  ASSERT_TRUE(message.ok()) << message.status().ToString();
  EXPECT_EQ(message->event.event_id, answer["eventId"].GetString());
  EXPECT_EQ(message->event.details_json, R"({"try":1})");
  EXPECT_FALSE(message->document_done);
}

TEST_F(LambdaTest, TheWorkerFunctionTakesOnlySqsEventsAndAStoreItCannotOpenIsAnInitError) {
  EVENTLOGGER_EMBEDDED_ONLY();
  {
    ChildProcess worker({"worker", "--data-dir", (dir_.path() / "worker").string()},
                        {"AWS_LAMBDA_RUNTIME_API=" + runtime_.endpoint()});
    const auto error = runtime_.WaitFor(runtime_.Enqueue(V2Event("GET", "/healthz")));
    ASSERT_TRUE(error.has_value()) << worker.Output();
    EXPECT_TRUE(error->is_error) << error->body;
    EXPECT_THAT(error->body, HasSubstr("SQS"));
    // An empty batch is done, with nothing to report.
    const auto empty = runtime_.WaitFor(runtime_.Enqueue(R"({"Records":[]})"));
    ASSERT_TRUE(empty.has_value()) << worker.Output();
    EXPECT_EQ(empty->body, R"({"batchItemFailures":[]})");
  }
  ChildProcess broken({"worker", "--metadata", "nosuchscheme://x"}, {"AWS_LAMBDA_RUNTIME_API=" + runtime_.endpoint()});
  const auto init = runtime_.WaitForInitError();
  ASSERT_TRUE(init.has_value()) << broken.Output();
  EXPECT_THAT(init->body, HasSubstr("nosuchscheme"));
  EXPECT_EQ(broken.WaitForExit(std::chrono::seconds(20)), 1);
}

TEST_F(LambdaTest, AStoreThatCannotBeOpenedIsAnInitErrorBeforeTheFirstNext) {
  EVENTLOGGER_EMBEDDED_ONLY();
  auto function = StartLambda({"--insecure", "--metadata", "nosuchscheme://x"});
  const auto error = runtime_.WaitForInitError();
  ASSERT_TRUE(error.has_value()) << function->Output();
  EXPECT_EQ(error->error_type, "Runtime.InitError");
  EXPECT_THAT(error->body, HasSubstr("nosuchscheme"));
  EXPECT_EQ(function->WaitForExit(std::chrono::seconds(20)), 1);
  EXPECT_EQ(runtime_.next_calls(), 0);
}

TEST_F(LambdaTest, WithoutCredentialsConfiguredTheFunctionRefusesToStartUnlessInsecure) {
  EVENTLOGGER_EMBEDDED_ONLY();
  auto function = StartLambda({});
  const auto error = runtime_.WaitForInitError();
  ASSERT_TRUE(error.has_value()) << function->Output();
  EXPECT_THAT(error->body, HasSubstr("--insecure"));
  EXPECT_EQ(function->WaitForExit(std::chrono::seconds(20)), 1);
  EXPECT_EQ(runtime_.next_calls(), 0);
}

TEST_F(LambdaTest, BadOptionsAreAnInitError) {
  EVENTLOGGER_EMBEDDED_ONLY();
  auto function = StartLambda({"--insecure", "--max-body-bytes", "1"});
  const auto error = runtime_.WaitForInitError();
  ASSERT_TRUE(error.has_value()) << function->Output();
  EXPECT_THAT(error->body, HasSubstr("--max-body-bytes"));
  EXPECT_EQ(function->WaitForExit(std::chrono::seconds(20)), 2);
}

}  // namespace
}  // namespace eventlogger::testing
