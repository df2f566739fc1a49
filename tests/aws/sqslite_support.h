// Queues on the sqslite server that tests/support/test-servers.sh starts
// (EVENTLOGGER_TEST_SQS_ENDPOINT). sqslite checks no signatures, so the
// queue is made with a plain CreateQueue; the code under test signs anyway.
#pragma once

#include <gtest/gtest.h>

#include <cstdlib>
#include <random>
#include <string>

#include "aws/http_client.h"
#include "core/percent_encoding.h"

namespace eventlogger::testing {

inline std::string SqsTestEndpoint() {
  const char* endpoint = std::getenv("EVENTLOGGER_TEST_SQS_ENDPOINT");
  if (endpoint == nullptr || *endpoint == '\0') {
    ADD_FAILURE() << "EVENTLOGGER_TEST_SQS_ENDPOINT is not set: run the tests through scripts/test.sh, which "
                     "starts sqslite (tests/support/test-servers.sh)";
    return {};
  }
  return endpoint;
}

// A new, empty queue; returns its URL (empty after a failure is recorded).
// Creates the queue `name` (again, after sqslite restarted: it keeps
// queues in memory) and returns its URL; empty on failure.
inline std::string CreateSqsQueueNamed(const std::string& name) {
  auto http = aws::HttpClient::Create({});
  if (!http.ok()) {
    ADD_FAILURE() << http.status().ToString();
    return {};
  }
  aws::HttpRequest request;
  request.url = SqsTestEndpoint() + "/";
  request.headers = {{"Content-Type", "application/x-www-form-urlencoded"}};
  request.body = "Action=CreateQueue&Version=2012-11-05&QueueName=" + PercentEncode(name);
  auto response = (*http)->Send(request);
  if (!response.ok() || response->status != 200) {
    ADD_FAILURE() << "CreateQueue failed: " << (response.ok() ? response->body : response.status().ToString());
    return {};
  }
  const size_t begin = response->body.find("<QueueUrl>");
  const size_t end = response->body.find("</QueueUrl>");
  if (begin == std::string::npos || end == std::string::npos) {
    ADD_FAILURE() << "no QueueUrl in " << response->body;
    return {};
  }
  return response->body.substr(begin + 10, end - begin - 10);
}

inline std::string CreateSqsTestQueue(const std::string& prefix = "retries") {
  static std::mt19937_64 random(std::random_device{}());
  return CreateSqsQueueNamed(prefix + "-" + std::to_string(random() % 1'000'000'000'000ULL));
}

}  // namespace eventlogger::testing
